import { createClient as createWsClient, type Client as WsClient, type Sink, type SubscribePayload } from 'graphql-ws';
import { ErrorCode, errorFromGraphQL, NetworkError, ScoreboardError, type GraphQLErrorPayload } from './errors.js';
import {
  ClientActionTypesDocument,
  ClientIssueActionTokenDocument,
  ClientLeaderboardChangedDocument,
  ClientLeaderboardAroundDocument,
  ClientLeaderboardDocument,
  ClientMeDocument,
  ClientSubmitActionDocument,
  ClientAcceptFriendDocument,
  ClientAchievementUnlockedDocument,
  ClientFriendsDocument,
  ClientFriendsLeaderboardDocument,
  ClientMyAchievementsDocument,
  ClientMyStandingChangedDocument,
  ClientRemoveFriendDocument,
  ClientRequestFriendDocument,
  type ClientAchievementUnlockedSubscription,
  type ClientFriendsQuery,
  type ClientFriendsLeaderboardQueryVariables,
  type ClientMyAchievementsQuery,
  type ClientMyStandingChangedSubscription,
  type ClientMyStandingChangedSubscriptionVariables,
  type ClientActionTypesQuery,
  type ClientIssueActionTokenMutation,
  type ClientLeaderboardChangedSubscriptionVariables,
  type ClientLeaderboardQuery,
  type ClientLeaderboardQueryVariables,
  type ClientLeaderboardAroundQueryVariables,
  type ClientMeQuery,
  type ClientSubmitActionMutation,
  type TypedDocumentString,
} from './generated/graphql.js';

/** A board at one version: rows best first, and its `seq`. */
export type Leaderboard = ClientLeaderboardQuery['leaderboard'];
/** The signed-in player, or null without a token. */
export type Me = ClientMeQuery['me'];
export type ActionType = ClientActionTypesQuery['actionTypes'][number];
/** A ticket from issueActionToken: redeem it once, unchanged. */
export type ActionTicket = ClientIssueActionTokenMutation['issueActionToken'];
/** What submitAction answered; `replayed: true` when a retry found the action already applied. */
export type SubmitActionPayload = ClientSubmitActionMutation['submitAction'];

/**
 * Which board to read: `{ board, period, segment, first, offset, rankMode }`, all
 * optional (default: the top 10 of the global board's current period). These are
 * the operation's variables as generated from the schema.
 */
export type LeaderboardArgs = ClientLeaderboardQueryVariables;
/** Around a player: `{ board, period, segment, player, above, below, rankMode }`; default player: the signed-in one. */
export type LeaderboardAroundArgs = ClientLeaderboardAroundQueryVariables;
export type WatchLeaderboardArgs = ClientLeaderboardChangedSubscriptionVariables;
/** The signed-in player's friends board: `{ board, period, first, rankMode }`. */
export type FriendsLeaderboardArgs = ClientFriendsLeaderboardQueryVariables;
export type Friendship = ClientFriendsQuery['friends'][number];
export type PlayerAchievement = NonNullable<ClientMyAchievementsQuery['me']>['achievements'][number];
/** One myStandingChanged event: the standing now, the rank before, who passed. */
export type StandingChange = ClientMyStandingChangedSubscription['myStandingChanged'];
export type WatchMyStandingArgs = ClientMyStandingChangedSubscriptionVariables;

export interface RetryOptions {
  /** Submissions of one ticket at most, the first included (default 6). */
  attempts?: number;
  /** First wait between attempts, doubled each time (default 250 ms). */
  baseDelayMs?: number;
  /** Longest wait between attempts (default 5 s). */
  maxDelayMs?: number;
}

