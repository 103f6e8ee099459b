import { randomUUID } from 'node:crypto';
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
  type RebuildEntries,
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
  /** Players an operator took off this view: nothing of theirs is merged until shown again. */
  readonly hidden = new Set<string>();
  /** playerId -> reachedSeq of the void that emptied their entry (an older state must not bring it back). */
  readonly gone = new Map<string, number>();
  /** Running rebuilds: token -> players changed on this view since it began. */
  readonly rebuilds = new Map<string, Set<string>>();

  noteDirty(playerId: string) {
    for (const dirty of this.rebuilds.values()) dirty.add(playerId);
  }

  bump(rank: number) {
    this.seq = (this.seq ?? 0) + 1;
    if (rank <= MAX_BOARD_SIZE) this.changedAt[rank - 1] = this.seq;
  }

  /**
   * Merges a state when it is newer (higher reachedSeq) than the one held; a
   * score of 0 removes the entry. Returns the best position that changed, or
   * undefined when nothing did. A state that is not newer is ignored entirely,
   * name included: a slow commit must not undo a rename.
   */
  merge(entry: BoardEntry): number | undefined {
    const current = this.byId.get(entry.playerId);
    if (current && current.reachedSeq >= entry.reachedSeq) return undefined;
    let best: number | undefined;
    if (current) {
      best = this.indexOf(current) + 1;
      this.remove(current);
    }
    if (entry.score > 0) {
      const at = this.insert({ ...entry }) + 1;
      best = best === undefined ? at : Math.min(best, at);
    }
    return best;
  }

  /**
   * Fills an empty view with the truth at once (one sort, not one insert per
   * entry: a million inserts into a sorted array would be quadratic). Each
   * player at most once; score 0 adds nothing.
   */
  load(entries: BoardEntry[]) {
    for (const e of entries) if (e.score > 0) this.board.push({ ...e });
    this.board.sort(compareEntries);
    for (const e of this.board) {
      this.byId.set(e.playerId, e);
      const count = this.scoreCounts.get(e.score) ?? 0;
      this.scoreCounts.set(e.score, count + 1);
      if (count === 0) this.scores.push(e.score); // descending, as the board is
    }
  }

  /** Takes a player out entirely; returns the position they had. */
  drop(playerId: string): number | undefined {
    const current = this.byId.get(playerId);
    if (!current) return undefined;
    const at = this.indexOf(current) + 1;
    this.remove(current);
    return at;
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

  /** The view's state, warm or cold (hidden players and running rebuilds are kept on cold views too). */
  private state(view: BoardView): MemoryView {
    this.warm(view);
    const id = viewId(view);
    let v = this.views.get(id);
    if (!v) this.views.set(id, (v = new MemoryView()));
    return v;
  }

  async apply(view: BoardView, entry: BoardEntry, expireAtMs?: number | null) {
    const v = this.warm(view);
    if (!v) {
      this.stageForRebuild(view, entry);
      return null;
    }
    const gone = v.gone.get(entry.playerId);
    if (!v.hidden.has(entry.playerId) && !(gone !== undefined && gone >= entry.reachedSeq)) {
      const position = v.merge(entry);
      if (position !== undefined) {
        v.bump(position);
        v.noteDirty(entry.playerId);
      }
      if (entry.score === 0) v.gone.set(entry.playerId, entry.reachedSeq);
      else v.gone.delete(entry.playerId);
    }
    if (expireAtMs) v.expireAtMs = expireAtMs;
    return v.standing(entry.playerId) ?? { position: 0, competitionRank: 0, denseRank: 0, score: 0, total: v.board.length, seq: v.seq ?? 0 };
  }

  /** A cold view with a rebuild under way keeps the state in the view, for the swap to carry over (as show does). */
  private stageForRebuild(view: BoardView, entry: BoardEntry) {
    const v = this.views.get(viewId(view));
    if (!v || v.rebuilds.size === 0 || v.hidden.has(entry.playerId)) return;
    const gone = v.gone.get(entry.playerId);
    if (gone !== undefined && gone >= entry.reachedSeq) return;
    v.merge(entry);
    // The truth being read may hold an older state of this player (a removal merges nothing here): the swap looks either way.
    v.noteDirty(entry.playerId);
    if (entry.score === 0) v.gone.set(entry.playerId, entry.reachedSeq);
    else v.gone.delete(entry.playerId);
  }

  async hide(view: BoardView, playerId: string, expireAtMs?: number | null) {
    const v = this.state(view);
    v.hidden.add(playerId);
    const at = v.drop(playerId);
    if (at !== undefined && v.seq !== null) v.bump(at);
    if (expireAtMs && v.expireAtMs === 0) v.expireAtMs = expireAtMs;
    return at !== undefined;
  }

  async show(view: BoardView, playerId: string, entry: BoardEntry | undefined) {
    const v = this.state(view);
    if (!v.hidden.delete(playerId)) return false;
    const warm = v.seq !== null;
    // On a cold view with a rebuild under way, the entry waits in the view for its swap.
    if (!entry || !(warm || v.rebuilds.size > 0)) return false;
    const at = v.merge(entry);
    if (at === undefined) return false;
    if (warm) v.bump(at);
    v.noteDirty(playerId);
    return true;
  }

  async beginRebuild(view: BoardView) {
    return this.begin(view);
  }

  private begin(view: BoardView): string {
    const token = randomUUID();
    this.state(view).rebuilds.set(token, new Set());
    return token;
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

  async entries(view: BoardView, playerIds: string[]) {
    const v = this.warm(view);
    if (!v) return null;
    return playerIds.map((id) => {
      const e = v.byId.get(id);
      return e && { ...e };
    });
  }

  async rebuild(view: BoardView, epoch: number, entries: RebuildEntries, expireAtMs?: number | null, token?: string) {
    const id = viewId(view);
    token ??= this.begin(view);
    // Chunks are collected first; an array is used as it is, without yielding to anyone meanwhile.
    const truth = Array.isArray(entries) ? entries : await collect(entries);
    // Synchronous from here on: the swap is one step for every reader.
    const live = this.state(view);
    const dirty = live.rebuilds.get(token) ?? new Set<string>();
    live.rebuilds.delete(token);
    // Built aside and swapped in whole: readers never see a partial board.
    const next = new MemoryView();
    next.load(live.hidden.size ? truth.filter((e) => !live.hidden.has(e.playerId)) : truth);
    for (const playerId of dirty) {
      const current = live.byId.get(playerId);
      const gone = live.gone.get(playerId);
      if (current) {
        // The same state as read, renamed meanwhile: the name is the newer part.
        if (next.merge(current) === undefined && next.byId.get(playerId)?.reachedSeq === current.reachedSeq) next.byId.get(playerId)!.username = current.username;
      } else if (gone !== undefined) next.merge({ playerId, username: playerId, score: 0, reachedSeq: gone });
    }
    for (const playerId of live.hidden) next.drop(playerId);
    for (const playerId of live.hidden) next.hidden.add(playerId);
    for (const [playerId, seq] of live.gone) next.gone.set(playerId, seq);
    for (const [t, d] of live.rebuilds) next.rebuilds.set(t, d);
    next.seq = Math.max(live.seq ?? 0, epoch * EPOCH_FACTOR);
    next.bump(1);
    next.expireAtMs = expireAtMs ?? 0;
    this.views.set(id, next);
  }

  async repair(view: BoardView, seen: BoardEntry | undefined, truth: BoardEntry) {
    const v = this.warm(view);
    if (!v) return false;
    const current = v.byId.get(truth.playerId);
    if (!(current === seen || sameEntry(current, seen))) return false;
    if (current) v.drop(current.playerId);
    if (truth.score > 0 && !v.hidden.has(truth.playerId)) v.insert({ ...truth });
    // A repair can change anything (a name too): every top-N moves.
    v.bump(1);
    v.noteDirty(truth.playerId);
    return true;
  }

  async rename(playerId: string, username: string) {
    for (const view of await this.warmViews()) {
      const v = this.warm(view)!;
      const e = v.byId.get(playerId);
      if (!e || e.username === username) continue;
      e.username = username;
      v.bump(v.indexOf(e) + 1);
      v.noteDirty(playerId);
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

async function collect(chunks: AsyncIterable<BoardEntry[]>): Promise<BoardEntry[]> {
  const out: BoardEntry[] = [];
  for await (const chunk of chunks) for (const e of chunk) out.push(e);
  return out;
}
