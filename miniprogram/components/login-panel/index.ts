/**
 * The login component: privacy consent, one-tap login, then (for a new or incomplete profile)
 * the avatar + nickname completion step. Shown inline (`mode="inline"`) or as a bottom popup that
 * a page opens with `selectComponent('#login').open()`.
 */
import Toast from '@vant/weapp/toast/toast';
import Dialog from '@vant/weapp/dialog/dialog';
import { isAuthError } from '../../auth/index';
import { appAuth } from '../../services/app-context';
import { completeProfile, normaliseNickname } from '../../services/profile';
import { errorMessage, isSilentError, serverErrorCodeOf } from '../../utils/error-message';
import type { User } from '../../../typings/api';
import type { DoneEventDetail, LoginEventDetail, PanelStep, ProfileEventDetail } from './events';

type PrivacyResolve = (result: { event: 'agree' | 'disagree'; buttonId?: string }) => void;
/** WeChat's resolver for a privacy API call waiting on consent; not render state, so kept off `data`. */
const pendingPrivacy = new WeakMap<object, PrivacyResolve>();

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
    errorMessage: '',
    /** What the avatar picker shows: the chosen temporary file, or the current avatar. */
    avatarPreview: '',
    /** A temporary file from chooseAvatar that still has to be uploaded. */
    avatarPath: '',
    nickname: '',
    user: null as User | null,
  },

  lifetimes: {
    attached() {
      this.refreshPrivacy();
      // WeChat calls this when a privacy API (chooseAvatar, the nickname input) runs before
      // consent: show the consent block and answer once the user decides.
      if (typeof wx.onNeedPrivacyAuthorization === 'function') {
        wx.onNeedPrivacyAuthorization((resolve) => {
          // miniprogram-api-typings types the listener's argument as a result object; the
          // documented argument is the resolve function.
          pendingPrivacy.set(this, resolve as unknown as PrivacyResolve);
          this.setData({ privacyNeeded: true });
        });
      }
    },
    detached() {
      this.answerPrivacy('disagree');
    },
  },

  methods: {
    /** Shows the panel at the login step, or at the completion step for the logged-in `user`. */
    open(step: PanelStep = 'login', user?: User | null) {
      this.refreshPrivacy();
      if (step === 'profile' && user) this.showCompletion(user);
      else this.setData({ step: 'login', errorMessage: '' });
      this.setData({ show: true });
    },

    close() {
      if (!this.data.show) return;
      this.answerPrivacy('disagree');
      this.setData({ show: false });
      this.triggerEvent('close');
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

    answerPrivacy(event: 'agree' | 'disagree', buttonId?: string) {
      const resolve = pendingPrivacy.get(this);
      if (!resolve) return;
      pendingPrivacy.delete(this);
      resolve(buttonId ? { event, buttonId } : { event });
    },

    onOpenPrivacyContract() {
      wx.openPrivacyContract({
        fail: () => this.toast('隐私保护指引暂时无法打开，请稍后再试'),
      });
    },

    /** The consent button of the completion step. */
    onAgreePrivacy() {
      this.setData({ privacyNeeded: false });
      this.answerPrivacy('agree', 'agree-privacy');
    },

    /** "同意并登录": WeChat records the consent, then we log in as the plain button would. */
    onAgreePrivacyAndLogin() {
      this.setData({ privacyNeeded: false });
      this.answerPrivacy('agree', 'agree-privacy-login');
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
          this.showCompletion(user);
        }
      } catch (error) {
        this.setData({ loading: false });
        if (isSilentError(error)) return;
        this.showLoginError(error);
      }
    },

    showLoginError(error: unknown) {
      const message = errorMessage(error);
      this.setData({ errorMessage: message });
      if (isAuthError(error)) {
        const detail: LoginEventDetail = { ok: false, error, message };
        this.triggerEvent('login', detail);
      }
      // A blocked account is not a passing problem: say so in a dialog the user must dismiss.
      if (serverErrorCodeOf(error) === 'USER_BLOCKED') {
        Dialog.alert({ context: this, selector: '#van-dialog', title: '无法登录', message, confirmButtonText: '知道了' }).catch(() => undefined);
      } else {
        this.toast(message);
      }
    },

    showCompletion(user: User) {
      this.setData({
        step: 'profile',
        user,
        avatarPreview: user.avatarUrl,
        avatarPath: '',
        nickname: user.nickname,
      });
    },

    onChooseAvatar(event: WechatMiniprogram.CustomEvent<{ avatarUrl: string }>) {
      const path = event.detail.avatarUrl;
      if (path) this.setData({ avatarPreview: path, avatarPath: path });
    },

    /** The nickname is read here, from the form, because WeChat may rewrite the input after its content check. */
    async onSubmitProfile(event: WechatMiniprogram.CustomEvent<{ value: Record<string, unknown> }>) {
      if (this.data.saving) return;
      const nickname = normaliseNickname(event.detail.value.nickname);
      const { avatarPath } = this.data;
      if (!nickname && !avatarPath) {
        this.toast('请选择头像或填写昵称，也可以跳过');
        return;
      }
      this.setData({ saving: true });
      try {
        const user = await completeProfile(appAuth(), { avatarPath, nickname });
        this.setData({ saving: false, user });
        const detail: ProfileEventDetail = { user };
        this.triggerEvent('profile', detail);
        this.toast('资料已保存', 'success');
        this.finish(user);
      } catch (error) {
        this.setData({ saving: false });
        if (!isSilentError(error)) this.toast(errorMessage(error));
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
