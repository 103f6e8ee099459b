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
import { MAX_BOARD_SIZE } from '../boards/ranking-cache.js';
import { maskError } from '../../http/yoga.js';
import type { Leaderboard } from '../boards/ranking.js';
import type { Services } from '../../services.js';

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
  /** Per board: operation key -> serialized ExecutionResult. */
  const serialized = new WeakMap<Leaderboard, Map<string, string>>();

  function serialize(board: Leaderboard, key: string, args: ExecutionArgs): string {
    let byKey = serialized.get(board);
    if (!byKey) serialized.set(board, (byKey = new Map()));
    let json = byKey.get(key);
    if (json === undefined) {
      services.metrics.sharedExecutions.inc();
      // graphql-js maps each subscription event exactly like this (the event as root value);
      // every resolver below is synchronous, so the result is too.
      const result = execute({ ...args, rootValue: board }) as ExecutionResult;
      const masked = result.errors ? { ...result, errors: result.errors.map((e) => maskError(services, e) as GraphQLError) } : result;
      json = JSON.stringify(masked);
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
    subscribe(args: ExecutionArgs & { rootValue: OperationRoot }): unknown {
      const { socket, id } = args.rootValue;
      const first = leaderboardOnly(args);
      if (first === undefined) return args.rootValue.subscribe(args);
      const key = `${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}\u0000${print(args.document)}`;
      const prefix = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
      const stop = services.boardFeed.listen(first, (board) => send(socket, `${prefix}${serialize(board, key, args)}}`));

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
