/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** SCORE_AT_LEAST: score on the board (current period) >= threshold; ACTION_COUNT: credited actions of actionType >= threshold; RANK_AT_MOST: position <= threshold on the board (ALL_TIME: when reached; windowed: when a period becomes final). */
export type AchievementKind =
  | 'ACTION_COUNT'
  | 'RANK_AT_MOST'
  | 'SCORE_AT_LEAST';

/** PENDING_OUT: the viewer asked; PENDING_IN: the other player asked the viewer; ACCEPTED: friends (mutual). */
export type FriendshipStatus =
  | 'ACCEPTED'
  | 'PENDING_IN'
  | 'PENDING_OUT';

/** How `rank` counts ties: ORDINAL = position (1, 2, 3, 4); COMPETITION = 1 + higher scores (1, 2, 2, 4); DENSE = 1 + distinct higher scores (1, 2, 2, 3). */
export type RankMode =
  | 'COMPETITION'
  | 'DENSE'
  | 'ORDINAL';

/** A ticket from issueActionToken, redeemed once. Carries no score: points come from the server. */
export type SubmitActionInput = {
  /** The ticket's actionId (UUID). */
  actionId: string | number;
  /** The ticket's action type. */
  actionType: string;
  /** The ticket's token. */
  token: string;
};

export type ClientBoardFragment = { seq: number, updatedAt: string, segment: string | null, totalPlayers: number, board: { id: string, title: string }, period: { key: string, startsAt: string | null, endsAt: string | null, final: boolean }, entries: Array<{ position: number, rank: number, score: number, player: { id: string, username: string } }> };

export type ClientLeaderboardQueryVariables = Exact<{
  board?: string | number | null | undefined;
  period?: string | null | undefined;
  segment?: string | null | undefined;
  first?: number | null | undefined;
  offset?: number | null | undefined;
  rankMode?: RankMode | null | undefined;
}>;


export type ClientLeaderboardQuery = { leaderboard: { seq: number, updatedAt: string, segment: string | null, totalPlayers: number, board: { id: string, title: string }, period: { key: string, startsAt: string | null, endsAt: string | null, final: boolean }, entries: Array<{ position: number, rank: number, score: number, player: { id: string, username: string } }> } };

export type ClientLeaderboardAroundQueryVariables = Exact<{
  board?: string | number | null | undefined;
  period?: string | null | undefined;
  segment?: string | null | undefined;
  player?: string | number | null | undefined;
  above?: number | null | undefined;
  below?: number | null | undefined;
  rankMode?: RankMode | null | undefined;
}>;


export type ClientLeaderboardAroundQuery = { leaderboardAround: { seq: number, updatedAt: string, segment: string | null, totalPlayers: number, board: { id: string, title: string }, period: { key: string, startsAt: string | null, endsAt: string | null, final: boolean }, entries: Array<{ position: number, rank: number, score: number, player: { id: string, username: string } }> } };

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


export type ClientSubmitActionMutation = { submitAction: { actionId: string, scoreDelta: number, newScore: number, rank: number, seq: number, replayed: boolean, player: { id: string, username: string, score: number, rank: number | null }, standings: Array<{ segment: string | null, rank: number, position: number, score: number, totalPlayers: number, seq: number, board: { id: string }, period: { key: string } }>, unlocked: Array<{ code: string, title: string }> } };

export type ClientLeaderboardChangedSubscriptionVariables = Exact<{
  board?: string | number | null | undefined;
  period?: string | null | undefined;
  segment?: string | null | undefined;
  first?: number | null | undefined;
  rankMode?: RankMode | null | undefined;
}>;


export type ClientLeaderboardChangedSubscription = { leaderboardChanged: { seq: number, updatedAt: string, segment: string | null, totalPlayers: number, board: { id: string, title: string }, period: { key: string, startsAt: string | null, endsAt: string | null, final: boolean }, entries: Array<{ position: number, rank: number, score: number, player: { id: string, username: string } }> } };

export type ClientFriendsLeaderboardQueryVariables = Exact<{
  board?: string | number | null | undefined;
  period?: string | null | undefined;
  first?: number | null | undefined;
  rankMode?: RankMode | null | undefined;
}>;


export type ClientFriendsLeaderboardQuery = { friendsLeaderboard: { seq: number, updatedAt: string, segment: string | null, totalPlayers: number, board: { id: string, title: string }, period: { key: string, startsAt: string | null, endsAt: string | null, final: boolean }, entries: Array<{ position: number, rank: number, score: number, player: { id: string, username: string } }> } };

export type ClientFriendshipFragment = { status: FriendshipStatus, since: string, player: { id: string, username: string } };

export type ClientFriendsQueryVariables = Exact<{ [key: string]: never; }>;


export type ClientFriendsQuery = { friends: Array<{ status: FriendshipStatus, since: string, player: { id: string, username: string } }> };

export type ClientRequestFriendMutationVariables = Exact<{
  player: string | number;
}>;


