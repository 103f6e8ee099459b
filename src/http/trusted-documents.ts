import type { Plugin } from 'graphql-yoga';
import type { Config } from '../config.js';
import { persistedQueryNotFound, persistedQueryOnly, type AppError } from '../errors.js';
import type { Metrics } from '../metrics.js';

/**
 * Trusted documents (persisted operations): operations sent by id instead of
 * by text. One rule for HTTP (GET and POST) and WebSocket alike:
 *
 * - the id is `extensions.persistedQuery.sha256Hash` (Apollo's shape, version 1)
 *   or `documentId`, as `"sha256:<hex>"` or the bare hex;
 * - a known id runs the manifest's document (a query sent along is ignored);
 * - an unknown id is PERSISTED_QUERY_NOT_FOUND, unless free-form operations are
 *   allowed and the text came along (Apollo's fallback resend);
 * - with TRUSTED_DOCUMENTS_ONLY=true, text without a known id is PERSISTED_QUERY_ONLY.
 */
export interface TrustedDocuments {
  /** True when a manifest is loaded (the server advertises it on /graphql as `x-trusted-documents: sha256`). */
  readonly enabled: boolean;
  readonly only: boolean;
  /** The document to run for these parameters, or the error to answer. */
  resolve(params: OperationParams): { query: string; id?: string } | { error: AppError };
  document(id: string): string | undefined;
}

export interface OperationParams {
  query?: unknown;
  extensions?: unknown;
  documentId?: unknown;
}

/** The id a request names, normalised to the bare lowercase hex; undefined when it names none. */
export function requestedDocumentId(params: OperationParams): string | undefined {
  const persisted = (params.extensions as { persistedQuery?: { version?: unknown; sha256Hash?: unknown } } | undefined)?.persistedQuery;
  if (persisted && typeof persisted === 'object' && persisted.version === 1 && typeof persisted.sha256Hash === 'string') {
    return persisted.sha256Hash.toLowerCase();
  }
  if (typeof params.documentId === 'string' && params.documentId) {
    return params.documentId.replace(/^sha256:/i, '').toLowerCase();
  }
  return undefined;
}

export function createTrustedDocuments(config: Config['trustedDocuments']): TrustedDocuments {
  const documents = config?.documents ?? new Map<string, string>();
  const only = config?.only ?? false;
  return {
    enabled: config !== undefined,
    only,
    document: (id) => documents.get(id),
    resolve(params) {
      const id = requestedDocumentId(params);
      const text = typeof params.query === 'string' && params.query.trim() ? params.query : undefined;
      if (id !== undefined) {
        const document = documents.get(id);
        if (document !== undefined) return { query: document, id };
        if (text !== undefined && !only) return { query: text };
        return { error: persistedQueryNotFound() };
      }
      if (only) return { error: persistedQueryOnly() };
      // No id and no text: Yoga answers its own "must provide query string".
      return { query: text ?? (params.query as string) };
    },
  };
}

/**
 * Yoga's side: runs before the request's parameters are checked, so an id-only
 * request (no `query`) is filled in. GET's `documentId` is read from the URL
 * (Yoga's GET parser keeps only query, variables, operationName and extensions).
 */
export function useTrustedDocuments(trusted: TrustedDocuments, metrics: Metrics): Plugin {
  return {
    onParams({ params, request, setParams }) {
      let documentId = (params as { documentId?: unknown }).documentId;
      if (documentId === undefined && request.method === 'GET') {
        documentId = new URL(request.url, 'http://localhost').searchParams.get('documentId') ?? undefined;
      }
      const outcome = trusted.resolve({ query: params.query, extensions: params.extensions, documentId });
      if ('error' in outcome) {
        metrics.rejections.inc({ code: String(outcome.error.extensions.code) });
        throw outcome.error;
      }
      // Yoga refuses parameters it does not know: documentId has done its work here.
      const { documentId: _used, ...rest } = params as typeof params & { documentId?: unknown };
      if (outcome.query !== params.query || _used !== undefined) setParams({ ...rest, query: outcome.query });
    },
  };
}
