import { print } from 'graphql';
import { expect, it } from 'vitest';
import { BoardLeaderboardDocument, BoardsDocument, LeaderboardDocument, MeDocument } from '../../sdk/generated/graphql.js';
import { startInstance, waitFor, type Instance } from '../support/app.js';
import { completeTask } from '../support/play.js';
import { startRedisProxy } from '../support/redis-proxy.js';
import { describeBackends } from '../support/suite.js';
import { idOf, MANIFEST } from '../support/trusted.js';

interface Read {
  status: number;
  headers: Headers;
  text: string;
  body?: { data?: any; errors?: { extensions: { code: string } }[] };
}

/** A GET of a document by id (no CSRF header: trusted documents need none). */
async function getById(instance: Instance, doc: Parameters<typeof idOf>[0], variables?: object, headers: Record<string, string> = {}): Promise<Read> {
  const params = new URLSearchParams({ documentId: idOf(doc), ...(variables ? { variables: JSON.stringify(variables) } : {}) });
  const res = await fetch(`${instance.url}/graphql?${params}`, { headers });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text ? JSON.parse(text) : undefined };
}

/** A POST as Apollo Client sends it by default: JSON, no Accept for streams. */
async function post(instance: Instance, doc: Parameters<typeof print>[0], variables?: object, token?: string): Promise<Read> {
  const res = await instance.raw({ query: print(doc), variables }, { token });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text ? JSON.parse(text) : undefined };
}

const idsOf = (read: Read) => read.body!.data.leaderboard.entries.map((e: { player: { id: string } }) => e.player.id);

