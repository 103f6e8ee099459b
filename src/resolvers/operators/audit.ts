import { badInput } from '../../errors.js';
import type { PrismaClient } from '../../db/database.js';
import type { Metrics } from '../../metrics.js';

/**
 * The audit log: every score change (CREDIT, VOID, IMPORT rows of
 * action_credits, whose old + delta = new chain is the proof of each score) and
 * every other operator act (audit_events: HIDE, UNHIDE, BAN, UNBAN, CONFIG,
 * REBUILD). Both draw their ids from one sequence, so one order covers them:
 * newest first is highest id first, and the cursor is that id.
 */

export type AuditEventKind = 'HIDE' | 'UNHIDE' | 'BAN' | 'UNBAN' | 'CONFIG' | 'REBUILD';

export interface AuditEventInput {
  kind: AuditEventKind;
  playerId?: string | null;
  /** The operator's `sub` (or `config:<file>` for the configuration file). */
  actor: string;
  reason?: string | null;
  detail?: Record<string, unknown>;
}

type Db = Pick<PrismaClient, '$queryRaw' | '$executeRaw'>;

export async function recordAuditEvent(db: Db, e: AuditEventInput): Promise<bigint> {
  const [row] = await db.$queryRaw<{ id: bigint }[]>`
    INSERT INTO audit_events (kind, player_id, actor, reason, detail)
    VALUES (${e.kind}, ${e.playerId ?? null}, ${e.actor}, ${e.reason ?? null}, ${JSON.stringify(e.detail ?? {})}::jsonb)
    RETURNING id`;
  return row!.id;
}

/** A change to the points table or the boards, by an operator's mutation or the configuration file. */
export async function recordConfigChange(
  services: { prisma: Db; metrics: Metrics },
  actor: string,
  what: 'actionType' | 'board' | 'achievement',
  detail: Record<string, unknown>,
  source: 'mutation' | 'file' = 'mutation',
): Promise<void> {
  await recordAuditEvent(services.prisma, { kind: 'CONFIG', actor, detail: { what, ...detail } });
  services.metrics.configChanges.inc({ what, source });
}

export interface AuditEntryRow {
  id: bigint;
  kind: string;
  at: Date;
  playerId: string | null;
  actor: string | null;
  reason: string | null;
  actionId: string | null;
  actionType: string | null;
  delta: number | null;
  oldScore: bigint | null;
  newScore: bigint | null;
}

export interface AuditPage {
  entries: AuditEntryRow[];
  endCursor: string | null;
  hasNextPage: boolean;
}

export interface AuditQuery {
  player?: string | null;
  actionId?: string | null;
  first?: number | null;
  after?: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Cursors are opaque to clients: the id of the last entry of a page, encoded. */
export function encodeCursor(id: bigint): string {
  return Buffer.from(`audit:${id}`).toString('base64url');
}

function decodeCursor(cursor: string): bigint {
  const text = cursor.length <= 64 ? Buffer.from(cursor, 'base64url').toString() : '';
  const m = /^audit:(\d{1,19})$/.exec(text);
  if (!m) throw badInput('after is not a cursor from this audit log');
  return BigInt(m[1]!);
}

/**
 * One page, newest first. Filters combine with the cursor. An action id
 * matches its credit and the void that took it back. Each side of the union
 * walks an index in id order and stops after `first + 1` rows.
 */
export async function readAuditLog(db: Db, q: AuditQuery): Promise<AuditPage> {
  const first = q.first ?? 50;
  if (!Number.isInteger(first) || first < 1 || first > 100) throw badInput('first must be between 1 and 100');
  if (q.actionId != null && !UUID.test(q.actionId)) throw badInput('actionId must be a UUID');
  if (q.player != null && q.player.length > 128) throw badInput('player id is too long');
  const before = q.after == null ? null : decodeCursor(q.after);
  const player = q.player ?? null;
  const action = q.actionId ?? null;
  const rows = await db.$queryRaw<AuditEntryRow[]>`
    SELECT * FROM (
      (SELECT id, kind, created_at AS at, player_id AS "playerId", actor, reason,
          (CASE kind WHEN 'VOID' THEN voids WHEN 'CREDIT' THEN action_id END)::text AS "actionId",
          action_type AS "actionType", delta, old_score AS "oldScore", new_score AS "newScore"
        FROM action_credits
        WHERE (${player}::text IS NULL OR player_id = ${player}::text)
          AND (${action}::uuid IS NULL OR (action_id = ${action}::uuid AND kind = 'CREDIT') OR voids = ${action}::uuid)
          AND (${before}::bigint IS NULL OR id < ${before}::bigint)
        ORDER BY id DESC LIMIT ${first + 1})
      UNION ALL
      (SELECT id, kind, at, player_id, actor, reason, NULL, NULL, NULL, NULL, NULL
        FROM audit_events
        WHERE ${action}::uuid IS NULL
          AND (${player}::text IS NULL OR player_id = ${player}::text)
          AND (${before}::bigint IS NULL OR id < ${before}::bigint)
        ORDER BY id DESC LIMIT ${first + 1})
    ) AS log ORDER BY id DESC LIMIT ${first + 1}`;
  const entries = rows.slice(0, first);
  return { entries, hasNextPage: rows.length > first, endCursor: entries.length ? encodeCursor(entries.at(-1)!.id) : null };
}
