/**
 * PostgreSQL's named prepared statements for the queries the stores run over and over. An
 * unnamed statement is parsed, analysed and planned by the server on every run; a named one once
 * per connection, and then each run only binds its values (Bind, Execute). The database server
 * runs on the same cores as the application in many deployments (and in the benchmark), so what
 * it spends per statement is throughput lost.
 *
 * Only texts declared fixed get a name: those prepared.ts compiles once (the same text every
 * run, a few dozen of them). A text built from input, or one that varies with a list's length,
 * stays unnamed, or each connection would keep an unbounded number of statements on the server.
 * The name is derived from the text (sha256), so two texts never share one, and the same text
 * has the same name on every connection and every instance.
 *
 * pg keeps track per connection of what that connection has prepared: a fresh connection (after
 * the server restarted, or the pool replaced a broken one) prepares each statement again on its
 * first use. Poolers that hand a client's statements to other server connections (PgBouncer in
 * transaction mode before 1.21) do not support them: DATABASE_PREPARED_STATEMENTS=off.
 */
import { createHash } from 'node:crypto';
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type { Pool, PoolClient } from 'pg';

/** No more names than this per database, whatever declares them: a bound on the statements each connection keeps on the server. */
const MOST_NAMES = 500;

/** The texts of one database that run as named statements, each with its name. */
export class StatementNames {
  readonly #names = new Map<string, string>();

  /** Declares `text` fixed: from now on it runs as a named statement. */
  declare(text: string): void {
    if (this.#names.has(text) || this.#names.size >= MOST_NAMES) return;
    this.#names.set(text, `wx_${createHash('sha256').update(text).digest('hex').slice(0, 40)}`);
  }

  /** The statement name of `text`, undefined for a text not declared. */
  nameOf(text: string): string | undefined {
    return this.#names.get(text);
  }
}

/** Each database's names, by the handle the stores hold (the Kysely instance). */
const namesOf = new WeakMap<object, StatementNames>();

/** Registers the names `database` (as the stores hold it) runs its declared texts under. */
export function useStatementNames(database: object, names: StatementNames): void {
  namesOf.set(database, names);
}

/** Declares `text` fixed on `database`: it runs as a named statement where the database's driver does that (PostgreSQL), and nothing changes elsewhere. */
export function declareFixedText(database: object, text: string): void {
  namesOf.get(database)?.declare(text);
}

/**
 * `pool` as Kysely's PostgreSQL driver uses it, running the declared texts as named statements
 * (pg's `{ name, text, values }`), everything else as before.
 */
export function namingStatements(pool: Pool, names: StatementNames): PostgresPool {
  // One wrapper per client: Kysely's driver recognises a connection it has set up by identity.
  const wrappers = new WeakMap<PoolClient, PostgresPoolClient>();
  const wrap = (client: PoolClient): PostgresPoolClient => {
    // Kysely's driver passes a fresh array of values; no cursor is configured (the stores never stream).
    const run = (text: string, values: unknown[]) => {
      const name = names.nameOf(text);
      return name === undefined ? client.query(text, values) : client.query({ name, text, values });
    };
    return {
      query: run as unknown as PostgresPoolClient['query'],
      release: (destroy?: boolean) => client.release(destroy),
    };
  };
  return {
    async connect() {
      const client = await pool.connect();
      let wrapper = wrappers.get(client);
      if (!wrapper) wrappers.set(client, (wrapper = wrap(client)));
      return wrapper;
    },
    end: () => pool.end(),
  };
}
