import type { Services } from '../../services.js';
import { periodByKey } from './periods.js';
import type { ResolvedView } from './ranking.js';
import { sameEntry, viewId, type BoardEntry } from './ranking-cache.js';

/**
 * Brings every warm view of the cache back to Postgres' truth: entries that
 * are behind (an older reachedSeq) are merged, entries that differ otherwise (someone edited Redis)
 * are replaced, but only if they did not change meanwhile. The global board is
 * rebuilt when it is cold. Returns the number of entries fixed.
 */
export async function reconcile(services: Services): Promise<number> {
  const { ranking, definitions } = services;
  const global = await definitions.require('global');
  const globalView: ResolvedView = { board: 'global', period: 'all', segment: null, periodInfo: periodByKey(global, 'all') };
  if ((await ranking.cache.seq(globalView)) === null) await ranking.scheduleRebuild(globalView, 'cold');

  let fixed = 0;
  for (const view of await ranking.cache.warmViews()) {
    const board = await definitions.get(view.board);
    if (!board) continue;
    const resolved: ResolvedView = { ...view, periodInfo: periodByKey(board, view.period) };
    const changed = await reconcileView(services, resolved);
    if (changed > 0) await ranking.publishChanged([view]);
    fixed += changed;
  }
  return fixed;
}

async function reconcileView(services: Services, view: ResolvedView): Promise<number> {
  const { ranking } = services;
  // Cache first, then Postgres: a legitimate cached score is then never above the truth we read.
  const cached = new Map((await ranking.cache.all(view)).map((e) => [e.playerId, e]));
  const truth = new Map((await ranking.allFromDatabase(view)).map((e) => [e.playerId, e]));
  let fixed = 0;
  for (const id of new Set([...cached.keys(), ...truth.keys()])) {
    const seen = cached.get(id);
    const real: BoardEntry = truth.get(id) ?? { playerId: id, username: seen?.username ?? id, score: 0, reachedSeq: 0 };
    if (sameEntry(seen, real)) continue;
    // Behind (a newer state never reached the cache): merged like any update. Otherwise drifted: replaced.
    if (seen && real.reachedSeq > seen.reachedSeq) {
      await ranking.cache.apply(view, real, ranking.expireAt(view.periodInfo));
    } else if (await ranking.cache.repair(view, seen, real)) {
      services.metrics.cacheRepairs.inc();
      services.logger.warn({ view: viewId(view), playerId: id, cached: seen, truth: real }, 'ranking cache drift repaired');
    } else continue;
    fixed += 1;
  }
  return fixed;
}
