import { parse } from 'graphql';
import { expect, it } from 'vitest';
import { createSharedResults, SLOW_CONSUMER_BYTES, MAX_SHARED_OPERATIONS } from '../src/resolvers/live/shared-results.js';
import { schema } from '../src/schema/index.js';
import { waitFor } from './support/app.js';
import { healthzDuring, httpStream, rawSocket } from './support/hostile.js';
import { completeTask } from './support/play.js';
import { describeBackends } from './support/suite.js';

/** What must be withstood, "Hostile clients": subscription floods, proxy-aware caps, SSE and multipart. */

const BOARD = 'subscription { leaderboardChanged(first: 3) { seq entries { rank score } } }';
const executions = async (registry: { getSingleMetric(name: string): any }) =>
  (await registry.getSingleMetric('scoreboard_subscription_executions_total').get()).values[0]?.value ?? 0;

describeBackends('hostile clients: subscription floods over one WebSocket', (f) => {
  it('one socket holds at most WS_MAX_SUBSCRIPTIONS_PER_SOCKET (default 100) operations; the rest get RATE_LIMITED, the socket stays usable', async () => {
    expect(f.app.config.ws.maxSubscriptionsPerSocket).toBe(100);
    const s = rawSocket(f.app);
    expect(await s.init()).toBe(true);
    await healthzDuring(f.app, '150 subscriptions on one socket', async () => {
      for (let i = 0; i < 150; i++) s.send({ id: `op${i}`, type: 'subscribe', payload: { query: BOARD } });
      await waitFor(
        () => {
          const answered = Array.from({ length: 150 }, (_, i) => s.of(`op${i}`).length > 0);
          return answered.every(Boolean);
        },
        30_000,
        'every operation answered',
      );
    });
    const refused = Array.from({ length: 150 }, (_, i) => s.of(`op${i}`)).filter((m) => m.some((x) => x.type === 'error'));
    const live = Array.from({ length: 150 }, (_, i) => s.of(`op${i}`)).filter((m) => m.some((x) => x.type === 'next'));
    expect(live).toHaveLength(100);
    expect(refused).toHaveLength(50);
    expect(refused[0]!.find((x) => x.type === 'error').payload[0].extensions.code).toBe('RATE_LIMITED');
    expect(s.closedWith()).toBeUndefined();

    // Completing one frees a slot for another.
    s.send({ id: 'op0', type: 'complete' });
    await new Promise((r) => setTimeout(r, 100));
    s.send({ id: 'again', type: 'subscribe', payload: { query: BOARD } });
    await waitFor(() => s.of('again').length > 0, 10_000, 'a new operation after a complete');
    expect(s.of('again')[0].type).toBe('next');
    s.ws.close();
  });

  it('distinct aliases cannot multiply the work per change: distinct live operations are bounded, names and unused variables do not count', async () => {
    const before = await executions(f.app.app.services.metrics.registry);
    const p = await f.player('alias-mover');
    const sockets = [rawSocket(f.app), rawSocket(f.app), rawSocket(f.app)];
    for (const s of sockets) expect(await s.init()).toBe(true);
    // 300 distinct alias spellings: more than the instance keeps live at once.
    let n = 0;
    for (const s of sockets) {
      for (let i = 0; i < 100; i++, n++) s.send({ id: `a${n}`, type: 'subscribe', payload: { query: `subscription { x${n}: leaderboardChanged(first: 3) { seq } }` } });
    }
    const answered = () => new Set(sockets.flatMap((s) => s.messages.filter((m) => m.type === 'next').map((m) => m.id))).size;
    await waitFor(() => answered() === 300, 60_000, 'every alias answered');
    // Refused as a result with errors (then `complete`): GraphQL's way to end one operation, not the socket.
    const refused = sockets.flatMap((s) => s.messages.filter((m) => m.type === 'next' && m.payload.errors));
    expect(refused.length).toBe(300 - MAX_SHARED_OPERATIONS);
    expect(refused.every((m) => m.payload.errors[0].extensions.code === 'RATE_LIMITED')).toBe(true);
    expect(sockets.flatMap((s) => s.messages.filter((m) => m.type === 'next' && m.payload.data)).length).toBe(MAX_SHARED_OPERATIONS);
    for (const s of sockets) s.ws.close();
    await Promise.all(sockets.map((s) => s.closed));

    // The same selection under 50 operation names and with undeclared variables: one shared execution per change.
    const named = rawSocket(f.app);
    expect(await named.init()).toBe(true);
    for (let i = 0; i < 50; i++) {
      named.send({ id: `n${i}`, type: 'subscribe', payload: { query: `subscription Name${i} { leaderboardChanged(first: 3) { seq } }`, variables: { junk: i } } });
    }
    await waitFor(() => Array.from({ length: 50 }, (_, i) => named.of(`n${i}`).length > 0).every(Boolean), 10_000, 'snapshots');
    const errors = named.messages.filter((m) => m.type === 'error' || m.payload?.errors);
    expect(errors).toEqual([]);
    await new Promise((r) => setTimeout(r, 100)); // snapshots settled
    const beforeChange = await executions(f.app.app.services.metrics.registry);
    const seen = named.messages.length;
    await healthzDuring(f.app, 'a change fanned out to 50 named operations', async () => {
      await completeTask(f.app, p.token);
      await waitFor(() => named.messages.length >= seen + 50, 10_000, 'the change reached every operation');
    });
    expect((await executions(f.app.app.services.metrics.registry)) - beforeChange).toBe(1);
    expect(beforeChange).toBeGreaterThan(before);
    named.ws.close();
  });

  it('nothing is executed or serialized for a socket that will not get the message (over its buffer limit)', async () => {
    const services = f.app.app.services;
    const shared = createSharedResults(services);
    let sent = 0;
    let terminated = false;
    // A socket whose peer stopped reading: ws reports what is queued in bufferedAmount.
    const stalled = {
      OPEN: 1,
      readyState: 1,
      bufferedAmount: SLOW_CONSUMER_BYTES + 1,
      send: () => void (sent += 1),
      terminate: () => void (terminated = true),
    };
    const before = await executions(services.metrics.registry);
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- a hand-made operation root stands in for graphql-ws here
    const iterator = (await shared.subscribe({
      schema,
      document: parse('subscription { leaderboardChanged(first: 7) { seq entries { score } } }'),
      rootValue: { subscribe: () => undefined, socket: stalled as never, id: 'stalled' },
    } as never)) as AsyncIterator<unknown>;
    await waitFor(() => terminated, 10_000, 'the stalled socket to be cut off');
    expect(sent).toBe(0);
    expect(await executions(services.metrics.registry)).toBe(before);
    await iterator.return!();
  });
});

