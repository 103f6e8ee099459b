import { Writable } from 'node:stream';
import WebSocket from 'ws';
import { createLogger, type Logger } from '../../src/logger.js';
import { waitFor, type Instance } from './app.js';

/** A raw graphql-transport-ws socket, to send what a well-behaved client never would. */
export function rawSocket(instance: Instance, headers: Record<string, string> = {}) {
  const ws = new WebSocket(instance.wsUrl, 'graphql-transport-ws', { headers });
  const messages: any[] = [];
  let closedWith: { code: number; reason: string } | undefined;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve((closedWith = { code, reason: String(reason) }))));
  const opened = new Promise<void>((resolve, reject) => {
    ws.on('open', () => resolve());
    ws.on('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
    ws.on('error', reject);
  });
  ws.on('message', (m) => messages.push(JSON.parse(String(m))));
  const send = (message: object) => ws.send(JSON.stringify(message));
  return {
    ws,
    messages,
    closed,
    opened,
    send,
    closedWith: () => closedWith,
    /** Opens, sends connection_init (with an optional payload) and waits for the ack. */
    async init(payload?: object) {
      await opened;
      send({ type: 'connection_init', payload });
      await waitFor(() => messages.some((m) => m.type === 'connection_ack') || closedWith, 10_000, 'connection_ack');
      return messages.some((m) => m.type === 'connection_ack');
    },
    /** Messages of one operation id. */
    of: (id: string) => messages.filter((m) => m.id === id),
  };
}

/** An SSE (or multipart) subscription over HTTP, read as it arrives. */
export function httpStream(instance: Instance, query: string, options: { accept?: string; headers?: Record<string, string>; variables?: object } = {}) {
  const controller = new AbortController();
  let text = '';
  let status = 0;
  let ended = false;
  const done = (async () => {
    const res = await fetch(`${instance.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: options.accept ?? 'text/event-stream', ...options.headers },
      body: JSON.stringify({ query, variables: options.variables }),
      signal: controller.signal,
    });
    status = res.status;
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    for (;;) {
      const { done: finished, value } = await reader.read();
      if (finished) break;
      text += decoder.decode(value, { stream: true });
    }
  })()
    .catch(() => {})
    .finally(() => (ended = true));
  return {
    status: () => status,
    text: () => text,
    ended: () => ended,
    /** Payloads received so far (SSE `data:` lines, or the JSON parts of a multipart body). */
    payloads(): any[] {
      const found: any[] = [];
      for (const line of text.split('\n')) {
        const json = line.startsWith('data:') ? line.slice(5).trim() : line.trim().startsWith('{') ? line.trim() : '';
        if (!json) continue;
        try {
          found.push(JSON.parse(json));
        } catch {
          // a part split across reads: complete on the next look
        }
      }
      return found;
    },
    close: () => controller.abort(),
    done,
  };
}

/** Pino output of an app, as parsed lines. */
export function capturedLogger(level = 'info'): { logger: Logger; lines: any[] } {
  const lines: any[] = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      callback();
    },
  });
  return { logger: createLogger(level, sink), lines };
}

/**
 * /healthz answer times while `flood` runs, to report (never assert) that the
 * server stays responsive. Probes are bounded by count: one every 20 ms, at most 200.
 */
export async function healthzDuring<T>(instance: Instance, label: string, flood: () => Promise<T>): Promise<T> {
  const times: number[] = [];
  // One probe first, so the figures are about the flood, not about opening the probe's connection.
  await (await fetch(`${instance.url}/healthz`)).arrayBuffer();
  let running = true;
  const probe = (async () => {
    for (let i = 0; i < 200 && running; i++) {
      const started = performance.now();
      const res = await fetch(`${instance.url}/healthz`);
      await res.arrayBuffer();
      times.push(performance.now() - started);
      if (res.status !== 200) throw new Error(`/healthz answered ${res.status} during ${label}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  try {
    return await flood();
  } finally {
    running = false;
    await probe;
    const sorted = [...times].sort((a, b) => a - b);
    const pick = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(1) : 'n/a');
    console.log(`[healthz during ${label}] probes=${times.length} median=${pick(0.5)}ms p95=${pick(0.95)}ms max=${pick(1)}ms`);
  }
}
