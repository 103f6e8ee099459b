import { expect, it } from 'vitest';
import { MyStandingChangedDocument, UpsertActionTypeDocument, UpsertBoardDocument, type MyStandingChangedSubscription, type RankMode } from '../../sdk/generated/graphql.js';
import { collect, expectNoGraphQLErrors, waitFor, type Instance } from '../support/app.js';
import { issue, submit } from '../support/play.js';
import { describeBackends, type Fixture } from '../support/suite.js';

/**
 * myStandingChanged: the current standing first, then an event whenever the
 * viewer's rank changes (passed by others, their own climb), none when a change
 * leaves it alone, across instances; and the server re-reads only the
 * subscribers a move can affect. Each test plays on its own board (its own
 * action type), so nothing else moves it. On the real backend subscriptions
 * live on instance 1 and every action is submitted on instance 0.
 */

let unique = 0;
const uid = (prefix: string) => `${prefix}-${process.pid}-${++unique}`;
type Change = MyStandingChangedSubscription['myStandingChanged'];

async function arena(f: Fixture) {
  const op = await f.operator();
  const type = uid('T').toUpperCase().replace(/-/g, '_');
  expectNoGraphQLErrors(await f.app.gql(UpsertActionTypeDocument, { input: { code: type, points: 10 } }, op.token));
  const board = uid('duel');
  expectNoGraphQLErrors(await f.app.gql(UpsertBoardDocument, { input: { id: board, window: 'ALL_TIME', actionTypes: [type] } }, op.token));
  return {
    board,
    /** `n` actions for a player, submitted on instance 0. */
    async play(token: string, n = 1) {
      for (let i = 0; i < n; i++) await submit(f.at(0), token, await issue(f.at(0), token, type));
    },
  };
}

/** A live subscription on `on`, resolved once its first event (the current standing) arrived. */
async function watch(on: Instance, token: string, board: string, rankMode: RankMode = 'ORDINAL') {
  const sub = collect(on.ws(token), MyStandingChangedDocument, { board, rankMode });
  await waitFor(() => sub.events.length >= 1 || sub.errors.length > 0, 10_000, 'the current standing');
  expect(sub.errors).toEqual([]);
  return {
    changes: () => sub.events.map((e) => e.myStandingChanged),
    async next(count: number, what: string) {
      await waitFor(() => sub.events.length >= count, 10_000, what);
      return sub.events[count - 1]!.myStandingChanged;
    },
  };
}

const brief = (c: Change) => ({ rank: c.standing?.rank ?? null, previousRank: c.previousRank, overtakenBy: c.overtakenBy.map((p) => p.id) });

