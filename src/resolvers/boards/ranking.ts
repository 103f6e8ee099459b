import type { PrismaClient } from '../../db/database.js';
import type { HistoryReads } from '../../db/history.js';
import type { Locks } from '../../db/locks.js';
import type { Logger } from '../../logger.js';
import type { Metrics } from '../../metrics.js';
import type { Bus, StandingMove } from '../live/bus.js';
import { isFinal, type Period } from './periods.js';
import { EPOCH_FACTOR, rankRun, viewId, type BoardEntry, type BoardPage, type BoardView, type CachedStanding, type RankingCache } from './ranking-cache.js';

/**
 * Reading and maintaining the standings of every board view. Views of periods
 * that can still change are served by the ranking cache (O(log n) per read);
 * when it is cold or unreachable they fall back to Postgres (the truth) and a
 * rebuild is scheduled. Final periods never change again and are read from
 * Postgres.
 */

/** seq of a final period's board: above any seq it had while live, identical on every instance. */
const FINAL_SEQ_BASE = 2 ** 52;
/** A finished period's cache keys live this long after the period became final (late reads are cheap). */
const CACHE_GRACE_MS = 3_600_000;
/** Entries per query of a rebuild's read (a keyset page: each is an index range, whatever the board's size). */
const REBUILD_CHUNK = 20_000;
/** After a failed cache call, the view is read from Postgres this long before the cache is tried again. */
const CACHE_RETRY_MS = 1_000;
/** A rebuild lease outlives any rebuild; it is released at the end, and expires if its holder dies. */
const REBUILD_LEASE_MS = 60_000;

export interface RankingDeps {
  prisma: PrismaClient;
  /** Frozen (final) standings are history: the replica when there is one. */
  history: HistoryReads;
  /** One rebuild of a view across the instances (each would otherwise take an epoch of its own). */
  locks: Locks;
  cache: RankingCache;
  bus: Bus;
  logger: Logger;
  metrics: Metrics;
  ticketTtlSeconds: number;
}

/** A view together with the period it names (for finality and cache expiry). */
export interface ResolvedView extends BoardView {
  periodInfo: Period;
}

export class BoardRanking {
  /** Highest seq this instance has seen per view: the answer while the cache is unreachable. */
  private readonly lastSeq = new Map<string, number>();
  /**
   * Views whose last cache call failed (Redis down), with when: Postgres answers them, with a seq
   * that moves, and the cache is tried again only CACHE_RETRY_MS later (a dead node costs a timeout).
   */
  private readonly unreachable = new Map<string, number>();
  /** Per view, the highest seq served from Postgres while the cache was down: the cache must pass it. */
  private readonly servedWhileDown = new Map<string, number>();
  /** One rebuild at a time per view; concurrent callers share it. */
  private readonly rebuilding = new Map<string, Promise<void>>();
  /** Set by `close`: rebuilds under way stop at their next chunk (their temporary keys expire). */
  private closing = false;
  constructor(private readonly deps: RankingDeps) {}

  get cache(): RankingCache {
    return this.deps.cache;
  }

  noteSeq(view: BoardView, seq: number): number {
    const id = viewId(view);
    const best = Math.max(this.lastSeq.get(id) ?? 0, seq);
    if (this.lastSeq.size > 100_000) this.lastSeq.clear(); // bounded; a forgotten view falls back to 0 only while the cache is down
    this.lastSeq.set(id, best);
    return best;
  }

  /**
   * The view's seq without reading any entries (O(1)): the cache's, else the last
   * one this instance saw. For reads that are not a page of the view (the friends board).
   */
  async viewSeq(view: ResolvedView): Promise<number> {
    const frozen = await this.frozenRead(view, async () => undefined);
    if (frozen) return FINAL_SEQ_BASE + frozen.frozen.lastSeq;
    const cached = await this.deps.cache.seq(view).catch(() => null);
    return cached === null ? this.lastKnownSeq(view) : this.noteSeq(view, cached);
  }

  lastKnownSeq(view: BoardView): number {
    return this.lastSeq.get(viewId(view)) ?? 0;
  }

  private final(view: ResolvedView): boolean {
    return isFinal(view.periodInfo, this.deps.ticketTtlSeconds, Date.now());
  }

