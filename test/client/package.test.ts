import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** The package as a consumer gets it: built by `npm ci`, importable, with no runtime dependency but graphql-ws. */
const PACKAGE = fileURLToPath(new URL('../../packages/client/', import.meta.url));

describe('client package build', () => {
  it('declares graphql-ws as its only dependency', () => {
    const pkg = JSON.parse(readFileSync(join(PACKAGE, 'package.json'), 'utf8'));
    expect(Object.keys(pkg.dependencies)).toEqual(['graphql-ws']);
    expect(pkg.peerDependencies).toBeUndefined();
  });

  it('dist imports nothing but graphql-ws and its own files', () => {
    const files = readdirSync(join(PACKAGE, 'dist'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'));
    expect(files).toContain('index.js');
    for (const file of files) {
      const source = readFileSync(join(PACKAGE, 'dist', file), 'utf8');
      const specifiers = [...source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/g)].map((m) => m[1]);
      expect(
        specifiers.filter((s) => s !== 'graphql-ws' && !s!.startsWith('./') && !s!.startsWith('../')),
        file,
      ).toEqual([]);
    }
  });

  it('dist exports the client and its typed errors', async () => {
    const built = await import(join(PACKAGE, 'dist/index.js'));
    expect(built.createScoreboardClient).toBeTypeOf('function');
    expect(built.RateLimitedError).toBeTypeOf('function');
    expect(built.ErrorCode.PLAYER_BANNED).toBe('PLAYER_BANNED');
  });
});
