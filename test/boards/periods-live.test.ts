import { expect, it } from 'vitest';
import {
  BoardChangedDocument,
  HidePlayerDocument,
  MyStandingDocument,
  UnhidePlayerDocument,
  BoardDocument,
  BoardLeaderboardDocument,
  LeaderboardAroundDocument,
  PlayerStandingDocument,
  UpsertBoardDocument,
  type BoardChangedSubscription,
} from '../../sdk/generated/graphql.js';
import { finalizeDuePeriods } from '../../src/resolvers/boards/finalize.js';
import { collect, expectNoGraphQLErrors, waitFor } from '../support/app.js';
import { completeTask, issue, submit } from '../support/play.js';
import { describeBackends, type Fixture } from '../support/suite.js';

/**
 * Periods against the clock, with CUSTOM boards of a few seconds: the ticket's
 * issue time picks the period, `final` flips at endsAt + ticket TTL, live
 * subscribers roll over, and delivery is leading-edge. Expected period keys are
 * computed here from the anchor and the length, independently of the server.
 */

const ANCHOR_MS = Date.UTC(2026, 0, 1);
const TTL_SECONDS = 8;
let unique = 0;
const uid = (prefix: string) => `${prefix}-${process.pid}-${++unique}`;
const indexAt = (ms: number, lengthMs: number) => Math.floor((ms - ANCHOR_MS) / lengthMs);
const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { iat: number }; // v2 ticket: issue time in ms
type Board = BoardChangedSubscription['leaderboardChanged'];
const view = (b: Board) => ({ period: b.period.key, seq: b.seq, entries: b.entries.map((e) => `${e.position}:${e.player.id}:${e.score}`) });

async function customBoard(f: Fixture, periodSeconds: number) {
  const op = await f.operator();
  const id = uid('custom');
  expectNoGraphQLErrors(await f.app.gql(UpsertBoardDocument, { input: { id, window: 'CUSTOM', periodSeconds, anchor: new Date(ANCHOR_MS).toISOString() } }, op.token));
  return id;
}

/** Waits until the clock is early in a period (so the test's steps fit before its end), returns that period's index. */
async function startOfPeriod(lengthMs: number, within = 0.3) {
  return waitFor(
    () => {
      const into = (Date.now() - ANCHOR_MS) % lengthMs;
      return into < lengthMs * within ? indexAt(Date.now(), lengthMs) + 1 : false;
    },
    lengthMs * 2,
    'the start of a period',
  ).then((i) => i - 1);
}

