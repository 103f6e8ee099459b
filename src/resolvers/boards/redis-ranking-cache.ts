import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../../db/redis.js';
import {
  EPOCH_FACTOR,
  MAX_BOARD_SIZE,
  parseViewId,
  prefixMax,
  rankRun,
  rebuildChunks,
  viewId,
  type BoardEntry,
  type BoardPage,
  type BoardView,
  type CachedStanding,
  type RankingCache,
  type RebuildEntries,
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
// instance for the same top N), 7 distinct scores zset, 8 hidden (players an
// operator took off this view: nothing of theirs is merged until shown again),
// 9 gone (playerId -> reachedSeq of the void that emptied their entry, so an
// older state arriving late cannot bring it back), 10 rebuilds (zset of running
// rebuild tokens -> expiry ms). A rebuild builds into temporary keys under the
// same hash tag (`…tmp:<token>:…`) and records the players changed meanwhile in
// `…dirty:<token>`; its swap carries those over, so readers never see a partial board.
const NUM_KEYS = 10;
const KEY_NAMES = ['z', 'members', 'names', 'seq', 'epoch', 'changes', 'scores', 'hidden', 'gone', 'rebuilds'];
/** A rebuild that died leaves nothing behind for longer than this. */
const REBUILD_TTL_MS = 600_000;

const COMMON = `
local W = ${SEQ_WIDTH}
local function seqOf(m) return tonumber(string.sub(m, 1, W)) end
local function memberOf(seq, id) return string.format('%0' .. W .. 'd', seq) .. ':' .. id end
local function scoreKey(s) return string.format('%d', s) end
local base = string.sub(KEYS[1], 1, -2)
-- A set of entries: {zset, members, names, distinct scores}. LIVE is what readers see.
local LIVE = {KEYS[1], KEYS[2], KEYS[3], KEYS[7]}
local function tmpSet(token)
  local t = base .. 'tmp:' .. token .. ':'
  return {t .. 'z', t .. 'members', t .. 'names', t .. 'scores'}
end
-- After an entry with score s left a set: s stays distinct only while someone holds it.
local function dropScore(T, s)
  local z = string.format('%d', -s)
  if redis.call('ZCOUNT', T[1], z, z) == 0 then redis.call('ZREM', T[4], scoreKey(s)) end
end
-- Merges one state into a set when it is newer (higher reachedSeq) than the one held there;
-- a score of 0 removes the entry. Returns the best rank that changed (0: nothing changed).
local function put(T, id, score, m, name)
  local cur = redis.call('HGET', T[2], id)
  if cur and seqOf(cur) >= seqOf(m) then return 0 end
  local best = 0
  if cur then
    best = redis.call('ZRANK', T[1], cur) + 1
    local curScore = -tonumber(redis.call('ZSCORE', T[1], cur))
    redis.call('ZREM', T[1], cur)
    redis.call('HDEL', T[2], id)
    dropScore(T, curScore)
  end
  if score > 0 then
    redis.call('ZADD', T[1], -score, m)
    redis.call('HSET', T[2], id, m)
    redis.call('HSET', T[3], id, name)
    redis.call('ZADD', T[4], -score, scoreKey(score))
    local r = redis.call('ZRANK', T[1], m) + 1
    if best == 0 or r < best then best = r end
  elseif cur then
    redis.call('HDEL', T[3], id)
  end
  return best
end
-- Takes a player out of a set entirely (hide). Returns the rank they had (0: none).
local function drop(T, id)
  local cur = redis.call('HGET', T[2], id)
  if not cur then return 0 end
  local r = redis.call('ZRANK', T[1], cur) + 1
  local s = -tonumber(redis.call('ZSCORE', T[1], cur))
  redis.call('ZREM', T[1], cur)
  redis.call('HDEL', T[2], id)
  redis.call('HDEL', T[3], id)
  dropScore(T, s)
  return r
end
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- Running rebuilds note every player changed on the live view, for their swap.
local function noteDirty(id)
  redis.call('ZREMRANGEBYSCORE', KEYS[10], '-inf', nowMs())
  for _, token in ipairs(redis.call('ZRANGE', KEYS[10], 0, -1)) do
    local d = base .. 'dirty:' .. token
    redis.call('SADD', d, id)
    redis.call('PEXPIRE', d, ${REBUILD_TTL_MS})
  end
end
local function currentSeq() return tonumber(redis.call('GET', KEYS[4]) or '0') end
-- A change at rank r: the view's seq moves, and every top-N with N >= r with it.
local function bump(r)
  local seq = redis.call('INCR', KEYS[4])
  if r <= ${MAX_BOARD_SIZE} then redis.call('HSET', KEYS[6], r, seq) end
  return seq
end
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

// ARGV: expireAt (ms, 0 = never), playerId, score, member, username. On a cold view
// nothing is answered; with a rebuild under way the state waits in the live keys
// (unread while cold) and is noted dirty, so that rebuild's swap carries it over.
const APPLY = `${COMMON}
local warm = redis.call('EXISTS', KEYS[5]) == 1
if not warm and redis.call('ZCARD', KEYS[10]) == 0 then return false end
local id = ARGV[2]
local seq = currentSeq()
if redis.call('HEXISTS', KEYS[8], id) == 0 then
  local score, m = tonumber(ARGV[3]), ARGV[4]
  local gone = redis.call('HGET', KEYS[9], id)
  if not (gone and tonumber(gone) >= seqOf(m)) then
    local r = put(LIVE, id, score, m, ARGV[5])
    if r > 0 and warm then seq = bump(r) end
    -- Cold: the truth being read may hold an older state of this player (one the
    -- staged keys never saw), so the swap must look at them either way.
    if r > 0 or not warm then noteDirty(id) end
    if score == 0 then redis.call('HSET', KEYS[9], id, seqOf(m)) else redis.call('HDEL', KEYS[9], id) end
  end
end
if not warm then return false end
expire(tonumber(ARGV[1]))
return standing(id, seq)
`;

// ARGV: expireAt, playerId. Works on a cold view too: a later rebuild leaves the player out.
const HIDE = `${COMMON}
local id = ARGV[2]
redis.call('HSET', KEYS[8], id, 1)
local warm = redis.call('EXISTS', KEYS[5]) == 1
local r = drop(LIVE, id)
local at = tonumber(ARGV[1])
if warm then
  if r > 0 then bump(r) end
  expire(at)
elseif at > 0 then
  redis.call('PEXPIREAT', KEYS[8], at)
end
return r > 0 and 1 or 0
`;

// ARGV: expireAt, playerId, then (score, member, username) of their entry, if any.
const SHOW = `${COMMON}
local id = ARGV[2]
if redis.call('HDEL', KEYS[8], id) == 0 then return 0 end
local warm = redis.call('EXISTS', KEYS[5]) == 1
local changed = 0
-- On a cold view with a rebuild under way, the entry waits in the live keys for its swap.
if #ARGV >= 5 and (warm or redis.call('ZCARD', KEYS[10]) > 0) then
  local r = put(LIVE, id, tonumber(ARGV[3]), ARGV[4], ARGV[5])
  if r > 0 then
    if warm then bump(r) end
    noteDirty(id)
    changed = 1
  end
end
if warm then expire(tonumber(ARGV[1])) end
return changed
`;

// ARGV: token. From now on, changes to the live view are noted for this rebuild.
const BEGIN_REBUILD = `${COMMON}
local T = tmpSet(ARGV[1])
redis.call('DEL', T[1], T[2], T[3], T[4], base .. 'dirty:' .. ARGV[1])
redis.call('ZADD', KEYS[10], nowMs() + ${REBUILD_TTL_MS}, ARGV[1])
return 1
`;

// ARGV: token, base seq (epoch * 2^32, decimal string), expireAt (0 = never), epoch.
// Carries over what changed on the live view while the truth was read, leaves hidden
// players out, then swaps the built set in: one atomic step, with a seq above both.
const SWAP = `${COMMON}
local T = tmpSet(ARGV[1])
local dirtyKey = base .. 'dirty:' .. ARGV[1]
for _, id in ipairs(redis.call('SMEMBERS', dirtyKey)) do
  local cur = redis.call('HGET', KEYS[2], id)
  if cur then
    local name = redis.call('HGET', KEYS[3], id) or id
    -- The same state as read, renamed meanwhile: the name is the newer part.
    if put(T, id, -tonumber(redis.call('ZSCORE', KEYS[1], cur)), cur, name) == 0 and redis.call('HGET', T[2], id) == cur then
      redis.call('HSET', T[3], id, name)
    end
  else
    local gone = redis.call('HGET', KEYS[9], id)
    if gone then put(T, id, 0, memberOf(tonumber(gone), id), id) end
  end
end
for _, id in ipairs(redis.call('HKEYS', KEYS[8])) do drop(T, id) end
redis.call('DEL', dirtyKey)
redis.call('ZREM', KEYS[10], ARGV[1])
for i = 1, 4 do
  -- UNLINK: the old board (a million entries) is freed in the background, not inside this script.
  redis.call('UNLINK', LIVE[i])
  if redis.call('EXISTS', T[i]) == 1 then
    redis.call('RENAME', T[i], LIVE[i])
    redis.call('PERSIST', LIVE[i])
  end
end
if currentSeq() < tonumber(ARGV[2]) then redis.call('SET', KEYS[4], ARGV[2]) end
if tonumber(ARGV[4]) > tonumber(redis.call('GET', KEYS[5]) or '0') then redis.call('SET', KEYS[5], ARGV[4]) end
local seq = redis.call('INCR', KEYS[4])
redis.call('DEL', KEYS[6])
redis.call('HSET', KEYS[6], 1, seq)
local at = tonumber(ARGV[3])
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

// ARGV: playerIds. Per player {member, score, name} as all() reports them ('' = no entry): one
// atomic read, so a repair compares against a state that existed.
const ENTRIES = `${COMMON}
if redis.call('EXISTS', KEYS[5]) == 0 then return false end
local out = {}
for i = 1, #ARGV do
  local id = ARGV[i]
  local m = redis.call('HGET', KEYS[2], id)
  local s = m and redis.call('ZSCORE', KEYS[1], m)
  if s then
    out[#out + 1] = m
    out[#out + 1] = s
    out[#out + 1] = redis.call('HGET', KEYS[3], id) or id
  else
    out[#out + 1] = ''
    out[#out + 1] = ''
    out[#out + 1] = ''
  end
end
return out
`;

// ARGV: playerId, seen member ('' = absent), seen score, seen username, truth score,
// truth member, truth username. Only a warm view whose entry still equals `seen`
// (member, score and name, as all() reports them) is repaired.
const REPAIR = `${COMMON}
if redis.call('EXISTS', KEYS[5]) == 0 then return 0 end
local id = ARGV[1]
local cur = redis.call('HGET', KEYS[2], id) or ''
if cur ~= ARGV[2] then return 0 end
if cur ~= '' then
  local curScore = -tonumber(redis.call('ZSCORE', KEYS[1], cur) or '0')
  local curName = redis.call('HGET', KEYS[3], id) or id
  if curScore ~= tonumber(ARGV[3]) or curName ~= ARGV[4] then return 0 end
  drop(LIVE, id)
end
local score = tonumber(ARGV[5])
if score > 0 and redis.call('HEXISTS', KEYS[8], id) == 0 then
  redis.call('ZADD', KEYS[1], -score, ARGV[6])
  redis.call('HSET', KEYS[2], id, ARGV[6])
  redis.call('HSET', KEYS[3], id, ARGV[7])
  redis.call('ZADD', KEYS[7], -score, scoreKey(score))
end
-- A repair can change anything (a name too): every top-N moves.
bump(1)
noteDirty(id)
expire(0)
return 1
`;

// ARGV: playerId, username. Only a player on a warm view is renamed there; a name
// on the visible top moves that top's seq, so subscribers see it.
const RENAME = `${COMMON}
if redis.call('EXISTS', KEYS[5]) == 0 then return 0 end
local m = redis.call('HGET', KEYS[2], ARGV[1])
if not m or redis.call('HGET', KEYS[3], ARGV[1]) == ARGV[2] then return 0 end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
bump(redis.call('ZRANK', KEYS[1], m) + 1)
noteDirty(ARGV[1])
return 1`;

type Reply = (string | number | null | Reply)[];
type Scripted = RedisClient & {
  boardApply(...args: (string | number)[]): Promise<Reply | null>;
  boardHide(...args: (string | number)[]): Promise<number>;
  boardShow(...args: (string | number)[]): Promise<number>;
  boardBeginRebuild(...args: (string | number)[]): Promise<number>;
  boardSwap(...args: (string | number)[]): Promise<number>;
  boardPage(...args: (string | number)[]): Promise<Reply | null>;
  boardAround(...args: (string | number)[]): Promise<Reply | null>;
  boardStanding(...args: (string | number)[]): Promise<Reply | null>;
  boardRepair(...args: (string | number)[]): Promise<number>;
  boardEntries(...args: (string | number)[]): Promise<string[] | null>;
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
      boardApply: APPLY,
      boardHide: HIDE,
      boardShow: SHOW,
      boardBeginRebuild: BEGIN_REBUILD,
      boardSwap: SWAP,
      boardPage: PAGE,
      boardAround: AROUND,
      boardStanding: STANDING,
      boardRepair: REPAIR,
      boardEntries: ENTRIES,
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
    return KEY_NAMES.map((k) => base + k);
  }

  async apply(view: BoardView, entry: BoardEntry, expireAtMs?: number | null) {
    const res = await this.redis.boardApply(...this.keys(view), expireAtMs ?? 0, entry.playerId, entry.score, member(entry), entry.username);
    return res === null ? null : toStanding(res);
  }

  async hide(view: BoardView, playerId: string, expireAtMs?: number | null) {
    return (await this.redis.boardHide(...this.keys(view), expireAtMs ?? 0, playerId)) === 1;
  }

  async show(view: BoardView, playerId: string, entry: BoardEntry | undefined, expireAtMs?: number | null) {
    const rest = entry ? [entry.score, member(entry), entry.username] : [];
    return (await this.redis.boardShow(...this.keys(view), expireAtMs ?? 0, playerId, ...rest)) === 1;
  }

  async beginRebuild(view: BoardView) {
    const token = randomUUID();
    await this.redis.boardBeginRebuild(...this.keys(view), token);
    return token;
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

  async entries(view: BoardView, playerIds: string[]) {
    const flat = await this.redis.boardEntries(...this.keys(view), ...playerIds);
    if (flat === null) return null;
    return playerIds.map((playerId, i): BoardEntry | undefined => {
      const m = flat[3 * i]!;
      if (m === '') return undefined;
      return { playerId, reachedSeq: parseMember(m).reachedSeq, score: -Number(flat[3 * i + 1]), username: flat[3 * i + 2]! };
    });
  }

  /**
   * The truth goes into the temporary set with plain bulk commands (ZADD and
   * HSET of thousands of pairs each, pipelined), not a script per entry: the
   * set is empty and each player comes once, so there is nothing to merge.
   * Hidden players are left out by the swap. While one batch is on its way to
   * Redis the next is read from Postgres.
   */
  async rebuild(view: BoardView, epoch: number, entries: RebuildEntries, expireAtMs?: number | null, token?: string) {
    const keys = this.keys(view);
    token ??= await this.beginRebuild(view);
    const tmp = tmpKeys(keys, token);
    let inFlight: Promise<unknown> = Promise.resolve();
    for await (const chunk of rebuildChunks(entries)) {
      for (let i = 0; i < chunk.length; i += BUILD_BATCH) {
        const batch = buildBatch(tmp, chunk, i, Math.min(chunk.length, i + BUILD_BATCH));
        if (!batch) continue;
        await inFlight;
        inFlight = this.sendBatch(batch);
      }
    }
    await inFlight;
    await this.redis.boardSwap(...keys, token, String(BigInt(epoch) * BigInt(EPOCH_FACTOR)), expireAtMs ?? 0, epoch);
    await this.redis.sadd(this.viewsKey, viewId(view));
  }

  private async sendBatch(batch: (p: Pipeline) => Pipeline): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await execOrThrow(batch(this.redis.pipeline()));
      } catch (error) {
        if (attempt >= BUILD_ATTEMPTS) throw error;
      }
    }
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

