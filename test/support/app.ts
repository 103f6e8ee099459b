import { print, type ExecutionResult } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { signDevPlayerJwt } from '../../src/auth/player-jwt.js';
import { loadConfig, type Config } from '../../src/config.js';
import { buildApp, type App } from '../../src/server.js';
import type { Backend } from './backends.js';

/** One running instance of the real app on a free port. */
export interface Instance {
  app: App;
  config: Config;
  url: string;
  wsUrl: string;
  /** POST a typed document; returns the full GraphQL response. */
  gql<R, V>(doc: TypedDocumentNode<R, V>, variables?: V, token?: string): Promise<ExecutionResult<R>>;
  /** POST raw; for hostile/malformed inputs. */
  raw(body: string | object, init?: { token?: string; headers?: Record<string, string> }): Promise<Response>;
  /** A graphql-ws client (no retries), closed by stop(). */
  ws(token?: string, options?: Partial<Parameters<typeof createClient>[0]>): Client;
  /** A player JWT signed with this deployment's secret (roles, e.g. ['admin'], and attribute claims such as country). */
  token(player: { id: string; username?: string; roles?: string[]; attributes?: Record<string, string> }): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Builds and starts an instance. By default it also waits until the global
 * board's startup warming is over (the app serves before that, from Postgres),
 * so a suite's first reads do not race the warming's new seq; `warm: false`
 * returns as soon as it listens.
 */
export async function startInstance(
  backend: Backend,
  env: Record<string, string> = {},
  build: (config: Config) => Promise<App> = (config) => buildApp(config),
  options: { warm?: boolean } = {},
): Promise<Instance> {
  const config = loadConfig({ ...backend.env, ...env });
  const app = await build(config);
  const url = await app.start(0, '127.0.0.1');
  if (options.warm !== false) await app.warm;
  const wsUrl = `${url.replace('http', 'ws')}/graphql`;
  const clients: Client[] = [];
  const raw: Instance['raw'] = (body, init = {}) =>
    fetch(`${url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
        ...init.headers,
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  return {
    app,
    config,
    url,
    wsUrl,
    raw,
    async gql(doc, variables, token) {
      const res = await raw({ query: print(doc), variables }, { token });
      return (await res.json()) as ExecutionResult<never>;
    },
    ws(token, options = {}) {
      const client = createClient({
        url: wsUrl,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: true,
        connectionParams: token ? { authorization: `Bearer ${token}` } : undefined,
        ...options,
      });
      clients.push(client);
      return client;
    },
    token: (player) => signDevPlayerJwt(config.jwt, { id: player.id, username: player.username ?? player.id, roles: player.roles, attributes: player.attributes }),
    async stop() {
      await Promise.all(clients.map(async (c) => c.dispose()));
      await app.stop();
    },
  };
}

/** Errors' codes, for compact assertions. */
export function codes(result: ExecutionResult<unknown>): string[] {
  return (result.errors ?? []).map((e) => String(e.extensions?.code));
}

/** Throws with the server's messages when a result has errors. */
export function expectNoGraphQLErrors<R>(result: ExecutionResult<R>): R {
  if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
  return result.data as R;
}

/** Collects subscription events into an array until disposed. */
export function collect<R, V>(client: Client, doc: TypedDocumentNode<R, V>, variables?: V) {
  const events: R[] = [];
  const errors: unknown[] = [];
  let completed = false;
  const unsubscribe = client.subscribe<R>(
    { query: print(doc), variables: variables as Record<string, unknown> },
    {
      next: (r) => (r.errors ? errors.push(r.errors) : events.push(r.data as R)),
      error: (e) => errors.push(e),
      complete: () => (completed = true),
    },
  );
  return { events, errors, unsubscribe, isCompleted: () => completed };
}

export async function waitFor<T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
