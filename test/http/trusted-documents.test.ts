import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BoardChangedDocument, BoardLeaderboardDocument, LeaderboardDocument } from '../../sdk/generated/graphql.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createTrustedDocuments } from '../../src/http/trusted-documents.js';
import { waitFor } from '../support/app.js';
import { describeBackends } from '../support/suite.js';
import { hexOf, idOf, MANIFEST } from '../support/trusted.js';

const apq = (doc: Parameters<typeof hexOf>[0]) => ({ persistedQuery: { version: 1, sha256Hash: hexOf(doc) } });
const UNKNOWN = 'f'.repeat(64);

describe('trusted documents: the rule', () => {
  const documents = new Map([[createHash('sha256').update('{ boards { id } }').digest('hex'), '{ boards { id } }']]);
  const [id] = [...documents.keys()];

  it('by id in either shape; the manifest text wins over a text sent along', () => {
    const trusted = createTrustedDocuments({ path: 'x', documents, only: true });
    expect(trusted.resolve({ extensions: { persistedQuery: { version: 1, sha256Hash: id } } })).toEqual({ query: '{ boards { id } }', id });
    expect(trusted.resolve({ documentId: `sha256:${id}` })).toEqual({ query: '{ boards { id } }', id });
    expect(trusted.resolve({ documentId: id, query: '{ me { id } }' })).toEqual({ query: '{ boards { id } }', id });
  });

  it('only: text is PERSISTED_QUERY_ONLY, an unknown id PERSISTED_QUERY_NOT_FOUND even with its text', () => {
    const trusted = createTrustedDocuments({ path: 'x', documents, only: true });
    const code = (r: ReturnType<typeof trusted.resolve>) => ('error' in r ? r.error.extensions.code : 'ok');
    expect(code(trusted.resolve({ query: '{ boards { id } }' }))).toBe('PERSISTED_QUERY_ONLY');
    expect(code(trusted.resolve({ documentId: UNKNOWN, query: '{ me { id } }' }))).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(code(trusted.resolve({ extensions: { persistedQuery: { version: 2, sha256Hash: id } } }))).toBe('PERSISTED_QUERY_ONLY');
  });

  it('not only: an unknown id with its text runs the text (Apollo APQ fallback); alone, it is PERSISTED_QUERY_NOT_FOUND', () => {
    for (const trusted of [createTrustedDocuments({ path: 'x', documents, only: false }), createTrustedDocuments(undefined)]) {
      expect(trusted.resolve({ documentId: UNKNOWN, query: '{ me { id } }' })).toEqual({ query: '{ me { id } }' });
      const alone = trusted.resolve({ extensions: { persistedQuery: { version: 1, sha256Hash: UNKNOWN } } });
      expect('error' in alone && alone.error.extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
      expect(trusted.resolve({ query: '{ me { id } }' })).toEqual({ query: '{ me { id } }' });
    }
  });
});

describe('trusted documents: configuration', () => {
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(env);
      return [];
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).problems;
    }
  };
  const dir = mkdtempSync(join(tmpdir(), 'scoreboard-trusted-'));

  it('the codegen manifest loads; every id is the sha256 of its document', () => {
    const config = loadConfig({ DATA_DIR: dir, TRUSTED_DOCUMENTS: MANIFEST, TRUSTED_DOCUMENTS_ONLY: 'true' });
    expect(config.trustedDocuments?.only).toBe(true);
    expect(config.trustedDocuments?.documents.get(hexOf(LeaderboardDocument))).toMatch(/^fragment BoardFields/);
  });

  it('ONLY without a manifest, an unreadable one and a tampered one are configuration errors', () => {
    expect(problems({ DATA_DIR: dir, TRUSTED_DOCUMENTS_ONLY: 'true' }).join()).toMatch(/TRUSTED_DOCUMENTS: is required/);
    expect(problems({ DATA_DIR: dir, TRUSTED_DOCUMENTS: join(dir, 'missing.json') }).join()).toMatch(/TRUSTED_DOCUMENTS: cannot read .* \(ENOENT\)/);
    const tampered = join(dir, 'tampered.json');
    writeFileSync(tampered, JSON.stringify({ [hexOf(LeaderboardDocument)]: '{ me { id } }' }));
    expect(problems({ DATA_DIR: dir, TRUSTED_DOCUMENTS: tampered }).join()).toMatch(/is not the sha256 of its document/);
  });

  it('a production process with TRUSTED_DOCUMENTS_ONLY=true and no readable manifest exits 78', () => {
    const out = spawnSync('npx', ['tsx', 'src/main.ts'], {
      env: {
        ...process.env,
        NODE_ENV: 'production',
        DATABASE_URL: 'postgresql://127.0.0.1:1/none',
        JWT_SECRET: 'j'.repeat(40),
        ACTION_TOKEN_SECRET: 'a'.repeat(40),
        TRUSTED_DOCUMENTS_ONLY: 'true',
        TRUSTED_DOCUMENTS: join(dir, 'missing.json'),
      },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(out.status).toBe(78);
    expect(out.stderr).toMatch(/TRUSTED_DOCUMENTS: cannot read/);
  });
});

