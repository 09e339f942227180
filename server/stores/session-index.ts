/**
 * The memory store's per-user index of sessions: each user's skey hashes in login order (a Set
 * keeps insertion order, so the first is the oldest). A user without sessions has no entry, so
 * the index holds only what the sessions map holds.
 */
export class SessionIndex {
  readonly #byUser = new Map<string, Set<string>>();

  /** The user's hashes, oldest first; undefined when there are none. Deleting while iterating is safe. */
  of(userId: string): ReadonlySet<string> | undefined {
    return this.#byUser.get(userId);
  }

  add(userId: string, skeyHash: string): void {
    const hashes = this.#byUser.get(userId);
    if (hashes) hashes.add(skeyHash);
    else this.#byUser.set(userId, new Set([skeyHash]));
  }

  remove(userId: string, skeyHash: string): void {
    const hashes = this.#byUser.get(userId);
    if (hashes?.delete(skeyHash) && hashes.size === 0) this.#byUser.delete(userId);
  }

  drop(userId: string): void {
    this.#byUser.delete(userId);
  }

  clear(): void {
    this.#byUser.clear();
  }

  /** Users with sessions and hashes held, for tests and the curious. */
  size(): { users: number; sessions: number } {
    let sessions = 0;
    for (const hashes of this.#byUser.values()) sessions += hashes.size;
    return { users: this.#byUser.size, sessions };
  }
}
