import type { RedisClient } from '../../db/redis.js';
import {
  EPOCH_FACTOR,
  MAX_BOARD_SIZE,
  parseViewId,
  prefixMax,
  rankRun,
  viewId,
  type BoardEntry,
  type BoardPage,
  type BoardView,
  type CachedStanding,
  type RankingCache,
} from './ranking-cache.js';

/**
 * Ranking cache in Redis, shared by every instance: per view, a sorted set and
 * its companions, all under one hash tag (`{view}`) so every script touches a
 * single slot.
 *
 * Sorted-set score = -score (ascending range = best first); member = zero-padded
 * reachedSeq + ':' + playerId, so equal scores order by who reached them first.
 * A second sorted set holds each distinct score once, which makes the DENSE rank
 * a ZCOUNT: O(log n) like every other read here. A score leaves it when no entry
 * holds it any more (asked of the board itself, not a counter, so an entry edited
 * in Redis behind the scripts' back cannot leave a ghost score once repaired).
 */

const SEQ_WIDTH = 20;
const RANKS = Array.from({ length: MAX_BOARD_SIZE }, (_, i) => i + 1);
const member = (e: BoardEntry) => `${String(e.reachedSeq).padStart(SEQ_WIDTH, '0')}:${e.playerId}`;
const parseMember = (m: string) => ({ reachedSeq: Number(m.slice(0, SEQ_WIDTH)), playerId: m.slice(SEQ_WIDTH + 1) });

// KEYS (per view): 1 zset, 2 members (playerId -> member), 3 names, 4 seq, 5 epoch
// (exists = warm), 6 changes (rank -> seq of the last change that put a player
// at that rank; a top-N seq is the max over ranks 1..N, identical on every
// instance for the same top N), 7 distinct scores zset, 8 (formerly distinct score
// counts; no longer written, kept so the key list and its expiry stay the same).
const NUM_KEYS = 8;

const COMMON = `
local function scoreKey(s) return string.format('%d', s) end
-- After an entry with score s left the board: s stays distinct only while someone holds it.
local function dropScore(s)
  local z = string.format('%d', -s)
  if redis.call('ZCOUNT', KEYS[1], z, z) == 0 then redis.call('ZREM', KEYS[7], scoreKey(s)) end
end
local function addScore(s) redis.call('ZADD', KEYS[7], -s, scoreKey(s)) end
local function currentSeq() return tonumber(redis.call('GET', KEYS[4]) or '0') end
-- {seq, position, competition, dense, total, score}; position 0 = no entry
local function standing(id, seq)
  local total = redis.call('ZCARD', KEYS[1])
  local m = redis.call('HGET', KEYS[2], id)
  if not m then return {seq, 0, 0, 0, total, 0} end
  local zs = redis.call('ZSCORE', KEYS[1], m)
  local pos = redis.call('ZRANK', KEYS[1], m) + 1
  local comp = redis.call('ZCOUNT', KEYS[1], '-inf', '(' .. zs) + 1
  local dense = redis.call('ZCOUNT', KEYS[7], '-inf', '(' .. zs) + 1
  return {seq, pos, comp, dense, total, -tonumber(zs)}
end
-- entries from 0-based start: {flat member/score pairs, names, first competition, first dense}
local function range(start, n)
  if n <= 0 then return {{}, {}, 0, 0} end
  local m = redis.call('ZRANGE', KEYS[1], start, start + n - 1, 'WITHSCORES')
  if #m == 0 then return {m, {}, 0, 0} end
  local ids = {}
  for i = 1, #m, 2 do ids[#ids + 1] = string.sub(m[i], ${SEQ_WIDTH + 2}) end
  return {m, redis.call('HMGET', KEYS[3], unpack(ids)),
    redis.call('ZCOUNT', KEYS[1], '-inf', '(' .. m[2]) + 1,
    redis.call('ZCOUNT', KEYS[7], '-inf', '(' .. m[2]) + 1}
end
-- A view expires as a whole: with an explicit time, every key gets it; without
-- one, keys a write (re)created follow the view's current expiry (its epoch key),
-- so no key outlives the view and leaks stale entries into its next rebuild.
local function expire(at)
  if at > 0 then
    for k = 1, ${NUM_KEYS} do redis.call('PEXPIREAT', KEYS[k], at) end
    return
  end
  local ttl = redis.call('PTTL', KEYS[5])
  if ttl > 0 then for k = 1, ${NUM_KEYS} do redis.call('PEXPIRE', KEYS[k], ttl) end end
end
`;

