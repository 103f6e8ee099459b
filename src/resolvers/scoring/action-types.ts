import { AppError, badInput } from '../../errors.js';
import type { PrismaClient } from '../../db/database.js';
import type { Logger } from '../../logger.js';
import type { Bus } from '../live/bus.js';
import { ReloadingSnapshot } from '../live/reloading-snapshot.js';

/**
 * The points table. Each instance keeps a copy, reloaded when any instance
 * changes it (the DEFINITIONS_CHANGED notice) and at most every few seconds
 * regardless. The copy is only a fast path for the checks before a credit
 * (unknown type, minSeconds): the credit statement itself reads points and
 * `enabled` from the table, so a type disabled a moment ago is never credited,
 * and new points apply to later credits only.
 */
export interface ActionTypeRow {
  code: string;
  points: number;
  minSeconds: number;
  enabled: boolean;
}

export interface ActionTypeInput {
  code: string;
  points?: number | null;
  minSeconds?: number | null;
  enabled?: boolean | null;
}

const CODE = /^[A-Z][A-Z0-9_]{0,39}$/;
const MAX_POINTS = 1_000_000;
const MAX_MIN_SECONDS = 86_400;
/** Longest code a request may name; anything longer is bad input before any lookup. */
const MAX_CODE_LENGTH = 64;

export class ActionTypeTable {
  private readonly snapshot: ReloadingSnapshot<Map<string, ActionTypeRow>>;

  constructor(private readonly deps: { prisma: PrismaClient; bus: Bus; logger: Logger }) {
    this.snapshot = new ReloadingSnapshot(async () => new Map((await deps.prisma.actionType.findMany()).map((r) => [r.code, r])));
  }

  /** Follows changes made on any instance. */
  start(): Promise<() => void> {
    return this.snapshot.follow(this.deps.bus, 'actionTypes');
  }

  invalidate(): void {
    this.snapshot.invalidate();
  }

  private load(): Promise<Map<string, ActionTypeRow>> {
    return this.snapshot.get();
  }

  /** The enabled types, by code. */
  async list(): Promise<ActionTypeRow[]> {
    return [...(await this.load()).values()].filter((t) => t.enabled).sort((a, b) => a.code.localeCompare(b.code));
  }

  /** Which of these codes exist (enabled or not). */
  async existing(codes: string[]): Promise<string[]> {
    const types = await this.load();
    return codes.filter((c) => types.has(c));
  }

  /**
   * The enabled type with this code, else UNKNOWN_ACTION_TYPE. Answered from the
   * instance's copy: an unknown code never costs a database read (a change made
   * on any instance reaches every copy through the bus).
   */
  async enabled(code: string): Promise<ActionTypeRow> {
    checkActionTypeCode(code);
    const type = (await this.load()).get(code);
    if (!type || !type.enabled) throw new AppError('UNKNOWN_ACTION_TYPE', `Unknown action type "${code}"`);
    return type;
  }

  async upsert(input: ActionTypeInput): Promise<ActionTypeRow> {
    if (!CODE.test(input.code)) throw badInput('code must match [A-Z][A-Z0-9_]{0,39}');
    if (input.points != null && (!Number.isInteger(input.points) || input.points < 1 || input.points > MAX_POINTS)) {
      throw badInput(`points must be a whole number from 1 to ${MAX_POINTS}`);
    }
    if (input.minSeconds != null && (!Number.isInteger(input.minSeconds) || input.minSeconds < 0 || input.minSeconds > MAX_MIN_SECONDS)) {
      throw badInput(`minSeconds must be a whole number from 0 to ${MAX_MIN_SECONDS}`);
    }
    const existing = await this.deps.prisma.actionType.findUnique({ where: { code: input.code } });
    if (!existing && input.points == null) throw badInput('points is required for a new action type');
    const data = {
      ...(input.points != null ? { points: input.points } : {}),
      ...(input.minSeconds != null ? { minSeconds: input.minSeconds } : {}),
      ...(input.enabled != null ? { enabled: input.enabled } : {}),
    };
    const saved = await this.deps.prisma.actionType.upsert({
      where: { code: input.code },
      create: { code: input.code, points: input.points!, minSeconds: input.minSeconds ?? 0, enabled: input.enabled ?? true },
      update: data,
    });
    this.invalidate();
    await this.deps.bus.publish('DEFINITIONS_CHANGED', { kind: 'actionTypes' }).catch((error: Error) => {
      this.deps.logger.warn({ err: error.message }, 'definitions-changed publish failed');
    });
    return saved;
  }
}

/** BAD_USER_INPUT for a code no action type could have. */
export function checkActionTypeCode(code: string): void {
  if (code.length === 0 || code.length > MAX_CODE_LENGTH) throw badInput(`actionType must be 1..${MAX_CODE_LENGTH} characters`);
}