  /** When a view's cache keys may go: an hour after its period became final; never for ALL_TIME. */
  expireAt(period: Period): number | null {
    return period.endsAt ? period.endsAt.getTime() + this.deps.ticketTtlSeconds * 1000 + CACHE_GRACE_MS : null;
  }

  /** `n` entries from `offset`. */
  async page(view: ResolvedView, offset: number, n: number): Promise<BoardPage> {
    if (!this.final(view)) {
      const cached = await this.fromCache(view, () => this.deps.cache.page(view, offset, n));
      if (cached) return cached;
    }
    return this.pageFromDatabase(view, offset, n);
  }

  /** The entries around a player (the top when they have no entry). */
  async around(view: ResolvedView, playerId: string, above: number, below: number): Promise<BoardPage> {
    if (!this.final(view)) {
      const cached = await this.fromCache(view, () => this.deps.cache.around(view, playerId, above, below));
      if (cached) return cached;
    }
    const w = above + below + 1;
    const standing = await this.standingFromDatabase(view, playerId);
    const start = standing ? Math.max(0, Math.min(standing.position - 1 - above, standing.total - w)) : 0;
    // Frozen positions are an index range already; a live view's window is walked from the player.
    if (standing && !this.final(view)) {
      const window = await this.windowFromDatabase(view, playerId, standing, start, w);
      if (window) return window;
    }
    return this.pageFromDatabase(view, start, w);
  }

  /**
   * The live window around a visible player, by two keyset walks of the ranking index from
   * the player's own entry (up, then down), each split at the player's score so every part is
   * an index range: O(log n + w), where an OFFSET to the player's position reads every entry
   * above them. Undefined for a hidden player (they are not in the window).
   */
  private async windowFromDatabase(view: ResolvedView, playerId: string, standing: CachedStanding, start: number, w: number): Promise<BoardPage | undefined> {
    const segment = segmentColumn(view);
    const [me] = await this.deps.prisma.$queryRaw<(BoardEntry & { hidden: boolean })[]>`
      SELECT be.player_id AS "playerId", p.username, be.score::float8 AS score, be.reached_seq::float8 AS "reachedSeq", be.hidden
      FROM board_entries be JOIN players p ON p.id = be.player_id
      WHERE be.board_id = ${view.board} AND be.period_key = ${view.period} AND be.segment = ${segment} AND be.player_id = ${playerId}`;
    if (!me || me.hidden) return undefined;
    const up = standing.position - 1 - start;
    const down = Math.min(w - up - 1, standing.total - standing.position);
    // As bigint parameters, so they compare with the columns as they are (and their index).
    const score = BigInt(me.score);
    const reached = BigInt(me.reachedSeq);
    const [above, below] = await Promise.all([
      up <= 0
        ? []
        : this.deps.prisma.$queryRaw<BoardEntry[]>`
        SELECT x."playerId", p.username, x.score, x."reachedSeq" FROM (
          (SELECT be.player_id AS "playerId", be.score::float8 AS score, be.reached_seq::float8 AS "reachedSeq" FROM board_entries be
           WHERE be.board_id = ${view.board} AND be.period_key = ${view.period} AND be.segment = ${segment} AND NOT be.hidden AND be.score = ${score} AND (be.reached_seq, be.player_id) < (${reached}, ${playerId})
           ORDER BY be.reached_seq DESC, be.player_id DESC LIMIT ${up})
          UNION ALL
          (SELECT be.player_id, be.score::float8, be.reached_seq::float8 FROM board_entries be
           WHERE be.board_id = ${view.board} AND be.period_key = ${view.period} AND be.segment = ${segment} AND NOT be.hidden AND be.score > ${score}
           ORDER BY be.score ASC, be.reached_seq DESC, be.player_id DESC LIMIT ${up})
        ) x JOIN players p ON p.id = x."playerId"
        ORDER BY x.score ASC, x."reachedSeq" DESC, x."playerId" DESC LIMIT ${up}`,
      down <= 0
        ? []
        : this.deps.prisma.$queryRaw<BoardEntry[]>`
        SELECT x."playerId", p.username, x.score, x."reachedSeq" FROM (
          (SELECT be.player_id AS "playerId", be.score::float8 AS score, be.reached_seq::float8 AS "reachedSeq" FROM board_entries be
           WHERE be.board_id = ${view.board} AND be.period_key = ${view.period} AND be.segment = ${segment} AND NOT be.hidden AND be.score = ${score} AND (be.reached_seq, be.player_id) > (${reached}, ${playerId})
           ORDER BY be.reached_seq, be.player_id LIMIT ${down})
          UNION ALL
          (SELECT be.player_id, be.score::float8, be.reached_seq::float8 FROM board_entries be
           WHERE be.board_id = ${view.board} AND be.period_key = ${view.period} AND be.segment = ${segment} AND NOT be.hidden AND be.score < ${score}
           ORDER BY be.score DESC, be.reached_seq, be.player_id LIMIT ${down})
        ) x JOIN players p ON p.id = x."playerId"
        ORDER BY x.score DESC, x."reachedSeq", x."playerId" LIMIT ${down}`,
    ]);
    const entries: BoardEntry[] = [...above.reverse(), { playerId: me.playerId, username: me.username, score: me.score, reachedSeq: me.reachedSeq }, ...below];
    const first = entries[0]!;
    const ranks = await this.ranksFromDatabase(view, first.score);
    return { seq: standing.seq, total: standing.total, entries: rankRun(entries, standing.position - above.length, ranks.competition, ranks.dense), prefixSeqs: [] };
  }

