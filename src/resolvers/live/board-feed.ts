import type { Services } from '../../services.js';
import type { BoardDefinition } from '../boards/definitions.js';
import { nextBoundaryAfter, periodByKey } from '../boards/periods.js';
import type { ResolvedView } from '../boards/ranking.js';
import { viewId, type BoardPage } from '../boards/ranking-cache.js';
import { currentPeriod } from '../boards/views.js';
import { pageToLeaderboard, type Leaderboard, type RankMode } from './leaderboard.js';

/**
 * Live boards for `leaderboardChanged`. Per instance, per burst of changes,
 * each changed view is read once (the largest `first` asked of it) and sliced
 * for every distinct (first, rankMode); every listener of the same board view,
 * size and mode receives the very same Leaderboard object, so the GraphQL layer
 * can execute and serialize it once for all of them.
 *
 * Delivery is leading-edge: a change is flushed at once when nothing was
 * flushed in the last coalescing window; changes inside the window wait for its
 * end, so the last event always shows the final state.
 *
 * Listeners of the current period (`period: null`) follow it: at a boundary
 * they get the new period's board.
 *
 * A listener gets the current snapshot first, then every newer board; never a
 * lower seq than it already has.
 */
export type BoardListener = (board: Leaderboard) => void;

export interface FeedSpec {
  board: string;
  /** A period key, or null for "the current period". */
  period: string | null;
  /** The segment (already resolved for segmented boards), else null. */
  segment: string | null;
  first: number;
  rankMode: RankMode;
}

interface Group {
  key: string;
  spec: FeedSpec;
  listeners: Set<Listener>;
  /** The view the group shows now (moves at period boundaries when spec.period is null). */
  view?: ResolvedView;
  last?: Leaderboard;
}

interface Listener {
  lastSeq: number;
  deliver: BoardListener;
}

export interface BoardFeed {
  /** Calls `deliver` with the snapshot, then with each change; returns the unsubscribe function. */
  listen(spec: FeedSpec, deliver: BoardListener): () => void;
  /**
   * The same as an async iterator holding at most one undelivered board: a newer
   * one replaces it, so a slow consumer skips to the latest state instead of buffering.
   */
  subscribe(spec: FeedSpec, signal?: AbortSignal): AsyncIterableIterator<Leaderboard>;
  /** Number of live listeners on this instance. */
  size(): number;
  /** Re-reads every board now and pushes it to everyone (after a bus reconnect or rebuild). */
  resync(): Promise<void>;
  close(): Promise<void>;
}

/** How often live boards are re-read from Postgres while the ranking cache is down. */
const DEGRADED_POLL_MS = 1_000;

const groupKey = (s: FeedSpec) => JSON.stringify([s.board, s.period, s.segment, s.first, s.rankMode]);

