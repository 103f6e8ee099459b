import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and aggregates self time by
 * function + script, and by package/module, optionally only over a time window
 * (V8's profile clock and process.hrtime are both CLOCK_MONOTONIC on Linux).
 */

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileLine {
  name: string;
  where: string;
  selfMs: number;
  pct: number;
}

export interface ProfileSummary {
  file: string;
  sampledMs: number;
  idleMs: number;
  topFunctions: ProfileLine[];
  topModules: ProfileLine[];
  /** Inclusive time of the app's own functions (src/), i.e. with everything they call. */
  appInclusive: ProfileLine[];
  /** Inclusive time per package: samples with any frame of that package on the stack. */
  packageInclusive: ProfileLine[];
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function shortUrl(url: string): string {
  let u = url.replace(/^file:\/\//, '');
  if (u.startsWith(ROOT)) u = u.slice(ROOT.length);
  return u;
}

/** Groups a script into a "module": a package name, an app file, or a runtime bucket. */
function moduleOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native/builtin)';
  const u = shortUrl(url);
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u);
  if (nm) {
    // Nested packages: report the innermost.
    const all = [...u.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)/g)];
    return `pkg ${all[all.length - 1]![1]}`;
  }
  if (u.startsWith('node:')) return `node ${u.slice(5).split('/').slice(0, 2).join('/')}`;
  return u;
}

/** The main thread's profile (thread id 0 in CPU.<date>.<time>.<pid>.<tid>.<n>), newest first. */
export function newestProfile(dir: string): string {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile') && /\.\d+\.0\.\d+\.cpuprofile$/.test(f))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (!files[0]) throw new Error(`no .cpuprofile in ${dir}`);
  return files[0];
}

export function summarizeProfile(dirOrFile: string, window?: { fromMs: number; toMs: number }, top = 25): ProfileSummary {
  const file = dirOrFile.endsWith('.cpuprofile') ? dirOrFile : newestProfile(dirOrFile);
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const appIncl = new Map<string, { name: string; where: string; us: number }>();
  const pkgIncl = new Map<string, number>();
  // Per leaf node: the distinct app functions and packages on its stack (cached).
  const stackCache = new Map<number, { app: [string, string, string][]; pkgs: string[] }>();
  const stackOf = (id: number) => {
    let hit = stackCache.get(id);
    if (hit) return hit;
    const app = new Map<string, [string, string, string]>();
    const pkgs = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const cf = byId.get(cur)!.callFrame;
      const u = shortUrl(cf.url);
      if (u.startsWith('src/')) {
        const name = cf.functionName || '(anonymous)';
        const where = `${u}:${cf.lineNumber + 1}`;
        app.set(`${name}\u0000${where}`, [`${name}\u0000${where}`, name, where]);
      }
      const m = moduleOf(cf.url, cf.functionName);
      if (m.startsWith('pkg ')) pkgs.add(m);
    }
    hit = { app: [...app.values()], pkgs: [...pkgs] };
    stackCache.set(id, hit);
    return hit;
  };
  const selfByFn = new Map<string, { name: string; where: string; us: number }>();
  const selfByModule = new Map<string, number>();
  let t = prof.startTime;
  let total = 0;
  let idle = 0;
  const from = window ? window.fromMs * 1000 : -Infinity;
  const to = window ? window.toMs * 1000 : Infinity;
  for (let i = 0; i < prof.samples.length; i++) {
    t += prof.timeDeltas[i] ?? 0;
    if (t < from || t > to) continue;
    // Weight of a sample: the interval until the next one (as DevTools does).
    const w = prof.timeDeltas[i + 1] ?? 0;
    const node = byId.get(prof.samples[i]!);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle += w;
      continue;
    }
    total += w;
    const name = functionName || '(anonymous)';
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : '';
    const key = `${name}\u0000${where}`;
    const cur = selfByFn.get(key) ?? { name, where, us: 0 };
    cur.us += w;
    selfByFn.set(key, cur);
    const mod = moduleOf(url, name);
    selfByModule.set(mod, (selfByModule.get(mod) ?? 0) + w);
    const st = stackOf(node.id);
    for (const [k, n, wh] of st.app) {
      const cur2 = appIncl.get(k) ?? { name: n, where: wh, us: 0 };
      cur2.us += w;
      appIncl.set(k, cur2);
    }
    for (const pk of st.pkgs) pkgIncl.set(pk, (pkgIncl.get(pk) ?? 0) + w);
  }
  const pct = (us: number) => (total ? (100 * us) / total : 0);
  return {
    file,
    sampledMs: total / 1000,
    idleMs: idle / 1000,
    topFunctions: [...selfByFn.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, selfMs: f.us / 1000, pct: pct(f.us) })),
    topModules: [...selfByModule.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([m, us]) => ({ name: m, where: '', selfMs: us / 1000, pct: pct(us) })),
    appInclusive: [...appIncl.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, selfMs: f.us / 1000, pct: pct(f.us) })),
    packageInclusive: [...pkgIncl.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([m, us]) => ({ name: m, where: '', selfMs: us / 1000, pct: pct(us) })),
  };
}

