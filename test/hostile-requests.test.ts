import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { limiterKey } from '../src/resolvers/scoring/rate-limiter.js';
import { buildApp } from '../src/server.js';
import { codes, startInstance, type Instance } from './support/app.js';
import { writes } from './support/audit.js';
import { createBackend, realBackendsAvailable, type Backend } from './support/backends.js';
import { capturedLogger, healthzDuring } from './support/hostile.js';
import { issue, submit, submitRaw } from './support/play.js';
import { PrivateRedis } from './support/redis-server.js';
import { describeBackends } from './support/suite.js';

/** What must be withstood, "Hostile clients": cross-site requests, error hygiene, limiter keys, unthrottled paths. */

const fallbacks = async (instance: Instance, limiter: string) =>
  (await instance.app.services.metrics.registry.getSingleMetric('scoreboard_rate_limiter_fallbacks_total')!.get()).values.find((v) => v.labels.limiter === limiter)?.value ?? 0;

describeBackends('hostile clients: simple cross-site requests never execute', (f) => {
  const endpoint = () => `${f.app.url}/graphql`;
  const executed = (text: string) => /COMPLETE_TASK|"data"/.test(text);

  it('a form-encoded POST (an HTML form on another site) is refused with 403', async () => {
    const res = await fetch(endpoint(), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `query=${encodeURIComponent('{ actionTypes { code } }')}`,
    });
    expect(res.status).toBe(403);
    expect(executed(await res.text())).toBe(false);
  });

  it('a text/plain POST (fetch no-cors, navigator.sendBeacon) is refused with 403', async () => {
    const res = await fetch(endpoint(), {
      method: 'POST',
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      body: JSON.stringify({ query: '{ actionTypes { code } }' }),
    });
    expect(res.status).toBe(403);
    expect(executed(await res.text())).toBe(false);
  });

  it('a GET naming a simple body type is refused with 403; with the CSRF header it runs', async () => {
    const url = `${endpoint()}?query=${encodeURIComponent('{ actionTypes { code } }')}`;
    const res = await fetch(url, { headers: { 'content-type': 'text/plain', accept: 'application/json' } });
    expect(res.status).toBe(403);
    expect(executed(await res.text())).toBe(false);
    const allowed = await fetch(url, { headers: { 'x-graphql-yoga-csrf': '1', accept: 'application/json' } });
    expect(allowed.status).toBe(200);
  });

  it('JSON POSTs (preflighted by browsers) still work', async () => {
    const res = await f.app.raw({ query: '{ actionTypes { code } }' });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/COMPLETE_TASK/);
  });
});

describeBackends('hostile clients: NUL bytes and blank claims are bad input', (f) => {
  const internalErrors = async () =>
    (await f.app.app.services.metrics.registry.getSingleMetric('scoreboard_rejections_total')!.get()).values.find((v) => v.labels.code === 'INTERNAL_SERVER_ERROR')?.value ?? 0;

  it('a NUL byte in player(id), literal or variable, through 10 aliases: BAD_USER_INPUT once, never an internal error', async () => {
    const internalBefore = await internalErrors();
    const aliases = Array.from({ length: 10 }, (_, i) => `p${i}: player(id: "a\\u0000${i}") { id }`).join(' ');
    const literal = await (await f.app.raw({ query: `{ ${aliases} }` })).json();
    expect(codes(literal)).toEqual(['BAD_USER_INPUT']);
    const variable = await (await f.app.raw({ query: 'query($id: ID!) { player(id: $id) { id } }', variables: { id: 'x\u0000y' } })).json();
    expect(codes(variable)).toEqual(['BAD_USER_INPUT']);
    const p = await f.player('nul-typer');
    const mutation = await (
      await f.app.raw({ query: 'mutation($t: String!) { issueActionToken(actionType: $t) { token } }', variables: { t: 'COMPLETE\u0000TASK' } }, { token: p.token })
    ).json();
    expect(codes(mutation)).toEqual(['BAD_USER_INPUT']);
    expect(await internalErrors()).toBe(internalBefore);
  });

  it('a NUL byte in the JWT sub, or a blank sub: UNAUTHENTICATED; in the name: removed', async () => {
    const before = await writes(f.app);
    for (const id of ['vic\u0000tim', '   ', '\u200B']) {
      const token = await f.app.token({ id, username: 'x' });
      expect(codes(await (await f.app.raw({ query: '{ me { id } }' }, { token })).json()), JSON.stringify(id)).toEqual(['UNAUTHENTICATED']);
    }
    const id = f.playerId('nul-name');
    const token = await f.app.token({ id, username: 'Nu\u0000ll' });
    const me = await (await f.app.raw({ query: '{ me { id username } }' }, { token })).json();
    expect(me.data.me).toEqual({ id, username: 'Null' });
    expect(await writes(f.app)).toEqual(before);
  });
});