  /**
   * A player's standing on a view; undefined without an entry there. A hidden
   * player is on no cached board: their own standing (only they and operators
   * see it) is where they would stand among the visible players, from Postgres.
   */
  async standing(view: ResolvedView, playerId: string, opts: { hidden?: boolean } = {}): Promise<CachedStanding | undefined> {
    if (!this.final(view) && !this.resting(view) && !opts.hidden) {
      try {
        const cached = await this.deps.cache.standing(view, playerId);
        if (cached !== null) {
          this.reachable(view, cached?.seq);
          if (cached) cached.seq = this.noteSeq(view, cached.seq);
          return cached;
        }
        this.reachable(view);
        await this.coldRead(view);
      } catch (error) {
        this.cacheDown(error, view);
      }
    }
    return this.standingFromDatabase(view, playerId);
  }

  /**
   * After a credit committed: merges the entry into the view's cache and returns
   * the player's standing there. If the view is cold, Postgres (which already
   * holds this credit) answers at once and a rebuild is started, not awaited: a
   * rebuild that begins from now on reads this credit, and one already under
   * way was handed it by `cache.apply` for its swap. If the cache is down,
   * Postgres answers too.
   */
  async apply(view: ResolvedView, entry: BoardEntry, opts: { hidden?: boolean } = {}): Promise<CachedStanding> {
    const expireAt = this.expireAt(view.periodInfo);
    if (opts.hidden) return (await this.standingFromDatabase(view, entry.playerId))!;
    if (this.resting(view)) {
      // The cache misses this change: it is rebuilt when it answers again.
      this.servedWhileDown.set(viewId(view), Number.MAX_SAFE_INTEGER);
      return (await this.standingFromDatabase(view, entry.playerId))!;
    }
    try {
      const applied = await this.deps.cache.apply(view, entry, expireAt);
      this.reachable(view, applied?.seq);
      if (!applied) {
        // Its seq is the last one seen here (not unreachable): never above what the swapped-in view will serve.
        void this.scheduleRebuild(view, 'cold');
        return (await this.standingFromDatabase(view, entry.playerId))!;
      }
      if (applied.position > 0) return { ...applied, seq: this.noteSeq(view, applied.seq) };
    } catch (error) {
      this.unreachable.set(viewId(view), Date.now());
      this.deps.logger.warn({ err: (error as Error).message, view: viewId(view) }, 'ranking cache update failed; will rebuild');
      void this.scheduleRebuild(view, 'apply-failed');
    }
    return (await this.standingFromDatabase(view, entry.playerId))!;
  }

  private async fromCache(view: ResolvedView, read: () => Promise<BoardPage | null>): Promise<BoardPage | null> {
    if (this.resting(view)) return null;
    try {
      const page = await read();
      this.reachable(view, page?.seq);
      if (page) {
        page.seq = this.noteSeq(view, page.seq);
        return page;
      }
      await this.coldRead(view);
    } catch (error) {
      this.cacheDown(error, view);
    }
    return null;
  }

