/**
 * Plays N actions for one player and prints what each one did.
 *
 *   npx tsx examples/play.ts --url http://localhost:4000 --username alice [--count 5] [--delay 500]
 *   npx tsx examples/play.ts --url http://localhost:4000 --token <jwt> [--action COMPLETE_TASK]
 *
 * Each action is the client package's performAction: one signed, single-use
 * ticket (issueActionToken), the type's minSeconds, then submitAction with
 * that ticket, retrying the same ticket if the answer is lost. The client
 * never sends a score.
 */
import { parseArgs } from 'node:util';
import { createScoreboardClient, RateLimitedError } from '../packages/client/src/index.js';
import { devSignIn } from './lib/client.js';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://localhost:4000' },
    token: { type: 'string' },
    username: { type: 'string' },
    count: { type: 'string', default: '5' },
    action: { type: 'string', default: 'COMPLETE_TASK' },
    delay: { type: 'string', default: '0' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (args.help || (!args.token && !args.username)) {
  console.log('usage: npx tsx examples/play.ts --url http://localhost:4000 (--username <name> | --token <jwt>) [--count 5] [--action COMPLETE_TASK] [--delay ms]');
  process.exit(args.help ? 0 : 2);
}
const url = args.url;
const count = Number(args.count);
const delayMs = Number(args.delay);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

try {
  const token = args.token ?? (await devSignIn(url, args.username!));
  const scoreboard = createScoreboardClient({ url: new URL('/graphql', url).toString(), getToken: () => token });
  const actionTypes = await scoreboard.actionTypes();
  const type = actionTypes.find((t) => t.code === args.action);
  if (!type) throw new Error(`Unknown action type ${args.action}; the server has: ${actionTypes.map((t) => t.code).join(', ')}`);

  const me = await scoreboard.me();
  console.log(`${me?.username ?? '?'}: ${me?.score ?? 0} points, rank ${me?.rank ?? '-'}; playing ${count} × ${type.code} (+${type.points})`);

  for (let i = 1; i <= count; i++) {
    // Ticket, the type's minSeconds (the server refuses tickets redeemed sooner), submit.
    const r = await scoreboard.performAction(type.code);
    console.log(`#${i}  ${r.replayed ? 'replayed' : `+${r.scoreDelta}`}  score ${r.newScore}  rank #${r.rank}  seq ${r.seq}  action ${r.actionId}`);
    if (delayMs > 0 && i < count) await sleep(delayMs);
  }
} catch (error) {
  if (error instanceof RateLimitedError) {
    console.error(`Rate limited: try again in ${error.retryAfter ?? '?'} s.`);
    process.exit(3);
  }
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
