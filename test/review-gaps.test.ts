import { expect, it } from 'vitest';
import { codes } from './support/app.js';
import { writes } from './support/audit.js';
import { issue, submitRaw } from './support/play.js';
import { describeBackends } from './support/suite.js';

/**
 * Gaps a code review found in the scoring path, pinned by tests that failed
 * before their fixes. (The other one, an unknown action type costing a read of
 * the points table, is pinned in hostile-requests.test.ts.)
 */
describeBackends(
  'review gaps: scoring',
  (f) => {
    it('a credit whose player row is gone is SERVICE_UNAVAILABLE (nothing credited), even when the type was disabled behind the instance copy', async () => {
      const p = await f.player('vanished');
      const ticket = await issue(f.app, p.token, 'COMPLETE_TASK');
      const prisma = f.app.app.services.prisma;
      const type = `GAP_${process.pid}`;
      await prisma.$executeRaw`INSERT INTO action_types (code, points) VALUES (${type}, 5)`;
      f.app.app.services.actionTypes.invalidate();
      const typed = await issue(f.app, p.token, type);
      // Behind the instance's back: the type disabled and the player row deleted (e.g. a restore from an older backup).
      await prisma.$executeRaw`UPDATE action_types SET enabled = false WHERE code = ${type}`;
      await prisma.$executeRaw`DELETE FROM players WHERE id = ${p.id}`;
      const before = await writes(f.app);
      expect(codes(await submitRaw(f.app, p.token, typed))).toEqual(['SERVICE_UNAVAILABLE']);
      expect(await writes(f.app)).toEqual(before);
      // The client retries: the row is written again and the ticket credits once.
      const retried = await submitRaw(f.app, p.token, ticket);
      expect(retried.errors).toBeUndefined();
    });
  },
  { only: ['real'] },
);
