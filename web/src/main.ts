import './style.css';
import {
  BoardChangedDocument,
  BoardsDocument,
  LeaderboardAroundDocument,
  MeDocument,
  MyAttributeDocument,
  type BoardPageFieldsFragment,
  type MeQuery,
} from '../../sdk/generated/graphql';
import { backoffMs, createApi, describeError, type ConnectionEvent } from './api';
import { createBoardView, formatScore, type Entry } from './board';
import { boardFromHash, createTabs, GLOBAL_BOARD, periodBounds, periodLabel, periodStart, rememberBoard, tabBoards, wantedBoard, type BoardDef, type Period } from './boards';
import { createSocial } from './social';
import { devSignIn, loadToken, onTokenChangedElsewhere, readJwt, saveToken, SignInError } from './session';

const BOARD_SIZE = 10;
const ACTION_TYPE = 'COMPLETE_TASK';
/** Off the board, `me` is re-read at most this often while the board keeps changing. */
const ME_REFRESH_MS = 1_000;
/** Rows above and below the player in "Around you". */
const AROUND = 2;
/** "Around you" is re-read at most this often while the board keeps changing. */
const AROUND_REFRESH_MS = 250;

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
  boardPanel: document.getElementById('board-panel')!,
  tabs: $<HTMLDivElement>('board-tabs'),
  period: $<HTMLParagraphElement>('board-period'),
  boardNote: $<HTMLParagraphElement>('board-note'),
  around: $<HTMLElement>('around-me'),
  aroundMeta: $<HTMLSpanElement>('around-meta'),
  aroundNote: $<HTMLParagraphElement>('around-note'),
  aroundList: $<HTMLOListElement>('around-list'),
};

// ---- state ---------------------------------------------------------------

let token = loadToken();
let me: NonNullable<MeQuery['me']> | undefined;
/** seq of the board on screen; -1 = none yet (reset when another board is chosen). */
let shownSeq = -1;
/** Some board has been shown: a closed socket now means "reconnecting". */
let everShown = false;
/** True until the first event of a (re)established subscription: that one is a snapshot. */
let awaitingSnapshot = true;
/** The status line shows a board error, to clear once the board is back. */
let boardProblemShown = false;
let lastEntries: readonly Entry[] = [];

const board = createBoardView(ui.board);
const around = createBoardView(ui.aroundList, { rowTestId: 'around-row', emptyText: 'No scores on this board yet.' });

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
      if (subscription) setConnection(event.retry || everShown ? 'reconnecting' : 'connecting');
      break;
    case 'connected':
      // graphql-ws re-sends our subscription on the new socket; the server answers
      // with a fresh snapshot first, which we show whatever its seq (the server may
      // have restarted).
      awaitingSnapshot = true;
      // Boards may have been added or disabled meanwhile.
      if (everShown) void loadBoards();
      break;
    case 'closed':
      // No subscription (a board that needs sign-in): the socket closing is expected.
      if (everShown && subscription) setConnection('reconnecting');
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

const social = createSocial({ client: api.client, token: () => token, onStatus: (message, kind) => showStatus(message, kind) });

// ---- boards and tabs -----------------------------------------------------

/** Enabled boards, global first; empty until the first answer. */
let boards: BoardDef[] = [];
let selectedId = wantedBoard();
/** What the board card shows: a board and, on segmented boards, the segment. */
interface View {
  board: string;
  segment: string | null;
  /** Why there is nothing to subscribe to (segmented board, no segment known), else undefined. */
  blocked?: string;
}
let view: View | undefined;
/** Bumped on every board switch, so a slower answer for the previous choice is dropped. */
let viewGeneration = 0;
let shownPeriod: Period | undefined;
let boardsTimer: ReturnType<typeof setTimeout> | undefined;
let boardsAttempts = 0;

const tabs = createTabs(ui.tabs, (id) => {
  if (id !== selectedId || !view) void chooseBoard(id);
});

const boardDef = (id: string) => boards.find((b) => b.id === id);

async function loadBoards(): Promise<void> {
  clearTimeout(boardsTimer);
  const result = await api.client.query(BoardsDocument, {}).toPromise();
  if (result.error || !result.data) {
    // Keep whatever tabs we have; try again (the board itself may be live meanwhile).
    boardsTimer = setTimeout(() => void loadBoards(), backoffMs(boardsAttempts++));
    return;
  }
  boardsAttempts = 0;
  boards = tabBoards(result.data.boards);
  const chosen = boardDef(selectedId) ? selectedId : GLOBAL_BOARD;
  tabs.render(boards, chosen);
  if (chosen !== selectedId || !view || view.board !== chosen) await chooseBoard(chosen);
  else renderBoardHead();
}

