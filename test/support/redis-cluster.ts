import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './redis-server.js';

/**
 * A private 3-master Redis Cluster on free loopback ports, owned by the test:
 * started in a temp dir, stopped and removed by stop(). No replicas: a killed
 * master is brought back by restart(), with its node id and slots (its
 * nodes.conf stays in its dir) and without its data, like a crash.
 */
export class RedisClusterFixture {
  private readonly procs = new Map<number, ChildProcess>();
  private constructor(
    readonly dir: string,
    readonly ports: number[],
  ) {}

  /** Whether redis-server and redis-cli are on this machine. */
  static available(): boolean {
    return ['redis-server', 'redis-cli'].every((bin) => spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0);
  }

  static async start(masters = 3): Promise<RedisClusterFixture> {
    const dir = mkdtempSync(join(tmpdir(), 'scoreboard-cluster-'));
    const ports: number[] = [];
    while (ports.length < masters) {
      const port = await freePort();
      // Each node also listens on port + 10000 (the cluster bus): both must be free and distinct.
      if (port + 10000 > 65535 || ports.some((p) => Math.abs(p - port) === 10000 || p === port)) continue;
      ports.push(port);
    }
    const cluster = new RedisClusterFixture(dir, ports);
    try {
      await Promise.all(ports.map((p) => cluster.up(p)));
      const created = spawnSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8' });
      if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
      await cluster.waitOk();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** For REDIS_CLUSTER_NODES. */
  get nodes(): string {
    return this.ports.map((p) => `127.0.0.1:${p}`).join(',');
  }

  private async up(port: number) {
    const nodeDir = join(this.dir, String(port));
    spawnSync('mkdir', ['-p', nodeDir]);
    const proc = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        nodeDir,
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
        // Short, so a dead master is noticed (and the cluster heals) within seconds.
        '--cluster-node-timeout',
        '1000',
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      { stdio: 'ignore' },
    );
    this.procs.set(port, proc);
    await until(async () => (await ping(port)) === 'PONG', `redis node ${port} to answer`);
  }

  /** Waits until every node reports cluster_state:ok. */
  async waitOk() {
    await until(async () => {
      const states = await Promise.all(this.ports.map((p) => command(p, (r) => r.cluster('INFO'))));
      return states.every((s) => s?.includes('cluster_state:ok'));
    }, 'cluster_state:ok on every node');
  }

  /** The master owning the slot of `key`. */
  portOf(key: string): Promise<number> {
    return command(this.ports[0]!, async (r) => {
      const slot = await r.cluster('KEYSLOT', key);
      const slots = (await r.cluster('SLOTS')) as unknown as [number, number, [string, number]][];
      return slots.find(([from, to]) => slot >= from && slot <= to)![2][1];
    }) as Promise<number>;
  }

  /** SIGKILL: the master and its data are gone; its slots have no master until restart(). */
  async kill(port: number) {
    const proc = this.procs.get(port);
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
  }

  /** Brings a killed master back (same node id and slots, empty) and waits for cluster_state:ok. */
  async restart(port: number) {
    await this.up(port);
    await this.waitOk();
  }

  async stop() {
    await Promise.all(this.ports.map((p) => this.kill(p)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function command<T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T | undefined> {
  const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  r.on('error', () => {});
  try {
    await r.connect();
    return await fn(r);
  } catch {
    return undefined;
  } finally {
    r.disconnect();
  }
}

const ping = (port: number) => command(port, (r) => r.ping());

/** Polls a milestone of the engine itself (not a test result); gives up after a minute. */
async function until(check: () => Promise<boolean>, what: string) {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
