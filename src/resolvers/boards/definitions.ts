import { AppError, badInput } from '../../errors.js';
import type { PrismaClient } from '../../db/database.js';
import type { Logger } from '../../logger.js';
import type { Bus } from '../live/bus.js';
import { ReloadingSnapshot } from '../live/reloading-snapshot.js';
import { BOARD_WINDOWS, canonicalTimeZone, validatePeriodSpec, WEEKDAYS, type BoardWindow, type PeriodSpec, type Weekday } from './periods.js';

/**
 * Operator-defined boards. Postgres holds the definitions; each instance keeps
 * a copy (ReloadingSnapshot: dropped on any instance's change notice, and
 * re-read every few seconds regardless). The credit statement checks every board's
 * `version` against what the instance used, so a definition changed a moment
 * ago is never missed: the credit is retried with the fresh definitions.
 */
export interface BoardDefinition extends PeriodSpec {
  id: string;
  title: string;
  segmentBy: string | null;
  /** null: every action type counts here. */
  actionTypes: string[] | null;
  enabled: boolean;
  version: number;
  createdAt: Date;
}

export interface BoardInput {
  id: string;
  title?: string | null;
  window?: BoardWindow | null;
  timeZone?: string | null;
  weekStart?: Weekday | null;
  periodSeconds?: number | null;
  anchor?: Date | null;
  segmentBy?: string | null;
  actionTypes?: string[] | null;
  enabled?: boolean | null;
}

export const GLOBAL_BOARD = 'global';
const BOARD_ID = /^[a-z0-9-]{1,40}$/;
const MAX_TITLE = 100;
/** Ten years: longer CUSTOM periods are a mistake, not a leaderboard. */
const MAX_PERIOD_SECONDS = 10 * 366 * 86_400;
/** Fields that decide which period and segment a credit lands in: fixed once the board has entries. */
const IMMUTABLE = ['window', 'timeZone', 'weekStart', 'periodSeconds', 'anchor', 'segmentBy'] as const;

interface BoardRow {
  id: string;
  title: string;
  window: string;
  timeZone: string;
  weekStart: string;
  periodSeconds: number | null;
  anchor: Date | null;
  segmentBy: string | null;
  actionTypes: string[] | null;
  enabled: boolean;
  version: bigint;
  createdAt: Date;
}

const SELECT_BOARDS = `SELECT id, title, board_window AS "window", time_zone AS "timeZone", week_start AS "weekStart",
  period_seconds AS "periodSeconds", anchor, segment_by AS "segmentBy", action_types AS "actionTypes", enabled, version,
  created_at AS "createdAt" FROM boards`;

function fromRow(r: BoardRow): BoardDefinition {
  return {
    id: r.id,
    title: r.title,
    window: r.window as BoardWindow,
    timeZone: r.timeZone,
    weekStart: r.weekStart as Weekday,
    periodSeconds: r.periodSeconds,
    anchor: r.anchor,
    segmentBy: r.segmentBy,
    actionTypes: r.actionTypes,
    enabled: r.enabled,
    version: Number(r.version),
    createdAt: r.createdAt,
  };
}

export function checkBoardId(id: string): void {
  if (!BOARD_ID.test(id)) throw badInput('A board id is 1..40 characters of a-z, 0-9 and -');
}

export class BoardDefinitions {
  private readonly snapshot: ReloadingSnapshot<Map<string, BoardDefinition>>;

  constructor(private readonly deps: { prisma: PrismaClient; bus: Bus; logger: Logger; attributeClaims: string[] }) {
    this.snapshot = new ReloadingSnapshot(async () => {
      const rows = await deps.prisma.$queryRawUnsafe<BoardRow[]>(`${SELECT_BOARDS} ORDER BY id`);
      return new Map(rows.map((r) => [r.id, fromRow(r)]));
    });
  }

  /** Follows changes made on any instance. */
  start(): Promise<() => void> {
    return this.snapshot.follow(this.deps.bus, 'boards');
  }

  invalidate(): void {
    this.snapshot.invalidate();
  }

