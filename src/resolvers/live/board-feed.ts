import type { Services } from '../../services.js';
import { readBoards, type Leaderboard } from '../boards/ranking.js';

/**
 * Live boards for `leaderboardChanged`. Per instance, per burst of changes, the
 * board is read once (top 100) and sliced for each distinct `first`; every
 * listener of the same `first` receives the very same Leaderboard object, so
 * the GraphQL layer can execute and serialize it once for all of them.
 *
 * A listener gets the current snapshot first, then every newer board; never a
 * lower seq than it already has.
 */
export type BoardListener = (board: Leaderboard) => void;

interface Group {
  first: number;
  listeners: Set<Listener>;
  last?: Leaderboard;
}

interface Listener {
  lastSeq: number;
  deliver: BoardListener;
}

export interface BoardFeed {
  /** Calls `deliver` with the snapshot, then with each change; returns the unsubscribe function. */
  listen(first: number, deliver: BoardListener): () => void;
  /**
   * The same as an async iterator holding at most one undelivered board: a newer
   * one replaces it, so a slow consumer skips to the latest state instead of buffering.
   */
  subscribe(first: number, signal?: AbortSignal): AsyncIterableIterator<Leaderboard>;
  /** Number of live listeners on this instance. */
  size(): number;
  /** Re-reads the board now and pushes it to everyone (after a bus reconnect or rebuild). */
  resync(): Promise<void>;
  close(): Promise<void>;
}

export async function createBoardFeed(services: Services): Promise<BoardFeed> {
  const groups = new Map<number, Group>();
  const closers = new Set<() => void>();
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> | undefined;
  let again: boolean | undefined; // undefined: no rerun; else whether the rerun must be forced
  let count = 0;

  const unsubscribe = await services.bus.subscribe('BOARD_CHANGED', () => schedule());
  services.bus.onReconnect(() => {
    services.logger.info('bus reconnected: resyncing live boards');
    void flush(true);
  });

  /** Coalesces a burst of notices into one read after `coalesceMs`. */
  function schedule() {
    if (timer || groups.size === 0) return;
    timer = setTimeout(() => {
      timer = undefined;
      void flush(false);
    }, services.config.leaderboard.coalesceMs);
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
        await flushOnce(forced);
        forced = again;
      }
    })()
      .catch((error: Error) => services.logger.warn({ err: error.message }, 'live board flush failed'))
      .finally(() => (flushing = undefined));
    return flushing;
  }

  async function flushOnce(force: boolean) {
    if (groups.size === 0) return;
    const started = process.hrtime.bigint();
    const boards = await readBoards(services, [...groups.keys()]);
    let pushed = 0;
    for (const group of groups.values()) {
      const board = boards.get(group.first)!;
      if (!force && group.last && board.seq <= group.last.seq) continue;
      group.last = board;
      for (const listener of group.listeners) pushed += offer(listener, board, force) ? 1 : 0;
    }
    if (pushed > 0) {
      services.metrics.eventsPushed.inc(pushed);
      services.metrics.fanoutSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    }
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

  function listen(first: number, deliver: BoardListener): () => void {
    const listener: Listener = { lastSeq: -1, deliver };
    let group = groups.get(first);
    if (!group) groups.set(first, (group = { first, listeners: new Set() }));
    group.listeners.add(listener);
    count += 1;
    services.metrics.subscribers.set(count);
    let active = true;
    const stop = () => {
      if (!active) return;
      active = false;
      closers.delete(stop);
      group!.listeners.delete(listener);
      if (group!.listeners.size === 0 && groups.get(first) === group) groups.delete(first);
      count -= 1;
      services.metrics.subscribers.set(count);
    };
    closers.add(stop);
    // The snapshot first, at once: a (re)connecting client never shows a stale board.
    readBoards(services, [first]).then(
      (boards) => active && offer(listener, boards.get(first)!, true),
      (error: Error) => services.logger.warn({ err: error.message }, 'live board snapshot failed'),
    );
    return stop;
  }

  return {
    listen,
    size: () => count,
    resync: () => flush(true),
    async close() {
      clearTimeout(timer);
      unsubscribe();
      for (const stop of [...closers]) stop();
      groups.clear();
    },
    subscribe(first, signal) {
      let pending: Leaderboard | undefined;
      let wake: (() => void) | undefined;
      let closed = false;
      const stop = listen(first, (board) => {
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
