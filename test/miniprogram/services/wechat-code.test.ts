import { freshLoginCode } from '../../../miniprogram/services/wechat-code';
import { errorMessage } from '../../../miniprogram/utils/error-message';

type LoginOptions = { timeout?: number; success?: (r: { code: string }) => void; fail?: (e: { errMsg: string }) => void };

/** Replaces the global wx.login for one test: `answer` gets the options wx.login was called with. */
function wxLogin(answer: (o: LoginOptions) => void): jest.Mock {
  const login = jest.fn(answer);
  (wx as unknown as { login: unknown }).login = login;
  return login;
}

describe('freshLoginCode', () => {
  test('resolves with the code of one wx.login, bounded by a timeout', async () => {
    const login = wxLogin((o) => o.success?.({ code: '0a1B2c' }));

    await expect(freshLoginCode()).resolves.toBe('0a1B2c');

    expect(login).toHaveBeenCalledTimes(1);
    expect(login.mock.calls[0][0].timeout).toBe(10_000);
  });

  test('a wx.login that fails is LOGIN_FAILED, which the pages say as a WeChat login failure', async () => {
    wxLogin((o) => o.fail?.({ errMsg: 'login:fail system error' }));

    const error = await freshLoginCode().catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'AuthError', code: 'LOGIN_FAILED' });
    expect(errorMessage(error)).toBe('微信登录失败，请稍后重试');
  });

  test('a timed-out wx.login is TIMEOUT', async () => {
    wxLogin((o) => o.fail?.({ errMsg: 'login:fail timeout' }));

    await expect(freshLoginCode()).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  test('an answer without a code is a failure, not an empty code sent to the server', async () => {
    wxLogin((o) => o.success?.({ code: '' }));

    await expect(freshLoginCode()).rejects.toMatchObject({ code: 'LOGIN_FAILED' });
  });
});
