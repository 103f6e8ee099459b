import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

/**
 * One parameterized statement on the primary, outside any transaction of
 * Prisma's (the statement is its own transaction). For the hot write path,
 * where Prisma's raw-query layer (argument mapping, its engine round trip,
 * result decoding) costs more CPU than the statement itself.
 *
 * Both implementations return the same JavaScript values, so callers never
 * ask which backend they run on:
 * - int8 (bigint) → `bigint` (pg would give a string, PGlite a lossy number);
 * - int2/int4 → `number`; numeric → `string`; bool → `boolean`;
 * - json/jsonb → the parsed value; timestamptz → `Date`; text/uuid → `string`; NULL → `null`.
 * Parameters: strings, numbers, bigints, booleans, Dates and null; cast them in
 * the SQL (`$1::jsonb`, `$2::uuid`) where the type is not obvious from the context.
 */
export interface SqlRunner {
  query<Row extends object>(text: string, params?: readonly SqlParam[]): Promise<Row[]>;
}

export type SqlParam = string | number | bigint | boolean | Date | null;

const INT8_OID = 20;
const parseInt8 = (value: string) => BigInt(value);

/** Our parameters in the form both drivers accept unchanged (a bigint is sent as its decimal text). */
function wire(params: readonly SqlParam[]): unknown[] {
  return params.map((p) => (typeof p === 'bigint' ? p.toString() : p instanceof Date ? p.toISOString() : p));
}

/** The pool's own types, with int8 as bigint for this runner only (Prisma's adapter keeps its parsers). */
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format ?? 'text'))) as typeof pg.types.getTypeParser,
};

export function pgSqlRunner(pool: pg.Pool): SqlRunner {
  return {
    async query<Row extends object>(text: string, params: readonly SqlParam[] = []) {
      const result = await pool.query<Row>({ text, values: wire(params), types: pgTypes });
      return result.rows;
    },
  };
}

export function pgliteSqlRunner(db: PGlite): SqlRunner {
  return {
    async query<Row extends object>(text: string, params: readonly SqlParam[] = []) {
      const result = await db.query<Row>(text, wire(params), { parsers: { [INT8_OID]: parseInt8 } });
      return result.rows;
    },
  };
}

/** The SQLSTATE of a failed statement (both drivers raise Postgres' own error with its `code`). */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

export const UNIQUE_VIOLATION = '23505';