describeBackends(
  'hostile clients: production error hygiene',
  (f) => {
    it('variable coercion errors carry no "Did you mean" suggestions', async () => {
      const p = await f.player('typo');
      const res = await f.app.raw(
        { query: 'mutation($input: SubmitActionInput!) { submitAction(input: $input) { seq } }', variables: { input: { actionI: 'x', actionType: 'A', token: 't' } } },
        { token: p.token },
      );
      const text = await res.text();
      expect(text).toMatch(/actionI/);
      expect(text).not.toMatch(/Did you mean/i);
      expect(new Set(codes(JSON.parse(text)))).toEqual(new Set(['BAD_USER_INPUT']));
    });

    it('validation errors carry no suggestions either (arguments, types, fields)', async () => {
      for (const query of ['{ leaderboard(firs: 1) { seq } }', 'query($x: Strin!) { player(id: $x) { id } }', '{ leaderboard { entrie { rank } } }']) {
        const text = await (await f.app.raw({ query })).text();
        expect(text, query).toMatch(/"errors"/);
        expect(text, query).not.toMatch(/Did you mean/i);
      }
    });

    it('a malformed 60 KB JSON body is not echoed back', async () => {
      const body = `{"query": "${'MARKER'.repeat(10_000)}`;
      const res = await f.app.raw(body);
      const text = await res.text();
      expect(text).not.toMatch(/MARKER/);
      expect(text.length).toBeLessThan(1_000);
      expect(JSON.parse(text).errors[0].message).toMatch(/JSON/);
    });
  },
  { only: ['real'], env: { NODE_ENV: 'production', CORS_ORIGINS: 'https://app.example' } },
);

describeBackends(
  'hostile clients: rate-limit keys no player id can collide with',
  (f) => {
    it('a player named "vic:n" cannot break vic\'s quota, which stays shared by every instance', async () => {
      const [a, b] = f.instances;
      const vic = f.playerId('vic');
      expect((await a!.app.services.actionLimiter.consume(`${vic}:n`)).allowed).toBe(true);
      const verdicts = [];
      for (let i = 0; i < 3; i++) verdicts.push((await a!.app.services.actionLimiter.consume(vic)).allowed);
      for (let i = 0; i < 3; i++) verdicts.push((await b!.app.services.actionLimiter.consume(vic)).allowed);
      expect(verdicts).toEqual([true, true, true, false, false, false]);
      expect(await fallbacks(a!, 'action')).toBe(0);
      expect(await fallbacks(b!, 'action')).toBe(0);
    });

    it('keys are digests: fixed length, no separator, distinct for distinct ids; in braces, the hash tag of a cluster slot', () => {
      const keys = ['vic', 'vic:n', 'vic:n:n', '', 'x'.repeat(500)].map(limiterKey);
      expect(new Set(keys).size).toBe(5);
      for (const k of keys) expect(k).toMatch(/^\{[A-Za-z0-9_-]{43}\}$/);
    });
  },
  { only: ['real'], instances: 2, env: { RATE_LIMIT_ACTIONS_PER_HOUR: '3' } },
);

describe.runIf(await realBackendsAvailable())('hostile clients: a limiter fallback is logged and counted [real, private Redis]', () => {
  let redis: PrivateRedis;
  let backend: Backend;
  let instance: Instance;
  const log = capturedLogger('warn');
  beforeAll(async () => {
    redis = await PrivateRedis.start();
    backend = await createBackend('real', { REDIS_URL: redis.url, RECONCILE_INTERVAL_SECONDS: '0' });
    instance = await startInstance(backend, {}, (config) => buildApp(config, log.logger));
  });
  afterAll(async () => {
    await instance?.stop();
    await redis?.kill();
    await backend?.dispose();
  });

  it('with Redis gone, the memory fallback decides, and says so', async () => {
    expect((await instance.app.services.ticketLimiter.consume('p1')).allowed).toBe(true);
    expect(await fallbacks(instance, 'ticket')).toBe(0);
    await redis.kill();
    for (let i = 0; i < 3; i++) expect((await instance.app.services.ticketLimiter.consume('p1')).allowed).toBe(true);
    expect(await fallbacks(instance, 'ticket')).toBe(3);
    // Logged once (not once per request).
    expect(log.lines.filter((l) => l.limiter === 'ticket' && /fell back/.test(l.msg))).toHaveLength(1);
    await redis.up(); // back, so the app can stop cleanly
  });
});