export type ClientRequestFriendMutation = { requestFriend: { status: FriendshipStatus, since: string, player: { id: string, username: string } } };

export type ClientAcceptFriendMutationVariables = Exact<{
  player: string | number;
}>;


export type ClientAcceptFriendMutation = { acceptFriend: { status: FriendshipStatus, since: string, player: { id: string, username: string } } };

export type ClientRemoveFriendMutationVariables = Exact<{
  player: string | number;
}>;


export type ClientRemoveFriendMutation = { removeFriend: boolean };

export type ClientPlayerAchievementFragment = { progress: number, target: number, unlockedAt: string | null, achievement: { code: string, title: string, description: string, kind: AchievementKind, threshold: number, actionType: string | null, board: { id: string } } };

export type ClientMyAchievementsQueryVariables = Exact<{ [key: string]: never; }>;


export type ClientMyAchievementsQuery = { me: { achievements: Array<{ progress: number, target: number, unlockedAt: string | null, achievement: { code: string, title: string, description: string, kind: AchievementKind, threshold: number, actionType: string | null, board: { id: string } } }> } | null };

export type ClientMyStandingChangedSubscriptionVariables = Exact<{
  board?: string | number | null | undefined;
  period?: string | null | undefined;
  segment?: string | null | undefined;
  rankMode?: RankMode | null | undefined;
}>;


export type ClientMyStandingChangedSubscription = { myStandingChanged: { seq: number, previousRank: number | null, standing: { segment: string | null, rank: number, position: number, score: number, totalPlayers: number, seq: number, board: { id: string }, period: { key: string } } | null, overtakenBy: Array<{ id: string, username: string }> } };

export type ClientAchievementUnlockedSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type ClientAchievementUnlockedSubscription = { achievementUnlocked: { progress: number, target: number, unlockedAt: string | null, achievement: { code: string, title: string, description: string, kind: AchievementKind, threshold: number, actionType: string | null, board: { id: string } } } };

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
  segment
  totalPlayers
  board {
    id
    title
  }
  period {
    key
    startsAt
    endsAt
    final
  }
  entries {
    position
    rank
    score
    player {
      id
      username
    }
  }
}
    `, {"fragmentName":"ClientBoard"}) as unknown as TypedDocumentString<ClientBoardFragment, unknown>;
export const ClientFriendshipFragmentDoc = new TypedDocumentString(`
    fragment ClientFriendship on Friendship {
  status
  since
  player {
    id
    username
  }
}
    `, {"fragmentName":"ClientFriendship"}) as unknown as TypedDocumentString<ClientFriendshipFragment, unknown>;
export const ClientPlayerAchievementFragmentDoc = new TypedDocumentString(`
    fragment ClientPlayerAchievement on PlayerAchievement {
  achievement {
    code
    title
    description
    kind
    threshold
    actionType
    board {
      id
    }
  }
  progress
  target
  unlockedAt
}
    `, {"fragmentName":"ClientPlayerAchievement"}) as unknown as TypedDocumentString<ClientPlayerAchievementFragment, unknown>;
export const ClientLeaderboardDocument = new TypedDocumentString(`
    query ClientLeaderboard($board: ID = "global", $period: String, $segment: String, $first: Int = 10, $offset: Int = 0, $rankMode: RankMode = ORDINAL) {
  leaderboard(
    board: $board
    period: $period
    segment: $segment
    first: $first
    offset: $offset
    rankMode: $rankMode
  ) {
    ...ClientBoard
  }
}
    fragment ClientBoard on Leaderboard {
  seq
  updatedAt
  segment
  totalPlayers
  board {
    id
    title
  }
  period {
    key
    startsAt
    endsAt
    final
  }
  entries {
    position
    rank
    score
    player {
      id
      username
    }
  }
}`) as unknown as TypedDocumentString<ClientLeaderboardQuery, ClientLeaderboardQueryVariables>;
export const ClientLeaderboardAroundDocument = new TypedDocumentString(`
    query ClientLeaderboardAround($board: ID = "global", $period: String, $segment: String, $player: ID, $above: Int = 5, $below: Int = 5, $rankMode: RankMode = ORDINAL) {
  leaderboardAround(
    board: $board
    period: $period
    segment: $segment
    player: $player
    above: $above
    below: $below
    rankMode: $rankMode
  ) {
    ...ClientBoard
  }
}
    fragment ClientBoard on Leaderboard {
  seq
  updatedAt
  segment
  totalPlayers
  board {
    id
    title
  }
  period {
    key
    startsAt
    endsAt
    final
  }
  entries {
    position
    rank
    score
    player {
      id
      username
    }
  }
}`) as unknown as TypedDocumentString<ClientLeaderboardAroundQuery, ClientLeaderboardAroundQueryVariables>;
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
    standings {
      board {
        id
      }
      period {
        key
      }
      segment
      rank
      position
      score
      totalPlayers
      seq
    }
    unlocked {
      code
      title
    }
  }
}
    `) as unknown as TypedDocumentString<ClientSubmitActionMutation, ClientSubmitActionMutationVariables>;
