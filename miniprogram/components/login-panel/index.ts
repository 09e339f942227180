/**
 * The login component: privacy consent, one-tap login, then (for a new or incomplete profile)
 * the avatar + nickname completion step; the same step edits an existing profile. Shown inline
 * (`mode="inline"`) or as a bottom popup that a page opens with `selectComponent('#login').open()`.
 *
 * Failures are shown in one place, the line under the main button (a blocked account gets a
 * dialog instead, because it is not a passing problem); toasts only confirm success.
 */
import Toast from '@vant/weapp/toast/toast';
import Dialog from '@vant/weapp/dialog/dialog';
import { isAuthError } from '../../auth/index';
import { appAuth } from '../../services/app-context';
import { completeProfile, normaliseNickname } from '../../services/profile';
import { answerPrivacy, hideConsentHost, showConsentHost, type ConsentHost } from '../../services/privacy';
import { errorMessage, isSilentError, serverErrorCodeOf } from '../../utils/error-message';
import { PRIMARY_COLOR } from '../../utils/theme';
import { countCharacters, nicknameProblem, NICKNAME_MAX_CHARS } from '../../utils/nickname';
import type { User } from '../../../typings/api';
import type { DoneEventDetail, LoginEventDetail, PanelStep, ProfileEventDetail } from './events';

/**
 * Native ids of the consent buttons (van-button's `button-id`): WeChat's resolve must name the
 * native button that was tapped. The WXML binds both `id` and `button-id` to these, so the native
 * id is right whether or not a base library hands the host's `id` to Vant's `id` property.
 */
const PRIVACY_BUTTON_IDS = { login: 'privacy-agree-login', profile: 'privacy-agree-profile' } as const;

/** The words of the profile step: first-time completion, or editing a profile that exists. */
const PROFILE_COPY = {
  complete: { title: '完善资料', desc: '设置头像和昵称，让大家认识你', dismiss: '跳过' },
  edit: { title: '编辑资料', desc: '修改头像或昵称，保存后生效', dismiss: '取消' },
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
    privacyContractName: '《用户隐私保护指引》',
    privacyButtonIds: PRIVACY_BUTTON_IDS,
    /** The one failure line of the current step. */
    errorMessage: '',
    copy: PROFILE_COPY.complete,
    /** What the avatar picker shows: the chosen temporary file, or the current avatar. */
    avatarPreview: '',
    /** A temporary file from chooseAvatar that still has to be uploaded. */
    avatarPath: '',
    nickname: '',
    nicknameLength: 0,
    nicknameMax: NICKNAME_MAX_CHARS,
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
    /** Shows the panel at the login step, or at the profile step to edit the logged-in `user`'s profile. */
    open(step: PanelStep = 'login', user?: User | null) {
      this.refreshPrivacy();
      if (step === 'profile' && user) this.showProfileStep(user, user.profileComplete ? 'edit' : 'complete');
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
            privacyContractName: res.privacyContractName || this.data.privacyContractName,
          });
        },
      });
    },

    onOpenPrivacyContract() {
      wx.openPrivacyContract({
        fail: () => this.setData({ errorMessage: '隐私保护指引暂时无法打开，请稍后再试' }),
      });
    },

    /** The consent button of the profile step. */
    onAgreePrivacy() {
      this.setData({ privacyNeeded: false });
      answerPrivacy(this.consentHost(), { event: 'agree', buttonId: PRIVACY_BUTTON_IDS.profile });
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
        if (user.profileComplete) {
          this.toast('登录成功', 'success');
          this.finish(user);
        } else {
          this.showProfileStep(user, 'complete');
        }
      } catch (error) {
        this.setData({ loading: false });
        if (isSilentError(error)) return;
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
        // Vant's typings leave out confirmButtonColor, which its dialog takes; hence no inline literal.
        const blocked = { context: this, selector: '#van-dialog', title: '无法登录', message, confirmButtonText: '知道了', confirmButtonColor: PRIMARY_COLOR };
        Dialog.alert(blocked).catch(() => undefined);
      } else {
        this.setData({ errorMessage: message });
      }
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

    /** Keeps the character count beside the field current while the user types. */
    onNicknameInput(event: WechatMiniprogram.CustomEvent<{ value: string }>) {
      const length = countCharacters(normaliseNickname(event.detail.value));
      this.setData({ nicknameLength: length, errorMessage: length > NICKNAME_MAX_CHARS ? nicknameProblem(event.detail.value) : '' });
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
        this.toast('资料已保存', 'success');
        this.finish(user);
      } catch (error) {
        this.setData({ saving: false });
        if (!isSilentError(error)) this.setData({ errorMessage: errorMessage(error) });
      }
    },

    onSkipProfile() {
      this.finish(this.data.user);
    },

    finish(user: User | null) {
      this.setData({ show: false, step: 'login', avatarPath: '', errorMessage: '' });
      const detail: DoneEventDetail = { user };
      this.triggerEvent('done', detail);
    },

    toast(message: string, type: 'text' | 'success' = 'text') {
      Toast({ type, message, context: this, selector: '#van-toast' });
    },
  },
});
