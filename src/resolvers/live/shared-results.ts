import {
  execute,
  getArgumentValues,
  getOperationAST,
  print,
  type ExecutionArgs,
  type ExecutionResult,
  type FieldNode,
  type GraphQLError,
  type GraphQLField,
} from 'graphql';
import type { WebSocket } from 'ws';
import { maskError } from '../../http/yoga.js';
import type { Services } from '../../services.js';
import { periodByKey } from '../boards/periods.js';
import { MAX_BOARD_SIZE } from '../boards/ranking-cache.js';
import { normaliseSegment } from '../boards/views.js';
import type { FeedSpec } from './board-feed.js';
import type { Leaderboard, RankMode } from './leaderboard.js';

/**
 * Fan-out that scales. A `leaderboardChanged`-only operation over graphql-ws
 * does not run through graphql-ws's per-event path: the feed hands every
 * listener of the same `first` the same Leaderboard object; it is executed
 * once per operation text + variables (through graphql-js, masked like every
 * other path) and serialized once; each subscriber then costs one string
 * concatenation and one socket write.
 *
 * The board's fields are public and read nothing from the viewer, which is what
 * makes one execution valid for everyone.
 */

/** What onSubscribe puts in rootValue: envelop's executors plus where the operation lives. */
export interface OperationRoot {
  subscribe: (args: ExecutionArgs) => unknown;
  socket: WebSocket;
  id: string;
}

/** Above this many bytes queued on a socket, the subscriber is too slow: cut it off. */
export const SLOW_CONSUMER_BYTES = 1024 * 1024;

export function createSharedResults(services: Services) {
  /** Per board: operation key -> serialized ExecutionResult (a promise while fields resolve asynchronously). */
  const serialized = new WeakMap<Leaderboard, Map<string, string | Promise<string>>>();

  function serialize(board: Leaderboard, key: string, args: ExecutionArgs): string | Promise<string> {
    let byKey = serialized.get(board);
    if (!byKey) serialized.set(board, (byKey = new Map()));
    let json = byKey.get(key);
    if (json === undefined) {
      services.metrics.sharedExecutions.inc();
      // graphql-js maps each subscription event exactly like this (the event as root value).
      // Global-board rows resolve synchronously; other boards load players (batched), asynchronously.
      const result = execute({ ...args, rootValue: board });
      const finish = (r: ExecutionResult) =>
        JSON.stringify(r.errors ? { ...r, errors: r.errors.map((e) => maskError(services, e) as GraphQLError) } : r);
      json = isPromise(result) ? result.then(finish, (error: Error) => finish({ errors: [error as GraphQLError] })) : finish(result as ExecutionResult);
      byKey.set(key, json);
    }
    return json;
  }

  function send(socket: WebSocket, frame: string) {
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > SLOW_CONSUMER_BYTES) {
      services.logger.warn({ buffered: socket.bufferedAmount }, 'slow WebSocket consumer cut off');
      socket.terminate();
      return;
    }
    socket.send(frame);
  }

  return {
    /** graphql-ws `subscribe`: leaderboardChanged-only operations go to the shared fan-out; the rest the ordinary way. */
    async subscribe(args: ExecutionArgs & { rootValue: OperationRoot }): Promise<unknown> {
      const { socket, id } = args.rootValue;
      const spec = await leaderboardOnly(services, args);
      if (spec === undefined) return args.rootValue.subscribe(args);
      const key = `${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}\u0000${print(args.document)}`;
      const prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
      // Asynchronous results are sent in the order the boards came (a newer board never overtakes an older one).
      let queue: Promise<void> | undefined;
      const stop = services.boardFeed.listen(spec, (board) => {
        // Nothing is executed or serialized for a socket that will not get the message.
        if (socket.readyState !== socket.OPEN) return;
        const json = serialize(board, key, args);
        if (typeof json === 'string' && !queue) return send(socket, `${prefix}${json}}`);
        const mine: Promise<void> = (queue ?? Promise.resolve())
          .then(() => json)
          .then((j) => send(socket, `${prefix}${j}}`))
          .finally(() => {
            if (queue === mine) queue = undefined;
          });
        queue = mine;
      });

      // graphql-ws holds this iterator for the operation's lifetime and calls
      // return() on `complete` or when the socket closes; it never yields.
      let finish: ((r: IteratorResult<ExecutionResult>) => void) | undefined;
      const ended = new Promise<IteratorResult<ExecutionResult>>((resolve) => (finish = resolve));
      const iterator: AsyncIterableIterator<ExecutionResult> = {
        [Symbol.asyncIterator]: () => iterator,
        next: () => ended,
        async return() {
          stop();
          finish!({ done: true, value: undefined });
          return { done: true, value: undefined };
        },
      };
      return iterator;
    },
  };
}

const RANK_MODES: RankMode[] = ['ORDINAL', 'COMPETITION', 'DENSE'];

/**
 * The board view of an operation whose only root field is leaderboardChanged,
 * when it is the same for every viewer (valid arguments, and a segment given on
 * a segmented board); else undefined, and the operation takes the ordinary path
 * (which also reports any bad argument).
 */
async function leaderboardOnly(services: Services, args: ExecutionArgs): Promise<FeedSpec | undefined> {
  const op = getOperationAST(args.document, args.operationName);
  if (!op || op.operation !== 'subscription' || op.selectionSet.selections.length !== 1) return undefined;
  const field = op.selectionSet.selections[0]!;
  if (field.kind !== 'Field' || field.name.value !== 'leaderboardChanged' || field.directives?.length) return undefined;
  const def = args.schema.getSubscriptionType()?.getFields().leaderboardChanged as GraphQLField<unknown, unknown> | undefined;
  if (!def) return undefined;
  try {
    const a = getArgumentValues(def, field as FieldNode, args.variableValues ?? undefined) as {
      board?: string;
      period?: string | null;
      segment?: string | null;
      first?: number;
      rankMode?: RankMode;
    };
    const first = a.first ?? 10;
    const rankMode = a.rankMode ?? 'ORDINAL';
    if (!Number.isInteger(first) || first < 1 || first > MAX_BOARD_SIZE || !RANK_MODES.includes(rankMode)) return undefined;
    const board = await services.definitions.get(a.board ?? 'global');
    if (!board) return undefined;
    if (a.period != null) periodByKey(board, a.period);
    if ((board.segmentBy === null) !== (a.segment == null)) return undefined;
    const segment = board.segmentBy !== null && a.segment != null ? normaliseSegment(board.segmentBy, a.segment) : null;
    return { board: board.id, period: a.period ?? null, segment, first, rankMode };
  } catch {
    return undefined;
  }
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as Promise<T>)?.then === 'function';
}
