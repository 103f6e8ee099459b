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
import { maskError } from '../http/yoga.js';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Leaderboard } from '../resolvers/ranking.js';
import type { Services } from '../services.js';
import { MAX_BOARD_SIZE } from '../adapters/ranking-cache.js';

/**
 * Fan-out that scales: every `leaderboardChanged` subscriber of the same board
 * (same `first`, hence the same Leaderboard object from the feed) and the same
 * operation text and variables gets ONE shared ExecutionResult, executed once
 * through the envelop pipeline, and serialized to JSON once. Per subscriber
 * what is left is a string concatenation and the socket write.
 *
 * The board's fields are public and read nothing from the viewer, which is what
 * makes one execution valid for everyone.
 */

type EnvelopRoot = { subscribe: (args: ExecutionArgs) => unknown };

const SHARED_MARKER = '__scoreboard_shared_payload__';
/** Above this many bytes queued on a socket, the subscriber is too slow: cut it off. */
export const SLOW_CONSUMER_BYTES = 1024 * 1024;

export function createSharedResults(services: Services, wss: WebSocketServer) {
  /** ExecutionResults produced here, with their JSON once serialized. */
  const sharedJson = new WeakMap<object, string | null>();
  /** Per board: operation key -> result (a promise while executing, so concurrent subscribers wait for the same one). */
  const executed = new WeakMap<Leaderboard, Map<string, Promise<ExecutionResult>>>();
  /** Per socket: subscription id -> the JSON payload to put in its next `next` message. */
  const pendingPayloads = new WeakMap<WebSocket, Map<string, string>>();

  // Registered before graphql-ws's own listener, so every socket's send is wrapped first.
  wss.on('connection', (socket) => {
    const pending = new Map<string, string>();
    pendingPayloads.set(socket, pending);
    const send = socket.send.bind(socket) as (data: unknown, cb?: (err?: Error) => void) => void;
    (socket as unknown as { send: typeof send }).send = (data, cb) => {
      if (socket.bufferedAmount > SLOW_CONSUMER_BYTES) {
        services.logger.warn({ buffered: socket.bufferedAmount }, 'slow WebSocket consumer cut off');
        socket.terminate();
        cb?.();
        return;
      }
      if (typeof data === 'string' && data.length < 256 && data.includes(SHARED_MARKER)) {
        const { id } = JSON.parse(data) as { id: string };
        const payload = pending.get(id);
        pending.delete(id);
        if (payload !== undefined) data = `{"id":${JSON.stringify(id)},"type":"next","payload":${payload}}`;
      }
      send(data, cb);
    };
  });

  return {
    /**
     * graphql-ws `subscribe`: a leaderboardChanged-only operation is served from
     * the shared results; anything else goes the ordinary way.
     */
    subscribe(args: ExecutionArgs & { rootValue: EnvelopRoot }): AsyncIterableIterator<ExecutionResult> | Promise<unknown> | unknown {
      const first = leaderboardOnly(args);
      if (first === undefined) return args.rootValue.subscribe(args);
      const key = `${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}\u0000${print(args.document)}`;
      const boards = services.boardFeed.subscribe(first);
      const run = (board: Leaderboard) => {
        let byKey = executed.get(board);
        if (!byKey) executed.set(board, (byKey = new Map()));
        let result = byKey.get(key);
        if (!result) {
          services.metrics.sharedExecutions.inc();
          // graphql-js maps each subscription event exactly like this (the event as root value).
          // Envelop's executor would start a new subscription for a subscription operation instead.
          result = Promise.resolve(execute({ ...args, rootValue: board })).then((r) => {
            // Outside envelop, so the same mask as every other path, by hand.
            const shared = r.errors ? { ...r, errors: r.errors.map((e) => maskError(services, e) as GraphQLError) } : r;
            sharedJson.set(shared, null);
            return shared;
          });
          byKey.set(key, result);
        }
        return result;
      };
      const iterator: AsyncIterableIterator<ExecutionResult> = {
        [Symbol.asyncIterator]: () => iterator,
        async next() {
          const step = await boards.next();
          return step.done ? { done: true, value: undefined } : { done: false, value: await run(step.value) };
        },
        async return() {
          await boards.return?.();
          return { done: true, value: undefined };
        },
      };
      return iterator;
    },

    /** graphql-ws `onNext`: swaps a shared result for a marker the wrapped socket replaces with the cached JSON. */
    onNext(socket: WebSocket, id: string, result: ExecutionResult) {
      if (!sharedJson.has(result)) return undefined;
      let json = sharedJson.get(result);
      if (!json) sharedJson.set(result, (json = JSON.stringify(result)));
      pendingPayloads.get(socket)?.set(id, json);
      return { toJSON: () => SHARED_MARKER } as unknown as ExecutionResult;
    },
  };
}

/** The `first` of an operation whose only root field is leaderboardChanged (valid range), else undefined. */
function leaderboardOnly(args: ExecutionArgs): number | undefined {
  const op = getOperationAST(args.document, args.operationName);
  if (!op || op.operation !== 'subscription' || op.selectionSet.selections.length !== 1) return undefined;
  const field = op.selectionSet.selections[0]!;
  if (field.kind !== 'Field' || field.name.value !== 'leaderboardChanged' || field.directives?.length) return undefined;
  const def = args.schema.getSubscriptionType()?.getFields().leaderboardChanged as GraphQLField<unknown, unknown> | undefined;
  if (!def) return undefined;
  try {
    const { first } = getArgumentValues(def, field as FieldNode, args.variableValues ?? undefined) as { first?: number };
    const n = first ?? 10;
    return Number.isInteger(n) && n >= 1 && n <= MAX_BOARD_SIZE ? n : undefined;
  } catch {
    return undefined;
  }
}
