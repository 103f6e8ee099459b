import type { CodegenConfig } from '@graphql-codegen/cli';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { schema } from './src/schema/index.js';

/**
 * 1. schema.graphql: the schema printed (sorted) from the code, committed;
 *    `npm run schema:check` fails when it drifts.
 * 2. sdk/generated: typed documents for sdk/operations.graphql (client preset),
 *    used by the web page, the examples, the tests and the benchmarks, and
 *    persisted-documents.json, their trusted-documents manifest (hash -> document).
 * 3. packages/client/src/generated: typed document *strings* for the client
 *    package's own operations, so the package needs no graphql runtime.
 */
const sdl = printSchema(lexicographicSortSchema(schema));

const config: CodegenConfig = {
  schema: sdl,
  ignoreNoDocuments: false,
  generates: {
    'schema.graphql': { plugins: ['schema-ast'], config: { includeDirectives: false, sort: true } },
    'sdk/generated/': {
      documents: ['sdk/operations.graphql'],
      preset: 'client',
      // Every typed document carries `__meta__.hash` (sha256 of the document as
      // printed in the manifest), and sdk/generated/persisted-documents.json is
      // the trusted-documents manifest for TRUSTED_DOCUMENTS.
      presetConfig: { fragmentMasking: false, persistedDocuments: { hashAlgorithm: 'sha256' } },
      config: {
        emitLegacyCommonJSImports: false,
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: 'string', SafeInt: 'number' },
      },
    },
    'packages/client/src/generated/': {
      documents: ['packages/client/src/operations.graphql'],
      preset: 'client',
      // Also hashed, with packages/client/src/generated/persisted-documents.json as the
      // package's manifest (shipped in dist): its operations can be sent by id.
      presetConfig: { fragmentMasking: false, gqlTagName: 'graphql', persistedDocuments: { hashAlgorithm: 'sha256' } },
      config: {
        documentMode: 'string',
        emitLegacyCommonJSImports: false,
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: 'string', SafeInt: 'number' },
      },
    },
  },
};

export default config;
