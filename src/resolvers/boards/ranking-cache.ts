/**
 * The ranking cache port: one ordered standings table per board view (board,
 * period, segment), kept hot for reads. Postgres is the truth; the cache is
 * rebuilt and reconciled from it. Two implementations, Redis (shared by every
 * instance) and in-process (the embedded default), pass one contract suite.
 *
 * Order: score descending, then who reached that score first on this view
 * (`reachedSeq`, the credit id), then player id for a total order.
 *
 * Every state of a player's entry carries the id of the credit (or void, or
 * import) that produced it, drawn after the player's row lock, so a higher
 * `reachedSeq` is always the newer state: `apply` keeps the newer one, and a
 * slow commit that lands after a newer one can never move a player backwards,
 * up or down.
 *
 * Hidden players (hidden or banned by an operator) are kept out of a view by a
 * marker set with `hide`, which also holds off any state of theirs still on its
 * way, until `show` lifts it.
 *
 * `seq` is the view's version: epoch * 2^32 + changes since the epoch began.
 * The epoch comes from a Postgres sequence at every rebuild, so seq never
 * decreases, even when Redis loses its data or the process restarts.
 */
export interface BoardView {
  board: string;
  /** Period key ("all", "2026-11-30", "2026-11", "17"). */
  period: string;
  /** Segment value on segmented boards, else null. */
  segment: string | null;
}

/** A stable string for maps and Redis keys. */
export function viewId(view: BoardView): string {
  return `${view.board}|${view.period}|${view.segment === null ? '' : encodeURIComponent(view.segment)}`;
}

export function parseViewId(id: string): BoardView {
  const [board, period, segment] = id.split('|') as [string, string, string];
  return { board, period, segment: segment === '' ? null : decodeURIComponent(segment) };
}

export interface BoardEntry {
  playerId: string;
  username: string;
  score: number;
  /** Credit id at which the score was reached on this view; lower wins ties. */
  reachedSeq: number;
}

export interface RankedEntry extends BoardEntry {
  /** 1-based, unique: the order above. */
  position: number;
  /** 1 + entries with a strictly higher score (1, 2, 2, 4). */
  competitionRank: number;
  /** 1 + distinct higher scores (1, 2, 2, 3). */
  denseRank: number;
}

export interface BoardPage {
  /** The view's seq; for a top page (offset 0), the seq of the last change within it. */
  seq: number;
  total: number;
  entries: RankedEntry[];
  /** Top pages only: prefixSeqs[k - 1] = the seq of the top k, so one read serves every smaller board. */
  prefixSeqs: number[];
}

export interface CachedStanding {
  position: number;
  competitionRank: number;
  denseRank: number;
  score: number;
  total: number;
  seq: number;
}

