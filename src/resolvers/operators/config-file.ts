import { basename } from 'node:path';
import type { z } from 'zod';
import { ConfigFileError, formatPath, type AchievementEntry, type ConfigFile } from '../../config-file.js';
import { AppError } from '../../errors.js';
import type { Services } from '../../services.js';
import type { BoardDefinition, BoardInput } from '../boards/definitions.js';
import { canonicalTimeZone } from '../boards/periods.js';
import type { ActionTypeInput } from '../scoring/action-types.js';
import { recordConfigChange } from './audit.js';

/**
 * Applies a configuration file at start-up, before the server listens: action
 * types first (boards may name them), then boards, then achievements. Each
 * entry goes through the same upsert, and so the same validation, as the
 * `upsertActionType` / `upsertBoard` mutations. Nothing is ever deleted.
 *
 * An entry equal to what the database holds is skipped (no write, no version
 * bump, no audit row), so restarting with the same file changes nothing. Each
 * applied change writes an audit_events row (kind CONFIG, actor config:<file>,
 * detail = the fields before and after) and counts in
 * scoreboard_config_changes_total{source="file"}, like the mutations do.
 *
 * The file's shape was checked when it was read (src/config-file.ts). A value
 * only the database can judge (a board whose period fields cannot change once
 * it has entries, an unknown action type) stops start-up here with a
 * ConfigFileError naming the entry; the entries before it stay applied (each is
 * a complete upsert of its own), and the fixed file converges on the next start.
 */

export interface ConfigChange {
  what: 'actionType' | 'board' | 'achievement';
  id: string;
  created: boolean;
  /** field -> [before, after] (before null on create). */
  changes: Record<string, [unknown, unknown]>;
}

/** Any fixed 64-bit number: instances starting together apply the file one after another. */
const CONFIG_LOCK_KEY = 7_461_905_233_002;

export async function applyConfigFile(services: Services, file: ConfigFile): Promise<ConfigChange[]> {
  // Several instances booting at once with the same file: the first applies it, the others then
  // find nothing left to change (no duplicate writes or audit rows). The lock lives on a session of its own.
  return services.db.withSession(async (session) => {
    await session.query('SELECT pg_advisory_lock($1)', [CONFIG_LOCK_KEY]);
    try {
      return await applyEntries(services, file);
    } finally {
      await session.query('SELECT pg_advisory_unlock($1)', [CONFIG_LOCK_KEY]);
    }
  });
}

async function applyEntries(services: Services, file: ConfigFile): Promise<ConfigChange[]> {
  const actor = `config:${basename(file.path)}`;
  const applied: ConfigChange[] = [];
  const record = async (change: ConfigChange) => {
    // The same audit row and counter as the mutations, with source "file".
    const { what, ...detail } = change;
    await recordConfigChange(services, actor, what, { ...detail, file: basename(file.path) }, 'file');
    services.logger.info({ actor, ...change }, 'configuration change applied');
    applied.push(change);
  };

  for (const [i, entry] of file.actionTypes.entries()) {
    const change = await guarded(file, ['actionTypes', i], () => upsertActionType(services, entry));
    if (change) await record(change);
  }
  for (const [i, entry] of file.boards.entries()) {
    const change = await guarded(file, ['boards', i], () => upsertBoard(services, entry));
    if (change) await record(change);
  }
  // Achievements write their CONFIG audit row in the same statement as the definition (as the mutation does).
  for (const change of await applyAchievements(services, file, actor)) {
    services.metrics.configChanges.inc({ what: 'achievement', source: 'file' });
    services.logger.info({ actor, ...change }, 'configuration change applied');
    applied.push(change);
  }
  return applied;
}

const ACHIEVEMENT_FIELDS = ['title', 'description', 'kind', 'board', 'threshold', 'actionType', 'enabled'] as const;

/**
 * The achievements of a configuration file, after the boards and action types
 * they name: each through the upsertAchievement mutation's own upsert (same
 * validation; it writes the CONFIG audit row with the definition). An entry
 * equal to what is stored is skipped.
 */
