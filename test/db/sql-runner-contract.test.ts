import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.js';
import { sqlState, UNIQUE_VIOLATION, type SqlRunner } from '../../src/db/sql-runner.js';
import { BACKENDS, createBackend, realBackendsAvailable, type Backend } from '../support/backends.js';

/**
 * One contract for the SqlRunner port, run unchanged on PostgreSQL (pg pool)
 * and on embedded PGlite: the same values come back, parameters are data, and
 * every statement is its own transaction.
 */
const realAvailable = await realBackendsAvailable();

for (const kind of BACKENDS) {
  describe.runIf(kind === 'embedded' || realAvailable)(`SqlRunner contract [${kind}]`, () => {
    let backend: Backend;
    let db: Database;
    let sql: SqlRunner;
    beforeAll(async () => {
      backend = await createBackend(kind);
      db = await openDatabase({ url: backend.env.DATABASE_URL, poolSize: 4, dataDir: backend.env.DATA_DIR! });
      sql = db.sql;
      await sql.query('CREATE TABLE runner_contract (id int PRIMARY KEY, label text NOT NULL)');
    });
    afterAll(async () => {
      await db?.close();
      await backend?.dispose();
    });

    it('returns the same JavaScript values: int8 as bigint (beyond 2^53 too), json parsed, timestamptz as Date', async () => {
      const [row] = await sql.query<Record<string, unknown>>(
        `SELECT 9007199254740993::int8 AS big, 7::int4 AS small, 1.5::numeric AS num, true AS yes,
                '{"a":[1,"x"]}'::jsonb AS doc, json_build_array('b', 2) AS arr, '2026-11-30T12:00:00.250Z'::timestamptz AS at,
                'text'::text AS label, '5b1f4c0e-8f44-4b8e-9d5e-0c2f0e6b7a11'::uuid AS id, NULL::text AS nothing`,
      );
      expect(row).toEqual({
        big: 9007199254740993n,
        small: 7,
        num: '1.5',
        yes: true,
        doc: { a: [1, 'x'] },
        arr: ['b', 2],
        at: new Date('2026-11-30T12:00:00.250Z'),
        label: 'text',
        id: '5b1f4c0e-8f44-4b8e-9d5e-0c2f0e6b7a11',
        nothing: null,
      });
    });

    it('takes strings, numbers, bigints, booleans, Dates and null as parameters', async () => {
      const at = new Date('2026-01-02T03:04:05.678Z');
      const [row] = await sql.query<Record<string, unknown>>(
        'SELECT $1::text AS s, $2::int4 AS n, $3::int8 AS b, $4::bool AS t, $5::timestamptz AS at, $6::text AS nothing, $7::jsonb AS doc',
        ['x', 42, 9007199254740993n, false, at, null, JSON.stringify({ k: 'v' })],
      );
      expect(row).toEqual({ s: 'x', n: 42, b: 9007199254740993n, t: false, at, nothing: null, doc: { k: 'v' } });
    });

    it('a parameter is data, never SQL', async () => {
      const hostile = "x'); DROP TABLE runner_contract; --";
      await sql.query('INSERT INTO runner_contract (id, label) VALUES ($1, $2)', [1, hostile]);
      expect(await sql.query('SELECT label FROM runner_contract WHERE id = $1', [1])).toEqual([{ label: hostile }]);
    });

    it('a statement is its own transaction: a failure writes nothing and carries its SQLSTATE', async () => {
      const failing = sql.query(`WITH w AS (INSERT INTO runner_contract (id, label) VALUES (2, 'two') RETURNING id) SELECT 1 / (SELECT count(*) - 1 FROM w) AS boom`);
      await expect(failing).rejects.toSatisfy((error: unknown) => sqlState(error) === '22012');
      expect(await sql.query('SELECT id FROM runner_contract WHERE id = 2')).toEqual([]);

      const duplicate = await sql.query('INSERT INTO runner_contract (id, label) VALUES (1, $1)', ['again']).catch((error: unknown) => error);
      expect(sqlState(duplicate)).toBe(UNIQUE_VIOLATION);
    });

    it('concurrent statements all complete, each once', async () => {
      await Promise.all(Array.from({ length: 20 }, (_, i) => sql.query('INSERT INTO runner_contract (id, label) VALUES ($1, $2)', [100 + i, `c${i}`])));
      const [row] = await sql.query<{ n: bigint }>('SELECT count(*) AS n FROM runner_contract WHERE id >= 100');
      expect(row!.n).toBe(20n);
    });

    it('the planner never JIT-compiles our statements (it cost the credit ~80 ms of Postgres CPU)', async () => {
      // Several connections: the setting is made per pooled connection.
      const settings = await Promise.all(Array.from({ length: 4 }, () => sql.query<{ jit: string }>('SHOW jit')));
      expect(settings.flat()).toEqual(Array.from({ length: 4 }, () => ({ jit: 'off' })));
    });
  });
}
