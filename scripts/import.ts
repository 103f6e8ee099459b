import { readFileSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { ConfigError, loadConfig } from '../src/config.js';
import { openDatabase, type Database } from '../src/db/database.js';
import { createLogger } from '../src/logger.js';
import { GLOBAL_BOARD } from '../src/resolvers/boards/definitions.js';
import { periodByKey } from '../src/resolvers/boards/periods.js';
import { viewId } from '../src/resolvers/boards/ranking-cache.js';
import { HEADERS, ImportFileError, readImportFile, type ReadProgress } from '../src/resolvers/operators/import/csv-rows.js';
import { importScores, type ImportOutcome } from '../src/resolvers/operators/import/import-scores.js';
import { createSharedRanking } from '../src/services.js';

const USAGE = `usage: npm run import -- --file scores.csv [--reason "why"] [--json]

Sets the all-time scores (the "global" board) of the players in a CSV file, in one
transaction: everything or nothing. The header is exactly
  ${HEADERS[0]}
or
  ${HEADERS[1]}
Each player the file changes gets one IMPORT row in the audit log; a player whose
score, username and country already match gets none, so running the same file
again changes nothing. Equal scores rank in file order. A score of 0 takes the
player off the board.

Uses the server's environment: DATABASE_URL (else the embedded database in
DATA_DIR, which must not be in use by a running server), REDIS_URL and
REDIS_KEY_PREFIX (the shared ranking cache is rebuilt after the import).

  --file    the CSV file (required)
  --reason  reason recorded on each audit row (default "bulk import")
  --json    print the summary as one JSON line on stdout

Exit codes: 0 done, 65 the file is invalid (nothing was imported; the message
names the line), 78 invalid configuration, 1 anything else (nothing was imported).`;

const EX_DATAERR = 65;
const EX_CONFIG = 78;

function main(): Promise<number> | number {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        file: { type: 'string' },
        reason: { type: 'string', default: 'bulk import' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.file) {
    console.error(`--file is required\n\n${USAGE}`);
    return 2;
  }
  return run(resolve(values.file), values.reason, values.json);
}

async function run(file: string, reason: string, json: boolean): Promise<number> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      return EX_CONFIG;
    }
    throw error;
  }
  let size: number;
  try {
    size = statSync(file).size;
  } catch (error) {
    console.error(`Cannot read ${file}: ${(error as Error).message}`);
    return 1;
  }
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  let db: Database;
  try {
    db = await openDatabase(config.database);
  } catch (error) {
    console.error(`Cannot open the database: ${(error as Error).message}`);
    return 1;
  }
  try {
    const applied = await db.migrate();
    if (applied.length) console.error(`Migrated the database: ${applied.join(', ')}`);

    const progress = createProgress(size);
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    let databaseCpuSeconds: number | undefined;
    let outcome: ImportOutcome;
    try {
      outcome = await db.withSession(async (session) => {
        // CPU used by the database for this import (PostgreSQL on this machine only): on a shared
        // machine wall time says little, CPU seconds say what the work costs.
        const [backend] = onThisMachine(config.database.url) ? await session.query<{ pid: number }>('SELECT pg_backend_pid() AS pid').catch(() => []) : [];
        const cpuBefore = backendCpuSeconds(backend?.pid);
        const done = await importScores(session, {
          rows: readImportFile(file, { onProgress: progress.update }),
          actor: `import:${basename(file)}`,
          reason,
          notifyViews: [viewId({ board: GLOBAL_BOARD, period: 'all', segment: null })],
        });
        const cpuAfter = backendCpuSeconds(backend?.pid);
        if (cpuBefore !== undefined && cpuAfter !== undefined) databaseCpuSeconds = Number((cpuAfter - cpuBefore).toFixed(1));
        return done;
      });
    } finally {
      progress.stop();
    }
    const seconds = (performance.now() - started) / 1000;
    const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
    const summary = {
      file,
      rows: outcome.rows,
      changed: outcome.created + outcome.updated,
      created: outcome.created,
      updated: outcome.updated,
      scoreChanges: outcome.scoreChanges,
      seconds: Number(seconds.toFixed(2)),
      rowsPerSecond: Math.round(outcome.rows / Math.max(seconds, 0.001)),
      peakRssMb,
      timingsMs: outcome.timings,
      importCpuSeconds: cpuSeconds(process.cpuUsage(cpuStarted)),
      databaseCpuSeconds,
      cache: 'unchanged' as string,
      cacheSeconds: 0,
    };
    if (!json) {
      console.log(
        `Imported ${basename(file)}: ${summary.rows} rows read, ${summary.changed} players changed ` +
          `(${summary.created} new, ${summary.updated} updated, ${summary.scoreChanges} scores set) in ${summary.seconds} s: ` +
          `${summary.rowsPerSecond} rows/s, peak RSS ${peakRssMb} MB` +
          (databaseCpuSeconds !== undefined ? ` (CPU: import ${summary.importCpuSeconds} s, database ${databaseCpuSeconds} s).` : '.'),
      );
    }
    if (summary.changed > 0) {
      const cacheStarted = performance.now();
      // The import is committed whatever happens here: a failure is reported, not an import failure.
      summary.cache = await refreshRanking(config, db, logger).catch(
        (error: Error) =>
          `WARNING: the import is committed, but the ranking cache could not be refreshed (${error.message}); ` +
          'instances rebuild a cold view on their next read, and the reconcile job repairs a stale one',
      );
      summary.cacheSeconds = Number(((performance.now() - cacheStarted) / 1000).toFixed(2));
      if (!json) console.log(`${summary.cache} (${summary.cacheSeconds} s).`);
    } else if (!json) {
      console.log('Nothing changed: every player already has these values.');
    }
    if (json) console.log(JSON.stringify({ ...summary, peakRssMbAfterCache: Math.round(process.resourceUsage().maxRSS / 1024) }));
    return 0;
  } catch (error) {
    if (error instanceof ImportFileError) {
      console.error(`Import aborted, nothing was imported: ${basename(file)} ${error.message}`);
      return EX_DATAERR;
    }
    console.error(`Import failed, nothing was imported: ${(error as Error).message}`);
    return 1;
  } finally {
    await db.close();
  }
}

