import type { PrismaClient } from '../../db/database.js';
import type { Services } from '../../services.js';
import { checkEntries } from './reconcile-check.js';
import type { ResolvedView } from './ranking.js';
import { viewId, type BoardView } from './ranking-cache.js';

/**
 * The changes pass: every change to a player's standing draws an id from one
 * sequence (credits, voids and imports in `action_credits`; hides, bans and
 * their reversals in `audit_events`). A run reads the rows above the
 * watermark, in id order and in bounded batches, and checks just the (player,
 * view) pairs they touched: the cost follows the changes, not the board.
 *
 * Ids are drawn before commit, so a transaction that commits late can show up
 * with an id below one already read. The watermark therefore only moves over
 * rows older than SETTLE_SECONDS (by the database's clock): younger rows are
 * read again by the next run, and a row drawn below them still in flight is
 * still above the watermark when it commits. Credits, voids and moderation
 * commit within moments of drawing their id; a transaction held open longer
 * than this is left to the sweep.
 *
 * Import rows are passed over without checks: an import rebuilds every view it
 * changed once it has committed (a million-row import would otherwise cost a
 * million point checks of entries the rebuild just wrote), and its rows can be
 * older than SETTLE_SECONDS by the time they are visible anyway.
 */
const SETTLE_SECONDS = 30;
/** Change rows per query. */
const BATCH = 5_000;
/**
 * A run stops reading at either bound, and the next one continues from there: the
 * pairs it checks (point reads) and the rows it reads (a million import rows are
 * passed in a few runs, without holding back the credits after them for long).
 */
const MAX_PAIRS_PER_RUN = 20_000;
const MAX_ROWS_PER_RUN = 200_000;

/** Audit events that take a player off every board or put them back. CONFIG and REBUILD name no player's standing. */
const PLAYER_WIDE = new Set(['HIDE', 'UNHIDE', 'BAN', 'UNBAN']);

interface ChangeRow {
  id: bigint;
  playerId: string | null;
  /** Views a credit or void touched; null for imports (see above) and audit events. */
  entries: { board: string; period: string; segment: string | null }[] | null;
  /** CREDIT, VOID or IMPORT; HIDE, BAN, CONFIG, … for audit events. */
  kind: string;
  /** Older than SETTLE_SECONDS. */
  settled: boolean;
}

export interface ChangesOutcome {
  /** The new watermark. */
  watermark: number;
  /** Views where an entry was fixed. */
  fixed: Map<string, number>;
  rows: number;
}

/** Checks the pairs changed above `watermark` (null: first run, start at the settled head) on the warm views. */
export async function reconcileChanges(services: Services, views: ResolvedView[], watermark: number | null): Promise<ChangesOutcome> {
  const { prisma } = services;
  const start = watermark ?? (await settledHead(prisma));
  const warm = new Map(views.map((v) => [viewId(v), v]));
  const pairs = new Map<string, Set<string>>();
  let noted = 0;
  const note = (view: BoardView, playerId: string) => {
    const id = viewId(view);
    if (!warm.has(id)) return; // a cold view is rebuilt from Postgres when next used
    let players = pairs.get(id);
    if (!players) pairs.set(id, (players = new Set()));
    if (!players.has(playerId)) noted += 1;
    players.add(playerId);
  };

  let after = start;
  let settledTo = start;
  let settling = true;
  let rows = 0;
  while (rows < MAX_ROWS_PER_RUN && noted < MAX_PAIRS_PER_RUN) {
    const page = await changesAfter(prisma, after);
    for (const row of page) {
      const id = Number(row.id);
      if (row.playerId !== null) {
        if (row.entries) for (const e of row.entries) note({ board: e.board, period: e.period, segment: e.segment ?? null }, row.playerId);
        else if (PLAYER_WIDE.has(row.kind)) for (const view of views) note(view, row.playerId);
      }
      // The watermark passes only an unbroken run of settled rows.
      if (settling && row.settled) settledTo = id;
      else settling = false;
      after = id;
    }
    rows += page.length;
    if (page.length < BATCH) break;
  }

  const fixed = new Map<string, number>();
  for (const [id, players] of pairs) {
    const n = await checkEntries(services, warm.get(id)!, [...players], 'changes');
    if (n > 0) fixed.set(id, n);
  }
  return { watermark: settledTo, fixed, rows };
}

/** Both tables' rows above `after`, merged in id order (each branch an index range scan). */
function changesAfter(prisma: PrismaClient, after: number): Promise<ChangeRow[]> {
  return prisma.$queryRaw<ChangeRow[]>`
    SELECT * FROM (
      (SELECT id, player_id AS "playerId", CASE WHEN kind = 'IMPORT' THEN NULL ELSE entries END AS entries, kind, created_at <= now() - make_interval(secs => ${SETTLE_SECONDS}) AS settled
       FROM action_credits WHERE id > ${after} ORDER BY id LIMIT ${BATCH})
      UNION ALL
      (SELECT id, player_id, NULL::jsonb, kind, at <= now() - make_interval(secs => ${SETTLE_SECONDS})
       FROM audit_events WHERE id > ${after} ORDER BY id LIMIT ${BATCH})
    ) AS changes ORDER BY id LIMIT ${BATCH}`;
}

/**
 * Where a first run starts (no watermark yet, or Redis lost it): at the newest
 * settled change, so it re-reads the last SETTLE_SECONDS of changes rather
 * than all history. Older drift is the sweep's. Walks the id index back from
 * the newest row, past the unsettled ones only.
 */
async function settledHead(prisma: PrismaClient): Promise<number> {
  const [row] = await prisma.$queryRaw<[{ id: bigint | null }]>`
    SELECT greatest(
      (SELECT id FROM action_credits WHERE created_at <= now() - make_interval(secs => ${SETTLE_SECONDS}) ORDER BY id DESC LIMIT 1),
      (SELECT id FROM audit_events WHERE at <= now() - make_interval(secs => ${SETTLE_SECONDS}) ORDER BY id DESC LIMIT 1)
    ) AS id`;
  return Number(row.id ?? 0);
}
