import {
  execute,
  getArgumentValues,
  getOperationAST,
  Kind,
  print,
  type DefinitionNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLError,
  type GraphQLField,
  type GraphQLSchema,
  type SelectionSetNode,
  getNamedType,
  isObjectType,
  OperationTypeNode,
} from 'graphql';
import { envelop, useEngine } from '@envelop/core';
import { createContext } from '../../context.js';
import type { WebSocket } from 'ws';
import { AppError } from '../../errors.js';
import { maskError } from '../../http/yoga.js';
import type { Services } from '../../services.js';
import { periodByKey } from '../boards/periods.js';
import { MAX_BOARD_SIZE } from '../boards/ranking-cache.js';
import { normaliseSegment } from '../boards/views.js';
import type { FeedSpec } from './board-feed.js';
import type { Leaderboard, RankMode } from './leaderboard.js';

/**
 * Fan-out that scales. A `leaderboardChanged`-only operation does not run
 * through the transport's per-event path: the feed hands every listener of the
 * same board view, size and rank mode the same Leaderboard object; it is
 * executed once per distinct operation (through graphql-js, masked like every
 * other path) and, for WebSocket, serialized once; each subscriber then costs
 * one string concatenation and one socket write. SSE and multipart streams
 * share the execution (Yoga writes each stream itself).
 *
 * The board's fields are public and read nothing from the viewer, which is what
 * makes one execution valid for everyone (a segmented board takes this path
 * only when the segment is named; "my own segment" depends on the viewer).
 *
 * Hostile clients: the operation key ignores what cannot change the result
 * (operation name, unused operations, variables the operation does not
 * declare), and at most MAX_SHARED_OPERATIONS distinct operations are live per
 * instance, so distinct aliases cannot multiply the work per change. Nothing is
 * executed or serialized for a socket that will not be written to.
 */

/** What onSubscribe puts in rootValue: envelop's executors plus where the operation lives. */
export interface OperationRoot {
  subscribe: (args: ExecutionArgs) => unknown;
  socket: WebSocket;
  id: string;
}

/** Above this many bytes queued on a socket, the subscriber is too slow: cut it off. */
export const SLOW_CONSUMER_BYTES = 1024 * 1024;

/**
 * Distinct live leaderboard operations per instance. Every client we ship uses
 * one of a handful; each distinct one costs an execution per change.
 */
export const MAX_SHARED_OPERATIONS = 256;

export type SharedResults = ReturnType<typeof createSharedResults>;

type Executor = (args: ExecutionArgs) => ExecutionResult | Promise<ExecutionResult>;

/** One execution of an operation on one board: synchronous on the global board, a promise where rows load players. */
interface Execution {
  result: ExecutionResult | Promise<ExecutionResult>;
  json: string | Promise<string>;
}

