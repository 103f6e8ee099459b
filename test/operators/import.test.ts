import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BoardLeaderboardDocument, BoardChangedDocument } from '../../sdk/generated/graphql.js';
import { collect, expectNoGraphQLErrors, startInstance, waitFor, type Instance } from '../support/app.js';
import { createBackend, realBackendsAvailable, type Backend, type BackendKind } from '../support/backends.js';

/**
 * `npm run import`, run as an operator would (a separate process), on both
 * backends. Embedded: PGlite belongs to one process, so the import runs while no
 * server does (and is refused while one does). Real: the import runs next to a
 * live instance, which shows the imported board (and pushes it to a subscriber)
 * within seconds.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const realAvailable = await realBackendsAvailable();

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runImport(backend: Backend, file: string, extra: string[] = []): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/import.ts', '--file', file, '--json', ...extra], {
    cwd: ROOT,
    env: { ...process.env, ...backend.env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (c: Buffer) => (out.stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out.stderr += c.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, ...out })));
}

const summary = (run: Run) => {
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { rows: number; changed: number; created: number; updated: number; scoreChanges: number };
};

interface Row {
  line: number;
  id: string;
  name: string;
  score: number;
  country?: string;
}

/** 1,000 players: scores from a small range (many ties), some 0 (no entry), every third with a country. */
function generate(prefix: string, count = 1_000): Row[] {
  return Array.from({ length: count }, (_, i) => ({
    line: i + 2,
    id: `${prefix}-${String((i * 7_919) % 10_007).padStart(5, '0')}`,
    name: `Player ${i}`,
    score: (i * 37) % 61, // 0..60: every score about 16 times, 0 included
    country: i % 3 === 0 ? ['de', 'fr', 'jp'][(i % 9) / 3]! : '',
  }));
}

function csv(rows: Row[], header = 'playerId,username,score,country'): string {
  return [header, ...rows.map((r) => `${r.id},${r.name},${r.score},${r.country ?? ''}`)].join('\n') + '\n';
}

/** The board the file describes: positive scores, highest first, equal scores in file order. */
function expectedBoard(rows: Row[]) {
  return rows
    .filter((r) => r.score > 0)
    .sort((a, b) => b.score - a.score || a.line - b.line)
    .map((r, i) => ({ position: i + 1, score: r.score, id: r.id, username: r.name }));
}

async function readBoard(instance: Instance, total: number) {
  const out: { position: number; score: number; id: string; username: string }[] = [];
  let seq = 0;
  for (let offset = 0; offset < total; offset += 100) {
    const page = expectNoGraphQLErrors(await instance.gql(BoardLeaderboardDocument, { board: 'global', first: 100, offset })).leaderboard;
    if (offset === 0) seq = page.seq;
    out.push(...page.entries.map((e) => ({ position: e.position, score: e.score, id: e.player.id, username: e.player.username })));
  }
  return { seq, entries: out };
}

async function sql<T>(backend: Backend, instance: Instance | undefined, text: string): Promise<T[]> {
  if (instance) return instance.app.services.prisma.$queryRawUnsafe<T[]>(text);
  const client = new pg.Client({ connectionString: backend.env.DATABASE_URL });
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}

/** old_score + delta = new_score on every row, each row starting where the previous one (in id order) ended, ending at the score. */
const BROKEN_CHAINS = `
  SELECT count(*)::int AS broken FROM (
    SELECT c.player_id, c.old_score, c.new_score, c.delta, c.id,
      lag(c.new_score, 1, 0::bigint) OVER (PARTITION BY c.player_id ORDER BY c.id) AS previous,
      last_value(c.new_score) OVER (PARTITION BY c.player_id ORDER BY c.id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS last,
      p.score
    FROM action_credits c JOIN players p ON p.id = c.player_id
  ) x WHERE old_score <> previous OR new_score <> old_score + delta OR last <> score`;

const COUNTS = `SELECT (SELECT count(*)::int FROM action_credits) AS credits, (SELECT count(*)::int FROM players) AS players,
  (SELECT coalesce(max(id), 0)::text FROM action_credits) AS "maxId", (SELECT count(*)::int FROM board_entries) AS entries`;

