import { SignJWT } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { MeDocument } from '../sdk/generated/graphql.js';
import { loadConfig } from '../src/config.js';
import { buildApp, type App } from '../src/server.js';
import { codes } from './support/app.js';
import { createBackend, type Backend } from './support/backends.js';
import { capturedLogger } from './support/hostile.js';
import { describeBackends } from './support/suite.js';

/** What must be withstood, "Hostile clients": dev mode exposure and identity hygiene. */

describe('hostile clients: dev mode is hard to expose', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });
  async function devApp(env: Record<string, string>) {
    const backend: Backend = await createBackend('embedded', env);
    const log = capturedLogger('warn');
    const app: App = await buildApp(loadConfig(backend.env), log.logger);
    cleanup.push(
      () => backend.dispose(),
      () => app.stop(),
    );
    return { app, log };
  }

  it('without NODE_ENV and HOST it listens on 127.0.0.1 only, and warns loudly', async () => {
    const { app, log } = await devApp({ JWT_SECRET: '' });
    const url = await app.start(0); // the configured host, as `npm start` does
    expect(new URL(url).hostname).toBe('127.0.0.1');
    const warning = log.lines.find((l) => /DEVELOPMENT MODE/.test(l.msg));
    expect(warning).toMatchObject({ level: 40, host: '127.0.0.1', devSignIn: true });
    // Dev sign-in works here: the secret was generated, not configured.
    const res = await fetch(`${url}/auth/dev-sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username":"dev"}' });
    expect(res.status).toBe(200);
  }, 180_000); // boots an embedded database: slow on a busy machine

  it('with a configured JWT_SECRET dev sign-in refuses to mint tokens (404), and the warning says why', async () => {
    const { app, log } = await devApp({});
    const url = await app.start(0);
    const res = await fetch(`${url}/auth/dev-sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username":"mallory"}' });
    expect(res.status).toBe(404);
    expect(await res.text()).not.toMatch(/token/);
    expect(log.lines.find((l) => /DEVELOPMENT MODE/.test(l.msg))).toMatchObject({ devSignIn: false, devSignInOff: 'JWT_SECRET is configured' });
  }, 180_000); // boots an embedded database: slow on a busy machine

  it('with JWT_JWKS_URL dev sign-in refuses too', async () => {
    const { app, log } = await devApp({ JWT_SECRET: '', JWT_JWKS_URL: 'http://127.0.0.1:9/jwks.json' });
    const url = await app.start(0);
    const res = await fetch(`${url}/auth/dev-sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username":"mallory"}' });
    expect(res.status).toBe(404);
    expect(log.lines.find((l) => /DEVELOPMENT MODE/.test(l.msg))).toMatchObject({ devSignIn: false, devSignInOff: 'JWT_JWKS_URL is configured' });
  }, 180_000); // boots an embedded database: slow on a busy machine
});

describeBackends('hostile clients: display names', (f) => {
  const nameOf = async (id: string, claims: Record<string, unknown>) => {
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(id)
      .setIssuer('scoreboard')
      .setAudience('scoreboard-api')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(f.app.config.jwt.secret!);
    const result = await f.app.gql(MeDocument, {}, token);
    expect(result.errors).toBeUndefined();
    return result.data!.me!.username;
  };

  it.each([
    ['bidi override', '\u202Eevil\u202C', 'evil'],
    ['right-to-left mark and isolate', 'a\u200Fb\u2067c\u2069', 'abc'],
    ['zero-width characters inside', 'ad\u200Bmi\u200Dn\uFEFF', 'admin'],
    ['full-width look-alike', 'ａｄｍｉｎ', 'admin'],
    ['compatibility ligature', 'ﬁnal', 'final'],
    ['control characters and runs of spaces', ' x\u0007\u0000y   z\n', 'xy z'],
    ['Hangul filler padding', '\u3164bob\u3164', 'bob'],
  ])('%s: normalised (NFKC, invisible characters removed)', async (_label, raw, shown) => {
    expect(await nameOf(f.playerId('n'), { preferred_username: raw })).toBe(shown);
  });

  it('a name of invisible characters only falls back to `name`, then to a visible form of the sub', async () => {
    expect(await nameOf(f.playerId('z'), { preferred_username: '\u200B\u200C\u200D', name: 'Zed' })).toBe('Zed');
    const id = f.playerId('blank');
    expect(await nameOf(id, { preferred_username: '\u200B\u200B', name: '\u2800' })).toBe(id);
  });

  it('names are cut at 64 characters (code points, never half a surrogate pair)', async () => {
    const shown = await nameOf(f.playerId('long'), { preferred_username: '😀'.repeat(100) });
    expect([...shown]).toHaveLength(64);
    expect(shown).toBe('😀'.repeat(64));
  });
});

describeBackends(
  'hostile clients: JWT lifetime',
  (f) => {
    const now = () => Math.floor(Date.now() / 1000);
    const sign = (times: { iat?: number; exp: number }) => {
      let jwt = new SignJWT({ preferred_username: 'T' })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(f.playerId('life'))
        .setIssuer('scoreboard')
        .setAudience('scoreboard-api')
        .setExpirationTime(times.exp);
      if (times.iat !== undefined) jwt = jwt.setIssuedAt(times.iat);
      return jwt.sign(f.app.config.jwt.secret!);
    };
    const me = async (token: string) => codes(await f.app.gql(MeDocument, {}, token));

    it('defaults: at most 24 h between iat and exp, 60 s of clock skew', () => {
      expect(loadConfig({ DATA_DIR: f.backend.env.DATA_DIR! }).jwt).toMatchObject({ maxAgeSeconds: 86_400, clockSkewSeconds: 60 });
    });

    it('a token living longer than JWT_MAX_AGE_SECONDS is UNAUTHENTICATED', async () => {
      expect(await me(await sign({ iat: now(), exp: now() + 3 * 3600 }))).toEqual(['UNAUTHENTICATED']);
      expect(await me(await sign({ iat: now(), exp: now() + 3600 }))).toEqual([]);
    });

    it('without iat, a token may not be valid for longer than the maximum from now', async () => {
      expect(await me(await sign({ exp: now() + 3 * 3600 }))).toEqual(['UNAUTHENTICATED']);
      expect(await me(await sign({ exp: now() + 600 }))).toEqual([]);
    });

    it('an iat in the future beyond the skew is UNAUTHENTICATED; within it, accepted', async () => {
      expect(await me(await sign({ iat: now() + 600, exp: now() + 1200 }))).toEqual(['UNAUTHENTICATED']);
      expect(await me(await sign({ iat: now() + 30, exp: now() + 1200 }))).toEqual([]);
    });
  },
  { env: { JWT_MAX_AGE_SECONDS: '7200' } },
);