describeBackends(
  'hostile clients: per-address caps behind the shipped proxy (TRUST_PROXY=true, one hop)',
  (f) => {
    it('the rightmost X-Forwarded-For entry (added by our proxy) is the address; a client-written entry is ignored', async () => {
      // Every client writes a fresh fake leftmost entry; nginx appends the real one.
      const from = (real: string, i: number) => rawSocket(f.app, { 'x-forwarded-for': `10.${i}.0.1, ${real}` });
      const same = [from('203.0.113.7', 1), from('203.0.113.7', 2), from('203.0.113.7', 3)];
      const outcomes = await Promise.all(same.map((s) => s.opened.then(() => Promise.race([s.closed.then((c) => c.code), s.init().then(() => 'ack')]))));
      expect(outcomes.filter((o) => o === 'ack')).toHaveLength(2);
      expect(outcomes.filter((o) => o === 1013)).toHaveLength(1);
      // Another real address is not locked out by the first one.
      const other = from('198.51.100.4', 9);
      expect(await other.init()).toBe(true);
      for (const s of [...same, other]) s.ws.close();
    });
  },
  { env: { TRUST_PROXY: 'true', WS_MAX_CONNECTIONS_PER_IP: '2' } },
);

describeBackends(
  'hostile clients: TRUST_PROXY as a number of hops',
  (f) => {
    it('with two trusted hops the second entry from the right is the client', async () => {
      const a = rawSocket(f.app, { 'x-forwarded-for': 'spoofed, 192.0.2.1, 10.0.0.2' });
      const b = rawSocket(f.app, { 'x-forwarded-for': 'other-spoof, 192.0.2.1, 10.0.0.3' });
      const c = rawSocket(f.app, { 'x-forwarded-for': '192.0.2.99, 10.0.0.2' });
      expect(await a.init()).toBe(true);
      expect(await Promise.race([b.closed.then((x) => x.code), b.init().then(() => 'ack')])).toBe(1013);
      expect(await c.init()).toBe(true);
      for (const s of [a, b, c]) s.ws.close();
    });
  },
  { env: { TRUST_PROXY: '2', WS_MAX_CONNECTIONS_PER_IP: '1' }, only: ['embedded'] },
);

