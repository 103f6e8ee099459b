import { afterAll, beforeAll, describe } from 'vitest';
import { BACKENDS, clusterBackendAvailable, createBackend, realBackendsAvailable, type Backend, type BackendKind } from './backends.js';
import { startInstance, type Instance } from './app.js';

// Decided once per test file: real backends are mandatory in CI (REQUIRE_REAL_BACKENDS=1 throws here).
const realAvailable = await realBackendsAvailable();
let clusterAvailable: boolean | undefined;

/**
 * Runs the same suite against each backend. `instances` app instances share the
 * backend (same database and Redis), for cross-instance cases. `cluster: true`
 * also runs it on a Redis Cluster with a Postgres read replica (scale-out suites:
 * each such block starts and stops its own engines, a few seconds each).
 */
export function describeBackends(
  title: string,
  body: (fixture: Fixture) => void,
  options: { instances?: number; env?: Record<string, string>; only?: BackendKind[]; cluster?: boolean } = {},
) {
  const kinds = options.only ?? [...BACKENDS, ...(options.cluster ? (['cluster'] as const) : [])];
  for (const kind of kinds) {
    const instances = kind === 'embedded' ? 1 : (options.instances ?? 1);
    const runs = kind === 'embedded' || (kind === 'cluster' ? (clusterAvailable ??= clusterBackendAvailable()) : realAvailable);
    describe.runIf(runs)(`${title} [${kind}]`, () => {
      const fixture = new Fixture(kind);
      beforeAll(async () => {
        fixture.backend = await createBackend(kind, options.env);
        for (let i = 0; i < instances; i++) fixture.instances.push(await startInstance(fixture.backend));
      });
      afterAll(async () => {
        await Promise.allSettled(fixture.instances.map((i) => i.stop()));
        await fixture.backend?.dispose();
      });
      body(fixture);
    });
  }
}

export class Fixture {
  backend!: Backend;
  instances: Instance[] = [];
  private counter = 0;
  constructor(readonly kind: BackendKind) {}
  /** The first instance. */
  get app(): Instance {
    return this.instances[0]!;
  }
  /** Instance i modulo the number running (so single-instance backends reuse the one). */
  at(i: number): Instance {
    return this.instances[i % this.instances.length]!;
  }
  /** A fresh player id unique within the file. */
  playerId(name = 'p'): string {
    return `${name}-${process.pid}-${++this.counter}-${Math.random().toString(36).slice(2, 8)}`;
  }
  /** A new player with a JWT (optionally with attribute claims, e.g. { country: 'DE' }). */
  async player(name = 'player', attributes?: Record<string, string>) {
    const id = this.playerId(name);
    return { id, username: name, token: await this.app.token({ id, username: name, attributes }) };
  }
  /** An operator's JWT ("admin" in the roles claim). */
  async operator(name = 'op') {
    const id = this.playerId(name);
    return { id, username: name, token: await this.app.token({ id, username: name, roles: ['admin'] }) };
  }
}
