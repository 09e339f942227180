/**
 * Queries built and compiled once, run many times with fresh values. Building a Kysely query and
 * compiling it to its database's SQL cost about three times what running it costs on the embedded
 * database (about 30 against 10 µs of CPU for the user lookup), on every authenticated request and
 * every statement of a login. A prepared query is written with the same builder, for the three
 * databases alike; where a value goes it takes a named parameter, and each run passes the values.
 * The SQL text is then the same on every run, which is also what lets the SQLite driver keep its
 * statement prepared (embedded.ts), and PostgreSQL run it as a named prepared statement, parsed
 * and planned once per connection (named-statements.ts).
 */
import { CompiledQuery, type Compilable, type Kysely, type QueryResult } from 'kysely';
import { declareFixedText } from '../../named-statements';
import { embeddedConnectionOf } from './embedded';
import type { Database } from './schema';
import type { Db } from './support';

/** What stands for a named parameter while the query is compiled. */
class Parameter {
  constructor(readonly name: string) {}
}

/** A parameter's slot in the compiled query: a named value given at each run, or a constant the query itself holds. */
type Slot = { name: string } | { constant: unknown };

export interface Prepared<P, R> {
  /** Runs the query with `values` on `on` (a transaction), or on the database it was prepared for. */
  (values: P, on?: Db): Promise<QueryResult<R>>;
  /** Its SQL, for tests and for reading. */
  readonly sql: string;
}

/**
 * Compiles `build`'s query once for `db`'s database. `build` gets one placeholder per parameter
 * name, typed as its value, to put where values go (a where clause, a value to insert, a limit).
 * Each placeholder may appear more than once. A value that changes the query's shape (a list for
 * `in`, an optional clause) cannot be a parameter: prepare one query per shape.
 */
export function prepare<P extends Record<string, unknown>, R>(db: Kysely<Database>, build: (parameters: P) => Compilable<R>, { ephemeral = false }: PrepareOptions = {}): Prepared<P, R> {
  const placeholders = new Proxy({} as P, { get: (_, name) => new Parameter(String(name)) });
  const compiled = build(placeholders).compile();
  declareFixedText(db, compiled.sql);
  const slots: Slot[] = compiled.parameters.map((value) => (value instanceof Parameter ? { name: value.name } : { constant: value }));
  const embedded = embeddedConnectionOf(db);
  const run = (values: P, on: Db = db): Promise<QueryResult<R>> => {
    const parameters = slots.map((slot) => ('name' in slot ? values[slot.name] : slot.constant));
    if (embedded) {
      try {
        // `on` other than `db` is a transaction's connection: the caller holds it.
        const result = embedded.runNow<R>(compiled.sql, parameters, on !== db, ephemeral);
        if (result !== null) return Promise.resolve(result);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return on.executeQuery<R>({ ...compiled, parameters } as CompiledQuery<R>);
  };
  return Object.assign(run, { sql: compiled.sql });
}

export interface PrepareOptions {
  /**
   * A write of session data, as a session's recorded use: on the embedded database not waited
   * for by the group commit when it runs on its own (see Durability in support.ts). Run inside a
   * transaction, it is what the transaction is.
   */
  ephemeral?: boolean;
}

/** The rows a prepared select answered. */
export const rowsOf = <R>(result: QueryResult<R>): R[] => result.rows;

/** How many rows a prepared insert, update or delete changed. */
export const changed = (result: QueryResult<unknown>): number => Number(result.numAffectedRows ?? 0);
