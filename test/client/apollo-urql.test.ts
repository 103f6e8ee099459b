import { ApolloClient, ApolloLink, CombinedGraphQLErrors, HttpLink, InMemoryCache } from '@apollo/client';
import { SetContextLink } from '@apollo/client/link/context';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { isSubscriptionOperation } from '@apollo/client/utilities';
import { Client as UrqlClient, fetchExchange, subscriptionExchange } from '@urql/core';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { afterEach, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createScoreboardClient } from '../../packages/client/src/index.js';
import {
  IssueActionTokenDocument,
  LeaderboardChangedDocument,
  LeaderboardDocument,
  MeDocument,
  SubmitActionDocument,
  type LeaderboardChangedSubscription,
} from '../../sdk/generated/graphql.js';
import { waitFor } from '../support/app.js';
import { describeBackends } from '../support/suite.js';

/**
 * The setups docs/clients.md shows, run against the real server: Apollo Client
 * and urql with the typed documents from sdk/generated, HTTP for queries and
 * mutations, graphql-ws for subscriptions, the player JWT on both.
 */

const sockets: WsClient[] = [];
afterEach(async () => {
  await Promise.all(sockets.splice(0).map(async (s) => s.dispose()));
});

function wsClient(url: string, getToken: () => string | undefined) {
  const client = createWsClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket, // browsers have their own; Node 20 needs one
    connectionParams: () => {
      const token = getToken();
      return token ? { authorization: `Bearer ${token}` } : {};
    },
  });
  sockets.push(client);
  return client;
}

describeBackends(
  'Apollo Client and urql',
  (f) => {
    it('Apollo Client: typed query, the ticket flow, a typed error code, a live board', async () => {
      const player = await f.player('apollo');
      const url = `${f.app.url}/graphql`;
      const getToken = () => player.token;

      // --- as in docs/clients.md ---
      const auth = new SetContextLink(({ headers }) => ({
        headers: { ...headers, ...(getToken() ? { authorization: `Bearer ${getToken()}` } : {}) },
      }));
      const link = ApolloLink.split(({ query }) => isSubscriptionOperation(query), new GraphQLWsLink(wsClient(url, getToken)), ApolloLink.from([auth, new HttpLink({ uri: url })]));
      const apollo = new ApolloClient({ link, cache: new InMemoryCache() });
      // ---

      const board = await apollo.query({ query: LeaderboardDocument, variables: { first: 10 }, fetchPolicy: 'network-only' });
      expect(board.data?.leaderboard.seq).toBeTypeOf('number');

      const live: LeaderboardChangedSubscription['leaderboardChanged'][] = [];
      const subscription = apollo.subscribe({ query: LeaderboardChangedDocument, variables: { first: 10 } }).subscribe({
        next: ({ data }) => data && live.push(data.leaderboardChanged),
      });
      await waitFor(() => live.length > 0, 10_000, 'the snapshot');

      const issued = await apollo.mutate({ mutation: IssueActionTokenDocument, variables: { actionType: 'COMPLETE_TASK' } });
      const ticket = issued.data!.issueActionToken;
      const input = { actionId: ticket.actionId, actionType: ticket.actionType, token: ticket.token };
      const submitted = await apollo.mutate({ mutation: SubmitActionDocument, variables: { input } });
      expect(submitted.data!.submitAction).toMatchObject({ scoreDelta: 10, replayed: false });
      // Submitting the same ticket again is what a retry does: a replay, never a second credit.
      const again = await apollo.mutate({ mutation: SubmitActionDocument, variables: { input } });
      expect(again.data!.submitAction).toMatchObject({ scoreDelta: 10, newScore: 10, replayed: true });

      await waitFor(() => live.some((b) => b.entries.some((e) => e.player.id === player.id)), 10_000, 'the live change');
      subscription.unsubscribe();

      // Errors: the stable code is in extensions.code.
      const error = await apollo.mutate({ mutation: SubmitActionDocument, variables: { input: { ...input, token: 'not-a-ticket' } } }).catch((e: unknown) => e);
      expect(CombinedGraphQLErrors.is(error)).toBe(true);
      expect((error as CombinedGraphQLErrors).errors[0]?.extensions?.code).toBe('INVALID_ACTION_TOKEN');
    });

    it('urql: typed query, the ticket flow through the client package, a live board', async () => {
      const player = await f.player('urql');
      const url = `${f.app.url}/graphql`;
      const getToken = () => player.token;

      // --- as in docs/clients.md ---
      const ws = wsClient(url, getToken);
      const urql = new UrqlClient({
        url,
        preferGetMethod: false, // the server's CSRF check wants POST + JSON
        requestPolicy: 'network-only',
        fetchOptions: (): RequestInit => {
          const token = getToken();
          return { headers: token ? { authorization: `Bearer ${token}` } : {} };
        },
        exchanges: [
          fetchExchange,
          subscriptionExchange({
            forwardSubscription: (request) => ({
              subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink) }),
            }),
          }),
        ],
      });
      // The action flow's retry rules come with the client package; urql does the rest.
      const scoreboard = createScoreboardClient({ url, getToken });
      // ---

      const live: LeaderboardChangedSubscription['leaderboardChanged'][] = [];
      const { unsubscribe } = urql.subscription(LeaderboardChangedDocument, { first: 10 }).subscribe((result) => {
        if (result.data) live.push(result.data.leaderboardChanged);
      });
      await waitFor(() => live.length > 0, 10_000, 'the snapshot');

      const outcome = await scoreboard.performAction('COMPLETE_TASK');
      expect(outcome).toMatchObject({ scoreDelta: 10, replayed: false });

      const me = await urql.query(MeDocument, {}).toPromise();
      expect(me.error).toBeUndefined();
      expect(me.data?.me).toMatchObject({ id: player.id, score: 10 });
      const board = await urql.query(LeaderboardDocument, { first: 10 }).toPromise();
      expect(board.data?.leaderboard.entries.some((e) => e.player.id === player.id)).toBe(true);
      await waitFor(() => live.some((b) => b.seq >= outcome.seq), 10_000, 'the live change');
      unsubscribe();

      const refused = await urql.mutation(IssueActionTokenDocument, { actionType: 'NOT_A_TYPE' }).toPromise();
      expect(refused.error?.graphQLErrors[0]?.extensions?.code).toBe('UNKNOWN_ACTION_TYPE');
    });
  },
  { only: ['embedded'] },
);
