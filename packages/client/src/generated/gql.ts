/* eslint-disable */
import * as types from './graphql.js';



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
    "fragment ClientBoard on Leaderboard {\n  seq\n  updatedAt\n  entries {\n    rank\n    score\n    player {\n      id\n      username\n    }\n  }\n}\n\nquery ClientLeaderboard($first: Int = 10) {\n  leaderboard(first: $first) {\n    ...ClientBoard\n  }\n}\n\nquery ClientMe {\n  me {\n    id\n    username\n    score\n    rank\n  }\n}\n\nquery ClientActionTypes {\n  actionTypes {\n    code\n    points\n    minSeconds\n  }\n}\n\nmutation ClientIssueActionToken($actionType: String!) {\n  issueActionToken(actionType: $actionType) {\n    actionId\n    actionType\n    token\n    expiresAt\n  }\n}\n\nmutation ClientSubmitAction($input: SubmitActionInput!) {\n  submitAction(input: $input) {\n    actionId\n    scoreDelta\n    newScore\n    rank\n    seq\n    replayed\n    player {\n      id\n      username\n      score\n      rank\n    }\n  }\n}\n\nsubscription ClientLeaderboardChanged($first: Int = 10) {\n  leaderboardChanged(first: $first) {\n    ...ClientBoard\n  }\n}": typeof types.ClientBoardFragmentDoc,
};
const documents: Documents = {
    "fragment ClientBoard on Leaderboard {\n  seq\n  updatedAt\n  entries {\n    rank\n    score\n    player {\n      id\n      username\n    }\n  }\n}\n\nquery ClientLeaderboard($first: Int = 10) {\n  leaderboard(first: $first) {\n    ...ClientBoard\n  }\n}\n\nquery ClientMe {\n  me {\n    id\n    username\n    score\n    rank\n  }\n}\n\nquery ClientActionTypes {\n  actionTypes {\n    code\n    points\n    minSeconds\n  }\n}\n\nmutation ClientIssueActionToken($actionType: String!) {\n  issueActionToken(actionType: $actionType) {\n    actionId\n    actionType\n    token\n    expiresAt\n  }\n}\n\nmutation ClientSubmitAction($input: SubmitActionInput!) {\n  submitAction(input: $input) {\n    actionId\n    scoreDelta\n    newScore\n    rank\n    seq\n    replayed\n    player {\n      id\n      username\n      score\n      rank\n    }\n  }\n}\n\nsubscription ClientLeaderboardChanged($first: Int = 10) {\n  leaderboardChanged(first: $first) {\n    ...ClientBoard\n  }\n}": types.ClientBoardFragmentDoc,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment ClientBoard on Leaderboard {\n  seq\n  updatedAt\n  entries {\n    rank\n    score\n    player {\n      id\n      username\n    }\n  }\n}\n\nquery ClientLeaderboard($first: Int = 10) {\n  leaderboard(first: $first) {\n    ...ClientBoard\n  }\n}\n\nquery ClientMe {\n  me {\n    id\n    username\n    score\n    rank\n  }\n}\n\nquery ClientActionTypes {\n  actionTypes {\n    code\n    points\n    minSeconds\n  }\n}\n\nmutation ClientIssueActionToken($actionType: String!) {\n  issueActionToken(actionType: $actionType) {\n    actionId\n    actionType\n    token\n    expiresAt\n  }\n}\n\nmutation ClientSubmitAction($input: SubmitActionInput!) {\n  submitAction(input: $input) {\n    actionId\n    scoreDelta\n    newScore\n    rank\n    seq\n    replayed\n    player {\n      id\n      username\n      score\n      rank\n    }\n  }\n}\n\nsubscription ClientLeaderboardChanged($first: Int = 10) {\n  leaderboardChanged(first: $first) {\n    ...ClientBoard\n  }\n}"): typeof import('./graphql.js').ClientBoardFragmentDoc;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
