/** What a user's roles grant (./access.ts says what each role grants). No framework in here. */
import type { MenuItem } from '../typings/api';
import { DEFAULT_ROLE, MENUS, ROLES, type MenuKey, type Permission, type Role } from './access';
import type { UserRecord } from './stores/types';

const isRole = (name: string): name is Role => Object.prototype.hasOwnProperty.call(ROLES, name);

/** The user's roles: the recorded ones, or the default role when none are recorded. */
export function rolesOf(user: Pick<UserRecord, 'roles'>): string[] {
  return user.roles && user.roles.length > 0 ? user.roles : [DEFAULT_ROLE];
}

/** Whether any of `roles` grants `permission`. A role the configuration no longer has grants nothing. */
export function can(roles: readonly string[], permission: Permission): boolean {
  return roles.some((role) => isRole(role) && (ROLES[role].permissions as readonly string[]).includes(permission));
}

const ORDER = Object.keys(MENUS) as MenuKey[];
/** Menus per set of known roles: computed once, on the login and session answers of every user. */
const menusByRoles = new Map<string, MenuItem[]>();

/** The menu entries `roles` grant together, each once, in MENUS' order. */
export function menusFor(roles: readonly string[]): MenuItem[] {
  const known = roles.filter(isRole);
  const id = known.slice().sort().join(',');
  let menus = menusByRoles.get(id);
  if (!menus) {
    const granted = new Set<MenuKey>(known.flatMap((role) => ROLES[role].menus));
    menus = ORDER.filter((key) => granted.has(key)).map((key) => ({ key, ...MENUS[key] }));
    menusByRoles.set(id, menus);
  }
  return menus;
}