/**
 * Entries per pipelined batch of a rebuild: four commands of 2,000 pairs each. Redis runs
 * one command at a time, so a bigger batch holds up everyone else's commands for longer
 * (10,000 took up to 0.3 s per ZADD on a starved machine) without being much cheaper.
 */
const BUILD_BATCH = 2_000;
/** A batch whose reply failed (a command timeout on a busy Redis) is sent again: it only sets values, so twice is once. */
const BUILD_ATTEMPTS = 3;

interface TmpKeys {
  z: string;
  members: string;
  names: string;
  scores: string;
}

/** A rebuild's temporary set: the names COMMON's tmpSet gives in the scripts (same hash tag as the view). */
function tmpKeys(viewKeys: string[], token: string): TmpKeys {
  const t = `${viewKeys[0]!.slice(0, -1)}tmp:${token}:`;
  return { z: `${t}z`, members: `${t}members`, names: `${t}names`, scores: `${t}scores` };
}

type Pipeline = ReturnType<RedisClient['pipeline']>;

/** The commands loading chunk[from..to) into the temporary set, or undefined when none has a score. */
function buildBatch(tmp: TmpKeys, chunk: BoardEntry[], from: number, to: number): ((p: Pipeline) => Pipeline) | undefined {
  const z: (string | number)[] = [];
  const members: string[] = [];
  const names: string[] = [];
  const distinct = new Set<number>();
  for (let i = from; i < to; i++) {
    const e = chunk[i]!;
    if (e.score <= 0) continue;
    const m = member(e);
    z.push(-e.score, m);
    members.push(e.playerId, m);
    names.push(e.playerId, e.username);
    distinct.add(e.score);
  }
  if (members.length === 0) return undefined;
  const scores: (string | number)[] = [];
  for (const s of distinct) scores.push(-s, String(s));
  return (p) =>
    p
      .zadd(tmp.z, ...z)
      .hset(tmp.members, ...members)
      .hset(tmp.names, ...names)
      .zadd(tmp.scores, ...scores)
      // A rebuild that dies leaves nothing behind for long.
      .pexpire(tmp.z, REBUILD_TTL_MS)
      .pexpire(tmp.members, REBUILD_TTL_MS)
      .pexpire(tmp.names, REBUILD_TTL_MS)
      .pexpire(tmp.scores, REBUILD_TTL_MS);
}

async function execOrThrow(p: Pipeline): Promise<void> {
  for (const [error] of (await p.exec()) ?? []) if (error) throw error;
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
