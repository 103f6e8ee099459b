/**
 * Prints the live top N as it changes, over WebSocket (graphql-transport-ws).
 *
 *   npx tsx examples/watch-board.ts --url http://localhost:4000 [--first 10] [--count 3] [--token <jwt>]
 *
 * The first board is the current snapshot; then one per change. Reconnects
 * forever (the server restarting is fine) and resyncs from the new snapshot.
 */
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { createScoreboardClient, type Leaderboard } from '../packages/client/src/index.js';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://localhost:4000' },
    first: { type: 'string', default: '10' },
    count: { type: 'string' },
    token: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (args.help) {
  console.log('usage: npx tsx examples/watch-board.ts --url http://localhost:4000 [--first 10] [--count N] [--token <jwt>]');
  process.exit(0);
}
const first = Number(args.first);
const stopAfter = args.count ? Number(args.count) : Infinity;
const endpoint = new URL('/graphql', args.url).toString();

// The board is public; a token is only needed for operations that want one.
const scoreboard = createScoreboardClient({ url: endpoint, getToken: () => args.token, webSocketImpl: WebSocket });

let previous: Leaderboard | undefined;
let shown = 0;

function printBoard(board: Leaderboard) {
  const before = new Map(previous?.entries.map((e) => [e.player.id, e]));
  console.log(`\nseq ${board.seq}  ${board.updatedAt}  top ${board.entries.length}`);
  for (const entry of board.entries) {
    const old = before.get(entry.player.id);
    const notes: string[] = [];
    if (previous && !old) notes.push('new');
    if (old && old.rank !== entry.rank) notes.push(old.rank > entry.rank ? `▲${old.rank - entry.rank}` : `▼${entry.rank - old.rank}`);
    if (old && old.score !== entry.score) notes.push(`${entry.score > old.score ? '+' : ''}${entry.score - old.score}`);
    console.log(`${String(entry.rank).padStart(4)}. ${entry.player.username.padEnd(32)} ${String(entry.score).padStart(8)}  ${notes.join(' ')}`);
  }
  if (board.entries.length === 0) console.log('      (nobody has scored yet)');
  previous = board;
}

const stop = async (code = 0) => {
  unwatch();
  await scoreboard.close();
  process.exit(code);
};
process.on('SIGINT', () => void stop(0));

// The client sends the snapshot first, reconnects forever and resyncs, and never
// hands over a board older than the one already printed.
const unwatch = scoreboard.watchLeaderboard(
  { first },
  (board) => {
    printBoard(board);
    if (++shown >= stopAfter) void stop(0);
  },
  {
    onConnection: (state) => {
      if (state === 'connecting') console.error(`… connecting to ${endpoint}`);
      if (state === 'reconnecting') console.error('… reconnecting');
      if (state === 'connected') console.error('… live');
    },
    onError: (error) => {
      console.error(`${error.code}: ${error.message}`);
      void stop(1);
    },
  },
);