// ARGV: mode ('apply' requires a warm view and bumps seq per change), expireAt
// (ms, 0 = never), then groups of (playerId, score, member, username).
const MERGE = `${COMMON}
if ARGV[1] == 'apply' and redis.call('EXISTS', KEYS[5]) == 0 then return false end
local changed = 0
local best = 0
for i = 3, #ARGV, 4 do
  local id, score, m, name = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2], ARGV[i + 3]
  local cur = redis.call('HGET', KEYS[2], id)
  -- No score adds no entry; a state that is not newer is ignored entirely (name included).
  local newer = score > 0
  if newer and cur then
    local curScore = -tonumber(redis.call('ZSCORE', KEYS[1], cur) or '0')
    if curScore >= score then newer = false else
      redis.call('ZREM', KEYS[1], cur)
      dropScore(curScore)
    end
  end
  if newer then
    redis.call('HSET', KEYS[3], id, name)
    redis.call('ZADD', KEYS[1], -score, m)
    redis.call('HSET', KEYS[2], id, m)
    addScore(score)
    changed = changed + 1
    local r = redis.call('ZRANK', KEYS[1], m) + 1
    if best == 0 or r < best then best = r end
  end
end
local seq
if changed == 0 then
  seq = currentSeq()
else
  seq = redis.call('INCR', KEYS[4])
  if ARGV[1] ~= 'apply' then best = 1 end
  if best <= ${MAX_BOARD_SIZE} then redis.call('HSET', KEYS[6], best, seq) end
end
expire(tonumber(ARGV[2]))
return standing(ARGV[#ARGV - 3], seq)
`;

// ARGV: base seq (epoch * 2^32, as a decimal string). The epoch key (= warm) is only
// written by FINISH_EPOCH: a cold view stays cold, never half filled, until its rebuild is done.
const BEGIN_EPOCH = `
if tonumber(redis.call('GET', KEYS[4]) or '0') < tonumber(ARGV[1]) then redis.call('SET', KEYS[4], ARGV[1]) end
return 1
`;

// ARGV: expireAt (0 = the view never expires: an earlier expiry is lifted from every key), epoch
const FINISH_EPOCH = `${COMMON}
if tonumber(ARGV[2]) > tonumber(redis.call('GET', KEYS[5]) or '0') then redis.call('SET', KEYS[5], ARGV[2]) end
local seq = redis.call('INCR', KEYS[4])
redis.call('HSET', KEYS[6], 1, seq)
local at = tonumber(ARGV[1])
if at > 0 then expire(at) else
  for k = 1, ${NUM_KEYS} do redis.call('PERSIST', KEYS[k]) end
end
return seq
`;

// ARGV: offset, n, then the ranks 1..n (top pages only)
const PAGE = `${COMMON}
if redis.call('EXISTS', KEYS[5]) == 0 then return false end
local r = range(tonumber(ARGV[1]), tonumber(ARGV[2]))
local changes = {}
if #ARGV > 2 then changes = redis.call('HMGET', KEYS[6], unpack(ARGV, 3)) end
return {r[1], r[2], r[3], r[4], redis.call('ZCARD', KEYS[1]), currentSeq(), changes, tonumber(ARGV[1])}
`;

// ARGV: playerId, above, below
const AROUND = `${COMMON}
if redis.call('EXISTS', KEYS[5]) == 0 then return false end
local total = redis.call('ZCARD', KEYS[1])
local above, below = tonumber(ARGV[2]), tonumber(ARGV[3])
local w = above + below + 1
local start = 0
local m = redis.call('HGET', KEYS[2], ARGV[1])
if m then
  start = redis.call('ZRANK', KEYS[1], m) - above
  if start > total - w then start = total - w end
  if start < 0 then start = 0 end
end
local r = range(start, w)
return {r[1], r[2], r[3], r[4], total, currentSeq(), {}, start}
`;

// ARGV: playerId
const STANDING = `${COMMON}
if redis.call('EXISTS', KEYS[5]) == 0 then return false end
return standing(ARGV[1], currentSeq())
`;

