import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryRankingCache } from '../../src/resolvers/boards/memory-ranking-cache.js';
import { EPOCH_FACTOR, MAX_BOARD_SIZE, viewId, type BoardEntry, type BoardPage, type BoardView, type RankingCache } from '../../src/resolvers/boards/ranking-cache.js';
import { RedisRankingCache } from '../../src/resolvers/boards/redis-ranking-cache.js';
import { REDIS_URL, realRequired } from '../support/backends.js';

/**
 * One contract, run unchanged against every RankingCache implementation (in the
 * style of abstract-level's shared test suite). Expected values are written out
 * by hand. Seq values after a rebuild are implementation-specific within the
 * epoch, so they are read once (s0) and every later change is asserted exactly
 * relative to it.
 */

/** Time as the implementation sees it: an injected clock, or the real one (Redis PEXPIREAT). */
export interface ContractClock {
  now(): number;
  /** Returns once the implementation's time is past `ms` (bounded wait; instant for an injected clock). */
  passTo(ms: number): Promise<void>;
}

export interface ContractHarness {
  cache: RankingCache;
  cleanup(): Promise<void>;
  clock: ContractClock;
}

const BASE = (epoch: number) => epoch * EPOCH_FACTOR;
const E = (playerId: string, score: number, reachedSeq: number, username = `${playerId}-name`): BoardEntry => ({
  playerId,
  username,
  score,
  reachedSeq,
});
const V = (segment: string | null = null, board = 'weekly', period = '2026-11-30'): BoardView => ({ board, period, segment });
/** [playerId, position, competitionRank, denseRank] per entry. */
const ranks = (p: BoardPage | null) => p!.entries.map((e) => [e.playerId, e.position, e.competitionRank, e.denseRank]);
const ids = (p: BoardPage | null) => p!.entries.map((e) => e.playerId);
const byViewId = (views: BoardView[]) => [...views].sort((a, b) => (viewId(a) < viewId(b) ? -1 : 1));

/** Polls a condition with a bound: no timing assertion, just "eventually, or fail". */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** 50, 30, 30, 10 with the later 30 (b) behind the earlier one (c): order a, c, b, d. */
const FOUR = [E('a', 50, 1), E('b', 30, 7), E('c', 30, 4), E('d', 10, 2)];

