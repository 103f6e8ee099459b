/**
 * @scoreboard/client: the Scoreboard API for web and game clients.
 *
 *   const scoreboard = createScoreboardClient({ url: 'https://scores.example.com/graphql', getToken });
 *   const result = await scoreboard.performAction('COMPLETE_TASK');
 *   const stop = scoreboard.watchLeaderboard({ first: 10 }, (board) => render(board));
 *
 * Runtime dependencies: graphql-ws and a fetch. Nothing else.
 */
export {
  createScoreboardClient,
  toWebSocketUrl,
  type ActionTicket,
  type ActionType,
  type ConnectionState,
  type FriendsLeaderboardArgs,
  type Friendship,
  type PlayerAchievement,
  type StandingChange,
  type WatchMyStandingArgs,
  type Leaderboard,
  type LeaderboardArgs,
  type LeaderboardAroundArgs,
  type Me,
  type PerformActionOptions,
  type RetryOptions,
  type ScoreboardClient,
  type ScoreboardClientOptions,
  type SubmitActionPayload,
  type WatchLeaderboardArgs,
  type WatchOptions,
} from './client.js';
export * from './errors.js';
export type { TypedDocumentString } from './generated/graphql.js';