export const ClientLeaderboardChangedDocument = new TypedDocumentString(`
    subscription ClientLeaderboardChanged($board: ID = "global", $period: String, $segment: String, $first: Int = 10, $rankMode: RankMode = ORDINAL) {
  leaderboardChanged(
    board: $board
    period: $period
    segment: $segment
    first: $first
    rankMode: $rankMode
  ) {
    ...ClientBoard
  }
}
    fragment ClientBoard on Leaderboard {
  seq
  updatedAt
  segment
  totalPlayers
  board {
    id
    title
  }
  period {
    key
    startsAt
    endsAt
    final
  }
  entries {
    position
    rank
    score
    player {
      id
      username
    }
  }
}`) as unknown as TypedDocumentString<ClientLeaderboardChangedSubscription, ClientLeaderboardChangedSubscriptionVariables>;
export const ClientFriendsLeaderboardDocument = new TypedDocumentString(`
    query ClientFriendsLeaderboard($board: ID = "global", $period: String, $first: Int = 100, $rankMode: RankMode = ORDINAL) {
  friendsLeaderboard(
    board: $board
    period: $period
    first: $first
    rankMode: $rankMode
  ) {
    ...ClientBoard
  }
}
    fragment ClientBoard on Leaderboard {
  seq
  updatedAt
  segment
  totalPlayers
  board {
    id
    title
  }
  period {
    key
    startsAt
    endsAt
    final
  }
  entries {
    position
    rank
    score
    player {
      id
      username
    }
  }
}`) as unknown as TypedDocumentString<ClientFriendsLeaderboardQuery, ClientFriendsLeaderboardQueryVariables>;
export const ClientFriendsDocument = new TypedDocumentString(`
    query ClientFriends {
  friends {
    ...ClientFriendship
  }
}
    fragment ClientFriendship on Friendship {
  status
  since
  player {
    id
    username
  }
}`) as unknown as TypedDocumentString<ClientFriendsQuery, ClientFriendsQueryVariables>;
export const ClientRequestFriendDocument = new TypedDocumentString(`
    mutation ClientRequestFriend($player: ID!) {
  requestFriend(player: $player) {
    ...ClientFriendship
  }
}
    fragment ClientFriendship on Friendship {
  status
  since
  player {
    id
    username
  }
}`) as unknown as TypedDocumentString<ClientRequestFriendMutation, ClientRequestFriendMutationVariables>;
export const ClientAcceptFriendDocument = new TypedDocumentString(`
    mutation ClientAcceptFriend($player: ID!) {
  acceptFriend(player: $player) {
    ...ClientFriendship
  }
}
    fragment ClientFriendship on Friendship {
  status
  since
  player {
    id
    username
  }
}`) as unknown as TypedDocumentString<ClientAcceptFriendMutation, ClientAcceptFriendMutationVariables>;
export const ClientRemoveFriendDocument = new TypedDocumentString(`
    mutation ClientRemoveFriend($player: ID!) {
  removeFriend(player: $player)
}
    `) as unknown as TypedDocumentString<ClientRemoveFriendMutation, ClientRemoveFriendMutationVariables>;
export const ClientMyAchievementsDocument = new TypedDocumentString(`
    query ClientMyAchievements {
  me {
    achievements {
      ...ClientPlayerAchievement
    }
  }
}
    fragment ClientPlayerAchievement on PlayerAchievement {
  achievement {
    code
    title
    description
    kind
    threshold
    actionType
    board {
      id
    }
  }
  progress
  target
  unlockedAt
}`) as unknown as TypedDocumentString<ClientMyAchievementsQuery, ClientMyAchievementsQueryVariables>;
export const ClientMyStandingChangedDocument = new TypedDocumentString(`
    subscription ClientMyStandingChanged($board: ID = "global", $period: String, $segment: String, $rankMode: RankMode = ORDINAL) {
  myStandingChanged(
    board: $board
    period: $period
    segment: $segment
    rankMode: $rankMode
  ) {
    seq
    previousRank
    standing {
      board {
        id
      }
      period {
        key
      }
      segment
      rank
      position
      score
      totalPlayers
      seq
    }
    overtakenBy {
      id
      username
    }
  }
}
    `) as unknown as TypedDocumentString<ClientMyStandingChangedSubscription, ClientMyStandingChangedSubscriptionVariables>;
export const ClientAchievementUnlockedDocument = new TypedDocumentString(`
    subscription ClientAchievementUnlocked {
  achievementUnlocked {
    ...ClientPlayerAchievement
  }
}
    fragment ClientPlayerAchievement on PlayerAchievement {
  achievement {
    code
    title
    description
    kind
    threshold
    actionType
    board {
      id
    }
  }
  progress
  target
  unlockedAt
}`) as unknown as TypedDocumentString<ClientAchievementUnlockedSubscription, ClientAchievementUnlockedSubscriptionVariables>;