import type { Services } from '../../services.js';
import type { BoardDefinition } from '../boards/definitions.js';
import { nextBoundaryAfter, periodByKey } from '../boards/periods.js';
import { segmentColumn, type ResolvedView } from '../boards/ranking.js';
import { viewId } from '../boards/ranking-cache.js';
import { currentPeriod } from '../boards/views.js';
import type { BoardChangedNotice, EntryState, StandingMove } from './bus.js';
import { rankIn, type RankMode } from './leaderboard.js';
import { ScoreIndex } from './score-index.js';

/**
 * Live standings for `myStandingChanged`: one subscriber's own place on one
 * board view, pushed when their rank changes.
 *
 * Cost per score change: BOARD_CHANGED notices carry each player's move on each
 * view (score before and after). A move from s0 to s1 can only change the rank
 * of players whose score lies between s0 and s1 (entering or leaving: at or
 * below the score), so each view keeps its subscribers in a ScoreIndex by score
 * and finds exactly those in O(log n + affected). Only they are re-read (one
 * O(log n) cache read each); everyone else costs nothing.
 *
 * Notices are drained in batches, one batch at a time, so events for one
 * subscriber are never reordered and a burst costs one read per affected subscriber.
 */

/** What the StandingChange GraphQL type is resolved from. */
export interface StandingEvent {
  board: BoardDefinition;
  view: ResolvedView;
  /** Null: the player has no (visible) entry on this view. */
  standing: LiveStanding | null;
  previousRank: number | null;
  /** Player ids that moved above the viewer since the previous event, most recent last (at most 5). */
  overtakenBy: string[];
  seq: number;
  rankMode: RankMode;
}

export interface LiveStanding {
  position: number;
  competitionRank: number;
  denseRank: number;
  score: number;
  total: number;
  seq: number;
  reachedSeq: number;
}

export interface StandingSpec {
  playerId: string;
  board: string;
  /** A period key, or null: the current period (followed across boundaries). */
  period: string | null;
  segment: string | null;
  rankMode: RankMode;
}

export interface StandingFeed {
  subscribe(spec: StandingSpec, signal?: AbortSignal): AsyncIterableIterator<StandingEvent>;
  /** Re-reads every subscriber (after a bus reconnect). */
  resync(): Promise<void>;
  /** Subscribers on this instance, and standings read since start (the cost the tests and benchmarks watch). */
  stats(): { subscribers: number; reads: number };
  close(): Promise<void>;
}

const MAX_OVERTAKERS = 5;

interface Sub {
  key: string;
  spec: StandingSpec;
  board: BoardDefinition;
  view: ResolvedView;
  /** Last known state on the view (null: no entry), and the rank last delivered. */
  state: EntryState | null;
  lastRank: number | null;
  overtakers: string[];
  deliver(event: StandingEvent): void;
  rollover?: NodeJS.Timeout;
}

interface ViewSubs {
  /** ORDINAL and COMPETITION subscribers by score. */
  index: ScoreIndex;
  /**
   * DENSE subscribers by score: a move anywhere above them can add or remove a
   * distinct score (30 shared by two, one moves to 40: everyone below 30 drops a
   * dense rank), so for them the range is everything below the higher score.
   */
  dense: ScoreIndex;
  subs: Map<string, Sub>;
  byPlayer: Map<string, Set<Sub>>;
}

/** Is `a` (player pa) ahead of `b` (player pb) in the board order? */
function ahead(a: EntryState, pa: string, b: EntryState, pb: string): boolean {
  return a.score > b.score || (a.score === b.score && (a.seq < b.seq || (a.seq === b.seq && pa < pb)));
}

