import { execSync } from 'node:child_process';
import { join } from 'node:path';
import type { Infra } from './infra.js';
import { summarizeProfile, type ProfileSummary } from './profile.js';
import { startScoreboard, type RunningServer } from './servers.js';

export interface BenchContext {
  quick: boolean;
  infra: Infra;
  /** Directory for V8 CPU profiles of the server, when --profile. */
  profileRoot?: string;
  /** Client processes for N subscribers (override with --client-procs). */
  clientProcs(n: number): number;
  log(msg: string): void;
}

export type Direction = 'higher' | 'lower';

/** One line of the results table. */
export interface Row {
  key: string;
  figure: string;
  unit: string;
  ours: number;
  baseline: number | null;
  /** ours / baseline. */
  ratio: number | null;
  /** Target on the ratio (or on `ours` when there is no baseline). */
  target: { op: '>=' | '<=' | '=='; value: number; stretch?: number; on: 'ratio' | 'ours' } | null;
  note?: string;
  /** Cores used by other people's processes during the phase (noise). */
  foreignCores?: number;
}

export interface PhaseResult {
  rows: Row[];
  details: Record<string, unknown>;
  profiles?: Record<string, ProfileSummary>;
}

/** Content hash of src/ (other people edit it while benches run): which code each server ran. */
export function srcHash(): string {
  try {
    return execSync("find src -type f -name '*.ts' | sort | xargs sha256sum | sha256sum | cut -c1-12", {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return 'n/a';
  }
}

/** src/ hashes of every server started in this bench process, in order. */
export const serverCodeSeen: { phase: string; srcHash: string; git: string }[] = [];

/** Starts the server under test, with a CPU profile when --profile. */
export async function startServerFor(ctx: BenchContext, phase: string, env: Record<string, string> = {}): Promise<RunningServer> {
  const profileDir = ctx.profileRoot ? join(ctx.profileRoot, phase) : undefined;
  const hash = srcHash();
  let git = 'n/a';
  try {
    git = execSync('git rev-parse --short HEAD', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    // not a checkout
  }
  serverCodeSeen.push({ phase, srcHash: hash, git });
  const server = await startScoreboard({ env: { ...ctx.infra.serverEnv, ...env }, profileDir });
  ctx.log(`  server pid ${server.pid} at ${server.url} (nofile ${server.nofile}; code git ${git}, src hash ${hash})`);
  return server;
}

/** Stops the server; when profiling, summarizes its profile over [fromMs, toMs] (hrtime ms). */
export async function stopServerFor(ctx: BenchContext, server: RunningServer, window?: { fromMs: number; toMs: number }): Promise<ProfileSummary | undefined> {
  await server.stop();
  if (!server.profileDir) return undefined;
  const summary = summarizeProfile(server.profileDir, window);
  ctx.log(`  profile: ${summary.file} (${summary.sampledMs.toFixed(0)} ms sampled in window)`);
  return summary;
}

export function ratioRow(r: Omit<Row, 'ratio'>): Row {
  return { ...r, ratio: r.baseline ? r.ours / r.baseline : null };
}
