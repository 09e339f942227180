import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createNodeWx, type RequestOption, type RequestSuccess, type UploadFileOption, type UploadSuccess, type WxError } from '../../tools/node-wx';
import { SMALL_PNG } from '../support/images';
import { testApp } from './helpers';

type Outcome<R> = { success?: R; fail?: WxError; completed: number };

/** Runs one callback-style call and collects what it called back with. */
function call<R>(start: (callbacks: { success(r: R): void; fail(e: WxError): void; complete(): void }) => unknown): Promise<Outcome<R>> {
  return new Promise((resolve) => {
    const outcome: Outcome<R> = { completed: 0 };
    start({
      success: (r) => (outcome.success = r),
      fail: (e) => (outcome.fail = e),
      complete: () => {
        outcome.completed++;
        setImmediate(() => resolve(outcome));
      },
    });
  });
}

describe('Node wx adapter', () => {
  let app: FastifyInstance;
  let base: string;
  let slow: Server;
  let slowBase: string;
  beforeAll(async () => {
    ({ app } = await testApp());
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    // A server that never answers, to abort and time out against.
    slow = createServer(() => undefined);
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    slowBase = `http://127.0.0.1:${(slow.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    slow.closeAllConnections();
    await new Promise((resolve) => slow.close(resolve));
    await app.close();
  });

  const request = (wx: ReturnType<typeof createNodeWx>, options: Omit<RequestOption, 'success' | 'fail' | 'complete'>) =>
    call<RequestSuccess>((callbacks) => wx.request({ ...options, ...callbacks }));

  it('logs in with a code from POST /dev/codes that the server accepts', async () => {
    const wx = createNodeWx({ server: base, user: 'nina' });
    const { success, completed } = await call<{ code: string }>((callbacks) => wx.login(callbacks));
    expect(completed).toBe(1);
    const login = await request(wx, { url: `${base}/auth/login`, method: 'POST', data: { code: success!.code } });
    expect(login.success?.statusCode).toBe(200);
    expect(wx.calls).toMatchObject({ login: 1, request: 1 });
  });

  it('answers success with statusCode, JSON-parsed data and headers, also for HTTP errors', async () => {
    const wx = createNodeWx({ server: base });
    const { success, fail, completed } = await request(wx, { url: `${base}/api/profile` });
    expect(fail).toBeUndefined();
    expect(completed).toBe(1);
    expect(success).toMatchObject({ statusCode: 401, data: { error: { code: 'SESSION_EXPIRED' } }, errMsg: 'request:ok' });
    expect(success!.header['content-type']).toMatch(/application\/json/);
  });

  it('hands over text when dataType is not json', async () => {
    const wx = createNodeWx({ server: base });
    const { success } = await request(wx, { url: `${base}/api/profile`, dataType: 'text' });
    expect(typeof success!.data).toBe('string');
  });

  it('fails with "request:fail abort" when the task is aborted', async () => {
    const wx = createNodeWx({ server: base });
    const outcome = await call<RequestSuccess>((callbacks) => wx.request({ url: `${slowBase}/hang`, ...callbacks }).abort());
    expect(outcome).toEqual({ fail: { errMsg: 'request:fail abort' }, completed: 1 });
  });

  it('fails with "request:fail timeout" after its timeout', async () => {
    const wx = createNodeWx({ server: base });
    expect((await request(wx, { url: `${slowBase}/hang`, timeout: 50 })).fail).toEqual({ errMsg: 'request:fail timeout' });
  });

  it('fails with "request:fail ..." when nothing listens', async () => {
    const wx = createNodeWx({ server: base });
    expect((await request(wx, { url: 'http://127.0.0.1:1/' })).fail?.errMsg).toMatch(/^request:fail /);
  });

  it('never calls back synchronously', () => {
    const wx = createNodeWx({ server: base });
    let called = false;
    wx.checkSession({ success: () => (called = true) });
    expect(called).toBe(false);
  });

  it('uploads a file as real multipart/form-data that the avatar route accepts', async () => {
    const wx = createNodeWx({ server: base, user: 'nina' });
    const login = await call<{ code: string }>((callbacks) => wx.login(callbacks));
    const { data } = (await request(wx, { url: `${base}/auth/login`, method: 'POST', data: { code: login.success!.code } })).success!;
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'node-wx-')), 'avatar.png');
    writeFileSync(file, SMALL_PNG);
    const upload = await call<UploadSuccess>((callbacks) =>
      wx.uploadFile({ url: `${base}/api/avatar`, filePath: file, name: 'file', formData: { kind: 'avatar' }, header: { authorization: `Bearer ${(data as { skey: string }).skey}` }, ...callbacks } as UploadFileOption),
    );
    expect(upload.success?.statusCode).toBe(200);
    expect(JSON.parse(upload.success!.data)).toEqual({ avatarUrl: expect.stringMatching(/\/avatars\/[0-9a-f]{32}\.png$/) });
  });

  it('fails an upload of a missing file with "uploadFile:fail ..."', async () => {
    const wx = createNodeWx({ server: base });
    const outcome = await call<UploadSuccess>((callbacks) => wx.uploadFile({ url: `${base}/api/avatar`, filePath: '/nonexistent/file.png', name: 'file', ...callbacks }));
    expect(outcome.fail?.errMsg).toMatch(/^uploadFile:fail /);
  });

  it('keeps storage in memory, hands out copies and answers "" for a missing key', () => {
    const wx = createNodeWx({ server: base });
    const value = { skey: 'x', nested: { n: 1 } };
    wx.setStorageSync('k', value);
    value.nested.n = 2;
    expect(wx.getStorageSync('k')).toEqual({ skey: 'x', nested: { n: 1 } });
    wx.removeStorageSync('k');
    expect(wx.getStorageSync('k')).toBe('');
  });
});
