import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort, nofileLimit, sleep, spawnWithUlimit, stopProcess, waitForHttp, type Spawned } from './proc.js';

/** The server under test and the physical baselines, each in its own process. */

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export interface RunningServer {
  url: string;
  pid: number;
  proc: Spawned;
  nofile: number;
  /** V8 CPU profile directory, when profiling. */
  profileDir?: string;
  /** Hrtime (ms) when spawned: used to align profile samples. */
  stop(): Promise<void>;
}

export interface ServerOptions {
  env: Record<string, string>;
  /** Write a V8 CPU profile into this directory on exit. */
  profileDir?: string;
  /** More node flags (e.g. --heapsnapshot-signal). */
  extraNodeArgs?: string[];
}

/** SIGUSR2 -> full GC in the server processes (see procs/gc-on-signal.mjs), for memory readings. */
const GC_PRELOAD = ['--expose-gc', '--import', here('../procs/gc-on-signal.mjs')];

function nodeArgs(profileDir?: string): string[] {
  if (!profileDir) return GC_PRELOAD;
  mkdirSync(profileDir, { recursive: true });
  return [...GC_PRELOAD, '--cpu-prof', `--cpu-prof-dir=${profileDir}`];
}

/** `node --import tsx src/main.ts` (the Dockerfile's command), waits for /readyz. */
export async function startScoreboard(opts: ServerOptions): Promise<RunningServer> {
  const port = await freePort();
  const proc = spawnWithUlimit(['node', ...nodeArgs(opts.profileDir), ...(opts.extraNodeArgs ?? []), '--import', 'tsx', 'src/main.ts'], {
    env: { ...opts.env, PORT: String(port), HOST: '127.0.0.1' },
    cwd: ROOT,
    label: 'scoreboard',
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/readyz`, 60_000, proc);
  } catch (error) {
    await stopProcess(proc, 2_000);
    throw error;
  }
  return { url, pid: proc.pid, proc, nofile: nofileLimit(proc.pid), profileDir: opts.profileDir, stop: () => stopProcess(proc) };
}

/** Bare node:http server answering every request with `body` (own process). */
export async function startRawHttp(body: string, contentType: string): Promise<RunningServer> {
  const port = await freePort();
  const proc = spawnWithUlimit(['node', here('../procs/raw-http-server.mjs')], {
    env: { RAW_PORT: String(port), RAW_BODY: body, RAW_CONTENT_TYPE: contentType },
    label: 'raw-http',
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/`, 20_000, proc);
  return { url, pid: proc.pid, proc, nofile: nofileLimit(proc.pid), stop: () => stopProcess(proc) };
}

/** Raw `ws` server: POST /broadcast?seq=N sends the template (seq substituted) to every socket (own process). */
export async function startRawWs(template: string): Promise<RunningServer> {
  const port = await freePort();
  const proc = spawnWithUlimit(['node', ...GC_PRELOAD, here('../procs/raw-ws-server.mjs')], {
    env: { RAW_PORT: String(port), RAW_TEMPLATE: template },
    cwd: ROOT,
    label: 'raw-ws',
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/healthz`, 20_000, proc);
  return { url, pid: proc.pid, proc, nofile: nofileLimit(proc.pid), stop: () => stopProcess(proc) };
}

/** Finished ranking-cache rebuilds with this reason so far, from the server's /metrics. */
export async function rebuildsDone(url: string, reason: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('scoreboard_cache_rebuilds_total{') && l.includes(`reason="${reason}"`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/**
 * Waits until the server has finished more than `before` rebuilds with this reason: a
 * cold view warms in the background (its credits and reads are answered from
 * Postgres meanwhile). Polls every 100 ms; throws after `timeoutMs`.
 */
export async function waitForRebuild(url: string, reason: string, before: number, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await rebuildsDone(url, reason).catch(() => before)) <= before) {
    if (Date.now() > deadline) throw new Error(`no "${reason}" rebuild finished within ${timeoutMs} ms`);
    await sleep(100);
  }
}
