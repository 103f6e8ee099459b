import { afterAll, beforeAll, describe } from 'vitest';
import { BACKENDS, createBackend, realBackendsAvailable, type Backend, type BackendKind } from './backends.js';
import { startInstance, type Instance } from './app.js';

// Decided once per test file: real backends are mandatory in CI (REQUIRE_REAL_BACKENDS=1 throws here).
const realAvailable = await realBackendsAvailable();

/**
 * Runs the same suite against each backend. `instances` app instances share the
 * backend (same database and Redis), for cross-instance cases.
 */
export function describeBackends(
  title: string,
  body: (fixture: Fixture) => void,
  options: { instances?: number; env?: Record<string, string>; only?: BackendKind[] } = {},
) {
  for (const kind of options.only ?? BACKENDS) {
    const instances = kind === 'embedded' ? 1 : (options.instances ?? 1);
    describe.runIf(kind === 'embedded' || realAvailable)(`${title} [${kind}]`, () => {
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
