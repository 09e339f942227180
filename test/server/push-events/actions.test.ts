/**
 * What each account event does to its user (push-events/actions.ts), on the memory store: which
 * fields a RevokeInfo clears, that an uploaded avatar's file goes with it, that a cancellation
 * calls the account deletion, and what the audit hook is told.
 */
import { accountEventActions, type WeChatAccountEventAudit } from '../../../server/push-events/actions';
import { createMemoryStores } from '../../../server/stores/memory';
import type { ClaimedPushEvent, PushEventKind, Stores } from '../../../server/stores/types';
import { fakeClock } from '../helpers';

const AVATAR = 'http://127.0.0.1:3000/avatars/0123456789abcdef0123456789abcdef.png';

async function setup() {
  const clock = fakeClock();
  const stores: Stores = createMemoryStores({ now: clock.now, sessionIdleMs: 60_000 });
  await stores.users.findOrCreate({ openid: 'o-ann' }, () => ({ id: 'u-ann', openid: 'o-ann', nickname: 'Ann', avatarUrl: AVATAR, createdAt: clock.now() }));
  await stores.users.bindPhone('u-ann', { countryCode: '86', number: '13800138000' });
  const discarded: [string, string][] = [];
  const deleted: [string, { by: 'wechat' }][] = [];
  const audited: WeChatAccountEventAudit[] = [];
  const act = accountEventActions({
    users: stores.users,
    avatars: { discardReplaced: async (before, after) => void discarded.push([before, after]) },
    deleteAccount: async (userId, options) => void deleted.push([userId, options]),
    now: clock.now,
    auditWeChatAccountEvent: (entry) => void audited.push(entry),
  });
  const event = (kind: PushEventKind, revoked: string[] = [], openid = 'o-ann'): ClaimedPushEvent => ({ dedupeKey: 'event:1', kind, openid, revoked, receivedAt: clock.now(), claim: 'c', attempts: 1 });
  return { stores, act, event, discarded, deleted, audited };
}

describe('account event actions', () => {
  test('RevokeInfo 8 removes the phone number only', async () => {
    const t = await setup();
    expect(await t.act(t.event('user_authorization_revoke', ['phone']))).toBe('acted');
    expect(await t.stores.users.get('u-ann')).toMatchObject({ nickname: 'Ann', avatarUrl: AVATAR });
    expect((await t.stores.users.get('u-ann'))?.phone).toBeUndefined();
    expect(t.discarded).toEqual([]);
  });

  test('RevokeInfo 20 clears the avatar and deletes its uploaded file; 19 the nickname alone', async () => {
    const t = await setup();
    await t.act(t.event('user_authorization_revoke', ['avatar']));
    expect(await t.stores.users.get('u-ann')).toMatchObject({ nickname: 'Ann', avatarUrl: '', phone: { number: '13800138000' } });
    expect(t.discarded).toEqual([[AVATAR, '']]);
    await t.act(t.event('user_authorization_revoke', ['nickname']));
    expect(await t.stores.users.get('u-ann')).toMatchObject({ nickname: '', avatarUrl: '' });
  });

  test('RevokeInfo 6 clears nickname and avatar; a withdrawal of data this server does not hold (13 location) changes nothing', async () => {
    const t = await setup();
    await t.act(t.event('user_authorization_revoke', ['location']));
    expect(await t.stores.users.get('u-ann')).toMatchObject({ nickname: 'Ann', avatarUrl: AVATAR, phone: { number: '13800138000' } });
    await t.act(t.event('user_authorization_revoke', ['profile']));
    expect(await t.stores.users.get('u-ann')).toMatchObject({ nickname: '', avatarUrl: '', phone: { number: '13800138000' } });
    expect(t.discarded).toEqual([[AVATAR, '']]);
  });

  test('user_info_modified clears nickname and avatar; the phone stays', async () => {
    const t = await setup();
    await t.act(t.event('user_info_modified'));
    expect(await t.stores.users.get('u-ann')).toMatchObject({ nickname: '', avatarUrl: '', phone: { number: '13800138000' } });
  });

  test('a cancellation deletes the account through deleteAccount, by WeChat', async () => {
    const t = await setup();
    await t.act(t.event('user_authorization_cancellation'));
    expect(t.deleted).toEqual([['u-ann', { by: 'wechat' }]]);
  });

  test('an unknown openid is nobody: nothing is changed, deleted or audited', async () => {
    const t = await setup();
    expect(await t.act(t.event('user_authorization_cancellation', [], 'o-stranger'))).toBe('unknown-user');
    expect([t.deleted, t.discarded, t.audited]).toEqual([[], [], []]);
  });

  test('tells the audit hook of each event acted on, with WeChat as the actor and what was withdrawn', async () => {
    const t = await setup();
    await t.act(t.event('user_authorization_revoke', ['phone']));
    await t.act(t.event('user_info_modified'));
    await t.act(t.event('user_authorization_cancellation'));
    expect(t.audited.map(({ userId, action, revoked }) => ({ userId, action, revoked }))).toEqual([
      { userId: 'u-ann', action: 'wechat.revoke', revoked: ['phone'] },
      { userId: 'u-ann', action: 'wechat.info-modified', revoked: [] },
      { userId: 'u-ann', action: 'wechat.cancellation', revoked: [] },
    ]);
  });
});
