import { Client, fetchExchange } from '@urql/core';
import { expect, it } from 'vitest';
import { BoardsDocument, IssueActionTokenDocument, LeaderboardDocument } from '../../sdk/generated/graphql.js';
import { trustedDocumentsExchange } from '../../web/src/trusted-documents.js';
import type { Instance } from '../support/app.js';
import { describeBackends } from '../support/suite.js';
import { MANIFEST } from '../support/trusted.js';

async function metric(instance: Instance, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${instance.url}/metrics`)).text();
  return Number(pattern.exec(text)?.[1] ?? 0);
}
const cacheReads = async (i: Instance) => (await metric(i, /^scoreboard_response_cache_hits_total (\d+)/m)) + (await metric(i, /^scoreboard_response_cache_misses_total (\d+)/m));
const notFound = (i: Instance) => metric(i, /^scoreboard_rejections_total\{code="PERSISTED_QUERY_NOT_FOUND"\} (\d+)/m);

describeBackends(
  "the page's trusted-documents exchange",
  (f) => {
    const client = (token?: string) =>
      new Client({
        url: `${f.app.url}/graphql`,
        requestPolicy: 'network-only',
        fetchOptions: (): RequestInit => ({ headers: token ? { authorization: `Bearer ${token}` } : {} }),
        exchanges: [trustedDocumentsExchange(), fetchExchange],
      });

    it('a query goes by id as a GET (through the response cache), a mutation by id over POST', async () => {
      const before = await cacheReads(f.app);
      const board = await client().query(LeaderboardDocument, { first: 3 }).toPromise();
      expect(board.error).toBeUndefined();
      expect(typeof board.data?.leaderboard.seq).toBe('number');
      expect(await cacheReads(f.app)).toBe(before + 1);
      const alice = await f.player('alice');
      const ticket = await client(alice.token).mutation(IssueActionTokenDocument, { actionType: 'COMPLETE_TASK' }).toPromise();
      expect(ticket.error).toBeUndefined();
      expect(ticket.data?.issueActionToken.actionType).toBe('COMPLETE_TASK');
    });

    it('an id the server does not know falls back to the text once, then that document goes as text', async () => {
      const stranger = { ...BoardsDocument, __meta__: { hash: `sha256:${'e'.repeat(64)}` } } as typeof BoardsDocument;
      const c = client();
      const misses = await notFound(f.app);
      const first = await c.query(stranger, {}).toPromise();
      expect(first.error).toBeUndefined();
      expect(first.data?.boards.map((b) => b.id)).toContain('global');
      expect(await notFound(f.app)).toBe(misses + 1);
      const second = await c.query(stranger, {}).toPromise();
      expect(second.error).toBeUndefined();
      expect(await notFound(f.app)).toBe(misses + 1);
    });
  },
  { env: { TRUSTED_DOCUMENTS: MANIFEST } },
);
