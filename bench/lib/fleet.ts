import { fileURLToPath } from 'node:url';
import { nofileLimit, spawnWithUlimit, stopProcess, type Spawned } from './proc.js';

/**
 * N WebSocket subscribers spread over W client processes
 * (procs/subscriber-worker.mjs), driven over IPC.
 */

const WORKER = fileURLToPath(new URL('../procs/subscriber-worker.mjs', import.meta.url));

type Msg = { t: string; [k: string]: unknown };

class Worker {
  private waiters: { t: string; id?: number; resolve: (m: Msg) => void }[] = [];
  constructor(readonly proc: Spawned) {
    proc.child.on('message', (m: Msg) => {
      const i = this.waiters.findIndex((w) => w.t === m.t && (w.id === undefined || w.id === m.id));
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(m);
    });
  }
  wait<T extends Msg>(t: string, timeoutMs: number, id?: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`subscriber worker ${this.proc.pid}: no '${t}' within ${timeoutMs} ms\n${this.proc.stderrTail()}`));
      }, timeoutMs);
      const done = (m: Msg) => {
        clearTimeout(timer);
        resolve(m as T);
      };
      this.waiters.push({ t, id, resolve: done });
    });
  }
  send(m: Msg) {
    this.proc.child.send(m);
  }
}

export interface OpenResult {
  ready: number;
  failed: number;
  ms: number;
  sample: string;
  firstError: string;
  clientNofile: number[];
}

export interface ArmHit {
  count: number;
  first: number | null;
  p50: number | null;
  last: number | null;
}

export class Fleet {
  private constructor(
    private readonly workers: Worker[],
    readonly sizes: number[],
  ) {}

  static async start(total: number, processes: number): Promise<Fleet> {
    const w = Math.max(1, Math.min(processes, total || 1));
    const sizes = Array.from({ length: w }, (_, i) => Math.floor(total / w) + (i < total % w ? 1 : 0));
    const workers = sizes.map(() => new Worker(spawnWithUlimit(['node', WORKER], { ipc: true, label: 'subscriber-worker' })));
    await Promise.all(workers.map((wk) => wk.wait('hello', 20_000)));
    return new Fleet(workers, sizes);
  }

  get pids() {
    return this.workers.map((w) => w.proc.pid);
  }

  async open(url: string, mode: 'gql' | 'raw', query: string, inflightPerProcess = 100): Promise<OpenResult> {
    const wsUrl = url.replace(/^http/, 'ws') + '/graphql';
    const results = await Promise.all(
      this.workers.map((w, i) => {
        const p = w.wait<Msg & OpenResult>('opened', 180_000);
        w.send({ t: 'open', url: wsUrl, n: this.sizes[i], mode, query, inflight: inflightPerProcess, timeoutMs: 170_000 });
        return p;
      }),
    );
    return {
      ready: results.reduce((a, r) => a + r.ready, 0),
      failed: results.reduce((a, r) => a + r.failed, 0),
      ms: Math.max(...results.map((r) => r.ms)),
      sample: results.find((r) => r.sample)?.sample ?? '',
      firstError: results.find((r) => r.firstError)?.firstError ?? '',
      clientNofile: this.workers.map((w) => nofileLimit(w.proc.pid)),
    };
  }

  private armId = 0;

