import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionTypesDocument, BoardsDocument } from '../../sdk/generated/graphql.js';
import { loadConfig, ConfigError } from '../../src/config.js';
import { expectNoGraphQLErrors, startInstance } from '../support/app.js';
import { createBackend, realBackendsAvailable, type Backend } from '../support/backends.js';
import { describeBackends } from '../support/suite.js';

/**
 * SCOREBOARD_CONFIG: the shipped example applies at start-up on both backends and
 * is visible through the queries, with one CONFIG audit row per change; an
 * invalid file stops the real server process with exit code 78 before it listens.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLE = join(ROOT, 'examples/scoreboard.config.yaml');
const realAvailable = await realBackendsAvailable();
const dir = mkdtempSync(join(tmpdir(), 'scoreboard-config-'));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

interface AuditRow {
  actor: string;
  detail: { what: string; id: string; created: boolean; changes: Record<string, [unknown, unknown]> };
}

describeBackends('configuration file', (f) => {
  it('the shipped example applies at start-up: action types and boards visible through the queries, one CONFIG audit row per change', async () => {
    const instance = await startInstance(f.backend, { SCOREBOARD_CONFIG: EXAMPLE });
    try {
      const types = expectNoGraphQLErrors(await instance.gql(ActionTypesDocument, {})).actionTypes;
      expect(types).toEqual(
        expect.arrayContaining([
          { code: 'COMPLETE_TASK', points: 10, minSeconds: 0 },
          { code: 'WIN_MATCH', points: 50, minSeconds: 30 },
          { code: 'DAILY_LOGIN', points: 5, minSeconds: 0 },
        ]),
      );
      const boards = expectNoGraphQLErrors(await instance.gql(BoardsDocument, {})).boards;
      expect(boards.map((b) => b.id)).toEqual(['global', 'daily', 'daily-country', 'monthly-matches', 'sprint', 'weekly-ny']);
      expect(boards.find((b) => b.id === 'weekly-ny')).toEqual(expect.objectContaining({ window: 'WEEKLY', timeZone: 'America/New_York', weekStart: 'SUNDAY' }));
      expect(boards.find((b) => b.id === 'monthly-matches')).toEqual(expect.objectContaining({ window: 'MONTHLY', actionTypes: ['WIN_MATCH'] }));
      expect(boards.find((b) => b.id === 'daily-country')).toEqual(expect.objectContaining({ segmentBy: 'country' }));
      expect(boards.find((b) => b.id === 'sprint')).toEqual(expect.objectContaining({ window: 'CUSTOM', periodSeconds: 7200, anchor: '2026-12-01T00:00:00.000Z' }));

      const audit = await instance.app.services.prisma.$queryRaw<AuditRow[]>`SELECT actor, detail FROM audit_events WHERE kind = 'CONFIG' ORDER BY id`;
      // COMPLETE_TASK already is 10 points: no change, no row.
      expect(audit.map((a) => `${a.detail.what}:${a.detail.id}`)).toEqual([
        'actionType:WIN_MATCH',
        'actionType:DAILY_LOGIN',
        'board:daily',
        'board:weekly-ny',
        'board:monthly-matches',
        'board:daily-country',
        'board:sprint',
        'achievement:FIRST_WIN',
        'achievement:CENTURY',
        'achievement:PODIUM',
      ]);
      expect(new Set(audit.map((a) => a.actor))).toEqual(new Set(['config:scoreboard.config.yaml']));
      expect(audit[0]!.detail).toEqual(expect.objectContaining({ created: true, changes: expect.objectContaining({ points: [null, 50], minSeconds: [null, 30] }) }));
      const metrics = await (await fetch(`${instance.url}/metrics`)).text();
      expect(metrics).toContain('scoreboard_config_changes_total{what="board",source="file"} 5');
      expect(metrics).toContain('scoreboard_config_changes_total{what="actionType",source="file"} 2');
      expect(metrics).toContain('scoreboard_config_changes_total{what="achievement",source="file"} 3');
      const achievements = await instance.app.services.achievements.list();
      expect(achievements.map((a) => [a.code, a.kind, a.board, a.threshold, a.actionType])).toEqual(
        expect.arrayContaining([
          ['FIRST_WIN', 'ACTION_COUNT', 'global', 1, 'WIN_MATCH'],
          ['CENTURY', 'SCORE_AT_LEAST', 'daily', 100, null],
          ['PODIUM', 'RANK_AT_MOST', 'global', 3, null],
        ]),
      );
    } finally {
      await instance.stop();
    }
  });

  it('a restart with the same file changes nothing; a changed JSON file updates only what differs, and audits it', async () => {
    const count = async (instance: Awaited<ReturnType<typeof startInstance>>) =>
      (await instance.app.services.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM audit_events WHERE kind = 'CONFIG'`)[0]!.n;
    const again = await startInstance(f.backend, { SCOREBOARD_CONFIG: EXAMPLE });
    let before: number;
    try {
      before = await count(again);
      expect(before).toBe(10);
    } finally {
      await again.stop();
    }
    const json = file(
      'scoreboard.json',
      JSON.stringify({
        actionTypes: [{ code: 'WIN_MATCH', points: 60 }],
        boards: [
          { id: 'daily', title: 'Today (UTC)' },
          { id: 'weekly-ny', timeZone: 'america/new_york' },
        ],
      }),
    );
    const changed = await startInstance(f.backend, { SCOREBOARD_CONFIG: json });
    try {
      const types = expectNoGraphQLErrors(await changed.gql(ActionTypesDocument, {})).actionTypes;
      expect(types.find((t) => t.code === 'WIN_MATCH')).toEqual({ code: 'WIN_MATCH', points: 60, minSeconds: 30 });
      const boards = expectNoGraphQLErrors(await changed.gql(BoardsDocument, {})).boards;
      expect(boards.find((b) => b.id === 'daily')!.title).toBe('Today (UTC)');
      // Same zone in another case: no change, no row.
      const audit = await changed.app.services.prisma.$queryRaw<AuditRow[]>`SELECT actor, detail FROM audit_events WHERE kind = 'CONFIG' ORDER BY id`;
      expect(audit.slice(before)).toEqual([
        { actor: 'config:scoreboard.json', detail: expect.objectContaining({ what: 'actionType', id: 'WIN_MATCH', created: false, changes: { points: [50, 60] } }) },
        { actor: 'config:scoreboard.json', detail: expect.objectContaining({ what: 'board', id: 'daily', created: false, changes: { title: ['Today', 'Today (UTC)'] } }) },
      ]);
    } finally {
      await changed.stop();
    }
  });
});

describe.runIf(realAvailable)('configuration file: instances starting together [real]', () => {
  it('apply it once: one audit row per change, not one per instance', async () => {
    const backend = await createBackend('real');
    try {
      const instances = await Promise.all([1, 2, 3].map(() => startInstance(backend, { SCOREBOARD_CONFIG: EXAMPLE })));
      try {
        const rows = await instances[0]!.app.services.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM audit_events WHERE kind = 'CONFIG'`;
        expect(rows[0]!.n).toBe(10);
        const versions = await instances[0]!.app.services.prisma.$queryRaw<{ id: string; version: bigint }[]>`SELECT id, version FROM boards WHERE id <> 'global'`;
        expect(versions.every((b) => b.version === 1n)).toBe(true);
      } finally {
        await Promise.all(instances.map((i) => i.stop()));
      }
    } finally {
      await backend.dispose();
    }
  });
});

describe('configuration file: shape errors are configuration errors, every problem named with its path', () => {
  it('unknown keys at any level, invalid values, duplicates, bad syntax', () => {
    const problems = (text: string, name = 'c.yaml') => {
      try {
        loadConfig({ DATA_DIR: dir, SCOREBOARD_CONFIG: file(name, text) });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).problems;
      }
      throw new Error('no ConfigError');
    };
    const prefix = `SCOREBOARD_CONFIG ${join(dir, 'c.yaml')}: `;
    expect(problems('boards:\n  - id: a\n    window: DAILY\n  - id: b\n    windw: DAILY\n')).toEqual([`${prefix}boards[1].windw: unknown key`]);
    expect(problems('leaderboards: []\n')).toEqual([`${prefix}leaderboards: unknown key`]);
    expect(problems('boards:\n  - id: a\n    window: DAYLY\n  - id: B\n')).toEqual([
      `${prefix}boards[0].window: must be one of ALL_TIME, DAILY, WEEKLY, MONTHLY, CUSTOM`,
      `${prefix}boards[1].id: must be 1..40 characters of a-z, 0-9 and -`,
    ]);
    expect(problems('actionTypes:\n  - code: WIN\n    points: 0\n  - code: LOSE\n    points: 1.5\n')).toEqual([
      `${prefix}actionTypes[0].points: must be at least 1`,
      `${prefix}actionTypes[1].points: must be a whole number`,
    ]);
    // Duplicates are looked for once every entry is well-formed.
    expect(problems('actionTypes:\n  - code: WIN\n    points: 1\n  - code: WIN\n    points: 2\nboards:\n  - id: a\n  - id: a\n')).toEqual([
      `${prefix}actionTypes[1].code: duplicate of actionTypes[0] ("WIN")`,
      `${prefix}boards[1].id: duplicate of boards[0] ("a")`,
    ]);
    expect(problems('boards:\n  - id: a\n    timeZone: Mars/Olympus\n')).toEqual([`${prefix}boards[0].timeZone: must be a valid IANA time zone (e.g. "UTC", "Europe/Paris")`]);
    expect(problems('achievements:\n  - code: FIRST\n    kind: SCORE_AT_MOST\n    threshold: 0\n')).toEqual([
      `${prefix}achievements[0].kind: must be one of SCORE_AT_LEAST, ACTION_COUNT, RANK_AT_MOST`,
      `${prefix}achievements[0].threshold: must be at least 1`,
    ]);
    expect(problems('boards: [\n')[0]).toMatch(/: not valid YAML: /);
    expect(problems('{"boards": [}', 'c.json')[0]).toMatch(/c\.json: not valid JSON: /);
    expect(problems('- 1\n- 2\n')).toEqual([`${prefix}(top level): the file must hold a mapping with actionTypes, boards and/or achievements`]);
  });
});

/** The server process as operators start it: exit code 78, the problem named, and never listening. */
function startServer(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (c: Buffer) => (out.stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out.stderr += c.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, ...out })));
}

