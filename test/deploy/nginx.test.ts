import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { readRepoFile } from './lib.js';

/**
 * Runs deploy/nginx.conf in a real nginx on loopback, in front of two stub
 * instances, and checks what compose cannot show statically: round-robin,
 * WebSocket upgrades, unbuffered SSE, forwarded headers, blocked /metrics.
 *
 * Needs an nginx binary (NGINX_BIN, else `nginx` on PATH or /usr/sbin/nginx);
 * skipped without one. Only these lines differ from the shipped file:
 * upstream hosts become the stubs' loopback ports (without `resolve`, which
 * needs a host name and nginx >= 1.27.3), `listen` becomes a loopback port,
 * and the access log and temp paths point into a scratch folder.
 */

function findNginx(): string | undefined {
  const candidates = [process.env.NGINX_BIN, 'nginx', '/usr/sbin/nginx'].filter(Boolean) as string[];
  return candidates.find((bin) => spawnSync(bin, ['-v'], { stdio: 'ignore' }).status === 0);
}
const nginx = findNginx();
if (!nginx) console.warn('nginx not found (set NGINX_BIN): deploy/nginx.conf runtime checks are skipped');

interface Stub {
  name: string;
  server: Server;
  port: number;
  seen: IncomingHttpHeaders[];
}

