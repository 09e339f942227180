import { isSessionExpiredAnswer } from '../../../miniprogram/utils/session-expiry';

const answer = (statusCode: number, data: unknown) => ({ statusCode, data, header: {} });

describe('isSessionExpiredAnswer', () => {
  test('a 401 SESSION_EXPIRED is an expiry', () => {
    expect(isSessionExpiredAnswer(answer(401, { error: { code: 'SESSION_EXPIRED', message: 'log in again' } }))).toBe(true);
  });

  test('a 401 without the envelope (a proxy, a gateway) is still an expiry, as the auth service’s default reads it', () => {
    expect(isSessionExpiredAnswer(answer(401, ''))).toBe(true);
    expect(isSessionExpiredAnswer(answer(401, null))).toBe(true);
    expect(isSessionExpiredAnswer(answer(401, { error: 'unauthorised' }))).toBe(true);
  });

  test('a 401 naming another code (a refused re-authentication code) is a failure of the call, not an expiry', () => {
    expect(isSessionExpiredAnswer(answer(401, { error: { code: 'INVALID_CODE', message: 'wrong code' } }))).toBe(false);
  });

  test('other statuses never are', () => {
    expect(isSessionExpiredAnswer(answer(403, { error: { code: 'SESSION_EXPIRED', message: '' } }))).toBe(false);
    expect(isSessionExpiredAnswer(answer(200, {}))).toBe(false);
  });
});
