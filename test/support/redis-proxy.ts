import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A loopback TCP proxy in front of a real Redis that can hold back what Redis
 * pushes to subscribers: the connections that sent a (S|P)SUBSCRIBE are the
 * bus's, and while held, nothing Redis sends on them reaches the instance
 * (queued, delivered in order on release). Commands and their replies on every
 * other connection pass as usual. So a test can tell what an instance does
 * without the bus (a notice that is late, as it is across a slow network)
 * from what it does because of it.
 */
export interface RedisProxy {
  /** redis://127.0.0.1:<port>/<db of the target> */
  url: string;
  /** Connections seen subscribing so far. */
  subscribers(): number;
  hold(): void;
  release(): void;
  close(): Promise<void>;
}

const SUBSCRIBE = /^\*\d+\r\n\$\d+\r\n(S|P)?SUBSCRIBE\r\n/im;

export async function startRedisProxy(targetUrl: string): Promise<RedisProxy> {
  const target = new URL(targetUrl);
  const open = new Set<Socket>();
  const subscriberSockets = new Set<Socket>();
  const queued = new Map<Socket, Buffer[]>();
  let held = false;

  const proxy: RedisProxy = {
    url: '',
    subscribers: () => subscriberSockets.size,
    hold: () => void (held = true),
    release() {
      held = false;
      for (const [client, chunks] of queued) for (const chunk of chunks) client.write(chunk);
      queued.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };

  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 6379), target.hostname);
    open.add(client).add(upstream);
    const teardown = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
      subscriberSockets.delete(client);
      queued.delete(client);
    };
    client.on('data', (chunk: Buffer) => {
      if (SUBSCRIBE.test(chunk.toString('latin1'))) subscriberSockets.add(client);
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (held && subscriberSockets.has(client)) {
        const chunks = queued.get(client) ?? [];
        chunks.push(chunk);
        queued.set(client, chunks);
        return;
      }
      client.write(chunk);
    });
    for (const socket of [client, upstream]) {
      socket.on('close', teardown);
      socket.on('error', teardown);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `redis://127.0.0.1:${(server.address() as AddressInfo).port}${target.pathname}`;
  return proxy;
}
