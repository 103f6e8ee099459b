import type { Redis } from 'ioredis';
import { EPOCH_FACTOR, MAX_BOARD_SIZE, prefixMax, type BoardEntry, type BoardSnapshot, type RankingCache } from './ranking-cache.js';

/**
 * Ranking cache in one Redis sorted set shared by every instance.
 *
 * Sorted-set score = -score (ascending range = best first); member =
 * zero-padded reachedSeq + ':' + playerId, so equal scores order by who reached
 * them first. A hash maps playerId -> current member. All read-modify-write
 * happens in Lua, so each step is atomic across instances.
 */

const SEQ_WIDTH = 20;
const MAX_TRACKED_RANK = MAX_BOARD_SIZE;
const RANKS = Array.from({ length: MAX_TRACKED_RANK }, (_, i) => i + 1);
const member = (e: BoardEntry) => `${String(e.reachedSeq).padStart(SEQ_WIDTH, '0')}:${e.playerId}`;
const parseMember = (m: string) => ({ reachedSeq: Number(m.slice(0, SEQ_WIDTH)), playerId: m.slice(SEQ_WIDTH + 1) });

// KEYS: 1 zset, 2 members, 3 names, 4 seq, 5 epoch, 6 changes (rank -> seq of the
// last change that put a player at that rank; the seq of a top-N board is the
// max over ranks 1..N, so it is the same on every instance for the same top N).
// ARGV: mode ('apply' requires a warm cache and bumps seq per change), then
//       groups of (playerId, score, member, username).
const MERGE = `
if ARGV[1] == 'apply' and redis.call('EXISTS', KEYS[5]) == 0 then return false end
local changed = 0
local best = 0
for i = 2, #ARGV, 4 do
  local id, score, m, name = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  redis.call('HSET', KEYS[3], id, name)
  local cur = redis.call('HGET', KEYS[2], id)
  local newer = true
  if cur then
    local curScore = -tonumber(redis.call('ZSCORE', KEYS[1], cur) or '0')
    if curScore >= tonumber(score) then newer = false else redis.call('ZREM', KEYS[1], cur) end
  end
  if newer then
    redis.call('ZADD', KEYS[1], '-' .. score, m)
    redis.call('HSET', KEYS[2], id, m)
    changed = changed + 1
    local r = redis.call('ZRANK', KEYS[1], m) + 1
    if best == 0 or r < best then best = r end
  end
end
local seq
if changed == 0 then
  seq = tonumber(redis.call('GET', KEYS[4]) or '0')
else
  seq = redis.call('INCR', KEYS[4])
  if ARGV[1] ~= 'apply' then best = 1 end
  if best <= ${MAX_TRACKED_RANK} then redis.call('HSET', KEYS[6], best, seq) end
end
-- The (last) player's rank now, so the caller needs no second round trip.
local rank = 0
local cur = redis.call('HGET', KEYS[2], ARGV[#ARGV - 3])
if cur then rank = redis.call('ZRANK', KEYS[1], cur) + 1 end
return {seq, rank}
`;

// ARGV: epoch, base seq (epoch * 2^32, as a decimal string)
const BEGIN_EPOCH = `
local cur = tonumber(redis.call('GET', KEYS[5]) or '0')
if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[5], ARGV[1]) end
if tonumber(redis.call('GET', KEYS[4]) or '0') < tonumber(ARGV[2]) then redis.call('SET', KEYS[4], ARGV[2]) end
return 1
`;

const FINISH_EPOCH = `
local seq = redis.call('INCR', KEYS[4])
redis.call('HSET', KEYS[6], 1, seq)
return seq
`;

// ARGV: n, then the ranks 1..n
const TOP = `
if redis.call('EXISTS', KEYS[5]) == 0 then return false end
local m = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1, 'WITHSCORES')
local names = {}
if #m > 0 then
  local ids = {}
  for i = 1, #m, 2 do ids[#ids + 1] = string.sub(m[i], ${SEQ_WIDTH + 2}) end
  names = redis.call('HMGET', KEYS[3], unpack(ids))
end
return {redis.call('HMGET', KEYS[6], unpack(ARGV, 2)), m, names}
`;

// ARGV: playerId
const RANK = `
if redis.call('EXISTS', KEYS[5]) == 0 then return false end
local m = redis.call('HGET', KEYS[2], ARGV[1])
if not m then return 0 end
return redis.call('ZRANK', KEYS[1], m) + 1
`;

// ARGV: playerId, seen member ('' = absent), truth score, truth member, username
const REPAIR = `
local cur = redis.call('HGET', KEYS[2], ARGV[1]) or ''
if cur ~= ARGV[2] then return 0 end
if cur ~= '' then
  redis.call('ZREM', KEYS[1], cur)
  redis.call('HDEL', KEYS[2], ARGV[1])
end
if tonumber(ARGV[3]) > 0 then
  redis.call('ZADD', KEYS[1], '-' .. ARGV[3], ARGV[4])
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[5])
redis.call('HSET', KEYS[6], 1, redis.call('INCR', KEYS[4]))
return 1
`;