async function startStub(name: string): Promise<Stub> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    if (req.url === '/healthz' || req.url === '/readyz' || req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ instance: name }));
    }
    if (req.url?.startsWith('/graphql') && req.headers.accept === 'text/event-stream') {
      // Two small events, then silence (the stream stays open): only a proxy
      // that passes each write through delivers both before the stream ends.
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(`event: next\ndata: {"instance":"${name}","n":1}\n\n`);
      const timer = setTimeout(() => res.write(`event: next\ndata: {"instance":"${name}","n":2}\n\n`), 100);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    if (req.url?.startsWith('/graphql')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ instance: name, headers: req.headers }));
    }
    res.writeHead(404).end();
  });
  const wss = new WebSocketServer({
    server,
    path: '/graphql',
    handleProtocols: (protocols) => (protocols.has('graphql-transport-ws') ? 'graphql-transport-ws' : false),
  });
  wss.on('connection', (socket, req) => {
    socket.on('message', (data) => socket.send(JSON.stringify({ instance: name, echo: String(data), forwardedFor: req.headers['x-forwarded-for'] ?? null })));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.on('close', () => wss.close());
  return { name, server, port: (server.address() as AddressInfo).port, seen };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function renderConfig(stubs: Stub[], listenPort: number, dir: string): string {
  const original = readRepoFile('deploy/nginx.conf');
  let rendered = original;
  for (const [i, stub] of stubs.entries()) {
    const pattern = new RegExp(`server api${i + 1}:4000( resolve)?`);
    expect(rendered).toMatch(pattern);
    rendered = rendered.replace(pattern, `server 127.0.0.1:${stub.port}`);
  }
  expect(rendered).toMatch(/listen 8080;/);
  rendered = rendered.replace(/listen 8080;/, `listen 127.0.0.1:${listenPort};`);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `${kind}_temp_path ${join(dir, kind)};`).join(' ');
  rendered = rendered.replace(/^http \{$/m, `http {\n    ${temp}`);
  expect(rendered).toMatch(/access_log \/var\/log\/nginx\/access.log;/);
  rendered = rendered.replace(/access_log \/var\/log\/nginx\/access.log;/, `access_log ${join(dir, 'access.log')};`);
  return rendered;
}

describe.skipIf(!nginx && process.env.REQUIRE_REAL_BACKENDS !== '1')('deploy/nginx.conf in a real nginx', () => {
  let dir: string;
  let stubs: Stub[];
  let proc: ChildProcess;
  let base: string;
  let wsBase: string;
  let stderr = '';

  beforeAll(async () => {
    stubs = [await startStub('api1'), await startStub('api2')];
    dir = mkdtempSync(join(tmpdir(), 'scoreboard-nginx-'));
    chmodSync(dir, 0o755);
    for (const kind of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, kind), { mode: 0o777 });
    const port = await freePort();
    writeFileSync(join(dir, 'nginx.conf'), renderConfig(stubs, port, dir));
    const check = spawnSync(nginx!, ['-t', '-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr', '-g', `pid ${join(dir, 'nginx.pid')};`], {
      encoding: 'utf8',
    });
    expect(check.status, check.stderr).toBe(0);
    proc = spawn(nginx!, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr', '-g', `daemon off; pid ${join(dir, 'nginx.pid')};`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    proc.stderr!.on('data', (chunk) => (stderr += chunk));
    base = `http://127.0.0.1:${port}`;
    wsBase = `ws://127.0.0.1:${port}`;
    const deadline = Date.now() + 5_000;
    for (;;) {
      try {
        if ((await fetch(`${base}/lb-health`)).ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`nginx did not start:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  });

  afterAll(async () => {
    if (proc && proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM'); // fast shutdown of this nginx master (and its workers)
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2_000))]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
    await Promise.all(
      (stubs ?? []).map((s) => {
        const closed = new Promise((r) => s.server.close(r));
        s.server.closeAllConnections();
        return closed;
      }),
    );
    if (dir && existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  });

  it('answers its own health check', async () => {
    const res = await fetch(`${base}/lb-health`);
    expect(res.status).toBe(200);
  });

  it('round-robins requests over both instances', async () => {
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) seen.push(((await (await fetch(`${base}/healthz`)).json()) as { instance: string }).instance);
    expect(new Set(seen)).toEqual(new Set(['api1', 'api2']));
    expect(seen.filter((s) => s === 'api1')).toHaveLength(3);
  });

  it('forwards the client address and host on /graphql', async () => {
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    const body = (await res.json()) as { headers: IncomingHttpHeaders };
    expect(body.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(body.headers['x-real-ip']).toBe('127.0.0.1');
    expect(body.headers.host).toBe('127.0.0.1');
    expect(body.headers.upgrade).toBeUndefined();
  });

  it('upgrades WebSockets on /graphql with the graphql-transport-ws subprotocol', async () => {
    const socket = new WebSocket(`${wsBase}/graphql`, 'graphql-transport-ws');
    try {
      await new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
      });
      expect(socket.protocol).toBe('graphql-transport-ws');
      const reply = new Promise<string>((resolve) => socket.once('message', (d) => resolve(String(d))));
      socket.send(JSON.stringify({ type: 'connection_init' }));
      const message = JSON.parse(await reply) as { instance: string; echo: string; forwardedFor: string };
      expect(['api1', 'api2']).toContain(message.instance);
      expect(JSON.parse(message.echo)).toEqual({ type: 'connection_init' });
      expect(message.forwardedFor).toBe('127.0.0.1');
    } finally {
      socket.terminate();
    }
  });

  it('streams server-sent events without buffering them', async () => {
    const controller = new AbortController();
    try {
      const res = await fetch(`${base}/graphql?query=subscription%7Bx%7D`, {
        headers: { accept: 'text/event-stream' },
        signal: controller.signal,
      });
      expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let received = '';
      const deadline = setTimeout(() => controller.abort(), 1_500);
      try {
        while (!received.includes('"n":2')) {
          const { value, done } = await reader.read();
          if (done) break;
          received += decoder.decode(value, { stream: true });
        }
      } catch {
        // aborted at the deadline: the assertion below reports what arrived
      } finally {
        clearTimeout(deadline);
      }
      expect(received).toMatch(/^event: next\ndata: \{"instance":"api[12]","n":1\}\n\nevent: next\ndata: \{"instance":"api[12]","n":2\}\n\n$/);
    } finally {
      controller.abort();
    }
  });

  it('does not publish /metrics', async () => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(404);
    expect(await res.text()).not.toMatch(/instance/);
  });
});
