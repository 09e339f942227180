import { chmodSync, chownSync, mkdirSync, mkdtempSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../server/config';
import { preparePrivateDir } from '../../server/private-dir';

const NOBODY = 65534;
const scratch = () => mkdtempSync(path.join(os.tmpdir(), 'wx-login-dir-'));
const modeOf = (dir: string) => statSync(dir).mode & 0o777;

/** The problems preparePrivateDir refused `dir` with. */
async function problemsOf(dir: string): Promise<string[]> {
  const error = await preparePrivateDir(dir, 'UPLOAD_DIR').then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof ConfigError)) throw new Error(`expected a ConfigError for ${dir}, got ${String(error)}`);
  return error.problems;
}

describe('preparePrivateDir', () => {
  it('creates a missing folder and its missing parents 0700 and returns its real path', async () => {
    const base = scratch();
    const dir = path.join(base, 'data', 'avatars');
    expect(await preparePrivateDir(dir, 'UPLOAD_DIR')).toBe(dir);
    expect([modeOf(path.join(base, 'data')), modeOf(dir)]).toEqual([0o700, 0o700]);
  });

  it('adopts an existing folder of its own that only it can write to, through a symbolic link as well, as its real path', async () => {
    const base = scratch();
    const real = path.join(base, 'real');
    mkdirSync(real, { mode: 0o755 });
    symlinkSync(real, path.join(base, 'link'));
    expect(await preparePrivateDir(path.join(base, 'link'), 'UPLOAD_DIR')).toBe(real);
    expect(modeOf(real)).toBe(0o755);
  });

  it('refuses a folder writable by group or by others, saying which chmod fixes it', async () => {
    for (const mode of [0o770, 0o707, 0o777]) {
      const dir = scratch();
      chmodSync(dir, mode);
      expect(await problemsOf(dir)).toEqual([`UPLOAD_DIR ${dir} is writable by group or others (mode 0${mode.toString(8)}): chmod 700 ${dir}`]);
    }
  });

  it('refuses a folder that belongs to another user, as one made first in /tmp by someone else would', async () => {
    const uid = process.getuid!();
    // As root, a folder given to nobody; otherwise a folder root owns.
    const dir = uid === 0 ? scratch() : '/';
    if (uid === 0) chownSync(dir, NOBODY, NOBODY);
    const owner = uid === 0 ? NOBODY : 0;
    expect(await problemsOf(dir)).toContain(
      `UPLOAD_DIR ${dir} belongs to uid ${owner}, not to this server's user (uid ${uid}): chown it to this user, or choose a folder of the server's own`,
    );
  });

  it('refuses a folder inside one that anyone may write to without the sticky bit (who could swap it), and accepts it under a sticky one such as /tmp', async () => {
    const open = scratch();
    chmodSync(open, 0o777);
    const dir = path.join(open, 'avatars');
    expect(await problemsOf(dir)).toEqual([
      `UPLOAD_DIR ${dir} is inside ${open} (uid ${process.getuid!()}, mode 0777), which group or others may write to, so the folder could be swapped: choose a folder whose parents only this user or root can change`,
    ]);
    chmodSync(open, 0o1777);
    expect(await preparePrivateDir(dir, 'UPLOAD_DIR')).toBe(dir);
  });

  it('refuses a file where the folder should be, and a folder it cannot create, saying so', async () => {
    const file = path.join(scratch(), 'avatars');
    writeFileSync(file, '');
    expect((await problemsOf(file))[0]).toMatch(new RegExp(`^UPLOAD_DIR ${file} cannot be created or opened \\(EEXIST: .*\\): choose a folder this server's user may create$`));
    expect((await problemsOf(path.join(file, 'below')))[0]).toMatch(/cannot be created or opened \(ENOTDIR: /);
  });
});