export function contract(name: string, make: () => Promise<ContractHarness>) {
  describe(`RankingCache contract: ${name}`, () => {
    let h: ContractHarness;
    let cache: RankingCache;
    beforeEach(async () => {
      h = await make();
      cache = h.cache;
    });
    afterEach(async () => {
      await h.cleanup();
    });

    describe('cold views', () => {
      it('every read is null (standing: null) before a rebuild, and apply does not warm the view', async () => {
        const v = V();
        expect(await cache.apply(v, E('a', 10, 1))).toBeNull();
        expect(await cache.page(v, 0, 10)).toBeNull();
        expect(await cache.page(v, 3, 10)).toBeNull();
        expect(await cache.around(v, 'a', 2, 2)).toBeNull();
        expect(await cache.standing(v, 'a')).toBeNull();
        expect(await cache.seq(v)).toBeNull();
        expect(await cache.all(v)).toEqual([]);
        expect(await cache.warmViews()).toEqual([]);
        expect(await cache.repair(v, undefined, E('a', 10, 1))).toBe(false);
        await cache.rename('a', 'Alice');
        expect(await cache.seq(v)).toBeNull();
        expect(await cache.standing(v, 'a')).toBeNull();
        expect(await cache.warmViews()).toEqual([]);
      });

      it('warmViews lists exactly the rebuilt views, odd segments included', async () => {
        const a = V(null, 'b1', 'all');
        const d = V('a|b', 'b1', 'all');
        const f = V('é', 'b1', 'all');
        expect(await cache.warmViews()).toEqual([]);
        await cache.rebuild(a, 1, [E('p', 10, 1)]);
        await cache.rebuild(d, 1, [E('p', 10, 1)]);
        await cache.rebuild(f, 1, []);
        expect(byViewId(await cache.warmViews())).toEqual(byViewId([a, d, f]));
        expect(await cache.seq(V('a', 'b1', 'all'))).toBeNull();
        expect(await cache.seq(V(null, 'b1', '2026-11'))).toBeNull();
      });

      it('board, period and segment each make a separate view', async () => {
        const views = [
          V(null, 'b1', 'all'),
          V(null, 'b2', 'all'),
          V(null, 'b1', '2026-11'),
          V('a|b', 'b1', 'all'),
          V('a', 'b1', 'all'),
          V('é', 'b1', 'all'),
          V('a b', 'b1', 'all'),
          V('a%7Cb', 'b1', 'all'),
        ];
        // Only the first and the 'a|b' one are warm: the rest stay cold.
        await cache.rebuild(views[0]!, 1, [E('p0', 10, 1)]);
        await cache.rebuild(views[3]!, 1, [E('p3', 13, 1)]);
        for (const [i, v] of views.entries()) {
          if (i === 0 || i === 3) expect(await cache.seq(v)).not.toBeNull();
          else expect(await cache.seq(v)).toBeNull();
        }
        for (const [i, v] of views.entries()) if (i !== 0 && i !== 3) await cache.rebuild(v, 1, [E(`p${i}`, 10 + i, 1)]);
        expect(byViewId(await cache.warmViews())).toEqual(byViewId(views));
        const s = await Promise.all(views.map((v) => cache.seq(v)));
        await cache.apply(views[0]!, E('late', 99, 2));
        for (const [i, v] of views.entries()) {
          expect(await cache.all(v)).toEqual(i === 0 ? [E('late', 99, 2), E('p0', 10, 1)] : [E(`p${i}`, 10 + i, 1)]);
          expect(await cache.seq(v)).toBe(i === 0 ? s[i]! + 1 : s[i]);
          expect(await cache.standing(v, 'late')).toEqual(i === 0 ? expect.objectContaining({ position: 1 }) : undefined);
        }
      });
    });

    describe('ordering', () => {
      it('score desc, then lower reachedSeq, then playerId; positions 1..n unique', async () => {
        const v = V();
        await cache.rebuild(v, 1, [E('x', 100, 9), E('v', 5, 1), E('z', 100, 3), E('w', 200, 50), E('y', 100, 3), E('u', 100, 3)]);
        const p = await cache.page(v, 0, 10);
        expect(ids(p)).toEqual(['w', 'u', 'y', 'z', 'x', 'v']);
        expect(p!.entries.map((e) => e.position)).toEqual([1, 2, 3, 4, 5, 6]);
        expect(p!.total).toBe(6);
        await cache.apply(v, E('t', 100, 3));
        await cache.apply(v, E('s', 100, 10));
        const q = await cache.page(v, 0, 10);
        expect(ids(q)).toEqual(['w', 't', 'u', 'y', 'z', 'x', 's', 'v']);
        expect(q!.entries.map((e) => e.position)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
        expect(q!.entries.map((e) => [e.score, e.reachedSeq, e.username])).toEqual([
          [200, 50, 'w-name'],
          [100, 3, 't-name'],
          [100, 3, 'u-name'],
          [100, 3, 'y-name'],
          [100, 3, 'z-name'],
          [100, 9, 'x-name'],
          [100, 10, 's-name'],
          [5, 1, 'v-name'],
        ]);
      });
    });

    describe('rank modes', () => {
      it('50, 30, 30, 10: positions 1..4, competition 1,2,2,4, dense 1,2,2,3 in page, standing and around', async () => {
        const v = V();
        await cache.rebuild(v, 1, FOUR);
        const s0 = (await cache.seq(v))!;
        expect(ranks(await cache.page(v, 0, 4))).toEqual([
          ['a', 1, 1, 1],
          ['c', 2, 2, 2],
          ['b', 3, 2, 2],
          ['d', 4, 4, 3],
        ]);
        // Pages starting mid-run: the first entry's ranks come from the whole board.
        expect(ranks(await cache.page(v, 1, 2))).toEqual([
          ['c', 2, 2, 2],
          ['b', 3, 2, 2],
        ]);
        expect(ranks(await cache.page(v, 2, 2))).toEqual([
          ['b', 3, 2, 2],
          ['d', 4, 4, 3],
        ]);
        expect(ranks(await cache.page(v, 2, 1))).toEqual([['b', 3, 2, 2]]);
        expect(ranks(await cache.page(v, 3, 5))).toEqual([['d', 4, 4, 3]]);
        expect(await cache.page(v, 4, 5)).toEqual({ seq: s0, total: 4, entries: [], prefixSeqs: [] });
        const st = (id: string) => cache.standing(v, id);
        expect(await st('a')).toEqual({ position: 1, competitionRank: 1, denseRank: 1, score: 50, total: 4, seq: s0 });
        expect(await st('c')).toEqual({ position: 2, competitionRank: 2, denseRank: 2, score: 30, total: 4, seq: s0 });
        expect(await st('b')).toEqual({ position: 3, competitionRank: 2, denseRank: 2, score: 30, total: 4, seq: s0 });
        expect(await st('d')).toEqual({ position: 4, competitionRank: 4, denseRank: 3, score: 10, total: 4, seq: s0 });
        expect(await st('nobody')).toBeUndefined();
        expect(ranks(await cache.around(v, 'b', 0, 1))).toEqual([
          ['b', 3, 2, 2],
          ['d', 4, 4, 3],
        ]);
        expect(ranks(await cache.around(v, 'b', 1, 0))).toEqual([
          ['c', 2, 2, 2],
          ['b', 3, 2, 2],
        ]);
        expect(ranks(await cache.around(v, 'd', 0, 0))).toEqual([['d', 4, 4, 3]]);
      });

      it('longer runs: pages and windows starting inside a run of ties', async () => {
        const v = V();
        await cache.rebuild(v, 1, [E('p1', 90, 1), E('p2', 70, 2), E('p3', 70, 3), E('p4', 70, 4), E('p5', 40, 5), E('p6', 40, 6), E('p7', 20, 7)]);
        expect(ranks(await cache.page(v, 0, 7))).toEqual([
          ['p1', 1, 1, 1],
          ['p2', 2, 2, 2],
          ['p3', 3, 2, 2],
          ['p4', 4, 2, 2],
          ['p5', 5, 5, 3],
          ['p6', 6, 5, 3],
          ['p7', 7, 7, 4],
        ]);
        expect(ranks(await cache.page(v, 2, 3))).toEqual([
          ['p3', 3, 2, 2],
          ['p4', 4, 2, 2],
          ['p5', 5, 5, 3],
        ]);
        expect(ranks(await cache.page(v, 3, 3))).toEqual([
          ['p4', 4, 2, 2],
          ['p5', 5, 5, 3],
          ['p6', 6, 5, 3],
        ]);
        expect(ranks(await cache.page(v, 5, 5))).toEqual([
          ['p6', 6, 5, 3],
          ['p7', 7, 7, 4],
        ]);
        expect(ranks(await cache.around(v, 'p6', 1, 0))).toEqual([
          ['p5', 5, 5, 3],
          ['p6', 6, 5, 3],
        ]);
        expect(ranks(await cache.around(v, 'p3', 0, 0))).toEqual([['p3', 3, 2, 2]]);
        expect(await cache.standing(v, 'p4')).toEqual(expect.objectContaining({ position: 4, competitionRank: 2, denseRank: 2, score: 70, total: 7 }));
        expect(await cache.standing(v, 'p7')).toEqual(expect.objectContaining({ position: 7, competitionRank: 7, denseRank: 4, score: 20, total: 7 }));
      });
    });

    describe('apply', () => {
      it('returns the standing right after; seq grows by one per real change; ranks follow the distinct scores', async () => {
        const v = V();
        await cache.rebuild(v, 1, FOUR);
        const s0 = (await cache.seq(v))!;
        expect(s0).toBeGreaterThan(BASE(1));
        expect(s0).toBeLessThan(BASE(2));
        expect(await cache.apply(v, E('e', 40, 20))).toEqual({ position: 2, competitionRank: 2, denseRank: 2, score: 40, total: 5, seq: s0 + 1 });
        // d reaches 30 last: behind c and b; the distinct score 10 is gone.
        expect(await cache.apply(v, E('d', 30, 21))).toEqual({ position: 5, competitionRank: 3, denseRank: 3, score: 30, total: 5, seq: s0 + 2 });
        expect(ranks(await cache.page(v, 0, 10))).toEqual([
          ['a', 1, 1, 1],
          ['e', 2, 2, 2],
          ['c', 3, 3, 3],
          ['b', 4, 3, 3],
          ['d', 5, 3, 3],
        ]);
        expect(await cache.apply(v, E('b', 60, 22))).toEqual({ position: 1, competitionRank: 1, denseRank: 1, score: 60, total: 5, seq: s0 + 3 });
        expect(ranks(await cache.page(v, 0, 10))).toEqual([
          ['b', 1, 1, 1],
          ['a', 2, 2, 2],
          ['e', 3, 3, 3],
          ['c', 4, 4, 4],
          ['d', 5, 4, 4],
        ]);
        expect(await cache.seq(v)).toBe(s0 + 3);
        expect(await cache.standing(v, 'b')).toEqual({ position: 1, competitionRank: 1, denseRank: 1, score: 60, total: 5, seq: s0 + 3 });
      });

      it('keeps the newer state (higher reachedSeq): an older one is ignored entirely and seq does not move', async () => {
        const v = V();
        await cache.rebuild(v, 1, FOUR);
        const s0 = (await cache.seq(v))!;
        const before = await cache.all(v);
        // Same reachedSeq with a higher score, or an earlier reachedSeq: not newer.
        expect(await cache.apply(v, E('a', 95, 1))).toEqual({ position: 1, competitionRank: 1, denseRank: 1, score: 50, total: 4, seq: s0 });
        expect(await cache.apply(v, E('b', 99, 3))).toEqual({ position: 3, competitionRank: 2, denseRank: 2, score: 30, total: 4, seq: s0 });
        expect(await cache.seq(v)).toBe(s0);
        expect(await cache.all(v)).toEqual(before);
        // A slow commit carrying an older name does not undo a rename either.
        await cache.rename('a', 'Alice');
        expect(await cache.seq(v)).toBe(s0 + 1);
        expect(await cache.apply(v, E('a', 45, 0, 'a-old'))).toEqual(expect.objectContaining({ score: 50, seq: s0 + 1 }));
        expect((await cache.all(v)).find((e) => e.playerId === 'a')).toEqual(E('a', 50, 1, 'Alice'));
        expect((await cache.page(v, 0, 1))!.entries[0]!.username).toBe('Alice');
      });

      it('a newer state with a lower score (a void) moves the player down, and the top-k seqs from their old rank', async () => {
        const v = V();
        await cache.rebuild(v, 1, FOUR); // a 50, c 30, b 30, d 10
        const s0 = (await cache.seq(v))!;
        expect(await cache.apply(v, E('a', 20, 40))).toEqual({ position: 3, competitionRank: 3, denseRank: 2, score: 20, total: 4, seq: s0 + 1 });
        const top = (await cache.page(v, 0, 4))!;
        expect(ranks(top)).toEqual([
          ['c', 1, 1, 1],
          ['b', 2, 1, 1],
          ['a', 3, 3, 2],
          ['d', 4, 4, 3],
        ]);
        expect(top.prefixSeqs).toEqual([s0 + 1, s0 + 1, s0 + 1, s0 + 1]);
        // The credit that was voided, arriving late, is older: ignored.
        expect(await cache.apply(v, E('a', 50, 39))).toEqual(expect.objectContaining({ score: 20, seq: s0 + 1 }));
      });

      it('a newer state with score 0 removes the entry, and an older state arriving late cannot bring it back', async () => {
        const v = V();
        await cache.rebuild(v, 1, FOUR);
        const s0 = (await cache.seq(v))!;
        expect(await cache.apply(v, E('c', 0, 50))).toEqual({ position: 0, competitionRank: 0, denseRank: 0, score: 0, total: 3, seq: s0 + 1 });
        expect(ids(await cache.page(v, 0, 10))).toEqual(['a', 'b', 'd']);
        expect(await cache.apply(v, E('c', 30, 49))).toEqual(expect.objectContaining({ position: 0, total: 3, seq: s0 + 1 }));
        expect(await cache.standing(v, 'c')).toBeUndefined();
        // A later credit brings them back.
        expect(await cache.apply(v, E('c', 5, 51))).toEqual(expect.objectContaining({ position: 4, score: 5, seq: s0 + 2 }));
      });

      it('a zero score adds no entry', async () => {
        const v = V();
        await cache.rebuild(v, 1, FOUR);
        const s0 = (await cache.seq(v))!;
        expect(await cache.apply(v, E('n', 0, 30))).toEqual({ position: 0, competitionRank: 0, denseRank: 0, score: 0, total: 4, seq: s0 });
        expect(await cache.standing(v, 'n')).toBeUndefined();
        expect(await cache.seq(v)).toBe(s0);
        expect((await cache.all(v)).map((e) => e.playerId)).toEqual(['a', 'c', 'b', 'd']);
      });
    });

    describe('prefix seqs', () => {
      it('a change below rank k leaves the top-k seq alone; one inside moves it; page(0, n).seq === prefixSeqs[n - 1]', async () => {
        const v = V();
        await cache.rebuild(v, 1, [E('p1', 100, 1), E('p2', 90, 2), E('p3', 80, 3), E('p4', 70, 4), E('p5', 60, 5)]);
        const s0 = (await cache.seq(v))!;
        expect(await cache.page(v, 0, 5)).toEqual(expect.objectContaining({ seq: s0, total: 5, prefixSeqs: [s0, s0, s0, s0, s0] }));

        // A new sixth: top 5 unchanged, top 6 moves.
        await cache.apply(v, E('p6', 50, 6));
        expect((await cache.page(v, 0, 5))!.seq).toBe(s0);
        expect((await cache.page(v, 0, 5))!.prefixSeqs).toEqual([s0, s0, s0, s0, s0]);
        expect(await cache.page(v, 0, 6)).toEqual(expect.objectContaining({ seq: s0 + 1, prefixSeqs: [s0, s0, s0, s0, s0, s0 + 1] }));
        // A page with offset > 0 reports the view's seq, not a prefix.
        expect(await cache.page(v, 1, 2)).toEqual(expect.objectContaining({ seq: s0 + 1, prefixSeqs: [] }));

        // Rank 5 gains but stays 5th.
        await cache.apply(v, E('p5', 65, 7));
        expect((await cache.page(v, 0, 4))!.seq).toBe(s0);
        expect((await cache.page(v, 0, 5))!.seq).toBe(s0 + 2);
        expect((await cache.page(v, 0, 6))!.prefixSeqs).toEqual([s0, s0, s0, s0, s0 + 2, s0 + 2]);

        // Rank 4 jumps to 2nd: top 1 unchanged, top 2.. move.
        await cache.apply(v, E('p4', 95, 8));
        expect((await cache.page(v, 0, 1))!.seq).toBe(s0);
        expect((await cache.page(v, 0, 2))!.seq).toBe(s0 + 3);
        const full = (await cache.page(v, 0, 6))!;
        expect(full.prefixSeqs).toEqual([s0, s0 + 3, s0 + 3, s0 + 3, s0 + 3, s0 + 3]);
        for (let n = 1; n <= 6; n++) {
          const p = (await cache.page(v, 0, n))!;
          expect(p.seq).toBe(full.prefixSeqs[n - 1]);
          expect(p.prefixSeqs).toEqual(full.prefixSeqs.slice(0, n));
        }
        expect((await cache.page(v, 2, 2))!.seq).toBe(s0 + 3);
        expect(await cache.seq(v)).toBe(s0 + 3);

        // Bigger than tracked: prefixSeqs cover MAX_BOARD_SIZE ranks.
        const big = (await cache.page(v, 0, MAX_BOARD_SIZE + 50))!;
        expect(big.prefixSeqs).toHaveLength(MAX_BOARD_SIZE);
        expect(big.seq).toBe(big.prefixSeqs[MAX_BOARD_SIZE - 1]);
        expect(big.seq).toBe(s0 + 3);
        expect(big.entries).toHaveLength(6);
      });

      it('a page of n = 0 has no entries', async () => {
        const v = V();
        await cache.rebuild(v, 1, FOUR);
        const s0 = (await cache.seq(v))!;
        expect(await cache.page(v, 0, 0)).toEqual({ seq: s0, total: 4, entries: [], prefixSeqs: [] });
        expect(await cache.page(v, 2, 0)).toEqual({ seq: s0, total: 4, entries: [], prefixSeqs: [] });
      });
    });

    describe('around', () => {
      // p01 100 .. p10 10
      const TEN = Array.from({ length: 10 }, (_, i) => E(`p${String(i + 1).padStart(2, '0')}`, (10 - i) * 10, i + 1));
      const range = (from: number, to: number) => TEN.slice(from - 1, to).map((e) => e.playerId);

      it('middle, edges, oversize window, unknown player, zero-size window', async () => {
        const v = V();
        await cache.rebuild(v, 1, TEN);
        await cache.apply(v, E('p10', 10, 10)); // no change
        const s = (await cache.seq(v))!;
        const mid = (await cache.around(v, 'p05', 2, 2))!;
        expect(ids(mid)).toEqual(range(3, 7));
        expect(mid.entries.map((e) => e.position)).toEqual([3, 4, 5, 6, 7]);
        expect(mid).toEqual(expect.objectContaining({ seq: s, total: 10, prefixSeqs: [] }));
        // Top edge: shifted down to stay full.
        expect(ids(await cache.around(v, 'p02', 3, 1))).toEqual(range(1, 5));
        expect(ids(await cache.around(v, 'p01', 2, 2))).toEqual(range(1, 5));
        // Bottom edge: shifted up.
        expect(ids(await cache.around(v, 'p09', 1, 3))).toEqual(range(6, 10));
        expect(ids(await cache.around(v, 'p10', 0, 2))).toEqual(range(8, 10));
        expect((await cache.around(v, 'p10', 0, 2))!.entries.map((e) => e.position)).toEqual([8, 9, 10]);
        // Larger than the board.
        expect(ids(await cache.around(v, 'p05', 20, 20))).toEqual(range(1, 10));
        // No entry: the top.
        expect(ids(await cache.around(v, 'nobody', 1, 1))).toEqual(range(1, 3));
        expect(await cache.around(v, 'nobody', 1, 1)).toEqual(expect.objectContaining({ seq: s, total: 10 }));
        // Just the player.
        expect(ranks(await cache.around(v, 'p05', 0, 0))).toEqual([['p05', 5, 5, 5]]);
      });

      it('an empty warm view gives an empty window', async () => {
        const v = V();
        await cache.rebuild(v, 1, []);
        const s = (await cache.seq(v))!;
        expect(await cache.around(v, 'a', 1, 1)).toEqual({ seq: s, total: 0, entries: [], prefixSeqs: [] });
      });
    });

    describe('pagination', () => {
      it('page(offset, k) slices agree with one larger page', async () => {
        const v = V();
        const scores = [70, 70, 50, 50, 50, 30, 30, 10, 10, 10];
        await cache.rebuild(
          v,
          1,
          scores.map((s, i) => E(`q${i}`, s, 100 - i * 7)),
        );
        const full = (await cache.page(v, 0, 10))!;
        expect(full.entries).toHaveLength(10);
        expect(full.entries.map((e) => [e.competitionRank, e.denseRank])).toEqual([
          [1, 1],
          [1, 1],
          [3, 2],
          [3, 2],
          [3, 2],
          [6, 3],
          [6, 3],
          [8, 4],
          [8, 4],
          [8, 4],
        ]);
        for (let offset = 0; offset <= 10; offset++) {
          for (let k = 1; k <= 4; k++) {
            const p = (await cache.page(v, offset, k))!;
            expect(p.total).toBe(10);
            expect(p.entries).toEqual(full.entries.slice(offset, offset + k));
          }
        }
      });
    });

    describe('rebuild', () => {
      it('a higher epoch gives a seq above any before; a stale epoch never lowers it', async () => {
        const v = V();
        await cache.rebuild(v, 1, [E('a', 10, 1)]);
        await cache.apply(v, E('b', 20, 2));
        await cache.apply(v, E('c', 30, 3));
        const s1 = (await cache.seq(v))!;
        await cache.rebuild(v, 2, [E('a', 10, 1)]);
        const s2 = (await cache.seq(v))!;
        expect(s2).toBeGreaterThan(s1);
        expect(s2).toBeGreaterThan(BASE(2));
        expect(s2).toBeLessThan(BASE(3));
        const top = (await cache.page(v, 0, 3))!;
        expect(top.seq).toBe(s2);
        expect(Math.min(...top.prefixSeqs)).toBeGreaterThan(s1);
        // The truth replaces what was cached.
        expect(ids(top)).toEqual(['a']);
        await cache.rebuild(v, 1, [E('a', 10, 1)]);
        expect(await cache.seq(v)).toBeGreaterThan(s2);
        expect(await cache.apply(v, E('d', 5, 4))).toEqual(expect.objectContaining({ seq: (await cache.seq(v))! }));
      });

      it('seqs stay exact with a large epoch', async () => {
        const v = V();
        const epoch = 1_000_000; // seq ~ 4.3e15, still an exact integer
        await cache.rebuild(v, epoch, FOUR);
        const s0 = (await cache.seq(v))!;
        expect(s0).toBeGreaterThan(BASE(epoch));
        expect(s0).toBeLessThan(BASE(epoch) + 10);
        expect(await cache.apply(v, E('e', 20, 30))).toEqual({ position: 4, competitionRank: 4, denseRank: 3, score: 20, total: 5, seq: s0 + 1 });
        expect(await cache.page(v, 0, 5)).toEqual(expect.objectContaining({ seq: s0 + 1, prefixSeqs: [s0, s0, s0, s0 + 1, s0 + 1] }));
        expect(await cache.seq(v)).toBe(s0 + 1);
        await cache.rebuild(v, epoch + 1, []);
        expect(await cache.seq(v)).toBeGreaterThan(BASE(epoch + 1));
      });

      it('replaces the view with the truth: extra, higher or lower cached entries (a tampered cache) are gone', async () => {
        const v = V();
        await cache.rebuild(v, 1, [E('a', 10, 1), E('b', 20, 2)]);
        await cache.apply(v, E('fake', 9999, 5));
        await cache.apply(v, E('a', 50, 6));
        await cache.rebuild(v, 2, [E('a', 40, 4), E('b', 20, 2), E('c', 30, 3)]);
        expect(await cache.all(v)).toEqual([E('a', 40, 4), E('c', 30, 3), E('b', 20, 2)]);
        expect(ranks(await cache.page(v, 0, 3))).toEqual([
          ['a', 1, 1, 1],
          ['c', 2, 2, 2],
          ['b', 3, 3, 3],
        ]);
      });

      it('keeps what changed after beginRebuild: states newer than the truth read, and removals', async () => {
        const v = V();
        await cache.rebuild(v, 1, [E('a', 10, 1), E('b', 20, 2), E('c', 30, 3)]);
        const token = await cache.beginRebuild(v);
        // Committed and applied while the truth was being read (the read missed them).
        await cache.apply(v, E('a', 70, 10));
        await cache.apply(v, E('n', 5, 11));
        await cache.apply(v, E('c', 0, 12));
        await cache.rename('b', 'Bea');
        await cache.rebuild(v, 2, [E('a', 10, 1), E('b', 20, 2), E('c', 30, 3), E('o', 1, 4)], null, token);
        expect(await cache.all(v)).toEqual([E('a', 70, 10), E('b', 20, 2, 'Bea'), E('n', 5, 11), E('o', 1, 4)]);
        expect(await cache.apply(v, E('c', 30, 3))).toEqual(expect.objectContaining({ position: 0 }));
      });

      it('on a cold view with a rebuild under way, apply answers null and its state is carried into the swap (score, removal, late older state)', async () => {
        const v = V();
        const token = await cache.beginRebuild(v);
        // Committed while the truth was read, after the read passed these players: the truth misses them.
        expect(await cache.apply(v, E('a', 70, 10))).toBeNull();
        expect(await cache.apply(v, E('n', 5, 11))).toBeNull();
        expect(await cache.apply(v, E('c', 0, 12))).toBeNull();
        // An older state arriving late changes nothing.
        expect(await cache.apply(v, E('n', 3, 9))).toBeNull();
        // Still cold, nothing readable: the staged states are no board.
        expect(await cache.seq(v)).toBeNull();
        expect(await cache.page(v, 0, 10)).toBeNull();
        expect(await cache.standing(v, 'a')).toBeNull();
        await cache.rebuild(v, 1, [E('a', 10, 1), E('b', 20, 2), E('c', 30, 3)], null, token);
        expect(await cache.all(v)).toEqual([E('a', 70, 10), E('b', 20, 2), E('n', 5, 11)]);
        expect(await cache.standing(v, 'a')).toEqual(expect.objectContaining({ position: 1, score: 70, total: 3 }));
        expect((await cache.seq(v))!).toBeGreaterThan(BASE(1));
      });

      it('the truth may come in chunks (an async iterable), as a large board is read', async () => {
        const v = V();
        async function* chunks() {
          yield [E('a', 10, 1), E('b', 20, 2)];
          yield [];
          yield [E('c', 30, 3), E('z', 0, 4)];
        }
        await cache.rebuild(v, 1, chunks());
        expect(await cache.all(v)).toEqual([E('c', 30, 3), E('b', 20, 2), E('a', 10, 1)]);
        expect((await cache.page(v, 0, 10))!.total).toBe(3);
      });

      it('a rebuild never shows a partial board: the old one stays readable, with its seq, until the swap', async () => {
        const v = V();
        await cache.rebuild(v, 1, [E('a', 10, 1)]);
        const s1 = (await cache.seq(v))!;
        const token = await cache.beginRebuild(v);
        const many = Array.from({ length: 1_200 }, (_, i) => E(`m${i}`, 1 + (i % 37), i + 1));
        let finished = false;
        const done = cache.rebuild(v, 2, many, null, token).then(() => (finished = true));
        const seen = new Set<string>();
        while (!finished) {
          const p = (await cache.page(v, 0, 1))!;
          seen.add(`${p.total}@${p.seq > s1 ? 'new' : p.seq === s1 ? 'old' : 'lower'}`);
        }
        await done;
        seen.delete('1@old');
        expect([...seen].filter((x) => x !== '1200@new')).toEqual([]);
        expect((await cache.page(v, 0, 1))!.total).toBe(1_200);
        expect((await cache.seq(v))!).toBeGreaterThan(BASE(2));
      });

      it('entries with score 0 are not added (and do not touch an existing entry)', async () => {
        const v = V();
        await cache.rebuild(v, 1, [E('a', 10, 1), E('z', 0, 0)]);
        expect(await cache.all(v)).toEqual([E('a', 10, 1)]);
        expect(await cache.standing(v, 'z')).toBeUndefined();
        expect((await cache.page(v, 0, 10))!.total).toBe(1);
        await cache.rebuild(v, 2, [E('a', 0, 0, 'zero-name')]);
        expect(await cache.all(v)).toEqual([]);
      });

      it('a cold view is not warm (no partial board) until its rebuild has finished', async () => {
        const v = V();
        const many = Array.from({ length: 1_200 }, (_, i) => E(`m${i}`, 1 + (i % 37), i + 1));
        let finished = false;
        const done = cache.rebuild(v, 1, many).then(() => (finished = true));
        // Assert only once the rebuild is done (no write may land after cleanup).
        const totals = new Set<number | null>();
        let listedWhileCold = false;
        while (!finished) {
          // Listed first, then read: a view, once warm, stays warm, so "listed, then cold" is a real
          // violation (the other order raced with a swap finishing between the two calls).
          const listed = (await cache.warmViews()).length > 0;
          const p = await cache.page(v, 0, 1);
          totals.add(p === null ? null : p.total);
          if (p === null && listed) listedWhileCold = true;
        }
        await done;
        expect(listedWhileCold).toBe(false);
        totals.delete(null);
        expect([...totals]).toEqual(totals.size ? [1_200] : []);
        expect((await cache.page(v, 0, 1))!.total).toBe(1_200);
      });

      it('an empty rebuild warms the view', async () => {
        const v = V();
        await cache.rebuild(v, 1, []);
        const s = (await cache.seq(v))!;
        expect(s).toBeGreaterThan(BASE(1));
        expect(await cache.page(v, 0, 10)).toEqual(expect.objectContaining({ seq: s, total: 0, entries: [] }));
        expect(await cache.standing(v, 'a')).toBeUndefined();
        expect(await cache.warmViews()).toEqual([v]);
        expect(await cache.apply(v, E('a', 10, 1))).toEqual({ position: 1, competitionRank: 1, denseRank: 1, score: 10, total: 1, seq: s + 1 });
      });
    });

    describe('hidden players (hide / show)', () => {
      it('hide takes a player off a warm view (positions close up, seq and the top-k seqs from their rank move); show puts them back exactly', async () => {
        const v = V();
        await cache.rebuild(v, 1, FOUR); // a, c, b, d
        const s0 = (await cache.seq(v))!;
        const before = await cache.page(v, 0, 4);
        expect(await cache.hide(v, 'c')).toBe(true);
        const hidden = (await cache.page(v, 0, 4))!;
        expect(ranks(hidden)).toEqual([
          ['a', 1, 1, 1],
          ['b', 2, 2, 2],
          ['d', 3, 3, 3],
        ]);
        expect(hidden.prefixSeqs).toEqual([s0, s0 + 1, s0 + 1, s0 + 1]);
        expect(await cache.standing(v, 'c')).toBeUndefined();
        // Hidden: their newer states are held off, and a second hide changes nothing.
        expect(await cache.apply(v, E('c', 90, 30))).toEqual(expect.objectContaining({ position: 0, total: 3, seq: s0 + 1 }));
        expect(await cache.hide(v, 'c')).toBe(false);
        expect(await cache.seq(v)).toBe(s0 + 1);
        expect(await cache.show(v, 'c', E('c', 30, 4))).toBe(true);
        const shown = (await cache.page(v, 0, 4))!;
        expect(shown.entries).toEqual(before!.entries);
        expect(shown.seq).toBe(s0 + 2);
        // show of a player who is not hidden changes nothing.
        expect(await cache.show(v, 'a', E('a', 1, 99))).toBe(false);
        expect((await cache.standing(v, 'a'))!.score).toBe(50);
      });

      it('hide on a cold view keeps the player out of its rebuild; show lifts that', async () => {
        const v = V();
        expect(await cache.hide(v, 'b')).toBe(false);
        expect(await cache.page(v, 0, 1)).toBeNull();
        await cache.rebuild(v, 1, FOUR);
        expect(ids(await cache.page(v, 0, 10))).toEqual(['a', 'c', 'd']);
        expect(await cache.show(v, 'b', E('b', 30, 7))).toBe(true);
        expect(ids(await cache.page(v, 0, 10))).toEqual(['a', 'c', 'b', 'd']);
      });

      it('a hide during a rebuild wins over the truth read before it; a show during one is carried over', async () => {
        const v = V();
        await cache.rebuild(v, 1, FOUR);
        await cache.hide(v, 'd');
        const token = await cache.beginRebuild(v);
        await cache.hide(v, 'a');
        await cache.show(v, 'd', E('d', 10, 2));
        await cache.rebuild(v, 2, [E('a', 50, 1), E('b', 30, 7), E('c', 30, 4)], null, token);
        expect(ids(await cache.page(v, 0, 10))).toEqual(['c', 'b', 'd']);
      });
    });

    describe('rename', () => {
      it('renames on warm views only; a real change moves seq and the top-k seqs from the rank; the same name changes nothing', async () => {
        const v = V();
        const cold = V(null, 'daily');
        await cache.rebuild(v, 1, FOUR);
        const s0 = (await cache.seq(v))!;
        await cache.rename('b', 'Bea');
        expect(await cache.seq(v)).toBe(s0 + 1);
        const top = (await cache.page(v, 0, 4))!;
        expect(top.entries.map((e) => e.username)).toEqual(['a-name', 'c-name', 'Bea', 'd-name']);
        expect(top.prefixSeqs).toEqual([s0, s0, s0 + 1, s0 + 1]);
        await cache.rename('b', 'Bea');
        await cache.rename('nobody', 'X');
        expect(await cache.seq(v)).toBe(s0 + 1);
        expect(await cache.seq(cold)).toBeNull();
        expect(await cache.warmViews()).toEqual([v]);
      });
    });

    describe('entries (point reads for reconcile)', () => {
      it('null when cold; otherwise each asked player as all() reports them, undefined without an entry, in the order asked', async () => {
        const v = V();
        expect(await cache.entries(v, ['a'])).toBeNull();
        await cache.rebuild(v, 1, FOUR);
        const all = new Map((await cache.all(v)).map((e) => [e.playerId, e]));
        expect(await cache.entries(v, ['d', 'zz', 'a'])).toEqual([all.get('d'), undefined, all.get('a')]);
        expect(await cache.entries(v, ['d'])).toEqual([E('d', 10, 2)]);
        // What repair compares against: a renamed, then voided-to-zero player.
        await cache.rename('d', 'Dee');
        expect(await cache.entries(v, ['d'])).toEqual([E('d', 10, 2, 'Dee')]);
        await cache.apply(v, E('d', 0, 9));
        expect(await cache.entries(v, ['d', 'c'])).toEqual([undefined, E('c', 30, 4)]);
        // Hidden players are on no board.
        await cache.hide(v, 'c');
        expect(await cache.entries(v, ['c'])).toEqual([undefined]);
      });
    });

    describe('repair', () => {
      it('applies only when the current entry equals `seen`', async () => {
        const v = V();
        await cache.rebuild(v, 1, FOUR);
        const s0 = (await cache.seq(v))!;
        const before = await cache.all(v);
        const truth = E('b', 10, 12);
        expect(await cache.repair(v, E('b', 20, 7), truth)).toBe(false); // score differs
        expect(await cache.repair(v, E('b', 30, 6), truth)).toBe(false); // reachedSeq differs
        expect(await cache.repair(v, E('b', 30, 7, 'someone'), truth)).toBe(false); // name differs
        expect(await cache.repair(v, undefined, truth)).toBe(false); // b has an entry
        expect(await cache.repair(v, E('zz', 5, 1), E('zz', 6, 2))).toBe(false); // zz has none
        expect(await cache.seq(v)).toBe(s0);
        expect(await cache.all(v)).toEqual(before);
        expect(await cache.repair(v, E('b', 30, 7), truth)).toBe(true);
        expect(await cache.seq(v)).toBe(s0 + 1);
        // A repair is visible from the top.
        expect((await cache.page(v, 0, 1))!.seq).toBe(s0 + 1);
        // `seen` is now stale.
        expect(await cache.repair(v, E('b', 30, 7), E('b', 30, 7))).toBe(false);
      });

      it('lowers drifted scores and keeps competition/dense ranks consistent', async () => {
        const v = V();
        await cache.rebuild(v, 1, FOUR);
        const s0 = (await cache.seq(v))!;
        expect(await cache.repair(v, E('b', 30, 7), E('b', 10, 12))).toBe(true);
        expect(ranks(await cache.page(v, 0, 10))).toEqual([
          ['a', 1, 1, 1],
          ['c', 2, 2, 2],
          ['d', 3, 3, 3],
          ['b', 4, 3, 3],
        ]);
        expect(await cache.standing(v, 'b')).toEqual({ position: 4, competitionRank: 3, denseRank: 3, score: 10, total: 4, seq: s0 + 1 });
        // The last 30 goes: 30 is no longer a distinct score.
        expect(await cache.repair(v, E('c', 30, 4), E('c', 5, 13))).toBe(true);
        expect(ranks(await cache.page(v, 0, 10))).toEqual([
          ['a', 1, 1, 1],
          ['d', 2, 2, 2],
          ['b', 3, 2, 2],
          ['c', 4, 4, 3],
        ]);
        expect(ranks(await cache.page(v, 2, 2))).toEqual([
          ['b', 3, 2, 2],
          ['c', 4, 4, 3],
        ]);
        expect(await cache.standing(v, 'c')).toEqual({ position: 4, competitionRank: 4, denseRank: 3, score: 5, total: 4, seq: s0 + 2 });
        expect(ranks(await cache.around(v, 'c', 0, 0))).toEqual([['c', 4, 4, 3]]);
        // A later apply back to 30 makes 30 distinct again, once.
        expect(await cache.apply(v, E('c', 30, 14))).toEqual({ position: 2, competitionRank: 2, denseRank: 2, score: 30, total: 4, seq: s0 + 3 });
        expect(await cache.apply(v, E('d', 30, 15))).toEqual({ position: 3, competitionRank: 2, denseRank: 2, score: 30, total: 4, seq: s0 + 4 });
        expect(ranks(await cache.page(v, 0, 10))).toEqual([
          ['a', 1, 1, 1],
          ['c', 2, 2, 2],
          ['d', 3, 2, 2],
          ['b', 4, 4, 3],
        ]);
      });

      it('removes an entry when the truth is 0, and adds a missing one', async () => {
        const v = V();
        await cache.rebuild(v, 1, FOUR);
        const s0 = (await cache.seq(v))!;
        expect(await cache.repair(v, E('a', 50, 1), E('a', 0, 0))).toBe(true);
        expect(await cache.standing(v, 'a')).toBeUndefined();
        expect(await cache.seq(v)).toBe(s0 + 1);
        expect(ranks(await cache.page(v, 0, 10))).toEqual([
          ['c', 1, 1, 1],
          ['b', 2, 1, 1],
          ['d', 3, 3, 2],
        ]);
        expect((await cache.all(v)).map((e) => e.playerId)).toEqual(['c', 'b', 'd']);
        expect(await cache.repair(v, undefined, E('f', 20, 14))).toBe(true);
        expect(await cache.standing(v, 'f')).toEqual({ position: 3, competitionRank: 3, denseRank: 2, score: 20, total: 4, seq: s0 + 2 });
        expect(ranks(await cache.page(v, 0, 10))).toEqual([
          ['c', 1, 1, 1],
          ['b', 2, 1, 1],
          ['f', 3, 3, 2],
          ['d', 4, 4, 3],
        ]);
        // The removed player's 50 is not a distinct score any more.
        expect(await cache.apply(v, E('g', 40, 15))).toEqual({ position: 1, competitionRank: 1, denseRank: 1, score: 40, total: 5, seq: s0 + 3 });
      });

      it('replaces a drifted name (same score)', async () => {
        const v = V();
        await cache.rebuild(v, 1, FOUR);
        const s0 = (await cache.seq(v))!;
        expect(await cache.repair(v, E('d', 10, 2), E('d', 10, 2, 'Dee'))).toBe(true);
        expect(await cache.seq(v)).toBe(s0 + 1);
        expect((await cache.all(v)).at(-1)).toEqual(E('d', 10, 2, 'Dee'));
        expect(await cache.standing(v, 'd')).toEqual({ position: 4, competitionRank: 4, denseRank: 3, score: 10, total: 4, seq: s0 + 1 });
      });

      it('does nothing on a cold view', async () => {
        const v = V();
        expect(await cache.repair(v, undefined, E('a', 10, 1))).toBe(false);
        expect(await cache.seq(v)).toBeNull();
        expect(await cache.all(v)).toEqual([]);
        await cache.rebuild(v, 1, []);
        expect(await cache.all(v)).toEqual([]);
      });
    });

    describe('rename', () => {
      it('renames on every warm view holding the player and moves only those seqs', async () => {
        const v1 = V(null, 'x');
        const v2 = V('a|b', 'y');
        const v3 = V(null, 'z');
        const cold = V(null, 'cold');
        await cache.rebuild(v1, 1, [E('a', 50, 1), E('b', 30, 2), E('c', 10, 3)]);
        await cache.rebuild(v2, 1, [E('b', 90, 1), E('a', 10, 2)]);
        await cache.rebuild(v3, 1, [E('c', 5, 1)]);
        const [s1, s2, s3] = [(await cache.seq(v1))!, (await cache.seq(v2))!, (await cache.seq(v3))!];
        await cache.rename('b', 'Bob');
        expect(await cache.seq(v1)).toBe(s1 + 1);
        expect(await cache.seq(v2)).toBe(s2 + 1);
        expect(await cache.seq(v3)).toBe(s3);
        expect(await cache.seq(cold)).toBeNull();
        // b is 2nd on v1: the top 1 is unchanged, the top 2 moves; 1st on v2.
        expect((await cache.page(v1, 0, 1))!.seq).toBe(s1);
        expect((await cache.page(v1, 0, 2))!.seq).toBe(s1 + 1);
        expect((await cache.page(v1, 0, 3))!.prefixSeqs).toEqual([s1, s1 + 1, s1 + 1]);
        expect((await cache.page(v2, 0, 1))!.seq).toBe(s2 + 1);
        const names = (p: BoardPage | null) => p!.entries.map((e) => e.username);
        expect(names(await cache.page(v1, 0, 3))).toEqual(['a-name', 'Bob', 'c-name']);
        expect(names(await cache.page(v2, 0, 3))).toEqual(['Bob', 'a-name']);
        expect(names(await cache.page(v1, 1, 1))).toEqual(['Bob']);
        expect(names(await cache.around(v1, 'b', 0, 0))).toEqual(['Bob']);
        expect(await cache.all(v1)).toEqual([E('a', 50, 1), E('b', 30, 2, 'Bob'), E('c', 10, 3)]);
        expect(await cache.all(v2)).toEqual([E('b', 90, 1, 'Bob'), E('a', 10, 2)]);
        expect(await cache.all(v3)).toEqual([E('c', 5, 1)]);
        // Ranks and scores are untouched.
        expect(ranks(await cache.page(v1, 0, 3))).toEqual([
          ['a', 1, 1, 1],
          ['b', 2, 2, 2],
          ['c', 3, 3, 3],
        ]);
        // Same name again, or an unknown player: nothing moves.
        await cache.rename('b', 'Bob');
        await cache.rename('nobody', 'Nemo');
        expect([await cache.seq(v1), await cache.seq(v2), await cache.seq(v3)]).toEqual([s1 + 1, s2 + 1, s3]);
        expect(await cache.seq(cold)).toBeNull();
        expect(byViewId(await cache.warmViews())).toEqual(byViewId([v1, v2, v3]));
        // A rename below the top k leaves that top alone.
        await cache.rename('c', 'Cee');
        expect((await cache.page(v1, 0, 2))!.seq).toBe(s1 + 1);
        expect((await cache.page(v1, 0, 3))!.seq).toBe(s1 + 2);
        expect((await cache.page(v3, 0, 1))!.seq).toBe(s3 + 1);
        // A later newer apply carries its own name.
        expect(await cache.apply(v1, E('b', 60, 4, 'Bobby'))).toEqual(expect.objectContaining({ position: 1, seq: s1 + 3 }));
        expect((await cache.page(v1, 0, 1))!.entries[0]).toEqual(expect.objectContaining({ playerId: 'b', username: 'Bobby' }));
      });
    });

    describe('expiry', () => {
      const AHEAD = 1_000;

      it('apply(..., expireAtMs): afterwards the view is cold and leaves warmViews; others stay warm', async () => {
        const v = V(null, 'finished');
        const w = V(null, 'running');
        await cache.rebuild(v, 1, [E('a', 10, 1)]);
        await cache.rebuild(w, 1, [E('b', 10, 1)]);
        const at = h.clock.now() + AHEAD;
        const s0 = (await cache.seq(v))!;
        expect(await cache.apply(v, E('c', 5, 2), at)).toEqual({ position: 2, competitionRank: 2, denseRank: 2, score: 5, total: 2, seq: s0 + 1 });
        await h.clock.passTo(at);
        await eventually(async () => (await cache.seq(v)) === null, 'view expired');
        expect(await cache.page(v, 0, 10)).toBeNull();
        expect(await cache.around(v, 'a', 1, 1)).toBeNull();
        expect(await cache.standing(v, 'a')).toBeNull();
        expect(await cache.apply(v, E('a', 20, 3))).toBeNull();
        expect(await cache.all(v)).toEqual([]);
        expect(await cache.warmViews()).toEqual([w]);
        expect(await cache.all(w)).toEqual([E('b', 10, 1)]);
      });

      it('rebuild(..., expireAtMs): afterwards the view is cold, and a new rebuild starts clean', async () => {
        const v = V(null, 'finished');
        const at = h.clock.now() + AHEAD;
        await cache.rebuild(v, 1, [E('a', 10, 1)], at);
        const s1 = (await cache.seq(v))!;
        // The sole entry goes and another comes without an expiry of its own: it still expires with the view.
        expect(await cache.repair(v, E('a', 10, 1), E('a', 0, 0))).toBe(true);
        expect(await cache.apply(v, E('b', 20, 2))).toEqual(expect.objectContaining({ position: 1, total: 1 }));
        expect(await cache.warmViews()).toEqual([v]);
        await h.clock.passTo(at);
        await eventually(async () => (await cache.warmViews()).length === 0, 'view left warmViews');
        expect(await cache.seq(v)).toBeNull();
        expect(await cache.standing(v, 'b')).toBeNull();
        await cache.rebuild(v, 2, [E('c', 30, 3)]);
        expect(await cache.all(v)).toEqual([E('c', 30, 3)]);
        expect(await cache.seq(v)).toBeGreaterThan(s1);
        expect(ranks(await cache.page(v, 0, 10))).toEqual([['c', 1, 1, 1]]);
      });

      it('an expired view that nobody read is not merged into the next rebuild', async () => {
        const v = V(null, 'finished');
        const at = h.clock.now() + AHEAD;
        await cache.rebuild(v, 1, [E('a', 10, 1)], at);
        await h.clock.passTo(at);
        await cache.rebuild(v, 2, [E('c', 30, 3)]);
        expect(await cache.all(v)).toEqual([E('c', 30, 3)]);
      });

      it('a rebuild without an expiry keeps the whole view warm', async () => {
        const v = V(null, 'reopened');
        const at = h.clock.now() + AHEAD;
        await cache.rebuild(v, 1, [E('a', 10, 1)], at);
        await cache.rebuild(v, 2, [E('b', 20, 2), E('a', 10, 1)], null);
        await h.clock.passTo(at);
        expect(await cache.seq(v)).not.toBeNull();
        expect(await cache.all(v)).toEqual([E('b', 20, 2), E('a', 10, 1)]);
        expect(ranks(await cache.page(v, 0, 10))).toEqual([
          ['b', 1, 1, 1],
          ['a', 2, 2, 2],
        ]);
        expect(await cache.warmViews()).toEqual([v]);
      });
    });

    describe('all', () => {
      it('returns every entry, in order, with names', async () => {
        const v = V();
        expect(await cache.all(v)).toEqual([]);
        await cache.rebuild(v, 1, FOUR);
        await cache.apply(v, E('e', 40, 20, 'Eve'));
        await cache.rename('d', 'Dan');
        expect(await cache.all(v)).toEqual([E('a', 50, 1), E('e', 40, 20, 'Eve'), E('c', 30, 4), E('b', 30, 7), E('d', 10, 2, 'Dan')]);
      });
    });
  });
}

// ---- the implementations ----

contract('MemoryRankingCache', async () => {
  let t = 1_764_500_000_000;
  return {
    cache: new MemoryRankingCache(() => t),
    clock: {
      now: () => t,
      async passTo(ms) {
        t = Math.max(t, ms + 1);
      },
    },
    async cleanup() {},
  };
});

const redisUp = await (async () => {
  const probe = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => {});
  try {
    await probe.connect();
    await probe.ping();
    return true;
  } catch (error) {
    if (realRequired) throw new Error(`REQUIRE_REAL_BACKENDS=1 but Redis is not reachable: ${(error as Error).message}`, { cause: error });
    console.warn(`Redis not reachable at ${REDIS_URL}; the Redis ranking cache contract is left out.`);
    return false;
  } finally {
    probe.disconnect();
  }
})();