async function chooseBoard(id: string): Promise<void> {
  selectedId = id;
  tabs.select(id);
  rememberBoard(id);
  ui.boardPanel.setAttribute('aria-labelledby', `tab-${id}`);
  const generation = ++viewGeneration;
  const def = boardDef(id);
  const next: View = { board: id, segment: null };
  if (def?.segmentBy) {
    const segment = await ownSegment(def.segmentBy);
    if (generation !== viewGeneration) return;
    if (segment.value) next.segment = segment.value;
    else next.blocked = segment.why;
  }
  const same = view && !view.blocked && !next.blocked && view.board === next.board && view.segment === next.segment;
  view = next;
  if (!same) social.viewChanged(next.blocked ? undefined : { board: next.board, segment: next.segment });
  if (same && subscription) {
    renderBoardHead();
    return;
  }
  // Another board: nothing of the previous one may stay on screen.
  shownSeq = -1;
  shownPeriod = undefined;
  lastEntries = [];
  ui.board.dataset.seq = '';
  ui.board.dataset.board = id;
  ui.boardMeta.textContent = '';
  renderBoardHead();
  resetAround();
  if (next.blocked) {
    subscription?.unsubscribe();
    subscription = undefined;
    clearTimeout(resubscribeTimer);
    board.clear(next.blocked);
    return;
  }
  board.clear('Loading…');
  subscribeBoard();
}

/** The signed-in player's value of a board's segment attribute (the WebSocket carries no JWT). */
const attributeCache = new Map<string, string | null>();
async function ownSegment(attribute: string): Promise<{ value?: string; why?: string }> {
  const per = `This board is per ${attribute}`;
  if (!token) return { why: `${per}: sign in to see yours.` };
  let value = attributeCache.get(attribute);
  if (value === undefined) {
    const result = await api.client.query(MyAttributeDocument, { name: attribute }).toPromise();
    if (result.error) return { why: `${per}: ${describeError(result.error).message}` };
    value = result.data?.me?.value ?? null;
    // Known once the player has made an authenticated request; a fresh player may not have one yet.
    if (value !== null) attributeCache.set(attribute, value);
  }
  return value ? { value } : { why: `${per}, and your sign-in carries no ${attribute}.` };
}

/** Title line: the chosen board's period and, on segmented boards, the segment. */
function renderBoardHead() {
  const def = boardDef(selectedId);
  const note = view?.blocked;
  ui.boardNote.hidden = !note;
  ui.boardNote.textContent = note ?? '';
  const period = shownPeriod ?? def?.currentPeriod;
  if (!period) {
    ui.period.textContent = '';
    return;
  }
  const segment = view?.segment && def?.segmentBy ? ` · ${def.segmentBy} ${view.segment}` : '';
  ui.period.textContent = `${periodLabel(def, period)}${segment}`;
  ui.period.title = periodBounds(period);
  ui.period.dataset.periodKey = period.key;
  ui.period.dataset.board = selectedId;
}

window.addEventListener('hashchange', () => {
  const id = boardFromHash() ?? GLOBAL_BOARD;
  if (id === selectedId || boards.length === 0) return;
  if (boardDef(id)) void chooseBoard(id);
  else rememberBoard(selectedId); // unknown or disabled: the address shows what is shown
});

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && boards.length > 0) void loadBoards();
});

// ---- live board ----------------------------------------------------------

let subscription: { unsubscribe(): void } | undefined;
let resubscribeTimer: ReturnType<typeof setTimeout> | undefined;
let resubscribeAttempts = 0;
const sameView = (a: View | undefined, b: View | undefined) => a?.board === b?.board && a?.segment === b?.segment;

function subscribeBoard() {
  clearTimeout(resubscribeTimer);
  const current = view;
  if (!current || current.blocked) return;
  const previous = subscription;
  awaitingSnapshot = true;
  const variables = { board: current.board, segment: current.segment, period: null, first: BOARD_SIZE };
  // The old subscription goes after the new one starts, so the socket is not closed in between.
  subscription = api.client.subscription(BoardChangedDocument, variables).subscribe((result) => {
    if (!sameView(view, current)) return;
    if (result.error) {
      showStatus(describeError(result.error).message, 'error');
      boardProblemShown = true;
      return;
    }
    const next = result.data?.leaderboardChanged;
    if (next) showBoard(next);
  });
  previous?.unsubscribe();
}

function showBoard(next: BoardPageFieldsFragment) {
  // At a period boundary the new period's board comes: a snapshot of its own.
  const newPeriod = shownPeriod !== undefined && next.period.key !== shownPeriod.key;
  if (newPeriod && periodStart(next.period) < periodStart(shownPeriod!)) return; // a late event of the old period
  if (!awaitingSnapshot && !newPeriod && next.seq < shownSeq) return; // an older board overtaken by a newer one
  const wasSnapshot = awaitingSnapshot || newPeriod;
  awaitingSnapshot = false;
  resubscribeAttempts = 0;
  everShown = true;
  shownSeq = next.seq;
  shownPeriod = next.period;
  lastEntries = next.entries;
  board.render(next.entries, me?.id);
  ui.boardMeta.textContent = `${formatScore(next.totalPlayers)} ${next.totalPlayers === 1 ? 'player' : 'players'} · updated ${new Date(next.updatedAt).toLocaleTimeString()}`;
  ui.boardMeta.title = `board version (seq) ${next.seq}`;
  ui.board.dataset.seq = String(next.seq);
  ui.board.dataset.board = next.board.id;
  renderBoardHead();
  setConnection('live');
  if (wasSnapshot && boardProblemShown) showStatus('');
  if (wasSnapshot) meSeq = -1; // a snapshot is the truth, whatever seq we saw before
  meFollowsBoard(next);
  refreshAroundSoon();
  social.boardChanged();
}

