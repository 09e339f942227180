/**
 * A sub-store the system of record given to the Redis stores does not have (a host's
 * `userDatabase` of `{ users, ping, close }` only): every call fails saying so. Bind mode checks
 * for it at start (isAbsentStore) rather than failing at the first bind.
 */
const absent = new WeakSet<object>();

export function absentStore<T extends object>(name: string): T {
  const store = new Proxy({} as T, {
    get: (_target, method) =>
      // Not a thenable: awaiting the store itself must not call anything.
      typeof method === 'string' && method !== 'then'
        ? () => Promise.reject(new Error(`the user database has no ${name} store: give userDatabase one (createSqlStores and createMemoryStores have it)`))
        : undefined,
  });
  absent.add(store);
  return store;
}

export function isAbsentStore(store: unknown): boolean {
  return typeof store === 'object' && store !== null && absent.has(store);
}
