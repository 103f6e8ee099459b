import { badInput } from '../../errors.js';
import type { PrismaClient } from '../../db/database.js';

/**
 * Player search for operators (the admin console's "find a player"). Matches
 * an id prefix or a username substring, case-insensitively, and deliberately
 * includes hidden and banned players: finding them is what operators need it for.
 *
 * The term is bound as a parameter and its LIKE wildcards (% _ and the escape
 * character itself) are escaped, so "a_b" finds "a_b" and not "axb". Results:
 * an exact id first, then an exact username, then by score (highest first), at
 * most `first` rows. A username substring cannot use an index, so this is an
 * operator tool with a small limit, not a public lookup.
 */

export const SEARCH_MAX_LENGTH = 100;
export const SEARCH_MAX_RESULTS = 50;

/** Escapes LIKE/ILIKE wildcards for use with `ESCAPE '\'`. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export interface PlayerSearch {
  search: string;
  first?: number | null;
}

/** Validates the input and returns the ids of matching players, best first. */
export async function searchPlayerIds(db: Pick<PrismaClient, '$queryRaw'>, q: PlayerSearch): Promise<string[]> {
  const term = q.search.normalize('NFKC').trim();
  if (term.length === 0) throw badInput('search must not be empty');
  if (term.length > SEARCH_MAX_LENGTH) throw badInput(`search must be at most ${SEARCH_MAX_LENGTH} characters`);
  const first = q.first ?? 20;
  if (!Number.isInteger(first) || first < 1 || first > SEARCH_MAX_RESULTS) throw badInput(`first must be between 1 and ${SEARCH_MAX_RESULTS}`);
  const escaped = escapeLike(term);
  const prefix = `${escaped}%`;
  const contains = `%${escaped}%`;
  const rows = await db.$queryRaw<{ id: string }[]>`
    SELECT id FROM players
    WHERE id ILIKE ${prefix} ESCAPE '\\' OR username ILIKE ${contains} ESCAPE '\\'
    ORDER BY (id = ${term}) DESC, (lower(username) = lower(${term})) DESC, score DESC, reached_seq ASC, id ASC
    LIMIT ${first}`;
  return rows.map((r) => r.id);
}
