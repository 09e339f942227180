/**
 * The login component: privacy consent, one-tap login, then the phone step (手机号快捷登录) when
 * the server requires a phone the user has not bound, then (for a new or incomplete profile) the
 * avatar + nickname completion step; the same steps bind or change the phone and edit an existing
 * profile. Shown inline (`mode="inline"`) or as a bottom popup that a page opens with
 * `selectComponent('#login').open()`.
 *
 * Failures are shown in one place, the line under the main button (a blocked account gets a
 * dialog instead, because it is not a passing problem); toasts only confirm success.
 */
import Toast from '@vant/weapp/toast/toast';
import { isAuthError } from '../../auth/index';
import { appAuth } from '../../services/app-context';
import { BIND_PAGE, keepTicket } from '../../services/binding';
import { bindPhone, phoneFallback, readPhoneButton, type PhoneUnavailableReason } from '../../services/phone';
import { completeProfile, normaliseNickname } from '../../services/profile';
import { answerPrivacy, hideConsentHost, showConsentHost, type ConsentHost } from '../../services/privacy';
import { errorMessage, isSilentError, serverErrorCodeOf } from '../../utils/error-message';
import { showNotice } from '../../utils/notice';
import { checkNickname, countCharacters, nicknameMessage, nicknameProblem, NICKNAME_MAX_CHARS, NICKNAME_MAX_INPUT } from '../../utils/nickname';
import type { User } from '../../../typings/api';
import type { DoneEventDetail, LoginEventDetail, PanelStep, PhoneEventDetail, ProfileEventDetail } from './events';

/**
 * Native ids of the consent buttons (van-button's `button-id`): WeChat's resolve must name the
 * native button that was tapped. The WXML binds both `id` and `button-id` to these, so the native
 * id is right whether or not a base library hands the host's `id` to Vant's `id` property.
 */
const PRIVACY_BUTTON_IDS = { login: 'privacy-agree-login', phone: 'privacy-agree-phone', profile: 'privacy-agree-profile' } as const;

/**
 * What the panel calls the privacy guideline until wx.getPrivacySetting answers with the name
 * declared in the admin console (or if it names none): generic, never a made-up name that the
 * real one then replaces on screen.
 */
const GENERIC_CONTRACT_NAME = '《隐私保护指引》';

/** The words of the profile step: first-time completion, or editing a profile that exists. */
const PROFILE_COPY = {
  complete: { title: '完善资料', desc: '设置头像和昵称，让大家认识你', dismiss: '跳过' },
  edit: { title: '编辑资料', desc: '修改头像或昵称，保存后生效', dismiss: '取消' },
};

/**
 * The words of the phone step, by why it is shown. WeChat's button hands over a number the user
 * picks in its own sheet. 手机号快捷登录 is said only where the number completes a login this panel
 * just started; a user who is already logged in is binding (or changing) a number. `declined` is
 * the calm note when the user closes WeChat's sheet without choosing.
 */
const PHONE_COPY = {
  /** Right after a login here, on a server that requires a phone (REQUIRE_PHONE=true). */
  login: { title: '完成登录', desc: '根据平台要求，登录需验证手机号', button: '手机号快捷登录', dismiss: '暂不绑定', declined: '未获取手机号，可以稍后在「我的」中绑定' },
  /** A logged-in user the server turned away (403 PHONE_REQUIRED) until a phone is bound. */
  required: { title: '绑定手机号', desc: '根据平台要求，绑定手机号后才能继续使用', button: '使用微信手机号', dismiss: '暂不绑定', declined: '未获取手机号，可以稍后在「我的」中绑定' },
  /** Chosen by the user (我的 → 手机号), nothing requires it. */
  bind: { title: '绑定手机号', desc: '使用微信中已验证的手机号，无需输入验证码', button: '使用微信手机号', dismiss: '取消', declined: '未获取手机号，可以稍后再绑定' },
  /** A number is bound; `desc` names it. */
  change: { title: '更换手机号', desc: '', button: '使用微信手机号', dismiss: '取消', declined: '未获取手机号，仍使用当前号码' },
};
type PhonePurpose = keyof typeof PHONE_COPY;

/**
 * What the phone step says when WeChat will not give this mini-program a number (its quota is used
 * up, or it has no permission): why, in words that do not blame the user, never in red; then the
 * way on, which depends on whether the server requires the phone (PHONE_WAY_ON).
 */
const PHONE_UNAVAILABLE: Record<PhoneUnavailableReason, string> = {
  quota: '本小程序的手机号验证次数已用完，暂时无法获取手机号',
  'no-permission': '本小程序暂未开通微信手机号验证，无法获取手机号',
};
/**
 * The way on after PHONE_UNAVAILABLE, by purpose. Where the phone is required and the app offers
 * nothing else (no phoneFallback), the user is told what that means and moves on without it.
 */