  private load(): Promise<Map<string, BoardDefinition>> {
    return this.snapshot.get();
  }

  /** Every board, `global` first, then by id. */
  async list(): Promise<BoardDefinition[]> {
    const all = [...(await this.load()).values()];
    return all.sort((a, b) => (a.id === GLOBAL_BOARD ? -1 : b.id === GLOBAL_BOARD ? 1 : a.id.localeCompare(b.id)));
  }

  async get(id: string): Promise<BoardDefinition | undefined> {
    return (await this.load()).get(id);
  }

  /** The board, or NOT_FOUND (BAD_USER_INPUT for an id no board could have). */
  async require(id: string): Promise<BoardDefinition> {
    checkBoardId(id);
    let board = await this.get(id);
    if (!board) {
      // Created on another instance a moment ago? Look once more before refusing.
      this.invalidate();
      board = await this.get(id);
    }
    if (!board) throw new AppError('NOT_FOUND', `No board "${id}"`);
    return board;
  }

  /**
   * Creates or updates a board. Runs in one transaction holding the board row's
   * lock; credits hold a share lock on the rows they write to, so "has entries"
   * and the change cannot interleave with a credit under the old definition.
   */
  async upsert(input: BoardInput, knownActionTypes: (codes: string[]) => Promise<string[]>): Promise<BoardDefinition> {
    checkBoardId(input.id);
    const fields = await this.normalise(input, knownActionTypes);
    const saved = await this.deps.prisma.$transaction(async (tx) => {
      const [current] = await tx.$queryRawUnsafe<BoardRow[]>(`${SELECT_BOARDS} WHERE id = $1 FOR UPDATE`, input.id);
      const before = current ? fromRow(current) : undefined;
      const next = merge(before, fields, input.id);
      validateBoard(next, this.deps.attributeClaims, before);
      if (before && IMMUTABLE.some((k) => !sameValue(before[k], next[k]))) {
        const [{ used }] = await tx.$queryRawUnsafe<[{ used: boolean }]>(`SELECT EXISTS (SELECT 1 FROM board_entries WHERE board_id = $1) AS used`, input.id);
        if (used) {
          const changed = IMMUTABLE.filter((k) => !sameValue(before[k], next[k]));
          throw badInput(`${changed.join(', ')} cannot change once board "${input.id}" has entries`);
        }
      }
      const [row] = await tx.$queryRawUnsafe<BoardRow[]>(
        `INSERT INTO boards AS b (id, title, board_window, time_zone, week_start, period_seconds, anchor, segment_by, action_types, enabled)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text[], $10)
         ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, board_window = EXCLUDED.board_window, time_zone = EXCLUDED.time_zone,
           week_start = EXCLUDED.week_start, period_seconds = EXCLUDED.period_seconds, anchor = EXCLUDED.anchor,
           segment_by = EXCLUDED.segment_by, action_types = EXCLUDED.action_types, enabled = EXCLUDED.enabled,
           version = b.version + 1, updated_at = now()
         RETURNING id, title, board_window AS "window", time_zone AS "timeZone", week_start AS "weekStart",
           period_seconds AS "periodSeconds", anchor, segment_by AS "segmentBy", action_types AS "actionTypes", enabled, version,
           created_at AS "createdAt"`,
        next.id,
        next.title,
        next.window,
        next.timeZone,
        next.weekStart,
        next.periodSeconds,
        next.anchor,
        next.segmentBy,
        next.actionTypes,
        next.enabled,
      );
      return fromRow(row!);
    });
    this.invalidate();
    await this.deps.bus.publish('DEFINITIONS_CHANGED', { kind: 'boards' }).catch((error: Error) => {
      // Other instances still reload within seconds, and no credit uses a stale definition.
      this.deps.logger.warn({ err: error.message }, 'definitions-changed publish failed');
    });
    return saved;
  }

