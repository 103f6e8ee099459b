import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getOperationAST, OperationTypeNode, parse } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { Counter, Gauge } from 'prom-client';
import type { Services } from '../services.js';
import { createTrustedDocuments, requestedDocumentId } from './trusted-documents.js';
import type { GraphQLHandler } from './yoga.js';

/**
 * Public reads over GET, answered from memory before the Yoga pipeline, with
 * HTTP validators so browsers and CDNs can absorb read storms.
 *
 * What is public: a GET query without an Authorization header (nothing it reads
 * can depend on a viewer), answered without errors. It gets
 * `Cache-Control: public, max-age=1`, a strong `ETag` and `Vary: Authorization,
 * Accept`; `If-None-Match` with that ETag answers 304 without a body. A GET with
 * an Authorization header goes through Yoga as before and is marked
 * `Cache-Control: private, no-store`.
 *
 * Freshness, per instance (see README, "Response cache"):
 * - every entry belongs to a generation; the generation moves on when this
 *   instance finishes executing any mutation (before its response is written),
 *   on every BOARD_CHANGED / DEFINITIONS_CHANGED notice from the bus (every
 *   instance receives them), and after a bus reconnect. An entry of an older
 *   generation is never served, and a read that began before the move is never
 *   stored. So a read on the instance that served a write always reflects it,
 *   and other instances are at most one bus hop behind;
 * - no entry lives longer than RESPONSE_CACHE_MAX_AGE_MS (default 1 s): what
 *   changes with time alone (a period boundary) is never older than that;
 * - at most RESPONSE_CACHE_ENTRIES entries (least recently used go first), of
 *   at most 64 KiB each: a larger answer is served but not kept.
 *
 * The ETag is weak: a sha256 of the body without the boards' `updatedAt` (the
 * time the snapshot was read, different on every execution), so two reads of the
 * same board state validate alike. Not a version made of the views' `seq`s alone:
 * a board's title or a player's name can change the bytes without moving any seq.
 * A document that aliases another field as `updatedAt` gets a hash of the whole
 * body. The hash is computed once per cache entry, not per request.
 */
export interface ReadCache {
  /** Answers a GET /graphql that is a public read; false when Yoga should handle the request as usual. */
  handle(req: IncomingMessage, res: ServerResponse, yoga: GraphQLHandler): Promise<boolean>;
  /** Yoga plugin: a mutation executed here moves the generation on before its response is sent. */
  plugin: Plugin;
  /** Every entry is stale from now on. */
  invalidate(): void;
  close(): void;
}

interface Entry {
  /** Asked by trusted-document id: served without the CSRF header. */
  byId: boolean;
  generation: number;
  storedAt: number;
  status: number;
  contentType: string;
  body: string;
  etag: string;
}

const CSRF_HEADERS = ['x-graphql-yoga-csrf', 'apollo-require-preflight'];
/** Bodies larger than this are answered but not kept: the cache holds at most entries x this. */
const MAX_ENTRY_CHARS = 64 * 1024;
/** Parsed operation types of documents seen over GET, bounded like the cache. */
const MAX_PARSED = 1_000;
/** POST bodies longer than this are answered but not kept (the body is the key). */
const MAX_POST_KEY_CHARS = 8 * 1024;

