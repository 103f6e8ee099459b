import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeDocument } from '../sdk/generated/graphql.js';
import { codes, startInstance, type Instance } from './support/app.js';
import { createBackend, type Backend } from './support/backends.js';
import { describeBackends } from './support/suite.js';

/** What must be withstood, "Player JWTs", through the real app's `me` query. */
describeBackends('player JWTs', (f) => {
  const key = () => f.app.config.jwt.secret!;
  const sign = (claims: Record<string, unknown>, opts: { exp?: string | number | null; iss?: string; aud?: string; header?: object; secret?: Uint8Array } = {}) => {
    let jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...opts.header })
      .setSubject('jwt-user')
      .setIssuer(opts.iss ?? 'scoreboard')
      .setAudience(opts.aud ?? 'scoreboard-api')
      .setIssuedAt();
    if (opts.exp !== null) jwt = jwt.setExpirationTime(opts.exp ?? '1h');
    return jwt.sign(opts.secret ?? key());
  };
  const me = (token?: string) => f.app.gql(MeDocument, {}, token);

  it('accepts a valid token and creates the player on first use', async () => {
    const token = await sign({ preferred_username: 'Ada' });
    const result = await me(token);
    expect(result.errors).toBeUndefined();
    expect(result.data!.me).toMatchObject({ id: 'jwt-user', username: 'Ada', score: 0, rank: null });
  });

  it('a token verified once is refused after it expires (the verification cache honours exp)', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const token = await sign({ preferred_username: 'Brief' }, { exp });
    expect((await me(token)).data?.me?.username).toBe('Brief');
    await new Promise((r) => setTimeout(r, (exp + 6) * 1000 - Date.now())); // past exp and the 5 s clock tolerance
    expect(codes(await me(token))).toEqual(['UNAUTHENTICATED']);
  });

  it('missing token: UNAUTHENTICATED', async () => {
    expect(codes(await me())).toEqual(['UNAUTHENTICATED']);
  });

  it('malformed Authorization header: UNAUTHENTICATED', async () => {
    const res = await f.app.raw({ query: '{ me { id } }' }, { headers: { authorization: 'Basic abc' } });
    expect(codes(await res.json())).toEqual(['UNAUTHENTICATED']);
  });

  it.each([
    ['expired', () => sign({}, { exp: Math.floor(Date.now() / 1000) - 60 })],
    ['missing exp', () => sign({}, { exp: null })],
    [
      'future nbf',
      async () =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('x')
          .setIssuer('scoreboard')
          .setAudience('scoreboard-api')
          .setExpirationTime('1h')
          .setNotBefore('10m')
          .sign(key()),
    ],
    ['wrong iss', () => sign({}, { iss: 'someone-else' })],
    ['wrong aud', () => sign({}, { aud: 'another-api' })],
    ['wrong key', () => sign({}, { secret: new TextEncoder().encode('z'.repeat(40)) })],
    ['alg none', async () => new UnsecuredJWT({ sub: 'x', iss: 'scoreboard', aud: 'scoreboard-api' }).setExpirationTime('1h').encode()],
    ['unknown kid', () => sign({}, { header: { kid: 'rotated-away' } })],
    ['wrong typ (an action ticket is not a player JWT)', () => sign({}, { header: { typ: 'scoreboard-action+jwt' } })],
    ['garbage', async () => 'not.a.jwt'],
  ])('%s: UNAUTHENTICATED, nothing created', async (_name, make) => {
    const result = await me(await make());
    expect(codes(result)).toEqual(['UNAUTHENTICATED']);
    expect(result.data?.me ?? null).toBeNull();
  });

  it('HS/RS confusion: an RS256 token is refused by the HS256 verifier', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256' })
      .setSubject('x')
      .setIssuer('scoreboard')
      .setAudience('scoreboard-api')
      .setExpirationTime('1h')
      .sign(privateKey);
    expect(codes(await me(token))).toEqual(['UNAUTHENTICATED']);
  });
});

describe('player JWTs from an identity provider (JWKS)', () => {
  let backend: Backend;
  let app: Instance;
  let jwks: ReturnType<typeof createServer>;
  let privateKey: CryptoKey;
  let otherKey: CryptoKey;

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    privateKey = pair.privateKey;
    otherKey = (await generateKeyPair('ES256')).privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    jwks = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
    const { port } = jwks.address() as AddressInfo;
    backend = await createBackend('embedded');
    app = await startInstance(backend, { JWT_SECRET: '', JWT_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`, JWT_ISSUER: 'https://idp.test', JWT_AUDIENCE: 'scoreboard' });
  });
  afterAll(async () => {
    await app?.stop();
    await backend?.dispose();
    jwks?.close();
  });

  const idpToken = (kid: string, key: CryptoKey, claims: Record<string, unknown> = {}) =>
    new SignJWT({ name: 'Grace', ...claims })
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
      .setSubject('idp-user')
      .setIssuer('https://idp.test')
      .setAudience('scoreboard')
      .setExpirationTime('5m')
      .sign(key);

  it('accepts a token signed by a published key', async () => {
    const result = await app.gql(MeDocument, {}, await idpToken('k1', privateKey));
    expect(result.data?.me).toMatchObject({ id: 'idp-user', username: 'Grace' });
  });

  it('unknown kid: UNAUTHENTICATED', async () => {
    expect(codes(await app.gql(MeDocument, {}, await idpToken('k9', privateKey)))).toEqual(['UNAUTHENTICATED']);
  });

  it('known kid, wrong key: UNAUTHENTICATED', async () => {
    expect(codes(await app.gql(MeDocument, {}, await idpToken('k1', otherKey)))).toEqual(['UNAUTHENTICATED']);
  });
});
