/**
 * Prints the live top N as it changes, over WebSocket (graphql-transport-ws).
 *
 *   npx tsx examples/watch-board.ts --url http://localhost:4000 [--first 10] [--count 3] [--token <jwt>]
 *
 * The first board is the current snapshot; then one per change. Reconnects
 * forever (the server restarting is fine) and resyncs from the new snapshot.
 */
import { parseArgs } from 'node:util';
import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { LeaderboardChangedDocument, type LeaderboardChangedSubscription } from '../sdk/generated/graphql.js';
import { graphqlWsUrl } from './lib/client.js';

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

type Board = LeaderboardChangedSubscription['leaderboardChanged'];

const client = createClient({
  url: graphqlWsUrl(args.url!),
  webSocketImpl: WebSocket,
  // The subscription is public; a token is only needed for operations that want one.
  connectionParams: args.token ? { authorization: `Bearer ${args.token}` } : undefined,
  retryAttempts: Infinity,
  shouldRetry: () => true,
  retryWait: (retries) => new Promise((r) => setTimeout(r, Math.min(250 * 2 ** retries, 5_000) + Math.random() * 250)),
  on: {
    connecting: (retry) => console.error(retry ? '… reconnecting' : `… connecting to ${graphqlWsUrl(args.url!)}`),
    connected: () => console.error('… live'),
    closed: (event) => {
      const { code, reason } = event as { code?: number; reason?: string };
      if (code !== 1000) console.error(`… connection closed (${code ?? '?'}${reason ? ` ${reason}` : ''})`);
    },
  },
});

let previous: Board | undefined;
let lastSeq = -1;
let shown = 0;

function printBoard(board: Board) {
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
  await client.dispose();
  process.exit(code);
};
process.on('SIGINT', () => void stop(0));

let connectedSinceLastBoard = true;
client.on('connected', () => (connectedSinceLastBoard = true));

try {
  for await (const result of client.iterate<LeaderboardChangedSubscription>({
    query: print(LeaderboardChangedDocument),
    variables: { first },
  })) {
    if (result.errors?.length) {
      console.error(result.errors.map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('\n'));
      continue;
    }
    const board = result.data?.leaderboardChanged;
    if (!board) continue;
    // After a (re)connect the first board is a snapshot: take it whatever its seq.
    if (!connectedSinceLastBoard && board.seq < lastSeq) continue;
    connectedSinceLastBoard = false;
    lastSeq = board.seq;
    printBoard(board);
    if (++shown >= stopAfter) break;
  }
  await stop(0);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  await stop(1);
}