export async function createReadCache(services: Services): Promise<ReadCache> {
  const { config, metrics } = services;
  const { entries: maxEntries, maxAgeMs } = config.responseCache;
  const trusted = createTrustedDocuments(config.trustedDocuments);
  const entries = new Map<string, Entry>();
  const operationTypes = new Map<string, OperationTypeNode | null>();
  let generation = 0;

  const hits = new Counter({
    name: 'scoreboard_response_cache_hits_total',
    help: 'Public GET reads answered from the response cache (304s included)',
    registers: [metrics.registry],
  });
  const misses = new Counter({
    name: 'scoreboard_response_cache_misses_total',
    help: 'Public GET reads executed by Yoga (not in the cache, or stale)',
    registers: [metrics.registry],
  });
  const notModified = new Counter({
    name: 'scoreboard_http_not_modified_total',
    help: 'Public GET reads answered 304 Not Modified (If-None-Match matched)',
    registers: [metrics.registry],
  });
  const size = new Gauge({ name: 'scoreboard_response_cache_entries', help: 'Entries in the response cache', registers: [metrics.registry] });
  size.set(0);

  const invalidate = () => {
    generation += 1;
    entries.clear();
    size.set(0);
  };
  const unsubscribers = [await services.bus.subscribe('BOARD_CHANGED', invalidate), await services.bus.subscribe('DEFINITIONS_CHANGED', invalidate)];
  services.bus.onReconnect(invalidate);

  function operationType(query: string, operationName: string | undefined): OperationTypeNode | null {
    const key = `${operationName ?? ''}\n${query}`;
    let type = operationTypes.get(key);
    if (type === undefined) {
      try {
        type = getOperationAST(parse(query, { noLocation: true }), operationName)?.operation ?? null;
      } catch {
        type = null;
      }
      if (operationTypes.size >= MAX_PARSED) operationTypes.delete(operationTypes.keys().next().value!);
      operationTypes.set(key, type);
    }
    return type;
  }

  function corsHeaders(req: IncomingMessage): Record<string, string> {
    const origin = req.headers.origin;
    if (!origin || !config.http.corsOrigins.includes(origin)) return {};
    return { 'access-control-allow-origin': origin };
  }

  function send(req: IncomingMessage, res: ServerResponse, entry: Entry) {
    const headers = {
      'cache-control': 'public, max-age=1',
      etag: entry.etag,
      vary: 'Authorization, Accept, Origin',
      ...corsHeaders(req),
    };
    if (matches(req.headers['if-none-match'], entry.etag)) {
      notModified.inc();
      res.writeHead(304, headers);
      return res.end();
    }
    res.writeHead(entry.status, { ...headers, 'content-type': entry.contentType, 'content-length': Buffer.byteLength(entry.body) });
    res.end(entry.body);
  }

  return {
    invalidate,
    close: () => unsubscribers.forEach((stop) => stop()),
    plugin: {
      onExecute({ args }) {
        if (getOperationAST(args.document, args.operationName)?.operation !== OperationTypeNode.MUTATION) return;
        return { onExecuteDone: () => invalidate() };
      },
    },
    async handle(req, res, yoga) {
      if (req.method === 'POST') return handlePost(req, res, yoga);
      if (req.method !== 'GET') return false;
      // Whatever Yoga answers a request with a JWT depends on who asks: never kept, never for a shared cache.
      const authorized = req.headers.authorization !== undefined;
      if (authorized) res.setHeader('cache-control', 'private, no-store');
      // Only queries are answered here (a subscription over GET is an SSE stream for Yoga);
      // an Accept that also lists streaming types (urql's does) is fine for a query.
      const accept = req.headers.accept ?? '';
      // Keyed by the request as sent (Accept and the URL: document or id, operation name,
      // variables): a hit costs no parsing at all. Spellings of the same request that
      // differ only in encoding are separate entries.
      const key = `${accept}\n${req.url}`;
      const cached = authorized ? undefined : lookup(key);
      if (cached && (cached.byId || hasCsrfHeader(req))) {
        hits.inc();
        send(req, res, cached);
        return true;
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      const params = url.searchParams;
      let extensions: unknown;
      try {
        extensions = params.has('extensions') ? JSON.parse(params.get('extensions')!) : undefined;
      } catch {
        return false; // Yoga answers the malformed request
      }
      const documentId = params.get('documentId') ?? undefined;
      const resolved = trusted.resolve({ query: params.get('query') ?? undefined, extensions, documentId });
      // A trusted document by id is as safe as a preflighted request: a query has no side
      // effects, Yoga refuses mutations over GET, and its text is ours. So a CDN (or a plain
      // link) may fetch it without the CSRF header, and an unknown id gets its stable error
      // (nothing runs). Free-form GETs, an unknown id's fallback text included, still need the header.
      if ('error' in resolved) {
        if (requestedDocumentId({ extensions, documentId }) === undefined) return false;
        return forward(req, res, yoga, true, authorized);
      }
      if (typeof resolved.query !== 'string') return false;
      const operationName = params.get('operationName') || undefined;
      if (operationType(resolved.query, operationName) !== OperationTypeNode.QUERY) return false;
      const byId = resolved.id !== undefined;
      if (!byId && !hasCsrfHeader(req)) return false;
      if (authorized) return forward(req, res, yoga, byId, true);
      misses.inc();
      const startedIn = generation;
      const response = await execute(req, yoga, byId);
      const body = await response.text();
      const contentType = response.headers.get('content-type') ?? 'application/json; charset=utf-8';
      if (!(response.status === 200 && /json/.test(contentType) && !hasErrors(body))) return passOn(res, response, body, false);
      const entry: Entry = { byId, generation: startedIn, storedAt: Date.now(), status: 200, contentType, body, etag: validator(body, resolved.query) };
      store(key, entry);
      send(req, res, entry);
      return true;
    },
  };

  /** A current entry (of this generation, not too old), made the most recently used. */
  function lookup(key: string): Entry | undefined {
    const cached = maxEntries > 0 ? entries.get(key) : undefined;
    if (!cached || cached.generation !== generation || Date.now() - cached.storedAt > maxAgeMs) return undefined;
    entries.delete(key);
    entries.set(key, cached);
    return cached;
  }

  function store(key: string, entry: Entry) {
    // A write (here, or announced by the bus) while this read ran: answer it, keep it not.
    if (maxEntries === 0 || entry.generation !== generation || entry.body.length > MAX_ENTRY_CHARS) return;
    entries.delete(key);
    entries.set(key, entry);
    if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
    size.set(entries.size);
  }

  /**
   * A POST of a public query, answered from the same cache. Taken over only when
   * the headers say the answer is one JSON document nobody in particular asked
   * for: no Authorization, a JSON body, and an Accept that allows no stream (so no
   * subscription or incremental delivery can be on the way). Everything else is
   * Yoga's, untouched. Once the body is read here, every outcome is answered here:
   * a mutation or a refused document goes through Yoga with the same body, and
   * Yoga's answer is passed on as it is (mutations empty the cache as always).
   * POST answers carry no validators: HTTP caches do not keep POSTs.
   */
  async function handlePost(req: IncomingMessage, res: ServerResponse, yoga: GraphQLHandler): Promise<boolean> {
    if (maxEntries === 0 || req.headers.authorization !== undefined) return false;
    if (mediaType(req.headers['content-type']) !== 'application/json') return false;
    const accept = req.headers.accept ?? '';
    if (/text\/event-stream|multipart\/mixed/i.test(accept)) return false;
    const raw = await readBody(req, config.http.maxRequestBytes);
    if (raw === undefined) return false; // aborted: nobody to answer
    const key = `POST\n${accept}\n${raw}`;
    const cached = raw.length <= MAX_POST_KEY_CHARS ? lookup(key) : undefined;
    if (cached) {
      hits.inc();
      sendPost(req, res, cached);
      return true;
    }
    const query = postedQuery(raw);
    if (query === undefined) return passOn(res, await executePost(req, yoga, raw), undefined);
    misses.inc();
    const startedIn = generation;
    const response = await executePost(req, yoga, raw);
    const body = await response.text();
    const contentType = response.headers.get('content-type') ?? 'application/json; charset=utf-8';
    if (!(response.status === 200 && /json/.test(contentType) && !hasErrors(body))) return passOn(res, response, body);
    const entry: Entry = { byId: true, generation: startedIn, storedAt: Date.now(), status: 200, contentType, body, etag: '' };
    if (raw.length <= MAX_POST_KEY_CHARS) store(key, entry);
    sendPost(req, res, entry);
    return true;
  }

  /** The query text of a posted public query (by text or trusted id); undefined for anything else (a mutation, a batch, junk). */
  function postedQuery(raw: string): string | undefined {
    let params: unknown;
    try {
      params = JSON.parse(raw);
    } catch {
      return undefined;
    }
    if (typeof params !== 'object' || params === null || Array.isArray(params)) return undefined;
    const { query, extensions, documentId, operationName } = params as Record<string, unknown>;
    const resolved = trusted.resolve({
      query: typeof query === 'string' ? query : undefined,
      extensions,
      documentId: typeof documentId === 'string' ? documentId : undefined,
    });
    if ('error' in resolved || typeof resolved.query !== 'string') return undefined;
    const name = typeof operationName === 'string' && operationName !== '' ? operationName : undefined;
    return operationType(resolved.query, name) === OperationTypeNode.QUERY ? resolved.query : undefined;
  }

  function sendPost(req: IncomingMessage, res: ServerResponse, entry: Entry) {
    res.writeHead(entry.status, { 'content-type': entry.contentType, 'content-length': Buffer.byteLength(entry.body), vary: 'Origin', ...corsHeaders(req) });
    res.end(entry.body);
  }
}

function hasCsrfHeader(req: IncomingMessage): boolean {
  return CSRF_HEADERS.some((h) => req.headers[h] !== undefined);
}

/** The GET through Yoga (as a fetch Request), with the CSRF header added for a request by id. */
function execute(req: IncomingMessage, yoga: GraphQLHandler, byId: boolean): Promise<Response> {
  const headers = requestHeaders(req);
  if (byId) headers.set('x-graphql-yoga-csrf', 'trusted-document');
  return Promise.resolve(yoga.fetch(`http://${req.headers.host ?? 'localhost'}${req.url}`, { method: 'GET', headers }, { req } as never));
}

/**
 * Yoga's answer as it is. A GET's is marked never to be stored by anyone
 * (`authorized` says how); a POST's (`authorized` undefined) keeps Yoga's headers.
 */
async function passOn(res: ServerResponse, response: Response, body?: string, authorized?: boolean): Promise<true> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => (headers[name] = value));
  if (authorized !== undefined) headers['cache-control'] = authorized ? 'private, no-store' : 'no-store';
  res.writeHead(response.status, headers);
  res.end(body ?? (await response.text()));
  return true;
}

