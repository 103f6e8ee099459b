import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { waitFor } from '../support/app.js';
import { describeBackends } from '../support/suite.js';

/** The examples, run as a user would (npx tsx examples/...), against the real server. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function run(script: string, args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (c: Buffer) => (out.stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out.stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { out, exited, child };
}

describeBackends(
  'examples',
  (f) => {
    it('watch-board prints the snapshot, then the board after play.ts credits an action', async () => {
      const watch = run('examples/watch-board.ts', ['--url', f.app.url, '--first', '5', '--count', '2']);
      try {
        await waitFor(() => watch.out.stdout.includes('seq '), 30_000, 'the first board');
        // The test deployment has a configured JWT_SECRET, so (by design) no dev sign-in: a token, as in production.
        const token = await f.app.token({ id: 'dev-zed', username: 'zed' });
        const play = run('examples/play.ts', ['--url', f.app.url, '--token', token, '--count', '2']);
        expect(await play.exited, play.out.stderr).toBe(0);
        expect(play.out.stdout).toMatch(/#1 {2}\+10 {2}score 10 {2}rank #1/);
        expect(play.out.stdout).toMatch(/#2 {2}\+10 {2}score 20/);
        expect(await watch.exited, watch.out.stderr).toBe(0);
        expect(watch.out.stdout).toMatch(/1\. zed +(10|20)/);
        expect(watch.out.stderr).toContain('… live');
      } finally {
        watch.child.kill();
      }
    });
  },
  { only: ['embedded'] },
);
