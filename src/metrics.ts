import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics, one registry per app (tests run several apps in one process). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    actionsCredited: new Counter({ name: 'scoreboard_actions_credited_total', help: 'Actions credited', labelNames: ['action_type'], registers: [registry] }),
    replays: new Counter({ name: 'scoreboard_action_replays_total', help: 'Retries answered with the original outcome', registers: [registry] }),
    rejections: new Counter({ name: 'scoreboard_rejections_total', help: 'Requests rejected, by error code', labelNames: ['code'], registers: [registry] }),
    rateLimited: new Counter({ name: 'scoreboard_rate_limit_hits_total', help: 'Rate-limit rejections', labelNames: ['limiter'], registers: [registry] }),
    rateLimiterFallbacks: new Counter({
      name: 'scoreboard_rate_limiter_fallbacks_total',
      help: 'Limiter decisions taken by the per-instance memory fallback because Redis did not answer',
      labelNames: ['limiter'],
      registers: [registry],
    }),
    subscribers: new Gauge({ name: 'scoreboard_subscribers', help: 'Active leaderboard subscriptions on this instance', registers: [registry] }),
    eventsPushed: new Counter({ name: 'scoreboard_events_pushed_total', help: 'Leaderboard events delivered to subscribers', registers: [registry] }),
    sharedExecutions: new Counter({
      name: 'scoreboard_subscription_executions_total',
      help: 'leaderboardChanged results executed (shared by every subscriber of the same board and operation)',
      registers: [registry],
    }),
    fanoutSeconds: new Histogram({
      name: 'scoreboard_fanout_seconds',
      help: 'Time from a board-change notice to the last subscriber write on this instance',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    liveSnapshotReads: new Counter({
      name: 'scoreboard_live_snapshot_reads_total',
      help: 'Board reads for the first snapshot of new live subscribers (subscribers arriving together share one)',
      registers: [registry],
    }),
    liveFlushes: new Counter({
      name: 'scoreboard_live_flushes_total',
      help: 'Live board flushes after change notices: leading (at once, nothing sent in the last window) or trailing (end of the window)',
      labelNames: ['edge'],
      registers: [registry],
    }),
    cacheRebuilds: new Counter({ name: 'scoreboard_cache_rebuilds_total', help: 'Ranking cache rebuilds from Postgres', labelNames: ['reason'], registers: [registry] }),
    cacheRebuildSeconds: new Histogram({
      name: 'scoreboard_cache_rebuild_seconds',
      help: 'Time of a finished ranking cache rebuild of one view, from the Postgres read to the swap (Postgres answers the view meanwhile)',
      buckets: [0.01, 0.1, 0.5, 1, 2.5, 5, 10, 20, 40, 80],
      registers: [registry],
    }),
    moderationActions: new Counter({
      name: 'scoreboard_moderation_actions_total',
      help: 'Operator acts on players and credits: HIDE, UNHIDE, BAN, UNBAN, VOID, REBUILD',
      labelNames: ['kind'],
      registers: [registry],
    }),
    configChanges: new Counter({
      name: 'scoreboard_config_changes_total',
      help: 'Changes to the points table and boards (mutations and the configuration file)',
      labelNames: ['what', 'source'],
      registers: [registry],
    }),
    replicaReads: new Counter({
      name: 'scoreboard_replica_reads_total',
      help: 'History reads answered by the read replica',
      labelNames: ['what'],
      registers: [registry],
    }),
    replicaFallbacks: new Counter({
      name: 'scoreboard_replica_fallbacks_total',
      help: 'History reads answered by the primary instead of the replica: error (the replica failed), down (left alone after a failure), lagging (it had not replayed the rows yet)',
      labelNames: ['what', 'reason'],
      registers: [registry],
    }),
    replicaLagSeconds: new Gauge({
      name: 'scoreboard_replica_lag_seconds',
      help: 'Replay lag of the read replica (0 = it replayed all it received; -1 = it did not answer)',
      registers: [registry],
    }),
    replicaUp: new Gauge({ name: 'scoreboard_replica_up', help: '1 when the read replica answered the last check', registers: [registry] }),
    reconcileRuns: new Counter({
      name: 'scoreboard_reconcile_runs_total',
      help: 'Cache reconciliations: trigger (interval, redis-reconnect) and outcome (done, locked = another instance holds the lock, failed)',
      labelNames: ['trigger', 'outcome'],
      registers: [registry],
    }),
    cacheRepairs: new Counter({ name: 'scoreboard_cache_repairs_total', help: 'Ranking cache entries repaired by reconcile', registers: [registry] }),
    reconcileChecked: new Counter({
      name: 'scoreboard_reconcile_entries_checked_total',
      help: 'Ranking cache entries reconcile compared with Postgres: source = changes (players changed since the watermark) or sweep (the bounded slice of each warm view)',
      labelNames: ['source'],
      registers: [registry],
    }),
    reconcileWatermark: new Gauge({
      name: 'scoreboard_reconcile_watermark',
      help: "Highest change id (credit, void, import or audit event) that reconcile has checked and considers settled, as of this instance's last run",
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
