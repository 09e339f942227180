import path from 'node:path';
import { ConfigError, loadConfig, SIMULATED_APPID } from '../../server/config';

const problemsOf = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
  }
  throw new Error('no ConfigError');
};

const APPID = 'wx0123456789abcdef';
const SECRET = '0123456789abcdef0123456789abcdef';
const SIMULATED = { WX_MODE: 'simulated' };
/** What real mode needs besides the credentials. */
const PUBLIC = { PUBLIC_URL: 'https://api.example.com', DATABASE_URL: 'postgres://wxlogin@db.example.com/wxlogin' };

describe('loadConfig', () => {
  it('defaults to 127.0.0.1:3000 and memory stores, with the simulated WeChat when WX_MODE=simulated', () => {
    const config = loadConfig(SIMULATED);
    expect(config).toMatchObject({ host: '127.0.0.1', port: 3000, redisUrl: null, wechat: { mode: 'simulated', appId: SIMULATED_APPID, apiBase: null } });
    expect(config.sessionIdleMs).toBeLessThan(config.sessionLifetimeMs);
  });

  it('keeps avatars in the project’s data folder (data/avatars where the server starts, as npm start does in the project root), not in a shared /tmp name; UPLOAD_DIR moves them', () => {
    expect(loadConfig(SIMULATED).uploadDir).toBe(path.join(process.cwd(), 'data', 'avatars'));
    expect(loadConfig({ ...SIMULATED, UPLOAD_DIR: 'var/avatars' }).uploadDir).toBe(path.join(process.cwd(), 'var', 'avatars'));
  });

  it('refuses to start with neither WX_MODE nor credentials, and says what to set', () => {
    const error = problemsOf({});
    expect(error.problems).toHaveLength(1);
    expect(error.message).toMatch(/WX_MODE is not set: set WX_MODE=simulated .* or WX_MODE=real with WX_APPID and WX_SECRET/);
  });

  it('refuses the simulator with NODE_ENV=production, and does not offer it when WX_MODE is missing there', () => {
    expect(problemsOf({ ...SIMULATED, NODE_ENV: 'production' }).message).toMatch(/NODE_ENV=production needs real WeChat: set WX_MODE=real with WX_APPID and WX_SECRET/);
    const missing = problemsOf({ NODE_ENV: 'production', ...PUBLIC });
    expect(missing.problems).toEqual(['WX_MODE is not set: NODE_ENV=production needs WX_MODE=real with WX_APPID and WX_SECRET']);
    expect(missing.message).not.toMatch(/simulated/);
    expect(loadConfig({ NODE_ENV: 'production', WX_APPID: APPID, WX_SECRET: SECRET, ...PUBLIC }).wechat.mode).toBe('real');
  });

  it('uses real WeChat when WX_APPID and WX_SECRET are set, with or without WX_MODE=real', () => {
    const real = { mode: 'real', appId: APPID, secret: SECRET, apiBase: 'https://api.weixin.qq.com', timeoutMs: 5000 };
    expect(loadConfig({ WX_APPID: APPID, WX_SECRET: SECRET, ...PUBLIC }).wechat).toEqual(real);
    expect(loadConfig({ WX_MODE: 'real', WX_APPID: APPID, WX_SECRET: SECRET, ...PUBLIC }).wechat).toEqual(real);
  });

  it('refuses WX_MODE=real without credentials, an unknown WX_MODE, and credentials next to WX_MODE=simulated', () => {
    expect(problemsOf({ WX_MODE: 'real' }).message).toMatch(/real WeChat needs both WX_APPID and WX_SECRET/);
    expect(problemsOf({ WX_MODE: 'fake' }).message).toMatch(/WX_MODE must be real or simulated \(got "fake"\)/);
    expect(problemsOf({ ...SIMULATED, WX_APPID: APPID, WX_SECRET: SECRET }).message).toMatch(/WX_MODE=simulated does not use WX_APPID or WX_SECRET/);
  });

  it('in simulated mode, listens only where the server can reach its own simulator over loopback', () => {
    for (const host of ['127.0.0.1', 'localhost', '::1', '0.0.0.0', '::']) expect(loadConfig({ ...SIMULATED, HOST: host }).host).toBe(host);
    expect(problemsOf({ ...SIMULATED, HOST: '192.168.1.20' }).message).toMatch(/in simulated mode HOST must be a loopback address or 0\.0\.0\.0/);
    expect(loadConfig({ HOST: '192.168.1.20', WX_APPID: APPID, WX_SECRET: SECRET, ...PUBLIC }).host).toBe('192.168.1.20');
  });

  it('reads HOST, PORT, REDIS_URL and the session lifetimes', () => {
    const config = loadConfig({ ...SIMULATED, HOST: '0.0.0.0', PORT: '8080', REDIS_URL: 'redis://localhost:6379', SESSION_IDLE_SECONDS: '600', SESSION_LIFETIME_SECONDS: '3600' });
    expect(config).toMatchObject({ host: '0.0.0.0', port: 8080, redisUrl: 'redis://localhost:6379', sessionIdleMs: 600_000, sessionLifetimeMs: 3_600_000 });
  });

  it('has safe limits by default: 30 s per request, 10 s for headers, capped connections, a 10 s shutdown', () => {
    expect(loadConfig(SIMULATED)).toMatchObject({
      requestTimeoutMs: 30_000,
      headersTimeoutMs: 10_000,
      keepAliveTimeoutMs: 72_000,
      maxConnections: 4096,
      maxConnectionsPerClient: 128,
      shutdownTimeoutMs: 10_000,
      redisCommandTimeoutMs: 2000,
      avatarUploadLimit: 10,
      avatarUploadWindowMs: 3_600_000,
      trustProxy: false,
    });
    expect(problemsOf({ ...SIMULATED, HEADERS_TIMEOUT_SECONDS: '60', REQUEST_TIMEOUT_SECONDS: '30' }).message).toMatch(/HEADERS_TIMEOUT_SECONDS must not be longer/);
  });

  it('gives a phone bind a deadline shorter than the mini-program’s 10 s request timeout, and takes PHONE_BIND_TIMEOUT_MS', () => {
    expect(loadConfig(SIMULATED).phoneBindTimeoutMs).toBe(8000);
    expect(loadConfig({ ...SIMULATED, PHONE_BIND_TIMEOUT_MS: '3000' }).phoneBindTimeoutMs).toBe(3000);
    expect(problemsOf({ ...SIMULATED, PHONE_BIND_TIMEOUT_MS: '50' }).problems).toEqual(['PHONE_BIND_TIMEOUT_MS must be an integer from 100 to 60000 (got "50")']);
  });

  it('caps live sessions per user at 10 by default, takes MAX_SESSIONS_PER_USER from 1 to 1000, and refuses anything else by name', () => {
    expect(loadConfig(SIMULATED).maxSessionsPerUser).toBe(10);
    expect(loadConfig({ ...SIMULATED, MAX_SESSIONS_PER_USER: '3' }).maxSessionsPerUser).toBe(3);
    for (const bad of ['0', '1001', '-1', 'ten', '2.5']) {
      expect(problemsOf({ ...SIMULATED, MAX_SESSIONS_PER_USER: bad }).problems).toEqual([`MAX_SESSIONS_PER_USER must be an integer from 1 to 1000 (got "${bad}")`]);
    }
  });

  it('turns off only the per-client connection cap with 0, as docs/server.md says; the overall cap stays at least 1', () => {
    expect(loadConfig({ ...SIMULATED, MAX_CONNECTIONS_PER_CLIENT: '0' }).maxConnectionsPerClient).toBe(0);
    expect(problemsOf({ ...SIMULATED, MAX_CONNECTIONS: '0' }).problems).toEqual(['MAX_CONNECTIONS must be an integer from 1 to 1000000 (got "0")']);
  });

  it('answers to localhost and its subdomains, PUBLIC_URL’s host and HOST when it is a name, plus the ALLOWED_HOSTS names and .domains', () => {
    expect(loadConfig(SIMULATED).allowedHosts).toEqual({ names: ['localhost'], domains: ['localhost'] });
    expect(loadConfig({ WX_APPID: APPID, WX_SECRET: SECRET, ...PUBLIC, PUBLIC_URL: 'https://API.Example.com', HOST: 'devbox.lan' }).allowedHosts).toEqual({
      names: ['localhost', 'api.example.com', 'devbox.lan'],
      domains: ['localhost'],
    });
    // Addresses are always allowed, so never listed; a trailing dot and case do not matter.
    expect(loadConfig({ ...SIMULATED, HOST: '0.0.0.0', ALLOWED_HOSTS: ' Tunnel.Example.NET. , .corp.example, 10.0.0.5, [::1], 例子.中国, .例子.中国 ' }).allowedHosts).toEqual({
      names: ['localhost', 'tunnel.example.net', 'xn--fsqu00a.xn--fiqs8s'],
      domains: ['localhost', 'corp.example', 'xn--fsqu00a.xn--fiqs8s'],
    });
  });

  it('refuses ALLOWED_HOSTS=all (it would answer a rebinding page) and entries with a scheme, port or path, naming each', () => {
    for (const all of ['all', '*', 'true']) {
      expect(problemsOf({ ...SIMULATED, ALLOWED_HOSTS: all }).problems).toEqual([
        `ALLOWED_HOSTS=${all} would answer any name, which is what a DNS-rebinding page needs: list the names clients use (api.example.com, or .example.com for a domain and every name under it); IP addresses are always allowed`,
      ]);
    }
    expect(problemsOf({ ...SIMULATED, ALLOWED_HOSTS: 'https://api.example.com,api.example.com:443,ok.example,example.com/path,*.example.com,bad name' }).problems).toEqual(
      ['https://api.example.com', 'api.example.com:443', 'example.com/path', '*.example.com', 'bad name'].map(
        (entry) => `ALLOWED_HOSTS entries must be host names without a scheme, port or path, such as api.example.com or .example.com (got "${entry}")`,
      ),
    );
  });

  it('lets 16 requests wait for their answers on one connection by default, and takes MAX_PIPELINED_REQUESTS from 1 to 1024', () => {
    expect(loadConfig(SIMULATED).maxPipelinedRequests).toBe(16);
    expect(loadConfig({ ...SIMULATED, MAX_PIPELINED_REQUESTS: '1' }).maxPipelinedRequests).toBe(1);
    expect(problemsOf({ ...SIMULATED, MAX_PIPELINED_REQUESTS: '0' }).problems).toEqual(['MAX_PIPELINED_REQUESTS must be an integer from 1 to 1024 (got "0")']);
  });

  it('reads TRUST_PROXY as a hop count or a list of proxy addresses, and refuses true', () => {
    expect(loadConfig({ ...SIMULATED, TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ ...SIMULATED, TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadConfig({ ...SIMULATED, TRUST_PROXY: '10.0.0.5, 10.1.0.0/16,loopback' }).trustProxy).toEqual(['10.0.0.5', '10.1.0.0/16', 'loopback']);
    expect(problemsOf({ ...SIMULATED, TRUST_PROXY: 'true' }).message).toMatch(/TRUST_PROXY=true would take the client address from the left of X-Forwarded-For/);
    expect(problemsOf({ ...SIMULATED, TRUST_PROXY: '10.0.0.300' }).message).toMatch(/TRUST_PROXY must be false, a hop count, or proxy addresses/);
  });

  it('derives the session_key sealing key from the app secret, or takes SESSION_KEY_ENCRYPTION_KEY', () => {
    const a = loadConfig({ WX_APPID: APPID, WX_SECRET: SECRET, ...PUBLIC }).sessionKeySealKey;
    expect(a).toHaveLength(32);
    expect(loadConfig({ WX_APPID: APPID, WX_SECRET: SECRET, ...PUBLIC }).sessionKeySealKey).toEqual(a);
    expect(loadConfig({ WX_APPID: APPID, WX_SECRET: SECRET.replace('0', '1'), ...PUBLIC }).sessionKeySealKey).not.toEqual(a);
    const explicit = Buffer.alloc(32, 7);
    expect(loadConfig({ ...SIMULATED, SESSION_KEY_ENCRYPTION_KEY: explicit.toString('base64') }).sessionKeySealKey).toEqual(explicit);
    expect(loadConfig({ ...SIMULATED, SESSION_KEY_ENCRYPTION_KEY: explicit.toString('hex') }).sessionKeySealKey).toEqual(explicit);
    const error = problemsOf({ ...SIMULATED, SESSION_KEY_ENCRYPTION_KEY: 'too-short-key-material' });
    expect(error.message).toMatch(/SESSION_KEY_ENCRYPTION_KEY must be 32 bytes .* \(got 22 characters, not shown\)/);
    expect(error.message).not.toContain('too-short-key-material');
  });

  it('reports every bad value at once, by name', () => {
    const error = problemsOf({ ...SIMULATED, PORT: '70000', LOGIN_RATE_LIMIT: 'lots', REDIS_URL: 'localhost:6379', LOG_LEVEL: 'loud', TRUST_PROXY: 'maybe' });
    expect(error.problems).toHaveLength(5);
    expect(error.message).toMatch(/PORT must be an integer from 0 to 65535 \(got "70000"\)/);
    expect(error.message).toMatch(/LOGIN_RATE_LIMIT/);
    expect(error.message).toMatch(/REDIS_URL/);
    expect(error.message).toMatch(/LOG_LEVEL/);
    expect(error.message).toMatch(/TRUST_PROXY/);
  });

  it('refuses real mode and NODE_ENV=production without PUBLIC_URL, naming it, and lets development default to the loopback address', () => {
    const real = problemsOf({ WX_APPID: APPID, WX_SECRET: SECRET, DATABASE_URL: PUBLIC.DATABASE_URL });
    expect(real.problems).toEqual([
      'PUBLIC_URL is not set: real WeChat needs the origin clients reach this server at (e.g. PUBLIC_URL=https://api.example.com), which avatar URLs are built on',
    ]);
    expect(problemsOf({ NODE_ENV: 'production', WX_APPID: APPID, WX_SECRET: SECRET }).message).toMatch(/PUBLIC_URL is not set: NODE_ENV=production needs the origin/);
    expect(loadConfig(SIMULATED).publicUrl).toBeNull();
  });

  it('takes PUBLIC_URL as an origin: a trailing slash and upper-case host are normalised, a path, query or credentials refused', () => {
    expect(loadConfig({ ...SIMULATED, PUBLIC_URL: 'https://API.example.com/' }).publicUrl).toBe('https://api.example.com');
    expect(loadConfig({ ...SIMULATED, PUBLIC_URL: 'http://192.168.1.20:3000' }).publicUrl).toBe('http://192.168.1.20:3000');
    expect(loadConfig({ ...SIMULATED, PUBLIC_URL: 'https://api.example.com:443/' }).publicUrl).toBe('https://api.example.com');
    for (const bad of ['https://api.example.com/avatars', 'https://api.example.com/?x=1', 'https://user:pw@api.example.com', 'api.example.com', 'https://', 'https://exa mple.com']) {
      expect(problemsOf({ ...SIMULATED, PUBLIC_URL: bad }).problems).toEqual([`PUBLIC_URL must be an origin such as https://api.example.com, without a path (got "${bad}")`]);
    }
  });

  it('refuses an idle timeout longer than the session lifetime, and caps the default idle timeout at a shorter lifetime', () => {
    expect(problemsOf({ ...SIMULATED, SESSION_IDLE_SECONDS: '3000000', SESSION_LIFETIME_SECONDS: '600' }).problems).toEqual([
      'SESSION_IDLE_SECONDS (3000000) must not be longer than SESSION_LIFETIME_SECONDS (600): every session ends at its lifetime',
    ]);
    expect(loadConfig({ ...SIMULATED, SESSION_LIFETIME_SECONDS: '86400' })).toMatchObject({ sessionIdleMs: 86_400_000, sessionLifetimeMs: 86_400_000 });
    expect(loadConfig({ ...SIMULATED, SESSION_IDLE_SECONDS: '600', SESSION_LIFETIME_SECONDS: '600' })).toMatchObject({ sessionIdleMs: 600_000, sessionLifetimeMs: 600_000 });
    // A refused value is reported once, not compared as well.
    expect(problemsOf({ ...SIMULATED, SESSION_IDLE_SECONDS: 'week', SESSION_LIFETIME_SECONDS: '600' }).problems).toHaveLength(1);
  });

  it('refuses half a WeChat configuration without echoing the secret', () => {
    const error = problemsOf({ WX_SECRET: SECRET });
    expect(error.message).toMatch(/real WeChat needs both WX_APPID and WX_SECRET/);
    expect(error.message).not.toContain(SECRET);
  });

  it('refuses malformed credentials by their length only, never their value', () => {
    const secret = 'not-hex-but-very-secret';
    const error = problemsOf({ WX_APPID: 'not-an-appid', WX_SECRET: secret });
    expect(error.message).toMatch(/WX_APPID must be "wx" followed by 16 letters or digits \(got 12 characters, not shown\)/);
    expect(error.message).toMatch(/WX_SECRET must be 32 hex digits \(got 23 characters, not shown\)/);
    expect(error.message).not.toContain(secret);
  });

  it('says WX_APPID and WX_SECRET look swapped, printing neither', () => {
    const error = problemsOf({ WX_APPID: SECRET, WX_SECRET: APPID, ...PUBLIC });
    expect(error.problems).toEqual(['WX_APPID and WX_SECRET look swapped: WX_APPID starts with "wx", WX_SECRET is 32 hex digits']);
    expect(error.message).not.toContain(SECRET);
    expect(error.message).not.toContain(APPID);
  });

  describe('DATABASE_URL', () => {
    it('keeps users in memory by default in simulated mode only, and takes memory: by name outside production', () => {
      expect(loadConfig(SIMULATED).database).toBeNull();
      expect(loadConfig({ ...SIMULATED, DATABASE_URL: 'memory:' }).database).toBeNull();
      expect(loadConfig({ WX_APPID: APPID, WX_SECRET: SECRET, ...PUBLIC, DATABASE_URL: 'memory:' }).database).toBeNull();
    });

    it('is required by real WeChat and by NODE_ENV=production, which also refuses memory:, with what to set', () => {
      const { DATABASE_URL: _, ...withoutDatabase } = PUBLIC;
      expect(problemsOf({ WX_APPID: APPID, WX_SECRET: SECRET, ...withoutDatabase }).problems).toEqual([
        'DATABASE_URL is not set: real WeChat needs a database that outlives the process: postgres://user:password@host/db or mysql://user:password@host/db, or sqlite:data/wx-login.db for one instance with an embedded file',
      ]);
      expect(problemsOf({ NODE_ENV: 'production', WX_APPID: APPID, WX_SECRET: SECRET, ...withoutDatabase }).message).toMatch(/DATABASE_URL is not set: NODE_ENV=production needs a database/);
      expect(problemsOf({ NODE_ENV: 'production', WX_APPID: APPID, WX_SECRET: SECRET, ...PUBLIC, DATABASE_URL: 'memory:' }).message).toMatch(/DATABASE_URL=memory: keeps nothing/);
    });

    it('understands sqlite:, postgres:// and mysql:// (mariadb:// too), a relative SQLite path from the working folder', () => {
      expect(loadConfig({ ...SIMULATED, DATABASE_URL: 'sqlite:data/wx-login.db' }).database).toEqual({ kind: 'sqlite', file: path.resolve('data/wx-login.db') });
      expect(loadConfig({ ...SIMULATED, DATABASE_URL: 'sqlite:///var/lib/wx/db.sqlite' }).database).toEqual({ kind: 'sqlite', file: '/var/lib/wx/db.sqlite' });
      expect(loadConfig({ ...SIMULATED, DATABASE_URL: 'postgres://u:p@db:5432/wx' }).database).toEqual({ kind: 'postgres', url: 'postgres://u:p@db:5432/wx' });
      expect(loadConfig({ ...SIMULATED, DATABASE_URL: 'postgresql://db/wx' }).database).toMatchObject({ kind: 'postgres' });
      expect(loadConfig({ ...SIMULATED, DATABASE_URL: 'mariadb://u:p@db/wx' }).database).toEqual({ kind: 'mysql', url: 'mysql://u:p@db/wx' });
    });

    it('refuses anything else without echoing it (it may hold a password)', () => {
      const wrong = problemsOf({ ...SIMULATED, DATABASE_URL: 'mongodb://admin:s3cret@db/wx' });
      expect(wrong.problems).toEqual(['DATABASE_URL must be sqlite:PATH, postgres://..., mysql://... or memory: (got a mongodb: URL)']);
      expect(problemsOf({ ...SIMULATED, DATABASE_URL: 'admin:s3cret@db' }).message).not.toContain('s3cret');
      expect(problemsOf({ ...SIMULATED, DATABASE_URL: 'sqlite:' }).problems).toHaveLength(1);
    });

    it('checks the schema at start by default, migrates it with DATABASE_MIGRATE=auto, syncs SQLite fully and prepares PostgreSQL statements unless told otherwise', () => {
      expect(loadConfig(SIMULATED)).toMatchObject({ databaseMigrate: 'check', sqliteSynchronous: 'full', databaseCommandTimeoutMs: 2000, databasePoolSize: 10, maxSessionsPerUser: 10, databasePreparedStatements: true });
      expect(loadConfig({ ...SIMULATED, DATABASE_MIGRATE: 'auto', SQLITE_SYNCHRONOUS: 'normal', DATABASE_PREPARED_STATEMENTS: 'off' })).toMatchObject({
        databaseMigrate: 'auto',
        sqliteSynchronous: 'normal',
        databasePreparedStatements: false,
      });
      expect(problemsOf({ ...SIMULATED, DATABASE_MIGRATE: 'yes', SQLITE_SYNCHRONOUS: 'off', DATABASE_PREPARED_STATEMENTS: 'false' }).problems).toEqual([
        'DATABASE_MIGRATE must be check or auto (got "yes")',
        'SQLITE_SYNCHRONOUS must be full or normal (got "off")',
        'DATABASE_PREPARED_STATEMENTS must be on or off (got "false")',
      ]);
    });
  });

  describe('the message push block (WX_PUSH_*)', () => {
    const TOKEN = 'pushToken123';
    const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';

    it('is off without WX_PUSH_TOKEN and WX_PUSH_AES_KEY: no /wechat/events route', () => {
      expect(loadConfig(SIMULATED).push).toBeNull();
    });

    it('takes the console\'s Token and EncodingAESKey, the key as its 32 bytes, encrypted pushes only by default', () => {
      const push = loadConfig({ ...SIMULATED, WX_PUSH_TOKEN: TOKEN, WX_PUSH_AES_KEY: AES_KEY }).push;
      expect(push).toEqual({ token: TOKEN, aesKey: Buffer.from(`${AES_KEY}=`, 'base64'), acceptPlain: false });
      expect(push?.aesKey).toHaveLength(32);
      expect(loadConfig({ ...SIMULATED, WX_PUSH_TOKEN: TOKEN, WX_PUSH_AES_KEY: AES_KEY, WX_PUSH_ACCEPT_PLAIN: 'true' }).push?.acceptPlain).toBe(true);
    });

    it('refuses one without the other, and WX_PUSH_ACCEPT_PLAIN alone', () => {
      expect(problemsOf({ ...SIMULATED, WX_PUSH_TOKEN: TOKEN }).problems).toEqual([expect.stringMatching(/needs both WX_PUSH_TOKEN and WX_PUSH_AES_KEY \(only WX_PUSH_TOKEN is set\)/)]);
      expect(problemsOf({ ...SIMULATED, WX_PUSH_AES_KEY: AES_KEY }).problems).toEqual([expect.stringMatching(/only WX_PUSH_AES_KEY is set/)]);
      expect(problemsOf({ ...SIMULATED, WX_PUSH_ACCEPT_PLAIN: '1' }).message).toMatch(/WX_PUSH_ACCEPT_PLAIN is set but the message push is not configured/);
    });

    it('refuses a Token outside WeChat\'s 3 to 32 letters or digits and a key that is not 43 letters and digits, printing neither', () => {
      for (const token of ['ab', 'a'.repeat(33), 'with space', 'tökén1']) {
        const error = problemsOf({ ...SIMULATED, WX_PUSH_TOKEN: token, WX_PUSH_AES_KEY: AES_KEY });
        expect(error.problems).toEqual([`WX_PUSH_TOKEN must be 3 to 32 letters or digits, as WeChat requires (got ${token.length} characters, not shown)`]);
      }
      for (const key of [AES_KEY.slice(1), `${AES_KEY}=`, `${AES_KEY.slice(1)}+`]) {
        const error = problemsOf({ ...SIMULATED, WX_PUSH_TOKEN: TOKEN, WX_PUSH_AES_KEY: key });
        expect(error.problems).toEqual([expect.stringMatching(/^WX_PUSH_AES_KEY must be the console's EncodingAESKey: 43 letters and digits \(got \d+ characters, not shown\)$/)]);
        expect(error.message).not.toContain(key);
      }
    });
  });
});
