import { expect, it } from 'vitest';
import { BanPlayerDocument, HidePlayerDocument, MeModerationDocument, PlayerModerationDocument, SearchPlayersDocument } from '../../sdk/generated/graphql.js';
import { codes, expectNoGraphQLErrors } from '../support/app.js';
import { completeTask } from '../support/play.js';
import { describeBackends, type Fixture } from '../support/suite.js';

/**
 * `players(search, first)`: the operators' player search behind the admin
 * console. Operators only; finds hidden and banned players too; the term is a
 * parameter with its LIKE wildcards escaped.
 */

/** A player with a row in the database (created by their first authenticated request) and `tasks` credits. */
async function seeded(f: Fixture, username: string, tasks = 0) {
  const p = await f.player(username);
  if (tasks === 0) expectNoGraphQLErrors(await f.app.gql(MeModerationDocument, {}, p.token));
  for (let i = 0; i < tasks; i++) await completeTask(f.app, p.token);
  return p;
}

describeBackends('player search', (f) => {
  it('answers FORBIDDEN to a player and UNAUTHENTICATED without a JWT, and leaks nothing', async () => {
    const p = await seeded(f, 'searchable-secret');
    for (const [token, code] of [
      [p.token, 'FORBIDDEN'],
      [undefined, 'UNAUTHENTICATED'],
      ['not-a-jwt', 'UNAUTHENTICATED'],
    ] as const) {
      const result = await f.app.gql(SearchPlayersDocument, { search: 'searchable' }, token);
      expect(codes(result)).toEqual([code]);
      expect(result.data ?? null).toBeNull();
    }
  });

  it('refuses an empty, blank or too long term and a first outside 1..50 with BAD_USER_INPUT', async () => {
    const op = await f.operator();
    for (const variables of [{ search: '' }, { search: '   ' }, { search: 'x'.repeat(101) }, { search: 'a', first: 0 }, { search: 'a', first: 51 }, { search: 'a', first: -1 }]) {
      expect(codes(await f.app.gql(SearchPlayersDocument, variables, op.token)), JSON.stringify(variables)).toEqual(['BAD_USER_INPUT']);
    }
    // The bounds themselves are fine.
    expectNoGraphQLErrors(await f.app.gql(SearchPlayersDocument, { search: 'x'.repeat(100), first: 50 }, op.token));
  });

  it('finds by username substring (any case) and by id prefix, best match first, hidden and banned players included', async () => {
    const op = await f.operator();
    const tag = `zq${Math.random().toString(36).slice(2, 8)}`;
    const low = await seeded(f, `${tag}-Lowly`, 1);
    const high = await seeded(f, `Mr ${tag.toUpperCase()} High`, 3);
    const hidden = await seeded(f, `${tag}-hidden`, 2);
    const banned = await seeded(f, `${tag}-banned`, 4);
    await seeded(f, 'someone-else', 5);
    expectNoGraphQLErrors(await f.app.gql(HidePlayerDocument, { player: hidden.id, reason: 'cheating' }, op.token));
    expectNoGraphQLErrors(await f.app.gql(BanPlayerDocument, { player: banned.id, reason: 'cheating' }, op.token));
    // To everyone else they are gone.
    expect(expectNoGraphQLErrors(await f.app.gql(PlayerModerationDocument, { id: hidden.id }, low.token)).player).toBeNull();

    const found = expectNoGraphQLErrors(await f.app.gql(SearchPlayersDocument, { search: tag }, op.token)).players;
    // Highest score first; moderation state visible to the operator.
    expect(found).toEqual([
      { id: banned.id, username: `${tag}-banned`, score: 40, hidden: false, banned: true },
      { id: high.id, username: `Mr ${tag.toUpperCase()} High`, score: 30, hidden: false, banned: false },
      { id: hidden.id, username: `${tag}-hidden`, score: 20, hidden: true, banned: false },
      { id: low.id, username: `${tag}-Lowly`, score: 10, hidden: false, banned: false },
    ]);

    const limited = expectNoGraphQLErrors(await f.app.gql(SearchPlayersDocument, { search: tag.toUpperCase(), first: 2 }, op.token)).players;
    expect(limited.map((p) => p.id)).toEqual([banned.id, high.id]);

    // An id prefix (ids are "<name>-<pid>-<n>-<random>"): the exact id comes first.
    const byId = expectNoGraphQLErrors(await f.app.gql(SearchPlayersDocument, { search: hidden.id }, op.token)).players;
    expect(byId.map((p) => p.id)).toEqual([hidden.id]);
    const byPrefix = expectNoGraphQLErrors(await f.app.gql(SearchPlayersDocument, { search: hidden.id.slice(0, -3) }, op.token)).players;
    expect(byPrefix.map((p) => p.id)).toContain(hidden.id);
    // A username that equals the term exactly beats a higher score.
    const exact = expectNoGraphQLErrors(await f.app.gql(SearchPlayersDocument, { search: `${tag}-LOWLY` }, op.token)).players;
    expect(exact[0]?.id).toBe(low.id);

    expect(expectNoGraphQLErrors(await f.app.gql(SearchPlayersDocument, { search: `${tag}-nobody` }, op.token)).players).toEqual([]);
  });

  it('treats % _ and \\ as plain characters, not wildcards', async () => {
    const op = await f.operator();
    const tag = `wc${Math.random().toString(36).slice(2, 8)}`;
    const percent = await seeded(f, `${tag}%off`);
    const underscore = await seeded(f, `${tag}_x`);
    const backslash = await seeded(f, `${tag}\\y`);
    await seeded(f, `${tag}Ax`);
    await seeded(f, `${tag}offers`);
    const search = async (term: string) =>
      expectNoGraphQLErrors(await f.app.gql(SearchPlayersDocument, { search: term }, op.token))
        .players.map((p) => p.id)
        .sort();
    expect(await search(`${tag}%`)).toEqual([percent.id]);
    expect(await search(`${tag}_`)).toEqual([underscore.id]);
    expect(await search(`${tag}\\`)).toEqual([backslash.id]);
    expect(await search(`%${tag}`)).toEqual([]);
    // Quotes are just characters too (the term is a bound parameter).
    expect(await search(`${tag}' OR '1'='1`)).toEqual([]);
  });
});