/** The POST through Yoga with the body already read here. */
function executePost(req: IncomingMessage, yoga: GraphQLHandler, body: string): Promise<Response> {
  return Promise.resolve(yoga.fetch(`http://${req.headers.host ?? 'localhost'}${req.url}`, { method: 'POST', headers: requestHeaders(req), body }, { req } as never));
}

function requestHeaders(req: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string') headers.set(name, value);
    else if (Array.isArray(value)) headers.set(name, value.join(', '));
  }
  // The body is passed as a string: its length is recomputed.
  headers.delete('content-length');
  headers.delete('transfer-encoding');
  return headers;
}

/** The whole body as UTF-8, at most `max` bytes (the caller checked Content-Length); undefined if the client went away. */
function readBody(req: IncomingMessage, max: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    req.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > max) return req.destroy();
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('close', () => resolve(undefined)); // after 'end', a no-op
    req.on('error', () => resolve(undefined));
  });
}

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
}

async function forward(req: IncomingMessage, res: ServerResponse, yoga: GraphQLHandler, byId: boolean, authorized: boolean): Promise<true> {
  return passOn(res, await execute(req, yoga, byId), undefined, authorized);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The weak ETag of a body: its sha256 without the boards' read time (see above). */
function validator(body: string, query: string): string {
  const readTimeOnly = !/\bupdatedAt\s*:/.test(query);
  const state = readTimeOnly ? JSON.stringify(JSON.parse(body), (key, value: unknown) => (key === 'updatedAt' ? undefined : value)) : body;
  return `W/"${sha256(state).slice(0, 32)}"`;
}

function hasErrors(body: string): boolean {
  try {
    return (JSON.parse(body) as { errors?: unknown }).errors !== undefined;
  } catch {
    return true;
  }
}

/** If-None-Match: a list of entity tags, or "*"; compared weakly, as RFC 9110 (13.1.2) says for it. */
function matches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const opaque = etag.replace(/^W\//, '');
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === opaque);
}