describeBackends(
  'periods',
  (f) => {
    it('a ticket issued before a boundary and redeemed after it counts in the earlier period, once; final flips at endsAt + TTL', async () => {
      const lengthMs = 3_000;
      const id = await customBoard(f, lengthMs / 1000);
      const p = await f.player('boundary');
      await startOfPeriod(lengthMs);
      const ticket = await issue(f.app, p.token);
      const issuedAt = claims(ticket.token).iat;
      const expected = indexAt(issuedAt, lengthMs);
      const endsAt = ANCHOR_MS + (expected + 1) * lengthMs;
      await waitFor(() => Date.now() > endsAt + 50, lengthMs * 2, 'the boundary');
      const result = await submit(f.at(1), p.token, ticket);
      const standing = result.standings.find((s) => s.board.id === id)!;
      expect(standing.period.key).toBe(String(expected));
      expect(standing.period.startsAt).toBe(new Date(endsAt - lengthMs).toISOString());
      expect(standing.period.endsAt).toBe(new Date(endsAt).toISOString());
      // Counted there, not in the period it was redeemed in.
      const earlier = expectNoGraphQLErrors(await f.app.gql(BoardLeaderboardDocument, { board: id, period: String(expected) })).leaderboard;
      expect(earlier.entries.map((e) => [e.player.id, e.score])).toEqual([[p.id, 10]]);
      const now = expectNoGraphQLErrors(await f.app.gql(BoardLeaderboardDocument, { board: id })).leaderboard;
      expect(Number(now.period.key)).toBeGreaterThan(expected);
      expect(now.entries.map((e) => e.player.id)).not.toContain(p.id);

      // Not final while a ticket issued inside it could still land ...
      const finalOf = async () => expectNoGraphQLErrors(await f.app.gql(BoardLeaderboardDocument, { board: id, period: String(expected) })).leaderboard.period.final;
      if (Date.now() < endsAt + TTL_SECONDS * 1000 - 500) expect(await finalOf()).toBe(false);
      // ... and final from endsAt + TTL on, still readable with its positions.
      await waitFor(() => Date.now() >= endsAt + TTL_SECONDS * 1000, (TTL_SECONDS + 5) * 1000, 'endsAt + TTL');
      expect(await finalOf()).toBe(true);
      const final = expectNoGraphQLErrors(await f.app.gql(BoardLeaderboardDocument, { board: id, period: String(expected) })).leaderboard;
      expect(final.entries.map((e) => [e.player.id, e.score, e.position])).toEqual([[p.id, 10, 1]]);
      // Past periods with entries are listed, newest first, after the current one.
      const currentBefore = indexAt(Date.now(), lengthMs);
      const periods = expectNoGraphQLErrors(await f.app.gql(BoardDocument, { id, first: 5 })).board!.periods;
      expect(Number(periods[0]!.key)).toBeGreaterThanOrEqual(currentBefore); // the current period first
      expect(periods.map((x) => x.key)).toEqual([periods[0]!.key, String(expected)]); // then only past periods with entries
    }, 60_000);

    it('a final period is frozen once: positions and tie ranks stored, reads served by index lookups and unchanged', async () => {
      const lengthMs = 3_000;
      const id = await customBoard(f, lengthMs / 1000);
      const players = await Promise.all(['fa', 'fb', 'fc', 'fd'].map((n) => f.player(n)));
      // Scores 30, 20, 20, 10 (fb reaches 20 before fc), all in one period. The ticket's issue time picks
      // the period, so all eight tickets are issued at once early in a period (checked: on a slow machine,
      // the next period is tried), then redeemed in the order that sets the ties.
      const order = [players[1]!, players[1]!, players[0]!, players[0]!, players[0]!, players[2]!, players[2]!, players[3]!];
      let index = -1;
      let tickets: Awaited<ReturnType<typeof issue>>[] = [];
      for (let attempt = 1; index < 0; attempt++) {
        const start = await startOfPeriod(lengthMs, 0.2);
        tickets = await Promise.all(order.map((p, i) => issue(f.at(i), p.token)));
        if (tickets.every((t) => indexAt(claims(t.token).iat, lengthMs) === start)) index = start;
        else if (attempt >= 5) throw new Error('could not issue 8 tickets within one 3 s period in 5 tries');
      }
      for (const [i, p] of order.entries()) await submit(f.at(i + 1), p.token, tickets[i]!);
      const key = String(index);
      const read = async () => {
        const out = [];
        for (const rankMode of ['ORDINAL', 'COMPETITION', 'DENSE'] as const) {
          const b = expectNoGraphQLErrors(await f.app.gql(BoardLeaderboardDocument, { board: id, period: key, rankMode })).leaderboard;
          out.push({ rankMode, total: b.totalPlayers, seq: b.seq, rows: b.entries.map((e) => [e.player.id, e.score, e.position, e.rank]) });
          const standings = [];
          for (const p of players) {
            const s = expectNoGraphQLErrors(await f.app.gql(PlayerStandingDocument, { id: p.id, board: id, period: key, rankMode })).player!.standing!;
            standings.push([s.position, s.rank, s.score, s.totalPlayers]);
          }
          out.push({ rankMode, standings });
        }
        return out;
      };
      await waitFor(() => Date.now() >= ANCHOR_MS + (index + 1) * lengthMs + TTL_SECONDS * 1000, (TTL_SECONDS + 10) * 1000, 'the period to be final');
      const live = await read();
      const pageOf = (mode: string) => live.find((x) => x.rankMode === mode && 'rows' in x) as { rows: unknown[][] };
      const standingsOf = (mode: string) => live.find((x) => x.rankMode === mode && 'standings' in x) as { standings: unknown[][] };
      expect(pageOf('COMPETITION').rows.map((r) => r[3])).toEqual([1, 2, 2, 4]);
      expect(pageOf('DENSE').rows.map((r) => r[3])).toEqual([1, 2, 2, 3]);
      expect(pageOf('ORDINAL').rows.map((r) => r[0])).toEqual([players[0]!.id, players[1]!.id, players[2]!.id, players[3]!.id]);
      // Standings of players fa, fb, fc, fd: [position, rank, score, total].
      expect(standingsOf('COMPETITION').standings).toEqual([
        [1, 1, 30, 4],
        [2, 2, 20, 4],
        [3, 2, 20, 4],
        [4, 4, 10, 4],
      ]);
      expect(standingsOf('DENSE').standings).toEqual([
        [1, 1, 30, 4],
        [2, 2, 20, 4],
        [3, 2, 20, 4],
        [4, 3, 10, 4],
      ]);

      const services = f.app.app.services;
      expect(await finalizeDuePeriods(services)).toBeGreaterThanOrEqual(1);
      expect(await finalizeDuePeriods(services)).toBe(0); // once
      const frozen = await services.prisma.boardEntry.findMany({ where: { boardId: id, periodKey: key }, orderBy: { finalPosition: 'asc' } });
      expect(frozen.map((e) => [e.finalPosition, e.finalCompetition, e.finalDense])).toEqual([
        [1, 1, 1],
        [2, 2, 2],
        [3, 2, 2],
        [4, 4, 3],
      ]);
      expect(await services.prisma.boardFinalPeriod.findUnique({ where: { boardId_periodKey_segment: { boardId: id, periodKey: key, segment: '' } } })).toMatchObject({ total: 4 });
      // Every instance reads the same board as before, now from the frozen positions.
      expect(await read()).toEqual(live);
      for (const i of f.instances.slice(1)) {
        const b = expectNoGraphQLErrors(await i.gql(BoardLeaderboardDocument, { board: id, period: key })).leaderboard;
        expect(b.entries.map((e) => [e.player.id, e.score, e.position, e.rank])).toEqual(pageOf('ORDINAL').rows);
      }
      const around = expectNoGraphQLErrors(await f.app.gql(LeaderboardAroundDocument, { board: id, period: key, player: players[3]!.id, above: 1, below: 1 })).leaderboardAround;
      expect(around.entries.map((e) => e.position)).toEqual([2, 3, 4]);
      // The frozen columns are what is read: swap two stored positions and the page follows.
      await services.prisma.$executeRaw`UPDATE board_entries SET final_position = 5 - final_position WHERE board_id = ${id} AND period_key = ${key} AND final_position IN (1, 4)`;
      const swapped = expectNoGraphQLErrors(await f.app.gql(BoardLeaderboardDocument, { board: id, period: key })).leaderboard;
      expect(swapped.entries[0]!.player.id).toBe(players[3]!.id);

      // Moderation reaches frozen periods: hiding fb freezes the period again without them (closed up, seq above any before), on every instance.
      const op = await f.operator();
      expectNoGraphQLErrors(await f.app.gql(HidePlayerDocument, { player: players[1]!.id, reason: 'cheated in that period' }, op.token));
      for (const i of f.instances) {
        const b = expectNoGraphQLErrors(await i.gql(BoardLeaderboardDocument, { board: id, period: key, rankMode: 'COMPETITION' })).leaderboard;
        expect(b.entries.map((e) => [e.player.id, e.position, e.rank])).toEqual([
          [players[0]!.id, 1, 1],
          [players[2]!.id, 2, 2],
          [players[3]!.id, 3, 3],
        ]);
        expect(b.totalPlayers).toBe(3);
        expect(b.seq).toBeGreaterThan(swapped.seq);
      }
      // The hidden player's own standing there: where they would stand among the visible ones.
      const own = expectNoGraphQLErrors(await f.app.gql(MyStandingDocument, { board: id, period: key }, players[1]!.token)).me!.standing!;
      expect(own).toMatchObject({ position: 2, score: 20, totalPlayers: 3 });
      expectNoGraphQLErrors(await f.app.gql(UnhidePlayerDocument, { player: players[1]!.id, reason: 'appeal' }, op.token));
      for (const i of f.instances) {
        const b = expectNoGraphQLErrors(await i.gql(BoardLeaderboardDocument, { board: id, period: key })).leaderboard;
        expect(b.entries.map((e) => [e.player.id, e.score, e.position, e.rank])).toEqual(pageOf('ORDINAL').rows);
      }
    }, 60_000);

    it('subscribers on both instances roll over to the new period and converge to the query', async () => {
      const lengthMs = 4_000;
      const id = await customBoard(f, lengthMs / 1000);
      const [a, b] = [await f.player('roll-a'), await f.player('roll-b')];
      const index = await startOfPeriod(lengthMs);
      const subs = f.instances.map((i) => collect(i.ws(), BoardChangedDocument, { board: id, first: 5 }));
      await waitFor(() => subs.every((s) => s.events.length >= 1), 10_000, 'snapshots');
      await completeTask(f.app, a.token);
      await waitFor(() => subs.every((s) => s.events.at(-1)!.leaderboardChanged.entries.length === 1), 10_000, 'the credit, live');
      // The boundary passes: every subscriber gets the next period's (empty) board without asking.
      await waitFor(() => subs.every((s) => Number(s.events.at(-1)!.leaderboardChanged.period.key) > index), lengthMs * 2, 'rollover');
      for (const s of subs) expect(s.events.at(-1)!.leaderboardChanged.entries).toEqual([]);
      // A credit in the new period reaches them, and they end on exactly what the query says.
      await completeTask(f.at(1), b.token);
      // (Re-read until equal: on a slow machine the next boundary may pass meanwhile, and subscribers follow it too.)
      await waitFor(
        async () => {
          const truth = expectNoGraphQLErrors(await f.app.gql(BoardLeaderboardDocument, { board: id, first: 5 })).leaderboard;
          return subs.every((s) => JSON.stringify(view(s.events.at(-1)!.leaderboardChanged)) === JSON.stringify(view(truth)));
        },
        10_000,
        'convergence',
      );
      for (const s of subs) {
        const seqs = s.events.map((e) => e.leaderboardChanged.seq);
        expect(seqs).toEqual([...seqs].sort((x, y) => x - y)); // never backwards, across the rollover too
        expect(s.errors).toEqual([]);
      }
      subs.forEach((s) => s.unsubscribe());
    }, 60_000);
  },
  { instances: 2, env: { ACTION_TOKEN_TTL_SECONDS: String(TTL_SECONDS) } },
);

