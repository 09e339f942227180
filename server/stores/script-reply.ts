/**
 * The stores' Lua scripts answer by name: a flat list of names and values,
 * `{'revoked', 1, 'user', {'id', 'u1', 'nickname', '小明', ...}}`, which `replyReader` reads into
 * an object of declared types. Neither side keeps a list of positions in step with the other: a
 * script may add a field or reorder its answer without breaking its reader.
 *
 * Redis hands a script's answer over as integers (Lua numbers, fractions dropped), strings, nested
 * lists, and null for Lua's false; a flat list is also what HGETALL answers, so a hash read
 * inside a script goes out as it is (`'pairs'`).
 */

/** What one named value of a reply is: an integer, a string, or a hash as HGETALL gives it. */
export type ReplyField = 'integer' | 'string' | 'pairs';

type ValueOf<F extends ReplyField> = F extends 'integer' ? number : F extends 'string' ? string : Record<string, string>;

/** A reply as read: each declared name with its value, or undefined when the script did not send it. */
export type Reply<S extends Record<string, ReplyField>> = { [K in keyof S]: ValueOf<S[K]> | undefined };

/** HGETALL's flat list ([field, value, ...]) as an object. */
export function pairs(flat: readonly unknown[]): Record<string, string> {
  const hash: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const value = flat[i + 1];
    if (typeof value === 'string') hash[String(flat[i])] = value;
  }
  return hash;
}

/**
 * A reader of one script's reply, declared next to the script: `shape` names each value the
 * script may send and its type. A value of another type, or a name not declared, is a script and
 * reader out of step: it throws (the store then answers 503), rather than guess. A null reply
 * (the script returned false) reads as null.
 */
export function replyReader<S extends Record<string, ReplyField>>(script: string, shape: S): (reply: unknown) => Reply<S> | null {
  return (reply) => {
    if (reply === null) return null;
    if (!Array.isArray(reply) || reply.length % 2 !== 0) throw new Error(`${script} answered ${typeof reply}, not name/value pairs`);
    const read: Record<string, unknown> = {};
    for (let i = 0; i < reply.length; i += 2) {
      const name = reply[i] as string;
      const value: unknown = reply[i + 1];
      const type = Object.hasOwn(shape, name) ? shape[name] : undefined;
      if (type === 'integer' && typeof value === 'number') read[name] = value;
      else if (type === 'string' && typeof value === 'string') read[name] = value;
      else if (type === 'pairs' && Array.isArray(value)) read[name] = pairs(value);
      else throw new Error(`${script} answered ${String(name)} as ${Array.isArray(value) ? 'a list' : typeof value}, not ${type ?? 'a declared name'}`);
    }
    return read as Reply<S>;
  };
}
