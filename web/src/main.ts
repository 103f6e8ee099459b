import './style.css';
import { LeaderboardChangedDocument, MeDocument, type MeQuery } from '../../sdk/generated/graphql';
import { backoffMs, createApi, describeError, type ConnectionEvent } from './api';
import { createBoardView, formatScore } from './board';
import { devSignIn, loadToken, onTokenChangedElsewhere, readJwt, saveToken, SignInError } from './session';

const BOARD_SIZE = 10;
const ACTION_TYPE = 'COMPLETE_TASK';
/** Off the board, `me` is re-read at most this often while the board keeps changing. */
const ME_REFRESH_MS = 1_000;

function $<T extends HTMLElement>(testid: string): T {
  const el = document.querySelector<T>(`[data-testid="${testid}"]`);
  if (!el) throw new Error(`missing element ${testid}`);
  return el;
}

const ui = {
  connection: $<HTMLSpanElement>('connection'),
  status: $<HTMLParagraphElement>('status'),
  signedOut: $<HTMLDivElement>('signed-out'),
  signedIn: $<HTMLDivElement>('signed-in'),
  signInForm: $<HTMLFormElement>('sign-in-form'),
  username: $<HTMLInputElement>('username'),
  signIn: $<HTMLButtonElement>('sign-in'),
  jwtForm: $<HTMLFormElement>('jwt-form'),
  jwt: $<HTMLTextAreaElement>('jwt'),
  who: $<HTMLElement>('who'),
  signOut: $<HTMLButtonElement>('sign-out'),
  myScore: $<HTMLDivElement>('my-score'),
  completeTask: $<HTMLButtonElement>('complete-task'),
  lastAction: $<HTMLParagraphElement>('last-action'),
  board: $<HTMLOListElement>('leaderboard'),
  boardMeta: $<HTMLSpanElement>('board-meta'),
};

// ---- state ---------------------------------------------------------------

let token = loadToken();
let me: NonNullable<MeQuery['me']> | undefined;
/** seq of the board on screen; -1 = none yet. */
let shownSeq = -1;
/** True until the first event of a (re)established subscription: that one is a snapshot. */
let awaitingSnapshot = true;
/** The status line shows a board error, to clear once the board is back. */
let boardProblemShown = false;
let lastEntries: Parameters<ReturnType<typeof createBoardView>['render']>[0] = [];

const board = createBoardView(ui.board);

// ---- status line and connection badge ------------------------------------

function showStatus(message: string, kind: 'info' | 'error' = 'info') {
  ui.status.textContent = message;
  ui.status.dataset.kind = kind;
  boardProblemShown = false;
}

type ConnectionState = 'connecting' | 'live' | 'reconnecting';
const CONNECTION_TEXT: Record<ConnectionState, string> = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…' };
function setConnection(state: ConnectionState) {
  if (ui.connection.dataset.state === state) return;
  ui.connection.dataset.state = state;
  ui.connection.textContent = CONNECTION_TEXT[state];
}

function onConnection(event: ConnectionEvent) {
  switch (event.type) {
    case 'connecting':
      setConnection(event.retry || shownSeq >= 0 ? 'reconnecting' : 'connecting');
      break;
    case 'connected':
      // graphql-ws re-sends our subscription on the new socket; the server answers
      // with a fresh snapshot first, which we show whatever its seq (the server may
      // have restarted).
      awaitingSnapshot = true;
      break;
    case 'closed':
      if (shownSeq >= 0) setConnection('reconnecting');
      break;
  }
}

// ---- API -----------------------------------------------------------------

const api = createApi({
  token: () => token,
  onConnection,
  onSubscriptionEnded: () => {
    // Fatal close or the server completed the stream: start over after a pause.
    setConnection('reconnecting');
    resubscribeSoon();
  },
});

// ---- live board ----------------------------------------------------------

