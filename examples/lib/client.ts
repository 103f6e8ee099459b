import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type GraphQLFormattedError } from 'graphql';

/**
 * The smallest typed GraphQL-over-HTTP client: a typed document from
 * sdk/generated in, its typed result out. Any client that accepts a
 * TypedDocumentNode (urql, Apollo, graphql-request) works the same way.
 */
export class GraphQLRequestError extends Error {
  constructor(readonly errors: readonly GraphQLFormattedError[]) {
    super(errors.map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('; '));
    this.name = 'GraphQLRequestError';
  }
  get code(): string | undefined {
    return this.errors[0]?.extensions?.code as string | undefined;
  }
  get retryAfter(): number | undefined {
    const value = this.errors[0]?.extensions?.retryAfter;
    return typeof value === 'number' ? value : undefined;
  }
}

export async function request<R, V>(
  baseUrl: string,
  document: TypedDocumentNode<R, V>,
  variables: V,
  token?: string,
): Promise<R> {
  const response = await fetch(new URL('/graphql', baseUrl), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = (await response.json().catch(() => null)) as { data?: R | null; errors?: GraphQLFormattedError[] } | null;
  if (!body) throw new Error(`HTTP ${response.status} without a GraphQL body`);
  if (body.errors?.length) throw new GraphQLRequestError(body.errors);
  return body.data as R;
}

/** Outside production: a player JWT for `username` from the server's dev sign-in. */
export async function devSignIn(baseUrl: string, username: string): Promise<string> {
  const response = await fetch(new URL('/auth/dev-sign-in', baseUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username }),
  });
  if (response.status === 404) throw new Error('This server has no dev sign-in (production?): pass --token <jwt>.');
  const body = (await response.json().catch(() => ({}))) as { token?: string; error?: string };
  if (!response.ok || !body.token) throw new Error(`dev sign-in failed: ${body.error ?? `HTTP ${response.status}`}`);
  return body.token;
}

/** ws(s)://host/graphql for an http(s) base URL. */
export function graphqlWsUrl(baseUrl: string): string {
  const url = new URL('/graphql', baseUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}
