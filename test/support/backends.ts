import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { PgReplicaFixture } from './pg-replica.js';
import { RedisClusterFixture } from './redis-cluster.js';

/**
 * The backends the integration suites run against:
 * - `embedded`: PGlite in a temp dir + in-process cache/bus/limiter (the default);
 * - `real`: a fresh PostgreSQL database + a private Redis key prefix;
 * - `cluster` (scale-out suites): a private 3-master Redis Cluster started by the
 *   test, and a private Postgres primary with a streaming read replica
 *   (DATABASE_REPLICA_URL), both in temp dirs on free ports, stopped by dispose().
 *
 * Real services are found at TEST_DATABASE_URL / TEST_REDIS_URL (default
 * loopback). With REQUIRE_REAL_BACKENDS=1 (CI) a missing service fails the
 * suite; otherwise the real-backend cases are left out locally with a warning.
 */
export const ADMIN_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
export const realRequired = process.env.REQUIRE_REAL_BACKENDS === '1';

export type BackendKind = 'embedded' | 'real' | 'cluster';

export interface Backend {
  kind: BackendKind;
  /** `cluster` only: the engines, for fault tests. */
  cluster?: RedisClusterFixture;
  pg?: PgReplicaFixture;
  /** Environment for loadConfig: every instance started with it shares the same data. */
  env: Record<string, string>;
  dispose(): Promise<void>;
}

let realAvailable: Promise<boolean> | undefined;
export function realBackendsAvailable(): Promise<boolean> {
  realAvailable ??= (async () => {
    const client = new pg.Client({ connectionString: ADMIN_DATABASE_URL, connectionTimeoutMillis: 2_000 });
    const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    try {
      await client.connect();
      await redis.connect();
      await redis.ping();
      return true;
    } catch (error) {
      if (realRequired) throw new Error(`REQUIRE_REAL_BACKENDS=1 but Postgres/Redis are not reachable: ${(error as Error).message}`, { cause: error });
      console.warn(`Real Postgres/Redis not reachable (${(error as Error).message}); real-backend cases are left out.`);
      return false;
    } finally {
      await client.end().catch(() => {});
      redis.disconnect();
    }
  })();
  return realAvailable;
}

/** Which backends to run: always embedded; real when reachable (and always in CI). */
export const BACKENDS: BackendKind[] = ['embedded', 'real'];

/** Whether this machine can start a Redis Cluster and a Postgres replica; with REQUIRE_REAL_BACKENDS=1 a missing binary fails. */
export function clusterBackendAvailable(): boolean {
  const missing = [!RedisClusterFixture.available() && 'redis-server/redis-cli', !PgReplicaFixture.binDir() && 'PostgreSQL server binaries'].filter(Boolean);
  if (missing.length === 0) return true;
  if (realRequired) throw new Error(`REQUIRE_REAL_BACKENDS=1 but ${missing.join(' and ')} are not installed (apt packages redis-server, postgresql)`);
  console.warn(`${missing.join(' and ')} not installed; Redis Cluster / replica cases are left out.`);
  return false;
}

export async function createBackend(kind: BackendKind, extraEnv: Record<string, string> = {}): Promise<Backend> {
  const dataDir = mkdtempSync(join(tmpdir(), 'scoreboard-test-'));
  const secrets = {
    JWT_SECRET: randomBytes(32).toString('hex'),
    ACTION_TOKEN_SECRET: randomBytes(32).toString('hex'),
  };
  const base = { DATA_DIR: dataDir, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', LEADERBOARD_COALESCE_MS: '20', ...secrets };
  if (kind === 'embedded') {
    return {
      kind,
      env: { ...base, ...extraEnv },
      async dispose() {
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const dbName = `scoreboard_test_${randomBytes(6).toString('hex')}`;
  if (kind === 'cluster') {
    const [cluster, pgFixture] = await Promise.all([RedisClusterFixture.start(), PgReplicaFixture.start()]);
    const admin = new pg.Client({ connectionString: pgFixture.primaryUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    const url = pgFixture.primaryUrl.replace(/\/postgres$/, `/${dbName}`);
    return {
      kind,
      cluster,
      pg: pgFixture,
      env: {
        ...base,
        DATABASE_URL: url,
        DATABASE_REPLICA_URL: pgFixture.replicaUrl(dbName),
        REDIS_CLUSTER_NODES: cluster.nodes,
        REDIS_KEY_PREFIX: `sbtest:${dbName}:`,
        DATABASE_POOL_SIZE: '10',
        ...extraEnv,
      },
      async dispose() {
        await Promise.allSettled([cluster.stop(), pgFixture.stop()]);
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const admin = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`); // name is generated above, not user input
  await admin.end();
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${dbName}`;
  const prefix = `sbtest:${dbName}:`;
  return {
    kind,
    env: { ...base, DATABASE_URL: url.toString(), REDIS_URL, REDIS_KEY_PREFIX: prefix, DATABASE_POOL_SIZE: '10', ...extraEnv },
    async dispose() {
      const redis = new Redis(REDIS_URL);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
      const c = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await c.end();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