let subscription: { unsubscribe(): void } | undefined;
let resubscribeTimer: ReturnType<typeof setTimeout> | undefined;
let resubscribeAttempts = 0;

function subscribeBoard() {
  subscription?.unsubscribe();
  awaitingSnapshot = true;
  subscription = api.client.subscription(LeaderboardChangedDocument, { first: BOARD_SIZE }).subscribe((result) => {
    if (result.error) {
      showStatus(describeError(result.error).message, 'error');
      boardProblemShown = true;
      return;
    }
    const next = result.data?.leaderboardChanged;
    if (!next) return;
    if (!awaitingSnapshot && next.seq < shownSeq) return; // an older board overtaken by a newer one
    const wasSnapshot = awaitingSnapshot;
    awaitingSnapshot = false;
    resubscribeAttempts = 0;
    shownSeq = next.seq;
    lastEntries = next.entries;
    board.render(next.entries, me?.id);
    ui.boardMeta.textContent = `updated ${new Date(next.updatedAt).toLocaleTimeString()}`;
    ui.boardMeta.title = `board version (seq) ${next.seq}`;
    ui.board.dataset.seq = String(next.seq);
    setConnection('live');
    if (wasSnapshot && boardProblemShown) showStatus('');
    if (wasSnapshot) meSeq = -1; // a snapshot is the truth, whatever seq we saw before
    meFollowsBoard(next);
  });
}

function resubscribeSoon() {
  clearTimeout(resubscribeTimer);
  resubscribeTimer = setTimeout(subscribeBoard, backoffMs(resubscribeAttempts++));
}

// ---- the signed-in player ------------------------------------------------

/** Bumped whenever `me` is replaced, so a slower, older answer is dropped. */
let meGeneration = 0;
let meTimer: ReturnType<typeof setTimeout> | undefined;
/** seq of the newest write of ours shown in `me`; older boards must not undo it. */
let meSeq = -1;

function renderMe() {
  if (!me) {
    ui.myScore.textContent = '…';
    return;
  }
  ui.who.textContent = me.username;
  ui.myScore.dataset.score = String(me.score);
  ui.myScore.dataset.rank = me.rank == null ? '' : String(me.rank);
  ui.myScore.replaceChildren(
    span('points', strong(formatScore(me.score)), me.score === 1 ? ' point' : ' points'),
    span('sep', ' · '),
    span('rank', me.rank == null ? 'not ranked yet' : `rank #${me.rank}`),
  );
}

function strong(text: string) {
  const el = document.createElement('strong');
  el.textContent = text;
  return el;
}

function span(className: string, ...children: (string | Node)[]) {
  const el = document.createElement('span');
  el.className = className;
  el.append(...children);
  return el;
}

/**
 * Keeps the player's score and rank in step with the board. On the board, the
 * row says it all (no request); off it, anyone passing us changes our rank
 * unseen, so `me` is re-read, throttled so a busy board does not mean a request
 * per event per viewer.
 */
function meFollowsBoard(next: { seq: number; entries: typeof lastEntries }) {
  if (!token || !me) return;
  const row = next.entries.find((e) => e.player.id === me!.id);
  if (row) {
    if (next.seq < meSeq) return;
    clearTimeout(meTimer);
    meTimer = undefined;
    meGeneration += 1; // an older `me` answer still in flight must not win
    me = { ...me, score: row.score, rank: row.rank };
    renderMe();
    return;
  }
  meTimer ??= setTimeout(() => {
    meTimer = undefined;
    void refreshMe();
  }, ME_REFRESH_MS);
}

async function refreshMe(): Promise<boolean> {
  if (!token) return false;
  const generation = ++meGeneration;
  const result = await api.client.query(MeDocument, {}).toPromise();
  if (generation !== meGeneration) return true; // a newer answer is on its way or applied
  if (result.error) {
    const problem = describeError(result.error);
    showStatus(problem.message, 'error');
    if (problem.code === 'UNAUTHENTICATED') signOut(false);
    return false;
  }
  if (result.data?.me) {
    const changedId = me?.id !== result.data.me.id;
    me = result.data.me;
    renderMe();
    if (changedId) board.render(lastEntries, me.id);
  } else {
    ui.myScore.textContent = 'No score yet';
  }
  return true;
}

