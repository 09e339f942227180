/**
 * Folders the server keeps its own files in (avatars; later a SQLite database): created private
 * (0700), and an existing one adopted only if nobody but this server's user can change what is in
 * it. A folder another local user made or can write into could hand out any file the server can
 * read (a symlink to an SSH key, served as an avatar), or take the server's files away.
 */
import { mkdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from './config';

const octal = (mode: number) => `0${(mode & 0o7777).toString(8)}`;

/**
 * Creates `dir` (and missing parents) 0700 if it is not there, checks it, and returns its real path
 * (symbolic links resolved), which is what the server then uses. Refuses, saying what to fix, a
 * folder that is not one, belongs to another user, or is writable by group or others, and one
 * inside a folder that another user (root aside) owns or anyone may write to without the sticky
 * bit (/tmp has it): whoever can write a parent can swap the folder itself. `setting` names the
 * variable the folder comes from. Ownership and modes are POSIX; on Windows only existence is checked.
 */
export async function preparePrivateDir(dir: string, setting: string): Promise<string> {
  let real: string;
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    real = await realpath(dir);
  } catch (error) {
    throw new ConfigError([`${setting} ${dir} cannot be created or opened (${(error as Error).message}): choose a folder this server's user may create`]);
  }
  const info = await stat(real);
  if (!info.isDirectory()) throw new ConfigError([`${setting} ${real} is not a folder`]);
  const uid = process.getuid?.();
  if (uid === undefined) return real;

  const problems: string[] = [];
  if (info.uid !== uid) {
    problems.push(`${setting} ${real} belongs to uid ${info.uid}, not to this server's user (uid ${uid}): chown it to this user, or choose a folder of the server's own`);
  }
  if (info.mode & 0o022) {
    problems.push(`${setting} ${real} is writable by group or others (mode ${octal(info.mode)}): chmod 700 ${real}`);
  }
  for (let parent = path.dirname(real), child = real; parent !== child; child = parent, parent = path.dirname(parent)) {
    const above = await stat(parent);
    const owner = above.uid === uid || above.uid === 0;
    const sharedWrite = (above.mode & 0o022) !== 0 && (above.mode & 0o1000) === 0;
    if (!owner || sharedWrite) {
      problems.push(
        `${setting} ${real} is inside ${parent} (uid ${above.uid}, mode ${octal(above.mode)}), which ${owner ? 'group or others may write to' : 'another user owns'}, ` +
          'so the folder could be swapped: choose a folder whose parents only this user or root can change',
      );
      break;
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return real;
}
