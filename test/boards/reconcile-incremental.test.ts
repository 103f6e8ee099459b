import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { periodByKey } from '../../src/resolvers/boards/periods.js';
import { reconcile } from '../../src/resolvers/boards/reconcile.js';
import type { ResolvedView } from '../../src/resolvers/boards/ranking.js';
import type { BoardEntry } from '../../src/resolvers/boards/ranking-cache.js';
import { importScores } from '../../src/resolvers/operators/import/import-scores.js';
import type { Services } from '../../src/services.js';
import { startInstance, type Instance } from '../support/app.js';
import { REDIS_URL } from '../support/backends.js';
import { completeTask } from '../support/play.js';
import { describeBackends, type Fixture } from '../support/suite.js';

/**
 * Reconcile checks what changed since its watermark plus a bounded slice of the
 * board (the sweep), never the whole board: shown with the counters an operator
 * sees in /metrics. The timer is off (RECONCILE_INTERVAL_SECONDS=0): each test
 * runs reconcile itself, so every run is one the test counts.
 */

const GLOBAL = { board: 'global', period: 'all', segment: null };
const BOARD_SIZE = 300;
const SWEEP = 50;

async function globalView(services: Services): Promise<ResolvedView> {
  return { ...GLOBAL, periodInfo: periodByKey(await services.definitions.require('global'), 'all') };
}

