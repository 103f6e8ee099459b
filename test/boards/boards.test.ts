import { expect, it } from 'vitest';
import {
  BoardDocument,
  BoardLeaderboardDocument,
  BoardsDocument,
  LeaderboardAroundDocument,
  LeaderboardDocument,
  MyStandingDocument,
  PlayerStandingDocument,
  UpsertActionTypeDocument,
  UpsertBoardDocument,
  type BoardInput,
  type RankMode,
} from '../../sdk/generated/graphql.js';
import { codes, expectNoGraphQLErrors, type Instance } from '../support/app.js';
import { completeTask, issue, submit, submitRaw } from '../support/play.js';
import { describeBackends, type Fixture } from '../support/suite.js';

/** Boards and periods: definitions, fan-out of one credit, reads, ranks, around-me, bad input. Both backends, two instances on the real one. */

let unique = 0;
/** A board id / action type code unique within the run. */
const uid = (prefix: string) => `${prefix}-${process.pid}-${++unique}`;
const code = (prefix: string) => uid(prefix).toUpperCase().replace(/-/g, '_');

async function createBoard(f: Fixture, input: BoardInput, on: Instance = f.app) {
  const op = await f.operator();
  return expectNoGraphQLErrors(await on.gql(UpsertBoardDocument, { input }, op.token)).upsertBoard;
}

async function createType(f: Fixture, points: number, prefix = 'T') {
  const op = await f.operator();
  const c = code(prefix);
  expectNoGraphQLErrors(await f.app.gql(UpsertActionTypeDocument, { input: { code: c, points } }, op.token));
  return c;
}

/** One complete action of a type: ticket, then submit (on another instance when there are two). */
async function act(f: Fixture, token: string, actionType: string, i = 0) {
  const ticket = await issue(f.at(i), token, actionType);
  return submit(f.at(i + 1), token, ticket);
}

async function page(f: Fixture, vars: { board: string; period?: string | null; segment?: string | null; first?: number; offset?: number; rankMode?: RankMode }, token?: string) {
  return expectNoGraphQLErrors(await f.app.gql(BoardLeaderboardDocument, vars, token)).leaderboard;
}

const rows = (b: { entries: { position: number; rank: number; score: number; player: { id: string } }[] }) => b.entries.map((e) => [e.player.id, e.score, e.position, e.rank]);