describeBackends(
  'myStandingChanged',
  (f) => {
    const live = () => f.at(1);

    it('the first event is the current standing (null without an entry); without a JWT it is UNAUTHENTICATED', async () => {
      const { board, play } = await arena(f);
      const a = await f.player('ann');
      const fresh = await f.player('fresh');
      await play(a.token, 2);
      const first = (await watch(live(), a.token, board)).changes()[0]!;
      expect(first.standing).toMatchObject({ board: { id: board }, rank: 1, position: 1, score: 20, totalPlayers: 1 });
      expect(first.previousRank).toBeNull();
      expect(first.overtakenBy).toEqual([]);
      expect(first.seq).toBeGreaterThan(0);
      const none = (await watch(live(), fresh.token, board)).changes()[0]!;
      expect(none.standing).toBeNull();

      const anonymous = collect(live().ws(), MyStandingChangedDocument, { board });
      await waitFor(() => anonymous.errors.length > 0 || anonymous.isCompleted(), 10_000, 'the refusal');
      expect(JSON.stringify(anonymous.errors)).toContain('UNAUTHENTICATED');
      expect(anonymous.events).toEqual([]);
    });

    it('being passed gives rank + 1, previousRank and overtakenBy with the passer; your own climb gives an event', async () => {
      const { board, play } = await arena(f);
      const a = await f.player('anna');
      const b = await f.player('bert');
      await play(a.token, 2); // A 20
      await play(b.token, 1); // B 10
      const sub = await watch(live(), a.token, board);
      expect(brief(sub.changes()[0]!)).toEqual({ rank: 1, previousRank: null, overtakenBy: [] });

      await play(b.token, 1); // B 20: tied, A got there first: A stays first, no event
      await play(b.token, 1); // B 30: passes A
      const passed = await sub.next(2, 'being passed');
      expect(brief(passed)).toEqual({ rank: 2, previousRank: 1, overtakenBy: [b.id] });
      expect(passed.overtakenBy[0]!.username).toBe('bert');
      expect(passed.standing).toMatchObject({ score: 20, position: 2, totalPlayers: 2 });

      await play(a.token, 2); // A 40: climbs back
      const climbed = await sub.next(3, 'the climb');
      expect(brief(climbed)).toEqual({ rank: 1, previousRank: 2, overtakenBy: [] });
      expect(climbed.standing!.score).toBe(40);
      expect(sub.changes()).toHaveLength(3);
    });

    it('a change that leaves the rank alone gives no event, and costs no read: only subscribers between the two scores are re-read', async () => {
      const { board, play } = await arena(f);
      const a = await f.player('amy');
      const b = await f.player('ben');
      const below = await f.player('below');
      const leaders = await Promise.all(Array.from({ length: 8 }, (_, i) => f.player(`lead${i}`)));
      for (const [i, l] of leaders.entries()) await play(l.token, 6 + i); // 60..130
      await play(a.token, 3); // A 30
      await play(b.token, 1); // B 10
      const watchers = await Promise.all([a, ...leaders].map((p) => watch(live(), p.token, board)));
      const sub = watchers[0]!;
      expect(sub.changes()[0]!.standing!.rank).toBe(9);
      const reads = () => live().app.services.standingFeed.stats().reads;

      const before = reads();
      await play(below.token, 2); // a newcomer at 20: below A, nobody's rank changes
      await play(b.token, 1); // B 10 -> 20: below A
      // Then B passes A (20 -> 40): A is the only subscriber between the two scores.
      await play(b.token, 2);
      const passed = await sub.next(2, 'being passed');
      expect(brief(passed)).toEqual({ rank: 10, previousRank: 9, overtakenBy: [b.id] });
      // Exactly one re-read for these three moves: A's, for the last one. The eight leaders above cost nothing.
      expect(reads() - before).toBe(1);
      expect(sub.changes()).toHaveLength(2);
      for (const w of watchers.slice(1)) expect(w.changes()).toHaveLength(1);
    });

    it('works over server-sent events too, with the JWT in the Authorization header', async () => {
      const { board, play } = await arena(f);
      const a = await f.player('sse');
      await play(a.token, 1);
      const controller = new AbortController();
      const res = await fetch(`${live().url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${a.token}` },
        body: JSON.stringify({ query: `subscription { myStandingChanged(board: "${board}") { previousRank standing { rank score } } }` }),
        signal: controller.signal,
      });
      expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
      const reader = res.body!.getReader();
      let text = '';
      while (!text.includes('data:') || !text.split('data:')[1]!.includes('\n')) text += new TextDecoder().decode((await reader.read()).value);
      const first = JSON.parse(text.split('data:')[1]!.split('\n')[0]!);
      expect(first).toEqual({ data: { myStandingChanged: { previousRank: null, standing: { rank: 1, score: 10 } } } });
      controller.abort();
    });

    it('with period null it follows the current period: at the boundary the standing in the new period comes', async () => {
      const op = await f.operator();
      const lengthMs = 3_000;
      const anchorMs = Date.UTC(2026, 0, 1);
      const board = uid('rolling');
      expectNoGraphQLErrors(
        await f.app.gql(UpsertBoardDocument, { input: { id: board, window: 'CUSTOM', periodSeconds: lengthMs / 1000, anchor: new Date(anchorMs).toISOString() } }, op.token),
      );
      const a = await f.player('roller');
      // Early in a period, so the action lands in the period the subscription shows.
      await waitFor(() => (Date.now() - anchorMs) % lengthMs < lengthMs * 0.3, lengthMs * 2, 'the start of a period');
      const sub = await watch(live(), a.token, board);
      expect(sub.changes()[0]!.standing).toBeNull();
      await submit(f.at(0), a.token, await issue(f.at(0), a.token));
      const ranked = await sub.next(2, 'the first rank');
      expect(ranked.standing).toMatchObject({ rank: 1, score: 10 });
      const period = Number(ranked.standing!.period.key);
      // Then the boundary: nobody has an entry in the new period yet.
      const moved = await sub.next(3, 'the new period');
      expect(moved.standing).toBeNull();
      expect(moved.previousRank).toBe(1);
      expect(Date.now()).toBeGreaterThanOrEqual(anchorMs + (period + 1) * lengthMs);
    });

    it('ranks follow the rank mode: a tie reached later moves nobody, DENSE moves only on a new distinct score above', async () => {
      const { board, play } = await arena(f);
      const a = await f.player('ada');
      const [b, c, d] = await Promise.all(['bo', 'cy', 'di'].map((n) => f.player(n)));
      await play(a.token, 2); // A 20
      const competition = await watch(live(), a.token, board, 'COMPETITION');
      const dense = await watch(live(), a.token, board, 'DENSE');
      const ordinal = await watch(live(), a.token, board, 'ORDINAL');
      await play(b!.token, 2); // B 20: tied behind A (A got there first): no rank changes in any mode
      await play(b!.token, 1); // B 30: above A in every mode
      await play(c!.token, 3); // C 30: ties B above A: ORDINAL 3, COMPETITION 3, DENSE stays 2
      await play(d!.token, 4); // D 40: everyone's rank moves, DENSE too (a new distinct score)
      await ordinal.next(4, 'the ordinal events');
      await competition.next(4, 'the competition events');
      await dense.next(3, 'the dense events');
      const ranks = (w: Awaited<ReturnType<typeof watch>>) => w.changes().map((ch) => [ch.standing!.rank, ch.previousRank]);
      expect(ranks(ordinal)).toEqual([
        [1, null],
        [2, 1],
        [3, 2],
        [4, 3],
      ]);
      expect(ranks(competition)).toEqual([
        [1, null],
        [2, 1],
        [3, 2],
        [4, 3],
      ]);
      expect(ranks(dense)).toEqual([
        [1, null],
        [2, 1],
        [3, 2],
      ]);
      // C's pass is named to the ORDINAL and COMPETITION subscribers; the DENSE one saw no change then.
      expect(competition.changes()[2]!.overtakenBy.map((p) => p.id)).toEqual([c!.id]);
      expect(dense.changes()[2]!.overtakenBy.map((p) => p.id)).toEqual([c!.id, d!.id]);
    });

    it('overtakenBy lists up to five players who moved above since the previous event', async () => {
      const { board, play } = await arena(f);
      const a = await f.player('aim');
      const chasers = await Promise.all(Array.from({ length: 6 }, (_, i) => f.player(`chaser${i}`)));
      await play(a.token, 1); // A 10
      const sub = await watch(live(), a.token, board);
      for (const c of chasers) await play(c.token, 2); // each passes A
      await waitFor(() => sub.changes().at(-1)?.standing?.rank === 7, 10_000, 'the sixth pass');
      const events = sub.changes().slice(1);
      // Every event names its passers; together they are all six, each at most five per event.
      for (const e of events) expect(e.overtakenBy.length).toBeLessThanOrEqual(5);
      expect(new Set(events.flatMap((e) => e.overtakenBy.map((p) => p.id)))).toEqual(new Set(chasers.map((c) => c.id)));
      expect(events.map((e) => e.standing!.rank)).toEqual([...events.map((e) => e.standing!.rank)].sort((x, y) => x - y));
    });
  },
  { instances: 2, env: { RATE_LIMIT_ACTIONS_PER_HOUR: '100000' } },
);