  /**
   * Arms every socket; resolves once all workers are armed, with `{ done }`: a
   * promise of all hits (wrapped, so that awaiting arm() does not wait for it).
   */
  async arm(timeoutMs: number): Promise<{ done: Promise<ArmHit> }> {
    const id = ++this.armId;
    const hits = this.workers.map((w) => w.wait<Msg & ArmHit>('hit', timeoutMs, id));
    const armed = this.workers.map((w) => w.wait('armed', 10_000, id));
    for (const w of this.workers) w.send({ t: 'arm', id });
    await Promise.all(armed);
    const done = Promise.all(hits).then((rs) => {
      const lasts = rs.map((r) => r.last).filter((x): x is number => x !== null);
      const firsts = rs.map((r) => r.first).filter((x): x is number => x !== null);
      const p50s = rs.map((r) => r.p50).filter((x): x is number => x !== null);
      return {
        count: rs.reduce((a, r) => a + r.count, 0),
        first: firsts.length ? Math.min(...firsts) : null,
        // The median over processes of each process' median: close enough for a note.
        p50: p50s.length ? p50s.sort((a, b) => a - b)[Math.floor((p50s.length - 1) / 2)]! : null,
        last: lasts.length ? Math.max(...lasts) : null,
      };
    });
    done.catch(() => {}); // the caller awaits it; never an unhandled rejection meanwhile
    return { done };
  }

  async record(on: boolean) {
    await Promise.all(
      this.workers.map((w) => {
        const p = w.wait('recording', 10_000);
        w.send({ t: 'record', on });
        return p;
      }),
    );
  }

  /** Per subscriber per action latency histogram (0.1 ms buckets), merged. */
  async latencies(actions: [number, number][]) {
    const rs = await Promise.all(
      this.workers.map((w) => {
        const p = w.wait<Msg & { total: number; before: number; missing: number; hist: [number, number][] }>('latencies', 120_000);
        w.send({ t: 'latencies', actions });
        return p;
      }),
    );
    const hist = new Map<number, number>();
    for (const r of rs) for (const [b, c] of r.hist) hist.set(b, (hist.get(b) ?? 0) + c);
    return {
      total: rs.reduce((a, r) => a + r.total, 0),
      before: rs.reduce((a, r) => a + r.before, 0),
      missing: rs.reduce((a, r) => a + r.missing, 0),
      percentile(p: number): number {
        const keys = [...hist.keys()].sort((a, b) => a - b);
        const total = rs.reduce((a, r) => a + r.total, 0);
        const target = Math.ceil((p / 100) * total);
        let seen = 0;
        for (const k of keys) {
          seen += hist.get(k)!;
          if (seen >= target) return (k + 0.5) / 10;
        }
        return NaN;
      },
    };
  }

  async check(truth: string) {
    const rs = await Promise.all(
      this.workers.map((w) => {
        const p = w.wait<Msg & { total: number; mismatched: number; example: unknown; seqs: [number, number][] }>('checked', 60_000);
        w.send({ t: 'check', truth });
        return p;
      }),
    );
    const seqs = new Map<number, number>();
    for (const r of rs) for (const [s, c] of r.seqs) seqs.set(s, (seqs.get(s) ?? 0) + c);
    return {
      total: rs.reduce((a, r) => a + r.total, 0),
      mismatched: rs.reduce((a, r) => a + r.mismatched, 0),
      example: rs.find((r) => r.example)?.example ?? null,
      seqs: [...seqs.entries()],
    };
  }

  async info() {
    const rs = await Promise.all(
      this.workers.map((w) => {
        const p = w.wait<Msg & { sockets: number; open: number; msgs: number; unexpectedCloses: number; protocolErrors: number; firstError: string }>('info', 10_000);
        w.send({ t: 'info' });
        return p;
      }),
    );
    return {
      sockets: rs.reduce((a, r) => a + r.sockets, 0),
      open: rs.reduce((a, r) => a + r.open, 0),
      msgs: rs.reduce((a, r) => a + r.msgs, 0),
      unexpectedCloses: rs.reduce((a, r) => a + r.unexpectedCloses, 0),
      protocolErrors: rs.reduce((a, r) => a + r.protocolErrors, 0),
      firstError: rs.find((r) => r.firstError)?.firstError ?? '',
    };
  }

  async close() {
    await Promise.all(
      this.workers.map(async (w) => {
        const p = w.wait('closed', 10_000).catch(() => undefined);
        try {
          w.send({ t: 'close' });
        } catch {
          // already gone
        }
        await p;
        await stopProcess(w.proc, 5_000);
      }),
    );
  }
}
