import { expect, it } from 'vitest';
import { codes } from '../support/app.js';
import { issue, submit, submitRaw } from '../support/play.js';
import { describeBackends } from '../support/suite.js';

const QUOTA = 2;

/**
 * The replay lookup is part of the credit statement, so a retry passes the
 * action quota first; a refusal looks the action up before it is answered.
 * The window is an hour, so the quota stays used up for the whole test.
 */
describeBackends(
  'retries at the action quota',
  (f) => {
    it('with the action quota used up, a retry of an applied action still gets its original outcome', async () => {
      const p = await f.player('retrier');
      const tickets = [await issue(f.app, p.token), await issue(f.at(1), p.token)];
      const applied = [await submit(f.app, p.token, tickets[0]!), await submit(f.at(1), p.token, tickets[1]!)];
      const extra = await issue(f.app, p.token);
      expect(codes(await submitRaw(f.app, p.token, extra))).toEqual(['RATE_LIMITED']);
      for (const [i, t] of tickets.entries()) {
        expect(await submit(f.at(i + 1), p.token, t)).toMatchObject({ replayed: true, newScore: applied[i]!.newScore, scoreDelta: 10 });
      }
      expect(await f.app.app.services.prisma.actionCredit.count({ where: { playerId: p.id } })).toBe(QUOTA);
    });
  },
  { instances: 2, env: { RATE_LIMIT_ACTIONS_PER_HOUR: String(QUOTA) } },
);