export async function applyAchievements(services: Services, file: ConfigFile, actor: string): Promise<ConfigChange[]> {
  const list: z.infer<typeof AchievementEntry>[] = file.achievements;
  if (list.length === 0) return [];
  const changes: ConfigChange[] = [];
  const stored = await services.achievements.byCodes(list.map((a) => a.code));
  for (const [i, entry] of list.entries()) {
    const before = stored.get(entry.code);
    // Omitted (or null, except actionType where null means "none") keeps the stored value, as in the mutation.
    const keeps = (k: (typeof ACHIEVEMENT_FIELDS)[number]) => (entry[k] == null && (k !== 'actionType' || entry[k] === undefined)) || entry[k] === before?.[k];
    if (before && ACHIEVEMENT_FIELDS.every(keeps)) continue;
    const after = await guarded(file, ['achievements', i], () => services.achievements.upsert(entry, (codes) => services.actionTypes.existing(codes), actor));
    const change = diff('achievement', entry.code, before, after, ACHIEVEMENT_FIELDS);
    if (change) changes.push(change);
  }
  return changes;
}

/** Runs one upsert; a BAD_USER_INPUT (the mutations' validation) becomes a ConfigFileError naming the entry. */
async function guarded<T>(file: ConfigFile, path: (string | number)[], work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof AppError) throw new ConfigFileError(file.path, [`${formatPath(path)}: ${error.message}`]);
    throw error;
  }
}

async function upsertActionType(services: Services, input: ActionTypeInput): Promise<ConfigChange | undefined> {
  const before = await services.prisma.actionType.findUnique({ where: { code: input.code } });
  const wanted = { points: input.points, minSeconds: input.minSeconds, enabled: input.enabled };
  if (before && Object.entries(wanted).every(([k, v]) => v == null || before[k as keyof typeof wanted] === v)) return undefined;
  const after = await services.actionTypes.upsert(input);
  return diff('actionType', input.code, before, after, ['points', 'minSeconds', 'enabled']);
}

const BOARD_FIELDS = ['title', 'window', 'timeZone', 'weekStart', 'periodSeconds', 'anchor', 'segmentBy', 'actionTypes', 'enabled'] as const;

async function upsertBoard(services: Services, input: BoardInput): Promise<ConfigChange | undefined> {
  services.definitions.invalidate();
  const before = await services.definitions.get(input.id);
  if (before && !boardWouldChange(before, input)) return undefined;
  const after = await services.definitions.upsert(input, (codes) => services.actionTypes.existing(codes));
  return diff('board', input.id, before, after, BOARD_FIELDS);
}

/**
 * Whether upserting `input` would change the board. Errs towards "yes": an
 * upsert that changes nothing only costs a version bump, and writes no audit
 * row (the audit row lists what actually changed).
 */
function boardWouldChange(before: BoardDefinition, input: BoardInput): boolean {
  const wanted: Partial<Record<(typeof BOARD_FIELDS)[number], unknown>> = {};
  for (const field of BOARD_FIELDS) {
    const value = input[field];
    if (value === undefined) continue;
    // As in the mutation: null keeps title, window, timeZone, weekStart and enabled; it clears the others.
    if (value === null && ['title', 'window', 'timeZone', 'weekStart', 'enabled'].includes(field)) continue;
    wanted[field] = value;
  }
  if (typeof wanted.title === 'string') wanted.title = wanted.title.trim();
  if (typeof wanted.timeZone === 'string') wanted.timeZone = canonicalTimeZone(wanted.timeZone);
  if (Array.isArray(wanted.actionTypes)) wanted.actionTypes = [...new Set(wanted.actionTypes as string[])].sort();
  return Object.entries(wanted).some(([field, value]) => !same(before[field as keyof BoardDefinition], value));
}

function diff<T extends object>(what: ConfigChange['what'], id: string, before: T | null | undefined, after: T, fields: readonly (keyof T & string)[]): ConfigChange | undefined {
  const changes: Record<string, [unknown, unknown]> = {};
  for (const field of fields) {
    const from = before ? before[field] : null;
    const to = after[field];
    if (!before || !same(from, to)) changes[field] = [plain(from), plain(to)];
  }
  if (before && Object.keys(changes).length === 0) return undefined;
  return { what, id, created: !before, changes };
}

function plain(v: unknown): unknown {
  return v instanceof Date ? v.toISOString() : (v ?? null);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(plain(a)) === JSON.stringify(plain(b));
}
