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
}`, {"hash":"sha256:43c01d95015b9e355933de5d8afcf342f41d8b684cbdc19de9fcfb83e3daaa74"}) as unknown as TypedDocumentString<ClientLeaderboardQuery, ClientLeaderboardQueryVariables>;
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
}`, {"hash":"sha256:b382a87183a95164e6ab747f3e3ee6c5ce4fe6b984a9c4afc244d9e97244cc5c"}) as unknown as TypedDocumentString<ClientLeaderboardAroundQuery, ClientLeaderboardAroundQueryVariables>;
export const ClientMeDocument = new TypedDocumentString(`
    query ClientMe {
  me {
    id
    username
    score
    rank
  }
}
    `, {"hash":"sha256:94805242332d32dc86dae4dab8121e189c3cc9864ea68ec9caaf57a036458245"}) as unknown as TypedDocumentString<ClientMeQuery, ClientMeQueryVariables>;
export const ClientActionTypesDocument = new TypedDocumentString(`
    query ClientActionTypes {
  actionTypes {
    code
    points
    minSeconds
  }
}
    `, {"hash":"sha256:3991531736adcae5dd7b267f0aac773a58cee68a79cd311f1200d25a1884c56d"}) as unknown as TypedDocumentString<ClientActionTypesQuery, ClientActionTypesQueryVariables>;
export const ClientIssueActionTokenDocument = new TypedDocumentString(`
    mutation ClientIssueActionToken($actionType: String!) {
  issueActionToken(actionType: $actionType) {
    actionId
    actionType
    token
    expiresAt
  }
}
    `, {"hash":"sha256:187931617ded68e56b7082a37282ebcf18dc649032283f8742aee55f08ca5a1f"}) as unknown as TypedDocumentString<ClientIssueActionTokenMutation, ClientIssueActionTokenMutationVariables>;
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
    `, {"hash":"sha256:6af62a0e61578517589ea57ed66779bf2aa9ceb4cee0cb7b989bb3aeee3cc740"}) as unknown as TypedDocumentString<ClientSubmitActionMutation, ClientSubmitActionMutationVariables>;
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
}`, {"hash":"sha256:742f4c487797b116e02642787c518404e9cabb30f4844cf32d8dc84742811341"}) as unknown as TypedDocumentString<ClientLeaderboardChangedSubscription, ClientLeaderboardChangedSubscriptionVariables>;
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
}`, {"hash":"sha256:6c18f04adb770277857f79bb34cbdcb81a00cbefca72d44d083d630ff92ffa70"}) as unknown as TypedDocumentString<ClientFriendsLeaderboardQuery, ClientFriendsLeaderboardQueryVariables>;
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
}`, {"hash":"sha256:f9c192a0f7c9879939726644852fe0c69659163239149f1b77cbd2993585499e"}) as unknown as TypedDocumentString<ClientFriendsQuery, ClientFriendsQueryVariables>;
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
}`, {"hash":"sha256:e962da76d2ed7c50e4404e3c7a5a2b989c4f5cb051bed3d6d8ec6904a1eaefdd"}) as unknown as TypedDocumentString<ClientRequestFriendMutation, ClientRequestFriendMutationVariables>;
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
}`, {"hash":"sha256:4c08fa7ad2476c82167bad378b3cdd117b22ccdd20217ab89d881c5a590a0624"}) as unknown as TypedDocumentString<ClientAcceptFriendMutation, ClientAcceptFriendMutationVariables>;
export const ClientRemoveFriendDocument = new TypedDocumentString(`
    mutation ClientRemoveFriend($player: ID!) {
  removeFriend(player: $player)
}
    `, {"hash":"sha256:269fb659b599a8d10bb5b2c7cc5891940c3e25af33fe72bcf1d0598221fc1e6c"}) as unknown as TypedDocumentString<ClientRemoveFriendMutation, ClientRemoveFriendMutationVariables>;
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
}`, {"hash":"sha256:0c751f12429decae067e6152bafa287a9422730af8c45c339a8ae95e4ee2e927"}) as unknown as TypedDocumentString<ClientMyAchievementsQuery, ClientMyAchievementsQueryVariables>;
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
    `, {"hash":"sha256:81e70aaed5e4df87d6f8749e5c47f0a2ad1a6c4f854a74076b326088ba005c16"}) as unknown as TypedDocumentString<ClientMyStandingChangedSubscription, ClientMyStandingChangedSubscriptionVariables>;
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
}`, {"hash":"sha256:498befda16921943a75ef2f4777530213a1b8ecda946638c1e31dcb3ea2f266e"}) as unknown as TypedDocumentString<ClientAchievementUnlockedSubscription, ClientAchievementUnlockedSubscriptionVariables>;