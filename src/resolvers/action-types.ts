import { AppError, badInput } from '../errors.js';
import type { Services } from '../services.js';

/**
 * The points table, read from Postgres at most once per TTL per instance. It is
 * only a fast path for the checks before a credit (unknown type, minSeconds):
 * the credit statement itself reads points and `enabled` from the table, so a
 * type disabled a moment ago can never be credited.
 */
const TTL_MS = 5_000;
const MAX_CODE_LENGTH = 64;

interface ActionTypeRow {
  code: string;
  points: number;
  minSeconds: number;
  enabled: boolean;
}

const cached = new WeakMap<Services, { at: number; types: Promise<Map<string, ActionTypeRow>> }>();

function loadTypes(services: Services): Promise<Map<string, ActionTypeRow>> {
  const hit = cached.get(services);
  if (hit && Date.now() - hit.at < TTL_MS) return hit.types;
  const types = services.prisma.actionType.findMany().then((rows) => new Map(rows.map((r) => [r.code, r])));
  // A failed read is not cached.
  types.catch(() => cached.delete(services));
  cached.set(services, { at: Date.now(), types });
  return types;
}

/**
 * Drops this instance's copy of the table, so the next check reads it again.
 * For whoever changes the table (operators, seed scripts, tests); other
 * instances see the change within the TTL.
 */
export function forgetActionTypes(services: Services): void {
  cached.delete(services);
}

export async function listActionTypes(services: Services): Promise<ActionTypeRow[]> {
  return [...(await loadTypes(services)).values()].filter((t) => t.enabled).sort((a, b) => a.code.localeCompare(b.code));
}

/** BAD_USER_INPUT for a code no action type could have. */
export function checkActionTypeCode(code: string): void {
  if (code.length === 0 || code.length > MAX_CODE_LENGTH) throw badInput(`actionType must be 1..${MAX_CODE_LENGTH} characters`);
}

/**
 * Answered from the cached table only: an unknown code never causes a read
 * (anyone could send a stream of made-up codes to force one each). A type added
 * to the table is known here within the cache TTL.
 */
export async function enabledActionType(services: Services, code: string): Promise<ActionTypeRow> {
  checkActionTypeCode(code);
  const type = (await loadTypes(services)).get(code);
  if (!type || !type.enabled) throw new AppError('UNKNOWN_ACTION_TYPE', `Unknown action type "${code}"`);
  return type;
}
