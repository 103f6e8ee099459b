import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Fleet } from './lib/fleet.js';
import { LEADERBOARD_SUBSCRIPTION } from './lib/gql-client.js';
import { createInfra, seedPlayers } from './lib/infra.js';
import { killAllSpawned, rssBytes, sleep } from './lib/proc.js';
import { startScoreboard } from './lib/servers.js';

/**
 * Where a subscriber's memory goes: `npx tsx bench/heap-per-subscriber.ts [--n 2000]`.
 * Starts the server with --heapsnapshot-signal, takes a V8 heap snapshot with
 * 20 subscribers and another with N more, and prints the difference per
 * subscriber by object type/constructor (count and bytes, V8 self sizes).
 * Off-heap memory (socket buffers, Buffers' backing stores) is not in a heap
 * snapshot: compare the total with the RSS delta it also prints.
 */
const { values } = parseArgs({ options: { n: { type: 'string', default: '2000' }, top: { type: 'string', default: '30' } } });
const n = Number(values.n);

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

function histogram(file: string): Map<string, { count: number; bytes: number }> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const types = snap.snapshot.meta.node_types[0];
  const out = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]!]!;
    let name = snap.strings[snap.nodes[i + nameAt]!]!;
    // Strings and code are keyed by type only (their "names" are their contents).
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'code' || type === 'number') name = '';
    if (name.length > 60) name = `${name.slice(0, 57)}...`;
    const key = `${type}${name ? ` ${name}` : ''}`;
    const cur = out.get(key) ?? { count: 0, bytes: 0 };
    cur.count++;
    cur.bytes += snap.nodes[i + sizeAt]!;
    out.set(key, cur);
  }
  return out;
}

async function snapshot(pid: number, dir: string, seen: Set<string>): Promise<string> {
  process.kill(pid, 'SIGTTIN');
  for (let i = 0; i < 600; i++) {
    await sleep(500);
    const files = readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot') && !seen.has(f));
    const f = files[0];
    if (f) {
      // Written when its size stops changing.
      const p = join(dir, f);
      let size = -1;
      while (statSync(p).size !== size) {
        size = statSync(p).size;
        await sleep(1_000);
      }
      seen.add(f);
      return p;
    }
  }
  throw new Error('no heap snapshot written');
}

const infra = await createInfra();
try {
  await seedPlayers(infra.appDbUrl, 1000);
  const server = await startScoreboard({
    env: { ...infra.serverEnv, LEADERBOARD_COALESCE_MS: '0' },
    extraNodeArgs: ['--heapsnapshot-signal=SIGTTIN', `--diagnostic-dir=${infra.dataDir}`],
  });
  const seen = new Set<string>();
  const warm = await Fleet.start(20, 1);
  await warm.open(server.url, 'gql', LEADERBOARD_SUBSCRIPTION, 20);
  await sleep(500);
  const rss0 = rssBytes(server.pid);
  const before = await snapshot(server.pid, infra.dataDir, seen);
  const fleet = await Fleet.start(n, Math.min(2, Math.ceil(n / 5000)));
  const opened = await fleet.open(server.url, 'gql', LEADERBOARD_SUBSCRIPTION, 100);
  console.log(`${opened.ready}/${n} subscribers ready`);
  await sleep(1_000);
  const rss1 = rssBytes(server.pid);
  const after = await snapshot(server.pid, infra.dataDir, seen);
  await fleet.close();
  await warm.close();
  await server.stop();

  const h0 = histogram(before);
  const h1 = histogram(after);
  const rows = [...h1.entries()]
    .map(([k, v]) => ({ k, count: (v.count - (h0.get(k)?.count ?? 0)) / opened.ready, bytes: (v.bytes - (h0.get(k)?.bytes ?? 0)) / opened.ready }))
    .sort((a, b) => b.bytes - a.bytes);
  const heapPer = rows.reduce((a, r) => a + r.bytes, 0);
  console.log(`RSS delta ${((rss1 - rss0) / opened.ready / 1024).toFixed(1)} KiB/subscriber; V8 heap delta ${(heapPer / 1024).toFixed(1)} KiB/subscriber`);
  console.log('  bytes/sub  objects/sub  type constructor');
  for (const r of rows.slice(0, Number(values.top))) {
    console.log(`${r.bytes.toFixed(0).padStart(11)}  ${r.count.toFixed(2).padStart(11)}  ${r.k}`);
  }
  for (const f of [before, after]) rmSync(f, { force: true });
} finally {
  killAllSpawned();
  await infra.dispose();
}
process.exit(0);
