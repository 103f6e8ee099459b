import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { issueActionToken, submitAction } from '../src/resolvers/scoring/actions.js';
import { createServices } from '../src/services.js';

/**
 * `npm run seed -- --players N [--max-actions K]`: creates N demo players and
 * credits each 1..K actions through the product's own path (ticket, checks,
 * credit transaction, cache, publish), so seeded data is indistinguishable
 * from real play. Safe to run again: players are reused, scores grow.
 */
const { values } = parseArgs({
  options: {
    players: { type: 'string', default: '20' },
    'max-actions': { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '8' },
    prefix: { type: 'string', default: 'demo' },
  },
});
const players = Number(values.players);
const maxActions = Number(values['max-actions']);
if (!Number.isInteger(players) || players < 1 || !Number.isInteger(maxActions) || maxActions < 1) {
  console.error('usage: npm run seed -- --players N [--max-actions K] [--concurrency C]');
  process.exit(2);
}

const config = loadConfig();
// Seeding is an operator task: lift the per-player quota for this process only.
config.rateLimit.actionsPerWindow = Math.max(config.rateLimit.actionsPerWindow, maxActions);
config.rateLimit.ticketsPerWindow = Math.max(config.rateLimit.ticketsPerWindow, maxActions);
const services = await createServices(config, createLogger('warn'));

const { points } = await services.prisma.actionType.findUniqueOrThrow({ where: { code: 'COMPLETE_TASK' } });
let next = 0;
let credited = 0;
const started = Date.now();
async function worker() {
  for (let i = next++; i < players; i = next++) {
    const viewer = { playerId: `${values.prefix}-${i + 1}`, username: `${values.prefix}${i + 1}`, roles: [], attributes: {} };
    // A deterministic spread of scores, with some ties.
    const actions = 1 + ((i * 7919) % maxActions);
    for (let a = 0; a < actions; a++) {
      const ticket = await issueActionToken(services, viewer, 'COMPLETE_TASK');
      await submitAction(services, viewer, { actionId: ticket.actionId, actionType: 'COMPLETE_TASK', token: ticket.token });
      credited++;
    }
  }
}
await Promise.all(Array.from({ length: Number(values.concurrency) }, worker));
console.log(`Seeded ${players} players, ${credited} actions (${credited * points} points) in ${Date.now() - started} ms.`);
await services.close();