export function createSharedResults(services: Services) {
  // The per-event execution is graphql-js' execute of the operation's selection with the board as root
  // (Yoga's own execute would subscribe again); wrapped by envelop so execution plugins (tracing) run on it.
  const run = envelop({
    plugins: [useEngine({ execute }), ...(services.tracing ? [services.tracing.graphqlPlugin()] : [])],
  })().execute as Executor;

  /** Per board: operation key -> the executed result and its JSON. */
  const executed = new WeakMap<Leaderboard, Map<string, Execution>>();
  /** Operation key -> live subscribers holding it. */
  const live = new Map<string, number>();

  function execution(board: Leaderboard, key: string, args: ExecutionArgs): Execution {
    let byKey = executed.get(board);
    if (!byKey) executed.set(board, (byKey = new Map()));
    let hit = byKey.get(key);
    if (hit === undefined) {
      services.metrics.sharedExecutions.inc();
      // graphql-js maps each subscription event exactly like this (the event as root value). The context
      // is nobody's: no viewer, no request signal, its own loaders (only viewer-independent fields take
      // this path, see sharedSelection), so no subscriber's identity or lifetime reaches the others.
      const mask = (r: ExecutionResult): ExecutionResult => (r.errors ? { ...r, errors: r.errors.map((e) => maskError(services, e) as GraphQLError) } : r);
      let raw: ExecutionResult | Promise<ExecutionResult>;
      try {
        raw = run({ ...args, rootValue: board, contextValue: createContext(services, undefined) });
      } catch (error) {
        raw = { errors: [error as GraphQLError] };
      }
      if (isPromise(raw)) {
        const result = raw.then(mask, (error: Error) => mask({ errors: [error as GraphQLError] }));
        hit = { result, json: result.then((r) => JSON.stringify(r)) };
      } else {
        const result = mask(raw);
        hit = { result, json: JSON.stringify(result) };
      }
      byKey.set(key, hit);
    }
    return hit;
  }

  /** Holds a slot for this operation key; undefined when that would exceed MAX_SHARED_OPERATIONS. */
  function retain(key: string): (() => void) | undefined {
    const n = live.get(key);
    if (n === undefined && live.size >= MAX_SHARED_OPERATIONS) {
      services.metrics.rateLimited.inc({ limiter: 'shared-operations' });
      services.logger.warn({ distinct: live.size }, 'distinct live leaderboard operations at the cap');
      return undefined;
    }
    live.set(key, (n ?? 0) + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const left = (live.get(key) ?? 1) - 1;
      if (left <= 0) live.delete(key);
      else live.set(key, left);
    };
  }

  const tooMany = (): ExecutionResult => ({
    errors: [new AppError('RATE_LIMITED', 'Too many distinct live leaderboard queries on this server; use a common selection and retry later')],
  });

  /** False (and the socket cut off when it is too slow) when a frame would not be written. */
  function deliverable(socket: WebSocket): boolean {
    if (socket.readyState !== socket.OPEN) return false;
    if (socket.bufferedAmount > SLOW_CONSUMER_BYTES) {
      services.logger.warn({ buffered: socket.bufferedAmount }, 'slow WebSocket consumer cut off');
      socket.terminate();
      return false;
    }
    return true;
  }

  return {
    /** graphql-ws `subscribe`: leaderboardChanged-only operations go to the shared fan-out; the rest the ordinary way. */
    async subscribe(args: ExecutionArgs & { rootValue: OperationRoot }): Promise<unknown> {
      const { socket, id } = args.rootValue;
      const spec = await leaderboardOnly(services, args);
      if (spec === undefined) return args.rootValue.subscribe(args);
      const key = operationKey(args);
      const release = retain(key);
      if (!release) return tooMany();
      const prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
      // Asynchronous results are sent in the order the boards came (a newer board never overtakes an older one).
      let queue: Promise<void> | undefined;
      const stop = services.boardFeed.listen(spec, (board) => {
        // Nothing is executed or serialized for a socket that will not get the message.
        if (!deliverable(socket)) return;
        const { json } = execution(board, key, args);
        if (typeof json === 'string' && !queue) return socket.send(`${prefix}${json}}`);
        const mine: Promise<void> = (queue ?? Promise.resolve())
          .then(() => json)
          .then((j) => {
            if (deliverable(socket)) socket.send(`${prefix}${j}}`);
          })
          .catch((error: Error) => services.logger.warn({ err: error.message }, 'live board delivery failed'))
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
          release();
          finish!({ done: true, value: undefined });
          return { done: true, value: undefined };
        },
      };
      return iterator;
    },

    /**
     * For SSE and multipart: the shared execution as a stream of results; the
     * feed keeps at most one undelivered board, so a slow reader skips ahead.
     * Undefined when the operation is not a shareable leaderboardChanged.
     */
    async stream(args: ExecutionArgs, signal?: AbortSignal): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult | undefined> {
      const spec = await leaderboardOnly(services, args);
      if (spec === undefined) return undefined;
      const key = operationKey(args);
      const release = retain(key);
      if (!release) return tooMany();
      const boards = services.boardFeed.subscribe(spec, signal);
      const iterator: AsyncIterableIterator<ExecutionResult> = {
        [Symbol.asyncIterator]: () => iterator,
        async next() {
          const next = await boards.next();
          if (next.done) {
            release();
            return { done: true, value: undefined };
          }
          return { done: false, value: await execution(next.value, key, args).result };
        },
        async return() {
          release();
          await boards.return?.();
          return { done: true, value: undefined };
        },
      };
      return iterator;
    },

    /** Distinct live operations on this instance. */
    distinct: () => live.size,
  };
}

/**
 * What decides the result: the chosen operation without its name, the
 * fragments, and the values of the variables it declares.
 */
