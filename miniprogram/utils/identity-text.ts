/** How the user's identities read on 我的 and 账号与安全. */
import type { User } from '../../typings/api';

/** The 手机号 cell's value: the masked number as the server gives it, or that none is bound (nothing while logged out). */
export function phoneText(user: User | null): string {
  if (!user) return '';
  return user.phone || '未绑定';
}

/** The bound platform account as a cell shows it: "张三（A1001）", or the name alone. */
export function accountText(user: User | null): string {
  const account = user && user.account;
  if (!account) return '';
  return account.displayName ? `${account.displayName}（${account.name}）` : account.name;
}
