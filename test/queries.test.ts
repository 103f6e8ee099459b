import { expect, it } from 'vitest';
import { ActionTypesDocument, LeaderboardDocument, MeDocument, PlayerDocument } from '../sdk/generated/graphql.js';
import { codes, expectNoGraphQLErrors } from './support/app.js';
import { completeTask } from './support/play.js';
import { describeBackends } from './support/suite.js';

describeBackends('queries', (f) => {
  it('answers the quick-start query: empty board, COMPLETE_TASK worth 10', async () => {
    const res = await f.app.raw({
      query: '{ leaderboard(first: 10) { seq updatedAt entries { rank score player { id username } } } actionTypes { code points minSeconds } }',
    });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.errors).toBeUndefined();
    expect(body.data.actionTypes).toContainEqual({ code: 'COMPLETE_TASK', points: 10, minSeconds: 0 });
    expect(typeof body.data.leaderboard.seq).toBe('number');
    expect(new Date(body.data.leaderboard.updatedAt).toString()).not.toBe('Invalid Date');
  });

  it.each([0, -1, 101, 100_000])('leaderboard(first: %i) is BAD_USER_INPUT', async (first) => {
    expect(codes(await f.app.gql(LeaderboardDocument, { first }))).toEqual(['BAD_USER_INPUT']);
  });

  it('me needs a JWT; player(id) is public and null when unknown', async () => {
    expect(codes(await f.app.gql(MeDocument, {}))).toEqual(['UNAUTHENTICATED']);
    expect(expectNoGraphQLErrors(await f.app.gql(PlayerDocument, { id: 'nobody-here' })).player).toBeNull();
    const alice = await f.player('alice');
    await completeTask(f.app, alice.token);
    const me = expectNoGraphQLErrors(await f.app.gql(MeDocument, {}, alice.token)).me!;
    expect(me).toMatchObject({ id: alice.id, username: 'alice', score: 10 });
    expect(me.rank).toBeGreaterThanOrEqual(1);
    const player = expectNoGraphQLErrors(await f.app.gql(PlayerDocument, { id: alice.id })).player!;
    expect(player).toEqual(me);
  });

  it('actionTypes lists the server points table', async () => {
    const types = expectNoGraphQLErrors(await f.app.gql(ActionTypesDocument, {})).actionTypes;
    expect(types.find((t) => t.code === 'COMPLETE_TASK')).toEqual({ code: 'COMPLETE_TASK', points: 10, minSeconds: 0 });
  });

  it('health endpoints', async () => {
    expect((await fetch(`${f.app.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${f.app.url}/readyz`);
    expect(ready.status).toBe(200);
    const body = await ready.json();
    expect(body.checks.database).toBe(true);
    // The harness waited for the startup warming.
    expect(body.warm).toBe(true);
    if (f.kind === 'real') expect(body.checks.redis).toBe(true);
  });
});