export interface ScoreboardClientOptions {
  /** The GraphQL endpoint, e.g. `http://localhost:4000/graphql` (WebSocket: same URL, ws/wss). */
  url: string;
  /** The player's bare JWT (no "Bearer"), or null when signed out. Called before every request and connection. */
  getToken: () => Promise<string | null | undefined> | string | null | undefined;
  /** A WebSocket constructor for runtimes without a global one (Node 20: `ws`). */
  webSocketImpl?: unknown;
  /** A fetch for runtimes without a global one (default: globalThis.fetch). */
  fetch?: typeof fetch;
  /** How performAction retries one ticket. */
  retry?: RetryOptions;
  /**
   * Send this package's operations by id (trusted documents) instead of by text:
   * smaller requests, and the only way to reach a server run with
   * TRUSTED_DOCUMENTS_ONLY=true. The server must list this package's manifest
   * (`@scoreboard/client/persisted-documents.json`) in TRUSTED_DOCUMENTS. If it
   * answers PERSISTED_QUERY_NOT_FOUND, the client sends that operation's text
   * once instead, and text from then on (default false).
   */
  trustedDocuments?: boolean;
}

export interface PerformActionOptions {
  /** Stops waiting (minSeconds, backoff) and rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called with the ticket once issued, before the wait (e.g. to show progress). */
  onTicket?: (ticket: ActionTicket) => void;
}

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface WatchOptions {
  /** The subscription was refused or ended with an error (it is not retried then). */
  onError?: (error: ScoreboardError) => void;
  /** The WebSocket's state, for a "Live / Reconnecting…" indicator. */
  onConnection?: (state: ConnectionState) => void;
}

export interface ScoreboardClient {
  /**
   * One action, the safe way: issue ONE ticket, wait the type's minSeconds,
   * submit it; on a network error or SERVICE_UNAVAILABLE submit THE SAME ticket
   * again with backoff (the server credits it once; a retry after a lost answer
   * ends as `replayed: true`). RATE_LIMITED rejects with `retryAfter`; other
   * codes reject at once.
   */
  performAction(actionType: string, options?: PerformActionOptions): Promise<SubmitActionPayload>;
  /** Issues one ticket (performAction does this for you); a lost answer is asked again. */
  issueTicket(actionType: string): Promise<ActionTicket>;
  /** Submits one ticket with performAction's retry rules, never asking for another ticket. */
  submitTicket(ticket: ActionTicket, options?: Pick<PerformActionOptions, 'signal'>): Promise<SubmitActionPayload>;
  /** Reads (these three) are retried like a submit: on NETWORK_ERROR and SERVICE_UNAVAILABLE. */
  leaderboard(args?: LeaderboardArgs): Promise<Leaderboard>;
  /** The entries around a player (default: the signed-in one), shifted at the board's ends; the top for a player with no entry. */
  leaderboardAround(args?: LeaderboardAroundArgs): Promise<Leaderboard>;
  me(): Promise<Me>;
  actionTypes(): Promise<ActionType[]>;
  /**
   * The live board: `onBoard` gets the current board first, then each change.
   * Reconnects forever with backoff and resyncs from the fresh snapshot the
   * server sends; never delivers a board older (lower seq) than one already
   * delivered. Returns the function that stops watching.
   */
  watchLeaderboard(args: WatchLeaderboardArgs, onBoard: (board: Leaderboard) => void, options?: WatchOptions): () => void;
  /** The signed-in player and their accepted friends on a board, ranked among them. */
  friendsLeaderboard(args?: FriendsLeaderboardArgs): Promise<Leaderboard>;
  /** The signed-in player's friendships of every status. */
  friends(): Promise<Friendship[]>;
  /** Asks a player to be friends (accepts when they already asked). Not retried: a mutation. */
  requestFriend(player: string): Promise<Friendship>;
  acceptFriend(player: string): Promise<Friendship>;
  /** Unfriends, declines or withdraws; false when there was nothing. */
  removeFriend(player: string): Promise<boolean>;
  /** Every enabled achievement with the signed-in player's progress. */
  achievements(): Promise<PlayerAchievement[]>;
  /**
   * The signed-in player's standing, live: the current one first, then each rank
   * change with `previousRank` and `overtakenBy`. Reconnects like watchLeaderboard
   * (the first event after a reconnect is the standing then). Returns the stop function.
   */
  watchMyStanding(args: WatchMyStandingArgs, onChange: (change: StandingChange) => void, options?: WatchOptions): () => void;
  /** The signed-in player's unlocks as they happen. Returns the stop function. */
  watchAchievements(onUnlock: (unlock: PlayerAchievement) => void, options?: WatchOptions): () => void;
  /** Any typed document string, over HTTP with the player's token, once (no retry). */
  request<R, V>(document: TypedDocumentString<R, V>, variables?: V): Promise<R>;
  /** Closes the WebSocket (and every watch). */
  close(): Promise<void>;
}

