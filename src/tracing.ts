import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import { getOperationAST, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { Redis } from 'ioredis';
import type { RedisClient } from './db/redis.js';
import type { Config } from './config.js';
import type { PrismaClient } from './db/database.js';
import type { SqlRunner } from './db/sql-runner.js';

/**
 * OpenTelemetry tracing, off unless OTEL_TRACES_EXPORTER is set (config.tracing).
 *
 * When off, nothing here is loaded or wrapped: no SDK, no extra function call
 * on the hot path. When on, the OTel Node SDK is configured by the standard
 * OTEL_* variables (exporter, OTEL_EXPORTER_OTLP_ENDPOINT / _PROTOCOL,
 * OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER, OTEL_PROPAGATORS, ...) and we add
 * the spans of the path that matters:
 *   HTTP request (server, W3C trace context from the caller)
 *     └ GraphQL operation ("mutation SubmitAction")
 *         ├ each SQL statement (Prisma or the plain runner, Postgres or PGlite alike)
 *         └ each Redis command
 * Spans are made by hand rather than by the pg/ioredis auto-instrumentations:
 * those patch modules as they are required, which misses ESM imports and
 * would never see PGlite.
 */

export interface Tracing {
  tracer: Tracer;
  /** Runs one HTTP request inside a server span (ended when the response finishes). */
  http(req: IncomingMessage, res: ServerResponse, handle: () => Promise<unknown>): Promise<unknown>;
  /** The Yoga/envelop plugin that makes one span per GraphQL operation. */
  graphqlPlugin(): Plugin;
  /** The Prisma client, with a span per query. */
  traceDatabase(prisma: PrismaClient, system: string): PrismaClient;
  /** The plain SQL runner (the write path), with a span per statement. */
  traceSql(sql: SqlRunner, system: string): SqlRunner;
  /** Adds a span per command to this Redis client (not the subscriber: its commands never end). */
  traceRedis(redis: RedisClient): void;
  /** Exports what is buffered, then stops. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** Replaces the exporter chosen by OTEL_TRACES_EXPORTER (tests use an in-memory one). */
  spanProcessors?: SpanProcessor[];
}

export async function startTracing(config: Config['tracing'], options: TracingOptions = {}): Promise<Tracing> {
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const sdk = new NodeSDK({
    serviceName: config.serviceName,
    spanProcessors: options.spanProcessors,
    // Traces only: metrics are on /metrics (Prometheus), logs on stdout.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  const tracer = trace.getTracer('scoreboard');

  return {
    tracer,
    http: (req, res, handle) => traceHttp(tracer, req, res, handle),
    graphqlPlugin: () => graphqlPlugin(tracer),
    traceDatabase: (prisma, system) => traceDatabase(tracer, prisma, system),
    traceSql: (sql, system) => traceSql(tracer, sql, system),
    traceRedis: (redis) => traceRedis(tracer, redis),
    async shutdown() {
      await sdk.shutdown();
      // Unregister the globals, so a later app in the same process (tests) can start its own.
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

function traceHttp(tracer: Tracer, req: IncomingMessage, res: ServerResponse, handle: () => Promise<unknown>): Promise<unknown> {
  const parent = propagation.extract(context.active(), req.headers);
  const path = (req.url ?? '/').split('?')[0]!;
  const span = tracer.startSpan(
    `${req.method} ${path}`,
    { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method ?? 'GET', 'url.path': path, 'http.route': path } },
    parent,
  );
  res.once('close', () => {
    span.setAttribute('http.response.status_code', res.statusCode);
    if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
  return context.with(trace.setSpan(parent, span), handle);
}

function operationAttributes(document: DocumentNode, operationName?: string | null) {
  const operation = getOperationAST(document, operationName);
  const type = operation?.operation ?? 'query';
  const name = operation?.name?.value ?? operationName ?? undefined;
  const attributes: Attributes = { 'graphql.operation.type': type };
  if (name) attributes['graphql.operation.name'] = name;
  return { spanName: name ? `${type} ${name}` : type, attributes };
}

/** Ends `span` with the outcome of a GraphQL result: error codes become span attributes. */
function endWithResult(span: Span, result: unknown) {
  const errors = (result as { errors?: readonly { extensions?: Record<string, unknown> }[] } | undefined)?.errors;
  if (errors?.length) {
    span.setStatus({ code: SpanStatusCode.ERROR });
    span.setAttribute('graphql.error.codes', [...new Set(errors.map((e) => (typeof e.extensions?.code === 'string' ? e.extensions.code : 'GRAPHQL_ERROR')))]);
  }
  span.end();
}

function graphqlPlugin(tracer: Tracer): Plugin {
  /** `run` inside a span named after the operation; the span ends with the result (or the error). */
  const traced = <A, R>(document: DocumentNode, operationName: string | null | undefined, run: (args: A) => Promise<R> | R) => {
    const { spanName, attributes } = operationAttributes(document, operationName);
    return (args: A) =>
      tracer.startActiveSpan(spanName, { attributes }, async (span) => {
        try {
          const result = await run(args);
          endWithResult(span, result);
          return result;
        } catch (error) {
          span.recordException(error as Error);
          span.setStatus({ code: SpanStatusCode.ERROR });
          span.end();
          throw error;
        }
      });
  };
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      setExecuteFn(traced(args.document, args.operationName, executeFn) as typeof executeFn);
    },
    // A subscription's span covers setting it up (auth, snapshot source), not its lifetime.
    onSubscribe({ args, subscribeFn, setSubscribeFn }) {
      setSubscribeFn(traced(args.document, args.operationName, subscribeFn) as typeof subscribeFn);
    },
  };
}

/** The statement's kind: its first keyword, or for a CTE the main statement's (`WITH ... INSERT` is an INSERT). */
function sqlOperation(sql: string): string {
  let flat = sql;
  // Parenthesised parts (the CTE bodies, subqueries) out, innermost first; bounded by the text's length.
  for (let i = 0; i < sql.length && /\([^()]*\)/.test(flat); i++) flat = flat.replace(/\([^()]*\)/g, ' ');
  const words = (flat.match(/\b(SELECT|INSERT|UPDATE|DELETE|WITH)\b/gi) ?? []).map((w) => w.toUpperCase());
  return (words[0] === 'WITH' ? words.find((w) => w !== 'WITH') : words[0]) ?? 'SQL';
}

/** The literal parts of a raw query, however Prisma hands it over (tagged template, Sql object, unsafe string). */
function rawSqlStrings(args: unknown): readonly string[] | undefined {
  if (Array.isArray(args)) {
    const [first] = args as unknown[];
    if (Array.isArray(first)) return first as readonly string[];
    if (typeof first === 'string') return [first];
    return rawSqlStrings(first);
  }
  const strings = (args as { strings?: unknown } | undefined)?.strings;
  return Array.isArray(strings) ? (strings as readonly string[]) : undefined;
}

function traceDatabase(tracer: Tracer, prisma: PrismaClient, system: string): PrismaClient {
  const traced = prisma.$extends({
    name: 'tracing',
    query: {
      async $allOperations({ model, operation, args, query }) {
        const attributes: Attributes = { 'db.system.name': system, 'db.operation.name': operation };
        let name = model ? `${operation} ${model}` : operation;
        if (!model && (operation === '$queryRaw' || operation === '$executeRaw')) {
          // The statement with its placeholders ($1, $2...): parameter values never reach a span.
          const strings = rawSqlStrings(args);
          if (strings) {
            const text = strings
              .reduce((all, part, i) => (i === 0 ? part : `${all}$${i}${part}`), '')
              .replace(/\s+/g, ' ')
              .trim();
            const op = sqlOperation(text);
            attributes['db.query.text'] = text;
            attributes['db.operation.name'] = op;
            name = `${op} ${system}`;
          }
        }
        if (model) attributes['db.collection.name'] = model;
        return clientSpan(tracer, name, attributes, () => query(args));
      },
    },
  });
  return traced as unknown as PrismaClient;
}

function traceSql(tracer: Tracer, sql: SqlRunner, system: string): SqlRunner {
  return {
    query<Row extends object>(text: string, params?: Parameters<SqlRunner['query']>[1]) {
      // The statement with its placeholders: parameter values never reach a span.
      const flat = text.replace(/\s+/g, ' ').trim();
      const op = sqlOperation(flat);
      const attributes: Attributes = { 'db.system.name': system, 'db.operation.name': op, 'db.query.text': flat };
      return clientSpan(tracer, `${op} ${system}`, attributes, () => sql.query<Row>(text, params));
    },
  };
}

/** One database call as a CLIENT span: its error recorded on the span, then rethrown. */
function clientSpan<T>(tracer: Tracer, name: string, attributes: Attributes, call: () => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { kind: SpanKind.CLIENT, attributes }, async (span) => {
    try {
      return await call();
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}

function traceRedis(tracer: Tracer, client: RedisClient) {
  // A cluster client routes each command to a master; its spans name no single server.
  const [host, port] = client instanceof Redis ? [client.options.host ?? '', client.options.port ?? 6379] : ['redis-cluster', 0];
  const redis = client as Redis;
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = (command: Parameters<Redis['sendCommand']>[0], stream?: Parameters<Redis['sendCommand']>[1]) => {
    const name = command.name.toUpperCase();
    const span = tracer.startSpan(name, {
      kind: SpanKind.CLIENT,
      attributes: { 'db.system.name': 'redis', 'db.operation.name': name, 'server.address': host, 'server.port': port },
    });
    const result = send(command, stream);
    command.promise.then(
      () => span.end(),
      (error: Error) => {
        span.recordException(error);
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      },
    );
    return result;
  };
}
