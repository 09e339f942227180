import { EVENTS_SHOWN, toExportView } from '../../../miniprogram/services/account-export';
import type { AccountExport } from '../../../typings/api';

const at = (day: number, hour = 9) => new Date(2026, 10, day, hour, 0).getTime();

const EXPORT: AccountExport = {
  exportedAt: at(21),
  user: { id: 'u7', nickname: '', avatarUrl: '', createdAt: at(1), roles: ['staff', 'auditor'] },
  identities: [
    { kind: 'wechat', value: 'oOPENID', createdAt: at(1) },
    { kind: 'account', value: 'A1001', createdAt: at(2) },
  ],
  account: { name: 'A1001', displayName: '王建国' },
  sessions: [],
  audit: [],
};

describe('toExportView', () => {
  test('says what is missing rather than leaving it blank, and names roles it knows in Chinese, others as they are', () => {
    const view = toExportView(EXPORT);
    const profile = Object.fromEntries(view.profile.map((row) => [row.label, row.value]));

    expect(profile).toEqual({ 用户编号: 'u7', 昵称: '未设置', 头像: '未设置', 角色: '员工、auditor', 注册时间: '2026-11-01 09:00' });
    expect(view.exportedAt).toBe('2026-11-21 09:00');
  });

  test('the bound account reads with its person’s name; an identity kind this version does not know is shown as it came', () => {
    const withUnknown = { ...EXPORT, identities: [...EXPORT.identities, { kind: 'email', value: 'a@b.c', createdAt: at(3) }] } as unknown as AccountExport;

    const rows = toExportView(withUnknown).identities.map((row) => [row.label, row.value, row.note]);

    expect(rows).toEqual([
      ['微信（OpenID）', 'oOPENID', '2026-11-01 09:00 起'],
      ['平台账号', '王建国（A1001）', '2026-11-02 09:00 起'],
      ['email', 'a@b.c', '2026-11-03 09:00 起'],
    ]);
  });

  test('events are listed newest first, at most EVENTS_SHOWN, with who, outcome and network; dotted, dashed and unknown actions all read', () => {
    const audit: AccountExport['audit'] = Array.from({ length: EVENTS_SHOWN + 5 }, (_, i) => ({ at: at(1) + i * 60_000, action: 'login', actor: 'user', outcome: 'ok', clientNetwork: null }));
    audit.push({ at: at(20), action: 'phone.bound', actor: 'user', outcome: 'ok', clientNetwork: '203.0.113.0/24' });
    audit.push({ at: at(19), action: 'profile-changed', actor: 'wechat', outcome: 'refused', clientNetwork: null });
    audit.push({ at: at(18), action: 'brand.new', actor: 'system', outcome: 'failed', clientNetwork: '2001:db8:1::/48' });

    const events = toExportView({ ...EXPORT, audit }).events;

    expect(events).toHaveLength(EVENTS_SHOWN);
    expect(events.slice(0, 3).map((e) => [e.label, e.value, e.note])).toEqual([
      ['绑定手机号', '成功', '2026-11-20 09:00 · 本人 · 网络 203.0.113.0/24'],
      ['修改资料', '被拒绝', '2026-11-19 09:00 · 微信'],
      ['brand.new', '失败', '2026-11-18 09:00 · 系统 · 网络 2001:db8:1::/48'],
    ]);
    expect(new Set(events.map((e) => e.key)).size).toBe(EVENTS_SHOWN);
  });

  test('each session says whether it is this device, when it was last used, began and ends', () => {
    const sessions = [
      { createdAt: at(20), lastSeenAt: at(21), expiresAt: at(27), current: true },
      { createdAt: at(10), lastSeenAt: at(12), expiresAt: at(17), current: false },
    ];

    const rows = toExportView({ ...EXPORT, sessions }).sessions.map((row) => [row.label, row.value, row.note]);

    expect(rows).toEqual([
      ['本设备', '最近使用 2026-11-21 09:00', '登录于 2026-11-20 09:00，2026-11-27 09:00 到期'],
      ['其他设备', '最近使用 2026-11-12 09:00', '登录于 2026-11-10 09:00，2026-11-17 09:00 到期'],
    ]);
  });
});