describeBackends(
  'hostile clients: replays and unknown action types are throttled',
  (f) => {
    it('retries of an applied action count against a generous quota of their own (10x actions)', async () => {
      expect(f.app.config.rateLimit.replaysPerWindow).toBe(20);
      const p = await f.player('replayer');
      const t = await issue(f.app, p.token);
      const applied = await submit(f.app, p.token, t);
      const outcomes: string[] = [];
      for (let i = 0; i < 25; i++) {
        const r = await submitRaw(f.app, p.token, t);
        outcomes.push(r.errors ? codes(r).join() : String(r.data!.submitAction.replayed));
      }
      expect(outcomes.slice(0, 20).every((o) => o === 'true')).toBe(true);
      expect(outcomes.slice(20)).toEqual(Array(5).fill('RATE_LIMITED'));
      const me = await (await f.app.raw({ query: '{ me { score } }' }, { token: p.token })).json();
      expect(me.data.me.score).toBe(applied.newScore);
    });

    it('unknown action types are answered from the cached table: a flood of made-up codes reads nothing', async () => {
      const p = await f.player('guesser');
      const services = f.app.app.services;
      await issue(f.app, p.token); // the table is cached now
      const reads = vi.spyOn(services.prisma.actionType, 'findMany');
      const before = await writes(f.app);
      const started = Date.now();
      try {
        await healthzDuring(f.app, '200 unknown action types', async () => {
          for (let i = 0; i < 200; i++) {
            const res = await f.app.raw({ query: 'mutation($t: String!) { issueActionToken(actionType: $t) { token } }', variables: { t: `GUESS_${i}` } }, { token: p.token });
            expect(codes(await res.json())).toEqual(['UNKNOWN_ACTION_TYPE']);
          }
        });
        // Only the periodic refresh (every 5 s) can fall inside the loop, once per 5 s it lasted (a loaded
        // machine makes the loop longer, not the count per code); never one read per unknown code.
        const refreshes = 1 + Math.floor((Date.now() - started) / 5_000);
        expect(reads.mock.calls.length).toBeLessThanOrEqual(refreshes);
        expect(refreshes).toBeLessThan(200);
      } finally {
        reads.mockRestore();
      }
      expect(await writes(f.app)).toEqual(before);
    });

    it('a type added to the table is unknown to an instance until its cache is refreshed (no read on demand)', async () => {
      const services = f.app.app.services;
      const p = await f.player('early-bird');
      await issue(f.app, p.token);
      await services.prisma.actionType.upsert({ where: { code: 'BRAND_NEW' }, create: { code: 'BRAND_NEW', points: 1, minSeconds: 0 }, update: { enabled: true } });
      const early = await (await f.app.raw({ query: 'mutation { issueActionToken(actionType: "BRAND_NEW") { token } }' }, { token: p.token })).json();
      expect(codes(early)).toEqual(['UNKNOWN_ACTION_TYPE']);
      services.actionTypes.invalidate(); // what a change through upsertActionType does on every instance (bus notice)
      expect((await issue(f.app, p.token, 'BRAND_NEW')).actionType).toBe('BRAND_NEW');
    });
  },
  { env: { RATE_LIMIT_ACTIONS_PER_HOUR: '2' } },
);

describeBackends(
  'hostile clients: per-address HTTP request limit',
  (f) => {
    it('over HTTP_RATE_LIMIT_PER_IP requests/s from one address: 429 with Retry-After and a GraphQL-style body; probes are exempt', async () => {
      // One request per second is allowed: however slowly this machine serves the 60, at most a
      // handful of one-second windows pass, so most are refused (the bound is by count, not time).
      const statuses = await healthzDuring(f.app, '60 concurrent requests at 1/s per address', async () =>
        Promise.all(
          Array.from({ length: 60 }, async () => {
            const res = await f.app.raw({ query: '{ leaderboard(first: 1) { seq } }' });
            return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() };
          }),
        ),
      );
      const limited = statuses.filter((s) => s.status === 429);
      expect(limited.length).toBeGreaterThanOrEqual(30);
      expect(Number(limited[0]!.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(limited[0]!.body.errors[0].extensions.code).toBe('RATE_LIMITED');
      // The probes stay reachable while the address is limited.
      expect((await fetch(`${f.app.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${f.app.url}/readyz`)).status).toBe(200);
    });

    it('behind the proxy, each client address has its own budget', async () => {
      const from = (address: string) => f.app.raw({ query: '{ leaderboard(first: 1) { seq } }' }, { headers: { 'x-forwarded-for': `1.2.3.4, ${address}` } });
      const flood = await Promise.all(Array.from({ length: 30 }, () => from('203.0.113.50')));
      expect(flood.filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(15);
      expect((await from('203.0.113.51')).status).toBe(200);
    });
  },
  { env: { HTTP_RATE_LIMIT_PER_IP: '1', TRUST_PROXY: 'true' } },
);