function operationKey(args: ExecutionArgs): string {
  const op = getOperationAST(args.document, args.operationName)!;
  const fragments = args.document.definitions.filter((d: DefinitionNode) => d.kind === Kind.FRAGMENT_DEFINITION);
  const variables = (op.variableDefinitions ?? []).map((d) => [d.variable.name.value, args.variableValues?.[d.variable.name.value] ?? null]);
  return [print({ ...op, name: undefined }), ...fragments.map((f) => print(f)), JSON.stringify(variables)].join('\u0000');
}

const RANK_MODES: RankMode[] = ['ORDINAL', 'COMPETITION', 'DENSE'];

/**
 * The board view of an operation whose only root field is leaderboardChanged,
 * when it is the same for every viewer (valid arguments, and a segment given on
 * a segmented board); else undefined, and the operation takes the ordinary path
 * (which also reports any bad argument).
 */
export async function leaderboardOnly(services: Services, args: ExecutionArgs): Promise<FeedSpec | undefined> {
  const op = getOperationAST(args.document, args.operationName);
  if (!op || op.operation !== OperationTypeNode.SUBSCRIPTION || op.selectionSet.selections.length !== 1) return undefined;
  const field = op.selectionSet.selections[0]!;
  if (field.kind !== Kind.FIELD || field.name.value !== 'leaderboardChanged' || field.directives?.length) return undefined;
  const def = args.schema.getSubscriptionType()?.getFields().leaderboardChanged as GraphQLField<unknown, unknown> | undefined;
  if (!def) return undefined;
  if (!field.selectionSet || !sharedSelection(args, getNamedType(def.type).name, field.selectionSet)) return undefined;
  try {
    const a = getArgumentValues(def, field, args.variableValues ?? undefined) as {
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

/**
 * Fields one execution may serve to every subscriber: they read nothing from
 * the viewer. A field not listed here (say, a future "is this my friend") makes
 * the operation take the ordinary per-subscriber path, so adding a
 * viewer-dependent field can never leak one subscriber's answer to another.
 */
const SHAREABLE_FIELDS: Record<string, readonly string[]> = {
  Leaderboard: ['board', 'entries', 'period', 'segment', 'seq', 'totalPlayers', 'updatedAt'],
  LeaderboardEntry: ['player', 'position', 'rank', 'score'],
  // `standing` with no segment means the player's own segment, not the viewer's.
  Player: ['id', 'username', 'score', 'rank', 'attribute', 'standing'],
  Board: ['actionTypes', 'anchor', 'currentPeriod', 'enabled', 'id', 'periodSeconds', 'periods', 'previousPeriod', 'segmentBy', 'timeZone', 'title', 'weekStart', 'window'],
  Period: ['endsAt', 'final', 'key', 'startsAt'],
  Standing: ['board', 'period', 'position', 'rank', 'score', 'segment', 'seq', 'totalPlayers'],
};

/** True when every field selected (through fragments too) is in SHAREABLE_FIELDS. */
export function sharedSelection(args: Pick<ExecutionArgs, 'schema' | 'document'>, typeName: string, selectionSet: SelectionSetNode): boolean {
  const fragments = new Map(args.document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
  const seen = new Set<string>();
  const walk = (schema: GraphQLSchema, type: string, set: SelectionSetNode): boolean => {
    const objectType = schema.getType(type);
    if (!isObjectType(objectType)) return false;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        if (name === '__typename') continue;
        if (!SHAREABLE_FIELDS[type]?.includes(name)) return false;
        const child = objectType.getFields()[name];
        if (!child) return false;
        if (selection.selectionSet && !walk(schema, getNamedType(child.type).name, selection.selectionSet)) return false;
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        if (selection.typeCondition && selection.typeCondition.name.value !== type) return false;
        if (!walk(schema, type, selection.selectionSet)) return false;
      } else {
        const fragment = fragments.get(selection.name.value);
        if (!fragment || fragment.typeCondition.name.value !== type) return false;
        const mark = `${selection.name.value}@${type}`;
        if (seen.has(mark)) continue;
        seen.add(mark);
        if (!walk(schema, type, fragment.selectionSet)) return false;
      }
    }
    return true;
  };
  return walk(args.schema, typeName, selectionSet);
}
