import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_ROLE, MENUS, ROLES } from '../../server/access';
import { can, menusFor, rolesOf } from '../../server/roles';

describe('roles', () => {
  it('gives a user without recorded roles, or with an empty list, the default role', () => {
    expect(rolesOf({})).toEqual([DEFAULT_ROLE]);
    expect(rolesOf({ roles: [] })).toEqual([DEFAULT_ROLE]);
    expect(rolesOf({ roles: ['staff'] })).toEqual(['staff']);
  });

  it('grants a permission only through a role the configuration gives it to', () => {
    expect(can(['staff'], 'approvals:read')).toBe(true);
    expect(can(['member'], 'approvals:read')).toBe(false);
    expect(can(['member', 'staff'], 'approvals:read')).toBe(true);
    // Names that are not roles, and inherited object keys, grant nothing.
    expect(can(['approvals:read', 'toString', '__proto__', 'constructor'], 'approvals:read')).toBe(false);
  });

  it('lists the menus of several roles once each, in the configuration’s order, whatever order the roles come in', () => {
    expect(menusFor(['staff', 'member']).map((m) => m.key)).toEqual(['orders', 'approvals']);
    expect(menusFor(['member', 'staff'])).toEqual(menusFor(['staff', 'member']));
    expect(menusFor(['nobody'])).toEqual([]);
  });

  it('every role’s menus open a page the mini-program registers, by an absolute path', () => {
    const app = JSON.parse(fs.readFileSync(path.join(__dirname, '../../miniprogram/app.json'), 'utf8')) as { pages: string[] };
    for (const { path: page } of Object.values(MENUS)) {
      expect(page.startsWith('/')).toBe(true);
      expect(app.pages).toContain(page.slice(1));
    }
    expect(Object.keys(ROLES)).toContain(DEFAULT_ROLE);
  });
});
