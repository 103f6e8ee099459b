import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { redactUrl, type Config } from '../config.js';
import { PrismaClient } from '../generated/prisma/client.js';
import { migrate, type SqlSession } from './migrate.js';

export { PrismaClient };

/**
 * The one place that knows whether we run on PostgreSQL or on embedded PGlite.
 * Everything else talks to `prisma` and never asks.
 */
export interface Database {
  readonly prisma: PrismaClient;
  readonly description: string;
  /** Applies pending migrations (advisory-locked); returns the names applied. */
  migrate(): Promise<string[]>;
  close(): Promise<void>;
}

export async function openDatabase(config: Config['database']): Promise<Database> {
  return config.url ? openPostgres(config.url, config.poolSize) : openPglite(config.dataDir);
}

function openPostgres(url: string, poolSize: number): Database {
  const adapter = new PrismaPg({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: 5_000,
    // Fail fast instead of queueing forever when Postgres is gone.
    idleTimeoutMillis: 30_000,
  });
  const prisma = new PrismaClient({ adapter });
  return {
    prisma,
    description: `postgres ${redactUrl(url)}`,
    async migrate() {
      // A dedicated connection: the advisory lock belongs to a session.
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return await migrate(pgSession(client));
      } finally {
        await client.end();
      }
    },
    async close() {
      await prisma.$disconnect();
    },
  };
}

/** A read-only pool on the replica (history reads); no migrations there, it follows the primary. */
export function openReplica(url: string, poolSize: number): { prisma: PrismaClient; description: string; close(): Promise<void> } {
  const prisma = new PrismaClient({
    adapter: new PrismaPg({ connectionString: url, max: poolSize, connectionTimeoutMillis: 2_000, idleTimeoutMillis: 30_000 }),
  });
  return { prisma, description: `replica ${redactUrl(url)}`, close: () => prisma.$disconnect() };
}

async function openPglite(dataDir: string): Promise<Database> {
  const dir = join(dataDir, 'pglite');
  mkdirSync(dir, { recursive: true });
  const db = await PGlite.create(dir);
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(db) });
  return {
    prisma,
    description: `embedded PGlite in ${dir}`,
    migrate: () =>
      migrate({
        query: async <T>(sql: string, params?: unknown[]) => (await db.query<T>(sql, params)).rows,
        exec: async (sql: string) => {
          await db.exec(sql);
        },
      }),
    async close() {
      await prisma.$disconnect();
      await db.close();
    },
  };
}

export function pgSession(client: pg.Client): SqlSession {
  return {
    query: async <T>(sql: string, params?: unknown[]) => (await client.query(sql, params)).rows as T[],
    exec: async (sql: string) => {
      await client.query(sql);
    },
  };
}
