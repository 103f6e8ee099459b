import { isConnectionFailure } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { PrismaClient } from './database.js';

/**
 * History reads: what no longer changes (final standings, past periods, the
 * audit log). With DATABASE_REPLICA_URL they go to the read replica; every
 * other read and every write stays on the primary.
 *
 * A replica may lag or be down. Neither may break a read: a read that fails on
 * the replica, or whose answer the caller finds incomplete there (the replica
 * has not replayed the rows yet), is run again on the primary, and counted in
 * `scoreboard_replica_fallbacks_total`. Without a replica, reads go straight
 * to the primary.
 */
export interface HistoryReads {
  /** True when a replica is configured. */
  readonly hasReplica: boolean;
  /**
   * Runs `fn` against the replica, else the primary. `fn` must only read, and
   * should read everything it needs in one call, so one answer never mixes
   * rows from the replica and the primary.
   */
  read<T>(fn: (db: PrismaClient) => Promise<T>, options?: HistoryReadOptions<T>): Promise<T>;
  /** Replica health for /readyz-like checks: undefined without a replica. */
  replicaUp(): Promise<boolean | undefined>;
  close(): Promise<void>;
}

export interface HistoryReadOptions<T> {
  /** A label for logs and metrics (`what` label), e.g. 'final-page', 'audit-log'. */
  what?: string;
  /**
   * False when the replica's answer may be missing rows that the primary has
   * (e.g. a frozen period not replayed yet): the read is then run on the primary.
   */
  complete?: (result: T) => boolean;
  /**
   * Use the replica only if it has replayed a commit made at or after this
   * moment (everything committed before it is then on the replica); else the
   * primary answers. For reads of data that stopped changing at a known time.
   */
  replayedSince?: Date;
}

/** After a connection failure the replica is left alone this long, so a dead replica costs one failed attempt, not one per read. */
const REPLICA_BACKOFF_MS = 2_000;

export function createHistoryReads(deps: { primary: PrismaClient; replica?: { prisma: PrismaClient; close(): Promise<void> }; logger: Logger; metrics: Metrics }): HistoryReads {
  const { primary, replica, logger, metrics } = deps;
  if (!replica) {
    return {
      hasReplica: false,
      read: (fn) => fn(primary),
      replicaUp: async () => undefined,
      close: async () => {},
    };
  }
  let skipUntil = 0;
  let lastWarned = 0;

  const fallback = (what: string, reason: 'error' | 'lagging', error?: unknown) => {
    metrics.replicaFallbacks.inc({ what, reason });
    if (reason === 'error') {
      if (isConnectionFailure(error)) skipUntil = Date.now() + REPLICA_BACKOFF_MS;
      // An outage would log every read: at most once per 10 s, counted every time.
      if (Date.now() - lastWarned > 10_000) {
        lastWarned = Date.now();
        logger.warn({ what, err: (error as Error)?.message }, 'replica read failed; reading the primary');
      }
    }
  };

  // Lag as the replica sees it: 0 when it has replayed all it received, else the age of the last
  // replayed commit; -1 and up = 0 when it does not answer. One probe per scrape sets both gauges.
  let probing: Promise<void> | undefined;
  const probe = () =>
    (probing ??= replica.prisma.$queryRaw<[{ lag: number | null }]>`
        SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
          ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 END AS lag`
      .then(
        ([row]) => {
          metrics.replicaLagSeconds.set(Number(row.lag ?? 0));
          metrics.replicaUp.set(1);
        },
        () => {
          metrics.replicaLagSeconds.set(-1);
          metrics.replicaUp.set(0);
        },
      )
      .finally(() => (probing = undefined)));
  for (const gauge of [metrics.replicaLagSeconds, metrics.replicaUp]) (gauge as unknown as { collect?: () => Promise<void> }).collect = probe;

  async function replayedSince(at: Date): Promise<boolean> {
    const [row] = await replica!.prisma.$queryRaw<[{ ok: boolean | null }]>`SELECT pg_last_xact_replay_timestamp() >= ${at} AS ok`;
    return row.ok === true;
  }

  return {
    hasReplica: true,
    async read(fn, options = {}) {
      const what = options.what ?? 'history';
      if (Date.now() < skipUntil) {
        metrics.replicaFallbacks.inc({ what, reason: 'down' });
        return fn(primary);
      }
      try {
        if (options.replayedSince && !(await replayedSince(options.replayedSince))) {
          fallback(what, 'lagging');
          return fn(primary);
        }
        const result = await fn(replica.prisma);
        if (options.complete && !options.complete(result)) {
          fallback(what, 'lagging');
          return fn(primary);
        }
        metrics.replicaReads.inc({ what });
        return result;
      } catch (error) {
        fallback(what, 'error', error);
        return fn(primary);
      }
    },
    async replicaUp() {
      return replica.prisma.$queryRaw`SELECT 1`.then(
        () => true,
        () => false,
      );
    },
    close: () => replica.close(),
  };
}
