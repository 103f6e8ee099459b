import { expect, it } from 'vitest';
import WebSocket from 'ws';
import { LeaderboardChangedDocument } from '../sdk/generated/graphql.js';
import { collect, waitFor, type Instance } from './support/app.js';
import { completeTask } from './support/play.js';
import { describeBackends } from './support/suite.js';

/** A raw graphql-transport-ws socket, to send what a well-behaved client never would. */
function rawSocket(instance: Instance, headers: Record<string, string> = {}) {
  const ws = new WebSocket(instance.wsUrl, 'graphql-transport-ws', { headers });
  const messages: any[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  const opened = new Promise<void>((resolve, reject) => {
    ws.on('open', () => resolve());
    ws.on('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
    ws.on('error', reject);
  });
  ws.on('message', (m) => messages.push(JSON.parse(String(m))));
  return { ws, messages, closed, opened };
}

const SUBSCRIBE = { query: 'subscription { leaderboardChanged(first: 3) { seq } }' };

/** What must be withstood, "WebSocket". */
describeBackends(
  'WebSocket hardening',
  (f) => {
    it('no connection_init in time: closed 4408', async () => {
      const s = rawSocket(f.app);
      await s.opened;
      expect((await s.closed).code).toBe(4408);
    });

    it('garbage frames: closed 4400', async () => {
      const s = rawSocket(f.app);
      await s.opened;
      s.ws.send('{not json');
      expect((await s.closed).code).toBe(4400);
    });

    it('subscribe before ack: closed 4401', async () => {
      const s = rawSocket(f.app);
      await s.opened;
      s.ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: SUBSCRIBE }));
      expect((await s.closed).code).toBe(4401);
    });

    it('duplicate subscription ids: closed 4409', async () => {
      const s = rawSocket(f.app);
      await s.opened;
      s.ws.send(JSON.stringify({ type: 'connection_init' }));
      await waitFor(() => s.messages.some((m) => m.type === 'connection_ack'));
      s.ws.send(JSON.stringify({ id: 'dup', type: 'subscribe', payload: SUBSCRIBE }));
      s.ws.send(JSON.stringify({ id: 'dup', type: 'subscribe', payload: SUBSCRIBE }));
      expect((await s.closed).code).toBe(4409);
    });

    it('frames over 64 KiB: closed 1009', async () => {
      const s = rawSocket(f.app);
      await s.opened;
      s.ws.send(JSON.stringify({ type: 'connection_init', payload: { pad: 'x'.repeat(70 * 1024) } }));
      expect((await s.closed).code).toBe(1009);
    });

    it('an invalid JWT in connection_init: closed 4403; a valid one is accepted', async () => {
      const bad = rawSocket(f.app);
      await bad.opened;
      bad.ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: 'Bearer nope' } }));
      expect((await bad.closed).code).toBe(4403);
      const p = await f.player('ws-user');
      const sub = collect(f.app.ws(p.token), LeaderboardChangedDocument, { first: 3 });
      await waitFor(() => sub.events.length >= 1);
      sub.unsubscribe();
    });

    it('a disallowed Origin is refused when an allow-list is configured', async () => {
      const ws = f.app.app.services.config.ws;
      ws.allowedOrigins = ['https://app.example'];
      try {
        const refused = rawSocket(f.app, { origin: 'https://evil.example' });
        await expect(refused.opened).rejects.toMatchObject({ status: 403 });
        const allowed = rawSocket(f.app, { origin: 'https://app.example' });
        await allowed.opened;
        allowed.ws.close();
      } finally {
        ws.allowedOrigins = [];
      }
    });

    it('connections over the per-IP cap are closed 1013', async () => {
      const ws = f.app.app.services.config.ws;
      const before = ws.maxPerIp;
      ws.maxPerIp = 5;
      try {
        const sockets = Array.from({ length: 8 }, () => rawSocket(f.app));
        await Promise.all(sockets.map((s) => s.opened));
        // Waits for the refusals themselves, not for a fixed time: the same on a slow or a fast machine.
        const codes: (number | undefined)[] = sockets.map(() => undefined);
        sockets.forEach((s, i) => void s.closed.then((c) => (codes[i] = c.code)));
        await waitFor(() => codes.filter((c) => c === 1013).length >= 3, 10_000, 'three refusals');
        expect(sockets.filter((s) => s.ws.readyState === WebSocket.OPEN).length).toBeGreaterThanOrEqual(1);
        expect(codes.filter((c) => c !== undefined && c !== 1013)).toEqual([]);
        sockets.forEach((s) => s.ws.close());
      } finally {
        ws.maxPerIp = before;
      }
    });

    it('connections over the per-player cap are closed 1013', async () => {
      const p = await f.player('many-tabs');
      const sockets = Array.from({ length: 3 }, () => rawSocket(f.app));
      await Promise.all(sockets.map((s) => s.opened));
      for (const s of sockets) s.ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${p.token}` } }));
      const outcome = await Promise.all(
        sockets.map((s) => Promise.race([s.closed.then((c) => c.code), waitFor(() => s.messages.some((m) => m.type === 'connection_ack')).then(() => 'ack')])),
      );
      expect(outcome.filter((o) => o === 'ack')).toHaveLength(2);
      expect(outcome.filter((o) => o === 1013)).toHaveLength(1);
      sockets.forEach((s) => s.ws.close());
    });

    it('a slow consumer is skipped to the latest board instead of buffering every change', async () => {
      const p = await f.player('slowpoke-mover');
      const spec = { board: 'global', period: null, segment: null, first: 10, rankMode: 'ORDINAL' as const };
      const feed = f.app.app.services.boardFeed.subscribe(spec);
      const first = await feed.next(); // the snapshot
      // The consumer stops reading while the board changes many times.
      for (let i = 0; i < 15; i++) {
        await completeTask(f.app, p.token);
        await new Promise((r) => setTimeout(r, 40)); // each change is flushed on its own
      }
      const final = await f.app.app.services.rankingCache.page({ board: 'global', period: 'all', segment: null }, 0, 10);
      // A second listener of the same board sees each flush right after the stalled one does.
      let latest = 0;
      const stop = f.app.app.services.boardFeed.listen(spec, (b) => (latest = b.seq));
      await waitFor(() => latest === final!.seq, 10_000, 'the final board flushed');
      stop();
      const next = await feed.next();
      expect(next.value!.seq).toBe(final!.seq); // straight to the latest state: nothing in between was queued
      expect(next.value!.seq).toBeGreaterThan(first.value!.seq);
      await feed.return!();
    });
  },
  { instances: 2, env: { WS_MAX_CONNECTIONS_PER_PLAYER: '2' } },
);