if (redisUp) {
  contract('RedisRankingCache', async () => {
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    const prefix = `sbtest:ranking-contract:${randomBytes(8).toString('hex')}:`;
    return {
      cache: new RedisRankingCache(redis, prefix),
      clock: {
        now: () => Date.now(),
        // Real time: wait (bounded) until the wall clock Redis also uses is past the expiry.
        async passTo(ms) {
          await eventually(async () => Date.now() > ms + 5, `clock past ${ms}`);
        },
      },
      async cleanup() {
        try {
          const keys: string[] = [];
          for await (const batch of redis.scanStream({ match: `${prefix}*`, count: 500 })) keys.push(...(batch as string[]));
          if (keys.length) await redis.del(...keys);
        } finally {
          redis.disconnect();
        }
      },
    };
  });

  // Redis only: drift edited straight into Redis (what reconcile exists for). Not part of
  // the shared contract, since the in-process cache cannot be edited behind its back.
  describe('RedisRankingCache: drift edited into Redis', () => {
    it('a repaired tampered entry leaves no ghost distinct score behind (dense ranks stay right)', async () => {
      const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
      const prefix = `sbtest:ranking-contract:${randomBytes(8).toString('hex')}:`;
      try {
        const cache = new RedisRankingCache(redis, prefix);
        const v = V();
        await cache.rebuild(v, 1, [E('a', 50, 1), E('b', 30, 2), E('c', 10, 3)]);
        // Someone claims 999,970 more points for b in the board set only.
        await redis.zincrby(`${prefix}v:{${viewId(v)}}:z`, -999_970, `${'2'.padStart(20, '0')}:b`);
        const seen = (await cache.all(v)).find((e) => e.playerId === 'b')!;
        expect(seen).toEqual(E('b', 1_000_000, 2));
        expect(await cache.repair(v, seen, E('b', 30, 2))).toBe(true);
        expect(ranks(await cache.page(v, 0, 3))).toEqual([
          ['a', 1, 1, 1],
          ['b', 2, 2, 2],
          ['c', 3, 3, 3],
        ]);
        // b moves on: 30 is held by nobody, so c is dense 3, not 4.
        await cache.apply(v, E('b', 40, 4));
        expect(ranks(await cache.page(v, 0, 3))).toEqual([
          ['a', 1, 1, 1],
          ['b', 2, 2, 2],
          ['c', 3, 3, 3],
        ]);
        expect(await cache.standing(v, 'c')).toEqual(expect.objectContaining({ position: 3, competitionRank: 3, denseRank: 3 }));
      } finally {
        const keys: string[] = [];
        for await (const batch of redis.scanStream({ match: `${prefix}*`, count: 500 })) keys.push(...(batch as string[]));
        if (keys.length) await redis.del(...keys);
        redis.disconnect();
      }
    });
  });
}