  private async normalise(input: BoardInput, knownActionTypes: (codes: string[]) => Promise<string[]>): Promise<BoardInput> {
    const out: BoardInput = { ...input };
    if (input.title !== undefined && input.title !== null) {
      out.title = input.title.trim();
      if (out.title.length === 0 || out.title.length > MAX_TITLE) throw badInput(`title must be 1..${MAX_TITLE} characters`);
    }
    if (input.window != null && !BOARD_WINDOWS.includes(input.window)) throw badInput(`window must be one of ${BOARD_WINDOWS.join(', ')}`);
    if (input.weekStart != null && !WEEKDAYS.includes(input.weekStart)) throw badInput(`weekStart must be one of ${WEEKDAYS.join(', ')}`);
    if (input.timeZone != null) out.timeZone = canonicalTimeZone(input.timeZone);
    if (input.periodSeconds != null && (!Number.isInteger(input.periodSeconds) || input.periodSeconds < 1 || input.periodSeconds > MAX_PERIOD_SECONDS)) {
      throw badInput(`periodSeconds must be a whole number from 1 to ${MAX_PERIOD_SECONDS}`);
    }
    if (input.anchor != null && Number.isNaN(input.anchor.getTime())) throw badInput('anchor must be a valid DateTime');
    if (input.actionTypes != null) {
      const codes = [...new Set(input.actionTypes)].sort();
      if (codes.length === 0) throw badInput('actionTypes must name at least one action type (or be null for all)');
      const known = new Set(await knownActionTypes(codes));
      const unknown = codes.filter((c) => !known.has(c));
      if (unknown.length) throw badInput(`Unknown action types: ${unknown.join(', ')}`);
      out.actionTypes = codes;
    }
    return out;
  }
}

/** The board after applying the input: omitted fields keep their value (or take the default on create). */
function merge(before: BoardDefinition | undefined, input: BoardInput, id: string): BoardDefinition {
  const pick = <K extends keyof BoardInput>(k: K, fallback: NonNullable<BoardInput[K]> | null) =>
    input[k] !== undefined ? input[k] : before ? (before[k as keyof BoardDefinition] as BoardInput[K]) : fallback;
  const window = input.window ?? before?.window;
  if (!window) throw badInput('window is required for a new board');
  return {
    id,
    title: input.title ?? before?.title ?? id,
    window,
    timeZone: input.timeZone ?? before?.timeZone ?? 'UTC',
    weekStart: input.weekStart ?? before?.weekStart ?? 'MONDAY',
    periodSeconds: (pick('periodSeconds', null) as number | null) ?? null,
    anchor: (pick('anchor', null) as Date | null) ?? (window === 'CUSTOM' && !before?.anchor ? wholeSecond(new Date()) : null),
    segmentBy: (pick('segmentBy', null) as string | null) ?? null,
    actionTypes: (pick('actionTypes', null) as string[] | null) ?? null,
    enabled: input.enabled ?? before?.enabled ?? true,
    version: before?.version ?? 1,
    createdAt: before?.createdAt ?? new Date(),
  };
}

function validateBoard(b: BoardDefinition, attributeClaims: string[], before: BoardDefinition | undefined): void {
  if (b.window === 'CUSTOM') {
    if (b.periodSeconds === null) throw badInput('periodSeconds is required for a CUSTOM board');
  } else {
    if (b.periodSeconds !== null) throw badInput('periodSeconds applies to CUSTOM boards only');
    if (b.anchor !== null) throw badInput('anchor applies to CUSTOM boards only');
  }
  if (b.segmentBy !== null && !attributeClaims.includes(b.segmentBy)) {
    throw badInput(`segmentBy must be a player attribute (PLAYER_ATTRIBUTE_CLAIMS: ${attributeClaims.join(', ') || 'none'})`);
  }
  if (b.id === GLOBAL_BOARD && before) {
    // Every operation without a board reads `global`, and Player.rank is its position: only the title may change.
    const fixed = (['window', 'segmentBy', 'actionTypes', 'enabled'] as const).filter((k) => !sameValue(before[k], b[k]));
    if (fixed.length) throw badInput(`The global board's ${fixed.join(', ')} cannot change`);
  }
  validatePeriodSpec(b);
}

function wholeSecond(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  return JSON.stringify(a) === JSON.stringify(b);
}
