import type { PlayerIdentity } from '../../auth/player-jwt.js';
import type { PrismaClient } from '../../db/database.js';
import type { Logger } from '../../logger.js';
import type { RankingCache } from '../boards/ranking-cache.js';
import { BanFlags } from './ban-flags.js';

/**
 * Players exist from their first authenticated request, with the username and
 * attributes of their latest JWT. The directory remembers whom it has already
 * written, so the upsert costs one query per player per process (and one more
 * when the identity provider renames someone or an attribute changes).
 */
const MAX_REMEMBERED = 100_000;
/** API: every moderation change is in force on every instance within 1 s. */
const BAN_FLAG_MAX_AGE_MS = 1_000;

export class PlayerDirectory {
  private readonly remembered = new Map<string, string>();
  private readonly banFlags = new BanFlags({ maxAgeMs: BAN_FLAG_MAX_AGE_MS, maxEntries: MAX_REMEMBERED });

  constructor(private readonly deps: { prisma: PrismaClient; cache: RankingCache; logger: Logger }) {}

  async ensure(identity: PlayerIdentity): Promise<void> {
    const attributes = JSON.stringify(identity.attributes);
    const fingerprint = `${identity.username}\u0000${attributes}`;
    if (this.remembered.get(identity.playerId) === fingerprint) return;
    await this.deps.prisma.$executeRaw`
      INSERT INTO players (id, username, attributes) VALUES (${identity.playerId}, ${identity.username}, ${attributes}::jsonb)
      ON CONFLICT (id) DO UPDATE SET username = EXCLUDED.username, attributes = EXCLUDED.attributes, updated_at = now()
      WHERE players.username IS DISTINCT FROM EXCLUDED.username OR players.attributes IS DISTINCT FROM EXCLUDED.attributes`;
    const previous = this.remembered.get(identity.playerId);
    if (this.remembered.size >= MAX_REMEMBERED) this.remembered.clear();
    this.remembered.set(identity.playerId, fingerprint);
    if (previous?.split('\u0000')[0] === identity.username) return;
    await this.deps.cache.rename(identity.playerId, identity.username).catch((error: Error) => {
      this.deps.logger.warn({ err: error.message }, 'ranking cache rename failed (reconcile will fix it)');
    });
  }

  /** Forgets that a player was written (their row must be written again on next use). */
  forget(playerId: string): void {
    this.remembered.delete(playerId);
  }

  /**
   * Whether an operator banned the player: read from Postgres at most once a
   * second per player (see BanFlags), at once after a ban or unban here.
   */
  banned(playerId: string): Promise<boolean> {
    return this.banFlags.banned(playerId, async (id) => {
      const [row] = await this.deps.prisma.$queryRaw<{ banned: boolean }[]>`SELECT banned FROM players WHERE id = ${id}`;
      return row?.banned === true;
    });
  }

  /** A ban or unban of this player was committed on this instance. */
  banChanged(playerId: string): void {
    this.banFlags.forget(playerId);
  }

  /** A player's stored attribute (as of their last authenticated request). */
  async attribute(playerId: string, name: string): Promise<string | null> {
    const [row] = await this.deps.prisma.$queryRaw<{ value: string | null }[]>`
      SELECT attributes ->> ${name} AS value FROM players WHERE id = ${playerId}`;
    return row?.value ?? null;
  }
}
