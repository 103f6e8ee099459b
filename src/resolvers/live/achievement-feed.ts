import type { Services } from '../../services.js';
import type { AchievementUnlockedNotice } from './bus.js';

/**
 * Live unlocks for `achievementUnlocked`: every instance hears every unlock on
 * the bus and hands it to that player's own subscribers only (a map by player
 * id: nobody else's subscription ever sees it).
 */
export interface AchievementFeed {
  subscribe(playerId: string, signal?: AbortSignal): AsyncIterableIterator<AchievementUnlockedNotice>;
  /** Live subscriptions on this instance. */
  size(): number;
  close(): Promise<void>;
}

export async function createAchievementFeed(services: Services): Promise<AchievementFeed> {
  const byPlayer = new Map<string, Set<(n: AchievementUnlockedNotice) => void>>();
  const closers = new Set<() => void>();
  const unsubscribe = await services.bus.subscribe('ACHIEVEMENT_UNLOCKED', (notice) => {
    for (const deliver of byPlayer.get(notice.player) ?? []) deliver(notice);
  });
  return {
    subscribe(playerId, signal) {
      const pending: AchievementUnlockedNotice[] = [];
      let wake: (() => void) | undefined;
      let closed = false;
      const deliver = (n: AchievementUnlockedNotice) => {
        pending.push(n);
        wake?.();
      };
      const mine = byPlayer.get(playerId) ?? new Set();
      mine.add(deliver);
      byPlayer.set(playerId, mine);
      const end = () => {
        if (closed) return;
        closed = true;
        closers.delete(end);
        mine.delete(deliver);
        if (mine.size === 0 && byPlayer.get(playerId) === mine) byPlayer.delete(playerId);
        wake?.();
      };
      signal?.addEventListener('abort', end, { once: true });
      closers.add(end);
      const iterator: AsyncIterableIterator<AchievementUnlockedNotice> = {
        [Symbol.asyncIterator]: () => iterator,
        async next() {
          while (pending.length === 0 && !closed) await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
          const value = pending.shift();
          return value ? { done: false, value } : { done: true, value: undefined };
        },
        async return() {
          end();
          return { done: true, value: undefined };
        },
      };
      return iterator;
    },
    size: () => closers.size,
    async close() {
      unsubscribe();
      for (const end of [...closers]) end();
    },
  };
}
