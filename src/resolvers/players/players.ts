import type { PlayerIdentity } from '../../auth/player-jwt.js';
import type { Services } from '../../services.js';
import { rankOf } from '../boards/ranking.js';

/**
 * Players exist from their first authenticated request. Each instance remembers
 * whom it has already written, so the upsert costs one query per player per
 * process (and one more when the identity provider renames someone).
 */
const MAX_REMEMBERED = 100_000;
const remembered = new WeakMap<Services, Map<string, string>>();

export async function ensurePlayer(services: Services, identity: PlayerIdentity): Promise<void> {
  let known = remembered.get(services);
  if (!known) remembered.set(services, (known = new Map()));
  if (known.get(identity.playerId) === identity.username) return;
  await services.prisma.$executeRaw`
    INSERT INTO players (id, username) VALUES (${identity.playerId}, ${identity.username})
    ON CONFLICT (id) DO UPDATE SET username = EXCLUDED.username, updated_at = now()
    WHERE players.username IS DISTINCT FROM EXCLUDED.username`;
  if (known.size >= MAX_REMEMBERED) known.clear();
  known.set(identity.playerId, identity.username);
  await services.rankingCache.rename(identity.playerId, identity.username).catch((error: Error) => {
    services.logger.warn({ err: error.message }, 'ranking cache rename failed (reconcile will fix it)');
  });
}

/** A player's rank, or null when they have not scored yet. */
export async function playerRank(services: Services, player: { id: string; score: bigint | number; reachedSeq: bigint | number }) {
  if (Number(player.score) <= 0) return null;
  return rankOf(services, { playerId: player.id, score: Number(player.score), reachedSeq: Number(player.reachedSeq) });
}
