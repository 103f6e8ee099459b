import pg from 'pg';
import type { Logger } from '../../logger.js';
import type { BoardDefinitions } from './definitions.js';
import { periodByKey } from './periods.js';
import { parseViewId, viewId, type BoardView } from './ranking-cache.js';
import type { BoardRanking } from './ranking.js';

/**
 * Without Redis each server keeps its ranking cache in memory, where another
 * process (`npm run import`) cannot reach it. On PostgreSQL such a process
 * sends NOTIFY on this channel with the views it changed, in its own
 * transaction (so only once committed); the server listens and replaces those
 * views from Postgres, which also tells its live subscribers.
 *
 * After a lost connection, notices may have been missed: the global board is
 * replaced once the listener is back.
 */
export const REBUILD_CHANNEL = 'scoreboard_rebuild';

export interface RebuildListenerDeps {
  url: string;
  ranking: BoardRanking;
  definitions: BoardDefinitions;
  logger: Logger;
}

export async function listenForRebuilds(deps: RebuildListenerDeps): Promise<{ close(): Promise<void> }> {
  let closed = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;

  const replace = async (ids: string[]) => {
    for (const id of ids) {
      const view: BoardView = parseViewId(id);
      const board = await deps.definitions.get(view.board);
      if (!board) continue;
      await deps.ranking.replaceFromDatabase({ ...view, periodInfo: periodByKey(board, view.period) }, 'notice');
    }
  };

  const connect = async (missedSome: boolean): Promise<void> => {
    const c = new pg.Client({ connectionString: deps.url });
    c.on('notification', (message) => {
      if (message.channel !== REBUILD_CHANNEL) return;
      let ids: string[] = [];
      try {
        const payload = JSON.parse(message.payload ?? '{}') as { views?: unknown };
        ids = Array.isArray(payload.views) ? payload.views.filter((v): v is string => typeof v === 'string') : [];
      } catch {
        deps.logger.warn({ payload: message.payload?.slice(0, 200) }, 'unreadable rebuild notice ignored');
      }
      void replace(ids).catch((error: Error) => deps.logger.warn({ err: error.message }, 'rebuild after notice failed'));
    });
    c.on('error', (error) => {
      if (closed || client !== c) return;
      deps.logger.warn({ err: error.message }, 'rebuild listener lost its Postgres connection; reconnecting');
      client = undefined;
      void c.end().catch(() => {});
      schedule();
    });
    await c.connect();
    await c.query(`LISTEN ${REBUILD_CHANNEL}`);
    if (closed) {
      await c.end();
      return;
    }
    client = c;
    if (missedSome) await replace([viewId({ board: 'global', period: 'all', segment: null })]);
  };

  const schedule = () => {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      connect(true).catch((error: Error) => {
        deps.logger.warn({ err: error.message }, 'rebuild listener could not reconnect; retrying');
        schedule();
      });
    }, 1_000);
    retry.unref();
  };

  await connect(false);
  return {
    async close() {
      closed = true;
      clearTimeout(retry);
      await client?.end().catch(() => {});
      client = undefined;
    },
  };
}
