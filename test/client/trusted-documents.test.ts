import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createScoreboardClient, ErrorCode, PersistedQueryOnlyError, type Leaderboard, type ScoreboardClient } from '../../packages/client/src/index.js';
import { waitFor, type Instance } from '../support/app.js';
import { describeBackends, type Fixture } from '../support/suite.js';
import { MANIFEST } from '../support/trusted.js';

/**
 * The client package's `trustedDocuments` option: its operations by id, against
 * a server that runs only trusted documents (the app's manifest and the
 * package's), and against one that does not know the package's ids (the
 * client falls back to text once, then stays on text).
 */
const CLIENT_MANIFEST = fileURLToPath(new URL('../../packages/client/src/generated/persisted-documents.json', import.meta.url));

async function rejections(instance: Instance, code: string): Promise<number> {
  const text = await (await fetch(`${instance.url}/metrics`)).text();
  return Number(new RegExp(`^scoreboard_rejections_total\\{code="${code}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
}

function clientsFor(f: Fixture) {
  const clients: ScoreboardClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  return async (trustedDocuments: boolean) => {
    const player = await f.player('trusting');
    const client = createScoreboardClient({ url: `${f.app.url}/graphql`, getToken: () => player.token, webSocketImpl: WebSocket, trustedDocuments });
    clients.push(client);
    return { player, client };
  };
}

/** The first live board with the player on it. */
function boardWith(client: ScoreboardClient, playerId: string): Promise<Leaderboard> {
  return new Promise((resolve, reject) => {
    const stop = client.watchLeaderboard(
      { first: 100 },
      (board) => {
        if (!board.entries.some((e) => e.player.id === playerId)) return;
        stop();
        resolve(board);
      },
      { onError: reject },
    );
  });
}

describeBackends(
  'client package by trusted-document id, server with TRUSTED_DOCUMENTS_ONLY',
  (f) => {
    const playerClient = clientsFor(f);

    it('the action flow, reads and the live board all work by id', async () => {
      const { player, client } = await playerClient(true);
      const live = boardWith(client, player.id);
      const result = await client.performAction('COMPLETE_TASK');
      expect(result.player.id).toBe(player.id);
      expect((await client.leaderboard({ first: 100 })).entries.map((e) => e.player.id)).toContain(player.id);
      expect((await client.me())?.id).toBe(player.id);
      expect((await live).seq).toBeGreaterThanOrEqual(result.seq);
      expect(await rejections(f.app, ErrorCode.PERSISTED_QUERY_NOT_FOUND)).toBe(0);
    });

    it('without trustedDocuments the same client is refused with a typed PersistedQueryOnlyError, and nothing ran', async () => {
      const { player, client } = await playerClient(false);
      const error = await client.performAction('COMPLETE_TASK').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PersistedQueryOnlyError);
      expect((error as PersistedQueryOnlyError).code).toBe('PERSISTED_QUERY_ONLY');
      expect((error as PersistedQueryOnlyError).retryable).toBe(false);
      const [row] = await f.app.app.services.prisma.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM action_credits WHERE player_id = ${player.id}`;
      expect(Number(row!.n)).toBe(0);
    });
  },
  { env: { TRUSTED_DOCUMENTS: `${MANIFEST},${CLIENT_MANIFEST}`, TRUSTED_DOCUMENTS_ONLY: 'true' } },
);

describeBackends(
  "client package by id against a server that does not list the package's manifest",
  (f) => {
    const playerClient = clientsFor(f);

    it('falls back to text once, then sends text', async () => {
      const { player, client } = await playerClient(true);
      const before = await rejections(f.app, ErrorCode.PERSISTED_QUERY_NOT_FOUND);
      // The first request by id is refused (nothing runs) and sent again as text.
      expect((await client.leaderboard({ first: 1 })).board.id).toBe('global');
      expect(await rejections(f.app, ErrorCode.PERSISTED_QUERY_NOT_FOUND)).toBe(before + 1);
      // Everything after goes as text: no more refusals.
      const result = await client.performAction('COMPLETE_TASK');
      expect(result.player.id).toBe(player.id);
      expect((await client.leaderboard({ first: 100 })).entries.map((e) => e.player.id)).toContain(player.id);
      expect((await boardWith(client, player.id)).seq).toBeGreaterThanOrEqual(result.seq);
      expect(await rejections(f.app, ErrorCode.PERSISTED_QUERY_NOT_FOUND)).toBe(before + 1);
    });

    it('a subscription by an unknown id is made again by text', async () => {
      const { player, client } = await playerClient(true);
      const before = await rejections(f.app, ErrorCode.PERSISTED_QUERY_NOT_FOUND);
      // The live board first: its refusal is the one that switches this client to text.
      const live = boardWith(client, player.id);
      await waitFor(async () => (await rejections(f.app, ErrorCode.PERSISTED_QUERY_NOT_FOUND)) === before + 1, 10_000, 'the refused subscription');
      const result = await client.performAction('COMPLETE_TASK');
      expect((await live).seq).toBeGreaterThanOrEqual(result.seq);
      expect(await rejections(f.app, ErrorCode.PERSISTED_QUERY_NOT_FOUND)).toBe(before + 1);
    });
  },
  { env: { TRUSTED_DOCUMENTS: MANIFEST } },
);
