/**
 * The load and refresh cycle of a page that lists what the server answers (我的订单, 审批):
 * "加载中…", the list, or the failure with its picture and 重新加载; pull-down refresh that keeps
 * the list on screen; an older answer arriving late never overwrites a newer one; a cancellation
 * says nothing; and a user the server unbound since the login is taken to the bind page.
 *
 * A page adds the behaviour with how it fetches, and may show some failures its own way first
 * (`handleFailure`: the page sets its state and answers true).
 */
import type { AuthClient } from '../auth/index';
import { appAuth } from '../services/app-context';
import { replaceWithBindPage } from '../services/binding';
import { errorMessage, isConnectionError, isSilentError } from '../utils/error-message';
import type { User } from '../../typings/api';

/** `loading`, `ready` and `error` are the behaviour's; a page may add its own (set by handleFailure). */
export type ListStatus = 'loading' | 'ready' | 'error' | (string & {});

export interface ListLoadOptions<T> {
  fetch(auth: AuthClient<User>): Promise<T[]>;
  handleFailure?(page: WechatMiniprogram.Component.TrivialInstance, error: unknown): boolean;
}

const HOME = '/pages/index/index';

/** The latest load per page instance. */
const latestLoad = new WeakMap<object, number>();

export function listLoad<T>(options: ListLoadOptions<T>) {
  return Behavior({
    data: {
      status: 'loading' as ListStatus,
      items: [] as T[],
      errorMessage: '',
      /** Vant's empty-state picture for the failure: no connection, or the server failed. */
      errorImage: 'error' as 'error' | 'network',
    },

    methods: {
      onLoad() {
        return this.load();
      },

      onPullDownRefresh() {
        return this.load(true).then(() => wx.stopPullDownRefresh());
      },

      onRetry() {
        return this.load();
      },

      /** The way out of an empty list or a refusal: back to where the app starts. */
      onGoHome() {
        wx.switchTab({ url: HOME });
      },

      /** A refresh keeps the current list on screen (the pull-down indicator shows progress). */
      async load(refreshing = false): Promise<void> {
        const ticket = (latestLoad.get(this) || 0) + 1;
        latestLoad.set(this, ticket);
        if (!refreshing || this.data.status !== 'ready') this.setData({ status: 'loading', errorMessage: '' });
        try {
          const items = await options.fetch(appAuth());
          if (latestLoad.get(this) === ticket) this.setData({ status: 'ready', items });
        } catch (error) {
          if (latestLoad.get(this) !== ticket || isSilentError(error) || replaceWithBindPage(error)) return;
          if (options.handleFailure && options.handleFailure(this as unknown as WechatMiniprogram.Component.TrivialInstance, error)) return;
          this.setData({ status: 'error', errorMessage: errorMessage(error), errorImage: isConnectionError(error) ? 'network' : 'error' });
        }
      },
    },
  });
}