export function createScoreboardClient(options: ScoreboardClientOptions): ScoreboardClient {
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const retry = { attempts: 6, baseDelayMs: 250, maxDelayMs: 5_000, ...options.retry };
  const wsUrl = toWebSocketUrl(options.url);
  let ws: WsClient | undefined;
  let generation = 0; // connections made so far: a new one means "resync"
  const connectionListeners = new Set<(state: ConnectionState) => void>();

  // False once the server said it does not know this package's ids: text from then on.
  let byId = options.trustedDocuments === true;

  /** What to send for a document: its id while ids are in use, else its text. */
  function payload(document: AnyDocument, variables: unknown): SubscribePayload {
    const hash = byId ? documentHash(document) : undefined;
    if (hash) return { query: '', variables: (variables ?? {}) as Record<string, unknown>, extensions: { persistedQuery: { version: 1, sha256Hash: hash } } };
    return { query: document.toString(), variables: (variables ?? {}) as Record<string, unknown> };
  }

  /** The server does not know this package's ids: say so once, then use text. */
  function idsUnknown(errors: readonly GraphQLErrorPayload[] | undefined, sentById: boolean): boolean {
    if (!sentById || errors?.[0]?.extensions?.code !== ErrorCode.PERSISTED_QUERY_NOT_FOUND) return false;
    byId = false;
    return true;
  }

  async function request<R, V>(document: TypedDocumentString<R, V>, variables?: V): Promise<R> {
    const sentById = byId;
    try {
      return await requestOnce(document, variables);
    } catch (error) {
      // Nothing ran (the server refused the id before executing): the text is safe to send.
      if (error instanceof ScoreboardError && idsUnknown(error.errors, sentById)) return requestOnce(document, variables);
      throw error;
    }
  }

  async function requestOnce<R, V>(document: TypedDocumentString<R, V>, variables?: V): Promise<R> {
    const token = await options.getToken();
    let response: Response;
    try {
      response = await fetchImpl(options.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(payload(document, variables)),
      });
    } catch (error) {
      throw new NetworkError(`Cannot reach ${options.url}: ${(error as Error).message}`, undefined, { cause: error });
    }
    let body: { data?: R | null; errors?: GraphQLErrorPayload[] } | undefined;
    try {
      body = (await response.json()) as typeof body;
    } catch (error) {
      // The connection was cut mid-answer, or something else (a proxy) answered.
      throw new NetworkError(`No GraphQL answer from ${options.url} (HTTP ${response.status})`, response.status, { cause: error });
    }
    if (body?.errors?.length) throw errorFromGraphQL(body.errors);
    if (!body || body.data == null) throw new NetworkError(`No GraphQL data from ${options.url} (HTTP ${response.status})`, response.status);
    return body.data;
  }

  const backoff = (attempt: number) => {
    const delay = Math.min(retry.baseDelayMs * 2 ** attempt, retry.maxDelayMs);
    return delay / 2 + Math.random() * (delay / 2); // jitter: a crowd does not come back in step
  };

  /**
   * Runs `attempt` again, with backoff, while it fails with a retryable error
   * (and, when `tooFastToo`, ACTION_TOO_FAST); any other error is final.
   */
  async function withRetry<T>(attempt: () => Promise<T>, signal?: AbortSignal, tooFastToo = false): Promise<T> {
    for (let n = 1; ; n++) {
      try {
        return await attempt();
      } catch (error) {
        const again = error instanceof ScoreboardError && (error.retryable || (tooFastToo && error.code === ErrorCode.ACTION_TOO_FAST));
        if (!again || n >= retry.attempts) throw error;
        await sleep(backoff(n - 1), signal);
      }
    }
  }

  function submitTicket(ticket: ActionTicket, opts: Pick<PerformActionOptions, 'signal'> = {}) {
    const input = { actionId: ticket.actionId, actionType: ticket.actionType, token: ticket.token };
    // The same ticket every time: the server credits it once, and answers a retry of an
    // applied one with its original outcome (replayed: true). ACTION_TOO_FAST: nothing was
    // applied and the ticket is good a moment later (instances' clocks may differ slightly).
    return withRetry(async () => (await request(ClientSubmitActionDocument, { input })).submitAction, opts.signal, true);
  }

  /**
   * A lost answer to issueActionToken is retried too: at worst a ticket nobody
   * holds expires unused. It never leads to a second credit, since performAction
   * redeems exactly one ticket.
   */
  function issueTicket(actionType: string, signal?: AbortSignal) {
    return withRetry(async () => (await request(ClientIssueActionTokenDocument, { actionType })).issueActionToken, signal);
  }

  /** Reads are safe to repeat. */
  function read<R, V>(document: TypedDocumentString<R, V>, variables: V, signal?: AbortSignal) {
    return withRetry(() => request(document, variables), signal);
  }

  async function actionTypes() {
    return (await read(ClientActionTypesDocument, {})).actionTypes;
  }

  function socket(): WsClient {
    ws ??= createWsClient({
      url: wsUrl,
      webSocketImpl: options.webSocketImpl,
      lazy: true,
      retryAttempts: Infinity,
      // The server restarting or a network blip: always worth another try.
      shouldRetry: () => true,
      retryWait: (retries) => sleep(Math.min(250 * 2 ** retries, 5_000) + Math.random() * 250),
      keepAlive: 10_000,
      connectionParams: async () => {
        const token = await options.getToken();
        return token ? { authorization: `Bearer ${token}` } : {};
      },
      on: {
        connecting: (isRetry) => emit(isRetry ? 'reconnecting' : 'connecting'),
        connected: () => {
          generation++;
          emit('connected');
        },
        closed: () => emit('closed'),
      },
    });
    return ws;
  }

  /** A subscription on the shared socket: every event to `onData`, errors to onError. */
  function watch<D>(document: AnyDocument, variables: object, onData: (data: D) => void, opts: WatchOptions): () => void {
    let stopped = false;
    if (opts.onConnection) connectionListeners.add(opts.onConnection);
    const dispose = subscribe<D>(document, variables, {
      next: (result) => {
        if (stopped) return;
        if (result.errors?.length) opts.onError?.(errorFromGraphQL(result.errors));
        else if (result.data) onData(result.data);
      },
      error: (error) => {
        if (stopped) return;
        opts.onError?.(
          Array.isArray(error) ? errorFromGraphQL(error as GraphQLErrorPayload[]) : new NetworkError(`The subscription stopped: ${describe(error)}`, undefined, { cause: error }),
        );
      },
      complete: () => {},
    });
    return () => {
      stopped = true;
      if (opts.onConnection) connectionListeners.delete(opts.onConnection);
      dispose();
    };
  }

  /**
   * A subscription on the shared socket, by id while ids are in use. An id the
   * server does not know is refused before anything runs: subscribed again by text.
   */
  function subscribe<D>(document: AnyDocument, variables: unknown, sink: Sink<{ data?: D | null; errors?: readonly GraphQLErrorPayload[] }>): () => void {
    const sentById = byId;
    let dispose = socket().subscribe<D>(payload(document, variables), {
      ...sink,
      error: (error) => {
        if (Array.isArray(error) && idsUnknown(error as GraphQLErrorPayload[], sentById)) dispose = socket().subscribe<D>(payload(document, variables), sink);
        else sink.error(error);
      },
    });
    return () => dispose();
  }

  function emit(state: ConnectionState) {
    for (const listener of connectionListeners) listener(state);
  }

  return {
    request,
    issueTicket: (actionType) => issueTicket(actionType),
    submitTicket,
    actionTypes,

    async performAction(actionType, opts = {}) {
      // Exactly one ticket per action: a retry below reuses it, never asks for another.
      const [ticket, types] = await Promise.all([issueTicket(actionType, opts.signal), actionTypes()]);
      opts.onTicket?.(ticket);
      const minSeconds = types.find((t) => t.code === actionType)?.minSeconds ?? 0;
      if (minSeconds > 0) await sleep(minSeconds * 1000, opts.signal);
      return submitTicket(ticket, opts);
    },

    async leaderboard(args = {}) {
      return (await read(ClientLeaderboardDocument, args)).leaderboard;
    },

    async leaderboardAround(args = {}) {
      return (await read(ClientLeaderboardAroundDocument, args)).leaderboardAround;
    },

    async me() {
      return (await read(ClientMeDocument, {})).me;
    },

    watchLeaderboard(args, onBoard, opts = {}) {
      let lastSeq = -Infinity;
      let deliveredOn = -1; // the connection the last board came on
      let stopped = false;
      if (opts.onConnection) connectionListeners.add(opts.onConnection);
      const dispose = subscribe<{ leaderboardChanged: Leaderboard }>(ClientLeaderboardChangedDocument, args, {
        next: (result) => {
          if (stopped) return;
          if (result.errors?.length) {
            opts.onError?.(errorFromGraphQL(result.errors));
            return;
          }
          const board = result.data?.leaderboardChanged;
          if (!board) return;
          // A newer board always; after a reconnect, the snapshot too if it is as new
          // (a resync); never an older one (a lagging instance, an out-of-order event).
          const resync = deliveredOn !== generation && board.seq >= lastSeq;
          if (board.seq <= lastSeq && !resync) return;
          lastSeq = board.seq;
          deliveredOn = generation;
          onBoard(board);
        },
        error: (error) => {
          if (stopped) return;
          opts.onError?.(
            Array.isArray(error) ? errorFromGraphQL(error as GraphQLErrorPayload[]) : new NetworkError(`The live board stopped: ${describe(error)}`, undefined, { cause: error }),
          );
        },
        complete: () => {},
      });
      return () => {
        stopped = true;
        if (opts.onConnection) connectionListeners.delete(opts.onConnection);
        dispose();
      };
    },

    async friendsLeaderboard(args = {}) {
      return (await read(ClientFriendsLeaderboardDocument, args)).friendsLeaderboard;
    },

    async friends() {
      return (await read(ClientFriendsDocument, {})).friends;
    },

    async requestFriend(player) {
      return (await request(ClientRequestFriendDocument, { player })).requestFriend;
    },

    async acceptFriend(player) {
      return (await request(ClientAcceptFriendDocument, { player })).acceptFriend;
    },

    async removeFriend(player) {
      return (await request(ClientRemoveFriendDocument, { player })).removeFriend;
    },

    async achievements() {
      return (await read(ClientMyAchievementsDocument, {})).me?.achievements ?? [];
    },

    watchMyStanding(args, onChange, opts = {}) {
      return watch<ClientMyStandingChangedSubscription>(ClientMyStandingChangedDocument, args, (d) => onChange(d.myStandingChanged), opts);
    },

    watchAchievements(onUnlock, opts = {}) {
      return watch<ClientAchievementUnlockedSubscription>(ClientAchievementUnlockedDocument, {}, (d) => onUnlock(d.achievementUnlocked), opts);
    },

    async close() {
      const client = ws;
      ws = undefined;
      connectionListeners.clear();
      await client?.dispose();
    },
  };
}

/** ws(s):// for an http(s):// endpoint. */
export function toWebSocketUrl(url: string): string {
  const u = new URL(url);
  u.protocol = u.protocol === 'https:' ? 'wss:' : u.protocol === 'http:' ? 'ws:' : u.protocol;
  return u.toString();
}

/** AbortSignal.reason is `any`; an abort always rejects with an Error. */
function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error(String(reason));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  const close = error as { code?: number; reason?: string };
  if (typeof close?.code === 'number') return `closed ${close.code}${close.reason ? ` ${close.reason}` : ''}`;
  return String(error);
}

/** A generated document: its text, and the id codegen gave it (`__meta__.hash`). */
type AnyDocument = { toString(): string };

/** The sha256 id codegen gave a document (`sha256:<hex>`), as the bare hex. */
function documentHash(document: AnyDocument): string | undefined {
  const hash = (document as unknown as { __meta__?: { hash?: unknown } }).__meta__?.hash;
  return typeof hash === 'string' ? hash.replace(/^sha256:/, '') : undefined;
}
