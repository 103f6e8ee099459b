import type { PlayerIdentity } from '../../auth/player-jwt.js';
import { badInput, notFound } from '../../errors.js';
import type { Services } from '../../services.js';
import type { ResolvedView } from '../boards/ranking.js';
import { rankRun, type RankedEntry } from '../boards/ranking-cache.js';
import { segmentColumn } from '../boards/ranking.js';

/**
 * Friendships. Each friendship is two rows, one per direction, so "my
 * friends" is one primary-key range for either player:
 *   A asks B:     (A, B, PENDING_OUT) + (B, A, PENDING_IN)
 *   B accepts:    both ACCEPTED
 *   either removes (declines, withdraws, unfriends): both rows deleted.
 * Every change locks both players' rows (in id order, so two players acting on
 * each other cannot deadlock), which makes the caps exact under concurrency,
 * on any number of instances.
 */

export type FriendshipStatus = 'PENDING_OUT' | 'PENDING_IN' | 'ACCEPTED';

export interface FriendshipResult {
  /** The other player. */
  playerId: string;
  status: FriendshipStatus;
  since: Date;
}

/** Accepted friends per player; also the most pending requests one player may have out, or waiting for them. */
export const MAX_FRIENDS = 1_000;
const MAX_ID = 128;

function checkOther(viewer: PlayerIdentity, other: string) {
  if (other.length === 0 || other.length > MAX_ID) throw badInput('player must be a player id');
  if (other === viewer.playerId) throw badInput('You cannot befriend yourself');
}

type Tx = Parameters<Parameters<Services['prisma']['$transaction']>[0]>[0];

/** Locks both players; NOT_FOUND when the other does not exist or is invisible (hidden or banned). */
async function lockPair(tx: Tx, viewerId: string, otherId: string) {
  const rows = await tx.$queryRaw<{ id: string; hidden: boolean; banned: boolean }[]>`
    SELECT id, hidden, banned FROM players WHERE id IN (${viewerId}, ${otherId}) ORDER BY id FOR UPDATE`;
  const other = rows.find((r) => r.id === otherId);
  if (!other || other.hidden || other.banned) throw notFound(`No player "${otherId}"`);
}

async function statusOf(tx: Tx, viewerId: string, otherId: string) {
  const [row] = await tx.$queryRaw<{ status: FriendshipStatus; since: Date }[]>`
    SELECT status, since FROM friendships WHERE player_id = ${viewerId} AND friend_id = ${otherId}`;
  return row;
}

async function countOf(tx: Tx, playerId: string, status: FriendshipStatus): Promise<number> {
  const [row] = await tx.$queryRaw<{ n: number }[]>`
    SELECT count(*)::int AS n FROM friendships WHERE player_id = ${playerId} AND status = ${status}`;
  return row!.n;
}

async function checkRoomForFriend(tx: Tx, viewerId: string, otherId: string) {
  if ((await countOf(tx, viewerId, 'ACCEPTED')) >= MAX_FRIENDS) throw badInput(`You already have ${MAX_FRIENDS} friends (the most there can be)`);
  if ((await countOf(tx, otherId, 'ACCEPTED')) >= MAX_FRIENDS) throw badInput(`That player already has ${MAX_FRIENDS} friends (the most there can be)`);
}

async function accept(tx: Tx, viewerId: string, otherId: string): Promise<FriendshipResult> {
  await checkRoomForFriend(tx, viewerId, otherId);
  const [row] = await tx.$queryRaw<{ since: Date }[]>`
    UPDATE friendships SET status = 'ACCEPTED', since = clock_timestamp()
    WHERE (player_id, friend_id) IN ((${viewerId}, ${otherId}), (${otherId}, ${viewerId}))
    RETURNING since`;
  return { playerId: otherId, status: 'ACCEPTED', since: row!.since };
}