function resubscribeSoon() {
  clearTimeout(resubscribeTimer);
  resubscribeTimer = setTimeout(subscribeBoard, backoffMs(resubscribeAttempts++));
}

// ---- around you ----------------------------------------------------------

let aroundTimer: ReturnType<typeof setTimeout> | undefined;
let aroundBusy = false;
let aroundDirty = false;
/** Bumped when the board or the player changes: an answer for the old one is dropped. */
let aroundGeneration = 0;
let lastAround: readonly Entry[] = [];

/** Hidden when signed out or when the board shows nothing; emptied for a new board or player. */
function resetAround() {
  aroundGeneration += 1;
  lastAround = [];
  ui.around.dataset.state = 'loading';
  ui.aroundMeta.textContent = '';
  ui.aroundNote.hidden = true;
  around.clear('Loading…');
  ui.around.hidden = !token || !view || Boolean(view.blocked);
  if (!ui.around.hidden) refreshAroundSoon(0);
}

/** At once when idle, else once the answer in flight is in: at most one query at a time. */
function refreshAroundSoon(delay = AROUND_REFRESH_MS) {
  if (!token || !view || view.blocked) return;
  aroundDirty = true;
  if (aroundBusy || aroundTimer) return;
  aroundTimer = setTimeout(runAround, delay);
}

async function runAround() {
  aroundTimer = undefined;
  const current = view;
  if (!token || !current || current.blocked || !aroundDirty) return;
  aroundDirty = false;
  aroundBusy = true;
  const generation = aroundGeneration;
  try {
    const result = await api.client.query(LeaderboardAroundDocument, { board: current.board, segment: current.segment, period: null, above: AROUND, below: AROUND }).toPromise();
    if (generation !== aroundGeneration || !sameView(view, current) || !token) return;
    if (result.error) {
      ui.around.dataset.state = 'error';
      ui.aroundNote.hidden = false;
      ui.aroundNote.textContent = describeError(result.error).message;
      return;
    }
    const page = result.data!.leaderboardAround;
    lastAround = page.entries;
    renderAround();
    ui.aroundMeta.textContent = `of ${formatScore(page.totalPlayers)}`;
  } finally {
    aroundBusy = false;
    if (aroundDirty && !aroundTimer) aroundTimer = setTimeout(runAround, AROUND_REFRESH_MS);
  }
}

function renderAround() {
  const onBoard = Boolean(me && lastAround.some((e) => e.player.id === me!.id));
  around.render(lastAround, me?.id);
  ui.around.dataset.state = onBoard ? 'ranked' : 'unranked';
  ui.aroundNote.hidden = onBoard || lastAround.length === 0;
  ui.aroundNote.textContent = onBoard ? '' : 'You are not on this board yet: complete a task to join it. The top for now:';
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
function meFollowsBoard(next: BoardPageFieldsFragment) {
  if (!token || !me) return;
  // Score and rank are the global (all-time) ones: only that board's rows say them.
  const row = next.board.id === GLOBAL_BOARD && !next.segment ? next.entries.find((e) => e.player.id === me!.id) : undefined;
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
    if (changedId) {
      board.render(lastEntries, me.id);
      if (ui.around.dataset.state !== 'loading') renderAround();
    }
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
  const ok = await refreshMe();
  if (ok) showStatus(`Signed in as ${displayName()}.`);
  if (token === next) await onPlayerChanged();
}

/** A board split by an attribute shows the player's own segment; "Around you" is theirs. */
async function onPlayerChanged() {
  attributeCache.clear();
  social.playerChanged();
  if (boardDef(selectedId)?.segmentBy) await chooseBoard(selectedId);
  resetAround();
}

function signOut(clearStatus = true) {
  token = undefined;
  me = undefined;
  meSeq = -1;
  meGeneration += 1;
  saveToken(undefined);
  renderSession();
  board.render(lastEntries, undefined);
  void onPlayerChanged();
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
    refreshAroundSoon(0);
    social.acted();
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
if (selectedId === GLOBAL_BOARD) {
  // The global board needs no definition to be shown: no waiting for the list of boards.
  view = { board: GLOBAL_BOARD, segment: null };
  social.viewChanged(view);
  ui.board.dataset.board = GLOBAL_BOARD;
  subscribeBoard();
  resetAround();
} else {
  board.clear('Loading…');
}
void loadBoards();
if (token) void refreshMe();
social.playerChanged();
