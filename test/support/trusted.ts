import { fileURLToPath } from 'node:url';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';

/** The trusted-documents manifest codegen writes for sdk/operations.graphql. */
export const MANIFEST = fileURLToPath(new URL('../../sdk/generated/persisted-documents.json', import.meta.url));
/** The id codegen put on a typed document: "sha256:<hex>". */
export const idOf = (doc: TypedDocumentNode<any, any>) => (doc as unknown as { __meta__: { hash: string } }).__meta__.hash;
/** The bare hex of that id. */
export const hexOf = (doc: TypedDocumentNode<any, any>) => idOf(doc).replace('sha256:', '');
