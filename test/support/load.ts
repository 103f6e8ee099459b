import { expect } from 'vitest';
import { codes, waitFor, type Instance } from './app.js';
import { auditChain } from './audit.js';
import { issue, submitRaw } from './play.js';

/** Write load for fault tests: players acting in a loop over the instances, counted. */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface LoadStats {
  credited: number;
  replayed: number;
  unavailable: number;
  otherErrors: string[];
}

/**
 * A quota no load here can reach (tickets get twice this): what these tests prove
 * is exactly-once under faults, and a rate limit would only hide the fault. The
 * old default quota was passed within seconds on a fast machine.
 */
export const UNREACHABLE_QUOTA = { RATE_LIMIT_ACTIONS_PER_HOUR: '1000000' };
/** Upper bound of actions per player: the load ends by count even if nobody stops it. */
const MAX_ACTIONS_PER_PLAYER = 5_000;

export interface Load {
  /** Live counters: the tests wait for progress in them rather than for wall-clock time. */
  stats: LoadStats;
  stop(): Promise<LoadStats>;
}

/**
 * Players act in a loop over the instances. Each ticket is retried (same ticket)
 * until it is accepted, exactly like a well-behaved client after SERVICE_UNAVAILABLE.
 * Faults are injected at milestones of `stats` (progress), so the test does the
 * same on a slow and on a fast machine.
 */
export function startLoad(instances: Instance[], tokens: string[]): Load {
  const stats: LoadStats = { credited: 0, replayed: 0, unavailable: 0, otherErrors: [] };
  let stopped = false;
  let n = 0;
  const at = () => instances[n++ % instances.length]!;
  const running = Promise.all(
    tokens.map(async (token) => {
      for (let action = 0; action < MAX_ACTIONS_PER_PLAYER && !stopped; action++) {
        let ticket;
        try {
          ticket = await issue(at(), token);
        } catch (error) {
          if (/SERVICE_UNAVAILABLE/.test(String(error))) stats.unavailable++;
          else stats.otherErrors.push(String(error).slice(0, 300));
          await sleep(50);
          continue;
        }
        for (let attempt = 0; attempt < 200; attempt++) {
          const res = await submitRaw(at(), token, ticket).catch((e) => ({ errors: [{ message: String(e), extensions: { code: 'NETWORK' } }] }) as never);
          if (!res.errors) {
            if (res.data!.submitAction.replayed) stats.replayed++;
            else stats.credited++;
            break;
          }
          const code = codes(res)[0];
          if (code === 'SERVICE_UNAVAILABLE' || code === 'NETWORK') stats.unavailable++;
          else stats.otherErrors.push(JSON.stringify(res.errors).slice(0, 300));
          await sleep(50);
        }
      }
    }),
  );
  return {
    stats,
    async stop() {
      stopped = true;
      await running;
      return stats;
    },
  };
}

/** Waits until `more` further actions were credited (or replayed) under the load. */
export async function progress(load: Load, more: number, what: string) {
  const target = load.stats.credited + load.stats.replayed + more;
  await waitFor(() => load.stats.credited + load.stats.replayed >= target, 30_000, what);
}

export async function expectNothingLostOrDoubled(instance: Instance, playerIds: string[], stats: LoadStats) {
  const prisma = instance.app.services.prisma;
  const credits = await prisma.actionCredit.count({ where: { playerId: { in: playerIds } } });
  const sum = await prisma.actionCredit.aggregate({ where: { playerId: { in: playerIds } }, _sum: { delta: true } });
  const scores = await prisma.player.aggregate({ where: { id: { in: playerIds } }, _sum: { score: true } });
  expect(stats.otherErrors).toEqual([]);
  // Every ticket ends accepted exactly once: as credited, or as a replay when the
  // credit committed but its response was lost (the client retried the same ticket).
  expect(credits).toBe(stats.credited + stats.replayed);
  expect(Number(scores._sum.score)).toBe(sum._sum.delta); // sum of deltas = scores
  for (const id of playerIds) await auditChain(instance, id); // unbroken chains
}
