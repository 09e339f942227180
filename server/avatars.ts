/**
 * Avatar files on disk. Each user has at most one: a new upload is written under a fresh random
 * name (a temporary file renamed into place, so a name is never seen half-written), becomes the
 * user's avatarUrl in one atomic store update, and the file it replaced is deleted. Disk use is
 * therefore bounded by users × AVATAR_MAX_BYTES, plus the files a failed deletion left (each logged).
 * The folder is private to the server (see private-dir.ts), and only regular files in it are served.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from './config';
import type { UserFiles } from './core/account-lifecycle';
import { originOnThisMachine } from './net';
import { ApiError } from './errors';
import type { UserRecord } from './stores/types';

export const IMAGE_TYPES = { png: 'image/png', jpg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp' } as const;
export type ImageExt = keyof typeof IMAGE_TYPES;

/** The names this server gives avatar files; nothing else is ever read or deleted. */
export const STORED_NAME = /^[0-9a-f]{32}\.(png|jpg|gif|webp)$/;

/**
 * How a stored file is opened for serving: never through a symbolic link (O_NOFOLLOW fails on one),
 * and without waiting on a FIFO or device (O_NONBLOCK), so that what the opened descriptor is can be
 * checked before a byte is read: the check and the read concern the same file, whatever is renamed
 * into the folder meanwhile. (Windows has neither flag, nor symbolic links created without privilege.)
 */
const OPEN_FOR_SERVING = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/**
 * Why opening a stored name can fail when there is no avatar to serve: no such file (ENOENT), or a
 * symbolic link (ELOOP, from O_NOFOLLOW), a socket (ENXIO) or a path through a non-folder (ENOTDIR)
 * in its place. Every other failure is the server's (out of file descriptors, I/O), never a 404.
 */
const NO_SUCH_AVATAR = new Set(['ENOENT', 'ELOOP', 'ENXIO', 'ENOTDIR']);
/** Failures that pass: a retry later may well succeed, so they are a 503 rather than a 500. */
const PASSING = new Set(['EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY', 'ENOMEM', 'EINTR']);

/**
 * The avatar files of the server `config` describes, for a process that does not serve them (the
 * operator's `npm run admin delete`, beside a running server): a stored file's URL starts with
 * PUBLIC_URL, else with the address the server listens on (HOST and PORT), as the server wrote it.
 */
export function configuredAvatarFiles(config: Pick<Config, 'uploadDir' | 'publicUrl' | 'host' | 'port'>, onRemoveFailed: (name: string, error: Error) => void): AvatarFiles {
  const origin = config.publicUrl ?? originOnThisMachine({ address: config.host, port: config.port, family: config.host.includes(':') ? 'IPv6' : 'IPv4' });
  return new AvatarFiles(config.uploadDir, () => origin, onRemoveFailed);
}

export class AvatarFiles implements UserFiles {
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

  /**
   * A stored file's bytes, or null when there is no such regular file: a symbolic link, a folder, a
   * FIFO or a device under a stored name (planted, or left by an operator) is never read. A file
   * that is there but cannot be opened now (EMFILE: out of file descriptors) is 503
   * STORE_UNAVAILABLE, any other failure an error (500): a client must not cache a 404 for an
   * avatar that exists.
   */
  async read(name: string): Promise<Buffer | null> {
    if (!STORED_NAME.test(name)) return null;
    let file;
    try {
      file = await open(this.pathOf(name), OPEN_FOR_SERVING);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (NO_SUCH_AVATAR.has(code)) return null;
      if (PASSING.has(code)) throw Object.assign(new ApiError('STORE_UNAVAILABLE', 'the avatar cannot be read right now, try again later'), { cause: error });
      throw error;
    }
    try {
      return (await file.stat()).isFile() ? await file.readFile() : null;
    } finally {
      await file.close();
    }
  }

  /** Writes the image completely, then gives it its name; returns the name. */
  async save(bytes: Buffer, ext: ImageExt): Promise<string> {
    const name = `${randomBytes(16).toString('hex')}.${ext}`;
    const temporary = path.join(this.dir, `.${name}.${randomBytes(4).toString('hex')}.tmp`);
    // Checked at start (private-dir.ts); made again, as private, should it have been removed since.
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
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

  /** With a deleted account: the user's uploaded avatar, if their avatarUrl names one of ours. */
  async removeAllOf(user: UserRecord): Promise<void> {
    await this.discardReplaced(user.avatarUrl, '');
  }

  /** After a user's avatarUrl changed from `before` to `after`: deletes the file `before` pointed at, if ours. */
  async discardReplaced(before: string, after: string): Promise<void> {
    const old = this.storedNameOf(before);
    if (old !== null && old !== this.storedNameOf(after)) await this.remove(old);
  }
}
