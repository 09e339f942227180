/**
 * server/database.ts: what is said about DATABASE_URL's database never carries its password.
 */
import { parseDatabaseUrl, withoutPassword } from '../../server/database';

describe('withoutPassword', () => {
  it('cuts the password out of a message, as written in the URL and percent-decoded', () => {
    const location = parseDatabaseUrl('postgres://wx:pa%2Fss@db.internal:5432/wx')!;
    expect(withoutPassword('auth failed with pa%2Fss and pa/ss', location)).toBe('auth failed with [redacted] and [redacted]');
  });

  it('still cuts out a password whose percent signs are not valid escapes, instead of throwing URIError', () => {
    // Such a URL passes the config check; the error to report may even be the driver's own URIError.
    const location = parseDatabaseUrl('mysql://wx:50%off@db.internal:3306/wx')!;
    expect(withoutPassword('cannot connect as wx with 50%off', location)).toBe('cannot connect as wx with [redacted]');
  });

  it('leaves a message alone when the URL has no password, and for SQLite', () => {
    expect(withoutPassword('ECONNREFUSED', parseDatabaseUrl('postgres://wx@db.internal/wx')!)).toBe('ECONNREFUSED');
    expect(withoutPassword('SQLITE_BUSY', parseDatabaseUrl('sqlite:data/x.db')!)).toBe('SQLITE_BUSY');
  });
});
