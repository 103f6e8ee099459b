import type { Services } from '../../services.js';
import { periodByKey } from './periods.js';
import { reconcileChanges } from './reconcile-changes.js';
import { sweep } from './reconcile-sweep.js';
import type { ResolvedView } from './ranking.js';
import { parseViewId } from './ranking-cache.js';

/**
 * Brings the warm views of the cache back to Postgres' truth, at a cost that
 * follows the changes, never the size of the boards:
 * 1. the changes pass checks the (player, view) pairs changed since the
 *    watermark (reconcile-changes.ts): a credit whose cache update was lost is
 *    merged on the next run;
 * 2. the sweep checks a bounded slice of the warm views, continuing where the
 *    last run stopped (reconcile-sweep.ts): drift nobody caused through the app
 *    is found within a few runs.
 * Where they stopped is kept in `services.reconcileProgress`, so the next run,
 * on any instance, continues from there. The global board is rebuilt when it
 * is cold. Returns the number of entries fixed.
 */
export async function reconcile(services: Services): Promise<number> {
  const { ranking, definitions, reconcileProgress, metrics, logger } = services;
  const global = await definitions.require('global');
  const globalView: ResolvedView = { board: 'global', period: 'all', segment: null, periodInfo: periodByKey(global, 'all') };
  if ((await ranking.cache.seq(globalView)) === null) await ranking.scheduleRebuild(globalView, 'cold');

  const views: ResolvedView[] = [];
  for (const view of await ranking.cache.warmViews()) {
    const board = await definitions.get(view.board);
    if (board) views.push({ ...view, periodInfo: periodByKey(board, view.period) });
  }

  const progress = await reconcileProgress.load();
  const changes = await reconcileChanges(services, views, progress.watermark);
  progress.watermark = changes.watermark;
  metrics.reconcileWatermark.set(changes.watermark);
  await reconcileProgress.save(progress);

  const swept = await sweep(services, views, progress.sweep, services.config.leaderboard.reconcileSweepEntries);
  progress.sweep = swept.cursor;
  await reconcileProgress.save(progress);

  const fixedViews = new Map(changes.fixed);
  for (const [id, n] of swept.fixed) fixedViews.set(id, (fixedViews.get(id) ?? 0) + n);
  if (fixedViews.size > 0) await ranking.publishChanged([...fixedViews.keys()].map(parseViewId));
  logger.debug({ watermark: changes.watermark, changeRows: changes.rows, swept: swept.checked, sweepAt: swept.cursor.view }, 'reconcile run');
  return [...fixedViews.values()].reduce((a, b) => a + b, 0);
}