export async function createBoardFeed(services: Services): Promise<BoardFeed> {
  const groups = new Map<string, Group>();
  const closers = new Set<() => void>();
  /** Boundary timers, per board with current-period listeners. */
  const rollovers = new Map<string, NodeJS.Timeout>();
  let timer: NodeJS.Timeout | undefined;
  /** While the ranking cache is down no change notices arrive: live boards are re-read from Postgres on this timer. */
  let pollTimer: NodeJS.Timeout | undefined;
  /** Snapshot reads in flight, per view and size: a reconnect storm of N subscribers costs one read, not N. */
  const snapshots = new Map<string, Promise<BoardPage>>();
  let lastFlushAt = 0;
  let flushing: Promise<void> | undefined;
  /** What the next flush must re-read: changed view ids, or everything. */
  let dirty: Set<string> | 'all' = new Set();
  let again: boolean | undefined; // undefined: no rerun; else whether the rerun must be forced
  let count = 0;
  const windowMs = services.config.leaderboard.coalesceMs;

  const unsubscribe = await services.bus.subscribe('BOARD_CHANGED', ({ views }) => {
    if (dirty !== 'all') for (const v of views ?? []) dirty.add(v);
    schedule();
  });
  // No notices while the bus is down: read the boards now, and poll while the cache is down too.
  services.bus.onDisconnect(() => {
    dirty = 'all';
    void flush(false);
  });
  services.bus.onReconnect(() => {
    services.logger.info('bus reconnected: resyncing live boards');
    dirty = 'all';
    void flush(true);
  });

  /** Leading edge: at once when the last flush is a window ago; else at the end of that window. */
  function schedule() {
    if (timer || groups.size === 0) return;
    const wait = lastFlushAt + windowMs - Date.now();
    if (wait <= 0) {
      lastFlushAt = Date.now();
      services.metrics.liveFlushes.inc({ edge: 'leading' });
      void flush(false);
      return;
    }
    timer = setTimeout(() => {
      timer = undefined;
      lastFlushAt = Date.now();
      services.metrics.liveFlushes.inc({ edge: 'trailing' });
      void flush(false);
    }, wait);
  }

  async function flush(force: boolean): Promise<void> {
    if (flushing) {
      // A notice during a flush must not be lost: run once more afterwards.
      again = (again ?? false) || force;
      return flushing;
    }
    flushing = (async () => {
      let forced: boolean | undefined = force;
      while (forced !== undefined) {
        again = undefined;
        const changed = dirty;
        dirty = new Set();
        await flushOnce(forced, changed);
        forced = again;
      }
    })()
      .catch((error: Error) => services.logger.warn({ err: error.message }, 'live board flush failed'))
      .finally(() => (flushing = undefined));
    return flushing;
  }

  /** The view a group shows now; a new period's view is warmed so its seq starts above the old one's. */
  async function viewOf(group: Group, board: BoardDefinition): Promise<ResolvedView> {
    const { spec } = group;
    if (spec.period !== null && group.view) return group.view;
    const periodInfo = spec.period === null ? currentPeriod(board) : periodByKey(board, spec.period);
    const view: ResolvedView = { board: board.id, period: periodInfo.key, segment: spec.segment, periodInfo };
    if (group.view?.period !== view.period && group.view) {
      try {
        if ((await services.rankingCache.seq(view)) === null) await services.ranking.scheduleRebuild(view, 'rollover');
      } catch (error) {
        services.logger.warn({ err: (error as Error).message }, 'rollover warm-up failed; reading Postgres');
      }
    }
    return view;
  }

  async function flushOnce(force: boolean, changed: Set<string> | 'all') {
    if (groups.size === 0) return;
    const started = process.hrtime.bigint();
    // Which groups need a read, by view; one read per view for the largest `first`.
    const byView = new Map<string, { view: ResolvedView; board: BoardDefinition; groups: Group[] }>();
    for (const group of groups.values()) {
      const board = await services.definitions.get(group.spec.board);
      if (!board) continue;
      const view = await viewOf(group, board);
      const moved = group.view?.period !== view.period;
      group.view = view;
      const id = viewId(view);
      if (!force && !moved && changed !== 'all' && !changed.has(id)) continue;
      let entry = byView.get(id);
      if (!entry) byView.set(id, (entry = { view, board, groups: [] }));
      entry.groups.push(group);
    }
    let pushed = 0;
    await Promise.all(
      [...byView.values()].map(async ({ view, board, groups: list }) => {
        const largest = Math.max(...list.map((g) => g.spec.first));
        const page = await services.ranking.page(view, 0, largest);
        for (const group of list) {
          const next = pageToLeaderboard(board, view, page, group.spec.first, group.spec.rankMode);
          if (!force && group.last && group.last.period.key === next.period.key && next.seq <= group.last.seq) continue;
          group.last = next;
          for (const listener of group.listeners) pushed += offer(listener, next, force) ? 1 : 0;
        }
      }),
    );
    if (pushed > 0) {
      services.metrics.eventsPushed.inc(pushed);
      services.metrics.fanoutSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    }
    pollWhileDegraded();
  }

  function pollWhileDegraded() {
    if (pollTimer || groups.size === 0 || !services.ranking.degraded()) return;
    pollTimer = setTimeout(
      () => {
        pollTimer = undefined;
        dirty = 'all';
        void flush(false);
      },
      Math.max(windowMs, DEGRADED_POLL_MS),
    );
    pollTimer.unref();
  }

  /** The first `first` entries of a view, read once for every snapshot asked at the same time. */
  function snapshotPage(view: ResolvedView, first: number): Promise<BoardPage> {
    const key = `${viewId(view)}#${first}`;
    let read = snapshots.get(key);
    if (!read) {
      services.metrics.liveSnapshotReads.inc();
      read = services.ranking.page(view, 0, first).finally(() => snapshots.delete(key));
      snapshots.set(key, read);
    }
    return read;
  }

  function offer(listener: Listener, board: Leaderboard, force: boolean): boolean {
    if (board.seq < listener.lastSeq || (!force && board.seq === listener.lastSeq)) return false;
    listener.lastSeq = board.seq;
    try {
      listener.deliver(board);
    } catch (error) {
      services.logger.warn({ err: (error as Error).message }, 'live board delivery failed');
    }
    return true;
  }

  /** At the next period boundary of a board with current-period listeners: everyone moves on. */
  async function armRollover(boardId: string) {
    if (rollovers.has(boardId)) return;
    const board = await services.definitions.get(boardId);
    const at = board && nextBoundaryAfter(board, Date.now());
    if (!at || ![...groups.values()].some((g) => g.spec.board === boardId && g.spec.period === null)) return;
    // setTimeout holds at most ~24.8 days; a longer wait is re-armed on the way.
    const wait = Math.min(Math.max(0, at.getTime() - Date.now()) + 5, 2 ** 31 - 1);
    const t = setTimeout(() => {
      rollovers.delete(boardId);
      dirty = 'all';
      void flush(false)
        .then(() => armRollover(boardId))
        .catch((error: Error) => services.logger.warn({ err: error.message, board: boardId }, 'live board rollover timer could not be re-armed'));
    }, wait);
    t.unref();
    rollovers.set(boardId, t);
  }

  function listen(spec: FeedSpec, deliver: BoardListener): () => void {
    const listener: Listener = { lastSeq: -1, deliver };
    const key = groupKey(spec);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { key, spec, listeners: new Set() }));
    group.listeners.add(listener);
    count += 1;
    services.metrics.subscribers.set(count);
    if (spec.period === null) {
      void armRollover(spec.board).catch((error: Error) => services.logger.warn({ err: error.message, board: spec.board }, 'live board rollover timer could not be armed'));
    }
    let active = true;
    const stop = () => {
      if (!active) return;
      active = false;
      closers.delete(stop);
      group.listeners.delete(listener);
      if (group.listeners.size === 0 && groups.get(key) === group) groups.delete(key);
      count -= 1;
      services.metrics.subscribers.set(count);
      if (![...groups.values()].some((g) => g.spec.board === spec.board && g.spec.period === null)) {
        clearTimeout(rollovers.get(spec.board));
        rollovers.delete(spec.board);
      }
    };
    closers.add(stop);
    // The snapshot first, at once: a (re)connecting client never shows a stale board.
    void (async () => {
      const board = await services.definitions.get(spec.board);
      if (!board) return;
      const view = await viewOf(group, board);
      group.view ??= view;
      const page = await snapshotPage(view, spec.first);
      if (active) offer(listener, pageToLeaderboard(board, view, page, spec.first, spec.rankMode), true);
    })().catch((error: Error) => services.logger.warn({ err: error.message }, 'live board snapshot failed'));
    return stop;
  }

  return {
    listen,
    size: () => count,
    resync: () => {
      dirty = 'all';
      return flush(true);
    },
    async close() {
      clearTimeout(timer);
      clearTimeout(pollTimer);
      for (const t of rollovers.values()) clearTimeout(t);
      rollovers.clear();
      unsubscribe();
      for (const stop of [...closers]) stop();
      groups.clear();
    },
    subscribe(spec, signal) {
      let pending: Leaderboard | undefined;
      let wake: (() => void) | undefined;
      let closed = false;
      const stop = listen(spec, (board) => {
        pending = board;
        wake?.();
      });
      const end = () => {
        closers.delete(end);
        closed = true;
        stop();
        wake?.();
      };
      signal?.addEventListener('abort', end, { once: true });
      closers.add(end);
      const iterator: AsyncIterableIterator<Leaderboard> = {
        [Symbol.asyncIterator]: () => iterator,
        async next() {
          while (!pending && !closed) await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          if (closed && !pending) return { done: true, value: undefined };
          const value = pending!;
          pending = undefined;
          return { done: false, value };
        },
        async return() {
          end();
          return { done: true, value: undefined };
        },
      };
      return iterator;
    },
  };
}