export interface RankingCache {
  /**
   * Merges one player's committed state into a view. Returns the player's
   * standing right after it (one round trip), or null when the view is cold
   * (needs a rebuild). On a cold view whose rebuild is under way (begun, not
   * yet swapped in), the state is kept for that rebuild's swap, like a change
   * to a warm view: the rebuild may have read that player before the commit.
   * `expireAtMs` lets a finished period's view expire.
   */
  apply(view: BoardView, entry: BoardEntry, expireAtMs?: number | null): Promise<CachedStanding | null>;
  /**
   * Takes a player off a view for everyone (hide, ban), warm or cold: later
   * states of theirs are ignored, and a rebuild leaves them out, until `show`.
   * Returns true when the board changed (its seq moved).
   */
  hide(view: BoardView, playerId: string, expireAtMs?: number | null): Promise<boolean>;
  /** Lifts `hide` and merges the player's entry (their truth from Postgres; undefined: none). True when the board changed. */
  show(view: BoardView, playerId: string, entry: BoardEntry | undefined, expireAtMs?: number | null): Promise<boolean>;
  /** `n` entries from `offset` (0-based), read atomically with the seq; null when cold. */
  page(view: BoardView, offset: number, n: number): Promise<BoardPage | null>;
  /**
   * The `above + below + 1` entries around a player, shifted at either end so
   * the window is full and holds the player; the top when the player has no
   * entry. Null when cold.
   */
  around(view: BoardView, playerId: string, above: number, below: number): Promise<BoardPage | null>;
  /** A player's standing; undefined without an entry, null when cold. */
  standing(view: BoardView, playerId: string): Promise<CachedStanding | undefined | null>;
  /** Current seq of the view; null when cold. */
  seq(view: BoardView): Promise<number | null>;
  /** Every cached entry of a view (tests and tools; reconcile reads points and slices). */
  all(view: BoardView): Promise<BoardEntry[]>;
  /**
   * The entries of these players, as `all` reports them (undefined: no entry),
   * in the order asked, read in one atomic step; null when the view is cold.
   * O(k log n): reconcile's point reads.
   */
  entries(view: BoardView, playerIds: string[]): Promise<(BoardEntry | undefined)[] | null>;
  /**
   * Notes, from now on, which players change on the view, so that a rebuild
   * whose truth is read after this call keeps their newer states. Returns the
   * rebuild's token.
   */
  beginRebuild(view: BoardView): Promise<string>;
  /**
   * Starts a new epoch for the view: `entries` (the truth, read after
   * `beginRebuild(view)` returned `token`) are built aside, the states that
   * changed meanwhile are carried over, hidden players are left out, and the
   * result replaces the view in one atomic step with a seq above anything
   * before. Without a token, begins one itself (nothing changes meanwhile).
   * `entries` may come in chunks as they are read (a million players need not
   * be held in memory at once); each player appears at most once.
   */
  rebuild(view: BoardView, epoch: number, entries: RebuildEntries, expireAtMs?: number | null, token?: string): Promise<void>;
  /** Replaces a drifted entry with the truth, only if it still equals `seen`. Returns true when changed. */
  repair(view: BoardView, seen: BoardEntry | undefined, truth: BoardEntry): Promise<boolean>;
  /** Renames a player on every warm view that holds them (a change moves that view's seq, and the top-N seqs from the player's rank). */
  rename(playerId: string, username: string): Promise<void>;
  /** Views currently warm (rebuilt and not expired). */
  warmViews(): Promise<BoardView[]>;
}

/** The truth for a rebuild: all at once, or in chunks as they are read from Postgres. */
export type RebuildEntries = BoardEntry[] | AsyncIterable<BoardEntry[]>;

/** The chunks of `entries`, whichever form they come in. */
export async function* rebuildChunks(entries: RebuildEntries): AsyncIterable<BoardEntry[]> {
  if (Array.isArray(entries)) yield entries;
  else yield* entries;
}

export const EPOCH_FACTOR = 2 ** 32;
/** Largest `first` a board can be asked for, and the ranks whose changes are tracked per view. */
export const MAX_BOARD_SIZE = 100;

/** Running maximum: the seq of each top-k board from the last change at each rank. */
export function prefixMax(changedAt: number[]): number[] {
  let max = 0;
  return changedAt.map((v) => (max = Math.max(max, v)));
}

/** Sort order of a view: score desc, then who reached it first, then id for total order. */
export function compareEntries(a: BoardEntry, b: BoardEntry): number {
  if (a.score !== b.score) return b.score - a.score;
  if (a.reachedSeq !== b.reachedSeq) return a.reachedSeq - b.reachedSeq;
  return a.playerId < b.playerId ? -1 : a.playerId > b.playerId ? 1 : 0;
}

export function sameEntry(a: BoardEntry | undefined, b: BoardEntry | undefined): boolean {
  return !!a && !!b && a.playerId === b.playerId && a.score === b.score && a.reachedSeq === b.reachedSeq && a.username === b.username;
}

/**
 * Ranks for a run of consecutive entries, given the first one's position and
 * ranks: within the run, ties share the competition and dense rank.
 */
export function rankRun(entries: BoardEntry[], firstPosition: number, firstCompetition: number, firstDense: number): RankedEntry[] {
  const out: RankedEntry[] = [];
  let competition = firstCompetition;
  let dense = firstDense;
  entries.forEach((e, i) => {
    const prev = entries[i - 1];
    if (prev && prev.score !== e.score) {
      competition = firstPosition + i;
      dense += 1;
    }
    out.push({ ...e, position: firstPosition + i, competitionRank: competition, denseRank: dense });
  });
  return out;
}
