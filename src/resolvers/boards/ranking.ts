import type { BoardEntry, BoardSnapshot, RankedEntry } from './ranking-cache.js';
import { sameEntry } from './ranking-cache.js';
import type { Services } from '../../services.js';

/**
 * Reading and maintaining the ranking. Reads come from the ranking cache; when
 * it is cold or unreachable they fall back to Postgres (the truth) and a
 * rebuild is scheduled.
 */

export interface Leaderboard {
  seq: number;
  entries: RankedEntry[];
  updatedAt: Date;
}

export { MAX_BOARD_SIZE } from './ranking-cache.js';

/** Highest seq this instance has seen: the answer while the cache is unreachable. */
const lastSeq = new WeakMap<Services, number>();
export function noteSeq(services: Services, seq: number): number {
  const best = Math.max(lastSeq.get(services) ?? 0, seq);
  lastSeq.set(services, best);
  return best;
}
export const lastKnownSeq = (services: Services) => lastSeq.get(services) ?? 0;

export async function readBoard(services: Services, first: number): Promise<Leaderboard> {
  return (await readBoards(services, [first])).get(first)!;
}

/**
 * Boards of several sizes from ONE read: the cache's top `largest`, sliced, each
 * slice with its own seq; Postgres (with the last known seq) when the cache
 * cannot answer.
 */
export async function readBoards(services: Services, firsts: number[]): Promise<Map<number, Leaderboard>> {
  const largest = Math.max(...firsts);
  const out = new Map<number, Leaderboard>();
  const updatedAt = new Date();
  const cached = await readCachedBoard(services, largest);
  if (cached) {
    noteSeq(services, cached.seq);
    for (const first of firsts) {
      out.set(first, { seq: cached.prefixSeqs[first - 1] ?? cached.seq, entries: cached.entries.slice(0, first), updatedAt });
    }
    return out;
  }
  const entries = await boardFromDatabase(services, largest);
  for (const first of firsts) out.set(first, { seq: lastKnownSeq(services), entries: entries.slice(0, first), updatedAt });
  return out;
}

/** The cached top `first`, or null (and a rebuild scheduled) when the cache cannot answer. */
export async function readCachedBoard(services: Services, first: number): Promise<BoardSnapshot | null> {
  try {
    const snapshot = await services.rankingCache.top(first);
    if (snapshot) return snapshot;
    scheduleRebuild(services, 'cold');
  } catch (error) {
    services.logger.warn({ err: (error as Error).message }, 'ranking cache unavailable; reading Postgres');
  }
  return null;
}

export async function boardFromDatabase(services: Services, first: number): Promise<RankedEntry[]> {
  const rows = await services.prisma.player.findMany({
    where: { score: { gt: 0 } },
    orderBy: [{ score: 'desc' }, { reachedSeq: 'asc' }, { id: 'asc' }],
    take: first,
    select: { id: true, username: true, score: true, reachedSeq: true },
  });
  return rows.map((r, i) => ({ ...toEntry(r), rank: i + 1 }));
}

export async function rankOf(services: Services, entry: Omit<BoardEntry, 'username'>): Promise<number> {
  try {
    const rank = await services.rankingCache.rankOf(entry.playerId);
    if (typeof rank === 'number') return rank;
    if (rank === null) scheduleRebuild(services, 'cold');
  } catch {
    // fall through to Postgres
  }
  const [row] = await services.prisma.$queryRaw<{ ahead: bigint }[]>`
    SELECT count(*) AS ahead FROM players
    WHERE score > ${entry.score} OR (score = ${entry.score} AND reached_seq < ${entry.reachedSeq})`;
  return Number(row!.ahead) + 1;
}

const rebuilding = new WeakMap<Services, Promise<void>>();

/** Rebuilds the cache from Postgres once at a time per instance; concurrent callers share it. */
export function scheduleRebuild(services: Services, reason: string): Promise<void> {
  const running = rebuilding.get(services);
  if (running) return running;
  const task = rebuildFromDatabase(services, reason)
    .catch((error: Error) => services.logger.warn({ err: error.message, reason }, 'ranking cache rebuild failed'))
    .finally(() => rebuilding.delete(services));
  rebuilding.set(services, task);
  return task;
}

async function rebuildFromDatabase(services: Services, reason: string): Promise<void> {
  const started = Date.now();
  const [{ epoch }] = await services.prisma.$queryRaw<[{ epoch: bigint }]>`SELECT nextval('board_epoch_seq') AS epoch`;
  const entries = await allScoredPlayers(services);
  await services.rankingCache.rebuild(Number(epoch), entries);
  services.metrics.cacheRebuilds.inc({ reason });
  services.logger.info({ reason, players: entries.length, ms: Date.now() - started }, 'ranking cache rebuilt from Postgres');
  await publishBoardChanged(services);
}

/**
 * Brings the cache back to Postgres' truth: entries that are behind are merged,
 * entries that differ otherwise (someone edited Redis) are replaced, but only if
 * they did not change meanwhile. Returns the number of entries fixed.
 */
export async function reconcile(services: Services): Promise<number> {
  if ((await services.rankingCache.seq()) === null) {
    await scheduleRebuild(services, 'cold');
    return 0;
  }
  // Cache first, then Postgres: a legitimate cached score is then never above the truth we read.
  const cached = new Map((await services.rankingCache.all()).map((e) => [e.playerId, e]));
  const truth = new Map((await allScoredPlayers(services)).map((e) => [e.playerId, e]));
  let fixed = 0;
  for (const id of new Set([...cached.keys(), ...truth.keys()])) {
    const seen = cached.get(id);
    const real = truth.get(id) ?? (await freshEntry(services, id));
    if (sameEntry(seen, real)) continue;
    if (seen && real.score > seen.score) {
      await services.rankingCache.apply(real);
    } else if (await services.rankingCache.repair(seen, real)) {
      services.metrics.cacheRepairs.inc();
      services.logger.warn({ playerId: id, cached: seen, truth: real }, 'ranking cache drift repaired');
    } else continue;
    fixed += 1;
  }
  if (fixed > 0) await publishBoardChanged(services);
  return fixed;
}

async function freshEntry(services: Services, playerId: string): Promise<BoardEntry> {
  const row = await services.prisma.player.findUnique({
    where: { id: playerId },
    select: { id: true, username: true, score: true, reachedSeq: true },
  });
  return row ? toEntry(row) : { playerId, username: playerId, score: 0, reachedSeq: 0 };
}

async function allScoredPlayers(services: Services): Promise<BoardEntry[]> {
  const out: BoardEntry[] = [];
  let cursor: string | undefined;
  for (;;) {
    const rows = await services.prisma.player.findMany({
      where: { score: { gt: 0 } },
      orderBy: { id: 'asc' },
      take: 5_000,
      ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
      select: { id: true, username: true, score: true, reachedSeq: true },
    });
    out.push(...rows.map(toEntry));
    if (rows.length < 5_000) return out;
    cursor = rows.at(-1)!.id;
  }
}

export function toEntry(row: { id: string; username: string; score: bigint | number; reachedSeq: bigint | number }): BoardEntry {
  return { playerId: row.id, username: row.username, score: Number(row.score), reachedSeq: Number(row.reachedSeq) };
}

/** Tells every instance the board may have changed. Best effort: a lost notice is healed by reconnect resync. */
export async function publishBoardChanged(services: Services, seq?: number): Promise<void> {
  try {
    await services.bus.publish('BOARD_CHANGED', { seq: seq ?? lastKnownSeq(services) });
  } catch (error) {
    services.logger.warn({ err: (error as Error).message }, 'board-changed publish failed');
  }
}
