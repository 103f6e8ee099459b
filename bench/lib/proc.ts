import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * Child processes for the bench: every server and client process is started
 * through bash with a raised file-descriptor limit (65535 if the hard limit
 * allows it, else the hard limit), and its resources are read from /proc.
 */

export const WANTED_NOFILE = 65535;

/** Every child the bench started and that has not exited yet (killed on bench exit). */
const live = new Set<ChildProcess>();

/** Kills (by pid) every child process the bench started that is still running. */
export function killAllSpawned(): number {
  let n = 0;
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      n++;
    }
  }
  live.clear();
  return n;
}

export interface Spawned {
  child: ChildProcess;
  pid: number;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  /** Last lines of stderr (for error messages). */
  stderrTail(): string;
}

export function spawnWithUlimit(argv: string[], opts: { env?: Record<string, string>; ipc?: boolean; cwd?: string; label: string; inheritStdout?: boolean }): Spawned {
  const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const script = `ulimit -n ${WANTED_NOFILE} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec ${quoted}`;
  const stdio: StdioOptions = opts.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'];
  const child = spawn('bash', ['-c', script], {
    cwd: opts.cwd ?? process.cwd(),
    env: { ...process.env, ...opts.env },
    stdio,
  });
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4000);
  };
  child.stderr?.on('data', keep);
  child.stdout?.on('data', (c: Buffer) => {
    if (opts.inheritStdout) process.stdout.write(c);
    else keep(c);
  });
  live.add(child);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      live.delete(child);
      resolve(code);
    }),
  );
  if (!child.pid) throw new Error(`could not spawn ${opts.label}`);
  return { child, pid: child.pid, exited, stderrTail: () => tail };
}

/** Sends SIGTERM, waits up to `ms`, then SIGKILL. Only ever signals the given pid. */
export async function stopProcess(p: Spawned, ms = 15_000): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms).unref());
  if ((await Promise.race([p.exited, timer])) === 'timeout') {
    p.child.kill('SIGKILL');
    await p.exited;
  }
}

/** Resident set size in bytes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

const CLK_TCK = 100; // sysconf(_SC_CLK_TCK) on Linux x86_64

/** utime + stime of the process (all threads), in milliseconds. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // comm may contain spaces: fields after the closing paren start at field 3.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return ((utime + stime) * 1000) / CLK_TCK;
}

/** Soft "Max open files" of a process. */
export function nofileLimit(pid: number): number {
  const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
  const m = /^Max open files\s+(\d+|unlimited)\s+/m.exec(limits);
  return m?.[1] === 'unlimited' ? Infinity : Number(m?.[1] ?? 0);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `url` until it answers 200 (bounded by `ms`). */
export async function waitForHttp(url: string, ms: number, p?: Spawned): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (p && p.child.exitCode !== null) throw new Error(`process exited (${p.child.exitCode}) before ${url} answered:\n${p.stderrTail()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${ms} ms${p ? `:\n${p.stderrTail()}` : ''}`);
    await sleep(100);
  }
}

/** Milliseconds on CLOCK_MONOTONIC: comparable between processes on this machine. */
export const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
