/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "fragment BoardFields on Leaderboard {\n  seq\n  updatedAt\n  entries {\n    rank\n    score\n    player {\n      id\n      username\n    }\n  }\n}\n\nquery Leaderboard($first: Int = 10) {\n  leaderboard(first: $first) {\n    ...BoardFields\n  }\n}\n\nquery Me {\n  me {\n    id\n    username\n    score\n    rank\n  }\n}\n\nquery Player($id: ID!) {\n  player(id: $id) {\n    id\n    username\n    score\n    rank\n  }\n}\n\nquery ActionTypes {\n  actionTypes {\n    code\n    points\n    minSeconds\n  }\n}\n\nmutation IssueActionToken($actionType: String!) {\n  issueActionToken(actionType: $actionType) {\n    actionId\n    actionType\n    token\n    expiresAt\n  }\n}\n\nmutation SubmitAction($input: SubmitActionInput!) {\n  submitAction(input: $input) {\n    actionId\n    scoreDelta\n    newScore\n    rank\n    seq\n    replayed\n    player {\n      id\n      username\n      score\n      rank\n    }\n  }\n}\n\nsubscription LeaderboardChanged($first: Int = 10) {\n  leaderboardChanged(first: $first) {\n    ...BoardFields\n  }\n}": typeof types.BoardFieldsFragmentDoc,
};
const documents: Documents = {
    "fragment BoardFields on Leaderboard {\n  seq\n  updatedAt\n  entries {\n    rank\n    score\n    player {\n      id\n      username\n    }\n  }\n}\n\nquery Leaderboard($first: Int = 10) {\n  leaderboard(first: $first) {\n    ...BoardFields\n  }\n}\n\nquery Me {\n  me {\n    id\n    username\n    score\n    rank\n  }\n}\n\nquery Player($id: ID!) {\n  player(id: $id) {\n    id\n    username\n    score\n    rank\n  }\n}\n\nquery ActionTypes {\n  actionTypes {\n    code\n    points\n    minSeconds\n  }\n}\n\nmutation IssueActionToken($actionType: String!) {\n  issueActionToken(actionType: $actionType) {\n    actionId\n    actionType\n    token\n    expiresAt\n  }\n}\n\nmutation SubmitAction($input: SubmitActionInput!) {\n  submitAction(input: $input) {\n    actionId\n    scoreDelta\n    newScore\n    rank\n    seq\n    replayed\n    player {\n      id\n      username\n      score\n      rank\n    }\n  }\n}\n\nsubscription LeaderboardChanged($first: Int = 10) {\n  leaderboardChanged(first: $first) {\n    ...BoardFields\n  }\n}": types.BoardFieldsFragmentDoc,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment BoardFields on Leaderboard {\n  seq\n  updatedAt\n  entries {\n    rank\n    score\n    player {\n      id\n      username\n    }\n  }\n}\n\nquery Leaderboard($first: Int = 10) {\n  leaderboard(first: $first) {\n    ...BoardFields\n  }\n}\n\nquery Me {\n  me {\n    id\n    username\n    score\n    rank\n  }\n}\n\nquery Player($id: ID!) {\n  player(id: $id) {\n    id\n    username\n    score\n    rank\n  }\n}\n\nquery ActionTypes {\n  actionTypes {\n    code\n    points\n    minSeconds\n  }\n}\n\nmutation IssueActionToken($actionType: String!) {\n  issueActionToken(actionType: $actionType) {\n    actionId\n    actionType\n    token\n    expiresAt\n  }\n}\n\nmutation SubmitAction($input: SubmitActionInput!) {\n  submitAction(input: $input) {\n    actionId\n    scoreDelta\n    newScore\n    rank\n    seq\n    replayed\n    player {\n      id\n      username\n      score\n      rank\n    }\n  }\n}\n\nsubscription LeaderboardChanged($first: Int = 10) {\n  leaderboardChanged(first: $first) {\n    ...BoardFields\n  }\n}"): (typeof documents)["fragment BoardFields on Leaderboard {\n  seq\n  updatedAt\n  entries {\n    rank\n    score\n    player {\n      id\n      username\n    }\n  }\n}\n\nquery Leaderboard($first: Int = 10) {\n  leaderboard(first: $first) {\n    ...BoardFields\n  }\n}\n\nquery Me {\n  me {\n    id\n    username\n    score\n    rank\n  }\n}\n\nquery Player($id: ID!) {\n  player(id: $id) {\n    id\n    username\n    score\n    rank\n  }\n}\n\nquery ActionTypes {\n  actionTypes {\n    code\n    points\n    minSeconds\n  }\n}\n\nmutation IssueActionToken($actionType: String!) {\n  issueActionToken(actionType: $actionType) {\n    actionId\n    actionType\n    token\n    expiresAt\n  }\n}\n\nmutation SubmitAction($input: SubmitActionInput!) {\n  submitAction(input: $input) {\n    actionId\n    scoreDelta\n    newScore\n    rank\n    seq\n    replayed\n    player {\n      id\n      username\n      score\n      rank\n    }\n  }\n}\n\nsubscription LeaderboardChanged($first: Int = 10) {\n  leaderboardChanged(first: $first) {\n    ...BoardFields\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;