for (const kind of ['embedded', 'real'] as BackendKind[]) {
  describe.runIf(kind === 'embedded' || realAvailable)(`npm run import [${kind}]`, () => {
    let backend: Backend;
    let dir: string;
    /** Real backend: an instance runs during the imports. Embedded: started after each import, stopped before the next. */
    let live: Instance | undefined;
    const rows = generate('imp');
    const file = () => join(dir, 'scores.csv');

    beforeAll(async () => {
      backend = await createBackend(kind);
      dir = mkdtempSync(join(tmpdir(), 'scoreboard-import-'));
      writeFileSync(file(), csv(rows));
      if (kind === 'real') live = await startInstance(backend);
    });
    afterAll(async () => {
      await live?.stop();
      await backend?.dispose();
    });

    /** Runs `check` against an instance: the live one, or (embedded) one started for it. */
    async function withInstance<T>(check: (instance: Instance) => Promise<T>): Promise<T> {
      if (live) return check(live);
      const instance = await startInstance(backend);
      try {
        return await check(instance);
      } finally {
        await instance.stop();
      }
    }

    it('imports 1,000 rows: the global board has every positive score, equal scores in file order; one IMPORT row per player', async () => {
      const expected = expectedBoard(rows);
      let subscriber: ReturnType<typeof collect> | undefined;
      if (live) {
        // A live subscriber on the running instance gets the imported top 10.
        subscriber = collect(live.ws(), BoardChangedDocument, { board: 'global', first: 10 });
        await waitFor(() => subscriber!.events.length > 0, 20_000, 'the first (empty) board');
      }
      const result = summary(await runImport(backend, file()));
      expect(result).toEqual(expect.objectContaining({ rows: 1_000, changed: 1_000, created: 1_000, updated: 0, scoreChanges: expected.length }));

      await withInstance(async (instance) => {
        // Running instance: within seconds (polled, not timed); a fresh one: at once.
        const board = await waitFor(
          async () => {
            const b = await readBoard(instance, expected.length);
            return b.entries.length === expected.length && b.entries.every((e, i) => e.id === expected[i]!.id) ? b : undefined;
          },
          20_000,
          'the imported board',
        );
        expect(board.entries).toEqual(expected);
        const credits = await sql<{ kind: string; n: number; actors: string[] }>(
          backend,
          instance,
          `SELECT kind, count(*)::int AS n, array_agg(DISTINCT actor) AS actors FROM action_credits GROUP BY kind`,
        );
        expect(credits).toEqual([{ kind: 'IMPORT', n: 1_000, actors: ['import:scores.csv'] }]);
        const [country] = await sql<{ n: number }>(backend, instance, `SELECT count(*)::int AS n FROM players WHERE attributes ->> 'country' IN ('DE', 'FR', 'JP')`);
        expect(country!.n).toBe(rows.filter((r) => r.country).length);
        expect((await sql<{ broken: number }>(backend, instance, BROKEN_CHAINS))[0]!.broken).toBe(0);
      });
      if (subscriber) {
        const top = expected.slice(0, 10).map((e) => e.id);
        await waitFor(
          () =>
            subscriber.events.some(
              (e) =>
                JSON.stringify((e as { leaderboardChanged: { entries: { player: { id: string } }[] } }).leaderboardChanged.entries.map((x) => x.player.id)) === JSON.stringify(top),
            ),
          20_000,
          'the imported top 10 pushed to the subscriber',
        );
        subscriber.unsubscribe();
      }
    });

    it('running the same file again changes nothing: no audit row, same board, same seq', async () => {
      const before = await withInstance(async (instance) => ({
        counts: await sql(backend, instance, COUNTS),
        board: await readBoard(instance, 1_000),
      }));
      const result = summary(await runImport(backend, file()));
      expect(result).toEqual(expect.objectContaining({ rows: 1_000, changed: 0 }));
      await withInstance(async (instance) => {
        expect(await sql(backend, instance, COUNTS)).toEqual(before.counts);
        const board = await readBoard(instance, 1_000);
        expect(board.entries).toEqual(before.board.entries);
        if (live) expect(board.seq).toBe(before.board.seq);
      });
    });

    it('a second file sets scores (up, down, to 0) and renames; the audit chain holds in id order', async () => {
      const changed = rows.slice(0, 50).map((r, i) => ({ ...r, score: i % 3 === 0 ? 0 : i % 3 === 1 ? r.score + 100 : Math.max(1, r.score - 5), name: `${r.name}!` }));
      writeFileSync(join(dir, 'second.csv'), csv(changed));
      const result = summary(await runImport(backend, join(dir, 'second.csv')));
      const actual = changed.filter((c, i) => c.score !== rows[i]!.score).length;
      expect(result).toEqual(expect.objectContaining({ rows: 50, changed: 50, created: 0, updated: 50, scoreChanges: actual }));
      const merged = rows.map((r, i) => (i < 50 ? { ...changed[i]!, line: r.line } : r));
      // Imported again in file order of their own file: ties among changed players follow the second file's lines,
      // and come after everyone who had that score before (a later credit id).
      await withInstance(async (instance) => {
        const board = await waitFor(
          async () => {
            const b = await readBoard(instance, 1_000);
            return b.entries.length === merged.filter((r) => r.score > 0).length && b.entries.some((e) => e.username.endsWith('!')) ? b : undefined;
          },
          20_000,
          'the second import',
        );
        const scores = new Map(merged.map((r) => [r.id, r.score]));
        for (const e of board.entries) expect(e.score).toBe(scores.get(e.id));
        expect(board.entries.map((e) => e.score)).toEqual([...board.entries.map((e) => e.score)].sort((a, b) => b - a));
        expect(board.entries.find((e) => e.id === changed[0]!.id)).toBeUndefined(); // score 0: off the board
        expect((await sql<{ broken: number }>(backend, instance, BROKEN_CHAINS))[0]!.broken).toBe(0);
        const [lowered] = await sql<{ n: number }>(backend, instance, `SELECT count(*)::int AS n FROM action_credits WHERE kind = 'IMPORT' AND delta < 0`);
        expect(lowered!.n).toBeGreaterThan(0);
      });
    });

    const bad: [string, string, number, RegExp][] = [
      ['a wrong header', 'playerId,name,score\na,A,1\n', 1, /header must be exactly/],
      ['a non-integer score', 'playerId,username,score\na,A,1\nb,B,2.5\n', 3, /score must be a whole number \(got "2.5"\)/],
      ['a negative score', 'playerId,username,score\na,A,1\nb,B,2\nc,C,-4\n', 4, /score must not be negative/],
      ['a duplicate player', 'playerId,username,score\na,A,1\nb,B,2\na,A2,3\n', 4, /duplicate playerId "a" \(first on line 2\)/],
      ['an empty playerId', 'playerId,username,score\na,A,1\n,B,2\n', 3, /playerId is empty/],
      ['an empty username', 'playerId,username,score\na,A,1\nb,,2\n', 3, /username is empty/],
    ];
    it('a malformed file imports nothing and names the line (header, non-integer, negative, duplicate, empty fields); exit code 65', async () => {
      const before = await withInstance(async (instance) => sql(backend, instance, COUNTS));
      for (const [what, text, line, message] of bad) {
        const path = join(dir, 'bad.csv');
        writeFileSync(path, text);
        const run = await runImport(backend, path);
        expect(run.code, `${what}: ${run.stderr}`).toBe(65);
        expect(run.stderr, what).toContain(`bad.csv line ${line}: `);
        expect(run.stderr, what).toMatch(message);
        expect(run.stderr, what).toContain('nothing was imported');
      }
      // Every file above also holds valid rows for new players: had any been imported, these would differ.
      expect(await withInstance(async (instance) => sql(backend, instance, COUNTS))).toEqual(before);
      // Six runs of the CLI, each a process start: on a loaded machine that alone can take a minute.
    }, 240_000);

    if (kind === 'embedded') {
      it('refuses to open the embedded database while a server uses it', async () => {
        const instance = await startInstance(backend);
        try {
          const run = await runImport(backend, file());
          expect(run.code).toBe(1);
          expect(run.stderr).toMatch(/is in use by process \d+ \(a running Scoreboard server\?\)/);
        } finally {
          await instance.stop();
        }
      });
    }
  });
}

