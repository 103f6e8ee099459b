import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import { attributeValue, displayName, isValidPlayerId } from '../../../auth/player-jwt.js';

/**
 * Reading a score file: `playerId,username,score[,country]`, streamed record by
 * record and checked as it goes. The first bad row stops everything with an
 * ImportFileError naming its line. Duplicates need every id seen so far, so they
 * are found by the database once the rows are staged (see import-scores.ts).
 */

export const HEADERS = ['playerId,username,score', 'playerId,username,score,country'];
/** Scores land in an int4 delta on the audit row: the largest score an import may set. */
export const MAX_IMPORTED_SCORE = 2_147_483_647;

export interface ImportRow {
  /** 1-based line of the file where the record ends (its line, for one-line records). */
  line: number;
  playerId: string;
  /** As players will see it (normalised like a JWT's name). */
  username: string;
  score: number;
  /** Upper-cased; null when the file has no country column or the cell is empty (the player's value is kept). */
  country: string | null;
}

export class ImportFileError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'ImportFileError';
  }
}

export interface ReadProgress {
  /** Bytes of the file parsed so far. */
  bytes: number;
  rows: number;
}

/** Validated rows in batches of `batchSize`, in file order. */
export async function* readImportFile(path: string, options: { batchSize?: number; onProgress?: (p: ReadProgress) => void } = {}): AsyncGenerator<ImportRow[]> {
  const batchSize = options.batchSize ?? 5_000;
  const parser = createReadStream(path).pipe(
    parse({
      bom: true,
      info: true,
      skip_empty_lines: true,
      // Field counts are checked here, so the first bad row (not a later one in the same chunk) is reported.
      relax_column_count: true,
    }),
  );
  let withCountry: boolean | undefined;
  let batch: ImportRow[] = [];
  let rows = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number; bytes: number } }>) {
      const line = info.lines;
      if (withCountry === undefined) {
        const header = record.join(',');
        if (!HEADERS.includes(header)) {
          throw new ImportFileError(line, `the header must be exactly "${HEADERS[0]}" or "${HEADERS[1]}" (got "${header.slice(0, 200)}")`);
        }
        withCountry = record.length === 4;
        continue;
      }
      batch.push(checkRow(record, line, withCountry));
      rows++;
      if (batch.length >= batchSize) {
        options.onProgress?.({ bytes: info.bytes, rows });
        yield batch;
        batch = [];
      }
    }
  } catch (error) {
    if (error instanceof ImportFileError) throw error;
    const e = error as { code?: string; lines?: number; message: string };
    if (e.code?.startsWith('CSV_')) throw new ImportFileError(e.lines ?? 0, `not valid CSV: ${e.message}`);
    throw error;
  }
  if (withCountry === undefined) throw new ImportFileError(1, `the file is empty; the first line must be the header "${HEADERS[0]}"`);
  if (batch.length) yield batch;
  options.onProgress?.({ bytes: Infinity, rows });
}

function checkRow(record: string[], line: number, withCountry: boolean): ImportRow {
  const expected = withCountry ? 4 : 3;
  if (record.length !== expected) throw new ImportFileError(line, `expected ${expected} fields, got ${record.length}`);
  const [playerId, rawName, rawScore, rawCountry] = record as [string, string, string, string | undefined];
  if (playerId.length === 0) throw new ImportFileError(line, 'playerId is empty');
  if (!isValidPlayerId(playerId)) {
    throw new ImportFileError(line, 'playerId must be 1..128 characters, not blank, without control or invisible characters');
  }
  if (rawName.trim().length === 0) throw new ImportFileError(line, 'username is empty');
  const username = displayName(rawName);
  if (username.length === 0) throw new ImportFileError(line, 'username has no visible characters');
  const score = parseScore(rawScore.trim(), line);
  let country: string | null = null;
  if (withCountry && rawCountry!.trim() !== '') {
    country = attributeValue('country', rawCountry!);
    if (!country) throw new ImportFileError(line, 'country must be 1..64 visible characters (or empty)');
  }
  return { line, playerId, username, score, country };
}

function parseScore(text: string, line: number): number {
  const shown = JSON.stringify(text.slice(0, 40));
  if (/^-\d+$/.test(text)) throw new ImportFileError(line, `score must not be negative (got ${shown})`);
  if (!/^\d+$/.test(text)) throw new ImportFileError(line, `score must be a whole number (got ${shown})`);
  const score = Number(text);
  if (score > MAX_IMPORTED_SCORE) throw new ImportFileError(line, `score must be at most ${MAX_IMPORTED_SCORE} (got ${shown})`);
  return score;
}
