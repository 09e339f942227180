import { CommandError, EXIT, parseCommand } from '../../../server/operator/accounts-arguments';

/** The refusal parseCommand throws for `argv`: its exit code and message. */
function refusal(argv: string[]): CommandError {
  try {
    parseCommand(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(CommandError);
    return error as CommandError;
  }
  throw new Error(`expected ${JSON.stringify(argv)} to be refused`);
}

describe('the accounts command line', () => {
  it('reads add with a display name, and roles checked against access.ts, each once', () => {
    expect(parseCommand(['add', 'E1024', '--name', '张三', '--roles', 'staff, member,staff'])).toEqual({ kind: 'add', name: 'E1024', displayName: '张三', roles: ['staff', 'member'] });
    expect(parseCommand(['add', 'E1025', '--name=李四'])).toEqual({ kind: 'add', name: 'E1025', displayName: '李四', roles: [] });
  });

  it('reads list, passwd, disable, enable, roles and unbind', () => {
    expect(parseCommand(['list'])).toEqual({ kind: 'list', json: false });
    expect(parseCommand(['list', '--json'])).toEqual({ kind: 'list', json: true });
    for (const kind of ['passwd', 'disable', 'enable', 'unbind'] as const) expect(parseCommand([kind, 'E1024'])).toEqual({ kind, name: 'E1024' });
    expect(parseCommand(['roles', 'E1024', 'staff'])).toEqual({ kind: 'roles', name: 'E1024', roles: ['staff'] });
    expect(parseCommand(['help'])).toEqual({ kind: 'help' });
    expect(parseCommand(['--help'])).toEqual({ kind: 'help' });
  });

  it('refuses any password option with the reason, and never echoes its value', () => {
    for (const argv of [
      ['add', 'E1', '--name', 'x', '--password', 'hunter22'],
      ['passwd', 'E1', '--password=hunter22'],
      ['passwd', 'E1', '-p', 'hunter22'],
      ['passwd', 'E1', '--pass=hunter22'],
    ]) {
      const error = refusal(argv);
      expect(error.exitCode).toBe(EXIT.usage);
      expect(error.message).toMatch(/^a password is never taken from the command line: every user of this machine can read a command line \(ps, \/proc\)/);
      expect(error.message).not.toContain('hunter22');
    }
  });

  it('refuses an unknown role, naming it and the roles there are', () => {
    const error = refusal(['add', 'E1', '--name', '张三', '--roles', 'staff,admin']);
    expect(error.exitCode).toBe(EXIT.usage);
    expect(error.message).toMatch(/^unknown role "admin": the roles are member, staff \(server\/access\.ts\)/);
    expect(refusal(['roles', 'E1', ' , ']).message).toMatch(/^no role given/);
  });

  it('refuses extra words without showing them, since a stray word is often a password', () => {
    const error = refusal(['passwd', 'E1', 'hunter22']);
    expect(error.exitCode).toBe(EXIT.usage);
    expect(error.message).toMatch(/^passwd takes one account; 1 more argument\(s\) given \(not shown, in case one is a password\)/);
    expect(error.message).not.toContain('hunter22');
    expect(refusal(['hunter22!']).message).toMatch(/^unknown command \(not shown, in case it is a password\)/);
  });

  it('refuses a missing command, account or display name, an unknown command or option, and options of another command', () => {
    expect(refusal([]).message).toMatch(/^no command given/);
    expect(refusal(['remove', 'E1']).message).toMatch(/^unknown command "remove"/);
    expect(refusal(['disable']).message).toMatch(/^disable needs an account/);
    expect(refusal(['add', 'E1']).message).toMatch(/^add needs --name <display name>/);
    expect(refusal(['add', 'E1', '--name', '   ']).message).toMatch(/^--name is empty/);
    expect(refusal(['list', '--name', 'x']).message).toMatch(/^list takes no --name/);
    expect(refusal(['list', '--colour']).message).toMatch(/Unknown option '--colour'/);
    for (const argv of [[], ['remove'], ['add', 'E1']]) expect(refusal(argv).exitCode).toBe(EXIT.usage);
  });

  it('refuses account names the bind page could not take: spaces, control characters, too long, a leading dash', () => {
    expect(refusal(['disable', 'E 1']).message).toMatch(/contains a space or a control character/);
    expect(refusal(['disable', 'E\u00071']).message).toMatch(/contains a space or a control character/);
    expect(refusal(['disable', 'x'.repeat(65)]).message).toMatch(/longer than 64 characters/);
    expect(refusal(['disable', '--', '-E1']).message).toMatch(/starts with "-"/);
  });

  it('ends every refusal with the usage, so the operator sees the commands', () => {
    expect(refusal(['remove']).message).toMatch(/Usage: npm run accounts -- <command>/);
  });
});