export async function createStandingFeed(services: Services): Promise<StandingFeed> {
  const views = new Map<string, ViewSubs>();
  let counter = 0;
  let subscribers = 0;
  let reads = 0;
  /** Queued work: moves per view, views to re-read whole ('all' = everything). */
  let queuedMoves: StandingMove[] = [];
  let queuedWhole = new Set<string>();
  let queuedAll = false;
  /** Subscribers that need their current standing sent regardless (new ones, and after a period rollover). */
  let queuedInitial = new Set<Sub>();
  let draining: Promise<void> | undefined;

  const unsubscribe = await services.bus.subscribe('BOARD_CHANGED', (notice: BoardChangedNotice) => {
    const moved = new Set<string>();
    for (const m of notice.moves ?? []) {
      if (!views.has(m.view)) continue;
      queuedMoves.push(m);
      moved.add(m.view);
    }
    // A view named without moves (a rebuild, a reconcile repair): its subscribers re-read.
    for (const v of notice.views ?? []) if (!moved.has(v) && views.has(v)) queuedWhole.add(v);
    drain();
  });
  services.bus.onReconnect(() => {
    queuedAll = true;
    drain();
  });

  async function read(view: ResolvedView, playerId: string): Promise<{ standing: LiveStanding | null; seq: number }> {
    reads += 1;
    // The one-row window around the player: position, ranks, score and the seq of its tie-break, in one read.
    const page = await services.ranking.around(view, playerId, 0, 0);
    const e = page.entries[0];
    if (!e || e.playerId !== playerId) return (await hiddenOwnStanding(view, playerId)) ?? { standing: null, seq: page.seq };
    return {
      standing: { position: e.position, competitionRank: e.competitionRank, denseRank: e.denseRank, score: e.score, total: page.total, seq: page.seq, reachedSeq: e.reachedSeq },
      seq: page.seq,
    };
  }

  /**
   * A hidden (or banned) player is on no cached board, yet their own standing
   * still works for them: where they would stand among the visible players,
   * from Postgres. One primary-key lookup tells whether that is the case.
   */
  async function hiddenOwnStanding(view: ResolvedView, playerId: string): Promise<{ standing: LiveStanding; seq: number } | null> {
    const [row] = await services.prisma.$queryRaw<{ reachedSeq: bigint }[]>`
      SELECT reached_seq AS "reachedSeq" FROM board_entries
      WHERE board_id = ${view.board} AND period_key = ${view.period} AND segment = ${segmentColumn(view)} AND player_id = ${playerId} AND hidden`;
    if (!row) return null;
    const s = await services.ranking.standing(view, playerId, { hidden: true });
    return s ? { standing: { ...s, reachedSeq: Number(row.reachedSeq) }, seq: s.seq } : null;
  }

  function place(sub: Sub, standing: LiveStanding | null) {
    const vs = views.get(viewId(sub.view));
    sub.state = standing ? { score: standing.score, seq: standing.reachedSeq } : null;
    if (!vs) return;
    const index = sub.spec.rankMode === 'DENSE' ? vs.dense : vs.index;
    if (standing) index.set(sub.key, standing.score);
    else index.delete(sub.key);
  }

  /** Re-reads the given subscribers (one read per player and view) and delivers to those whose rank changed. */
  async function refresh(list: Iterable<Sub>, forced: Set<Sub>) {
    const byPlayerView = new Map<string, Sub[]>();
    for (const sub of list) {
      if (!views.get(viewId(sub.view))?.subs.has(sub.key)) continue; // ended meanwhile
      const k = `${viewId(sub.view)}\u0000${sub.spec.playerId}`;
      const group = byPlayerView.get(k) ?? [];
      group.push(sub);
      byPlayerView.set(k, group);
    }
    await Promise.all(
      [...byPlayerView.values()].map(async (group) => {
        const { standing, seq } = await read(group[0]!.view, group[0]!.spec.playerId);
        for (const sub of group) {
          place(sub, standing);
          const rank = standing ? rankIn(standing, sub.spec.rankMode) : null;
          if (!forced.has(sub) && rank === sub.lastRank) continue;
          const event: StandingEvent = {
            board: sub.board,
            view: sub.view,
            standing,
            previousRank: sub.lastRank,
            overtakenBy: sub.overtakers.slice(-MAX_OVERTAKERS),
            seq,
            rankMode: sub.spec.rankMode,
          };
          sub.lastRank = rank;
          sub.overtakers = [];
          sub.deliver(event);
        }
      }),
    );
  }

  /** The subscribers a move may affect, noting who passed whom on the way. */
  function affectedBy(move: StandingMove, into: Set<Sub>) {
    const vs = views.get(move.view);
    if (!vs) return;
    for (const sub of vs.byPlayer.get(move.player) ?? []) into.add(sub);
    const { from, to } = move;
    if (!from && !to) return;
    const lo = from && to ? Math.min(from.score, to.score) : -Infinity;
    const hi = Math.max(from?.score ?? -Infinity, to?.score ?? -Infinity);
    const candidates = [...vs.index.range(lo, hi), ...vs.dense.range(-Infinity, hi)];
    for (const key of candidates) {
      const sub = vs.subs.get(key)!;
      if (sub.spec.playerId === move.player || !sub.state) continue;
      const was = from !== null && ahead(from, move.player, sub.state, sub.spec.playerId);
      const is = to !== null && ahead(to, move.player, sub.state, sub.spec.playerId);
      // Ties at either end: re-read only if the mover changed sides (position) or went strictly above or
      // below (competition); DENSE subscribers are always re-read (see ViewSubs.dense).
      const higherBefore = from !== null && from.score > sub.state.score;
      const higherAfter = to !== null && to.score > sub.state.score;
      if (sub.spec.rankMode === 'DENSE' || was !== is || higherBefore !== higherAfter) into.add(sub);
      if (!was && is) {
        sub.overtakers = sub.overtakers.filter((p) => p !== move.player);
        sub.overtakers.push(move.player);
        if (sub.overtakers.length > MAX_OVERTAKERS * 4) sub.overtakers = sub.overtakers.slice(-MAX_OVERTAKERS);
      } else if (was && !is) {
        sub.overtakers = sub.overtakers.filter((p) => p !== move.player);
      }
    }
  }

  function drain() {
    if (draining) return;
    draining = (async () => {
      while (queuedMoves.length || queuedWhole.size || queuedAll || queuedInitial.size) {
        const moves = queuedMoves;
        const whole = queuedWhole;
        const all = queuedAll;
        const initial = queuedInitial;
        queuedMoves = [];
        queuedWhole = new Set();
        queuedAll = false;
        queuedInitial = new Set();
        const affected = new Set<Sub>(initial);
        if (all) {
          for (const vs of views.values()) for (const sub of vs.subs.values()) affected.add(sub);
        } else {
          for (const v of whole) for (const sub of views.get(v)?.subs.values() ?? []) affected.add(sub);
          for (const move of moves) affectedBy(move, affected);
        }
        await refresh(affected, initial).catch((error: Error) => services.logger.warn({ err: error.message }, 'live standing refresh failed'));
      }
    })().finally(() => (draining = undefined));
  }

  function join(sub: Sub) {
    const id = viewId(sub.view);
    let vs = views.get(id);
    if (!vs) views.set(id, (vs = { index: new ScoreIndex(), dense: new ScoreIndex(), subs: new Map(), byPlayer: new Map() }));
    vs.subs.set(sub.key, sub);
    const mine = vs.byPlayer.get(sub.spec.playerId) ?? new Set<Sub>();
    mine.add(sub);
    vs.byPlayer.set(sub.spec.playerId, mine);
  }

  function leave(sub: Sub) {
    const id = viewId(sub.view);
    const vs = views.get(id);
    if (!vs) return;
    vs.subs.delete(sub.key);
    vs.index.delete(sub.key);
    vs.dense.delete(sub.key);
    const mine = vs.byPlayer.get(sub.spec.playerId);
    mine?.delete(sub);
    if (mine?.size === 0) vs.byPlayer.delete(sub.spec.playerId);
    if (vs.subs.size === 0) views.delete(id);
  }

  function viewFor(board: BoardDefinition, spec: StandingSpec): ResolvedView {
    const periodInfo = spec.period === null ? currentPeriod(board) : periodByKey(board, spec.period);
    return { board: board.id, period: periodInfo.key, segment: spec.segment, periodInfo };
  }

  /** `period: null` follows the current period: at the boundary the subscriber moves on and gets their standing there. */
  function armRollover(sub: Sub, active: () => boolean) {
    if (sub.spec.period !== null) return;
    const at = nextBoundaryAfter(sub.board, Date.now());
    if (!at) return;
    const wait = Math.min(Math.max(0, at.getTime() - Date.now()) + 5, 2 ** 31 - 1);
    sub.rollover = setTimeout(() => {
      if (!active()) return;
      leave(sub);
      sub.view = viewFor(sub.board, sub.spec);
      sub.state = null;
      join(sub);
      queuedInitial.add(sub);
      drain();
      armRollover(sub, active);
    }, wait);
    sub.rollover.unref();
  }

  const closers = new Set<() => void>();

  return {
    subscribe(spec, signal) {
      const pending: StandingEvent[] = [];
      let wake: (() => void) | undefined;
      let closed = false;
      let sub: Sub | undefined;
      const push = (event: StandingEvent) => {
        // A consumer that has not taken the last event yet gets one merged event: the newest standing,
        // the rank it last saw as previousRank, and everyone who passed it meanwhile.
        const last = pending.at(-1);
        if (last) {
          pending[pending.length - 1] = {
            ...event,
            previousRank: last.previousRank,
            overtakenBy: [...last.overtakenBy.filter((p) => !event.overtakenBy.includes(p)), ...event.overtakenBy].slice(-MAX_OVERTAKERS),
          };
        } else pending.push(event);
        wake?.();
      };
      const end = () => {
        if (closed) return;
        closed = true;
        closers.delete(end);
        if (sub) {
          clearTimeout(sub.rollover);
          leave(sub);
          subscribers -= 1;
        }
        wake?.();
      };
      signal?.addEventListener('abort', end, { once: true });
      closers.add(end);
      // The current standing first, at once; joined before it is read, so no move in between is missed.
      void (async () => {
        const board = await services.definitions.require(spec.board);
        if (closed) return;
        sub = { key: String(++counter), spec, board, view: viewFor(board, spec), state: null, lastRank: null, overtakers: [], deliver: push };
        subscribers += 1;
        join(sub);
        armRollover(sub, () => !closed);
        // Through the same queue as the notices: the snapshot goes out before any change that follows it.
        queuedInitial.add(sub);
        drain();
      })().catch((error: Error) => {
        services.logger.warn({ err: error.message }, 'live standing snapshot failed');
        end();
      });
      const iterator: AsyncIterableIterator<StandingEvent> = {
        [Symbol.asyncIterator]: () => iterator,
        async next() {
          while (pending.length === 0 && !closed) await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          const value = pending.shift();
          if (!value) return { done: true, value: undefined };
          return { done: false, value };
        },
        async return() {
          end();
          return { done: true, value: undefined };
        },
      };
      return iterator;
    },
    async resync() {
      queuedAll = true;
      drain();
      await draining;
    },
    stats: () => ({ subscribers, reads }),
    async close() {
      unsubscribe();
      for (const end of [...closers]) end();
      views.clear();
    },
  };
}
