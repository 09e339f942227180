import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { ConfigError } from '../../server/config';
import { ApiError } from '../../server/errors';
import type { AvatarUploadResponse, ProfileResponse } from '../../typings/api';
import { PNG_SIGNATURE, pngBomb, SMALL_PNG, solidImage } from '../support/images';
import { bearer, login, logSink, testApp, type TestApp } from './helpers';

const PNG = SMALL_PNG;
const MAX_BYTES = 4096;
const UPLOADS_PER_WINDOW = 4;

/** Over a real socket, with real multipart bodies, as wx.uploadFile sends them. */
describe('POST /api/avatar', () => {
  let t: TestApp;
  let app: FastifyInstance;
  let base: string;
  let skey: string;
  let log: ReturnType<typeof logSink>;
  beforeEach(async () => {
    log = logSink();
    t = await testApp({ config: { avatarMaxBytes: MAX_BYTES, avatarUploadLimit: UPLOADS_PER_WINDOW, avatarUploadWindowMs: 60_000 }, log: log.stream });
    app = t.app;
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    ({ skey } = await login(app, 'uploader'));
  });
  afterEach(() => app.close());

  const upload = (bytes: Buffer, { field = 'file', type = 'application/octet-stream', auth = skey } = {}) => {
    const form = new FormData();
    form.append('name', 'avatar');
    form.append(field, new Blob([bytes], { type }), 'tmp_avatar.png');
    return fetch(`${base}/api/avatar`, { method: 'POST', headers: bearer(auth), body: form });
  };
  const uploaded = async (auth = skey) => ((await (await upload(PNG, { auth })).json()) as AvatarUploadResponse).avatarUrl;
  const profile = async (auth = skey) => ((await (await fetch(`${base}/api/profile`, { headers: bearer(auth) })).json()) as ProfileResponse).user;
  const files = () => readdirSync(t.config.uploadDir);
  const nameOf = (avatarUrl: string) => avatarUrl.split('/').pop()!;
  const putProfile = (body: object, auth = skey) =>
    fetch(`${base}/api/profile`, { method: 'PUT', headers: { ...bearer(auth), 'content-type': 'application/json' }, body: JSON.stringify(body) });
  /** A stored file that cannot be deleted: a directory in its place (unlink answers EISDIR, even to root). */
  const undeletable = (name: string) => {
    rmSync(path.join(t.config.uploadDir, name));
    mkdirSync(path.join(t.config.uploadDir, name));
  };

  it('stores a PNG as a fresh encoding of its pixels, makes it the avatar, and serves that file as an image that cannot act as a page', async () => {
    const response = await upload(PNG);
    expect(response.status).toBe(200);
    const { avatarUrl } = (await response.json()) as AvatarUploadResponse;
    expect(avatarUrl).toMatch(new RegExp(`^${base}/avatars/[0-9a-f]{32}\\.png$`));
    expect((await profile()).avatarUrl).toBe(avatarUrl);
    const served = await fetch(avatarUrl);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(served.headers.get('x-content-type-options')).toBe('nosniff');
    expect(served.headers.get('content-disposition')).toBe('inline; filename="avatar.png"');
    expect(served.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
    // The one answer that may be cached: its name changes with every upload.
    expect(served.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const body = Buffer.from(await served.arrayBuffer());
    expect(body).toEqual(readFileSync(path.join(t.config.uploadDir, nameOf(avatarUrl))));
    expect(await sharp(body).raw().toBuffer()).toEqual(await sharp(PNG).raw().toBuffer());
    expect(files()).toHaveLength(1);
  });

  it('keeps one file per user: a new upload deletes the one it replaces, and the old URL is gone', async () => {
    const first = await uploaded();
    const second = await uploaded();
    expect(second).not.toBe(first);
    expect((await fetch(first)).status).toBe(404);
    expect((await fetch(second)).status).toBe(200);
    expect(files()).toEqual([second.split('/').pop()]);
  });

  it('leaves exactly one file, the avatar the profile shows, after concurrent uploads', async () => {
    const urls = await Promise.all(Array.from({ length: UPLOADS_PER_WINDOW }, () => uploaded()));
    const current = (await profile()).avatarUrl;
    expect(urls).toContain(current);
    expect(files()).toEqual([current.split('/').pop()]);
  });

  it('accepts the uploaded URL back in PUT /api/profile as the mini-program sends it, and deletes the file when the avatar is removed', async () => {
    const avatarUrl = await uploaded();
    const kept = await fetch(`${base}/api/profile`, { method: 'PUT', headers: { ...bearer(skey), 'content-type': 'application/json' }, body: JSON.stringify({ nickname: 'Up', avatarUrl }) });
    expect(kept.status).toBe(200);
    expect(files()).toHaveLength(1);
    const removed = await fetch(`${base}/api/profile`, { method: 'PUT', headers: { ...bearer(skey), 'content-type': 'application/json' }, body: JSON.stringify({ avatarUrl: '' }) });
    expect(removed.status).toBe(200);
    expect(files()).toEqual([]);
  });

  it('refuses another user’s uploaded avatar in PUT /api/profile, so nobody can get someone else’s file deleted', async () => {
    const { skey: other } = await login(app, 'victim');
    const theirs = await uploaded(other);
    const put = await fetch(`${base}/api/profile`, { method: 'PUT', headers: { ...bearer(skey), 'content-type': 'application/json' }, body: JSON.stringify({ avatarUrl: theirs }) });
    expect(put.status).toBe(400);
    await uploaded();
    expect((await fetch(theirs)).status).toBe(200);
    expect(files()).toHaveLength(2);
  });

  it('leaves another user’s file on disk and served when a WeChat avatar URL whose path names it is set and then replaced', async () => {
    const { skey: other } = await login(app, 'victim');
    const theirs = await uploaded(other);
    const lookalike = `https://wx.qlogo.cn/avatars/${nameOf(theirs)}`;
    expect((await putProfile({ avatarUrl: lookalike })).status).toBe(200);
    expect((await putProfile({ avatarUrl: '' })).status).toBe(200);
    expect((await putProfile({ avatarUrl: lookalike })).status).toBe(200);
    const mine = await uploaded();
    expect((await fetch(theirs)).status).toBe(200);
    expect((await profile(other)).avatarUrl).toBe(theirs);
    expect(files().sort()).toEqual([nameOf(theirs), nameOf(mine)].sort());
  });

  it('answers 200 with the new URL when the file it replaced cannot be deleted, and logs that failure at warn', async () => {
    const first = await uploaded();
    undeletable(nameOf(first));
    const response = await upload(PNG);
    expect(response.status).toBe(200);
    const { avatarUrl } = (await response.json()) as AvatarUploadResponse;
    expect(avatarUrl).not.toBe(first);
    expect((await profile()).avatarUrl).toBe(avatarUrl);
    expect(await log.warnings()).toEqual([expect.objectContaining({ msg: 'deleting an avatar file failed; it stays on disk', file: nameOf(first), err: expect.stringContaining('EISDIR') })]);
  });

  it('answers 200 to removing the avatar in PUT /api/profile when its file cannot be deleted, and logs that failure at warn', async () => {
    const first = await uploaded();
    undeletable(nameOf(first));
    const response = await putProfile({ avatarUrl: '' });
    expect(response.status).toBe(200);
    expect(((await response.json()) as ProfileResponse).user.avatarUrl).toBe('');
    expect(await log.warnings()).toEqual([expect.objectContaining({ file: nameOf(first), err: expect.stringContaining('EISDIR') })]);
  });

  it('still answers 503 STORE_UNAVAILABLE when the store fails during an upload and the new file cannot be deleted either', async () => {
    const before = await uploaded();
    jest.spyOn(t.stores.users, 'update').mockImplementationOnce(async (_id, patch) => {
      undeletable(nameOf(patch.avatarUrl!));
      throw Object.assign(new ApiError('STORE_UNAVAILABLE', 'storage is unavailable, try again later'), { cause: new Error('Connection is closed.') });
    });
    const response = await upload(PNG);
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('STORE_UNAVAILABLE');
    expect((await profile()).avatarUrl).toBe(before);
    const logged = await log.warnings();
    expect(logged).toContainEqual(expect.objectContaining({ msg: 'deleting an avatar file failed; it stays on disk', err: expect.stringContaining('EISDIR') }));
    expect(logged).toContainEqual(expect.objectContaining({ code: 'STORE_UNAVAILABLE', cause: 'Connection is closed.' }));
  });

  it(`limits uploads to ${UPLOADS_PER_WINDOW} per user per window with 429 RATE_LIMITED and Retry-After; another user is not affected`, async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < UPLOADS_PER_WINDOW + 3; i++) {
      const response = await upload(PNG);
      statuses.push(response.status);
      if (response.status === 429) {
        retryAfter = response.headers.get('retry-after');
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED');
      }
    }
    expect(statuses).toEqual([...Array(UPLOADS_PER_WINDOW).fill(200), 429, 429, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    expect(files()).toHaveLength(1);
    const { skey: other } = await login(app, 'someone-else');
    expect((await upload(PNG, { auth: other })).status).toBe(200);
  });

  it('refuses a file over the size limit with 413 PAYLOAD_TOO_LARGE and stores nothing', async () => {
    const response = await upload(Buffer.concat([PNG, Buffer.alloc(MAX_BYTES + 1000)]));
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(files()).toEqual([]);
  });

  /** A raw request; resolves with what the server answered and how many body bytes it took before closing. */
  const rawUpload = (head: string, body: (write: (chunk: string) => boolean) => void) =>
    new Promise<{ answer: string; closed: boolean }>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: Number(new URL(base).port) });
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve({ answer, closed: true }));
      socket.on('connect', () => {
        socket.write(head);
        body((chunk) => !socket.destroyed && socket.write(chunk));
      });
    });

  it('answers 413 at once to a declared Content-Length over the total, without waiting for the body, and closes', async () => {
    const { answer } = await rawUpload(
      `POST /api/avatar HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${skey}\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 50000000\r\n\r\n`,
      () => undefined,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toMatch(/connection: close/i);
  });

  it('stops reading a chunked body that goes on past the total (64 KB of framing over the file limit), answering 413 and closing', async () => {
    let sent = 0;
    const { answer } = await rawUpload(
      `POST /api/avatar HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${skey}\r\nContent-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n`,
      (write) => {
        // Preamble junk before the first boundary: the multipart parser skips it, only the byte count can stop it.
        const chunk = 'x'.repeat(16 * 1024);
        const pump = () => {
          while (sent < 5 * 1024 * 1024) {
            sent += chunk.length;
            if (!write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`)) return void setImmediate(pump);
          }
        };
        pump();
      },
    );
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(sent).toBeLessThan(5 * 1024 * 1024);
    expect(files()).toEqual([]);
  });

  it('judges the type by content, not by the declared type: an HTML file named .png gets 415', async () => {
    const response = await upload(Buffer.from('<script>alert(1)</script>'), { type: 'image/png' });
    expect(response.status).toBe(415);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses a JSON body with 415 and a file under another field name with 400', async () => {
    const json = await fetch(`${base}/api/avatar`, { method: 'POST', headers: { ...bearer(skey), 'content-type': 'application/json' }, body: '{}' });
    expect(json.status).toBe(415);
    expect((await upload(PNG, { field: 'avatar' })).status).toBe(400);
  });

  it('refuses an upload with two file parts with 400 BAD_REQUEST, storing neither and keeping the avatar', async () => {
    const before = await uploaded();
    for (const second of ['file', 'other']) {
      const form = new FormData();
      form.append('file', new Blob([PNG], { type: 'image/png' }), 'a.png');
      form.append(second, new Blob([PNG], { type: 'image/png' }), 'b.png');
      const response = await fetch(`${base}/api/avatar`, { method: 'POST', headers: bearer(skey), body: form });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: { code: 'BAD_REQUEST', message: 'the upload must hold one file, not several' } });
    }
    expect((await profile()).avatarUrl).toBe(before);
    expect(files()).toEqual([before.split('/').pop()]);
  });

  it('needs a session: 401 SESSION_EXPIRED', async () => {
    expect((await upload(PNG, { auth: 'A'.repeat(43) })).status).toBe(401);
  });

  it('serves nothing but names it made itself', async () => {
    for (const name of ['..%2F..%2Fetc%2Fpasswd', 'x.png', `${'0'.repeat(32)}.png`, `${'0'.repeat(32)}.svg`]) {
      expect((await fetch(`${base}/avatars/${name}`)).status).toBe(404);
    }
  });

  it('serves only regular files: a symlink to a private file, a FIFO or a folder under a stored name is 404, and the secret is never sent', async () => {
    const secret = path.join(mkdtempSync(path.join(os.tmpdir(), 'wx-login-secret-')), 'id_ed25519');
    writeFileSync(secret, 'PRIVATE KEY of the developer');
    const mine = nameOf(await uploaded());
    const planted = { link: `${'a'.repeat(32)}.png`, linkToAvatar: `${'b'.repeat(32)}.png`, fifo: `${'c'.repeat(32)}.png`, folder: `${'d'.repeat(32)}.png` };
    symlinkSync(secret, path.join(t.config.uploadDir, planted.link));
    symlinkSync(path.join(t.config.uploadDir, mine), path.join(t.config.uploadDir, planted.linkToAvatar));
    expect(spawnSync('mkfifo', [path.join(t.config.uploadDir, planted.fifo)]).status).toBe(0);
    mkdirSync(path.join(t.config.uploadDir, planted.folder));
    for (const name of Object.values(planted)) {
      const response = await fetch(`${base}/avatars/${name}`);
      const body = await response.text();
      expect({ name, status: response.status, leaked: body.includes('PRIVATE KEY') }).toEqual({ name, status: 404, leaked: false });
      expect(JSON.parse(body)).toEqual({ error: { code: 'NOT_FOUND', message: 'no such avatar' } });
    }
    expect((await fetch(`${base}/avatars/${mine}`)).status).toBe(200);
  });

  it('answers 503 STORE_UNAVAILABLE, not 404, for an avatar it cannot open for want of file descriptors (EMFILE), and 500 INTERNAL for any other failure but a missing file', async () => {
    const mine = nameOf(await uploaded());
    // The module object the server reads (a namespace import would be a copy of it).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const fsPromises = require('node:fs/promises') as typeof import('node:fs/promises');
    const failing = (code: string) => jest.spyOn(fsPromises, 'open').mockRejectedValueOnce(Object.assign(new Error(`${code}: failed`), { code }));
    const answers = [];
    for (const code of ['EMFILE', 'ENFILE', 'EACCES', 'EIO', 'ENOENT']) {
      const open = failing(code);
      const response = await fetch(`${base}/avatars/${mine}`);
      answers.push({ code, status: response.status, body: await response.json() });
      open.mockRestore();
    }
    expect(answers).toEqual([
      { code: 'EMFILE', status: 503, body: { error: { code: 'STORE_UNAVAILABLE', message: 'the avatar cannot be read right now, try again later' } } },
      { code: 'ENFILE', status: 503, body: { error: { code: 'STORE_UNAVAILABLE', message: 'the avatar cannot be read right now, try again later' } } },
      { code: 'EACCES', status: 500, body: { error: { code: 'INTERNAL', message: expect.any(String) } } },
      { code: 'EIO', status: 500, body: { error: { code: 'INTERNAL', message: expect.any(String) } } },
      { code: 'ENOENT', status: 404, body: { error: { code: 'NOT_FOUND', message: 'no such avatar' } } },
    ]);
    // Nothing of the failure reaches the client; the operator's log has it.
    expect(JSON.stringify(answers)).not.toContain('failed');
    expect((await log.warnings()).some((line) => JSON.stringify(line).includes('EMFILE: failed'))).toBe(true);
    // And once the descriptors are back, the same avatar is served.
    expect((await fetch(`${base}/avatars/${mine}`)).status).toBe(200);
  });
});

/** The audit's hostile files (issue #22), uploaded as wx.uploadFile sends a chosen avatar, at the default 1 MB limit. */
describe('POST /api/avatar with files that only start like images', () => {
  let t: TestApp;
  let base: string;
  let skey: string;
  beforeEach(async () => {
    t = await testApp({ config: { avatarUploadLimit: 100 } });
    base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    ({ skey } = await login(t.app, 'uploader'));
  });
  afterEach(() => t.app.close());

  const upload = async (bytes: Buffer) => {
    const form = new FormData();
    form.append('file', new Blob([bytes], { type: 'image/png' }), 'tmp_avatar.png');
    const response = await fetch(`${base}/api/avatar`, { method: 'POST', headers: bearer(skey), body: form });
    return { status: response.status, body: (await response.json()) as AvatarUploadResponse & { error?: { code: string; message: string } } };
  };
  const profileAvatar = async () => ((await (await fetch(`${base}/api/profile`, { headers: bearer(skey) })).json()) as ProfileResponse).user.avatarUrl;
  const files = () => readdirSync(t.config.uploadDir);

  it('refuses the 309 KB PNG that decodes to 50000 × 50000 pixels with 413 PAYLOAD_TOO_LARGE, storing nothing and keeping the avatar', async () => {
    const before = (await upload(PNG)).body.avatarUrl;
    const bomb = pngBomb(50000, 50000);
    expect(bomb.length).toBeLessThan(t.config.avatarMaxBytes);
    expect(await upload(bomb)).toEqual({ status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE', message: 'the image is 50000 × 50000 pixels; an avatar may be at most 4096 × 4096' } } });
    expect(await profileAvatar()).toBe(before);
    expect(files()).toEqual([before.split('/').pop()]);
  });

  it('refuses the PNG signature alone, GIF89a=1;alert(1)// and a cut-off PNG with 415 UNSUPPORTED_MEDIA_TYPE, storing nothing', async () => {
    const png = await solidImage('png', 64, 64);
    for (const bytes of [PNG_SIGNATURE, Buffer.from('GIF89a=1;alert(1)//'), png.subarray(0, png.length - 20)]) {
      const { status, body } = await upload(bytes);
      expect({ status, code: body.error?.code }).toEqual({ status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
    }
    expect(files()).toEqual([]);
    expect(await profileAvatar()).toBe('');
  });

  it('stores a PNG with an HTML page appended as the PNG alone: what is served holds no markup', async () => {
    const polyglot = Buffer.concat([PNG, Buffer.from('<html><body><script>fetch("/api/profile")</script></body></html>')]);
    const { status, body } = await upload(polyglot);
    expect(status).toBe(200);
    const served = Buffer.from(await (await fetch(body.avatarUrl)).arrayBuffer());
    expect(served.includes('<script')).toBe(false);
    expect(served.includes('<html')).toBe(false);
    expect(await sharp(served).raw().toBuffer()).toEqual(await sharp(PNG).raw().toBuffer());
  });
});

describe('the avatar folder at start', () => {
  it('refuses to start with an UPLOAD_DIR that group or others may write to, saying what to fix, and starts once it is fixed', async () => {
    const uploadDir = mkdtempSync(path.join(os.tmpdir(), 'wx-login-shared-'));
    chmodSync(uploadDir, 0o775);
    const refused = await testApp({ config: { uploadDir } }).then(
      async ({ app }) => app.close(),
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as ConfigError).problems).toEqual([`UPLOAD_DIR ${uploadDir} is writable by group or others (mode 0775): chmod 700 ${uploadDir}`]);
    chmodSync(uploadDir, 0o700);
    const { app } = await testApp({ config: { uploadDir } });
    await app.close();
  });
});

describe('POST /api/avatar refused before its body is read', () => {
  it('reads and discards a body of declared length within the limits, so the client sees the 429 and the connection serves on', async () => {
    const { app } = await testApp({ config: { avatarMaxBytes: 2 * 1024 * 1024, avatarUploadLimit: 1, avatarUploadWindowMs: 60_000 } });
    try {
      const base = await app.listen({ host: '127.0.0.1', port: 0 });
      const { skey } = await login(app);
      const form = new FormData();
      form.append('file', new Blob([PNG]), 'a.png');
      expect((await fetch(`${base}/api/avatar`, { method: 'POST', headers: bearer(skey), body: form })).status).toBe(200);

      // Over a raw socket: the headers of a 1.5 MB upload, then the answer, then the body, then a second request.
      const socket = connect({ host: '127.0.0.1', port: Number(new URL(base).port) });
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      const answered = (count: number) =>
        new Promise<void>((resolve) => {
          const check = () => ((text.match(/HTTP\/1\.1 /g) ?? []).length >= count ? resolve() : socket.once('data', check));
          check();
        });
      const length = 1536 * 1024;
      socket.write(`POST /api/avatar HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${skey}\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: ${length}\r\n\r\n`);
      await answered(1);
      expect(text).toMatch(/^HTTP\/1\.1 429 /);
      expect(text).not.toMatch(/connection: close/i);
      socket.write(Buffer.alloc(length, 'x'));
      socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      await answered(2);
      expect(text).toMatch(/HTTP\/1\.1 200 [\s\S]*"status":"ok"/);
      socket.destroy();
    } finally {
      await app.close();
    }
  });

  it('closes such a connection as soon as its body is in when the server is shutting down, instead of keeping it alive', async () => {
    const { app } = await testApp({ config: { avatarMaxBytes: 2 * 1024 * 1024 } });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const socket = connect({ host: '127.0.0.1', port: Number(new URL(base).port) });
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const closed = new Promise((resolve) => socket.on('close', resolve));
    // No session: 401 at once, while the 1 MB body is still to come.
    socket.write(`POST /api/avatar HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: ${1024 * 1024}\r\n\r\n`);
    await new Promise<void>((resolve) => socket.once('data', () => resolve()));
    expect(text).toMatch(/^HTTP\/1\.1 401 /);
    // The shutdown starts while the connection is busy with its body; then the body arrives.
    const closing = app.close();
    socket.write(Buffer.alloc(1024 * 1024, 'x'));
    await closing;
    await closed;
  });
});
