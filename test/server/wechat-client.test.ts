import { ApiError } from '../../server/errors';
import { createWeChatClient, type Transport } from '../../server/wechat/client';

const client = (transport: Transport, timeoutMs = 1000) => createWeChatClient({ baseUrl: () => 'https://wx.example', appId: 'wxapp', secret: 'SECRET', timeoutMs, transport });
const answering = (body: string, status = 200): Transport => async () => ({ status, body });

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('did not fail');
}

describe('WeChat client', () => {
  it('treats an answer without errcode as success, as real WeChat sends it', async () => {
    await expect(client(answering('{"session_key":"k","openid":"o"}')).code2Session('c')).resolves.toEqual({ openid: 'o', sessionKey: 'k' });
  });

  it('treats errcode 0 as success and keeps a unionid', async () => {
    await expect(client(answering('{"errcode":0,"session_key":"k","openid":"o","unionid":"u"}')).code2Session('c')).resolves.toEqual({ openid: 'o', sessionKey: 'k', unionid: 'u' });
  });

  it.each([
    [40029, 401, 'INVALID_CODE'],
    [40163, 401, 'INVALID_CODE'],
    [45011, 429, 'RATE_LIMITED'],
    [40226, 403, 'USER_BLOCKED'],
    [-1, 503, 'WECHAT_UNAVAILABLE'],
    [40013, 502, 'WECHAT_UNAVAILABLE'],
  ])('turns errcode %i into HTTP %i %s without WeChat’s raw message', async (errcode, status, code) => {
    const error = await failure(client(answering(`{"errcode":${errcode},"errmsg":"secret detail, rid: 99"}`)).code2Session('c'));
    expect(error).toMatchObject({ status, code });
    expect(error.message).not.toMatch(/secret detail|rid/);
  });

  it.each([
    ['an HTTP error', answering('oops', 500)],
    ['a non-JSON body', answering('<html>')],
    ['JSON without openid', answering('{"session_key":"k"}')],
    ['a JSON string', answering('"hello"')],
    ['a network failure', (async () => {
      throw new TypeError('fetch failed');
    }) as Transport],
  ])('answers 502 WECHAT_UNAVAILABLE for %s', async (_case, transport) => {
    expect(await failure(client(transport).code2Session('c'))).toMatchObject({ status: 502, code: 'WECHAT_UNAVAILABLE' });
  });

  it('gives up after its timeout with 504 WECHAT_TIMEOUT and aborts the request', async () => {
    jest.useFakeTimers();
    try {
      let signal: AbortSignal | undefined;
      const hanging: Transport = (_url, s) => {
        signal = s;
        return new Promise(() => undefined);
      };
      const pending = failure(client(hanging, 5000).code2Session('c'));
      await jest.advanceTimersByTimeAsync(5000);
      expect(await pending).toMatchObject({ status: 504, code: 'WECHAT_TIMEOUT' });
      expect(signal?.aborted).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });

  it('never puts the secret in an error message', async () => {
    for (const transport of [answering('x', 500), answering('{"errcode":40125}')]) {
      expect((await failure(client(transport).code2Session('c'))).message).not.toContain('SECRET');
    }
  });
});
