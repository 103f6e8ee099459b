import { describe, expect, it } from 'vitest';
import { isConnectionFailure } from '../src/errors.js';

/** What counts as a lost backing store (answered SERVICE_UNAVAILABLE, safe to retry) and what does not. */
describe('isConnectionFailure', () => {
  it.each([
    ['pg: a pooled client whose connection failed under it', new Error('Client has encountered a connection error and is not queryable')],
    ['pg: a pooled client closed under it', new Error('Client was closed and is not queryable')],
    ['Postgres: the backend was terminated', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })],
    ['pg: the socket ended', new Error('Connection terminated unexpectedly')],
    ['ioredis: the connection is closed', new Error('Connection is closed.')],
    ['a refused connection', new Error('connect ECONNREFUSED 127.0.0.1:5432')],
  ])('%s', (_what, error) => {
    expect(isConnectionFailure(error)).toBe(true);
  });

  it.each([
    ['a constraint violation', Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' })],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['nothing', undefined],
  ])('not %s', (_what, error) => {
    expect(isConnectionFailure(error)).toBe(false);
  });
});
