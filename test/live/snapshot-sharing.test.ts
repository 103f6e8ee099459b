import { expect, it } from 'vitest';
import type { Leaderboard } from '../../src/resolvers/live/leaderboard.js';
import { waitFor } from '../support/app.js';
import { completeTask } from '../support/play.js';
import { describeBackends } from '../support/suite.js';

/**
 * A reconnect storm: many subscribers of the same board view arrive together
 * (every client of a game reconnects after a deploy). Their first snapshots
 * share one board read instead of one read each.
 */
describeBackends('live boards: snapshot reads shared by subscribers arriving together', (f) => {
  it('200 subscribers of one board at once: one snapshot read, every one gets the same board', async () => {
    const p = await f.player('storm');
    await completeTask(f.app, p.token);
    const { services } = f.app.app;
    const reads = async () => (await services.metrics.liveSnapshotReads.get()).values[0]?.value ?? 0;
    const before = await reads();
    const got: Leaderboard[] = [];
    const stops = Array.from({ length: 200 }, () =>
      services.boardFeed.listen({ board: 'global', period: null, segment: null, first: 10, rankMode: 'ORDINAL' }, (b) => got.push(b)),
    );
    await waitFor(() => got.length >= 200, 20_000, 'every snapshot');
    expect((await reads()) - before).toBe(1);
    expect(new Set(got.map((b) => b.seq)).size).toBe(1);
    stops.forEach((stop) => stop());
  });
});