describeBackends(
  'leading-edge delivery',
  (f) => {
    it('with a 1 s window, an isolated change is delivered at once (leading edge); a burst still ends on the final board', async () => {
      const flushes = async (edge: string) => (await f.app.app.services.metrics.liveFlushes.get()).values.find((v) => v.labels.edge === edge)?.value ?? 0;
      const p = await f.player('edge');
      const sub = collect(f.app.ws(), BoardChangedDocument, { first: 10 });
      await waitFor(() => sub.events.length >= 1, 10_000, 'snapshot');
      // Quiet for a whole window: the next change is isolated.
      await new Promise((r) => setTimeout(r, 1_100));
      const [leading, trailing] = [await flushes('leading'), await flushes('trailing')];
      const started = Date.now();
      const result = await completeTask(f.app, p.token);
      await waitFor(() => sub.events.at(-1)!.leaderboardChanged.seq >= result.seq, 5_000, 'the isolated change');
      console.info(`leading-edge delivery: ${Date.now() - started} ms from submit to event (window 1000 ms)`);
      // Delivered by a leading-edge flush, not by the end of the window.
      expect(await flushes('leading')).toBe(leading + 1);
      expect(await flushes('trailing')).toBe(trailing);

      // A burst: the first change goes at once, the rest wait for the window, and the last event is the final board.
      for (let i = 0; i < 10; i++) await completeTask(f.app, p.token);
      const final = expectNoGraphQLErrors(await f.app.gql(BoardLeaderboardDocument, {})).leaderboard;
      await waitFor(() => sub.events.at(-1)!.leaderboardChanged.seq === final.seq, 10_000, 'the final board');
      expect(sub.events.at(-1)!.leaderboardChanged.entries.map((e) => [e.player.id, e.score])).toEqual(final.entries.map((e) => [e.player.id, e.score]));
      expect(await flushes('trailing')).toBeGreaterThan(trailing);
      sub.unsubscribe();
    }, 60_000);
  },
  { env: { LEADERBOARD_COALESCE_MS: '1000' } },
);