describeBackends(
  'hostile clients: SSE and multipart subscriptions',
  (f) => {
    it('SSE streams count against the per-address cap together with WebSockets; a closed stream frees its slot', async () => {
      const streams = [httpStream(f.app, BOARD), httpStream(f.app, BOARD), httpStream(f.app, BOARD)];
      await waitFor(() => streams.every((s) => s.payloads().length >= 1), 10_000, 'three streams live');
      expect(streams.every((s) => s.payloads()[0].data?.leaderboardChanged)).toBe(true);
      const fourth = httpStream(f.app, BOARD);
      await waitFor(() => fourth.payloads().length >= 1, 10_000, 'the fourth stream answered');
      expect(fourth.payloads()[0].errors[0].extensions.code).toBe('RATE_LIMITED');
      // A WebSocket from the same address finds the cap full too.
      const ws = rawSocket(f.app);
      await ws.opened;
      expect((await ws.closed).code).toBe(1013);

      streams[0]!.close();
      await waitFor(
        async () => {
          const retry = httpStream(f.app, BOARD);
          await waitFor(() => retry.payloads().length >= 1 || retry.ended(), 10_000, 'retry answered');
          const ok = Boolean(retry.payloads()[0]?.data);
          retry.close();
          return ok;
        },
        10_000,
        'a slot to free up',
      );
      streams.forEach((s) => s.close());
      fourth.close();
    });

    it('SSE streams with a JWT count against the per-player cap', async () => {
      const p = await f.player('sse-tabs');
      const auth = { authorization: `Bearer ${p.token}` };
      const one = httpStream(f.app, BOARD, { headers: auth });
      const two = httpStream(f.app, BOARD, { headers: auth });
      await waitFor(() => one.payloads().length >= 1 && two.payloads().length >= 1, 10_000, 'two streams');
      const three = httpStream(f.app, BOARD, { headers: auth });
      await waitFor(() => three.payloads().length >= 1, 10_000, 'third answered');
      expect(three.payloads()[0].errors[0].extensions.code).toBe('RATE_LIMITED');
      for (const s of [one, two, three]) s.close();
    });

    it('multipart subscriptions are not offered (406): SSE and WebSocket are the live transports', async () => {
      const multipart = httpStream(f.app, BOARD, { accept: 'multipart/mixed' });
      await multipart.done;
      expect(multipart.status()).toBe(406);
      expect(multipart.payloads().some((p) => p.data)).toBe(false);
    });
  },
  { env: { WS_MAX_CONNECTIONS_PER_IP: '3', WS_MAX_CONNECTIONS_PER_PLAYER: '2' } },
);

describeBackends('hostile clients: SSE fan-out', (f) => {
  it('SSE streams share one execution per change', async () => {
    const p = await f.player('sse-mover');
    const streams = [httpStream(f.app, BOARD), httpStream(f.app, BOARD), httpStream(f.app, BOARD)];
    await waitFor(() => streams.every((s) => s.payloads().length >= 1), 10_000, 'snapshots');
    await new Promise((r) => setTimeout(r, 100));
    const before = await executions(f.app.app.services.metrics.registry);
    const counts = streams.map((s) => s.payloads().length);
    await healthzDuring(f.app, 'a change to three SSE streams', async () => {
      await completeTask(f.app, p.token);
      await waitFor(() => streams.every((s, i) => s.payloads().length > counts[i]!), 10_000, 'the change on every stream');
    });
    expect((await executions(f.app.app.services.metrics.registry)) - before).toBe(1);
    for (const s of streams) expect(s.payloads().at(-1).data.leaderboardChanged.seq).toBeGreaterThan(s.payloads()[0].data.leaderboardChanged.seq);
    streams.forEach((s) => s.close());
  });
});
