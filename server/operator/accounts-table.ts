/** `npm run accounts -- list`: the accounts as a table for a terminal, or as JSON for scripts. Never a password hash. */
import type { AccountSummary } from '../stores/types';

/** Wide characters (CJK, Hangul, fullwidth forms, most emoji) take two terminal columns. */
const WIDE = /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]|[\u{1f300}-\u{1f64f}\u{1f900}-\u{1f9ff}\u{20000}-\u{3fffd}]/u;

function columns(text: string): number {
  let width = 0;
  for (const char of text) width += WIDE.test(char) ? 2 : 1;
  return width;
}

/**
 * A cell as the terminal may show it: the command refuses control characters in what it writes,
 * but a row written by other means could carry an escape sequence that would rewrite the screen.
 */
// eslint-disable-next-line no-control-regex
const printable = (text: string) => text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '\ufffd');

const pad = (text: string, width: number) => text + ' '.repeat(Math.max(0, width - columns(text)));

/** What the roles column says: the roles, or the default role when the account has none recorded. */
function rolesText(account: AccountSummary, defaultRole: string): string {
  return account.roles.length > 0 ? account.roles.join(',') : `${defaultRole} (default)`;
}

/** One line per account under a header, columns aligned; a line saying so when there are none. */
export function accountsTable(accounts: readonly AccountSummary[], defaultRole: string): string {
  if (accounts.length === 0) return 'no accounts yet: add one with `npm run accounts -- add <account> --name <display name>`\n';
  const rows = [
    ['ACCOUNT', 'NAME', 'ROLES', 'STATE', 'WECHAT'],
    ...accounts.map((account) => [printable(account.name), printable(account.displayName), printable(rolesText(account, defaultRole)), account.disabled ? 'disabled' : 'enabled', account.bound ? 'bound' : 'not bound']),
  ];
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => columns(row[column]))));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : pad(cell, widths[column]))).join('  ')).join('\n') + '\n';
}

/** The same, as a JSON array: name, displayName, roles (as recorded), disabled, bound, createdAt, updatedAt. */
export function accountsJson(accounts: readonly AccountSummary[]): string {
  return (
    JSON.stringify(
      accounts.map(({ name, displayName, roles, disabled, bound, createdAt, updatedAt }) => ({ name, displayName, roles, disabled, bound, createdAt, updatedAt })),
      null,
      2,
    ) + '\n'
  );
}
