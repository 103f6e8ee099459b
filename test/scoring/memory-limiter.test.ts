import { describe, expect, it } from 'vitest';
import { SlidingWindowMemoryLimiter } from '../../src/resolvers/scoring/rate-limiter.js';

/** The in-process sliding-window limiter (embedded default, and the insurance while Redis is down). */
describe('in-process sliding-window limiter', () => {
  it('forgets players idle for a whole window: memory is bounded by the players active within one window', async () => {
    let now = 1_000_000;
    const limiter = new SlidingWindowMemoryLimiter(3, 60_000, () => now);
    for (let i = 0; i < 1_000; i++) expect(await limiter.consume(`player-${i}`)).toEqual({ allowed: true });
    expect(limiter.size()).toBe(1_000);
    now += 60_001; // every one of them is now idle for longer than the window
    await limiter.consume('late-comer');
    expect(limiter.size()).toBe(1);
  });

  it('still exact: limit hits in any window, retryAfter until the oldest leaves it; refusals keep the player', async () => {
    let now = 0;
    const limiter = new SlidingWindowMemoryLimiter(2, 10_000, () => now);
    expect(await limiter.consume('a')).toEqual({ allowed: true });
    now = 4_000;
    expect(await limiter.consume('a')).toEqual({ allowed: true });
    now = 5_000;
    expect(await limiter.consume('a')).toEqual({ allowed: false, retryAfter: 5 });
    await limiter.consume('b');
    expect(limiter.size()).toBe(2);
    now = 10_001; // a's first hit left the window, its second did not
    expect(await limiter.consume('a')).toEqual({ allowed: true });
    now = 15_002; // b idle for a window; a's last hit (10 001) still inside
    await limiter.consume('c');
    expect(limiter.size()).toBe(2);
  });
});
