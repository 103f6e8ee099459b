import { readdirSync, readFileSync } from 'node:fs';
import { sleep } from './proc.js';

/**
 * Machine noise: this machine is shared (other engineers run tests, tsc,
 * browsers), and client and server share its cores. A snapshot of /proc lets a
 * phase report how much CPU went to the bench's own processes, to PostgreSQL
 * and Redis, and to everything else ("foreign": other people's work).
 */
const CLK_TCK = 100;

interface Snap {
  at: number;
  busy: number; // jiffies, all CPUs
  procs: Map<number, { ppid: number; comm: string; cpu: number; children: number }>;
}

function snap(): Snap {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  const busy = line[0]! + line[1]! + line[2]! + line[5]! + line[6]! + line[7]!;
  const procs = new Map<number, { ppid: number; comm: string; cpu: number; children: number }>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const rest = stat.slice(close + 2).split(' ');
      // utime stime (own), cutime cstime (reaped children, cumulative)
      procs.set(Number(d), { ppid: Number(rest[1]), comm, cpu: Number(rest[11]) + Number(rest[12]), children: Number(rest[13]) + Number(rest[14]) });
    } catch {
      // exited meanwhile
    }
  }
  return { at: Date.now(), busy, procs };
}

function descendants(procs: Snap['procs'], root: number): Set<number> {
  const out = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, p] of procs) {
      if (!out.has(pid) && out.has(p.ppid)) {
        out.add(pid);
        grew = true;
      }
    }
  }
  return out;
}

export interface NoiseReport {
  seconds: number;
  /** Average cores busy, by whom. */
  cores: { total: number; bench: number; postgres: number; redis: number; foreign: number };
  topForeign: { comm: string; cores: number }[];
}

export class NoiseMeter {
  private start = snap();

  report(): NoiseReport {
    const end = snap();
    const secs = Math.max(0.001, (end.at - this.start.at) / 1000);
    const ours = descendants(end.procs, process.pid);
    for (const pid of descendants(this.start.procs, process.pid)) ours.add(pid);
    let bench = 0;
    let postgres = 0;
    let redis = 0;
    const foreignByComm = new Map<string, number>();
    // Ours includes processes that started and exited within the window: their CPU
    // reaches their parent's cutime/cstime when reaped (the bench reaps its children).
    // Same for PostgreSQL backends (reaped by the postmaster): a pool closed within
    // the window would otherwise look like someone else's CPU.
    const isPg = (comm: string) => comm.startsWith('postgres');
    for (const [pid, p] of this.start.procs) {
      const after = end.procs.get(pid);
      const gone = !(after && after.comm === p.comm);
      if (ours.has(pid) && gone) bench -= p.cpu + p.children;
      else if (isPg(p.comm) && gone) postgres -= p.cpu + p.children;
    }
    for (const [pid, p] of end.procs) {
      const before = this.start.procs.get(pid);
      const same = before && before.comm === p.comm;
      if (ours.has(pid)) {
        bench += p.cpu - (same ? before.cpu : 0) + p.children - (same ? before.children : 0);
        continue;
      }
      if (isPg(p.comm)) {
        postgres += p.cpu - (same ? before.cpu : 0) + p.children - (same ? before.children : 0);
        continue;
      }
      // Kernel workers rename themselves: for foreign processes match by pid only.
      const d = p.cpu - (before && before.cpu <= p.cpu ? before.cpu : 0);
      if (d <= 0) continue;
      if (p.comm.startsWith('redis')) redis += d;
      else foreignByComm.set(p.comm, (foreignByComm.get(p.comm) ?? 0) + d);
    }
    const total = end.busy - this.start.busy;
    // Whatever is not accounted to a live process (exited processes: tsc, test runs...) is foreign too.
    postgres = Math.max(0, postgres);
    const foreign = Math.max(0, total - Math.max(0, bench) - postgres - redis);
    const cores = (j: number) => j / CLK_TCK / secs;
    return {
      seconds: secs,
      cores: { total: cores(total), bench: cores(Math.max(0, bench)), postgres: cores(postgres), redis: cores(redis), foreign: cores(foreign) },
      topForeign: [...foreignByComm.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 4)
        .map(([comm, j]) => ({ comm, cores: Number(cores(j).toFixed(2)) })),
    };
  }
}

/** Waits (at most `maxMs`) until other people's processes use less than `threshold` cores over a second. */
export async function waitForQuiet(maxMs: number, threshold = 0.15): Promise<{ waitedMs: number; foreign: number }> {
  const started = Date.now();
  for (;;) {
    const m = new NoiseMeter();
    await sleep(1_000);
    const r = m.report();
    if (r.cores.foreign < threshold || Date.now() - started >= maxMs) return { waitedMs: Date.now() - started, foreign: r.cores.foreign };
  }
}

export function formatNoise(n: NoiseReport): string {
  const c = n.cores;
  const top = n.topForeign.map((f) => `${f.comm} ${f.cores}`).join(', ');
  return `cores busy ${c.total.toFixed(2)}: bench ${c.bench.toFixed(2)}, postgres ${c.postgres.toFixed(2)}, redis ${c.redis.toFixed(2)}, OTHER ${c.foreign.toFixed(2)}${top ? ` (${top})` : ''}`;
}
