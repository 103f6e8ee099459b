import {
  compareEntries,
  EPOCH_FACTOR,
  MAX_BOARD_SIZE,
  prefixMax,
  rankRun,
  sameEntry,
  viewId,
  type BoardEntry,
  type BoardPage,
  type BoardView,
  type CachedStanding,
  type RankingCache,
} from './ranking-cache.js';

/** One view: a sorted array (binary search) plus the distinct scores, for the embedded default. */
class MemoryView {
  /** Sorted by compareEntries. */
  readonly board: BoardEntry[] = [];
  readonly byId = new Map<string, BoardEntry>();
  /** Distinct scores, descending, with how many entries hold each. */
  readonly scores: number[] = [];
  readonly scoreCounts = new Map<number, number>();
  /** changedAt[r - 1] = seq of the last change that put a player at rank r. */
  readonly changedAt: number[] = new Array(MAX_BOARD_SIZE).fill(0);
  seq: number | null = null;
  expireAtMs = 0;

  bump(rank: number) {
    this.seq = (this.seq ?? 0) + 1;
    if (rank <= MAX_BOARD_SIZE) this.changedAt[rank - 1] = this.seq;
  }

  /**
   * Merges a newer state; returns the player's new position, or undefined when
   * nothing changed. A state that is not newer (lower or equal score, or no
   * score) is ignored entirely, name included: a slow commit must not undo a rename.
   */
  merge(entry: BoardEntry): number | undefined {
    if (entry.score <= 0) return undefined;
    const current = this.byId.get(entry.playerId);
    if (current) {
      if (current.score >= entry.score) return undefined;
      this.remove(current);
    }
    return this.insert({ ...entry }) + 1;
  }

  /** Fills an empty view at once: one sort instead of an insertion per entry (a rebuild of a large board). */
  load(entries: BoardEntry[]) {
    const fresh = entries.filter((e) => e.score > 0).map((e) => ({ ...e }));
    fresh.sort(compareEntries);
    for (const e of fresh) {
      // The same player twice (never from Postgres): the first, the higher score, stays, as merge would.
      if (this.byId.has(e.playerId)) continue;
      this.board.push(e);
      this.byId.set(e.playerId, e);
      const count = this.scoreCounts.get(e.score) ?? 0;
      this.scoreCounts.set(e.score, count + 1);
      if (count === 0) this.scores.push(e.score);
    }
  }

  insert(entry: BoardEntry): number {
    const at = this.indexOf(entry);
    this.board.splice(at, 0, entry);
    this.byId.set(entry.playerId, entry);
    const count = this.scoreCounts.get(entry.score) ?? 0;
    this.scoreCounts.set(entry.score, count + 1);
    if (count === 0) this.scores.splice(this.higherScores(entry.score), 0, entry.score);
    return at;
  }

  remove(entry: BoardEntry) {
    this.board.splice(this.indexOf(entry), 1);
    this.byId.delete(entry.playerId);
    const count = this.scoreCounts.get(entry.score)! - 1;
    if (count > 0) this.scoreCounts.set(entry.score, count);
    else {
      this.scoreCounts.delete(entry.score);
      this.scores.splice(this.higherScores(entry.score), 1);
    }
  }

  /** Binary search: where `entry` is (or would go). */
  indexOf(entry: BoardEntry): number {
    let lo = 0;
    let hi = this.board.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareEntries(this.board[mid]!, entry) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Entries with a strictly higher score (binary search on the board). */
  private higherEntries(score: number): number {
    let lo = 0;
    let hi = this.board.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.board[mid]!.score > score) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Distinct scores strictly higher than `score`. */
  higherScores(score: number): number {
    let lo = 0;
    let hi = this.scores.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.scores[mid]! > score) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  standing(playerId: string): CachedStanding | undefined {
    const e = this.byId.get(playerId);
    if (!e) return undefined;
    return {
      position: this.indexOf(e) + 1,
      competitionRank: this.higherEntries(e.score) + 1,
      denseRank: this.higherScores(e.score) + 1,
      score: e.score,
      total: this.board.length,
      seq: this.seq ?? 0,
    };
  }

  range(start: number, n: number) {
    const entries = this.board.slice(start, start + n).map((e) => ({ ...e }));
    const first = entries[0];
    return first ? rankRun(entries, start + 1, this.higherEntries(first.score) + 1, this.higherScores(first.score) + 1) : [];
  }
}

/** In-process ranking cache for the embedded default (one instance); same contract as the Redis one. */
export class MemoryRankingCache implements RankingCache {
  private readonly views = new Map<string, MemoryView>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The warm view, or undefined (cold or expired: an expired view is dropped, as Redis would). */
  private warm(view: BoardView): MemoryView | undefined {
    const id = viewId(view);
    const v = this.views.get(id);
    if (v && v.expireAtMs > 0 && v.expireAtMs <= this.now()) {
      this.views.delete(id);
      return undefined;
    }
    return v?.seq === null ? undefined : v;
  }