// ARGV: playerId, seen member ('' = absent), seen score, seen username, truth score,
// truth member, truth username. Only a warm view whose entry still equals `seen`
// (member, score and name, as all() reports them) is repaired.
const REPAIR = `${COMMON}
if redis.call('EXISTS', KEYS[5]) == 0 then return 0 end
local cur = redis.call('HGET', KEYS[2], ARGV[1]) or ''
if cur ~= ARGV[2] then return 0 end
if cur ~= '' then
  local curScore = -tonumber(redis.call('ZSCORE', KEYS[1], cur) or '0')
  local curName = redis.call('HGET', KEYS[3], ARGV[1]) or ARGV[1]
  if curScore ~= tonumber(ARGV[3]) or curName ~= ARGV[4] then return 0 end
  redis.call('ZREM', KEYS[1], cur)
  redis.call('HDEL', KEYS[2], ARGV[1])
  dropScore(curScore)
end
local score = tonumber(ARGV[5])
if score > 0 then
  redis.call('ZADD', KEYS[1], -score, ARGV[6])
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[6])
  redis.call('HSET', KEYS[3], ARGV[1], ARGV[7])
  addScore(score)
else
  redis.call('HDEL', KEYS[3], ARGV[1])
end
redis.call('HSET', KEYS[6], 1, redis.call('INCR', KEYS[4]))
expire(0)
return 1
`;

// ARGV: playerId, username. Only a player on the view is renamed there; a name on
// the visible top moves that top's seq, so subscribers see it.
const RENAME = `
local m = redis.call('HGET', KEYS[2], ARGV[1])
if not m or redis.call('HGET', KEYS[3], ARGV[1]) == ARGV[2] then return 0 end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
local r = redis.call('ZRANK', KEYS[1], m) + 1
local seq = redis.call('INCR', KEYS[4])
if r <= ${MAX_BOARD_SIZE} then redis.call('HSET', KEYS[6], r, seq) end
return 1`;

type Reply = (string | number | null | Reply)[];
type Scripted = RedisClient & {
  boardMerge(...args: (string | number)[]): Promise<Reply | null>;
  boardBeginEpoch(...args: (string | number)[]): Promise<number>;
  boardFinishEpoch(...args: (string | number)[]): Promise<number>;
  boardPage(...args: (string | number)[]): Promise<Reply | null>;
  boardAround(...args: (string | number)[]): Promise<Reply | null>;
  boardStanding(...args: (string | number)[]): Promise<Reply | null>;
  boardRepair(...args: (string | number)[]): Promise<number>;
  boardRename(...args: (string | number)[]): Promise<number>;
};

export class RedisRankingCache implements RankingCache {
  private readonly redis: Scripted;
  /** Set of warm view ids (for reconcile and renames). */
  private readonly viewsKey: string;

  constructor(
    redis: RedisClient,
    private readonly prefix: string,
  ) {
    this.viewsKey = `${prefix}views`;
    const scripts = {
      boardMerge: MERGE,
      boardBeginEpoch: BEGIN_EPOCH,
      boardFinishEpoch: FINISH_EPOCH,
      boardPage: PAGE,
      boardAround: AROUND,
      boardStanding: STANDING,
      boardRepair: REPAIR,
      boardRename: RENAME,
    };
    for (const [name, lua] of Object.entries(scripts)) {
      if (!(name in redis)) redis.defineCommand(name, { numberOfKeys: NUM_KEYS, lua });
    }
    this.redis = redis as Scripted;
  }

  /** The view's keys; the braces make them one hash slot on a cluster. */
  private keys(view: BoardView): string[] {
    const base = `${this.prefix}v:{${viewId(view)}}:`;
    return ['z', 'members', 'names', 'seq', 'epoch', 'changes', 'scores', 'score-counts'].map((k) => base + k);
  }

  async apply(view: BoardView, entry: BoardEntry, expireAtMs?: number | null) {
    const res = await this.redis.boardMerge(...this.keys(view), 'apply', expireAtMs ?? 0, entry.playerId, entry.score, member(entry), entry.username);
    return res === null ? null : toStanding(res);
  }

  async page(view: BoardView, offset: number, n: number) {
    const ranks = offset === 0 ? RANKS.slice(0, Math.min(n, MAX_BOARD_SIZE)) : [];
    return toPage(await this.redis.boardPage(...this.keys(view), offset, n, ...ranks), offset === 0);
  }