const PHONE_WAY_ON: Record<'required' | 'bind' | 'change', Record<PhoneUnavailableReason, string>> = {
  required: { quota: '需要手机号的功能暂时无法使用，请稍后在「我的」中绑定', 'no-permission': '需要手机号的功能暂时无法使用，如需帮助请联系客服' },
  bind: { quota: '请稍后再绑定', 'no-permission': '' },
  change: { quota: '仍使用当前号码，请稍后再更换', 'no-permission': '仍使用当前号码' },
};
/** Why WeChat refused, for the developer in DevTools' console: the user never needs to read this. */
const PHONE_UNAVAILABLE_CAUSE: Record<PhoneUnavailableReason, string> = {
  quota: 'errno 1400001: the quota of phone verifications is used up (buy more under 微信公众平台 → 付费管理)',
  'no-permission': 'no permission: WeChat gives phone numbers only to verified (微信认证), non-personal mini-programs',
};

/** The page this panel is on is showing (set by pageLifetimes); kept off `data`, which renders. */
const pageHidden = new WeakSet<object>();

Component({
  properties: {
    /** "popup": hidden until open(); "inline": always shown where it is placed. */
    mode: { type: String, value: 'popup' },
  },

  data: {
    show: false,
    step: 'login' as PanelStep,
    loading: false,
    saving: false,
    privacyNeeded: false,
    privacyContractName: GENERIC_CONTRACT_NAME,
    privacyButtonIds: PRIVACY_BUTTON_IDS,
    /** The one failure line of the current step. */
    errorMessage: '',
    copy: PROFILE_COPY.complete,
    phoneCopy: PHONE_COPY.login,
    /** A calm line under the phone button (declined, not available): not an error. */
    phoneNote: '',
    /**
     * WeChat will not give a number now (quota, no permission): the phone button is gone, since a
     * tap cannot help; the ways on remain.
     */
    phoneUnavailable: false,
    /** The words of the app's other way on (phoneFallback), offered with phoneUnavailable when the phone is required. */
    phoneFallbackButton: '',
    binding: false,
    /** After the phone step: the profile step when this login's profile is incomplete, else done. */
    profileAfterPhone: false,
    /** What the avatar picker shows: the chosen temporary file, or the current avatar. */
    avatarPreview: '',
    /** A temporary file from chooseAvatar that still has to be uploaded. */
    avatarPath: '',
    nickname: '',
    nicknameLength: 0,
    nicknameMax: NICKNAME_MAX_CHARS,
    nicknameMaxInput: NICKNAME_MAX_INPUT,
    user: null as User | null,
  },

  observers: {
    'mode, show'() {
      this.syncConsentHost();
    },
  },

  lifetimes: {
    attached() {
      this.refreshPrivacy();
      this.syncConsentHost();
    },
    detached() {
      hideConsentHost(this.consentHost());
    },
  },

  pageLifetimes: {
    show() {
      pageHidden.delete(this);
      this.syncConsentHost();
    },
    hide() {
      pageHidden.add(this);
      this.syncConsentHost();
    },
  },

  methods: {
    /**
     * Shows the panel at the login step; at the phone step to bind or change the logged-in
     * `user`'s phone; or at the profile step to edit their profile.
     */
    open(step: PanelStep = 'login', user?: User | null) {
      this.refreshPrivacy();
      if (step === 'profile' && user) this.showProfileStep(user, user.profileComplete ? 'edit' : 'complete');
      else if (step === 'phone' && user) this.showPhoneStep(user, 'bind');
      else this.setData({ step: 'login', errorMessage: '' });
      this.setData({ show: true });
    },

    close() {
      if (!this.data.show) return;
      this.setData({ show: false });
      this.triggerEvent('close');
    },

    /** This panel as the privacy router knows it (one object per instance). */
    consentHost(): ConsentHost {
      return this as unknown as ConsentHost;
    },

    /** WeChat's privacy router: a privacy API waits for this panel's consent button. */
    onPrivacyRequest() {
      this.setData({ privacyNeeded: true });
    },

    /** Tells the privacy router whether the user can see this panel now. */
    syncConsentHost() {
      const onScreen = !pageHidden.has(this) && (this.data.mode === 'inline' || this.data.show);
      if (onScreen) showConsentHost(this.consentHost());
      else hideConsentHost(this.consentHost());
    },

    refreshPrivacy() {
      if (typeof wx.getPrivacySetting !== 'function') return; // base library < 2.32.3: no consent API
      wx.getPrivacySetting({
        success: (res) => {
          this.setData({
            privacyNeeded: res.needAuthorization,
            privacyContractName: res.privacyContractName || GENERIC_CONTRACT_NAME,
          });
        },
      });
    },

    onOpenPrivacyContract() {
      wx.openPrivacyContract({
        fail: () => this.setData({ errorMessage: '隐私保护指引暂时无法打开，请稍后再试' }),
      });
    },

    /** The consent button of the phone or profile step. */
    onAgreePrivacy() {
      this.setData({ privacyNeeded: false });
      answerPrivacy(this.consentHost(), { event: 'agree', buttonId: PRIVACY_BUTTON_IDS[this.data.step === 'phone' ? 'phone' : 'profile'] });
    },

    /** "同意并登录": WeChat records the consent, then we log in as the plain button would. */
    onAgreePrivacyAndLogin() {
      this.setData({ privacyNeeded: false });
      answerPrivacy(this.consentHost(), { event: 'agree', buttonId: PRIVACY_BUTTON_IDS.login });
      return this.onLogin();
    },

    async onLogin() {
      if (this.data.loading) return;
      this.setData({ loading: true, errorMessage: '' });
      try {
        const { user } = await appAuth().login();
        this.setData({ loading: false });
        const detail: LoginEventDetail = { ok: true, user };
        this.triggerEvent('login', detail);
        if (user.phoneRequired) this.showPhoneStep(user, 'login');
        else this.afterAccountReady(user, '登录成功');
      } catch (error) {
        this.setData({ loading: false });
        if (isSilentError(error)) return;
        // The server knows no account for this WeChat user (its bind mode): the bind page takes
        // over. A popup closes; an inline panel stays, for when the user comes back without binding.
        if (keepTicket(error)) {
          this.close();
          wx.navigateTo({ url: BIND_PAGE });
          return;
        }
        this.showLoginError(error);
      }
    },

    showLoginError(error: unknown) {
      const message = errorMessage(error);
      if (isAuthError(error)) {
        const detail: LoginEventDetail = { ok: false, error, message };
        this.triggerEvent('login', detail);
      }
      if (serverErrorCodeOf(error) === 'USER_BLOCKED') {
        void showNotice(this, '无法登录', message);
      } else {
        this.setData({ errorMessage: message });
      }
    },

    /** Logged in with what the server requires: the profile step when incomplete, else done with a toast. */
    afterAccountReady(user: User, message: string) {
      if (user.profileComplete) this.finishWith(user, message);
      else this.showProfileStep(user, 'complete');
    },

    /**
     * The phone step for `user`: completing a login this panel just made (which then goes on to
     * profile completion when the profile is incomplete), or binding for a logged-in user.
     */
    showPhoneStep(user: User, context: 'login' | 'bind') {
      const afterLogin = context === 'login';
      const purpose: PhonePurpose = user.phone ? 'change' : afterLogin ? 'login' : user.phoneRequired ? 'required' : 'bind';
      const copy = purpose === 'change' ? { ...PHONE_COPY.change, desc: `当前绑定 ${user.phone}，可换成微信中的其他号码` } : PHONE_COPY[purpose];
      this.setData({ step: 'phone', phoneCopy: copy, user, errorMessage: '', phoneNote: '', phoneUnavailable: false, phoneFallbackButton: '', profileAfterPhone: afterLogin && !user.profileComplete });
    },

    /**
     * WeChat refused the phone button for a reason another tap will not change: say why and what
     * now, drop the button, and leave the ways on (the app's fallback when the phone is required
     * and one is registered; 暂不绑定 or 知道了 always).
     */
    showPhoneUnavailable(reason: PhoneUnavailableReason) {
      console.warn(`[phone] getPhoneNumber refused, ${PHONE_UNAVAILABLE_CAUSE[reason]}`);
      const user = this.data.user;
      const need = user && user.phone ? 'change' : user && user.phoneRequired ? 'required' : 'bind';
      const fallback = need === 'required' ? phoneFallback() : null;
      const wayOn = fallback ? fallback.hint : PHONE_WAY_ON[need][reason];
      this.setData({
        errorMessage: '',
        phoneNote: wayOn ? `${PHONE_UNAVAILABLE[reason]}。${wayOn}` : PHONE_UNAVAILABLE[reason],
        phoneUnavailable: true,
        phoneFallbackButton: fallback ? fallback.button : '',
        // Nothing is left to cancel when the phone is optional: the dismissal only acknowledges.
        phoneCopy: need === 'required' ? this.data.phoneCopy : { ...this.data.phoneCopy, dismiss: '知道了' },
      });
    },

    /** The app's other way on (phoneFallback): the login stands, the panel closes and the fallback's page opens. */
    onPhoneFallback() {
      const fallback = phoneFallback();
      if (!fallback) return;
      this.finish(this.data.user);
      wx.navigateTo({ url: fallback.url });
    },

    /**
     * What `<button open-type="getPhoneNumber">` answered, after the user chose (or declined) in
     * WeChat's sheet. Every code WeChat hands over is paid for; one is exchanged at a time: while
     * it is, the button has no open-type (Vant drops it while loading), so a second tap asks WeChat
     * nothing, and an answer that arrives all the same is dropped here, before any request.
     */
    async onGetPhoneNumber(event: WechatMiniprogram.CustomEvent<{ errMsg?: string; code?: string; errno?: number }>) {
      if (this.data.binding) return;
      const outcome = readPhoneButton(event.detail);
      if (outcome.kind === 'unavailable') {
        this.showPhoneUnavailable(outcome.reason);
        return;
      }
      if (outcome.kind === 'denied') {
        this.setData({ errorMessage: '', phoneNote: this.data.phoneCopy.declined });
        return;
      }
      if (outcome.kind === 'failed') {
        this.setData({ phoneNote: '', errorMessage: '获取手机号失败，请重试' });
        return;
      }
      this.setData({ binding: true, errorMessage: '', phoneNote: '' });
      try {
        const user = await bindPhone(appAuth(), outcome.code);
        this.setData({ binding: false, user });
        const detail: PhoneEventDetail = { user };
        this.triggerEvent('phone', detail);
        if (this.data.profileAfterPhone) this.afterAccountReady(user, '手机号已绑定');
        else this.finishWith(user, '手机号已绑定');
      } catch (error) {
        this.setData({ binding: false });
        this.showStepError(error);
      }
    },

    /** "暂不绑定" / "取消": the way back; the login itself stands. */
    onSkipPhone() {
      const { user, profileAfterPhone } = this.data;
      if (user && profileAfterPhone) this.showProfileStep(user, 'complete');
      else this.finish(user);
    },

    showProfileStep(user: User, purpose: keyof typeof PROFILE_COPY) {
      this.setData({
        step: 'profile',
        copy: PROFILE_COPY[purpose],
        user,
        errorMessage: '',
        avatarPreview: user.avatarUrl,
        avatarPath: '',
        nickname: user.nickname,
        nicknameLength: countCharacters(user.nickname),
      });
    },

    onChooseAvatar(event: WechatMiniprogram.CustomEvent<{ avatarUrl: string }>) {
      const path = event.detail.avatarUrl;
      if (path) this.setData({ avatarPreview: path, avatarPath: path, errorMessage: '' });
    },

    /**
     * Keeps the character count beside the field current while the user types, and says at once
     * what the server would refuse. The field's maxlength (NICKNAME_MAX_INPUT) and the rule's own
     * cut keep a huge paste as cheap as a long nickname.
     */
    onNicknameInput(event: WechatMiniprogram.CustomEvent<{ value: string }>) {
      const check = checkNickname(normaliseNickname(event.detail.value));
      this.setData({ nicknameLength: check.length, errorMessage: nicknameMessage(check) });
    },

    /** The nickname is read here, from the form, because WeChat may rewrite the input after its content check. */
    async onSubmitProfile(event: WechatMiniprogram.CustomEvent<{ value: Record<string, unknown> }>) {
      if (this.data.saving) return;
      const nickname = normaliseNickname(event.detail.value.nickname);
      const { avatarPath } = this.data;
      const problem = nicknameProblem(nickname);
      if (problem) {
        this.setData({ errorMessage: problem });
        return;
      }
      if (!nickname && !avatarPath) {
        this.setData({ errorMessage: '请选择头像或填写昵称' });
        return;
      }
      this.setData({ saving: true, errorMessage: '' });
      try {
        const user = await completeProfile(appAuth(), { avatarPath, nickname });
        this.setData({ saving: false, user });
        const detail: ProfileEventDetail = { user };
        this.triggerEvent('profile', detail);
        this.finishWith(user, '资料已保存');
      } catch (error) {
        this.setData({ saving: false });
        this.showStepError(error);
      }
    },

    onSkipProfile() {
      this.finish(this.data.user);
    },

    /** A step's failure, on the line under its button; a cancellation (a logout meanwhile) says nothing. */
    showStepError(error: unknown) {
      if (!isSilentError(error)) this.setData({ errorMessage: errorMessage(error) });
    },

    /** Done, with a short confirmation of what just succeeded. */
    finishWith(user: User, message: string) {
      this.toast(message, 'success');
      this.finish(user);
    },

    finish(user: User | null) {
      this.setData({ show: false, step: 'login', avatarPath: '', errorMessage: '', phoneNote: '', phoneUnavailable: false, phoneFallbackButton: '', profileAfterPhone: false });
      const detail: DoneEventDetail = { user };
      this.triggerEvent('done', detail);
    },

    toast(message: string, type: 'text' | 'success' = 'text') {
      Toast({ type, message, context: this, selector: '#van-toast' });
    },
  },
});
