/**
 * Avatar files on disk. Each user has at most one: a new upload is written under a fresh random
 * name (a temporary file renamed into place, so a name is never seen half-written), becomes the
 * user's avatarUrl in one atomic store update, and the file it replaced is deleted. Disk use is
 * therefore bounded by users × AVATAR_MAX_BYTES, plus the files a failed deletion left (each logged).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const IMAGE_TYPES = { png: 'image/png', jpg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp' } as const;
export type ImageExt = keyof typeof IMAGE_TYPES;

/** The names this server gives avatar files; nothing else is ever read or deleted. */
export const STORED_NAME = /^[0-9a-f]{32}\.(png|jpg|gif|webp)$/;

/** The image type by its first bytes; the client's file name and content type are not evidence. */
export function sniffImage(bytes: Buffer): ImageExt | null {
  const starts = (signature: number[], offset = 0) => signature.every((byte, i) => bytes[offset + i] === byte);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (starts([0xff, 0xd8, 0xff])) return 'jpg';
  if (starts([0x47, 0x49, 0x46, 0x38])) return 'gif';
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return 'webp';
  return null;
}

export class AvatarFiles {
  /**
   * `origin` is this server's origin as clients reach it (the context's), which every stored
   * file's URL starts with; `onRemoveFailed` hears of a file that could not be deleted.
   */
  constructor(
    private readonly dir: string,
    private readonly origin: () => string,
    private readonly onRemoveFailed: (name: string, error: Error) => void,
  ) {}

  pathOf(name: string): string {
    return path.join(this.dir, name);
  }

  /** Where a stored file is served. */
  urlOf(name: string): string {
    return `${this.origin()}/avatars/${name}`;
  }

  /**
   * The stored file an avatarUrl points at: only a URL under this server's own avatar prefix
   * names one. Such a URL enters a user's record only from POST /api/avatar, under a fresh name
   * (PUT /api/profile takes one back only unchanged), so the file is that user's own. Any other
   * URL names nothing, however its path looks: a WeChat avatar URL ending in /avatars/<a stored
   * name> must not get that file deleted. A file stored under an earlier origin is left on disk.
   */
  storedNameOf(avatarUrl: string): string | null {
    const prefix = this.urlOf('');
    if (!avatarUrl.startsWith(prefix)) return null;
    const name = avatarUrl.slice(prefix.length);
    return STORED_NAME.test(name) ? name : null;
  }

  /** Writes the image completely, then gives it its name; returns the name. */
  async save(bytes: Buffer, ext: ImageExt): Promise<string> {
    const name = `${randomBytes(16).toString('hex')}.${ext}`;
    const temporary = path.join(this.dir, `.${name}.${randomBytes(4).toString('hex')}.tmp`);
    await mkdir(this.dir, { recursive: true });
    await writeFile(temporary, bytes, { flag: 'wx' });
    try {
      await rename(temporary, this.pathOf(name));
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      throw error;
    }
    return name;
  }

  /**
   * Deletes a file we stored; one already gone is fine. Best effort, never throws: it runs after
   * the store change it cleans up after was committed (or failed), which its answer must report;
   * a file that cannot be deleted is told to `onRemoveFailed` and stays on disk.
   */
  async remove(name: string): Promise<void> {
    if (!STORED_NAME.test(name)) return;
    await unlink(this.pathOf(name)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') this.onRemoveFailed(name, error);
    });
  }

  /** After a user's avatarUrl changed from `before` to `after`: deletes the file `before` pointed at, if ours. */
  async discardReplaced(before: string, after: string): Promise<void> {
    const old = this.storedNameOf(before);
    if (old !== null && old !== this.storedNameOf(after)) await this.remove(old);
  }
}