describeBackends(
  'trusted documents only',
  (f) => {
    const post = (body: object) =>
      f.app.raw(body).then(async (res) => ({ status: res.status, body: (await res.json()) as { data?: any; errors?: { extensions: { code: string } }[] } }));
    const get = (params: Record<string, string>, headers: Record<string, string> = {}) =>
      fetch(`${f.app.url}/graphql?${new URLSearchParams(params)}`, { headers }).then(async (res) => ({
        status: res.status,
        body: (await res.json()) as { data?: any; errors?: { extensions: { code: string } }[] },
      }));
    const code = (r: { body: { errors?: { extensions: { code: string } }[] } }) => r.body.errors?.map((e) => e.extensions.code);

    it('a listed document runs by id over POST: Apollo shape, documentId with and without "sha256:"', async () => {
      for (const shape of [{ extensions: apq(LeaderboardDocument) }, { documentId: idOf(LeaderboardDocument) }, { documentId: hexOf(LeaderboardDocument) }]) {
        const r = await post({ ...shape, variables: { first: 3 } });
        expect(r.body.errors).toBeUndefined();
        expect(typeof r.body.data.leaderboard.seq).toBe('number');
      }
    });

    it('a listed document runs by id over GET, in both shapes', async () => {
      const byApq = await get({ extensions: JSON.stringify(apq(BoardLeaderboardDocument)), variables: JSON.stringify({ first: 5 }) });
      expect(byApq.status).toBe(200);
      expect(byApq.body.data.leaderboard.entries).toEqual([]);
      const byId = await get({ documentId: idOf(BoardLeaderboardDocument) });
      expect(byId.body.errors).toBeUndefined();
      expect(byId.body.data.leaderboard.board.id).toBe('global');
    });

    it('a free-form query is PERSISTED_QUERY_ONLY over POST and GET, even the text of a listed one', async () => {
      expect(code(await post({ query: '{ leaderboard(first: 1) { seq } }' }))).toEqual(['PERSISTED_QUERY_ONLY']);
      const text = (await import('graphql')).print(LeaderboardDocument);
      expect(code(await post({ query: text }))).toEqual(['PERSISTED_QUERY_ONLY']);
      expect(code(await get({ query: '{ boards { id } }' }, { 'x-graphql-yoga-csrf': '1' }))).toEqual(['PERSISTED_QUERY_ONLY']);
    });

    it('an unknown id is PERSISTED_QUERY_NOT_FOUND in every shape', async () => {
      expect(code(await post({ extensions: { persistedQuery: { version: 1, sha256Hash: UNKNOWN } } }))).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
      expect(code(await post({ documentId: `sha256:${UNKNOWN}`, query: '{ boards { id } }' }))).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
      expect(code(await get({ documentId: UNKNOWN }))).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
    });

    it('WebSocket: a free-form subscription is refused, a listed one runs by id', async () => {
      const client = f.app.ws();
      const refused = await new Promise<unknown>((resolve) => {
        client.subscribe({ query: 'subscription { leaderboardChanged(first: 1) { seq } }' }, { next: resolve, error: resolve, complete: () => resolve('complete') });
      });
      expect(JSON.stringify(refused)).toContain('PERSISTED_QUERY_ONLY');
      const unknown = await new Promise<unknown>((resolve) => {
        client.subscribe(
          { query: '', extensions: { persistedQuery: { version: 1, sha256Hash: UNKNOWN } } },
          { next: resolve, error: resolve, complete: () => resolve('complete') },
        );
      });
      expect(JSON.stringify(unknown)).toContain('PERSISTED_QUERY_NOT_FOUND');
      const events: { data?: any; errors?: unknown }[] = [];
      const stop = client.subscribe(
        { query: '', extensions: apq(BoardChangedDocument), variables: { first: 2 } },
        { next: (e) => void events.push(e as never), error: (e) => void events.push({ errors: e }), complete: () => {} },
      );
      const first = await waitFor(() => events[0], 10_000, 'the snapshot');
      stop();
      expect(first.errors).toBeUndefined();
      expect(first.data.leaderboardChanged.board.id).toBe('global');
    });
  },
  { env: { TRUSTED_DOCUMENTS: MANIFEST, TRUSTED_DOCUMENTS_ONLY: 'true' } },
);
