import type { RankedEntry } from '../adapters/ranking-cache.js';
import type { Services } from '../services.js';
import { boardFromDatabase, lastKnownSeq, readCachedBoard, type Leaderboard } from '../resolvers/ranking.js';

/**
 * Live boards for `leaderboardChanged`. Per instance, per burst of changes, the
 * board is read once (top 100) and sliced for each distinct `first`; every
 * subscriber of the same `first` receives the very same Leaderboard object, so
 * the GraphQL layer can execute and serialize it once for all of them.
 *
 * Each subscriber holds at most one undelivered board: a newer one replaces it,
 * so a slow consumer skips to the latest state instead of buffering.
 */
interface Group {
  first: number;
  subscribers: Set<Subscriber>;
  last?: Leaderboard;
}

interface Subscriber {
  lastSeq: number;
  pending?: Leaderboard;
  wake?: () => void;
  closed: boolean;
}

export interface BoardFeed {
  subscribe(first: number, signal?: AbortSignal): AsyncIterableIterator<Leaderboard>;
  /** Number of live subscribers on this instance. */
  size(): number;
  /** Re-reads the board now and pushes it to everyone (after a bus reconnect or rebuild). */
  resync(): Promise<void>;
  close(): Promise<void>;
}

export async function createBoardFeed(services: Services): Promise<BoardFeed> {
  const groups = new Map<number, Group>();
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
    const largest = Math.max(...groups.keys());
    const boards = await readBoards(largest, [...groups.keys()]);
    let pushed = 0;
    for (const group of groups.values()) {
      const board = boards.get(group.first)!;
      if (!force && group.last && board.seq <= group.last.seq) continue;
      group.last = board;
      for (const sub of group.subscribers) pushed += offer(sub, board, force) ? 1 : 0;
    }
    if (pushed > 0) {
      services.metrics.eventsPushed.inc(pushed);
      services.metrics.fanoutSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  /** One read for all groups: the cache's top `largest` sliced, each slice with its own seq. */
  async function readBoards(largest: number, firsts: number[]): Promise<Map<number, Leaderboard>> {
    const out = new Map<number, Leaderboard>();
    const updatedAt = new Date();
    const cached = await readCachedBoard(services, largest);
    if (cached) {
      for (const first of firsts) {
        out.set(first, { seq: cached.prefixSeqs[first - 1] ?? cached.seq, entries: cached.entries.slice(0, first), updatedAt });
      }
      return out;
    }
    const entries: RankedEntry[] = await boardFromDatabase(services, largest);
    for (const first of firsts) out.set(first, { seq: lastKnownSeq(services), entries: entries.slice(0, first), updatedAt });
    return out;
  }

  function offer(sub: Subscriber, board: Leaderboard, force: boolean): boolean {
    if (sub.closed) return false;
    if (board.seq < sub.lastSeq || (!force && board.seq === sub.lastSeq)) return false;
    sub.pending = board;
    sub.lastSeq = board.seq;
    sub.wake?.();
    return true;
  }

  return {
    size: () => count,
    resync: () => flush(true),
    async close() {
      clearTimeout(timer);
      unsubscribe();
      for (const g of groups.values()) for (const s of g.subscribers) end(s);
      groups.clear();
    },
    subscribe(first, signal) {
      const sub: Subscriber = { lastSeq: -1, closed: false };
      let group = groups.get(first);
      if (!group) groups.set(first, (group = { first, subscribers: new Set() }));
      group.subscribers.add(sub);
      count += 1;
      services.metrics.subscribers.set(count);
      const detach = () => {
        if (sub.closed) return;
        end(sub);
        group!.subscribers.delete(sub);
        if (group!.subscribers.size === 0) groups.delete(first);
        count -= 1;
        services.metrics.subscribers.set(count);
      };
      signal?.addEventListener('abort', detach, { once: true });

      // The snapshot first, at once: a (re)connecting client never shows a stale board.
      const initial = readBoards(first, [first]).then((boards) => {
        const board = boards.get(first)!;
        offer(sub, board, true);
      });

      const iterator: AsyncIterableIterator<Leaderboard> = {
        [Symbol.asyncIterator]() {
          return iterator;
        },
        async next() {
          await initial;
          while (!sub.pending && !sub.closed) await new Promise<void>((resolve) => (sub.wake = resolve));
          sub.wake = undefined;
          if (sub.closed) return { done: true, value: undefined };
          const value = sub.pending!;
          sub.pending = undefined;
          return { done: false, value };
        },
        async return() {
          detach();
          return { done: true, value: undefined };
        },
      };
      return iterator;
    },
  };
}

function end(sub: Subscriber) {
  sub.closed = true;
  sub.wake?.();
}
