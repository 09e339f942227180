import { ConfigError, loadConfig, SIMULATED_APPID } from '../../server/config';

const problemsOf = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
  }
  throw new Error('no ConfigError');
};

describe('loadConfig', () => {
  it('defaults to 127.0.0.1:3000, simulated WeChat and memory stores', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ host: '127.0.0.1', port: 3000, redisUrl: null, wechat: { mode: 'simulated', appId: SIMULATED_APPID, apiBase: null } });
    expect(config.sessionIdleMs).toBeLessThan(config.sessionLifetimeMs);
  });

  it('switches to real WeChat when WX_APPID and WX_SECRET are both set', () => {
    expect(loadConfig({ WX_APPID: 'wx0123456789abcdef', WX_SECRET: 'secret' }).wechat).toEqual({
      mode: 'real',
      appId: 'wx0123456789abcdef',
      secret: 'secret',
      apiBase: 'https://api.weixin.qq.com',
      timeoutMs: 5000,
    });
  });

  it('reads HOST, PORT, REDIS_URL and the session lifetimes', () => {
    const config = loadConfig({ HOST: '0.0.0.0', PORT: '8080', REDIS_URL: 'redis://localhost:6379', SESSION_IDLE_SECONDS: '600', SESSION_LIFETIME_SECONDS: '3600' });
    expect(config).toMatchObject({ host: '0.0.0.0', port: 8080, redisUrl: 'redis://localhost:6379', sessionIdleMs: 600_000, sessionLifetimeMs: 3_600_000 });
  });

  it('reports every bad value at once, by name', () => {
    const error = problemsOf({ PORT: '70000', LOGIN_RATE_LIMIT: 'lots', REDIS_URL: 'localhost:6379', LOG_LEVEL: 'loud', TRUST_PROXY: 'maybe' });
    expect(error.problems).toHaveLength(5);
    expect(error.message).toMatch(/PORT must be an integer from 0 to 65535 \(got "70000"\)/);
    expect(error.message).toMatch(/LOGIN_RATE_LIMIT/);
    expect(error.message).toMatch(/REDIS_URL/);
    expect(error.message).toMatch(/LOG_LEVEL/);
    expect(error.message).toMatch(/TRUST_PROXY/);
  });

  it('refuses half a WeChat configuration without echoing the secret', () => {
    const error = problemsOf({ WX_SECRET: 'very-secret-value' });
    expect(error.message).toMatch(/WX_APPID and WX_SECRET go together/);
    expect(error.message).not.toContain('very-secret-value');
    expect(problemsOf({ WX_APPID: 'not-an-appid', WX_SECRET: 'x' }).message).toMatch(/WX_APPID must look like/);
  });
});
