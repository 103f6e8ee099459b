import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { SpanKind } from '@opentelemetry/api';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SubmitActionDocument } from '../sdk/generated/graphql.js';
import { loadConfig } from '../src/config.js';
import { buildApp } from '../src/server.js';
import { startInstance, waitFor, type Instance } from './support/app.js';
import { BACKENDS, createBackend, realBackendsAvailable, type Backend } from './support/backends.js';
import { issue } from './support/play.js';

/**
 * OpenTelemetry, with an in-memory exporter in place of the one OTEL_TRACES_EXPORTER
 * names: one submitAction is one trace, HTTP → GraphQL operation → SQL and Redis.
 */
const realAvailable = await realBackendsAvailable();

for (const kind of BACKENDS) {
  describe.runIf(kind === 'embedded' || realAvailable)(`tracing [${kind}]`, () => {
    const exporter = new InMemorySpanExporter();
    let backend: Backend;
    let app: Instance;

    beforeAll(async () => {
      backend = await createBackend(kind, { OTEL_TRACES_EXPORTER: 'console', OTEL_SERVICE_NAME: 'scoreboard-test' });
      app = await startInstance(backend, {}, (config) => buildApp(config, undefined, { tracing: { spanProcessors: [new SimpleSpanProcessor({ exporter })] } }));
    });
    afterAll(async () => {
      await app?.stop();
      await backend?.dispose();
    });

    it('one trace for submitAction: the HTTP request, the operation, the credit SQL and the Redis calls', async () => {
      const player = { id: `traced-${process.pid}-${Date.now()}`, username: 'traced' };
      const token = await app.token(player);
      const ticket = await issue(app, token);
      exporter.reset();

      // The caller's trace context (W3C traceparent) is honoured.
      const traceId = 'a'.repeat(30) + '01';
      const callerSpanId = 'b'.repeat(14) + '02';
      const res = await app.raw(
        { query: print(SubmitActionDocument), variables: { input: { actionId: ticket.actionId, actionType: ticket.actionType, token: ticket.token } } },
        { token, headers: { traceparent: `00-${traceId}-${callerSpanId}-01` } },
      );
      expect(((await res.json()) as { data: { submitAction: { scoreDelta: number } } }).data.submitAction.scoreDelta).toBe(10);

      // Background work (the live feed, a reconcile pass) may trace too, in traces of its own.
      const spans = await waitFor(
        () => {
          const inTrace = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
          return inTrace.some((s) => s.kind === SpanKind.SERVER) && inTrace;
        },
        10_000,
        'the HTTP span',
      );
      expect(spans[0]!.resource.attributes['service.name']).toBe('scoreboard-test');

      const http = only(spans, (s) => s.kind === SpanKind.SERVER);
      expect(http.name).toBe('POST /graphql');
      expect(http.parentSpanContext?.spanId).toBe(callerSpanId);
      expect(http.attributes['http.response.status_code']).toBe(200);

      const operation = only(spans, (s) => s.name === 'mutation SubmitAction');
      expect(operation.parentSpanContext?.spanId).toBe(http.spanContext().spanId);
      expect(operation.attributes).toMatchObject({ 'graphql.operation.type': 'mutation', 'graphql.operation.name': 'SubmitAction' });

      const under = (s: ReadableSpan) => descendsFrom(spans, s, operation);
      const sql = spans.filter((s) => s.attributes['db.system.name'] === 'postgresql' && under(s));
      const credit = only(sql, (s) => String(s.attributes['db.query.text']).includes('INSERT INTO action_credits'));
      // The credit is one statement: data-modifying CTEs (the score, every board entry, the audit row) under a final SELECT.
      expect(credit.name).toBe('SELECT postgresql');
      expect(String(credit.attributes['db.query.text'])).toContain('INSERT INTO board_entries');
      expect(credit.kind).toBe(SpanKind.CLIENT);
      // Placeholders only: no parameter value (player id, action id) in a span.
      expect(String(credit.attributes['db.query.text'])).not.toContain(player.id);
      expect(String(credit.attributes['db.query.text'])).not.toContain(ticket.actionId);

      const redis = spans.filter((s) => s.attributes['db.system.name'] === 'redis');
      if (kind === 'real') {
        expect(redis.length).toBeGreaterThan(0);
        for (const span of redis) expect(under(span), span.name).toBe(true);
      } else {
        expect(redis).toEqual([]); // the embedded backend has no Redis
      }
    });
  });
}

describe('tracing off (the default)', () => {
  it('is on only when OTEL_TRACES_EXPORTER names an exporter', () => {
    const base = { JWT_SECRET: 'j'.repeat(32), ACTION_TOKEN_SECRET: 'a'.repeat(32) };
    const on = (env: Record<string, string>) => loadConfig({ ...base, ...env }).tracing;
    expect(on({})).toEqual({ enabled: false, serviceName: 'scoreboard' });
    expect(on({ OTEL_TRACES_EXPORTER: 'none' }).enabled).toBe(false);
    expect(on({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'true' }).enabled).toBe(false);
    expect(on({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SERVICE_NAME: 'scores-eu' })).toEqual({ enabled: true, serviceName: 'scores-eu' });
    expect(on({ OTEL_TRACES_EXPORTER: 'console,otlp' }).enabled).toBe(true);
  });

  it('loads nothing and wraps nothing', async () => {
    const backend = await createBackend('embedded');
    const app = await startInstance(backend);
    try {
      expect(app.config.tracing.enabled).toBe(false);
      expect(app.app.services.tracing).toBeUndefined();
      expect(app.app.services.prisma).toBe(app.app.services.db.prisma);
    } finally {
      await app.stop();
      await backend.dispose();
    }
  });
});

function only(spans: ReadableSpan[], match: (s: ReadableSpan) => boolean): ReadableSpan {
  const found = spans.filter(match);
  expect(found.map((s) => s.name)).toHaveLength(1);
  return found[0]!;
}

/** Whether `span` is below `ancestor` in this trace (parents followed by id, at most the trace's size). */
function descendsFrom(spans: ReadableSpan[], span: ReadableSpan, ancestor: ReadableSpan): boolean {
  const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
  let parentId = span.parentSpanContext?.spanId;
  for (let i = 0; i < spans.length && parentId; i++) {
    if (parentId === ancestor.spanContext().spanId) return true;
    parentId = byId.get(parentId)?.parentSpanContext?.spanId;
  }
  return false;
}
