/**
 * Players' ban flags as this instance last read them, each for at most
 * `maxAgeMs` (1 s): issueActionToken asked Postgres on every ticket, and a ban
 * only has to be in force on every instance within 1 s. The age counts from
 * before the read was sent, so a ban committed after that read began is seen
 * by the next read at most `maxAgeMs` later. A ban or unban made on this
 * instance calls `forget`, which is in force at once, also against a read
 * that was in flight when it happened.
 *
 * The credit statement checks the flag again under the player's row lock, so
 * a ticket issued from a stale flag still credits nothing.
 */
export class BanFlags {
  private readonly flags = new Map<string, { banned: boolean; readAtMs: number }>();
  /** Bumped by every forget: a read that started before it must not store its (older) answer. */
  private generation = 0;

  constructor(private readonly options: { maxAgeMs: number; maxEntries: number; now?: () => number }) {}

  async banned(playerId: string, read: (playerId: string) => Promise<boolean>): Promise<boolean> {
    const now = this.now();
    const cached = this.flags.get(playerId);
    if (cached && now - cached.readAtMs < this.options.maxAgeMs) return cached.banned;
    const generation = this.generation;
    const banned = await read(playerId);
    if (generation === this.generation) {
      if (this.flags.size >= this.options.maxEntries) this.flags.clear();
      this.flags.set(playerId, { banned, readAtMs: now });
    }
    return banned;
  }

  /** The flag changed (a ban or unban on this instance): read it again next time. */
  forget(playerId: string): void {
    this.generation++;
    this.flags.delete(playerId);
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
