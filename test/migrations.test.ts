import { readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, pgSession } from '../src/db/database.js';
import { migrate, readMigrations } from '../src/db/migrate.js';
import { createBackend, realBackendsAvailable, type Backend } from './support/backends.js';

const realAvailable = await realBackendsAvailable();

/** Columns as Postgres reports them, to compare with what schema.prisma declares. */
const COLUMNS_SQL = `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
  WHERE table_schema = 'public' AND table_name IN ('players', 'action_credits', 'action_types') ORDER BY table_name, column_name`;

const PRISMA_TO_PG: Record<string, string> = {
  String: 'text',
  BigInt: 'bigint',
  Int: 'integer',
  Boolean: 'boolean',
  DateTime: 'timestamp with time zone',
};

/**
 * What schema.prisma declares, read from the file itself (Prisma 7's client no
 * longer ships the DMMF): scalar fields with their @map, @db and optionality.
 */
function expectedColumns() {
  const text = readFileSync(new URL('../prisma/schema.prisma', import.meta.url), 'utf8');
  const out: { table_name: string; column_name: string; data_type: string; is_nullable: string }[] = [];
  for (const [, name, body] of text.matchAll(/^model (\w+) \{([\s\S]*?)^\}/gm)) {
    const table = /@@map\("([^"]+)"\)/.exec(body!)?.[1] ?? name!;
    for (const line of body!.split('\n')) {
      const m = /^\s+(\w+)\s+(\w+)(\??)(\[\])?(.*)$/.exec(line);
      if (!m || m[4] || !PRISMA_TO_PG[m[2]!]) continue;
      out.push({
        table_name: table,
        column_name: /@map\("([^"]+)"\)/.exec(m[5]!)?.[1] ?? m[1]!,
        data_type: m[5]!.includes('@db.Uuid') ? 'uuid' : PRISMA_TO_PG[m[2]!]!,
        is_nullable: m[3] ? 'YES' : 'NO',
      });
    }
  }
  return out.sort((a, b) => a.table_name.localeCompare(b.table_name) || a.column_name.localeCompare(b.column_name));
}

describe('migrations', () => {
  const backends: Backend[] = [];
  afterAll(async () => {
    for (const b of backends) await b.dispose();
  });

  it('apply on PGlite, match schema.prisma, and are idempotent', async () => {
    const backend = await createBackend('embedded');
    backends.push(backend);
    const db = await openDatabase({ dataDir: backend.env.DATA_DIR!, poolSize: 1 });
    try {
      expect(await db.migrate()).toEqual(readMigrations().map((m) => m.name));
      expect(await db.migrate()).toEqual([]);
      const columns = await db.prisma.$queryRawUnsafe<object[]>(COLUMNS_SQL);
      expect(columns).toEqual(expectedColumns());
      expect(await db.prisma.actionType.findUnique({ where: { code: 'COMPLETE_TASK' } })).toMatchObject({ points: 10, minSeconds: 0, enabled: true });
    } finally {
      await db.close();
    }
  });

  it.runIf(realAvailable)('apply on PostgreSQL once when several instances boot at the same time', async () => {
    const backend = await createBackend('real');
    backends.push(backend);
    const url = backend.env.DATABASE_URL!;
    const clients = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        return c;
      }),
    );
    try {
      const results = await Promise.all(clients.map((c) => migrate(pgSession(c))));
      expect(results.flat()).toEqual(readMigrations().map((m) => m.name));
      const { rows } = await clients[0]!.query('SELECT count(*)::int AS n FROM _prisma_migrations');
      expect(rows[0].n).toBe(readMigrations().length);
      const columns = (await clients[0]!.query(COLUMNS_SQL)).rows;
      expect(columns).toEqual(expectedColumns());
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });

  it.runIf(realAvailable)('two app instances booting side by side on a fresh database both come up (migrations run once)', async () => {
    const backend = await createBackend('real');
    backends.push(backend);
    const { startInstance } = await import('./support/app.js');
    const [a, b] = await Promise.all([startInstance(backend), startInstance(backend)]);
    try {
      const rows = await a.app.services.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM _prisma_migrations`;
      expect(rows[0]!.n).toBe(readMigrations().length);
      for (const i of [a, b]) expect((await fetch(`${i.url}/readyz`)).status).toBe(200);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('refuses a migration edited after it was applied', async () => {
    const db = await PGlite.create();
    const session = {
      query: async <T>(sql: string, params?: unknown[]) => (await db.query<T>(sql, params)).rows,
      exec: async (sql: string) => void (await db.exec(sql)),
    };
    const [first] = readMigrations();
    await migrate(session, [first!]);
    await expect(migrate(session, [{ ...first!, checksum: 'edited' }])).rejects.toThrow(/checksum mismatch/);
    await db.close();
  });
});
