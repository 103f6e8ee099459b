/**
 * The ranking cache: the ordered board (score desc, first to reach first) kept
 * hot for reads. Postgres is the truth; the cache is rebuilt and reconciled from it.
 *
 * Scores only grow (points are positive), so `apply` keeps whichever of the
 * cached and the offered state has the higher score: a slow commit that lands
 * after a newer one can never move a player backwards.
 *
 * `seq` is the board version: epoch * 2^32 + changes since the epoch began.
 * The epoch comes from a Postgres sequence at every rebuild, so seq never
 * decreases, even when Redis loses its data or the process restarts.
 */
export interface BoardEntry {
  playerId: string;
  username: string;
  score: number;
  /** Global order in which the score was reached (credit id); lower wins ties. */
  reachedSeq: number;
}

export interface RankedEntry extends BoardEntry {
  rank: number;
}

export interface BoardSnapshot {
  seq: number;
  entries: RankedEntry[];
  /** prefixSeqs[k - 1] = the seq of the top k (k <= n): one read serves every smaller board too. */
  prefixSeqs: number[];
}

/** Running maximum: the seq of each top-k board from the last change at each rank. */
export function prefixMax(changedAt: number[]): number[] {
  let max = 0;
  return changedAt.map((v) => (max = Math.max(max, v)));
}

export interface RankingCache {
  /**
   * Merges one player's committed state. Returns the board seq after it and the
   * player's rank (one round trip), or null when the cache is cold (needs a rebuild).
   */
  apply(entry: BoardEntry): Promise<{ seq: number; rank: number } | null>;
  /**
   * Top n, read atomically with its seq: the seq of the last change that
   * touched ranks 1..n, so it is the same for the same top n on every instance
   * and changes exactly when the top n does. Null when cold.
   */
  top(n: number): Promise<BoardSnapshot | null>;
  /** 1-based rank, undefined when the player is not on the board, null when cold. */
  rankOf(playerId: string): Promise<number | undefined | null>;
  /** Current seq of the whole board; null when cold. */
  seq(): Promise<number | null>;
  /** Every cached entry (for reconcile). */
  all(): Promise<BoardEntry[]>;
  /** Starts a new epoch and merges `entries` (never lowers a newer cached score). */
  rebuild(epoch: number, entries: BoardEntry[]): Promise<void>;
  /** Replaces a drifted entry with the truth, only if it still equals `seen`. Returns true when changed. */
  repair(seen: BoardEntry | undefined, truth: BoardEntry): Promise<boolean>;
  /** Renames a player if cached. */
  rename(playerId: string, username: string): Promise<void>;
}

export const EPOCH_FACTOR = 2 ** 32;
/** Largest `first` a board can be asked for. */
export const MAX_BOARD_SIZE = 100;

/** Sort order of the board: score desc, then who reached it first, then id for total order. */
export function compareEntries(a: BoardEntry, b: BoardEntry): number {
  if (a.score !== b.score) return b.score - a.score;
  if (a.reachedSeq !== b.reachedSeq) return a.reachedSeq - b.reachedSeq;
  return a.playerId < b.playerId ? -1 : a.playerId > b.playerId ? 1 : 0;
}

export function sameEntry(a: BoardEntry | undefined, b: BoardEntry | undefined): boolean {
  return !!a && !!b && a.playerId === b.playerId && a.score === b.score && a.reachedSeq === b.reachedSeq;
}
