import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBus } from '../../src/resolvers/live/bus.js';
import { realBackendsAvailable } from '../support/backends.js';
import { PrivateRedis } from '../support/redis-server.js';

/**
 * The Redis bus while Redis is gone: the library under it sends UNSUBSCRIBE
 * without handling the reply, which rejected unhandled (seen in a CI run when an
 * instance stopped right after its Redis came back). Ours must be handled.
 */
describe.runIf(await realBackendsAvailable())('Redis bus [private Redis]', () => {
  let redis: PrivateRedis;
  beforeAll(async () => {
    redis = await PrivateRedis.start();
  });
  afterAll(async () => {
    await redis?.kill();
  });

  it('unsubscribing while the connection is down rejects nothing unhandled, and is reported', async () => {
    const connect = async () => {
      const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
      client.on('error', () => {});
      await client.connect();
      return client;
    };
    const [publisher, subscriber] = [await connect(), await connect()];
    const reported: string[] = [];
    const bus = new RedisBus(publisher, subscriber, 'bus-test:', (_error, what) => reported.push(what));
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const stop = await bus.subscribe('BOARD_CHANGED', () => {});
      await redis.kill();
      await new Promise<void>((resolve) => (subscriber.status === 'end' ? resolve() : subscriber.once('end', () => resolve())));
      stop();
      // Let the rejected replies settle (and any unhandled rejection be reported).
      await new Promise((r) => setTimeout(r, 200));
      expect(unhandled).toEqual([]);
      expect(reported).toEqual(['unsubscribe', 'punsubscribe']);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      publisher.disconnect();
      subscriber.disconnect();
      await redis.up();
    }
  });
});
