import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import { describe, expect, it } from 'vitest';
import { readRepoFile } from './lib.js';

/**
 * Static lint of the Dockerfile (no Docker engine here): the syntax checks of
 * the VS Code Docker language service (dockerfile-utils), then the properties
 * the image must have.
 */

const text = readRepoFile('Dockerfile');
const dockerfile = DockerfileParser.parse(text);
const instructions = dockerfile.getInstructions();
const froms = dockerfile.getFROMs();
const lineOf = (i: Instruction) => i.getRange().start.line;

/** Instructions of each stage, in order (a stage starts at its FROM). */
const stages = froms.map((from, index) => {
  const start = lineOf(from);
  const end = index + 1 < froms.length ? lineOf(froms[index + 1]!) : Infinity;
  return {
    name: from.getBuildStage(),
    from,
    instructions: instructions.filter((i) => lineOf(i) > start && lineOf(i) < end),
  };
});
const finalStage = stages.at(-1)!;
const inFinal = (keyword: string) => finalStage.instructions.filter((i) => i.getKeyword() === keyword);
const flag = (i: Instruction, name: string) =>
  'getFlags' in i
    ? (i as unknown as { getFlags(): { getName(): string; getValue(): string | null }[] })
        .getFlags()
        .find((f) => f.getName() === name)
        ?.getValue()
    : undefined;
const jsonArgs = (i: Instruction) =>
  'getJSONStrings' in i ? (i as unknown as { getJSONStrings(): { getJSONValue(): string }[] }).getJSONStrings().map((s) => s.getJSONValue()) : [];

describe('Dockerfile', () => {
  it('passes the Dockerfile language service validation without errors or warnings', () => {
    const problems = validate(text).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
    expect(problems).toEqual([]);
  });

  it('the linter is not a rubber stamp: it flags a broken Dockerfile', () => {
    expect(validate('FROM node:24-bookworm-slim\nHEALTHCHECK --interval=soon CMD true\nWORKDIR app\n').length).toBeGreaterThan(0);
  });

  it('is multi-stage with named stages', () => {
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.name, `FROM at line ${lineOf(stage.from) + 1}`).toMatch(/^[a-z][a-z0-9_-]*$/);
    expect(new Set(stages.map((s) => s.name)).size).toBe(stages.length);
  });

  it('builds on a current Node LTS slim image with an explicit tag (never latest)', () => {
    for (const from of froms) {
      const image = from.getImageName();
      if (stages.some((s) => s.name === image)) continue; // FROM an earlier stage
      expect(image).toBe('node');
      const tag = from.getImageTag() ?? '';
      expect(tag).not.toBe('');
      expect(tag).not.toMatch(/latest/);
      expect(tag).toMatch(/^(22|24)(\.\d+){0,2}-(bookworm-slim|slim|trixie-slim)$/);
    }
  });

  it('copies between stages only from stages defined earlier', () => {
    stages.forEach((stage, index) => {
      for (const copy of stage.instructions.filter((i) => i.getKeyword() === 'COPY')) {
        const from = flag(copy, 'from');
        if (from !== undefined) expect(stages.slice(0, index).map((s) => s.name)).toContain(from);
      }
    });
  });

  it('build stage installs from the lockfile with npm ci and runs the prepare script', () => {
    const runs = stages.slice(0, -1).flatMap((s) => s.instructions.filter((i) => i.getKeyword() === 'RUN'));
    const commands = runs.map((r) => r.getArgumentsContent() ?? '').join('\n');
    expect(commands).toMatch(/\bnpm ci\b/);
    expect(commands).toMatch(/\bnpm run prepare\b/);
    expect(commands).toMatch(/\bnpm prune --omit=dev\b/);
  });

  it('final stage: NODE_ENV=production, port 4000, no package installs', () => {
    const env = inFinal('ENV')
      .map((i) => i.getArgumentsContent() ?? '')
      .join(' ');
    expect(env).toMatch(/\bNODE_ENV=production\b/);
    expect(inFinal('EXPOSE').map((i) => i.getArgumentsContent())).toContain('4000');
    // Everything is prepared in the build stage; the runtime never reaches the network.
    const runs = inFinal('RUN')
      .map((i) => i.getArgumentsContent() ?? '')
      .join('\n');
    expect(runs).not.toMatch(/\b(npm|apt-get|apk|curl|wget)\b/);
  });

  it('final stage runs as a non-root user', () => {
    const users = inFinal('USER');
    expect(users.length).toBeGreaterThan(0);
    const user = (users.at(-1)!.getArgumentsContent() ?? '').split(':')[0]!.trim();
    expect(['root', '0', '']).not.toContain(user);
    // No instruction after USER switches back to root.
    expect(lineOf(users.at(-1)!)).toBeGreaterThan(Math.max(...inFinal('RUN').map(lineOf), -1));
  });

  it('final stage has a HEALTHCHECK on /healthz that needs no curl', () => {
    const checks = inFinal('HEALTHCHECK');
    expect(checks).toHaveLength(1);
    const args = checks[0]!.getArgumentsContent() ?? '';
    expect(args).not.toMatch(/^NONE\b/);
    expect(args).toMatch(/\/healthz/);
    expect(args).toMatch(/\bCMD \["node", "-e"/);
  });

  it('stops with SIGTERM and starts node in exec form, so PID 1 is node and gets the signal', () => {
    expect(inFinal('STOPSIGNAL').map((i) => i.getArgumentsContent())).toEqual(['SIGTERM']);
    expect(inFinal('ENTRYPOINT')).toEqual([]);
    const cmds = inFinal('CMD');
    expect(cmds).toHaveLength(1);
    const argv = jsonArgs(cmds[0]!);
    expect(argv.length, 'CMD must be a JSON array (exec form)').toBeGreaterThan(0);
    expect(JSON.parse(cmds[0]!.getArgumentsContent() ?? '')).toEqual(argv);
    expect(argv[0]).toBe('node');
    // Not through npm or a shell, which would sit between SIGTERM and node.
    expect(argv.join(' ')).not.toMatch(/\b(npm|npx|sh|bash)\b/);
    expect(argv.at(-1)).toBe('src/main.ts');
  });

  it('final stage takes the application from the build stage, not from the build context', () => {
    const copies = inFinal('COPY');
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) expect(flag(copy, 'from'), copy.getArgumentsContent() ?? '').toBe(stages.at(-2)!.name);
    expect(inFinal('ADD')).toEqual([]);
  });
});

describe('.dockerignore', () => {
  const patterns = readRepoFile('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it.each(['**/node_modules', '.data', '.git', 'test-results', '.env', 'src/generated', 'web/dist'])('excludes %s', (p) => {
    expect(patterns).toContain(p);
  });

  it('keeps what the build needs', () => {
    // `npm ci` + `npm run prepare` read these; an exclusion here would break the build.
    for (const needed of ['package.json', 'package-lock.json', 'src', 'prisma', 'scripts', 'codegen.ts', 'sdk', 'packages', 'web', 'tsconfig.json']) {
      expect(patterns, needed).not.toContain(needed);
    }
  });
});
