import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { BOARD_WINDOWS, isValidTimeZone, WEEKDAYS } from './resolvers/boards/periods.js';

/**
 * The declarative configuration file (SCOREBOARD_CONFIG): action types, boards
 * and achievements kept in git and upserted at start-up. This module only reads
 * and checks the file's shape; applying it (with the mutations' own validation)
 * is src/resolvers/operators/config-file.ts.
 *
 * Entries have the shape of the GraphQL inputs (ActionTypeInput, BoardInput,
 * AchievementInput), field for field; an unknown key anywhere is an error, not
 * ignored, so a typo never silently keeps a default.
 */

const CODE = /^[A-Z][A-Z0-9_]{0,39}$/;
const BOARD_ID = /^[a-z0-9-]{1,40}$/;
const code = z.string().regex(CODE, 'must match [A-Z][A-Z0-9_]{0,39}');
const boardId = z.string().regex(BOARD_ID, 'must be 1..40 characters of a-z, 0-9 and -');
const whole = (min: number, max: number) =>
  z.number({ error: 'must be a whole number' }).int('must be a whole number').min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);
const oneOf = <T extends string>(values: readonly T[]) => z.enum(values as [T, ...T[]], { error: `must be one of ${values.join(', ')}` });

export const ActionTypeEntry = z.strictObject({
  code,
  points: whole(1, 1_000_000).optional(),
  minSeconds: whole(0, 86_400).optional(),
  enabled: z.boolean().optional(),
});

export const BoardEntry = z.strictObject({
  id: boardId,
  title: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters').optional(),
  window: oneOf(BOARD_WINDOWS).optional(),
  timeZone: z.string().refine(isValidTimeZone, 'must be a valid IANA time zone (e.g. "UTC", "Europe/Paris")').optional(),
  weekStart: oneOf(WEEKDAYS).optional(),
  periodSeconds: whole(1, 10 * 366 * 86_400)
    .nullable()
    .optional(),
  // YAML gives a string (or a Date with a 1.1 schema); either way an instant with an explicit offset.
  anchor: z
    .union([z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time with an offset, e.g. 2026-12-01T00:00:00Z' }), z.date()])
    .transform((v) => (v instanceof Date ? v : new Date(v)))
    .nullable()
    .optional(),
  segmentBy: z.string().min(1).nullable().optional(),
  actionTypes: z.array(code).min(1, 'must name at least one action type (or be null for all)').nullable().optional(),
  enabled: z.boolean().optional(),
});

export const ACHIEVEMENT_KINDS = ['SCORE_AT_LEAST', 'ACTION_COUNT', 'RANK_AT_MOST'] as const;

export const AchievementEntry = z.strictObject({
  code,
  title: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters').optional(),
  description: z.string().max(500, 'must be at most 500 characters').nullable().optional(),
  kind: oneOf(ACHIEVEMENT_KINDS).optional(),
  board: boardId.nullable().optional(),
  threshold: whole(1, Number.MAX_SAFE_INTEGER).optional(),
  actionType: code.nullable().optional(),
  enabled: z.boolean().optional(),
});

const ConfigDocument = z
  .strictObject(
    {
      actionTypes: z.array(ActionTypeEntry).default([]),
      boards: z.array(BoardEntry).default([]),
      achievements: z.array(AchievementEntry).default([]),
    },
    { error: (issue) => (issue.code === 'invalid_type' ? 'the file must hold a mapping with actionTypes, boards and/or achievements' : undefined) },
  )
  .superRefine((doc, ctx) => {
    const unique = (list: { key: string }[], section: string, field: string) => {
      const seen = new Map<string, number>();
      list.forEach(({ key }, i) => {
        const first = seen.get(key);
        if (first !== undefined) ctx.addIssue({ code: 'custom', path: [section, i, field], message: `duplicate of ${section}[${first}] (${JSON.stringify(key)})` });
        else seen.set(key, i);
      });
    };
    unique(
      doc.actionTypes.map((t) => ({ key: t.code })),
      'actionTypes',
      'code',
    );
    unique(
      doc.boards.map((b) => ({ key: b.id })),
      'boards',
      'id',
    );
    unique(
      doc.achievements.map((a) => ({ key: a.code })),
      'achievements',
      'code',
    );
  });

export type ConfigFileContents = z.infer<typeof ConfigDocument>;

export interface ConfigFile extends ConfigFileContents {
  /** The path as given in SCOREBOARD_CONFIG. */
  path: string;
}

/** Every problem of a configuration file, each as "path: message" (path like boards[2].window). */
export class ConfigFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: ${problems.join('; ')}`);
    this.name = 'ConfigFileError';
  }
}

/** Reads and checks the file: JSON by extension (.json) or content (starts with "{"), else YAML. */
export function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigFileError(path, [`cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`]);
  }
  const raw = parseText(path, text);
  const parsed = ConfigDocument.safeParse(raw);
  if (!parsed.success) throw new ConfigFileError(path, parsed.error.issues.map(describeIssue));
  return { path, ...parsed.data };
}

function parseText(path: string, text: string): unknown {
  const ext = extname(path).toLowerCase();
  if (ext === '.json' || (ext !== '.yaml' && ext !== '.yml' && text.trimStart().startsWith('{'))) {
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new ConfigFileError(path, [`not valid JSON: ${(error as Error).message}`]);
    }
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length)
    throw new ConfigFileError(
      path,
      doc.errors.map((e) => `not valid YAML: ${e.message.split('\n')[0]}`),
    );
  return doc.toJS();
}

/** boards[2].window */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : `${out ? '.' : ''}${String(part)}`;
  return out || '(top level)';
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => `${formatPath([...issue.path, k])}: unknown key`).join('; ');
  }
  return `${formatPath(issue.path)}: ${issue.message}`;
}
