/**
 * Who may do what: each role's permissions and menu entries, in this one file.
 *
 * TypeScript rather than JSON, because the names here are used in code: a route asks for a
 * permission (`authorize(…, 'approvals:read')`), a role names its menu entries, and the default
 * role must exist. Typed with `satisfies`, a typo in any of them is a compile error rather than a
 * route nobody can reach or a menu that silently vanishes; and the server bundles it like any
 * module, so there is no file to find, parse and validate at start. The accounts command (bind
 * mode) checks the roles it is given against ROLES.
 */
import type { MenuItem } from '../typings/api';

/** Every menu entry a role can grant, in the order the mini-program shows them. */
export const MENUS = {
  orders: { title: '我的订单', path: '/pages/orders/orders', icon: 'orders-o' },
  approvals: { title: '审批', path: '/pages/approvals/approvals', icon: 'todo-list-o' },
} as const satisfies Record<string, Omit<MenuItem, 'key'>>;

export type MenuKey = keyof typeof MENUS;

interface RoleGrant {
  /** `resource:action`, as routes ask for them. */
  permissions: readonly string[];
  menus: readonly MenuKey[];
}

export const ROLES = {
  /** Everyone: the users of `open` mode, and accounts created without roles. */
  member: { permissions: [], menus: ['orders'] },
  /** Staff also see and read the approvals. */
  staff: { permissions: ['approvals:read'], menus: ['orders', 'approvals'] },
} as const satisfies Record<string, RoleGrant>;

export type Role = keyof typeof ROLES;
export type Permission = (typeof ROLES)[Role]['permissions'][number];

/** The role of a user who has none recorded: every user of `open` mode. */
export const DEFAULT_ROLE: Role = 'member';