// ---- sign in / out -------------------------------------------------------

function renderSession() {
  const signedIn = Boolean(token);
  ui.signedOut.hidden = signedIn;
  ui.signedIn.hidden = !signedIn;
  if (signedIn) {
    ui.who.textContent = displayName();
    renderMe();
  }
}

function displayName(): string {
  return me?.username ?? (token ? hintName(token) : undefined) ?? 'player';
}

function hintName(jwt: string) {
  try {
    return readJwt(jwt).username;
  } catch {
    return undefined;
  }
}

async function useToken(next: string) {
  token = next;
  me = undefined;
  meSeq = -1;
  meGeneration += 1;
  ui.lastAction.textContent = '';
  // Kept at once: a network hiccup must not lose it; a refused token is dropped by refreshMe.
  saveToken(next);
  renderSession();
  if (await refreshMe()) showStatus(`Signed in as ${displayName()}.`);
}

function signOut(clearStatus = true) {
  token = undefined;
  me = undefined;
  meSeq = -1;
  meGeneration += 1;
  saveToken(undefined);
  renderSession();
  board.render(lastEntries, undefined);
  if (clearStatus) showStatus('Signed out.');
  ui.username.focus();
}

ui.signInForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  ui.signIn.disabled = true;
  try {
    await useToken(await devSignIn(ui.username.value.trim()));
  } catch (error) {
    showStatus(error instanceof SignInError ? error.message : describeError(error).message, 'error');
  } finally {
    ui.signIn.disabled = false;
  }
});

ui.jwtForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const pasted = ui.jwt.value.trim().replace(/^Bearer\s+/i, '');
  try {
    const hints = readJwt(pasted);
    if (hints.expiresAt && hints.expiresAt.getTime() < Date.now()) {
      showStatus(`That JWT expired at ${hints.expiresAt.toLocaleString()}.`, 'error');
      return;
    }
  } catch (error) {
    showStatus((error as Error).message, 'error');
    return;
  }
  ui.jwt.value = '';
  await useToken(pasted);
});

ui.signOut.addEventListener('click', () => signOut());

onTokenChangedElsewhere((next) => {
  if (next === token) return;
  if (next) void useToken(next);
  else signOut(false);
});

// ---- complete a task -----------------------------------------------------

ui.completeTask.addEventListener('click', async () => {
  if (!token) return;
  ui.completeTask.disabled = true;
  ui.completeTask.setAttribute('aria-busy', 'true');
  try {
    // One ticket, the type's wait, the submit; a lost answer retries the same ticket.
    const outcome = await api.scoreboard.performAction(ACTION_TYPE);
    // The payload already carries the player after the write: newer than any `me` in flight.
    meGeneration += 1;
    meSeq = Math.max(meSeq, outcome.seq);
    me = outcome.player;
    renderMe();
    ui.lastAction.textContent = `${outcome.replayed ? 'Already counted' : `+${outcome.scoreDelta} points`} · rank #${outcome.rank}`;
    ui.lastAction.dataset.delta = String(outcome.scoreDelta);
    ui.lastAction.dataset.rank = String(outcome.rank);
    showStatus('');
  } catch (error) {
    const problem = describeError(error);
    showStatus(problem.message, 'error');
    if (problem.code === 'UNAUTHENTICATED') signOut(false);
  } finally {
    ui.completeTask.disabled = false;
    ui.completeTask.removeAttribute('aria-busy');
  }
});

// ---- start ---------------------------------------------------------------

setConnection('connecting');
renderSession();
subscribeBoard();
if (token) void refreshMe();