export function formatProfile(title: string, s: ProfileSummary, n = 15): string {
  const lines = [`${title}: ${s.sampledMs.toFixed(0)} ms on CPU in window (idle ${s.idleMs.toFixed(0)} ms) — ${shortUrl(s.file)}`];
  lines.push('  self%   self ms  function (where)');
  for (const f of s.topFunctions.slice(0, n)) {
    lines.push(`  ${f.pct.toFixed(1).padStart(5)}  ${f.selfMs.toFixed(0).padStart(8)}  ${f.name}${f.where ? ` (${f.where})` : ''}`);
  }
  lines.push('  by module/package:');
  for (const m of s.topModules.slice(0, 12)) lines.push(`  ${m.pct.toFixed(1).padStart(5)}  ${m.selfMs.toFixed(0).padStart(8)}  ${m.name}`);
  lines.push('  inclusive (self + callees) by package:');
  for (const m of s.packageInclusive.slice(0, 12)) lines.push(`  ${m.pct.toFixed(1).padStart(5)}  ${m.selfMs.toFixed(0).padStart(8)}  ${m.name}`);
  lines.push('  inclusive by app function (src/):');
  for (const f of s.appInclusive.slice(0, 12)) lines.push(`  ${f.pct.toFixed(1).padStart(5)}  ${f.selfMs.toFixed(0).padStart(8)}  ${f.name} (${f.where})`);
  return lines.join('\n');
}

/**
 * Inclusive time (self + callees) of every function whose name matches `pattern`,
 * over the whole profile, as a share of non-idle time. Recursion counted once.
 */
export function inclusiveOf(file: string, pattern: RegExp): ProfileLine[] {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const acc = new Map<string, { name: string; where: string; us: number }>();
  let total = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const w = prof.timeDeltas[i + 1] ?? 0;
    const leaf = byId.get(prof.samples[i]!);
    if (!leaf || leaf.callFrame.functionName === '(idle)') continue;
    total += w;
    const seen = new Set<string>();
    for (let cur: number | undefined = leaf.id; cur !== undefined; cur = parent.get(cur)) {
      const cf = byId.get(cur)!.callFrame;
      if (!pattern.test(cf.functionName)) continue;
      const key = `${cf.functionName}\u0000${cf.url}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const e = acc.get(key) ?? { name: cf.functionName, where: shortUrl(cf.url), us: 0 };
      e.us += w;
      acc.set(key, e);
    }
  }
  return [...acc.values()].sort((a, b) => b.us - a.us).map((e) => ({ name: e.name, where: e.where, selfMs: e.us / 1000, pct: total ? (100 * e.us) / total : 0 }));
}

// `tsx bench/lib/profile.ts <file-or-dir> [--inclusive REGEX]`: summarize a profile by hand.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const target = process.argv[2];
  if (!target) {
    console.error('usage: tsx bench/lib/profile.ts <file.cpuprofile | dir> [--inclusive REGEX]');
    process.exit(2);
  }
  const at = process.argv.indexOf('--inclusive');
  const pattern = at > 0 ? process.argv[at + 1] : undefined;
  if (pattern) {
    const file = target.endsWith('.cpuprofile') ? target : newestProfile(target);
    for (const l of inclusiveOf(file, new RegExp(pattern)).slice(0, 40)) {
      console.log(`${l.pct.toFixed(1).padStart(5)}%  ${l.selfMs.toFixed(0).padStart(7)} ms  ${l.name} (${l.where})`);
    }
  } else console.log(formatProfile('profile', summarizeProfile(target, undefined, 40), 40));
}