  async around(view: BoardView, playerId: string, above: number, below: number) {
    return toPage(await this.redis.boardAround(...this.keys(view), playerId, above, below), false);
  }

  async standing(view: BoardView, playerId: string) {
    const res = await this.redis.boardStanding(...this.keys(view), playerId);
    if (res === null) return null;
    const s = toStanding(res);
    return s.position === 0 ? undefined : s;
  }

  async seq(view: BoardView) {
    const k = this.keys(view);
    const [[, warm], [, seq]] = (await this.redis.multi().exists(k[4]!).get(k[3]!).exec()) as [[unknown, number], [unknown, string | null]];
    return warm ? Number(seq ?? 0) : null;
  }

  async all(view: BoardView): Promise<BoardEntry[]> {
    const k = this.keys(view);
    const [flat, names] = await Promise.all([this.redis.zrange(k[0]!, 0, -1, 'WITHSCORES'), this.redis.hgetall(k[2]!)]);
    const out: BoardEntry[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      const { playerId, reachedSeq } = parseMember(flat[i]!);
      out.push({ playerId, reachedSeq, score: -Number(flat[i + 1]), username: names[playerId] ?? playerId });
    }
    return out;
  }

  async rebuild(view: BoardView, epoch: number, entries: BoardEntry[], expireAtMs?: number | null) {
    const keys = this.keys(view);
    await this.redis.boardBeginEpoch(...keys, String(BigInt(epoch) * BigInt(EPOCH_FACTOR)));
    const CHUNK = 500;
    for (let i = 0; i < entries.length; i += CHUNK) {
      const args = entries
        .slice(i, i + CHUNK)
        .filter((e) => e.score > 0)
        .flatMap((e) => [e.playerId, e.score, member(e), e.username]);
      if (args.length) await this.redis.boardMerge(...keys, 'rebuild', expireAtMs ?? 0, ...args);
    }
    // One more change so every top-N board gets a seq of its own, above anything before.
    await this.redis.boardFinishEpoch(...keys, expireAtMs ?? 0, epoch);
    await this.redis.sadd(this.viewsKey, viewId(view));
  }

  async repair(view: BoardView, seen: BoardEntry | undefined, truth: BoardEntry) {
    const changed = await this.redis.boardRepair(
      ...this.keys(view),
      truth.playerId,
      seen ? member(seen) : '',
      seen?.score ?? 0,
      seen?.username ?? '',
      truth.score,
      member(truth),
      truth.username,
    );
    return changed === 1;
  }

  async rename(playerId: string, username: string) {
    const views = await this.warmViews();
    await Promise.all(views.map((view) => this.redis.boardRename(...this.keys(view), playerId, username)));
  }

  async warmViews(): Promise<BoardView[]> {
    const ids = await this.redis.smembers(this.viewsKey);
    if (ids.length === 0) return [];
    // Expired views leave their id behind: drop those.
    const views = ids.map(parseViewId);
    const warm = await Promise.all(views.map((v) => this.redis.exists(this.keys(v)[4]!)));
    const gone = ids.filter((_, i) => !warm[i]);
    if (gone.length) await this.redis.srem(this.viewsKey, ...gone);
    return views.filter((_, i) => warm[i]);
  }
}

function toStanding(res: Reply): CachedStanding {
  const [seq, position, competitionRank, denseRank, total, score] = res.map(Number);
  return { seq: seq!, position: position!, competitionRank: competitionRank!, denseRank: denseRank!, total: total!, score: score! };
}

function toPage(res: Reply | null, top: boolean): BoardPage | null {
  if (res === null) return null;
  const [flat, names, comp, dense, total, seq, changes, start] = res as [string[], (string | null)[], number, number, number, number, (string | null)[], number];
  const entries: BoardEntry[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    const { playerId, reachedSeq } = parseMember(flat[i]!);
    entries.push({ playerId, reachedSeq, score: -Number(flat[i + 1]), username: names[i / 2] ?? playerId });
  }
  const prefixSeqs = top ? prefixMax(changes.map((v) => Number(v ?? 0))) : [];
  return {
    seq: top ? (prefixSeqs.at(-1) ?? Number(seq)) : Number(seq),
    total: Number(total),
    entries: rankRun(entries, Number(start) + 1, Number(comp), Number(dense)),
    prefixSeqs,
  };
}
