import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { redactUrl, type Config } from '../config.js';
import { PrismaClient } from '../generated/prisma/client.js';
import { migrate, type SqlSession } from './migrate.js';
import { pgliteSqlRunner, pgSqlRunner, sqlState, type SqlRunner } from './sql-runner.js';

const UNDEFINED_OBJECT = '42704';

export { PrismaClient };

/**
 * The one place that knows whether we run on PostgreSQL or on embedded PGlite.
 * Everything else talks to `prisma` and never asks.
 */
export interface Database {
  readonly prisma: PrismaClient;
  /** Plain parameterized statements on the same connections as `prisma` (the hot write path). */
  readonly sql: SqlRunner;
  readonly description: string;
  /** Applies pending migrations (advisory-locked); returns the names applied. */
  migrate(): Promise<string[]>;
  /**
   * Runs `work` on a session of its own (one connection, so it can hold one
   * transaction and temp tables across many statements): bulk jobs such as the import.
   */
  withSession<T>(work: (session: BulkSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A raw SQL session that can also load many rows fast. */
export interface BulkSession extends SqlSession {
  /**
   * Loads every batch into `table` (columns in this order; null = SQL NULL):
   * COPY on PostgreSQL, one multi-row INSERT per batch on PGlite. Rows are
   * streamed: a batch is sent before the next one is read. Returns the row count.
   */
  loadRows(table: string, columns: { name: string; type: 'int' | 'bigint' | 'text' }[], batches: AsyncIterable<(string | number | null)[][]>): Promise<number>;
}

export async function openDatabase(config: Config['database']): Promise<Database> {
  return config.url ? openPostgres(config.url, config.poolSize) : openPglite(config.dataDir);
}

function openPostgres(url: string, poolSize: number): Database {
  // One pool for Prisma and for the plain statements of the write path.
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: 5_000,
    // Fail fast instead of queueing forever when Postgres is gone.
    idleTimeoutMillis: 30_000,
    // Our statements are short OLTP ones, but the planner's estimate for the credit
    // statement (its achievement CTEs) passes jit_above_cost, and compiling it took
    // ~80 ms of Postgres CPU per credit for a statement that runs in ~4 ms. A SET on
    // each new connection (awaited before the pool hands it out) rather than the
    // `options` startup parameter, which connection poolers such as PgBouncer refuse.
    // (@types/pg declares the hook void; pg-pool awaits the promise it returns.)
    onConnect: ((client: pg.ClientBase) =>
      client.query('SET jit = off').then(
        () => undefined,
        (error: unknown) => {
          if (sqlState(error) !== UNDEFINED_OBJECT) throw error; // a server without JIT settings at all: nothing to turn off
        },
      )) as unknown as (client: pg.ClientBase) => void,
  });
  // An idle connection that dies is dropped by the pool; the next query opens another.
  pool.on('error', () => {});
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    prisma,
    sql: pgSqlRunner(pool),
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
    async withSession(work) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return await work(pgBulkSession(client));
      } finally {
        await client.end();
      }
    },
    async close() {
      await prisma.$disconnect();
      await pool.end();
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
  const release = lockEmbedded(dataDir);
  let db: PGlite;
  try {
    db = await PGlite.create(dir);
  } catch (error) {
    release();
    throw error;
  }
  // PGlite has no JIT provider; set as on PostgreSQL all the same, so both backends run with the same settings.
  await db.exec('SET jit = off');
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(db) });
  const session: SqlSession = {
    query: async <T>(sql: string, params?: unknown[]) => (await db.query<T>(sql, params)).rows,
    exec: async (sql: string) => {
      await db.exec(sql);
    },
  };
  return {
    prisma,
    sql: pgliteSqlRunner(db),
    description: `embedded PGlite in ${dir}`,
    migrate: () => migrate(session),
    // PGlite is a single connection: the session is the database itself (nothing else may use it meanwhile).
    withSession: (work) =>
      work({
        ...session,
        async loadRows(table, columns, batches) {
          const unnest = columns.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ');
          const sql = `INSERT INTO ${table} (${columns.map((c) => c.name).join(', ')}) SELECT * FROM unnest(${unnest})`;
          let count = 0;
          for await (const batch of batches) {
            if (batch.length === 0) continue;
            await db.query(
              sql,
              columns.map((_, i) => batch.map((row) => row[i])),
            );
            count += batch.length;
          }
          return count;
        },
      }),
    async close() {
      await prisma.$disconnect();
      await db.close();
      release();
    },
  };
}

/**
 * PGlite keeps its files in DATA_DIR with no lock of its own, and two processes
 * writing them would corrupt the database. The process that opens it writes its
 * pid in DATA_DIR/pglite.lock; another live process refuses to open it (a stale
 * lock, whose process is gone, is taken over). Returns the release function.
 */
function lockEmbedded(dataDir: string): () => void {
  const file = join(dataDir, 'pglite.lock');
  const token = `${process.pid} ${randomUUID()}`;
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, token, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
      const holder = Number(readFileSync(file, 'utf8').split(' ')[0]);
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && processAlive(holder)) {
        throw new Error(
          `The embedded database in ${dataDir} is in use by process ${holder} (a running Scoreboard server?). ` +
            'Stop that process first, or use DATABASE_URL (PostgreSQL), which any number of processes can share. ' +
            `If no such process runs any more, delete ${file}.`,
          { cause: error },
        );
      }
      rmSync(file, { force: true }); // stale, or this process's own (reopened): take it over
    }
  }
  return () => {
    try {
      if (readFileSync(file, 'utf8') === token) rmSync(file, { force: true });
    } catch {
      // already gone
    }
  };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function pgSession(client: pg.Client): SqlSession {
  return {
    query: async <T>(sql: string, params?: unknown[]) => (await client.query(sql, params)).rows as T[],
    exec: async (sql: string) => {
      await client.query(sql);
    },
  };
}

function pgBulkSession(client: pg.Client): BulkSession {
  return {
    ...pgSession(client),
    async loadRows(table, columns, batches) {
      let count = 0;
      const copy = client.query(copyFrom(`COPY ${table} (${columns.map((c) => c.name).join(', ')}) FROM STDIN (FORMAT csv)`));
      await pipeline(
        Readable.from(
          (async function* () {
            for await (const batch of batches) {
              count += batch.length;
              if (batch.length) yield batch.map(csvLine).join('');
            }
          })(),
        ),
        copy,
      );
      return count;
    },
  };
}

/** One row in COPY's CSV format: NULL is an unquoted empty field, every text is quoted. */
function csvLine(row: (string | number | null)[]): string {
  return `${row.map((v) => (v === null ? '' : typeof v === 'number' ? String(v) : `"${v.replace(/"/g, '""')}"`)).join(',')}\n`;
}
