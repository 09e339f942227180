/**
 * WeChat's privacy consent, answered by whichever consent UI the user can see.
 *
 * When a privacy API (chooseAvatar, the nickname input, ...) runs before the user agreed, WeChat
 * calls the one listener registered with `wx.onNeedPrivacyAuthorization` and holds the API until
 * that listener's `resolve` is called. The listener is registered here, once, at module scope, as
 * WeChat's own multi-page example does: a listener per component would be replaced by the last
 * one registered, which may belong to a page the user left. Consent UIs (the login panel) say when
 * they are on screen; a request goes to the one shown last and still visible, and a UI that leaves
 * the screen answers "disagree", so no privacy API waits forever.
 *
 * WeChat checks `buttonId`: it must be the id of the native `<button open-type="agreePrivacyAuthorization">`
 * the user tapped (on a van-button, its `button-id`, not its `id`).
 */

export type PrivacyAnswer = { event: 'agree'; buttonId: string } | { event: 'disagree' };
type Resolve = (answer: PrivacyAnswer) => void;

/** Something that can show the consent UI, such as a login panel. */
export interface ConsentHost {
  /** A privacy API is waiting: show the consent button, then call answerPrivacy(). */
  onPrivacyRequest(): void;
}

/** Hosts on screen, the most recently shown last. */
const visible: ConsentHost[] = [];
/** Requests waiting for each host's answer (WeChat may ask again before the user decides). */
const waiting = new Map<ConsentHost, Resolve[]>();

function route(resolve: Resolve): void {
  const host = visible[visible.length - 1];
  if (!host) {
    // Nobody can ask the user: let the API fail now rather than hang.
    resolve({ event: 'disagree' });
    return;
  }
  waiting.set(host, [...(waiting.get(host) || []), resolve]);
  host.onPrivacyRequest();
}

/** Settles every request waiting on `host`. Returns how many there were. */
export function answerPrivacy(host: ConsentHost, answer: PrivacyAnswer): number {
  const resolves = waiting.get(host) || [];
  waiting.delete(host);
  resolves.forEach((resolve) => resolve(answer));
  return resolves.length;
}

/** The host is on screen (or stays there): it gets the next request. */
export function showConsentHost(host: ConsentHost): void {
  hideFromList(host);
  visible.push(host);
}

/** The host left the screen (closed, page hidden, detached): what waited on it is refused. */
export function hideConsentHost(host: ConsentHost): void {
  hideFromList(host);
  answerPrivacy(host, { event: 'disagree' });
}

function hideFromList(host: ConsentHost): void {
  const index = visible.indexOf(host);
  if (index >= 0) visible.splice(index, 1);
}

// Base libraries before 2.32.3 have no consent API: nothing to register, nothing will ask.
if (typeof wx !== 'undefined' && typeof wx.onNeedPrivacyAuthorization === 'function') {
  // miniprogram-api-typings types the listener's argument as a result object; WeChat's documented
  // argument is the resolve function.
  wx.onNeedPrivacyAuthorization(route as unknown as WechatMiniprogram.OnNeedPrivacyAuthorizationCallback);
}
