/**
 * 绑定已有账号: the server knows no account for this WeChat user (its bind mode), so the user binds
 * the platform account they already have, once. Opened at entry (app.ts) or by a login that asked
 * for a bind; 暂不绑定 goes back to the home page, which anyone may browse.
 */
import Toast from '@vant/weapp/toast/toast';
import { appAuth } from '../../services/app-context';
import { bindAccount, bindErrorMessage } from '../../services/binding';
import { isSilentError } from '../../utils/error-message';

const HOME = '/pages/index/index';

Component({
  data: {
    account: '',
    password: '',
    binding: false,
    errorMessage: '',
  },

  methods: {
    onAccountInput(event: { detail: string }) {
      this.setData({ account: event.detail, errorMessage: '' });
    },

    onPasswordInput(event: { detail: string }) {
      this.setData({ password: event.detail, errorMessage: '' });
    },

    async onBind() {
      if (this.data.binding) return;
      const account = this.data.account.trim();
      const { password } = this.data;
      if (!account || !password) {
        this.setData({ errorMessage: account ? '请输入密码' : '请输入账号' });
        return;
      }
      this.setData({ binding: true, errorMessage: '' });
      try {
        await bindAccount(appAuth(), account, password);
        // The password leaves the page's data as soon as it has done its job.
        this.setData({ binding: false, password: '' });
        Toast({ type: 'success', message: '绑定成功', context: this, selector: '#van-toast' });
        wx.switchTab({ url: HOME });
      } catch (error) {
        this.setData({ binding: false });
        if (!isSilentError(error)) this.setData({ errorMessage: bindErrorMessage(error) });
      }
    },

    /** The way out: the home page works without an account. */
    onSkip() {
      wx.switchTab({ url: HOME });
    },
  },
});