describeBackends(
  'boards',
  (f) => {
    it('operators define boards; everyone reads them; the global board always exists', async () => {
      const id = uid('weekly-ny');
      const created = await createBoard(f, { id, title: 'Weekly (NY)', window: 'WEEKLY', timeZone: 'america/new_york', weekStart: 'SUNDAY' });
      expect(created).toMatchObject({
        id,
        title: 'Weekly (NY)',
        window: 'WEEKLY',
        timeZone: 'America/New_York',
        weekStart: 'SUNDAY',
        segmentBy: null,
        actionTypes: null,
        enabled: true,
      });
      // Sunday-start weeks in New York: the key is the local date of the last Sunday, computed here with Intl.
      const local = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/New_York', year: 'numeric', month: '2-digit', day: '2-digit', weekday: 'short' }).formatToParts(
        new Date(),
      );
      const part = (t: string) => local.find((p) => p.type === t)!.value;
      const weekday = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(part('weekday'));
      const today = Date.UTC(Number(part('year')), Number(part('month')) - 1, Number(part('day')));
      expect(created.currentPeriod.key).toBe(new Date(today - weekday * 86_400_000).toISOString().slice(0, 10));

      const boards = expectNoGraphQLErrors(await f.app.gql(BoardsDocument, {})).boards;
      expect(boards[0]!.id).toBe('global');
      expect(boards.find((b) => b.id === id)).toBeTruthy();
      expect(expectNoGraphQLErrors(await f.app.gql(BoardDocument, { id: 'no-such-board' })).board).toBeNull();
    });

    it('a board created on one instance is usable on the other at once, and a credit lands on every matching board', async () => {
      const daily = uid('daily');
      await createBoard(f, { id: daily, title: 'Today', window: 'DAILY' }, f.at(0));
      const p = await f.player('fan');
      // Ticket on instance 1, submit on instance 0: both know the board the moment it exists.
      const result = await act(f, p.token, 'COMPLETE_TASK', 1);
      const boards = result.standings.map((s) => s.board.id);
      expect(boards[0]).toBe('global');
      expect(boards).toContain(daily);
      const standing = result.standings.find((s) => s.board.id === daily)!;
      expect(standing).toMatchObject({ score: 10, position: 1, rank: 1, totalPlayers: 1, segment: null });
      // standings equal what the queries return afterwards, on both instances.
      for (const i of [0, 1]) {
        const b = expectNoGraphQLErrors(await f.at(i).gql(BoardLeaderboardDocument, { board: daily })).leaderboard;
        expect(rows(b)).toEqual([[p.id, 10, 1, 1]]);
        expect(b.seq).toBeGreaterThanOrEqual(standing.seq);
        expect(b.period.key).toBe(standing.period.key);
      }
      const me = expectNoGraphQLErrors(await f.app.gql(MyStandingDocument, { board: daily }, p.token)).me!;
      expect(me.standing).toMatchObject({ score: 10, position: 1, totalPlayers: 1 });
    });

    it('a board restricted to some action types counts only those', async () => {
      const special = await createType(f, 7, 'SPECIAL');
      const id = uid('special-only');
      await createBoard(f, { id, window: 'ALL_TIME', actionTypes: [special] });
      const p = await f.player('picky');
      const plain = await act(f, p.token, 'COMPLETE_TASK');
      expect(plain.standings.map((s) => s.board.id)).not.toContain(id);
      const counted = await act(f, p.token, special);
      expect(counted.standings.find((s) => s.board.id === id)).toMatchObject({ score: 7, position: 1 });
      expect(rows(await page(f, { board: id }))).toEqual([[p.id, 7, 1, 1]]);
      // The all-time score has both.
      expect(counted.newScore).toBe(17);
    });

    it('a segmented board files players under their claim, and ignores a player without it', async () => {
      const id = uid('by-country');
      await createBoard(f, { id, window: 'ALL_TIME', segmentBy: 'country' });
      const de = await f.player('hans', { country: 'de' }); // upper-cased: one segment per country
      const fr = await f.player('marie', { country: 'FR' });
      const none = await f.player('nomad');
      const a = await act(f, de.token, 'COMPLETE_TASK');
      await act(f, fr.token, 'COMPLETE_TASK');
      await act(f, fr.token, 'COMPLETE_TASK');
      const n = await act(f, none.token, 'COMPLETE_TASK');
      expect(a.standings.find((s) => s.board.id === id)).toMatchObject({ segment: 'DE', score: 10, position: 1, totalPlayers: 1 });
      expect(n.standings.map((s) => s.board.id)).not.toContain(id);
      expect(rows(await page(f, { board: id, segment: 'FR' }))).toEqual([[fr.id, 20, 1, 1]]);
      expect(rows(await page(f, { board: id, segment: 'de' }))).toEqual([[de.id, 10, 1, 1]]);
      // No segment: the viewer's own.
      const own = await page(f, { board: id }, fr.token);
      expect(own.segment).toBe('FR');
      expect(rows(own)).toEqual([[fr.id, 20, 1, 1]]);
      // A player's standing there is under their own value; attribute() shows it.
      const standing = expectNoGraphQLErrors(await f.app.gql(PlayerStandingDocument, { id: de.id, board: id })).player!;
      expect(standing.country).toBe('DE');
      expect(standing.standing).toMatchObject({ segment: 'DE', score: 10 });
      // Bad input: no segment and no JWT; no segment for a player without the attribute; a segment on an unsegmented board.
      expect(codes(await f.app.gql(BoardLeaderboardDocument, { board: id }))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await f.app.gql(BoardLeaderboardDocument, { board: id }, none.token))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await f.app.gql(BoardLeaderboardDocument, { board: 'global', segment: 'DE' }))).toEqual(['BAD_USER_INPUT']);
    });

    it('ties: 50, 30, 30, 10 rank ORDINAL 1 2 3 4 (the earlier 30 first), COMPETITION 1 2 2 4, DENSE 1 2 2 3', async () => {
      const [t50, t30, t10] = [await createType(f, 50, 'TIE50'), await createType(f, 30, 'TIE30'), await createType(f, 10, 'TIE10')];
      const id = uid('ties');
      await createBoard(f, { id, window: 'ALL_TIME', actionTypes: [t50, t30, t10] });
      const [a, b, c, d] = await Promise.all(['a50', 'b30', 'c30', 'd10'].map((n) => f.player(n)));
      await act(f, b!.token, t30); // b reaches 30 before c
      await act(f, a!.token, t50);
      await act(f, c!.token, t30);
      await act(f, d!.token, t10);
      const order = [a!.id, b!.id, c!.id, d!.id];
      const expected: Record<RankMode, number[]> = { ORDINAL: [1, 2, 3, 4], COMPETITION: [1, 2, 2, 4], DENSE: [1, 2, 2, 3] };
      for (const rankMode of ['ORDINAL', 'COMPETITION', 'DENSE'] as RankMode[]) {
        const board = await page(f, { board: id, rankMode });
        expect(board.entries.map((e) => e.player.id)).toEqual(order);
        expect(board.entries.map((e) => e.position)).toEqual([1, 2, 3, 4]);
        expect(board.entries.map((e) => e.rank)).toEqual(expected[rankMode]);
        // A page starting inside the tie still ranks right.
        const tail = await page(f, { board: id, rankMode, offset: 2, first: 2 });
        expect(tail.entries.map((e) => e.rank)).toEqual(expected[rankMode].slice(2));
        // Standings agree.
        for (const [i, p] of order.entries()) {
          const s = expectNoGraphQLErrors(await f.app.gql(PlayerStandingDocument, { id: p, board: id, rankMode })).player!.standing!;
          expect([s.position, s.rank]).toEqual([i + 1, expected[rankMode][i]]);
        }
      }
    });

    it('around-me: the middle, the top edge, the bottom edge, and a player with no entry gets the top; offset pages agree with a larger first', async () => {
      const types = [];
      for (let i = 1; i <= 12; i++) types.push(await createType(f, i, `AR${i}`));
      const id = uid('around');
      await createBoard(f, { id, window: 'ALL_TIME', actionTypes: types });
      const players = await Promise.all(types.map((_, i) => f.player(`r${i + 1}`)));
      // Player i scores i + 1: the board is r12 (12) ... r1 (1).
      for (const [i, p] of players.entries()) await act(f, p.token, types[i]!, i);
      const ids = [...players].reverse().map((p) => p.id); // best first
      const around = async (player: string | undefined, above: number, below: number, token?: string) =>
        expectNoGraphQLErrors(await f.app.gql(LeaderboardAroundDocument, { board: id, player, above, below }, token)).leaderboardAround;

      const middle = await around(ids[5], 2, 2); // position 6
      expect(middle.entries.map((e) => e.player.id)).toEqual(ids.slice(3, 8));
      expect(middle.entries.map((e) => e.position)).toEqual([4, 5, 6, 7, 8]);
      expect(middle.totalPlayers).toBe(12);
      const top = await around(ids[0], 2, 2); // shifted down: still 5 entries
      expect(top.entries.map((e) => e.player.id)).toEqual(ids.slice(0, 5));
      const bottom = await around(ids[11], 2, 2); // shifted up
      expect(bottom.entries.map((e) => e.player.id)).toEqual(ids.slice(7, 12));
      const stranger = await f.player('stranger');
      const none = await around(undefined, 1, 1, stranger.token); // the viewer, with no entry: the top
      expect(none.entries.map((e) => e.player.id)).toEqual(ids.slice(0, 3));
      const wide = await around(ids[5], 50, 50); // window larger than the board: everyone
      expect(wide.entries.map((e) => e.player.id)).toEqual(ids);

      const all = await page(f, { board: id, first: 12 });
      const pieces = [];
      for (let offset = 0; offset < 12; offset += 5) pieces.push(...(await page(f, { board: id, first: 5, offset })).entries);
      expect(pieces).toEqual(all.entries);
      expect((await page(f, { board: id, first: 5, offset: 100 })).entries).toEqual([]);
    });

    it('50 concurrent copies of one ticket credit once on every board', async () => {
      const id = uid('race');
      await createBoard(f, { id, window: 'DAILY' });
      const p = await f.player('racer');
      const ticket = await issue(f.app, p.token);
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => submitRaw(f.at(i), p.token, ticket)));
      expect(results.filter((r) => r.errors)).toEqual([]);
      expect(results.filter((r) => !r.data!.submitAction.replayed)).toHaveLength(1);
      for (const board of ['global', id]) {
        const s = expectNoGraphQLErrors(await f.app.gql(PlayerStandingDocument, { id: p.id, board })).player!.standing!;
        expect(s.score).toBe(10);
      }
      // Every board that counts this type (earlier tests made more) holds exactly one credit's points, as the audit row says.
      const entries = await f.app.app.services.prisma.boardEntry.findMany({ where: { playerId: p.id } });
      expect(entries.map((e) => e.boardId)).toEqual(expect.arrayContaining(['global', id]));
      for (const e of entries) expect(Number(e.score)).toBe(10);
      const credits = await f.app.app.services.prisma.actionCredit.findMany({ where: { playerId: p.id } });
      expect(credits).toHaveLength(1);
      expect((credits[0]!.entries as { board: string }[]).map((e) => e.board).sort()).toEqual(entries.map((e) => e.boardId).sort());
    });

    it('a disabled board takes no new credits but stays readable', async () => {
      const id = uid('paused');
      await createBoard(f, { id, window: 'ALL_TIME' });
      const p = await f.player('pauser');
      await completeTask(f.app, p.token);
      await createBoard(f, { id, enabled: false }, f.at(1));
      const after = await completeTask(f.app, p.token);
      expect(after.standings.map((s) => s.board.id)).not.toContain(id);
      expect(rows(await page(f, { board: id }))).toEqual([[p.id, 10, 1, 1]]);
      expect(expectNoGraphQLErrors(await f.app.gql(BoardsDocument, {})).boards.find((b) => b.id === id)!.enabled).toBe(false);
    });

    it('definitions: validation, immutability once a board has entries, operators only', async () => {
      const op = await f.operator();
      const player = await f.player('not-an-operator');
      const upsert = (input: BoardInput, token: string | undefined = op.token) => f.app.gql(UpsertBoardDocument, { input }, token);
      expect(codes(await f.app.gql(UpsertBoardDocument, { input: { id: uid('x'), window: 'DAILY' } }))).toEqual(['UNAUTHENTICATED']);
      expect(codes(await upsert({ id: uid('x'), window: 'DAILY' }, player.token))).toEqual(['FORBIDDEN']);
      // A forged roles claim is not a verified one: a token signed with another key is refused outright.
      for (const bad of [
        { id: 'Bad Id', window: 'DAILY' },
        { id: 'x'.repeat(41), window: 'DAILY' },
        { id: uid('zone'), window: 'DAILY', timeZone: 'Mars/Olympus' },
        { id: uid('zone'), window: 'DAILY', timeZone: '+05:00' },
        { id: uid('len'), window: 'CUSTOM', periodSeconds: 0 },
        { id: uid('len'), window: 'CUSTOM' },
        { id: uid('len'), window: 'DAILY', periodSeconds: 60 },
        { id: uid('anchor'), window: 'WEEKLY', anchor: '2026-01-01T00:00:00Z' },
        { id: uid('types'), window: 'DAILY', actionTypes: [] },
        { id: uid('types'), window: 'DAILY', actionTypes: ['NO_SUCH_TYPE'] },
        { id: uid('seg'), window: 'DAILY', segmentBy: 'shoe_size' },
        { id: uid('new') },
        { id: 'global', window: 'DAILY' },
      ] as BoardInput[]) {
        expect([JSON.stringify(bad), codes(await upsert(bad))]).toEqual([JSON.stringify(bad), ['BAD_USER_INPUT']]);
      }
      // Malformed values the schema itself refuses (enum, DateTime) never reach the resolver, and are bad input too.
      for (const i of [
        { id: uid('w'), window: 'YEARLY' },
        { id: uid('w'), window: 'WEEKLY', weekStart: 'FUNDAY' },
        { id: uid('a'), window: 'CUSTOM', periodSeconds: 5, anchor: 'yesterday' },
      ]) {
        const raw = await f.app.raw({ query: 'mutation($i: BoardInput!) { upsertBoard(input: $i) { id } }', variables: { i } }, { token: op.token });
        expect(codes(await raw.json())).toEqual(['BAD_USER_INPUT']);
      }

      const id = uid('fixed');
      await createBoard(f, { id, window: 'DAILY', timeZone: 'UTC' });
      // No entries yet: still changeable.
      expect(codes(await upsert({ id, timeZone: 'Europe/Berlin' }))).toEqual([]);
      const p = await f.player('first-entry');
      await completeTask(f.app, p.token);
      for (const change of [{ timeZone: 'UTC' }, { window: 'WEEKLY' }, { weekStart: 'SUNDAY' }, { segmentBy: 'country' }] as Partial<BoardInput>[]) {
        expect(codes(await upsert({ id, ...change }))).toEqual(['BAD_USER_INPUT']);
      }
      // Title, action types and enabled may change at any time.
      expect(expectNoGraphQLErrors(await upsert({ id, title: 'Renamed' })).upsertBoard).toMatchObject({ title: 'Renamed', timeZone: 'Europe/Berlin' });
      expect(codes(await f.app.gql(UpsertActionTypeDocument, { input: { code: 'lower', points: 1 } }, op.token))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await f.app.gql(UpsertActionTypeDocument, { input: { code: 'OK_CODE', points: 0 } }, op.token))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await f.app.gql(UpsertActionTypeDocument, { input: { code: 'OK_CODE', points: 5, minSeconds: 86_401 } }, op.token))).toEqual(['BAD_USER_INPUT']);
      expect(codes(await f.app.gql(UpsertActionTypeDocument, { input: { code: 'OK_CODE', points: 5 } }, player.token))).toEqual(['FORBIDDEN']);
    });

    it('bad read arguments: BAD_USER_INPUT, NOT_FOUND or UNAUTHENTICATED, never a scan', async () => {
      const daily = uid('daily-bad');
      await createBoard(f, { id: daily, window: 'DAILY' });
      const bad = async (vars: Parameters<typeof page>[1]) => codes(await f.app.gql(BoardLeaderboardDocument, vars));
      expect(await bad({ board: 'global', first: 0 })).toEqual(['BAD_USER_INPUT']);
      expect(await bad({ board: 'global', first: 101 })).toEqual(['BAD_USER_INPUT']);
      expect(await bad({ board: 'global', offset: -1 })).toEqual(['BAD_USER_INPUT']);
      expect(await bad({ board: 'global', offset: 10_000_000 })).toEqual(['BAD_USER_INPUT']);
      expect(await bad({ board: 'global', period: '2026-11' })).toEqual(['BAD_USER_INPUT']);
      expect(await bad({ board: daily, period: '2026-13-45' })).toEqual(['BAD_USER_INPUT']);
      expect(await bad({ board: daily, period: 'all' })).toEqual(['BAD_USER_INPUT']);
      expect(await bad({ board: 'no-such-board' })).toEqual(['NOT_FOUND']);
      expect(await bad({ board: 'Not A Slug' })).toEqual(['BAD_USER_INPUT']);
      // A well-formed key of a period with no entries: an empty board.
      expect((await page(f, { board: daily, period: '2001-01-01' })).entries).toEqual([]);
      const around = async (vars: object, token?: string) => codes(await f.app.gql(LeaderboardAroundDocument, vars, token));
      expect(await around({})).toEqual(['UNAUTHENTICATED']);
      expect(await around({ player: 'x', above: 51 })).toEqual(['BAD_USER_INPUT']);
      expect(await around({ player: 'x', below: -1 })).toEqual(['BAD_USER_INPUT']);
      // The plain contract still works as before.
      expect(expectNoGraphQLErrors(await f.app.gql(LeaderboardDocument, { first: 3 })).leaderboard.entries.length).toBeLessThanOrEqual(3);
    });
  },
  { instances: 2, cluster: true },
);
