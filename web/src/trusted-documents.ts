import { makeOperation, type Exchange, type Operation } from '@urql/core';
import { filter, makeSubject, map, merge, pipe, share } from 'wonka';

/**
 * Sends our typed documents by id (the sha256 codegen put in `__meta__.hash`) in
 * Apollo's persisted-query shape; queries go as GET, which needs no CSRF header
 * for a trusted document and which browsers and CDNs may cache. When the server
 * does not know the id (PERSISTED_QUERY_NOT_FOUND: no manifest, or an older one),
 * the operation is sent again with its text over POST, and that document goes as
 * text from then on. So the page works against any server, and against one with
 * TRUSTED_DOCUMENTS_ONLY=true as long as it was built with the server's manifest.
 */
export function trustedDocumentsExchange(): Exchange {
  /** Ids this server did not know: sent as text for the rest of the page's life. */
  const unknown = new Set<string>();
  return ({ forward }) =>
    (operations$) => {
      const retries = makeSubject<Operation>();
      const byId = (operation: Operation): Operation => {
        if (operation.kind !== 'query' && operation.kind !== 'mutation') return operation;
        const hash = (operation.query as { __meta__?: { hash?: string } }).__meta__?.hash;
        const id = hash?.startsWith('sha256:') ? hash.slice('sha256:'.length) : undefined;
        if (!id) return operation;
        // Text goes as POST: a free-form GET would need the CSRF header.
        if (unknown.has(id)) return makeOperation(operation.kind, operation, { ...operation.context, preferGetMethod: false });
        return makeOperation(
          operation.kind,
          { ...operation, extensions: { ...operation.extensions, persistedQuery: { version: 1, sha256Hash: id } } },
          { ...operation.context, preferGetMethod: operation.kind === 'query' ? 'within-url-limit' : false },
        );
      };
      const results$ = pipe(merge([pipe(operations$, map(byId)), retries.source]), forward, share);
      return pipe(
        results$,
        filter((result) => {
          const persisted = result.operation.extensions?.persistedQuery;
          const notFound = result.error?.graphQLErrors.some((e) => e.extensions?.code === 'PERSISTED_QUERY_NOT_FOUND');
          if (!persisted || persisted.miss || !notFound) return true;
          unknown.add(persisted.sha256Hash);
          const { operation } = result;
          retries.next(
            makeOperation(
              operation.kind,
              { ...operation, extensions: { ...operation.extensions, persistedQuery: { ...persisted, miss: true } } },
              { ...operation.context, preferGetMethod: false },
            ),
          );
          return false;
        }),
      );
    };
}