describe.runIf(realAvailable)('npm run import [PostgreSQL without Redis]', () => {
  let backend: Backend;
  let instance: Instance;
  let dir: string;
  beforeAll(async () => {
    // Each server keeps its ranking cache in memory: the import reaches it through Postgres NOTIFY.
    backend = await createBackend('real', { REDIS_URL: '' });
    instance = await startInstance(backend);
    dir = mkdtempSync(join(tmpdir(), 'scoreboard-import-'));
  });
  afterAll(async () => {
    await instance?.stop();
    await backend?.dispose();
  });

  it('a running server rebuilds its in-memory board after the import commits, lowered and removed scores included', async () => {
    const rows = generate('nr', 300);
    writeFileSync(join(dir, 'a.csv'), csv(rows));
    summary(await runImport(backend, join(dir, 'a.csv')));
    const expected = expectedBoard(rows);
    await waitFor(async () => JSON.stringify((await readBoard(instance, 300)).entries) === JSON.stringify(expected), 20_000, 'the imported board');

    // Lower the top player, take the second off the board: merges alone could not do that.
    const [top, second] = expected;
    const changes = rows.map((r) => (r.id === top!.id ? { ...r, score: 1 } : r.id === second!.id ? { ...r, score: 0 } : r));
    writeFileSync(join(dir, 'b.csv'), csv(changes));
    expect(summary(await runImport(backend, join(dir, 'b.csv')))).toEqual(expect.objectContaining({ changed: 2 }));
    const after = expectedBoard(changes.map((r) => (r.id === top!.id ? { ...r, line: 10_000 } : r)));
    await waitFor(async () => JSON.stringify((await readBoard(instance, 300)).entries) === JSON.stringify(after), 20_000, 'the lowered board');
  });
});