// ARGV: playerId, username
const RENAME = `
if redis.call('HGET', KEYS[3], ARGV[1]) == ARGV[2] then return 0 end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
local m = redis.call('HGET', KEYS[2], ARGV[1])
if m then
  local r = redis.call('ZRANK', KEYS[1], m) + 1
  if r <= ${MAX_TRACKED_RANK} then redis.call('HSET', KEYS[6], r, redis.call('INCR', KEYS[4])) end
end
return 1`;

type Scripted = Redis & {
  boardMerge(...args: (string | number)[]): Promise<[number, number] | null>;
  boardBeginEpoch(...args: (string | number)[]): Promise<number>;
  boardFinishEpoch(...args: (string | number)[]): Promise<number>;
  boardTop(...args: (string | number)[]): Promise<[(string | null)[], string[], (string | null)[]] | null>;
  boardRank(...args: (string | number)[]): Promise<number | null>;
  boardRepair(...args: (string | number)[]): Promise<number>;
  boardRename(...args: (string | number)[]): Promise<number>;
};

export class RedisRankingCache implements RankingCache {
  private readonly keys: string[];
  private readonly redis: Scripted;

  constructor(redis: Redis, prefix: string) {
    this.keys = ['board:z', 'board:members', 'board:names', 'board:seq', 'board:epoch', 'board:changes'].map((k) => prefix + k);
    const scripts = { boardMerge: MERGE, boardBeginEpoch: BEGIN_EPOCH, boardFinishEpoch: FINISH_EPOCH, boardTop: TOP, boardRank: RANK, boardRepair: REPAIR, boardRename: RENAME };
    for (const [name, lua] of Object.entries(scripts)) {
      if (!(name in redis)) redis.defineCommand(name, { numberOfKeys: 6, lua });
    }
    this.redis = redis as Scripted;
  }

  async apply(entry: BoardEntry) {
    const res = await this.redis.boardMerge(...this.keys, 'apply', entry.playerId, entry.score, member(entry), entry.username);
    return res === null ? null : { seq: Number(res[0]), rank: Number(res[1]) };
  }

  async top(n: number): Promise<BoardSnapshot | null> {
    const res = await this.redis.boardTop(...this.keys, n, ...RANKS.slice(0, n));
    if (!res) return null;
    const [changes, flat, names] = res;
    const prefixSeqs = prefixMax(changes.map((v) => Number(v ?? 0)));
    const entries = [];
    for (let i = 0; i < flat.length; i += 2) {
      const { playerId, reachedSeq } = parseMember(flat[i]!);
      entries.push({ playerId, reachedSeq, score: -Number(flat[i + 1]), username: names[i / 2] ?? playerId, rank: i / 2 + 1 });
    }
    return { seq: prefixSeqs[n - 1] ?? 0, prefixSeqs, entries };
  }

  async rankOf(playerId: string) {
    const rank = await this.redis.boardRank(...this.keys, playerId);
    if (rank === null) return null;
    return rank === 0 ? undefined : Number(rank);
  }

  async seq() {
    const [[, epoch], [, seq]] = (await this.redis.multi().exists(this.keys[4]!).get(this.keys[3]!).exec()) as [
      [unknown, number],
      [unknown, string | null],
    ];
    return epoch ? Number(seq ?? 0) : null;
  }

  async all(): Promise<BoardEntry[]> {
    const [flat, names] = await Promise.all([
      this.redis.zrange(this.keys[0]!, 0, -1, 'WITHSCORES'),
      this.redis.hgetall(this.keys[2]!),
    ]);
    const out: BoardEntry[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      const { playerId, reachedSeq } = parseMember(flat[i]!);
      out.push({ playerId, reachedSeq, score: -Number(flat[i + 1]), username: names[playerId] ?? playerId });
    }
    return out;
  }

  async rebuild(epoch: number, entries: BoardEntry[]) {
    await this.redis.boardBeginEpoch(...this.keys, epoch, String(BigInt(epoch) * BigInt(EPOCH_FACTOR)));
    const CHUNK = 500;
    for (let i = 0; i < entries.length; i += CHUNK) {
      const args = entries
        .slice(i, i + CHUNK)
        .filter((e) => e.score > 0)
        .flatMap((e) => [e.playerId, e.score, member(e), e.username]);
      if (args.length) await this.redis.boardMerge(...this.keys, 'rebuild', ...args);
    }
    // One more change so every top-N board gets a seq of its own, above anything before.
    await this.redis.boardFinishEpoch(...this.keys);
  }

  async repair(seen: BoardEntry | undefined, truth: BoardEntry) {
    const changed = await this.redis.boardRepair(
      ...this.keys,
      truth.playerId,
      seen ? member(seen) : '',
      truth.score,
      member(truth),
      truth.username,
    );
    return changed === 1;
  }

  async rename(playerId: string, username: string) {
    await this.redis.boardRename(...this.keys, playerId, username);
  }
}
