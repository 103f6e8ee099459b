import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A loopback TCP proxy in front of a real server, to cut connections at the
 * worst moments: HTTP and WebSocket pass through byte for byte, and the next
 * submitAction can be dropped either before the server sees it or after the
 * server answered (the server committed; the client sees a network error).
 */
export type Cut = 'before-server' | 'after-server';

export interface TcpProxy {
  /** http://127.0.0.1:<port> */
  url: string;
  /** HTTP requests seen whose body mentions submitAction (attempts, cut ones included). */
  submits: number;
  /** Plans a cut of the next submitAction request. */
  cutNextSubmit(how: Cut): void;
  /** Destroys every open connection (WebSockets included), as a network blip would. */
  dropAll(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetUrl: string): Promise<TcpProxy> {
  const target = new URL(targetUrl);
  const open = new Set<Socket>();
  const plan: Cut[] = [];

  const proxy: TcpProxy = {
    url: '',
    submits: 0,
    cutNextSubmit: (how) => void plan.push(how),
    dropAll() {
      for (const socket of open) socket.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        proxy.dropAll();
        server.close(() => resolve());
      }),
  };

  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    open.add(client).add(upstream);
    let cutAnswer = false;
    const teardown = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('data', (chunk: Buffer) => {
      if (chunk.includes('submitAction')) {
        proxy.submits++;
        const how = plan.shift();
        if (how === 'before-server') return teardown();
        if (how === 'after-server') cutAnswer = true;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      // The server has answered, so it has committed: drop the answer and the connection.
      if (cutAnswer) return teardown();
      client.write(chunk);
    });
    client.on('close', teardown);
    upstream.on('close', teardown);
    client.on('error', teardown);
    upstream.on('error', teardown);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
