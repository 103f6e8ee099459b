import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { buildSchema, Kind, parse, type OperationDefinitionNode, type FieldNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaderboardChangedDocument } from '../../sdk/generated/graphql.js';
import { sharedSelection } from '../../src/resolvers/live/shared-results.js';
import { buildApp } from '../../src/server.js';
import { collect, startInstance, waitFor, type Instance } from '../support/app.js';
import { createBackend, type Backend } from '../support/backends.js';
import { completeTask } from '../support/play.js';

/**
 * The shared fan-out executes one leaderboardChanged result for every
 * subscriber. It must run the same envelop plugins as any execution (here:
 * tracing), with nobody's context, and only for selections that read nothing
 * from the viewer.
 */
describe('shared live execution [embedded, tracing on]', () => {
  const exporter = new InMemorySpanExporter();
  let backend: Backend;
  let app: Instance;

  beforeAll(async () => {
    backend = await createBackend('embedded', { OTEL_TRACES_EXPORTER: 'console', OTEL_SERVICE_NAME: 'scoreboard-test' });
    app = await startInstance(backend, {}, (config) => buildApp(config, undefined, { tracing: { spanProcessors: [new SimpleSpanProcessor({ exporter })] } }));
  });
  afterAll(async () => {
    await app?.stop();
    await backend?.dispose();
  });

  it("each shared execution runs envelop's plugins: one traced execution per board, whatever the number of subscribers", async () => {
    const token = await app.token({ id: `shared-${process.pid}`, username: 'shared' });
    await completeTask(app, token);
    const spans = () => exporter.getFinishedSpans().filter((s) => s.name === 'subscription LeaderboardChanged');
    const subs = [0, 1, 2].map(() => collect(app.ws(), LeaderboardChangedDocument, { first: 5 }));
    await waitFor(() => subs.every((s) => s.events.length >= 1), 20_000, 'snapshots');
    const executions = () => app.app.services.metrics.sharedExecutions.get().then((m) => m.values[0]?.value ?? 0);
    const before = { spans: spans().length, executions: await executions() };
    await completeTask(app, token);
    await waitFor(() => subs.every((s) => s.events.length >= 2), 20_000, 'the change');
    const executed = (await executions()) - before.executions;
    expect(executed).toBeGreaterThanOrEqual(1);
    await waitFor(() => spans().length - before.spans >= executed, 10_000, 'a span per shared execution');
    expect(spans().length - before.spans).toBe(executed);
    subs.forEach((s) => s.unsubscribe());
  });
});

describe('which selections the fan-out may share', () => {
  const schema = buildSchema(`
    type Query { x: Int }
    type Subscription { leaderboardChanged: Leaderboard! }
    type Leaderboard { seq: Int! entries: [LeaderboardEntry!]! }
    type LeaderboardEntry { rank: Int! score: Int! player: Player! }
    type Player { id: ID! username: String! isMyFriend: Boolean! }
  `);
  const shared = (query: string) => {
    const document = parse(query);
    const op = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION) as OperationDefinitionNode;
    return sharedSelection({ schema, document }, 'Leaderboard', (op.selectionSet.selections[0] as FieldNode).selectionSet!);
  };

  it('viewer-independent fields only, through fragments too; anything unknown takes the per-subscriber path', () => {
    expect(shared('subscription { leaderboardChanged { seq entries { rank score player { id username __typename } } } }')).toBe(true);
    expect(shared('subscription { leaderboardChanged { ...B } } fragment B on Leaderboard { entries { ... on LeaderboardEntry { player { id } } } }')).toBe(true);
    expect(shared('subscription { leaderboardChanged { entries { player { id isMyFriend } } } }')).toBe(false);
    expect(shared('subscription { leaderboardChanged { ...B } } fragment B on Leaderboard { entries { player { isMyFriend } } }')).toBe(false);
  });
});