  /** True shortly after the view's cache call failed: Postgres answers without trying the cache. */
  private resting(view: BoardView): boolean {
    const at = this.unreachable.get(viewId(view));
    return at !== undefined && Date.now() - at < CACHE_RETRY_MS;
  }

  /** True while some view's cache could not be reached: live boards then poll Postgres (no change notices arrive). */
  degraded(): boolean {
    return this.unreachable.size > 0;
  }

  /**
   * The cache answered again. If this instance served the view from Postgres
   * meanwhile, with a seq the cache's own has not passed, the cache also missed
   * those changes: it is rebuilt (a new epoch, above every seq served).
   */
  private reachable(view: ResolvedView, cacheSeq?: number) {
    const id = viewId(view);
    this.unreachable.delete(id);
    const served = this.servedWhileDown.get(id);
    if (served === undefined) return;
    this.servedWhileDown.delete(id);
    if (cacheSeq === undefined || cacheSeq < served) void this.rebuildAbove(view, served);
  }

  /**
   * Rebuilds the view until its cache seq is at least `served`. Another
   * instance may be rebuilding it already, with an epoch taken before this one
   * served its seq: then that rebuild cannot pass it, and waiting for its lease
   * is not enough. Rebuild again once the lease is free (a fresh epoch is above
   * every seq served so far), or subscribers that saw `served` would never see
   * a lower-seq board again.
   */
  private async rebuildAbove(view: ResolvedView, served: number): Promise<void> {
    const deadline = Date.now() + 2 * REBUILD_LEASE_MS;
    const lease = `rebuild:{${viewId(view)}}`;
    while (Date.now() < deadline) {
      await this.scheduleRebuild(view, 'after-outage');
      const seq = await this.deps.cache.seq(view).catch(() => null);
      if (seq !== null && seq >= served) return;
      while (Date.now() < deadline && (await this.deps.locks.held(lease).catch(() => false))) await new Promise((r) => setTimeout(r, 50));
    }
    this.deps.logger.warn({ view: viewId(view), served }, 'after an outage the cache stayed below the seq served from Postgres; reconcile will rebuild it');
  }

  /**
   * A read found the view cold. Only a view with entries is rebuilt: reads of
   * empty or made-up views (any segment string) must not fill the cache.
   */
  private async coldRead(view: ResolvedView) {
    const [row] = await this.deps.prisma.$queryRaw<{ any: boolean }[]>`
      SELECT EXISTS (SELECT 1 FROM board_entries WHERE board_id = ${view.board} AND period_key = ${view.period} AND segment = ${segmentColumn(view)} AND NOT hidden) AS any`;
    if (row?.any) void this.scheduleRebuild(view, 'cold');
  }

  private cacheDown(error: unknown, view: ResolvedView) {
    this.unreachable.set(viewId(view), Date.now());
    this.deps.logger.warn({ err: (error as Error).message, view: viewId(view) }, 'ranking cache unavailable; reading Postgres');
  }