describe('configuration file: an invalid file stops the server process with exit code 78 before it serves', () => {
  it('an unknown key (no database is even opened)', async () => {
    const out = await startServer({
      DATA_DIR: mkdtempSync(join(dir, 'data-')),
      SCOREBOARD_CONFIG: file('unknown.yaml', 'boards:\n  - id: daily\n    window: DAILY\n    colour: red\n'),
    });
    expect(out.code, out.stderr).toBe(78);
    expect(out.stderr).toContain('unknown.yaml: boards[0].colour: unknown key');
    expect(out.stdout).not.toContain('listening');
  });

  it('an invalid value', async () => {
    const out = await startServer({ DATA_DIR: mkdtempSync(join(dir, 'data-')), SCOREBOARD_CONFIG: file('value.yaml', 'actionTypes:\n  - code: WIN_MATCH\n    points: 5000000\n') });
    expect(out.code, out.stderr).toBe(78);
    expect(out.stderr).toContain('value.yaml: actionTypes[0].points: must be at most 1000000');
    expect(out.stdout).not.toContain('listening');
  });

  describe.runIf(realAvailable)('values only the database can judge [real]', () => {
    let backend: Backend;
    beforeAll(async () => {
      backend = await createBackend('real');
    });
    afterAll(async () => {
      await backend?.dispose();
    });

    it('a board naming an unknown action type, and an achievement on an unknown board: exit 78 naming the entry, nothing served', async () => {
      const unknownType = await startServer({
        ...backend.env,
        SCOREBOARD_CONFIG: file('refs.yaml', 'boards:\n  - id: ok\n    window: DAILY\n  - id: wins\n    window: DAILY\n    actionTypes: [NOPE]\n'),
      });
      expect(unknownType.code, unknownType.stderr).toBe(78);
      expect(unknownType.stderr).toContain('refs.yaml: boards[1]: Unknown action types: NOPE');
      expect(unknownType.stdout).not.toContain('listening');

      const achievements = await startServer({
        ...backend.env,
        SCOREBOARD_CONFIG: file('achievements.yaml', 'achievements:\n  - code: TOP_TEN\n    title: Top ten\n    kind: RANK_AT_MOST\n    board: no-such-board\n    threshold: 10\n'),
      });
      expect(achievements.code, achievements.stderr).toBe(78);
      expect(achievements.stderr).toContain('achievements.yaml: achievements[0]: Unknown board "no-such-board"');
      expect(achievements.stdout).not.toContain('listening');
    });
  });
});
