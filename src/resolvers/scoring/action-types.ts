import { AppError, badInput } from '../../errors.js';
import type { Services } from '../../services.js';

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

export async function listActionTypes(services: Services): Promise<ActionTypeRow[]> {
  return [...(await loadTypes(services)).values()].filter((t) => t.enabled).sort((a, b) => a.code.localeCompare(b.code));
}

/** The enabled type with this code; UNKNOWN_ACTION_TYPE otherwise. */
/** BAD_USER_INPUT for a code no action type could have. */
export function checkActionTypeCode(code: string): void {
  if (code.length === 0 || code.length > MAX_CODE_LENGTH) throw badInput(`actionType must be 1..${MAX_CODE_LENGTH} characters`);
}

export async function enabledActionType(services: Services, code: string): Promise<ActionTypeRow> {
  checkActionTypeCode(code);
  let type = (await loadTypes(services)).get(code);
  if (!type) {
    // Maybe added since the last read: look once more before refusing.
    cached.delete(services);
    type = (await loadTypes(services)).get(code);
  }
  if (!type || !type.enabled) throw new AppError('UNKNOWN_ACTION_TYPE', `Unknown action type "${code}"`);
  return type;
}
