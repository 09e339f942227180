/**
 * What the getPhoneNumber button's `event.detail` means: read from whatever WeChat (or anything
 * else) put there, never trusted to have the documented shape.
 */
import { readPhoneButton } from '../../../miniprogram/services/phone';

describe('readPhoneButton', () => {
  test('a code handed over with :ok is a code', () => {
    expect(readPhoneButton({ errMsg: 'getPhoneNumber:ok', code: 'c1' })).toEqual({ kind: 'code', code: 'c1' });
  });

  test('errno 1400001 is the used-up quota, as WeChat sends it (a number) or as a string, whatever errMsg says', () => {
    expect(readPhoneButton({ errMsg: 'getPhoneNumber:fail', errno: 1400001 })).toEqual({ kind: 'unavailable', reason: 'quota' });
    expect(readPhoneButton({ errMsg: 'getPhoneNumber:fail user deny', errno: '1400001' })).toEqual({ kind: 'unavailable', reason: 'quota' });
    expect(readPhoneButton({ errno: 1400001 })).toEqual({ kind: 'unavailable', reason: 'quota' });
  });

  test('“no permission” (an unverified or personal account) is the missing capability, not the user declining', () => {
    expect(readPhoneButton({ errMsg: 'getPhoneNumber:fail no permission' })).toEqual({ kind: 'unavailable', reason: 'no-permission' });
  });

  test('the user closing WeChat’s sheet is their choice, in each wording seen', () => {
    for (const errMsg of ['getPhoneNumber:fail user deny', 'getPhoneNumber:fail:cancel', 'getPhoneNumber:fail cancel']) {
      expect(readPhoneButton({ errMsg })).toEqual({ kind: 'denied' });
    }
  });

  test('anything else is a failure to retry: no detail, an ok without a code, a code that is not a string, another errno', () => {
    expect(readPhoneButton(undefined)).toEqual({ kind: 'failed' });
    expect(readPhoneButton(null)).toEqual({ kind: 'failed' });
    expect(readPhoneButton({ errMsg: 'getPhoneNumber:ok' })).toEqual({ kind: 'failed' });
    expect(readPhoneButton({ errMsg: 'getPhoneNumber:ok', code: 42 })).toEqual({ kind: 'failed' });
    expect(readPhoneButton({ errMsg: 'getPhoneNumber:fail system error', errno: 1400002 })).toEqual({ kind: 'failed' });
    expect(readPhoneButton({ errMsg: 'getPhoneNumber:fail', errno: { valueOf: () => 1400001 } })).toEqual({ kind: 'failed' });
  });
});
