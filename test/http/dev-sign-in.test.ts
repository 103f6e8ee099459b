import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPlayerJwtVerifier } from '../../src/auth/player-jwt.js';
import type { Config } from '../../src/config.js';
import { devSignInHandler } from '../../src/http/dev-sign-in.js';
import { createLogger } from '../../src/logger.js';

// A generated dev secret (configured: false), as when JWT_SECRET is not set.
const jwt: Config['jwt'] = {
  secret: new TextEncoder().encode('s'.repeat(40)),
  configured: false,
  issuer: 'scoreboard',
  audience: 'scoreboard-api',
  rolesClaim: 'roles',
  attributeClaims: ['country'],
  maxAgeSeconds: 86_400,
  clockSkewSeconds: 60,
};

async function serve(production: boolean): Promise<{ url: string; server: Server }> {
  const handler = devSignInHandler({ config: { production, jwt } as Config, logger: createLogger('silent') });
  const server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/auth/dev-sign-in`, server };
}

const post = (url: string, body: string, type = 'application/json') => fetch(url, { method: 'POST', headers: { 'content-type': type }, body });

describe('POST /auth/dev-sign-in', () => {
  let dev: { url: string; server: Server };
  let prod: { url: string; server: Server };
  beforeAll(async () => {
    [dev, prod] = await Promise.all([serve(false), serve(true)]);
  });
  afterAll(() => {
    dev.server.close();
    prod.server.close();
  });

  it('returns a player JWT the server accepts, for dev-<username>', async () => {
    const res = await post(dev.url, JSON.stringify({ username: 'alice.B_9-x' }));
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const { token } = (await res.json()) as { token: string };
    await expect(createPlayerJwtVerifier(jwt).verify(token)).resolves.toEqual({ playerId: 'dev-alice.B_9-x', username: 'alice.B_9-x', roles: [], attributes: {} });
  });

  it.each([
    ['empty', ''],
    ['too long', 'a'.repeat(33)],
    ['space', 'al ice'],
    ['slash', 'a/b'],
    ['unicode', 'ålice'],
    ['not a string', 42],
  ])('refuses a bad username (%s) with 400', async (_label, username) => {
    const res = await post(dev.url, JSON.stringify({ username }));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/username/);
  });

  it('accepts exactly 32 characters', async () => {
    expect((await post(dev.url, JSON.stringify({ username: 'a'.repeat(32) }))).status).toBe(200);
  });

  it('refuses non-JSON bodies, other types, other methods and big bodies', async () => {
    expect((await post(dev.url, '{nope')).status).toBe(400);
    expect((await post(dev.url, 'null')).status).toBe(400);
    expect((await post(dev.url, 'username=alice', 'application/x-www-form-urlencoded')).status).toBe(415);
    const get = await fetch(dev.url);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await post(dev.url, JSON.stringify({ username: 'alice', pad: 'x'.repeat(5000) }))).status).toBe(413);
  });

  it('does not exist when JWT_SECRET or JWT_JWKS_URL is configured: it would mint tokens the real deployment accepts', async () => {
    const handler = devSignInHandler({ config: { production: false, jwt: { ...jwt, configured: true } } as Config, logger: createLogger('silent') });
    const server = createServer((req, res) => void handler(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/auth/dev-sign-in`;
      const res = await post(url, JSON.stringify({ username: 'alice' }));
      expect(res.status).toBe(404);
      expect(await res.text()).not.toMatch(/token/);
    } finally {
      server.close();
    }
  });

  it('does not exist in production', async () => {
    expect((await post(prod.url, JSON.stringify({ username: 'alice' }))).status).toBe(404);
    expect((await fetch(prod.url)).status).toBe(404);
  });
});