/** PostgreSQL on loopback: its backend is a process of this machine (PGlite's "backend pid" is not). */
function onThisMachine(url: string | undefined): boolean {
  if (!url) return false;
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '::1' || host === '[::1]' || host.startsWith('127.');
}

const cpuSeconds = (u: NodeJS.CpuUsage) => Number(((u.user + u.system) / 1e6).toFixed(1));

/** user + system CPU seconds of a local process (a PostgreSQL backend), from /proc; undefined elsewhere. */
function backendCpuSeconds(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100/s on Linux)
  } catch {
    return undefined;
  }
}

/** After the commit: the global view of the ranking cache is replaced from Postgres, and every instance hears of it. */
async function refreshRanking(config: ReturnType<typeof loadConfig>, db: Database, logger: ReturnType<typeof createLogger>): Promise<string> {
  const shared = await createSharedRanking(config, db, logger);
  if (!shared) {
    return config.database.url
      ? 'No Redis: running servers were notified (Postgres NOTIFY) and rebuild their own ranking cache'
      : 'Embedded database: the ranking cache is built when the server starts';
  }
  try {
    const board = await shared.definitions.require(GLOBAL_BOARD);
    const view = { board: GLOBAL_BOARD, period: 'all', segment: null, periodInfo: periodByKey(board, 'all') };
    await shared.ranking.replaceFromDatabase(view, 'import');
    const seq = await shared.ranking.cache.seq(view);
    if (seq === null) return 'The ranking cache could not be rebuilt now; instances rebuild it on their next read';
    return 'Ranking cache of the global board rebuilt in Redis; running instances were notified';
  } finally {
    await shared.close();
  }
}

/** A progress bar on a terminal; elsewhere (CI, logs) a line every 5 seconds. */
function createProgress(totalBytes: number): { update(p: ReadProgress): void; stop(): void } {
  const started = performance.now();
  const rate = (rows: number) => Math.round(rows / Math.max((performance.now() - started) / 1000, 0.001));
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { stream: process.stderr, format: 'importing [{bar}] {percentage}% | {rows} rows | {speed} rows/s | ETA {eta_formatted}', hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(Math.max(totalBytes, 1), 0, { rows: 0, speed: 0 });
    return {
      update: (p) => bar.update(Math.min(p.bytes, totalBytes), { rows: p.rows, speed: rate(p.rows) }),
      stop: () => bar.stop(),
    };
  }
  let last = performance.now();
  return {
    update(p) {
      const now = performance.now();
      if (now - last < 5_000 && p.bytes !== Infinity) return;
      last = now;
      const percent = p.bytes === Infinity ? 100 : Math.floor((100 * p.bytes) / Math.max(totalBytes, 1));
      console.error(`importing: ${p.rows} rows read (${percent}%), ${rate(p.rows)} rows/s`);
    },
    stop() {},
  };
}

process.exitCode = await main();
