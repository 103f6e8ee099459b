import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';

/**
 * The two backends every integration suite runs against:
 * - `embedded`: PGlite in a temp dir + in-process cache/bus/limiter (the default);
 * - `real`: a fresh PostgreSQL database + a private Redis key prefix.
 *
 * Real services are found at TEST_DATABASE_URL / TEST_REDIS_URL (default
 * loopback). With REQUIRE_REAL_BACKENDS=1 (CI) a missing service fails the
 * suite; otherwise the real-backend cases are left out locally with a warning.
 */
export const ADMIN_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
export const realRequired = process.env.REQUIRE_REAL_BACKENDS === '1';

export type BackendKind = 'embedded' | 'real';

export interface Backend {
  kind: BackendKind;
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
      if (realRequired) throw new Error(`REQUIRE_REAL_BACKENDS=1 but Postgres/Redis are not reachable: ${(error as Error).message}`);
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