  /**
   * Stops the rebuilds under way (at their next chunk) and waits for them to let
   * go of their leases, so the process can close its connections under them.
   */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.allSettled([...this.rebuilding.values()]);
  }

  /** Rebuilds one view from Postgres once at a time per instance; concurrent callers share it. */
  scheduleRebuild(view: ResolvedView, reason: string): Promise<void> {
    const id = viewId(view);
    const running = this.rebuilding.get(id);
    if (running) return running;
    if (this.closing) return Promise.resolve();
    const task = this.rebuild(view, reason)
      .catch((error: Error) => this.deps.logger.warn({ err: error.message, reason, view: id }, 'ranking cache rebuild failed'))
      .finally(() => this.rebuilding.delete(id));
    this.rebuilding.set(id, task);
    return task;
  }

  /**
   * Replaces a view's cache with Postgres' truth after a change made outside
   * this process's cache (an import: scores set lower, entries removed). A
   * rebuild swaps the view in whole, so that is a fresh rebuild; one already in
   * progress here may have read Postgres before the change, so it is waited
   * for first. Tells every instance when done.
   */
  async replaceFromDatabase(view: ResolvedView, reason: string): Promise<void> {
    await this.rebuilding.get(viewId(view));
    await this.scheduleRebuild(view, reason);
  }

  private async rebuild(view: ResolvedView, reason: string): Promise<void> {
    const release = await this.deps.locks.tryLock(`rebuild:{${viewId(view)}}`, REBUILD_LEASE_MS);
    if (!release) return this.awaitOthersRebuild(view);
    try {
      await this.rebuildLocked(view, reason);
    } finally {
      await release().catch((error: Error) => this.deps.logger.warn({ err: error.message, view: viewId(view) }, 'rebuild lease release failed (it expires)'));
    }
  }

  /** Another instance is rebuilding this view: wait until it is warm (or the lease ends), so callers then merge into it. */
  private async awaitOthersRebuild(view: ResolvedView): Promise<void> {
    const name = `rebuild:{${viewId(view)}}`;
    while ((await this.deps.cache.seq(view)) === null && (await this.deps.locks.held(name))) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private async rebuildLocked(view: ResolvedView, reason: string): Promise<void> {
    const started = Date.now();
    // Begun before the truth is read: what changes meanwhile is carried into the swap.
    const token = await this.deps.cache.beginRebuild(view);
    const [{ epoch }] = await this.deps.prisma.$queryRaw<[{ epoch: bigint }]>`SELECT nextval('board_epoch_seq') AS epoch`;
    let players = 0;
    const chunks = async function* (this: BoardRanking) {
      for await (const chunk of this.readView(view)) {
        if (this.closing) throw new Error('the server is stopping');
        players += chunk.length;
        yield chunk;
      }
    }.call(this);
    await this.deps.cache.rebuild(view, Number(epoch), chunks, this.expireAt(view.periodInfo), token);
    this.noteSeq(view, Number(epoch) * EPOCH_FACTOR);
    this.deps.metrics.cacheRebuilds.inc({ reason });
    const seconds = (Date.now() - started) / 1000;
    this.deps.metrics.cacheRebuildSeconds.observe(seconds);
    this.deps.logger.info({ reason, view: viewId(view), players, ms: Math.round(seconds * 1000) }, 'ranking cache view rebuilt from Postgres');
    await this.publishChanged([view]);
  }

  /** Tells every instance these views may have changed. Best effort: a lost notice is healed by reconnect resync. */
  async publishChanged(views: BoardView[], moves?: StandingMove[]): Promise<void> {
    try {
      await this.deps.bus.publish('BOARD_CHANGED', moves ? { views: views.map(viewId), moves } : { views: views.map(viewId) });
    } catch (error) {
      this.deps.logger.warn({ err: (error as Error).message }, 'board-changed publish failed');
    }
  }

  // -------------------------------------------------------------------------
  // Postgres: the truth. Every query walks board_entries_ranking_idx, which
  // holds only visible entries (hidden and banned players are on no board).

  async allFromDatabase(view: BoardView): Promise<BoardEntry[]> {
    const out: BoardEntry[] = [];
    for await (const chunk of this.readView(view)) out.push(...chunk);
    return out;
  }

  /** The view's visible entries, in chunks of REBUILD_CHUNK, in player id order. */
  async *readView(view: BoardView): AsyncIterable<BoardEntry[]> {
    let after = '';
    for (;;) {
      // Scores and credit ids are safe integers (below 2^53): read as float8 they arrive as numbers,
      // and the rows are BoardEntry as they are (no BigInt and no copy per entry, a million times).
      const rows = await this.deps.prisma.$queryRaw<BoardEntry[]>`
        SELECT be.player_id AS "playerId", p.username, be.score::float8 AS score, be.reached_seq::float8 AS "reachedSeq"
        FROM board_entries be JOIN players p ON p.id = be.player_id
        WHERE be.board_id = ${view.board} AND be.period_key = ${view.period} AND be.segment = ${segmentColumn(view)} AND NOT be.hidden
          -- Both sides of the join start at the key: with only the first, each chunk's merge join
          -- walked the players from the start (a 1M board's chunks cost 150 ms each, growing).
          AND be.player_id > ${after} AND p.id > ${after}
        ORDER BY be.player_id LIMIT ${REBUILD_CHUNK}`;
      if (rows.length) yield rows;
      if (rows.length < REBUILD_CHUNK) return;
      after = rows.at(-1)!.playerId;
    }
  }

  /**
   * A final view's frozen rows, read by `read` together with the period's summary
   * from the same database (the replica when it has replayed the freeze, else the
   * primary); undefined while the finalization job has not run for it.
   */
  private async frozenRead<T>(view: ResolvedView, read: (db: PrismaClient, frozen: FrozenSummary) => Promise<T>): Promise<{ frozen: FrozenSummary; value: T } | undefined> {
    if (!this.final(view)) return undefined;
    return this.deps.history.read(
      async (db) => {
        const [row] = await db.$queryRaw<{ total: number; lastSeq: bigint }[]>`
          SELECT total, last_seq AS "lastSeq" FROM board_final_periods
          WHERE board_id = ${view.board} AND period_key = ${view.period} AND segment = ${segmentColumn(view)}`;
        if (!row) return undefined;
        // The summary and the positions are written by one statement: a database that has one has both.
        const frozen = { total: row.total, lastSeq: Number(row.lastSeq) };
        return { frozen, value: await read(db, frozen) };
      },
      // Not frozen on the replica may mean "not replayed yet": the primary decides.
      { what: 'final-standings', complete: (r) => r !== undefined },
    );
  }

  async pageFromDatabase(view: ResolvedView, offset: number, n: number): Promise<BoardPage> {
    const segment = segmentColumn(view);
    const read = await this.frozenRead(
      view,
      (db) =>
        // Frozen positions: an index range scan, O(log n + n).
        db.$queryRaw<(EntryRow & { position: number; competition: number; dense: number })[]>`
        SELECT be.player_id AS "playerId", p.username, be.score, be.reached_seq AS "reachedSeq",
          be.final_position AS position, be.final_competition AS competition, be.final_dense AS dense
        FROM board_entries be JOIN players p ON p.id = be.player_id
        WHERE be.board_id = ${view.board} AND be.period_key = ${view.period} AND be.segment = ${segment}
          AND be.final_position > ${offset} AND be.final_position <= ${offset + n}
        ORDER BY be.final_position`,
    );
    if (read) {
      const { frozen, value: rows } = read;
      return {
        seq: FINAL_SEQ_BASE + frozen.lastSeq,
        total: frozen.total,
        entries: rows.map((r) => ({ ...toEntry(r), position: r.position, competitionRank: r.competition, denseRank: r.dense })),
        prefixSeqs: [],
      };
    }
    const [rows, [stats]] = await Promise.all([
      this.deps.prisma.$queryRaw<EntryRow[]>`
        SELECT be.player_id AS "playerId", p.username, be.score, be.reached_seq AS "reachedSeq"
        FROM board_entries be JOIN players p ON p.id = be.player_id
        WHERE be.board_id = ${view.board} AND be.period_key = ${view.period} AND be.segment = ${segment} AND NOT be.hidden
        ORDER BY be.score DESC, be.reached_seq, be.player_id LIMIT ${n} OFFSET ${offset}`,
      this.deps.prisma.$queryRaw<[{ total: bigint; last: bigint | null }]>`
        SELECT count(*) AS total, max(reached_seq) AS last FROM board_entries
        WHERE board_id = ${view.board} AND period_key = ${view.period} AND segment = ${segment} AND NOT hidden`,
    ]);
    const entries = rows.map(toEntry);
    const first = entries[0];
    const ranks = first ? await this.ranksFromDatabase(view, first.score) : { competition: 0, dense: 0 };
    return {
      seq: await this.databaseSeq(view, stats),
      total: Number(stats.total),
      entries: rankRun(entries, offset + 1, ranks.competition, ranks.dense),
      prefixSeqs: [],
    };
  }

  async standingFromDatabase(view: ResolvedView, playerId: string): Promise<CachedStanding | undefined> {
    const segment = segmentColumn(view);
    let frozenSeq: number | undefined;
    const read = await this.frozenRead(
      view,
      (db) =>
        // One primary-key lookup.
        db.$queryRaw<{ score: bigint; position: number | null; competition: number | null; dense: number | null }[]>`
        SELECT score, final_position AS position, final_competition AS competition, final_dense AS dense FROM board_entries
        WHERE board_id = ${view.board} AND period_key = ${view.period} AND segment = ${segment} AND player_id = ${playerId}`,
    );
    if (read) {
      const {
        frozen,
        value: [r],
      } = read;
      if (!r) return undefined;
      if (r.position !== null) {
        return { position: r.position, competitionRank: r.competition!, denseRank: r.dense!, score: Number(r.score), total: frozen.total, seq: FINAL_SEQ_BASE + frozen.lastSeq };
      }
      // A hidden player's own row in a frozen period has no position: counted among the visible entries below.
      frozenSeq = FINAL_SEQ_BASE + frozen.lastSeq;
    }
    const [row] = await this.deps.prisma.$queryRaw<{ score: bigint; reachedSeq: bigint }[]>`
      SELECT score, reached_seq AS "reachedSeq" FROM board_entries
      WHERE board_id = ${view.board} AND period_key = ${view.period} AND segment = ${segment} AND player_id = ${playerId}`;
    if (!row) return undefined;
    // Live, or a hidden player's own row: counted among the visible entries.
    const [[counts], ranks] = await Promise.all([
      this.deps.prisma.$queryRaw<[{ ahead: bigint; total: bigint; last: bigint | null }]>`
        SELECT
          -- Those ahead: a range of the ranking index (O(position)), not a pass over the whole period.
          (SELECT count(*) FROM board_entries WHERE board_id = ${view.board} AND period_key = ${view.period} AND segment = ${segment} AND NOT hidden
             AND (score > ${row.score} OR (score = ${row.score} AND (reached_seq, player_id) < (${row.reachedSeq}, ${playerId})))) AS ahead,
          count(*) AS total, max(reached_seq) AS last
        FROM board_entries WHERE board_id = ${view.board} AND period_key = ${view.period} AND segment = ${segment} AND NOT hidden`,
      this.ranksFromDatabase(view, Number(row.score)),
    ]);
    return {
      position: Number(counts.ahead) + 1,
      competitionRank: ranks.competition,
      denseRank: ranks.dense,
      score: Number(row.score),
      total: Number(counts.total),
      seq: frozenSeq ?? (await this.databaseSeq(view, counts)),
    };
  }

  private async ranksFromDatabase(view: BoardView, score: number) {
    const [r] = await this.deps.prisma.$queryRaw<[{ higher: bigint; distinctHigher: bigint }]>`
      SELECT count(*) AS higher, count(DISTINCT score) AS "distinctHigher" FROM board_entries
      WHERE board_id = ${view.board} AND period_key = ${view.period} AND segment = ${segmentColumn(view)} AND NOT hidden AND score > ${score}`;
    return { competition: Number(r.higher) + 1, dense: Number(r.distinctHigher) + 1 };
  }

  /**
   * Final views: derived from their data, so the same everywhere. Live views
   * while the cache is down: above any seq the cache gave them (the latest epoch
   * taken, plus half an epoch: within one epoch a view changes fewer than 2^31
   * times) plus the view's latest credit id, so it moves with every credit and
   * every instance derives the same; never lower than this instance has served.
   * Otherwise (a cold view being rebuilt): the last seq seen.
   */
  private async databaseSeq(view: ResolvedView, stats: { last: bigint | null }): Promise<number> {
    if (this.final(view)) return FINAL_SEQ_BASE + Number(stats.last ?? 0);
    const id = viewId(view);
    if (!this.unreachable.has(id)) return this.lastKnownSeq(view);
    const [{ epoch }] = await this.deps.prisma.$queryRaw<[{ epoch: bigint }]>`SELECT last_value AS epoch FROM board_epoch_seq`;
    const seq = this.noteSeq(view, Number(epoch) * EPOCH_FACTOR + EPOCH_FACTOR / 2 + Number(stats.last ?? 0));
    this.servedWhileDown.set(id, seq);
    return seq;
  }
}

interface FrozenSummary {
  total: number;
  lastSeq: number;
}

interface EntryRow {
  playerId: string;
  username: string;
  score: bigint;
  reachedSeq: bigint;
}

function toEntry(r: EntryRow): BoardEntry {
  return { playerId: r.playerId, username: r.username, score: Number(r.score), reachedSeq: Number(r.reachedSeq) };
}

/** Unsegmented entries are stored with segment '' (a real segment value is never empty). */
export function segmentColumn(view: BoardView): string {
  return view.segment ?? '';
}
