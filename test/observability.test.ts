import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MeDocument } from '../sdk/generated/graphql.js';
import { createLogger } from '../src/logger.js';
import { buildApp } from '../src/server.js';
import { codes, startInstance, type Instance } from './support/app.js';
import { createBackend, type Backend } from './support/backends.js';
import { completeTask } from './support/play.js';

/** /metrics and the logs: what an operator sees. */
describe('observability', () => {
  let backend: Backend;
  let instance: Instance;
  const lines: string[] = [];

  beforeAll(async () => {
    backend = await createBackend('embedded');
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    // The app's own logger, writing into our sink.
    const logger = createLogger('debug', sink);
    instance = await startInstance(backend, {}, (config) => buildApp(config, logger));
  });
  afterAll(async () => {
    await instance?.stop();
    await backend?.dispose();
  });

  it('exposes the product metrics in Prometheus format', async () => {
    const token = await instance.token({ id: 'metrics-user' });
    await completeTask(instance, token);
    expect(codes(await instance.gql(MeDocument, {}))).toEqual(['UNAUTHENTICATED']);
    const text = await (await fetch(`${instance.url}/metrics`)).text();
    expect(text).toMatch(/scoreboard_actions_credited_total\{action_type="COMPLETE_TASK"\} 1/);
    expect(text).toMatch(/scoreboard_rejections_total\{code="UNAUTHENTICATED"\} 1/);
    for (const name of [
      'scoreboard_action_replays_total',
      'scoreboard_rate_limit_hits_total',
      'scoreboard_subscribers',
      'scoreboard_events_pushed_total',
      'scoreboard_fanout_seconds_bucket',
      'scoreboard_cache_rebuilds_total',
      'process_cpu_seconds_total',
    ]) {
      expect(text).toContain(name);
    }
  });

  it('tags log lines with the request id, answers with it, and never logs secrets', async () => {
    const token = await instance.token({ id: 'log-user' });
    const prisma = instance.app.services.prisma;
    const spy = vi.spyOn(prisma.player, 'findUnique').mockRejectedValueOnce(new Error('boom for the log'));
    const res = await fetch(`${instance.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-request-id': 'req-12345' },
      body: JSON.stringify({ query: '{ player(id: "x") { id } }' }),
    });
    spy.mockRestore();
    expect(res.headers.get('x-request-id')).toBe('req-12345');
    expect((await fetch(`${instance.url}/healthz`)).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const logged = lines.map((l) => JSON.parse(l));
    expect(logged.find((l) => l.msg === 'unexpected error')).toMatchObject({ requestId: 'req-12345' });
    const all = lines.join('');
    expect(all).not.toContain(token);
    expect(all).not.toContain(Buffer.from(instance.config.jwt.secret!).toString());
    expect(all).not.toContain(Buffer.from(instance.config.actionToken.secret).toString());
  });
});