/** A metric's value as /metrics reports it (0 when absent). */
async function scrape(instance: Instance, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${instance.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

const checked = (i: Instance, source: 'changes' | 'sweep') => scrape(i, 'scoreboard_reconcile_entries_checked_total', `{source="${source}"}`);
const repairs = (i: Instance) => scrape(i, 'scoreboard_cache_repairs_total');

/**
 * `BOARD_SIZE` players on the global board through the product's bulk import, then the view rebuilt as
 * the import command does. Twenty scores, fifteen players each: the sweep's slices end inside ties.
 */
async function seedBoard(f: Fixture, prefix: string) {
  const services = f.app.app.services;
  const rows = Array.from({ length: BOARD_SIZE }, (_, i) => ({ line: i + 2, playerId: `${prefix}-${i}`, username: `${prefix} ${i}`, score: 10 * (1 + (i % 20)), country: null }));
  await services.db.withSession((session) =>
    importScores(session, {
      rows: (async function* () {
        yield rows;
      })(),
      actor: 'test',
      reason: 'reconcile test board',
      notifyViews: [],
    }),
  );
  await services.ranking.replaceFromDatabase(await globalView(services), 'import');
}

/** The board has been there a while: every change so far is older than the settling window, so the watermark can pass it. */
async function ageChanges(services: Services) {
  await services.prisma.$executeRaw`UPDATE action_credits SET created_at = created_at - interval '1 hour' WHERE created_at > now() - interval '1 hour'`;
  await services.prisma.$executeRaw`UPDATE audit_events SET at = at - interval '1 hour' WHERE at > now() - interval '1 hour'`;
}

async function cachedEntry(services: Services, playerId: string): Promise<BoardEntry | undefined> {
  return (await services.rankingCache.entries(GLOBAL, [playerId]))![0];
}

async function truthEntry(services: Services, playerId: string): Promise<BoardEntry | undefined> {
  return (await services.ranking.allFromDatabase(GLOBAL)).find((e) => e.playerId === playerId);
}

/**
 * Changes one cached score behind the app's back, as someone with access to
 * Redis would: with Redis, the keys themselves; in-process, the cache object
 * (there is no other way in). No change row points at it.
 */
async function tamper(f: Fixture, playerId: string, score: number) {
  const services = f.app.app.services;
  const current = (await cachedEntry(services, playerId))!;
  const wanted = { ...current, score };
  if (f.kind === 'real') {
    const redis = new Redis(REDIS_URL);
    try {
      const prefix = f.backend.env.REDIS_KEY_PREFIX!;
      const member = await redis.hget(`${prefix}v:{global|all|}:members`, playerId);
      await redis.zincrby(`${prefix}v:{global|all|}:z`, current.score - wanted.score, member!);
    } finally {
      redis.disconnect();
    }
  } else {
    await services.rankingCache.repair(GLOBAL, current, wanted);
  }
  expect(await cachedEntry(services, playerId)).toEqual(wanted);
}

describeBackends(
  'incremental reconcile: a bounded sweep',
  (f) => {
    it('repairs an entry edited in the cache by hand, checking fewer entries than the board holds in every run', async () => {
      const services = f.app.app.services;
      await seedBoard(f, `sweep-${process.pid}`);
      const size = (await services.ranking.allFromDatabase(GLOBAL)).length;
      expect(size).toBeGreaterThanOrEqual(BOARD_SIZE);
      // The first run reads the import's rows (younger than the settling window) and passes over
      // them: an import rebuilds the views it changed, checking them again would be a full scan.
      await reconcile(services);
      expect(await checked(f.app, 'changes')).toBe(0);
      await ageChanges(services);
      await reconcile(services); // the watermark passes the import

      const victim = `sweep-${process.pid}-${BOARD_SIZE / 2}`;
      const truth = (await truthEntry(services, victim))!;
      await tamper(f, victim, truth.score + 1_000_000);
      const repairsBefore = await repairs(f.app);

      // Bounded by a count of runs, not by time: two walks of BOARD_SIZE / SWEEP runs each cover the view.
      const perRun: number[] = [];
      for (let run = 0; run < (4 * size) / SWEEP; run++) {
        const before = (await checked(f.app, 'changes')) + (await checked(f.app, 'sweep'));
        await reconcile(services);
        perRun.push((await checked(f.app, 'changes')) + (await checked(f.app, 'sweep')) - before);
        if ((await repairs(f.app)) > repairsBefore) break;
      }
      expect(await cachedEntry(services, victim)).toEqual(truth);
      expect((await repairs(f.app)) - repairsBefore).toBe(1);
      // Every run checked a slice, never the board: at most the sweep budget (no changes since the watermark).
      expect(perRun.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      for (const n of perRun) {
        expect(n).toBeLessThanOrEqual(SWEEP);
        expect(n).toBeLessThan(size);
      }
      // Nothing left to fix, and the sweep keeps moving.
      expect(await reconcile(services)).toBe(0);
    });

    it('finds an entry the cache lost and one it should not have (both directions of the sweep)', async () => {
      const services = f.app.app.services;
      const view = await globalView(services);
      const [lost, ghost] = [`lost-${process.pid}`, `ghost-${process.pid}`];
      await services.prisma.$executeRaw`INSERT INTO players (id, username) VALUES (${lost}, ${lost}), (${ghost}, ${ghost})`;
      await services.prisma.$executeRaw`INSERT INTO board_entries (board_id, period_key, segment, player_id, score, reached_seq) VALUES ('global', 'all', '', ${lost}, 42, 1)`;
      // The cache holds the ghost (no entry in Postgres) and misses the lost one: no change row names either.
      expect(await services.rankingCache.repair(view, undefined, { playerId: ghost, username: ghost, score: 43, reachedSeq: 1 })).toBe(true);
      const repairsBefore = await repairs(f.app);
      const size = (await services.ranking.allFromDatabase(GLOBAL)).length;
      for (let run = 0; run < (4 * size) / SWEEP && (await repairs(f.app)) - repairsBefore < 2; run++) await reconcile(services);
      expect((await repairs(f.app)) - repairsBefore).toBe(2);
      expect(await cachedEntry(services, ghost)).toBeUndefined();
      expect(await cachedEntry(services, lost)).toEqual({ playerId: lost, username: lost, score: 42, reachedSeq: 1 });
    });
  },
  { env: { RECONCILE_INTERVAL_SECONDS: '0', RECONCILE_SWEEP_ENTRIES: String(SWEEP) } },
);

describeBackends(
  'incremental reconcile: the changes watermark (no sweep)',
  (f) => {
    /**
     * The cache misses a credit: the credit commits in Postgres through the
     * product (its change row written), then the player's cached entry is put
     * back to what it was before, which is what a lost cache update leaves.
     * With the sweep off, only the changes pass can find it.
     */
    it('repairs a credit whose cache update was lost in one run, checking only the changed pairs', async () => {
      const services = f.app.app.services;
      await ageChanges(services);
      await reconcile(services);
      const p = await f.player('missed');
      await completeTask(f.app, p.token);
      const before = (await cachedEntry(services, p.id))!;
      await completeTask(f.app, p.token);
      const truth = (await truthEntry(services, p.id))!;
      expect(truth.score).toBe(before.score + 10);
      await services.rankingCache.repair(GLOBAL, await cachedEntry(services, p.id), before);
      expect(await cachedEntry(services, p.id)).toEqual(before);
      const changesBefore = await checked(f.app, 'changes');

      await reconcile(services);
      expect(await cachedEntry(services, p.id)).toEqual(truth);
      // Two credits of one player on one view since the watermark: one pair checked.
      expect((await checked(f.app, 'changes')) - changesBefore).toBe(1);
      expect(await checked(f.app, 'sweep')).toBe(0);
    });

    it('the watermark moves past settled changes and the next run (on any instance) continues from it', async () => {
      const services = f.app.app.services;
      await reconcile(services);
      const start = (await services.reconcileProgress.load()).watermark!;
      const p = await f.player('watermark');
      await completeTask(f.app, p.token);
      await completeTask(f.app, p.token);
      const [{ last }] = await services.prisma.$queryRaw<[{ last: bigint }]>`SELECT max(id) AS last FROM action_credits WHERE player_id = ${p.id}`;
      // Younger than the settling window: read again by every run, the watermark stays below them.
      await reconcile(services);
      expect((await services.reconcileProgress.load()).watermark!).toBeLessThan(Number(last));
      await ageChanges(services);
      await reconcile(services);
      const moved = (await services.reconcileProgress.load()).watermark!;
      expect(moved).toBeGreaterThanOrEqual(Number(last));
      expect(moved).toBeGreaterThan(start);
      expect(await scrape(f.app, 'scoreboard_reconcile_watermark')).toBe(moved);

      // Nothing changed since: the next run reads no change and checks nothing.
      const changesBefore = await checked(f.app, 'changes');
      await reconcile(services);
      expect(await checked(f.app, 'changes')).toBe(changesBefore);
      expect((await services.reconcileProgress.load()).watermark).toBe(moved);

      // A change older than the settling window by the next run: only a run that continues from the
      // watermark reads it (a run starting afresh would begin at the settled head, past it). With
      // Redis, the next run is another instance's, continuing from the watermark the first one left.
      const q = await f.player('watermark-next');
      await completeTask(f.app, q.token);
      await ageChanges(services);
      const next = f.kind === 'real' ? await startInstance(f.backend) : f.app;
      try {
        const before = await checked(next, 'changes');
        await reconcile(next.app.services);
        expect((await checked(next, 'changes')) - before).toBe(1);
        const [{ id }] = await services.prisma.$queryRaw<[{ id: bigint }]>`SELECT max(id) AS id FROM action_credits WHERE player_id = ${q.id}`;
        expect((await services.reconcileProgress.load()).watermark).toBeGreaterThanOrEqual(Number(id));
        expect(await scrape(next, 'scoreboard_reconcile_watermark')).toBeGreaterThanOrEqual(Number(id));
      } finally {
        if (next !== f.app) await next.stop();
      }
    });

    // Progress lives in Redis only on the real backend.
    if (f.kind === 'real') {
      it('progress in Redis that cannot be read (an older format, a hand edit) starts over instead of failing every run', async () => {
        const services = f.app.app.services;
        const redis = new Redis(REDIS_URL);
        try {
          const key = `${f.backend.env.REDIS_KEY_PREFIX!}reconcile:progress`;
          await reconcile(services);
          expect(await redis.exists(key)).toBe(1);
          await redis.set(key, JSON.stringify({ watermark: 5, sweep: { view: 'global|all|', truth: { after: { score: 'x' }, done: false }, cache: { offset: 0, done: false } } }));
          await reconcile(services);
          const progress = await services.reconcileProgress.load();
          expect(typeof progress.watermark).toBe('number');
          expect(progress.sweep.truth.after).toBeNull();
        } finally {
          redis.disconnect();
        }
      });
    }
  },
  { env: { RECONCILE_INTERVAL_SECONDS: '0', RECONCILE_SWEEP_ENTRIES: '0' } },
);
