/**
 * The export (GET /api/account/export) as the user reads it: what the server holds about them,
 * in sections, every time in local time. Kinds, actors and outcomes the server may add later are
 * shown as they come rather than dropped: the page must never hide held data.
 */
import { formatDate } from './orders';
import type { AccountExport } from '../../typings/api';

export interface ExportRow {
  /** Unique within its section, for wx:key. */
  key: string;
  label: string;
  value: string;
  /** A second, quieter line: when, from where. */
  note: string;
}

export interface ExportView {
  exportedAt: string;
  profile: ExportRow[];
  identities: ExportRow[];
  sessions: ExportRow[];
  events: ExportRow[];
}

type Identity = AccountExport['identities'][number];
type AuditEntry = AccountExport['audit'][number];

const IDENTITY_LABELS: Record<Identity['kind'], string> = {
  wechat: '微信（OpenID）',
  unionid: '微信（UnionID）',
  phone: '手机号',
  account: '平台账号',
};

const ROLE_LABELS: Record<string, string> = { member: '普通用户', staff: '员工' };

/**
 * The audit trail's actions, keyed without separators so that `phone-bound`, `phone.bound` and
 * `phone_bound` read alike; an unknown one is shown as the server wrote it.
 */
const ACTION_LABELS: Record<string, string> = {
  login: '登录',
  bind: '绑定平台账号',
  unbind: '解除绑定',
  phonebound: '绑定手机号',
  profilechanged: '修改资料',
  exported: '导出数据',
  export: '导出数据',
  deleted: '注销账号',
  blocked: '账号被限制使用',
  unblocked: '账号恢复使用',
  logoutall: '退出所有设备',
  wechatrevoke: '在微信中撤回授权',
  wechatcancel: '注销微信账号',
  wechatmodified: '微信清理了资料',
};
const ACTOR_LABELS: Record<AuditEntry['actor'], string> = { user: '本人', operator: '管理员', wechat: '微信', system: '系统' };
const OUTCOME_LABELS: Record<AuditEntry['outcome'], string> = { ok: '成功', refused: '被拒绝', failed: '失败' };

/** Most recent first, and no more than a screen can usefully list: the export itself holds them all. */
export const EVENTS_SHOWN = 20;

function actionLabel(action: string): string {
  return ACTION_LABELS[action.toLowerCase().replace(/[^a-z]/g, '')] || action;
}

function identityValue(identity: Identity, data: AccountExport): string {
  if (identity.kind !== 'account' || !data.account || data.account.name !== identity.value) return identity.value;
  return data.account.displayName ? `${data.account.displayName}（${data.account.name}）` : data.account.name;
}

export function toExportView(data: AccountExport): ExportView {
  const { user } = data;
  const roles = user.roles.map((role) => ROLE_LABELS[role] || role).join('、');
  const events = data.audit
    .slice()
    .sort((a, b) => b.at - a.at)
    .slice(0, EVENTS_SHOWN);
  return {
    exportedAt: formatDate(data.exportedAt),
    profile: [
      { key: 'id', label: '用户编号', value: user.id, note: '' },
      { key: 'nickname', label: '昵称', value: user.nickname || '未设置', note: '' },
      { key: 'avatar', label: '头像', value: user.avatarUrl ? '已上传' : '未设置', note: '' },
      { key: 'roles', label: '角色', value: roles || '无', note: '' },
      { key: 'created', label: '注册时间', value: formatDate(user.createdAt), note: '' },
    ],
    identities: data.identities.map((identity, i) => ({
      key: `identity-${i}`,
      label: IDENTITY_LABELS[identity.kind] || identity.kind,
      value: identityValue(identity, data),
      note: `${formatDate(identity.createdAt)} 起`,
    })),
    sessions: data.sessions.map((session, i) => ({
      key: `session-${i}`,
      label: session.current ? '本设备' : '其他设备',
      value: `最近使用 ${formatDate(session.lastSeenAt)}`,
      note: `登录于 ${formatDate(session.createdAt)}，${formatDate(session.expiresAt)} 到期`,
    })),
    events: events.map((entry, i) => ({
      key: `event-${i}`,
      label: actionLabel(entry.action),
      value: OUTCOME_LABELS[entry.outcome] || entry.outcome,
      note: [formatDate(entry.at), ACTOR_LABELS[entry.actor] || entry.actor, entry.clientNetwork ? `网络 ${entry.clientNetwork}` : ''].filter(Boolean).join(' · '),
    })),
  };
}