/** Asks `other` to be friends; accepts instead when they already asked the viewer. Asking again changes nothing. */
export async function requestFriend(services: Services, viewer: PlayerIdentity, other: string): Promise<FriendshipResult> {
  checkOther(viewer, other);
  await services.players.ensure(viewer);
  return services.prisma.$transaction(async (tx) => {
    await lockPair(tx, viewer.playerId, other);
    const current = await statusOf(tx, viewer.playerId, other);
    if (current?.status === 'PENDING_IN') return accept(tx, viewer.playerId, other);
    if (current) return { playerId: other, status: current.status, since: current.since };
    await checkRoomForFriend(tx, viewer.playerId, other);
    if ((await countOf(tx, viewer.playerId, 'PENDING_OUT')) >= MAX_FRIENDS) throw badInput(`You already have ${MAX_FRIENDS} requests waiting for an answer`);
    if ((await countOf(tx, other, 'PENDING_IN')) >= MAX_FRIENDS) throw badInput(`That player already has ${MAX_FRIENDS} requests waiting for an answer`);
    const [row] = await tx.$queryRaw<{ since: Date }[]>`
      WITH now AS (SELECT clock_timestamp() AS at)
      INSERT INTO friendships (player_id, friend_id, status, since)
      SELECT ${viewer.playerId}, ${other}, 'PENDING_OUT', at FROM now
      UNION ALL
      SELECT ${other}, ${viewer.playerId}, 'PENDING_IN', at FROM now
      RETURNING since`;
    return { playerId: other, status: 'PENDING_OUT' as const, since: row!.since };
  });
}

/** Accepts `other`'s request (NOT_FOUND without one). Accepting an accepted friendship answers it unchanged. */
export async function acceptFriend(services: Services, viewer: PlayerIdentity, other: string): Promise<FriendshipResult> {
  checkOther(viewer, other);
  await services.players.ensure(viewer);
  return services.prisma.$transaction(async (tx) => {
    await lockPair(tx, viewer.playerId, other);
    const current = await statusOf(tx, viewer.playerId, other);
    if (current?.status === 'ACCEPTED') return { playerId: other, status: current.status, since: current.since };
    if (current?.status !== 'PENDING_IN') throw notFound(`No friend request from "${other}"`);
    return accept(tx, viewer.playerId, other);
  });
}

/** Unfriends, declines or withdraws: both directions go. False when there was nothing. */
export async function removeFriend(services: Services, viewer: PlayerIdentity, other: string): Promise<boolean> {
  checkOther(viewer, other);
  const removed = await services.prisma.$executeRaw`
    DELETE FROM friendships WHERE (player_id, friend_id) IN ((${viewer.playerId}, ${other}), (${other}, ${viewer.playerId}))`;
  return removed > 0;
}

/** The viewer's friendships of every status; hidden and banned players do not appear. Accepted first, then newest. */
export async function listFriends(services: Services, viewer: PlayerIdentity): Promise<FriendshipResult[]> {
  return services.prisma.$queryRaw<FriendshipResult[]>`
    SELECT f.friend_id AS "playerId", f.status, f.since
    FROM friendships f JOIN players p ON p.id = f.friend_id
    WHERE f.player_id = ${viewer.playerId} AND NOT p.hidden AND NOT p.banned
    ORDER BY f.status = 'ACCEPTED' DESC, f.since DESC, f.friend_id`;
}

/**
 * The viewer and their accepted friends on one board view, ranked within that
 * set (same order as the board: score, then who got there first, then id).
 * One primary-key probe per friend: the cost grows with the friend count (at
 * most 1,000), never with the board. No temporary keys anywhere. Hidden and
 * banned friends are left out; the viewer always sees their own row.
 */
export async function friendsStandings(services: Services, viewer: PlayerIdentity, view: ResolvedView): Promise<{ entries: RankedEntry[]; total: number }> {
  const rows = await services.prisma.$queryRaw<{ playerId: string; username: string; score: bigint; reachedSeq: bigint }[]>`
    WITH members AS (
      SELECT ${viewer.playerId}::text AS id
      UNION ALL
      SELECT friend_id FROM friendships WHERE player_id = ${viewer.playerId} AND status = 'ACCEPTED'
    )
    -- LATERAL + LIMIT 1 (not pulled up into a join): one primary-key probe per member into each table, whatever the planner estimates.
    SELECT be.player_id AS "playerId", p.username, be.score, be.reached_seq AS "reachedSeq"
    FROM members m
    CROSS JOIN LATERAL (
      SELECT player_id, score, reached_seq, hidden FROM board_entries
      WHERE board_id = ${view.board} AND period_key = ${view.period} AND segment = ${segmentColumn(view)} AND player_id = m.id LIMIT 1
    ) be
    CROSS JOIN LATERAL (SELECT username FROM players WHERE id = be.player_id LIMIT 1) p
    WHERE NOT be.hidden OR be.player_id = ${viewer.playerId}`;
  const entries = rows
    .map((r) => ({ playerId: r.playerId, username: r.username, score: Number(r.score), reachedSeq: Number(r.reachedSeq) }))
    .sort((a, b) => b.score - a.score || a.reachedSeq - b.reachedSeq || (a.playerId < b.playerId ? -1 : a.playerId > b.playerId ? 1 : 0));
  return { entries: rankRun(entries, 1, 1, 1), total: entries.length };
}
