/**
 * A stateful fake of WeChat's side of `<button open-type="getPhoneNumber">` (手机号快速验证), for
 * taps that go through the real button. As on a phone: a tap asks WeChat only while the native
 * button has that open-type at the moment of the tap; WeChat checks the mini-program's permission
 * and quota then (查询节点: a refusal costs nothing), shows its sheet, which covers the page until
 * the user answers, and charges one verification for each code it hands over (扣费节点). The
 * answer reaches the page as the button's `getphonenumber` event, on a later turn.
 */
import { attr, select, type Found, type Rendered } from './render';
import { PHONE_QUOTA_ERRNO } from '../../../miniprogram/services/phone';

export interface PhoneSheet {
  /** The mini-program's account may ask for numbers (verified, not personal). */
  permitted: boolean;
  /** Verifications left in the mini-program's quota. */
  quota: number;
  /** How the user answers WeChat's sheet. */
  answer: 'choose' | 'decline';
  /** Taps on the button, whatever they did. */
  readonly taps: number;
  /** Taps that asked WeChat (reached its permission and quota check). */
  readonly asked: number;
  /** Codes handed over: verifications the mini-program paid for. */
  readonly charged: number;
  /** Whether WeChat's sheet covers the page. */
  readonly open: boolean;
  /** A finger on the button found by `selectors` (a van-button: its native button is tapped). */
  tap(comp: Rendered | Found, ...selectors: string[]): void;
}

/** WeChat's phone sheet for one test: permitted, with quota, the user picks their number. */
export function createPhoneSheet(): PhoneSheet {
  let taps = 0;
  let asked = 0;
  let charged = 0;
  let open = false;

  /** What the sheet hands the page once the user has answered. */
  function answerOf(state: PhoneSheet): object {
    if (!state.permitted) return { errMsg: 'getPhoneNumber:fail no permission' };
    // WeChat documents only the errno of a used-up quota; its errMsg here is a stand-in.
    if (state.quota <= 0) return { errMsg: 'getPhoneNumber:fail', errno: PHONE_QUOTA_ERRNO };
    if (state.answer === 'decline') return { errMsg: 'getPhoneNumber:fail user deny' };
    state.quota--;
    charged++;
    return { errMsg: 'getPhoneNumber:ok', code: `phone-code-${charged}` };
  }

  const sheet: PhoneSheet = {
    permitted: true,
    quota: 1000,
    answer: 'choose',
    get taps() {
      return taps;
    },
    get asked() {
      return asked;
    },
    get charged() {
      return charged;
    },
    get open() {
      return open;
    },
    tap(comp, ...selectors) {
      taps++;
      // The sheet is modal: a tap while it is up lands on the sheet, not on the page.
      if (open) return;
      const button = select(comp, ...selectors, '.van-button');
      button.dispatchEvent('tap');
      if (attr(button, 'openType') !== 'getPhoneNumber') return;
      asked++;
      open = true;
      setTimeout(() => {
        open = false;
        button.dispatchEvent('getphonenumber', { detail: answerOf(sheet) });
      }, 0);
    },
  };
  return sheet;
}