async function metric(instance: Instance, name: string): Promise<number> {
  const text = await (await fetch(`${instance.url}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
}

describeBackends(
  'response cache and HTTP caching of public GET reads',
  (f) => {
    it('a public read by id: ETag, Cache-Control public, max-age=1; If-None-Match answers 304 without a body', async () => {
      const first = await getById(f.app, BoardLeaderboardDocument, { first: 5 });
      expect(first.status).toBe(200);
      expect(first.body?.errors).toBeUndefined();
      expect(first.headers.get('cache-control')).toBe('public, max-age=1');
      expect(first.headers.get('vary')).toMatch(/Authorization/);
      expect(first.headers.get('etag')).toMatch(/^W\/"[0-9a-f]{32}"$/);
      // Until the board stands still (the startup rebuild may still move its seq).
      const { etag, again } = await waitFor(
        async () => {
          const etag = (await getById(f.app, BoardLeaderboardDocument, { first: 5 })).headers.get('etag')!;
          const again = await getById(f.app, BoardLeaderboardDocument, { first: 5 }, { 'if-none-match': `W/"x", ${etag}` });
          return again.status === 304 && { etag, again };
        },
        10_000,
        'a 304',
      );
      expect(again.text).toBe('');
      expect(again.headers.get('etag')).toBe(etag);
      // Another execution of the same state (other variables: another entry) has another read
      // time (updatedAt) in its body, and the same validator.
      const other = await getById(f.app, BoardLeaderboardDocument, { first: 5, offset: 0 }, { 'if-none-match': etag });
      expect(other.status).toBe(304);
      // Another ETag (or none) gets the body.
      expect((await getById(f.app, BoardLeaderboardDocument, { first: 5 }, { 'if-none-match': '"other"' })).status).toBe(200);
    });

    it('the same read again is answered from the cache (hits in /metrics)', async () => {
      const hits = await metric(f.app, 'scoreboard_response_cache_hits_total');
      const misses = await metric(f.app, 'scoreboard_response_cache_misses_total');
      expect(Number.isFinite(hits) && Number.isFinite(misses)).toBe(true);
      // Repeated until a hit: a board-change notice from the startup rebuild may still be on its way.
      await waitFor(
        async () => {
          await getById(f.app, BoardsDocument);
          return (await metric(f.app, 'scoreboard_response_cache_hits_total')) > hits;
        },
        10_000,
        'a cache hit',
      );
      expect(await metric(f.app, 'scoreboard_response_cache_misses_total')).toBeGreaterThan(misses);
    });

    it('a free-form GET still needs the CSRF header; with it, it is cached like one by id', async () => {
      const url = `${f.app.url}/graphql?${new URLSearchParams({ query: '{ boards { id } }' })}`;
      expect((await fetch(url)).status).toBe(403);
      const res = await fetch(url, { headers: { 'x-graphql-yoga-csrf': '1' } });
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('public, max-age=1');
      expect(res.headers.get('etag')).toBeTruthy();
      // Cached now, and still refused without the header.
      expect((await fetch(url)).status).toBe(403);
    });

    it('with an Authorization header: private, no-store, no ETag', async () => {
      const alice = await f.player('alice');
      const res = await fetch(`${f.app.url}/graphql?${new URLSearchParams({ query: print(MeDocument) })}`, {
        headers: { authorization: `Bearer ${alice.token}`, 'x-graphql-yoga-csrf': '1' },
      });
      expect(res.status).toBe(200);
      expect((await res.json()).data.me.id).toBe(alice.id);
      expect(res.headers.get('cache-control')).toBe('private, no-store');
      expect(res.headers.get('etag')).toBeNull();
      // By id it needs no CSRF header, and stays private.
      const byId = await getById(f.app, MeDocument, undefined, { authorization: `Bearer ${alice.token}` });
      expect(byId.status).toBe(200);
      expect(byId.body?.data.me.id).toBe(alice.id);
      expect(byId.headers.get('cache-control')).toBe('private, no-store');
      expect(byId.headers.get('etag')).toBeNull();
    });

    it('an error is never cached or marked public', async () => {
      const res = await getById(f.app, BoardLeaderboardDocument, { board: 'no-such-board' });
      expect(res.body?.errors?.length).toBeGreaterThan(0);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('etag')).toBeNull();
    });

    it('never serves a board older than the latest write on this instance', async () => {
      for (let i = 0; i < 5; i++) {
        const player = await f.player(`writer${i}`);
        // Warm the cache with the board as it is, twice (the second may be a hit).
        const before = await getById(f.app, LeaderboardDocument, { first: 100 });
        await getById(f.app, LeaderboardDocument, { first: 100 });
        const written = await completeTask(f.app, player.token);
        const after = await getById(f.app, LeaderboardDocument, { first: 100 }, { 'if-none-match': before.headers.get('etag')! });
        expect(after.status).toBe(200);
        expect(after.body!.data.leaderboard.seq).toBeGreaterThanOrEqual(written.seq);
        expect(after.body!.data.leaderboard.entries.map((e: { player: { id: string } }) => e.player.id)).toContain(player.id);
      }
    });

    it('a write on another instance shows here after the board-change notice', async () => {
      const other = f.at(1);
      const player = await f.player('remote');
      await getById(f.app, LeaderboardDocument, { first: 100 });
      const written = await completeTask(other, player.token);
      const seen = await waitFor(
        async () => {
          const r = await getById(f.app, LeaderboardDocument, { first: 100 });
          return r.body!.data.leaderboard.seq >= written.seq && r;
        },
        10_000,
        'the remote write',
      );
      expect(seen.body!.data.leaderboard.entries.map((e: { player: { id: string } }) => e.player.id)).toContain(player.id);
    });

    it('a public POST query is answered from the cache too, and never older than a write on this instance', async () => {
      const hits = await metric(f.app, 'scoreboard_response_cache_hits_total');
      await waitFor(
        async () => {
          await post(f.app, LeaderboardDocument, { first: 50 });
          return (await metric(f.app, 'scoreboard_response_cache_hits_total')) > hits;
        },
        10_000,
        'a POST cache hit',
      );
      for (let i = 0; i < 3; i++) {
        const player = await f.player(`poster${i}`);
        await post(f.app, LeaderboardDocument, { first: 50 });
        const written = await completeTask(f.app, player.token);
        const after = await post(f.app, LeaderboardDocument, { first: 50 });
        expect(after.status).toBe(200);
        expect(after.body!.data.leaderboard.seq).toBeGreaterThanOrEqual(written.seq);
        expect(idsOf(after)).toContain(player.id);
      }
    });

    it('POSTs the cache must not keep go through as before: errors, mutations, viewers, streams', async () => {
      const entries = await metric(f.app, 'scoreboard_response_cache_entries');
      // An error: answered, not kept.
      const refused = await post(f.app, BoardLeaderboardDocument, { board: 'no-such-board' });
      expect(refused.body?.errors?.[0]?.extensions.code).toBe('NOT_FOUND');
      // A mutation without a viewer: Yoga's own answer.
      const anonymous = await f.app.raw({ query: 'mutation { issueActionToken(actionType: "COMPLETE_TASK") { actionId } }' });
      expect((await anonymous.json()).errors[0].extensions.code).toBe('UNAUTHENTICATED');
      // Junk: Yoga's own answer.
      const junk = await f.app.raw('{"query": ');
      expect(junk.status).toBe(400);
      // A viewer's read: theirs, never shared.
      const alice = await f.player('alice-post');
      const me = await post(f.app, MeDocument, undefined, alice.token);
      expect(me.body?.data.me.id).toBe(alice.id);
      expect(await metric(f.app, 'scoreboard_response_cache_entries')).toBeLessThanOrEqual(entries);
      // A subscription over POST with SSE is a stream, as before.
      const stream = await f.app.raw({ query: 'subscription { leaderboardChanged(first: 3) { seq } }' }, { headers: { accept: 'text/event-stream' } });
      expect(stream.headers.get('content-type')).toMatch(/text\/event-stream/);
      await stream.body?.cancel();
    });

    it('memory is bounded: at most RESPONSE_CACHE_ENTRIES entries', async () => {
      for (const first of [1, 2, 3, 4]) await getById(f.app, LeaderboardDocument, { first });
      expect(await metric(f.app, 'scoreboard_response_cache_entries')).toBeLessThanOrEqual(3);
    });
  },
  { instances: 2, env: { TRUSTED_DOCUMENTS: MANIFEST, RESPONSE_CACHE_ENTRIES: '3', RESPONSE_CACHE_MAX_AGE_MS: '60000' } },
);

describeBackends(
  'response cache: a write on this instance shows here without waiting for the bus',
  (f) => {
    it('with the bus held back, a read after a local write is fresh (GET and POST), a remote write is not seen until the notice arrives', async () => {
      const proxy = await startRedisProxy(f.backend.env.REDIS_URL!);
      // This instance reaches Redis through the proxy; the other one directly.
      const here = await startInstance(f.backend, { REDIS_URL: proxy.url });
      const there = await startInstance(f.backend);
      try {
        await waitFor(() => proxy.subscribers() > 0, 10_000, 'the bus subscribed');
        const token = (id: string) => here.token({ id: f.playerId(id), username: id });
        // The board as it stands, once the startup rebuilds are done and their notices arrived.
        await completeTask(here, await token('first'));
        await waitFor(async () => (await getById(here, LeaderboardDocument, { first: 100 })).body?.data.leaderboard.entries.length > 0, 10_000, 'a board');
        proxy.hold();
        const stale = { get: await getById(here, LeaderboardDocument, { first: 100 }), post: await post(here, LeaderboardDocument, { first: 100 }) };
        // Served from the cache while the bus is held (the hit counter says so).
        const hits = await metric(here, 'scoreboard_response_cache_hits_total');
        await getById(here, LeaderboardDocument, { first: 100 });
        await post(here, LeaderboardDocument, { first: 100 });
        expect(await metric(here, 'scoreboard_response_cache_hits_total')).toBe(hits + 2);

        // A write on the other instance: its notice is held, so this instance still answers from its cache.
        const remote = await token('remote');
        const remoteId = (await completeTask(there, remote)).player.id;
        expect(idsOf(await getById(here, LeaderboardDocument, { first: 100 }))).not.toContain(remoteId);
        expect(idsOf(await post(here, LeaderboardDocument, { first: 100 }))).not.toContain(remoteId);

        // A write here: the next read here reflects it at once, by GET (a 200, not a 304) and by POST.
        const local = await token('local');
        const written = await completeTask(here, local);
        const get = await getById(here, LeaderboardDocument, { first: 100 }, { 'if-none-match': stale.get.headers.get('etag')! });
        expect(get.status).toBe(200);
        expect(get.body!.data.leaderboard.seq).toBeGreaterThanOrEqual(written.seq);
        expect(idsOf(get)).toContain(written.player.id);
        const posted = await post(here, LeaderboardDocument, { first: 100 });
        expect(posted.body!.data.leaderboard.seq).toBeGreaterThanOrEqual(written.seq);
        expect(idsOf(posted)).toContain(written.player.id);
        expect(posted.body!.data.leaderboard.seq).toBeGreaterThan(stale.post.body!.data.leaderboard.seq);
      } finally {
        proxy.release();
        await Promise.allSettled([here.stop(), there.stop()]);
        await proxy.close();
      }
    });
  },
  { only: ['real'], instances: 0, env: { TRUSTED_DOCUMENTS: MANIFEST, RESPONSE_CACHE_MAX_AGE_MS: '60000' } },
);
