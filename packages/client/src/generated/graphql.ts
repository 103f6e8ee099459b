/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** A ticket from issueActionToken, redeemed once. Carries no score: points come from the server. */
export type SubmitActionInput = {
  /** The ticket's actionId (UUID). */
  actionId: string | number;
  /** The ticket's action type. */
  actionType: string;
  /** The ticket's token. */
  token: string;
};

export type ClientBoardFragment = { seq: number, updatedAt: string, entries: Array<{ rank: number, score: number, player: { id: string, username: string } }> };

export type ClientLeaderboardQueryVariables = Exact<{
  first?: number | null | undefined;
}>;


export type ClientLeaderboardQuery = { leaderboard: { seq: number, updatedAt: string, entries: Array<{ rank: number, score: number, player: { id: string, username: string } }> } };

export type ClientMeQueryVariables = Exact<{ [key: string]: never; }>;


export type ClientMeQuery = { me: { id: string, username: string, score: number, rank: number | null } | null };

export type ClientActionTypesQueryVariables = Exact<{ [key: string]: never; }>;


export type ClientActionTypesQuery = { actionTypes: Array<{ code: string, points: number, minSeconds: number }> };

export type ClientIssueActionTokenMutationVariables = Exact<{
  actionType: string;
}>;


export type ClientIssueActionTokenMutation = { issueActionToken: { actionId: string, actionType: string, token: string, expiresAt: string } };

export type ClientSubmitActionMutationVariables = Exact<{
  input: SubmitActionInput;
}>;


export type ClientSubmitActionMutation = { submitAction: { actionId: string, scoreDelta: number, newScore: number, rank: number, seq: number, replayed: boolean, player: { id: string, username: string, score: number, rank: number | null } } };

export type ClientLeaderboardChangedSubscriptionVariables = Exact<{
  first?: number | null | undefined;
}>;


export type ClientLeaderboardChangedSubscription = { leaderboardChanged: { seq: number, updatedAt: string, entries: Array<{ rank: number, score: number, player: { id: string, username: string } }> } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const ClientBoardFragmentDoc = new TypedDocumentString(`
    fragment ClientBoard on Leaderboard {
  seq
  updatedAt
  entries {
    rank
    score
    player {
      id
      username
    }
  }
}
    `, {"fragmentName":"ClientBoard"}) as unknown as TypedDocumentString<ClientBoardFragment, unknown>;
export const ClientLeaderboardDocument = new TypedDocumentString(`
    query ClientLeaderboard($first: Int = 10) {
  leaderboard(first: $first) {
    ...ClientBoard
  }
}
    fragment ClientBoard on Leaderboard {
  seq
  updatedAt
  entries {
    rank
    score
    player {
      id
      username
    }
  }
}`) as unknown as TypedDocumentString<ClientLeaderboardQuery, ClientLeaderboardQueryVariables>;
export const ClientMeDocument = new TypedDocumentString(`
    query ClientMe {
  me {
    id
    username
    score
    rank
  }
}
    `) as unknown as TypedDocumentString<ClientMeQuery, ClientMeQueryVariables>;
export const ClientActionTypesDocument = new TypedDocumentString(`
    query ClientActionTypes {
  actionTypes {
    code
    points
    minSeconds
  }
}
    `) as unknown as TypedDocumentString<ClientActionTypesQuery, ClientActionTypesQueryVariables>;
export const ClientIssueActionTokenDocument = new TypedDocumentString(`
    mutation ClientIssueActionToken($actionType: String!) {
  issueActionToken(actionType: $actionType) {
    actionId
    actionType
    token
    expiresAt
  }
}
    `) as unknown as TypedDocumentString<ClientIssueActionTokenMutation, ClientIssueActionTokenMutationVariables>;
export const ClientSubmitActionDocument = new TypedDocumentString(`
    mutation ClientSubmitAction($input: SubmitActionInput!) {
  submitAction(input: $input) {
    actionId
    scoreDelta
    newScore
    rank
    seq
    replayed
    player {
      id
      username
      score
      rank
    }
  }
}
    `) as unknown as TypedDocumentString<ClientSubmitActionMutation, ClientSubmitActionMutationVariables>;
export const ClientLeaderboardChangedDocument = new TypedDocumentString(`
    subscription ClientLeaderboardChanged($first: Int = 10) {
  leaderboardChanged(first: $first) {
    ...ClientBoard
  }
}
    fragment ClientBoard on Leaderboard {
  seq
  updatedAt
  entries {
    rank
    score
    player {
      id
      username
    }
  }
}`) as unknown as TypedDocumentString<ClientLeaderboardChangedSubscription, ClientLeaderboardChangedSubscriptionVariables>;