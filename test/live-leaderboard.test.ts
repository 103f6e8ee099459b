import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { LeaderboardChangedDocument, LeaderboardDocument, type LeaderboardChangedSubscription } from '../sdk/generated/graphql.js';
import { collect, expectNoGraphQLErrors, waitFor } from './support/app.js';
import { REDIS_URL } from './support/backends.js';
import { completeTask } from './support/play.js';
import { describeBackends } from './support/suite.js';

type Board = LeaderboardChangedSubscription['leaderboardChanged'];
const view = (b: Board) => b.entries.map((e) => `${e.rank}:${e.player.username}:${e.score}`);
const monotonic = (events: { leaderboardChanged: Board }[]) => events.every((e, i) => i === 0 || e.leaderboardChanged.seq >= events[i - 1]!.leaderboardChanged.seq);

describeBackends(
  'live leaderboard',
  (f) => {
    const query = async (first: number) => expectNoGraphQLErrors(await f.app.gql(LeaderboardDocument, { first })).leaderboard;

    it('snapshot first, at once; then every instance converges to the same board and seq as the query', async () => {
      const players = await Promise.all(['ann', 'bob', 'cid', 'dee'].map((n) => f.player(n)));
      const subs = f.instances.flatMap((inst) => [collect(inst.ws(), LeaderboardChangedDocument, { first: 10 }), collect(inst.ws(), LeaderboardChangedDocument, { first: 10 })]);
      await waitFor(() => subs.every((s) => s.events.length >= 1), 10_000, 'snapshots');
      const snapshot = await query(10);
      for (const s of subs) expect(view(s.events[0]!.leaderboardChanged)).toEqual(view(snapshot));

      // Actions go to the other instances than the subscribers'.
      for (let round = 0; round < 3; round++) {
        await Promise.all(players.map((p, i) => completeTask(f.at(i + round + 1), p.token)));
      }
      const final = await query(10);
      await waitFor(() => subs.every((s) => s.events.at(-1)!.leaderboardChanged.seq === final.seq), 10_000, 'convergence');
      for (const s of subs) {
        expect(view(s.events.at(-1)!.leaderboardChanged)).toEqual(view(final));
        expect(monotonic(s.events)).toBe(true);
        expect(s.errors).toEqual([]);
      }
      // The same seq means the same board, on every instance.
      const perInstance = await Promise.all(f.instances.map(async (i) => expectNoGraphQLErrors(await i.gql(LeaderboardDocument, { first: 10 })).leaderboard));
      for (const b of perInstance) expect({ seq: b.seq, v: view(b) }).toEqual({ seq: final.seq, v: view(final) });
      subs.forEach((s) => s.unsubscribe());
    });

    it('re-subscribing after a disconnect gets the current snapshot first', async () => {
      const p = await f.player('reconnector');
      const client = f.at(1).ws();
      const first = collect(client, LeaderboardChangedDocument, { first: 10 });
      await waitFor(() => first.events.length >= 1);
      await client.dispose(); // connection gone
      await completeTask(f.app, p.token); // the board moves while we are away
      const now = await query(10);
      const again = collect(f.at(1).ws(), LeaderboardChangedDocument, { first: 10 });
      await waitFor(() => again.events.length >= 1);
      expect(view(again.events[0]!.leaderboardChanged)).toEqual(view(now));
      expect(again.events[0]!.leaderboardChanged.seq).toBe(now.seq);
      again.unsubscribe();
    });

    it('no event for an action outside the top `first`', async () => {
      const top = await query(2);
      expect(top.entries).toHaveLength(2);
      const sub = collect(f.at(1).ws(), LeaderboardChangedDocument, { first: 2 });
      await waitFor(() => sub.events.length >= 1);
      const outsider = await f.player('outsider');
      await completeTask(f.app, outsider.token); // 10 points: far below the top 2
      // Control: a subscriber with room for everyone does see it.
      const wide = collect(f.at(1).ws(), LeaderboardChangedDocument, { first: 100 });
      await waitFor(() => wide.events.length >= 1);
      await completeTask(f.app, outsider.token);
      await waitFor(() => wide.events.length >= 2, 5_000, 'wide event');
      await new Promise((r) => setTimeout(r, 300));
      expect(sub.events).toHaveLength(1);
      sub.unsubscribe();
      wide.unsubscribe();
    });

    it('a burst of 200 actions produces far fewer events, and the last equals the final board', async () => {
      const players = await Promise.all(Array.from({ length: 8 }, (_, i) => f.player(`burst${i}`)));
      const subs = f.instances.map((i) => collect(i.ws(), LeaderboardChangedDocument, { first: 10 }));
      await waitFor(() => subs.every((s) => s.events.length >= 1));
      const before = subs.map((s) => s.events.length);
      let next = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          for (let i = next++; i < 200; i = next++) await completeTask(f.at(i), players[i % 8]!.token);
        }),
      );
      const final = await query(10);
      await waitFor(() => subs.every((s) => s.events.at(-1)!.leaderboardChanged.seq === final.seq), 10_000, 'final board');
      subs.forEach((s, i) => {
        const received = s.events.length - before[i]!;
        expect(received).toBeGreaterThan(0);
        expect(received).toBeLessThan(100);
        expect(view(s.events.at(-1)!.leaderboardChanged)).toEqual(view(final));
        expect(monotonic(s.events)).toBe(true);
      });
      subs.forEach((s) => s.unsubscribe());
    });

    it('subscribers of the same board and operation share one execution per change', async () => {
      const p = await f.player('sharer');
      const subs = Array.from({ length: 20 }, () => collect(f.app.ws(), LeaderboardChangedDocument, { first: 5 }));
      await waitFor(() => subs.every((s) => s.events.length >= 1));
      const counter = f.app.app.services.metrics.sharedExecutions;
      const before = (await counter.get()).values[0]?.value ?? 0;
      for (let i = 0; i < 30; i++) await completeTask(f.at(1), p.token); // 300 points: into the top 5
      const final = await query(5);
      await waitFor(() => subs.every((s) => s.events.at(-1)!.leaderboardChanged.seq === final.seq), 10_000, 'final board');
      const events = subs[0]!.events.length - 1;
      const executions = ((await counter.get()).values[0]?.value ?? 0) - before;
      // One execution per distinct board, not one per subscriber (20 x events).
      expect(executions).toBeLessThanOrEqual(events);
      subs.forEach((s) => expect(view(s.events.at(-1)!.leaderboardChanged)).toEqual(view(final)));
      subs.forEach((s) => s.unsubscribe());
    });

    it('works over server-sent events too (snapshot first)', async () => {
      const controller = new AbortController();
      const res = await fetch(`${f.app.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ query: 'subscription { leaderboardChanged(first: 3) { seq entries { rank score player { username } } } }' }),
        signal: controller.signal,
      });
      expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
      const reader = res.body!.getReader();
      let text = '';
      while (!text.includes('\n\n') || !text.includes('data:')) text += new TextDecoder().decode((await reader.read()).value);
      const data = JSON.parse(text.split('data:')[1]!.split('\n')[0]!);
      const expected = await query(3);
      expect(data.data.leaderboardChanged.seq).toBe(expected.seq);
      controller.abort();
    });

    it('first out of range: BAD_USER_INPUT', async () => {
      const sub = collect(f.app.ws(), LeaderboardChangedDocument, { first: 101 });
      await waitFor(() => sub.errors.length > 0);
      expect(JSON.stringify(sub.errors)).toMatch(/BAD_USER_INPUT/);
    });

    if (f.kind === 'real')
      it('after the bus connection drops and returns, every subscriber gets a fresh snapshot', async () => {
        const subs = f.instances.map((i) => collect(i.ws(), LeaderboardChangedDocument, { first: 10 }));
        await waitFor(() => subs.every((s) => s.events.length >= 1));
        const counts = subs.map((s) => s.events.length);
        const admin = new Redis(REDIS_URL);
        await admin.client('KILL', 'TYPE', 'pubsub');
        admin.disconnect();
        await waitFor(() => subs.every((s, i) => s.events.length > counts[i]!), 10_000, 'resync after reconnect');
        const now = await query(10);
        for (const s of subs) expect(view(s.events.at(-1)!.leaderboardChanged)).toEqual(view(now));
        subs.forEach((s) => s.unsubscribe());
      });
  },
  // A coalescing window long enough to show the effect even on a slow, shared CI machine.
  { instances: 3, cluster: true, env: { LEADERBOARD_COALESCE_MS: '200' } },
);
