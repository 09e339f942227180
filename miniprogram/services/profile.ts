/** The profile API: read, save, and the avatar upload that must happen before a save. */
import type { AuthClient } from '../auth/index';
import type { AvatarUploadResponse, ProfileResponse, ProfileUpdateRequest, User } from '../../typings/api';

type Auth = AuthClient<User>;

/**
 * The name to show for `user`. Without a nickname it says so: WeChat's own placeholder ("微信用户")
 * would read as a real name, or as a bug.
 */
export function displayName(user: User | null): string {
  return user ? user.nickname || '未设置昵称' : '未登录';
}

/** WeChat only hands out the nickname it approved; a user may still type only spaces. */
export function normaliseNickname(value: unknown): string {
  return typeof value === 'string' ? value.trim() : '';
}

export async function fetchProfile(auth: Auth): Promise<User> {
  const { data } = await auth.request<ProfileResponse>({ url: '/api/profile' });
  return data.user;
}

/** Uploads the temporary file `chooseAvatar` produced; resolves with the URL the server stored. */
export async function uploadAvatar(auth: Auth, filePath: string): Promise<string> {
  const { data } = await auth.uploadFile<AvatarUploadResponse>({ url: '/api/avatar', filePath, name: 'file' });
  if (!data || typeof data.avatarUrl !== 'string' || !data.avatarUrl) {
    throw new Error('avatar upload answered without an avatarUrl');
  }
  return data.avatarUrl;
}

export async function saveProfile(auth: Auth, update: ProfileUpdateRequest): Promise<User> {
  const { data } = await auth.request<ProfileResponse>({ url: '/api/profile', method: 'PUT', data: update });
  // Keep the session's copy current, so getSession() and the next launch show the saved profile.
  auth.updateUser(data.user);
  return data.user;
}

export interface ProfileDraft {
  /** A temporary file from `chooseAvatar`, not yet uploaded. */
  avatarPath?: string;
  nickname?: string;
}

/** The completion step: upload the new avatar first, then save both fields in one PUT. */
export async function completeProfile(auth: Auth, draft: ProfileDraft): Promise<User> {
  const update: ProfileUpdateRequest = {};
  if (draft.avatarPath) update.avatarUrl = await uploadAvatar(auth, draft.avatarPath);
  const nickname = normaliseNickname(draft.nickname);
  if (nickname) update.nickname = nickname;
  return saveProfile(auth, update);
}
