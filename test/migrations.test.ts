import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, pgSession } from '../src/db/database.js';
import { migrate, readMigrations } from '../src/db/migrate.js';
import { createBackend, realBackendsAvailable, type Backend, type BackendKind } from './support/backends.js';
import { LeaderboardDocument } from '../sdk/generated/graphql.js';
import { expectNoGraphQLErrors, startInstance } from './support/app.js';
import { completeTask } from './support/play.js';

const realAvailable = await realBackendsAvailable();

/** Columns as Postgres reports them, to compare with what schema.prisma declares. */
const COLUMNS_SQL = `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
  WHERE table_schema = 'public' AND table_name IN ('players', 'action_credits', 'action_types', 'boards', 'board_entries', 'board_final_periods', 'audit_events', 'friendships', 'achievements', 'player_achievements', 'player_action_counts') ORDER BY table_name, column_name`;

const PRISMA_TO_PG: Record<string, string> = {
  String: 'text',
  BigInt: 'bigint',
  Int: 'integer',
  Boolean: 'boolean',
  DateTime: 'timestamp with time zone',
  Json: 'jsonb',
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
      if (!m || !PRISMA_TO_PG[m[2]!]) continue;
      out.push({
        table_name: table,
        column_name: /@map\("([^"]+)"\)/.exec(m[5]!)?.[1] ?? m[1]!,
        data_type: m[4] ? 'ARRAY' : m[5]!.includes('@db.Uuid') ? 'uuid' : PRISMA_TO_PG[m[2]!]!,
        // Prisma has no optional lists; "null = every action type" is a nullable array column on purpose.
        is_nullable: m[3] || m[4] ? 'YES' : 'NO',
      });
    }
  }
  return out.sort((a, b) => a.table_name.localeCompare(b.table_name) || a.column_name.localeCompare(b.column_name));
}

/** A raw SQL session on a backend's database (Postgres, or the PGlite folder the app will open). */
async function openSession(backend: Backend) {
  if (backend.kind === 'real') {
    const client = new pg.Client({ connectionString: backend.env.DATABASE_URL });
    await client.connect();
    return { session: pgSession(client), close: () => client.end() };
  }
  const dir = join(backend.env.DATA_DIR!, 'pglite');
  mkdirSync(dir, { recursive: true });
  const db = await PGlite.create(dir);
  return {
    session: {
      query: async <T>(sql: string, params?: unknown[]) => (await db.query<T>(sql, params)).rows,
      exec: async (sql: string) => void (await db.exec(sql)),
    },
    close: () => db.close(),
  };
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

  for (const kind of ['embedded', 'real'] as BackendKind[]) {
    it.runIf(kind === 'embedded' || realAvailable)(`[${kind}] a database holding the first release's data upgrades and keeps every score on the global board`, async () => {
      const backend = await createBackend(kind);
      backends.push(backend);
      // The first release's schema and data: three players (two tied at 30; p2 reached it first) and their credits.
      const [first] = readMigrations();
      const old = await openSession(backend);
      await migrate(old.session, [first!]);
      await old.session.exec(`
        INSERT INTO players (id, username, score, reached_seq) VALUES ('p1', 'one', 30, 6), ('p2', 'two', 30, 4), ('p3', 'three', 10, 5), ('p4', 'four', 0, 0);
        INSERT INTO action_credits (id, player_id, action_id, action_type, delta, old_score, new_score) VALUES
          (1, 'p1', '00000000-0000-4000-8000-000000000001', 'COMPLETE_TASK', 10, 0, 10),
          (2, 'p2', '00000000-0000-4000-8000-000000000002', 'COMPLETE_TASK', 10, 0, 10),
          (3, 'p2', '00000000-0000-4000-8000-000000000003', 'COMPLETE_TASK', 10, 10, 20),
          (4, 'p2', '00000000-0000-4000-8000-000000000004', 'COMPLETE_TASK', 10, 20, 30),
          (5, 'p3', '00000000-0000-4000-8000-000000000005', 'COMPLETE_TASK', 10, 0, 10),
          (6, 'p1', '00000000-0000-4000-8000-000000000006', 'COMPLETE_TASK', 20, 10, 30);
        SELECT setval('action_credits_id_seq', 6);`);
      await old.close();

      // This release boots on it and migrates the rest.
      const app = await startInstance(backend);
      try {
        const board = expectNoGraphQLErrors(await app.gql(LeaderboardDocument, { first: 10 })).leaderboard;
        expect(board.entries.map((e) => [e.player.id, e.score, e.rank])).toEqual([
          ['p2', 30, 1],
          ['p1', 30, 2],
          ['p3', 10, 3],
        ]);
        const entries = await app.app.services.prisma.boardEntry.findMany({ orderBy: { playerId: 'asc' } });
        expect(entries.map((e) => [e.boardId, e.periodKey, e.playerId, Number(e.score)])).toEqual([
          ['global', 'all', 'p1', 30],
          ['global', 'all', 'p2', 30],
          ['global', 'all', 'p3', 10],
        ]);
        const credit = await app.app.services.prisma.actionCredit.findFirstOrThrow({ where: { id: 1n } });
        expect(credit.entries).toEqual([{ board: 'global', period: 'all', segment: null }]);
        // And play goes on: a new credit lands on top of the migrated score.
        const token = await app.token({ id: 'p3', username: 'three' });
        expect(await completeTask(app, token)).toMatchObject({ newScore: 20, rank: 3 });
      } finally {
        await app.stop();
      }
    });
  }

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
