import Dialog from '@vant/weapp/dialog/dialog';
import { PRIMARY_COLOR } from './theme';

type DialogHost = WechatMiniprogram.Page.TrivialInstance | WechatMiniprogram.Component.TrivialInstance;

/**
 * A notice in the host's `<van-dialog id="van-dialog">`, with one 知道了 button in the theme's
 * colour. Settles when it is closed; there is nothing to do then.
 */
export function showNotice(host: DialogHost, title: string, message: string): Promise<void> {
  // Vant's typings leave out confirmButtonColor, which its dialog takes; hence no inline literal.
  const options = { context: host, selector: '#van-dialog', title, message, confirmButtonText: '知道了', confirmButtonColor: PRIMARY_COLOR };
  return Dialog.alert(options).then(
    () => undefined,
    () => undefined,
  );
}
