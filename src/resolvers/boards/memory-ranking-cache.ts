import {
  compareEntries,
  EPOCH_FACTOR,
  MAX_BOARD_SIZE,
  prefixMax,
  sameEntry,
  type BoardEntry,
  type RankingCache,
} from './ranking-cache.js';

/** In-process ranking cache for the embedded default (one instance); same semantics as the Redis one. */
export class MemoryRankingCache implements RankingCache {
  /** Sorted by compareEntries. */
  private readonly board: BoardEntry[] = [];
  private readonly byId = new Map<string, BoardEntry>();
  /** changedAt[r - 1] = seq of the last change that put a player at rank r. */
  private readonly changedAt: number[] = new Array(MAX_BOARD_SIZE).fill(0);
  private currentSeq: number | null = null;

  async apply(entry: BoardEntry) {
    if (this.currentSeq === null) return null;
    const rank = this.merge(entry);
    if (rank !== undefined) this.bump(rank);
    const current = this.byId.get(entry.playerId);
    return { seq: this.currentSeq, rank: current ? this.indexOf(current) + 1 : 0 };
  }

  async top(n: number) {
    if (this.currentSeq === null) return null;
    const prefixSeqs = prefixMax(this.changedAt.slice(0, n));
    return { seq: prefixSeqs[n - 1] ?? 0, prefixSeqs, entries: this.board.slice(0, n).map((e, i) => ({ ...e, rank: i + 1 })) };
  }

  async rankOf(playerId: string) {
    if (this.currentSeq === null) return null;
    const entry = this.byId.get(playerId);
    return entry ? this.indexOf(entry) + 1 : undefined;
  }

  async seq() {
    return this.currentSeq;
  }

  async all() {
    return this.board.map((e) => ({ ...e }));
  }

  async rebuild(epoch: number, entries: BoardEntry[]) {
    for (const e of entries) this.merge(e);
    this.currentSeq = Math.max(this.currentSeq ?? 0, epoch * EPOCH_FACTOR);
    this.bump(1);
  }

  async repair(seen: BoardEntry | undefined, truth: BoardEntry) {
    const current = this.byId.get(truth.playerId);
    if (!(current === seen || sameEntry(current, seen))) return false;
    if (current) this.remove(current);
    if (truth.score > 0) this.insert({ ...truth });
    if (this.currentSeq !== null) this.bump(1);
    return true;
  }

  async rename(playerId: string, username: string) {
    const e = this.byId.get(playerId);
    if (!e || e.username === username) return;
    e.username = username;
    if (this.currentSeq !== null) this.bump(this.indexOf(e) + 1);
  }

  private bump(rank: number) {
    this.currentSeq = (this.currentSeq ?? 0) + 1;
    if (rank <= MAX_BOARD_SIZE) this.changedAt[rank - 1] = this.currentSeq;
  }

  /** Merges a newer state; returns the player's new rank, or undefined when nothing changed. */
  private merge(entry: BoardEntry): number | undefined {
    if (entry.score <= 0) return undefined;
    const current = this.byId.get(entry.playerId);
    if (current) {
      if (current.score >= entry.score) return undefined;
      this.remove(current);
    }
    return this.insert({ ...entry }) + 1;
  }

  private insert(entry: BoardEntry): number {
    const at = this.indexOf(entry);
    this.board.splice(at, 0, entry);
    this.byId.set(entry.playerId, entry);
    return at;
  }

  private remove(entry: BoardEntry) {
    this.board.splice(this.indexOf(entry), 1);
    this.byId.delete(entry.playerId);
  }

  /** Binary search: where `entry` is (or would go). */
  private indexOf(entry: BoardEntry): number {
    let lo = 0;
    let hi = this.board.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareEntries(this.board[mid]!, entry) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
