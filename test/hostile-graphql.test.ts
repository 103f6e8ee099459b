import { getIntrospectionQuery } from 'graphql';
import { expect, it, vi } from 'vitest';
import { LeaderboardDocument } from '../sdk/generated/graphql.js';
import { GRAPHIQL_ASSETS } from '../src/http/graphiql.js';
import { codes, expectNoGraphQLErrors } from './support/app.js';
import { describeBackends } from './support/suite.js';

/** What must be withstood, "Hostile GraphQL": rejected before execution, clearly, and the server stays healthy. */
describeBackends('hostile GraphQL', (f) => {
  const post = async (body: unknown, headers: Record<string, string> = {}) => {
    const res = await f.app.raw(typeof body === 'string' ? body : JSON.stringify(body), { headers });
    return { status: res.status, body: await res.json().catch(() => null) };
  };
  const healthy = async () => {
    expect((await fetch(`${f.app.url}/healthz`)).status).toBe(200);
    expect(expectNoGraphQLErrors(await f.app.gql(LeaderboardDocument, { first: 1 })).leaderboard).toBeTruthy();
  };

  it("deep nesting is rejected (GraphiQL's own introspection still passes outside production)", async () => {
    let nested = 'name';
    for (let i = 0; i < 30; i++) nested = `ofType { ${nested} }`;
    const { body } = await post({ query: `{ __type(name: "Query") { fields { type { ${nested} } } } }` });
    expect(body.errors[0].message).toMatch(/depth|cost/i);
    expect(body.data ?? null).toBeNull();
    const introspection = await post({ query: getIntrospectionQuery() });
    expect(introspection.body.errors).toBeUndefined();
    await healthy();
  });

  it('alias floods are rejected', async () => {
    const query = `{ ${Array.from({ length: 50 }, (_, i) => `a${i}: actionTypes { code }`).join(' ')} }`;
    const { body } = await post({ query });
    expect(body.errors[0].message).toMatch(/alias/i);
    await healthy();
  });

  it('directive floods are rejected', async () => {
    const query = `{ actionTypes ${'@include(if: true) '.repeat(50)}{ code } }`;
    const { body } = await post({ query });
    expect(body.errors[0].message).toMatch(/directive/i);
    await healthy();
  });

  it('huge documents are rejected: too many tokens, or too many bytes (413)', async () => {
    const tokens = await post({ query: `{ ${'actionTypes { code } '.repeat(300)} }` });
    expect(tokens.body.errors[0].message).toMatch(/token/i);
    const bytes = await post({ query: `{ actionTypes { code } } # ${'x'.repeat(200_000)}` });
    expect(bytes.status).toBe(413);
    await healthy();
  });

  it('batched arrays are refused', async () => {
    const { status, body } = await post([{ query: '{ actionTypes { code } }' }, { query: '{ actionTypes { code } }' }]);
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(500);
    expect(JSON.stringify(body)).not.toMatch(/COMPLETE_TASK/);
    await healthy();
  });

  it('first: 100000 is BAD_USER_INPUT before any work', async () => {
    expect(codes(await f.app.gql(LeaderboardDocument, { first: 100_000 }))).toEqual(['BAD_USER_INPUT']);
  });

  it('malformed JSON, wrong content type, 1 MB strings: clear 4xx, server stays healthy', async () => {
    const malformed = await post('{"query": "{ actionTypes { code } ', {});
    expect(malformed.status).toBe(400);
    const wrongType = await fetch(`${f.app.url}/graphql`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{ actionTypes { code } }' });
    expect(wrongType.status).toBeGreaterThanOrEqual(400);
    expect(wrongType.status).toBeLessThan(500);
    const big = await post({ query: 'query($id: ID!) { player(id: $id) { id } }', variables: { id: 'x'.repeat(1_000_000) } });
    expect(big.status).toBe(413);
    await healthy();
  });

  it('mutations over GET are refused; GET without a CSRF header is refused', async () => {
    const query = encodeURIComponent('mutation { issueActionToken(actionType: "COMPLETE_TASK") { token } }');
    const viaGet = await fetch(`${f.app.url}/graphql?query=${query}`, { headers: { 'x-graphql-yoga-csrf': '1', accept: 'application/json' } });
    expect(viaGet.status).toBe(405);
    const noCsrf = await fetch(`${f.app.url}/graphql?query=${encodeURIComponent('{ actionTypes { code } }')}`, { headers: { accept: 'application/json' } });
    expect(noCsrf.status).toBe(403);
  });

  it('outside production, typos get "did you mean" help', async () => {
    const { body } = await post({ query: '{ actionTypez { code } }' });
    expect(body.errors[0].message).toMatch(/Did you mean/);
  });
});

describeBackends(
  'hostile GraphQL in production',
  (f) => {
    const post = async (body: unknown) => {
      const res = await f.app.raw(body as object);
      return { status: res.status, body: await res.json() };
    };

    it('no introspection, no GraphiQL', async () => {
      const { body } = await post({ query: '{ __schema { types { name } } }' });
      expect(body.errors[0].message).toMatch(/introspection/i);
      const page = await fetch(`${f.app.url}/graphql`, { headers: { accept: 'text/html' } });
      expect(await page.text()).not.toMatch(/graphiql/i);
      expect((await fetch(`${f.app.url}${GRAPHIQL_ASSETS}graphiql.js`)).status).toBe(404);
    });

    it('no "did you mean" suggestions', async () => {
      const { body } = await post({ query: '{ actionTypez { code } }' });
      expect(body.errors[0].message).not.toMatch(/Did you mean/);
    });

    it('no stack traces or SQL in errors: unexpected failures are masked', async () => {
      const spy = vi.spyOn(f.app.app.services.prisma.player, 'findUnique').mockRejectedValueOnce(new Error('syntax error at or near "SELECT * FROM players WHERE password"'));
      const { body } = await post({ query: '{ player(id: "x") { id } }' });
      spy.mockRestore();
      expect(body.errors[0].extensions.code).toBe('INTERNAL_SERVER_ERROR');
      const text = JSON.stringify(body);
      expect(text).not.toMatch(/SELECT|syntax error|stack|\.ts:/);
    });

    it('CORS answers only the configured origins', async () => {
      const preflight = (origin: string) =>
        fetch(`${f.app.url}/graphql`, {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
        });
      expect((await preflight('https://app.example')).headers.get('access-control-allow-origin')).toBe('https://app.example');
      // Never echoed back: a browser on another origin is refused.
      expect((await preflight('https://evil.example')).headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
    });
  },
  { only: ['real'], env: { NODE_ENV: 'production', CORS_ORIGINS: 'https://app.example' } },
);
