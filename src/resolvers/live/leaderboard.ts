import type { BoardDefinition } from '../boards/definitions.js';
import type { Period } from '../boards/periods.js';
import type { BoardPage, BoardView, RankedEntry } from '../boards/ranking-cache.js';

/** How `rank` is counted: ORDINAL = position; COMPETITION 1, 2, 2, 4; DENSE 1, 2, 2, 3. */
export type RankMode = 'ORDINAL' | 'COMPETITION' | 'DENSE';

/** What the Leaderboard GraphQL type is resolved from: one page of one board view, read at one version. */
export interface Leaderboard {
  board: BoardDefinition;
  period: Period;
  segment: string | null;
  seq: number;
  totalPlayers: number;
  entries: RankedEntry[];
  rankMode: RankMode;
  updatedAt: Date;
  /** A friends board: positions count within the viewer's friends, not the whole board. */
  friendsOnly?: boolean;
}

export function rankIn(entry: Pick<RankedEntry, 'position' | 'competitionRank' | 'denseRank'>, mode: RankMode): number {
  return mode === 'COMPETITION' ? entry.competitionRank : mode === 'DENSE' ? entry.denseRank : entry.position;
}

/**
 * The board for `first` entries of a top page read for a larger size: the
 * slice, with the seq of that slice (prefix seqs) when the page has them.
 */
export function pageToLeaderboard(board: BoardDefinition, view: BoardView & { periodInfo: Period }, page: BoardPage, first: number, rankMode: RankMode): Leaderboard {
  return {
    board,
    period: view.periodInfo,
    segment: view.segment,
    seq: page.prefixSeqs[first - 1] ?? page.seq,
    totalPlayers: page.total,
    entries: page.entries.slice(0, first),
    rankMode,
    updatedAt: new Date(),
  };
}
