// Subscriber client process for the fan-out / load / CPU phases. Plain JS so it
// starts fast; controlled by the bench over IPC. Each socket is a raw `ws`
// client: in "gql" mode it speaks graphql-transport-ws itself (connection_init
// -> connection_ack -> subscribe), in "raw" mode it only listens (baseline).
// Per message it does the minimum: find `"seq":` in the Buffer and read digits.
// Times are CLOCK_MONOTONIC milliseconds (process.hrtime), comparable across
// processes on this machine.
import WebSocket from 'ws';

const SEQ_KEY = Buffer.from('"seq":');
const ACK = Buffer.from('connection_ack');
const ERROR_TYPE = Buffer.from('"type":"error"');
const COMPLETE_TYPE = Buffer.from('"type":"complete"');
const now = () => Number(process.hrtime.bigint()) / 1e6;

/** @type {{ws: WebSocket, ready: boolean, lastSeq: number, last: Buffer|null, armHit: number, hist: number[]|null, closedByUs: boolean}[]} */
let sockets = [];
let msgs = 0;
let unexpectedCloses = 0;
let protocolErrors = 0;
let firstError = '';
let sample = '';
let recording = false;
/** @type {{id: number, remaining: number, times: number[], baseline: number[]} | null} */
let arm = null;

function readSeq(buf) {
  const at = buf.indexOf(SEQ_KEY);
  if (at < 0) return -1;
  let v = 0;
  for (let i = at + SEQ_KEY.length; i < buf.length; i++) {
    const c = buf[i];
    if (c < 48 || c > 57) break;
    v = v * 10 + (c - 48);
  }
  return v;
}

function send(msg) {
  if (process.send) process.send(msg);
}

function open({ url, n, mode, query, inflight = 100, timeoutMs = 120_000 }) {
  const started = now();
  let next = 0;
  let pending = 0;
  let ready = 0;
  let failed = 0;
  const subscribe = JSON.stringify({ id: '1', type: 'subscribe', payload: { query } });
  const init = JSON.stringify({ type: 'connection_init', payload: {} });
  const deadline = setTimeout(() => finish('timeout'), timeoutMs);

  function finish(reason) {
    clearTimeout(deadline);
    send({ t: 'opened', ready, failed, ms: now() - started, reason, sample, firstError });
    finish = () => {};
  }
  function settle(s, ok) {
    if (s.settled) return;
    s.settled = true;
    pending--;
    if (ok) ready++;
    else failed++;
    if (ready + failed >= n) return finish('done');
    pump();
  }
  function pump() {
    while (pending < inflight && next < n) {
      next++;
      pending++;
      const ws = new WebSocket(url, mode === 'gql' ? 'graphql-transport-ws' : undefined, { perMessageDeflate: false });
      const s = { ws, ready: false, lastSeq: -1, last: null, armHit: 0, hist: null, closedByUs: false, acked: false, settled: false };
      const index = sockets.push(s) - 1;
      ws.on('open', () => {
        if (mode === 'gql') ws.send(init);
        else {
          s.ready = true;
          settle(s, true);
        }
      });
      ws.on('message', (data) => {
        msgs++;
        if (mode === 'gql' && !s.acked) {
          if (data.indexOf(ACK) >= 0) {
            s.acked = true;
            ws.send(subscribe);
          } else {
            protocolErrors++;
            if (!firstError) firstError = data.toString().slice(0, 300);
          }
          return;
        }
        const seq = readSeq(data);
        if (seq < 0) {
          if (data.indexOf(ERROR_TYPE) >= 0 || data.indexOf(COMPLETE_TYPE) >= 0) {
            protocolErrors++;
            if (!firstError) firstError = data.toString().slice(0, 300);
          }
          return;
        }
        const t = now();
        s.lastSeq = seq;
        s.last = data;
        if (!sample) sample = data.toString('utf8');
        if (recording) (s.hist ??= []).push(seq, t);
        if (arm && !s.armHit && seq > arm.baseline[index]) {
          s.armHit = t;
          arm.times.push(t);
          if (--arm.remaining === 0) reportArm();
        }
        if (!s.ready) {
          s.ready = true;
          settle(s, true);
        }
      });
      ws.on('unexpected-response', (_req, res) => {
        if (!firstError) firstError = `HTTP ${res.statusCode} on upgrade`;
        ws.terminate();
      });
      ws.on('error', (e) => {
        if (!firstError) firstError = String(e.message);
      });
      ws.on('close', (code, reason) => {
        if (!s.closedByUs) {
          unexpectedCloses++;
          if (!firstError) firstError = `closed ${code} ${reason}`;
        }
        if (!s.ready) settle(s, false);
        else if (arm && !s.armHit) {
          s.armHit = -1;
          if (--arm.remaining === 0) reportArm();
        }
      });
    }
  }
  if (n === 0) return finish('done');
  pump();
}

