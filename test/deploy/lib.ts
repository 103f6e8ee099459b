import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';

/** Helpers for the static deployment checks (no Docker engine needed). */

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const readRepoFile = (path: string) => readFileSync(`${ROOT}${path}`, 'utf8');

// ---------------------------------------------------------------- compose

export interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  environment?: Record<string, string | number | boolean | null> | string[];
  depends_on?: string[] | Record<string, { condition: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean; interval?: string; start_period?: string };
  ports?: (string | number | { target: number; published?: string | number })[];
  volumes?: (string | { type: string; source?: string; target: string })[];
  command?: string | string[];
  [key: string]: unknown;
}
export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Parses YAML the way Compose does (YAML merge keys `<<` enabled); throws on any YAML error or warning. */
export function parseComposeYaml(text: string): ComposeFile {
  const doc = parseDocument(text, { merge: true, uniqueKeys: true, prettyErrors: true });
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length) throw new Error(problems.map((p) => p.message).join('\n'));
  return doc.toJS({ maxAliasCount: 100 }) as ComposeFile;
}

/** `environment:` as a map, whichever of the two Compose forms was used. */
export function environmentOf(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((line) => [line.split('=')[0]!, line.slice(line.indexOf('=') + 1)]));
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v == null ? '' : String(v)]));
}

export const INTERPOLATION = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g;

/** Every variable a Compose text interpolates, with how (`:?` required, `:-` defaulted, '' plain). */
export function interpolatedVariables(text: string): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  for (const m of text.replace(/\$\$/g, '').matchAll(INTERPOLATION)) {
    const set = found.get(m[1]!) ?? new Set<string>();
    set.add(m[2] ?? '');
    found.set(m[1]!, set);
  }
  return found;
}

/**
 * Compose-style interpolation: ${VAR}, ${VAR:-default}, ${VAR-default},
 * ${VAR:?error}, ${VAR?error}, `$$` escapes. Throws like `docker compose`
 * does when a required variable is missing.
 */
export function interpolate(text: string, env: Record<string, string | undefined>): string {
  return text
    .split('$$')
    .map((part) =>
      part.replace(INTERPOLATION, (_all, name: string, op: string | undefined, arg: string | undefined) => {
        const value = env[name];
        const unsetOrEmpty = value === undefined || (op?.startsWith(':') && value === '');
        if (op === ':-' || op === '-') return unsetOrEmpty ? (arg ?? '') : value;
        if (op === ':?' || op === '?') {
          if (unsetOrEmpty) throw new Error(`required variable ${name} is missing a value: ${arg}`);
          return value;
        }
        return value ?? '';
      }),
    )
    .join('$');
}

/** Reads a dotenv file (KEY=VALUE lines, # comments). */
export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq < 1) throw new Error(`not a KEY=VALUE line: ${raw}`);
    out[line.slice(0, eq).trim()] = line
      .slice(eq + 1)
      .trim()
      .replace(/^(['"])(.*)\1$/, '$2');
  }
  return out;
}

// ---------------------------------------------------------------- nginx

export interface NginxDirective {
  name: string;
  args: string[];
  block?: NginxDirective[];
}

/** A small parser for nginx configuration: directives, arguments, blocks, quotes, comments. */
export function parseNginx(text: string): NginxDirective[] {
  const tokens: string[] = [];
  const re = /\s+|#[^\n]*|"((?:\\.|[^"\\])*)"|'((?:\\.|[^'\\])*)'|([{};])|([^\s{};"'#]+)/gy;
  let m: RegExpExecArray | null;
  while (re.lastIndex < text.length && (m = re.exec(text))) {
    if (m[1] !== undefined) tokens.push(m[1]);
    else if (m[2] !== undefined) tokens.push(m[2]);
    else if (m[3]) tokens.push(`\u0000${m[3]}`);
    else if (m[4]) tokens.push(m[4]);
  }
  if (re.lastIndex < text.length) throw new Error(`nginx.conf: cannot tokenize at offset ${re.lastIndex}`);
  let i = 0;
  const parseBlock = (nested: boolean): NginxDirective[] => {
    const out: NginxDirective[] = [];
    let words: string[] = [];
    while (i < tokens.length) {
      const t = tokens[i++]!;
      if (t === '\u0000;') {
        if (!words.length) throw new Error('nginx.conf: empty directive');
        out.push({ name: words[0]!, args: words.slice(1) });
        words = [];
      } else if (t === '\u0000{') {
        if (!words.length) throw new Error('nginx.conf: block without a name');
        out.push({ name: words[0]!, args: words.slice(1), block: parseBlock(true) });
        words = [];
      } else if (t === '\u0000}') {
        if (!nested) throw new Error('nginx.conf: unbalanced }');
        if (words.length) throw new Error(`nginx.conf: missing ; after ${words.join(' ')}`);
        return out;
      } else {
        words.push(t);
      }
    }
    if (nested) throw new Error('nginx.conf: unclosed block');
    if (words.length) throw new Error(`nginx.conf: missing ; after ${words.join(' ')}`);
    return out;
  };
  return parseBlock(false);
}

/** Direct children named `name`. */
export const children = (block: NginxDirective[] | undefined, name: string) => (block ?? []).filter((d) => d.name === name);
export const child = (block: NginxDirective[] | undefined, name: string) => children(block, name)[0];
