import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { loadConfig, type Config } from '../../src/config.js';
import { openDatabase } from '../../src/db/database.js';
import { signDevPlayerJwt } from '../../src/auth/player-jwt.js';

/**
 * The bench's private backends: fresh databases on the local PostgreSQL and a
 * private Redis key prefix, all removed again by `dispose()`.
 */
export const ADMIN_DATABASE_URL = process.env.BENCH_ADMIN_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/0';

export interface Infra {
  /** Database the server under test uses. */
  appDbUrl: string;
  /** Database for the raw `pg` write baseline (same schema). */
  baselineDbUrl: string;
  redisPrefix: string;
  dataDir: string;
  /** Environment for the server process (and loadConfig in the bench). */
  serverEnv: Record<string, string>;
  config: Config;
  dispose(): Promise<void>;
}

function dbUrl(name: string): string {
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function createInfra(): Promise<Infra> {
  const id = randomBytes(5).toString('hex');
  const appDb = `scoreboard_bench_${id}`;
  const baseDb = `scoreboard_bench_${id}_raw`;
  const redisPrefix = `sbbench:${id}:`;
  const dataDir = mkdtempSync(join(tmpdir(), 'scoreboard-bench-'));
  await admin(async (c) => {
    await c.query(`CREATE DATABASE ${appDb}`); // names generated above
    await c.query(`CREATE DATABASE ${baseDb}`);
  });
  const appDbUrl = dbUrl(appDb);
  const baselineDbUrl = dbUrl(baseDb);
  const serverEnv: Record<string, string> = {
    NODE_ENV: 'production',
    DATABASE_URL: appDbUrl,
    REDIS_URL,
    REDIS_KEY_PREFIX: redisPrefix,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    JWT_SECRET: randomBytes(32).toString('hex'),
    ACTION_TOKEN_SECRET: randomBytes(32).toString('hex'),
    RATE_LIMIT_ACTIONS_PER_HOUR: '100000000',
    RATE_LIMIT_TICKETS_PER_HOUR: '100000000',
    LEADERBOARD_COALESCE_MS: '50',
    // All bench subscribers come from 127.0.0.1 without a JWT.
    WS_MAX_CONNECTIONS_PER_IP: '1000000',
    // Every bench client is 127.0.0.1 too: production's per-address request budget (50/s)
    // would measure that limiter (the load and boards phases ran into it once the write
    // path got faster). No phase measures the limiter.
    HTTP_RATE_LIMIT_PER_IP: '0',
  };
  const config = loadConfig(serverEnv);
  // Same schema in both databases, through the product's own migration runner.
  for (const url of [appDbUrl, baselineDbUrl]) {
    const db = await openDatabase({ url, poolSize: 2, dataDir });
    try {
      await db.migrate();
    } finally {
      await db.close();
    }
  }
  let disposed = false;
  return {
    appDbUrl,
    baselineDbUrl,
    redisPrefix,
    dataDir,
    serverEnv,
    config,
    async dispose() {
      if (disposed) return;
      disposed = true;
      await admin(async (c) => {
        for (const name of [appDb, baseDb]) {
          await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        }
      }).catch((e: Error) => console.error(`bench: could not drop databases: ${e.message}`));
      await deleteRedisPrefix(redisPrefix).catch((e: Error) => console.error(`bench: could not clean Redis: ${e.message}`));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function deleteRedisPrefix(prefix: string) {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    let rounds = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0' && ++rounds < 100_000);
  } finally {
    redis.disconnect();
  }
}

/**
 * Demo players straight into Postgres, on the global board (the server rebuilds a
 * cold view of its ranking cache from Postgres, so they are on the board once read):
 * `count` players with spread scores, plus a "trigger" player far ahead (#1),
 * whose every action changes the top 10.
 */
export async function seedPlayers(url: string, count: number): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(
      `INSERT INTO players (id, username, score, reached_seq)
       SELECT 'seed-' || g, 'seed' || g, 10 * (1 + (g * 7919) % 500), nextval('action_credits_id_seq')
       FROM generate_series(1, $1::int) g
       ON CONFLICT (id) DO NOTHING`,
      [count],
    );
    await c.query(
      `INSERT INTO players (id, username, score, reached_seq)
       VALUES ('bench-trigger', 'trigger', 1000000000, nextval('action_credits_id_seq'))
       ON CONFLICT (id) DO NOTHING`,
    );
    // Since boards, every board (the global one included) is read from board_entries:
    // the migration copies players' scores into the global board only when it runs,
    // which is before this seed, so the seeded scores are put on the global board here.
    await c.query(
      `INSERT INTO board_entries (board_id, period_key, segment, player_id, score, reached_seq)
       SELECT 'global', 'all', '', id, score, reached_seq FROM players WHERE score > 0
       ON CONFLICT DO NOTHING`,
    );
  } finally {
    await c.end();
  }
}

/** Truth from Postgres: top `n` as the board orders it. */
export async function sqlTop(url: string, n: number): Promise<{ id: string; score: number }[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ id: string; score: string }>('SELECT id, score FROM players WHERE score > 0 ORDER BY score DESC, reached_seq ASC, id ASC LIMIT $1', [n]);
    return rows.map((r) => ({ id: r.id, score: Number(r.score) }));
  } finally {
    await c.end();
  }
}

export function playerJwt(config: Config, id: string, username = id): Promise<string> {
  return signDevPlayerJwt(config.jwt, { id, username });
}