function reportArm() {
  if (!arm) return;
  const times = arm.times.sort((a, b) => a - b);
  send({
    t: 'hit',
    id: arm.id,
    count: times.length,
    first: times[0] ?? null,
    p50: times[Math.floor((times.length - 1) / 2)] ?? null,
    last: times[times.length - 1] ?? null,
  });
  arm = null;
}

function doArm({ id }) {
  const alive = sockets.filter((s) => s.ready && s.ws.readyState === WebSocket.OPEN);
  for (const s of sockets) s.armHit = 0;
  arm = { id, remaining: alive.length, times: [], baseline: sockets.map((s) => s.lastSeq) };
  for (const s of sockets) if (!(s.ready && s.ws.readyState === WebSocket.OPEN)) s.armHit = -1;
  send({ t: 'armed', id, count: alive.length });
  if (alive.length === 0) reportArm();
}

/**
 * For each subscriber and each action (seq, response time): the first board this
 * subscriber received with seq >= the action's seq; latency = arrival - response
 * (clamped at 0; counted as "before response" when negative). 0.1 ms buckets.
 */
function latencies({ actions }) {
  const sorted = actions.slice().sort((a, b) => a[0] - b[0]);
  const hist = new Map();
  let total = 0;
  let before = 0;
  let missing = 0;
  for (const s of sockets) {
    if (!s.ready) continue;
    const h = s.hist ?? [];
    let j = 0;
    for (const [seq, tResp] of sorted) {
      while (j < h.length && h[j] < seq) j += 2;
      if (j >= h.length) {
        missing++;
        continue;
      }
      let lat = h[j + 1] - tResp;
      if (lat < 0) {
        before++;
        lat = 0;
      }
      const b = Math.min(Math.floor(lat * 10), 600_000);
      hist.set(b, (hist.get(b) ?? 0) + 1);
      total++;
    }
  }
  send({ t: 'latencies', total, before, missing, hist: [...hist.entries()] });
}

/** Canonical form of a board message: rank:id:score|... */
function canonical(buf) {
  try {
    const msg = JSON.parse(buf.toString('utf8'));
    const board = msg.payload?.data?.leaderboardChanged;
    return {
      seq: board.seq,
      key: board.entries.map((e) => `${e.rank}:${e.player.id}:${e.score}`).join('|'),
    };
  } catch {
    return { seq: -1, key: '<unparseable>' };
  }
}

function check({ truth }) {
  let mismatched = 0;
  let total = 0;
  let example = null;
  const seqs = new Map();
  for (const s of sockets) {
    if (!s.ready) continue;
    total++;
    const got = s.last ? canonical(s.last) : { seq: -1, key: '<none>' };
    seqs.set(got.seq, (seqs.get(got.seq) ?? 0) + 1);
    if (got.key !== truth) {
      mismatched++;
      example ??= got;
    }
  }
  send({ t: 'checked', total, mismatched, example, seqs: [...seqs.entries()] });
}

process.on('message', (m) => {
  switch (m.t) {
    case 'open':
      return open(m);
    case 'arm':
      return doArm(m);
    case 'record':
      recording = m.on;
      if (m.on) for (const s of sockets) s.hist = [];
      return send({ t: 'recording', on: recording });
    case 'latencies':
      return latencies(m);
    case 'check':
      return check(m);
    case 'info':
      return send({
        t: 'info',
        sockets: sockets.length,
        open: sockets.filter((s) => s.ws.readyState === WebSocket.OPEN).length,
        msgs,
        unexpectedCloses,
        protocolErrors,
        firstError,
      });
    case 'close': {
      for (const s of sockets) {
        s.closedByUs = true;
        s.ws.terminate();
      }
      send({ t: 'closed' });
      setTimeout(() => process.exit(0), 50);
      return;
    }
  }
});
process.on('disconnect', () => process.exit(0));
send({ t: 'hello', pid: process.pid });