  async apply(view: BoardView, entry: BoardEntry, expireAtMs?: number | null) {
    const v = this.warm(view);
    if (!v) return null;
    const position = v.merge(entry);
    if (position !== undefined) v.bump(position);
    if (expireAtMs) v.expireAtMs = expireAtMs;
    return v.standing(entry.playerId) ?? { position: 0, competitionRank: 0, denseRank: 0, score: 0, total: v.board.length, seq: v.seq ?? 0 };
  }

  async page(view: BoardView, offset: number, n: number): Promise<BoardPage | null> {
    const v = this.warm(view);
    if (!v) return null;
    const prefixSeqs = offset === 0 ? prefixMax(v.changedAt.slice(0, Math.min(n, MAX_BOARD_SIZE))) : [];
    return {
      seq: offset === 0 ? (prefixSeqs.at(-1) ?? v.seq!) : v.seq!,
      total: v.board.length,
      entries: v.range(offset, n),
      prefixSeqs,
    };
  }

  async around(view: BoardView, playerId: string, above: number, below: number): Promise<BoardPage | null> {
    const v = this.warm(view);
    if (!v) return null;
    const w = above + below + 1;
    const e = v.byId.get(playerId);
    const start = e ? Math.max(0, Math.min(v.indexOf(e) - above, v.board.length - w)) : 0;
    return { seq: v.seq!, total: v.board.length, entries: v.range(start, w), prefixSeqs: [] };
  }

  async standing(view: BoardView, playerId: string) {
    const v = this.warm(view);
    return v ? v.standing(playerId) : null;
  }

  async seq(view: BoardView) {
    return this.warm(view)?.seq ?? null;
  }

  async all(view: BoardView) {
    return (this.warm(view)?.board ?? []).map((e) => ({ ...e }));
  }

  async rebuild(view: BoardView, epoch: number, entries: BoardEntry[], expireAtMs?: number | null) {
    const id = viewId(view);
    // An expired view nobody read since is gone (as its Redis keys would be): start clean.
    this.warm(view);
    let v = this.views.get(id);
    if (!v) this.views.set(id, (v = new MemoryView()));
    if (v.board.length === 0) v.load(entries);
    else for (const e of entries) v.merge(e);
    v.seq = Math.max(v.seq ?? 0, epoch * EPOCH_FACTOR);
    v.bump(1);
    v.expireAtMs = expireAtMs ?? 0;
  }

  async drop(view: BoardView) {
    this.views.delete(viewId(view));
  }

  async repair(view: BoardView, seen: BoardEntry | undefined, truth: BoardEntry) {
    const v = this.warm(view);
    if (!v) return false;
    const current = v.byId.get(truth.playerId);
    if (!(current === seen || sameEntry(current, seen))) return false;
    if (current) v.remove(current);
    if (truth.score > 0) v.insert({ ...truth });
    v.bump(1);
    return true;
  }

  async rename(playerId: string, username: string) {
    for (const id of [...this.views.keys()]) {
      const v = this.views.get(id)!;
      const e = v.byId.get(playerId);
      if (!e || e.username === username) continue;
      e.username = username;
      if (v.seq !== null) v.bump(v.indexOf(e) + 1);
    }
  }

  async warmViews() {
    const out: BoardView[] = [];
    for (const id of [...this.views.keys()]) {
      const [board, period, segment] = id.split('|') as [string, string, string];
      const view = { board, period, segment: segment === '' ? null : decodeURIComponent(segment) };
      if (this.warm(view)) out.push(view);
    }
    return out;
  }
}
