import { readFileSync } from 'node:fs';
import { buildSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { schema } from '../src/schema/index.js';

/** Fails when the committed schema.graphql differs from the schema the code builds. */
const fromCode = printSchema(lexicographicSortSchema(schema));
const committed = printSchema(lexicographicSortSchema(buildSchema(readFileSync('schema.graphql', 'utf8'))));
if (fromCode !== committed) {
  const a = fromCode.split('\n');
  const b = committed.split('\n');
  const line = a.findIndex((l, i) => l !== b[i]);
  console.error(`schema.graphql is out of date (first difference at line ${line + 1}):`);
  console.error(`  code:      ${a[line] ?? '<end>'}\n  committed: ${b[line] ?? '<end>'}`);
  console.error('Run `npm run codegen` and commit schema.graphql.');
  process.exit(1);
}
console.log('schema.graphql matches the code.');
