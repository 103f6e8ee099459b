import '../style.css';
import './admin.css';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type { AnyVariables } from '@urql/core';
import {
  AdminAuditLogDocument,
  BanPlayerDocument,
  BoardLeaderboardDocument,
  BoardsDocument,
  HidePlayerDocument,
  SearchPlayersDocument,
  UnbanPlayerDocument,
  UnhidePlayerDocument,
  VoidActionDocument,
  type AdminAuditLogQuery,
} from '../../../sdk/generated/graphql';
import { createApi, describeError, type ApiProblem } from '../api';
import { readJwt } from '../session';
import { createAuditRow } from './audit';
import { createBoardsPanel, TOP_SIZE } from './boards';
import { byTestId, say } from './dom';
import { createPlayerRow, PAST, type ModeratedPlayer, type PlayerAct } from './players';
import { cleanToken, loadAdminToken, saveAdminToken } from './token';

/**
 * The operator console at /admin: sign in with an operator JWT, then the
 * boards with their current tops, player search with hide/ban and a required
 * reason, voids, and the audit log. Same transports as the public page
 * (web/src/api.ts); every act is a GraphQL mutation the server authorizes.
 */

const AUDIT_PAGE = 20;
const SEARCH_RESULTS = 20;
const SEARCH_DEBOUNCE_MS = 250;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const ui = {
  error: byTestId<HTMLParagraphElement>('admin-error'),
  who: byTestId<HTMLDivElement>('admin-who'),
  operator: byTestId<HTMLElement>('admin-operator'),
  signOut: byTestId<HTMLButtonElement>('admin-sign-out'),
  signedOut: byTestId<HTMLElement>('admin-signed-out'),
  signedIn: byTestId<HTMLDivElement>('admin-signed-in'),
  signInForm: byTestId<HTMLFormElement>('admin-sign-in-form'),
  token: byTestId<HTMLInputElement>('admin-token'),
  signIn: byTestId<HTMLButtonElement>('admin-sign-in'),
  status: byTestId<HTMLParagraphElement>('admin-status'),
  boards: byTestId<HTMLDivElement>('admin-boards'),
  refreshBoards: byTestId<HTMLButtonElement>('admin-refresh-boards'),
  searchForm: byTestId<HTMLFormElement>('admin-search-form'),
  search: byTestId<HTMLInputElement>('admin-player-search'),
  searchNote: byTestId<HTMLParagraphElement>('admin-search-note'),
  players: byTestId<HTMLUListElement>('admin-players'),
  voidForm: byTestId<HTMLFormElement>('admin-void-form'),
  voidActionId: byTestId<HTMLInputElement>('admin-void-action-id'),
  voidReason: byTestId<HTMLInputElement>('admin-void-reason'),
  voidButton: byTestId<HTMLButtonElement>('admin-void'),
  voidMessage: byTestId<HTMLParagraphElement>('admin-void-message'),
  auditFilter: byTestId<HTMLParagraphElement>('admin-audit-filter'),
  auditAll: byTestId<HTMLButtonElement>('admin-audit-all'),
  auditLog: byTestId<HTMLTableElement>('admin-audit-log'),
  auditNote: byTestId<HTMLParagraphElement>('admin-audit-note'),
  auditMore: byTestId<HTMLButtonElement>('admin-audit-more'),
};
const auditBody = ui.auditLog.tBodies[0]!;

// ---- API -----------------------------------------------------------------

let token: string | undefined;
const api = createApi({ token: () => token, onConnection: () => {}, onSubscriptionEnded: () => {} });

/** A refused request, with the server's code and message (in words for people). */
class Problem extends Error {
  constructor(readonly problem: ApiProblem) {
    super(problem.message);
  }
}

/** The caller's token is no good (expired, revoked, not an operator's): back to the sign-in. */
const isRefusal = (p: ApiProblem) => p.code === 'UNAUTHENTICATED' || p.code === 'FORBIDDEN';

async function query<R, V extends AnyVariables>(doc: TypedDocumentNode<R, V>, variables: V): Promise<R> {
  return settle(await api.client.query(doc, variables).toPromise());
}

async function mutate<R, V extends AnyVariables>(doc: TypedDocumentNode<R, V>, variables: V): Promise<R> {
  return settle(await api.client.mutation(doc, variables).toPromise());
}

function settle<R>(result: { data?: R; error?: unknown }): R {
  if (result.error || !result.data) {
    const problem = describeError(result.error ?? new Error('The server sent no data.'));
    if (token && isRefusal(problem)) signOut(problem.message);
    throw new Problem(problem);
  }
  return result.data;
}

// ---- sign-in -------------------------------------------------------------

function showError(message: string | undefined) {
  ui.error.textContent = message ?? '';
  ui.error.hidden = !message;
}

function showStatus(message: string, kind: 'ok' | 'info' | 'error' = 'info') {
  say(ui.status, message, kind);
}

function operatorName(jwt: string): string {
  try {
    return readJwt(jwt).username ?? 'operator';
  } catch {
    return 'operator';
  }
}

/**
 * Tries a token: the first audit page is operator-only, so the server's answer
 * is the check (no player row is created for the operator). A refusal shows
 * the server's message in `admin-error`; nothing is stored.
 */
async function signIn(candidate: string, fromStorage = false): Promise<void> {
  const jwt = cleanToken(candidate);
  if (!jwt) {
    showError('Paste an operator JWT first.');
    ui.token.focus();
    return;
  }
  ui.signIn.disabled = true;
  token = jwt;
  try {
    const first = await query(AdminAuditLogDocument, { first: AUDIT_PAGE });
    saveAdminToken(jwt);
    showError(undefined);
    ui.token.value = '';
    ui.operator.textContent = operatorName(jwt);
    ui.signedOut.hidden = true;
    ui.signedIn.hidden = false;
    ui.who.hidden = false;
    auditFilter = null;
    renderAuditPage(first, true);
  } catch (error) {
    token = undefined;
    saveAdminToken(undefined);
    const message = error instanceof Problem ? error.message : describeError(error).message;
    showError(fromStorage ? `Signed out: ${message}` : message);
    if (!fromStorage) ui.token.focus();
    return;
  } finally {
    ui.signIn.disabled = false;
  }
  await loadBoards();
}

function signOut(reason?: string) {
  token = undefined;
  saveAdminToken(undefined);
  searchGeneration++;
  auditGeneration++;
  ui.signedIn.hidden = true;
  ui.who.hidden = true;
  ui.signedOut.hidden = false;
  ui.players.replaceChildren();
  auditBody.replaceChildren();
  ui.search.value = '';
  say(ui.searchNote, '');
  ui.voidActionId.value = '';
  ui.voidReason.value = '';
  say(ui.voidMessage, '');
  showStatus('');
  showError(reason);
}

ui.signInForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void signIn(ui.token.value);
});
ui.signOut.addEventListener('click', () => signOut());

// ---- boards --------------------------------------------------------------

const boards = createBoardsPanel(ui.boards, async (board, segment) => {
  try {
    return (await query(BoardLeaderboardDocument, { board, segment, first: TOP_SIZE })).leaderboard;
  } catch (error) {
    throw new Error(error instanceof Problem ? error.message : describeError(error).message);
  }
});

async function loadBoards(): Promise<void> {
  ui.boards.setAttribute('aria-busy', 'true');
  try {
    await boards.show((await query(BoardsDocument, {})).boards);
  } catch (error) {
    if (error instanceof Problem) showStatus(`Boards: ${error.message}`, 'error');
    else throw error;
  }
}

ui.refreshBoards.addEventListener('click', () => void loadBoards());

// ---- player search ---------------------------------------------------------

/** Bumped on every search, so a slower answer to an older term is dropped. */
let searchGeneration = 0;
let searchTimer: ReturnType<typeof setTimeout> | undefined;
let rows: ReturnType<typeof createPlayerRow>[] = [];

/** One moderation mutation; resolves with the player as they are now. */
async function moderate(act: PlayerAct, player: string, reason: string): Promise<ModeratedPlayer> {
  switch (act) {
    case 'HIDE':
      return (await mutate(HidePlayerDocument, { player, reason })).hidePlayer;
    case 'UNHIDE':
      return (await mutate(UnhidePlayerDocument, { player, reason })).unhidePlayer;
    case 'BAN':
      return (await mutate(BanPlayerDocument, { player, reason })).banPlayer;
    case 'UNBAN':
      return (await mutate(UnbanPlayerDocument, { player, reason })).unbanPlayer;
  }
}

async function runSearch(): Promise<void> {
  clearTimeout(searchTimer);
  const generation = ++searchGeneration;
  const term = ui.search.value.trim();
  if (!term) {
    rows = [];
    ui.players.replaceChildren();
    say(ui.searchNote, '');
    return;
  }
  ui.players.setAttribute('aria-busy', 'true');
  try {
    const { players } = await query(SearchPlayersDocument, { search: term, first: SEARCH_RESULTS });
    if (generation !== searchGeneration) return;
    rows = players.map((p) => createPlayerRow(p, { act: actOnPlayer, showAudit: (player) => void filterAudit(player) }));
    ui.players.replaceChildren(...rows.map((r) => r.row));
    say(
      ui.searchNote,
      players.length === 0
        ? `No player matches “${term}”.`
        : `${players.length} player${players.length === 1 ? '' : 's'}${players.length === SEARCH_RESULTS ? ' (the first ones; type more to narrow down)' : ''}.`,
    );
  } catch (error) {
    if (generation !== searchGeneration) return;
    rows = [];
    ui.players.replaceChildren();
    say(ui.searchNote, error instanceof Problem ? error.message : describeError(error).message, 'error');
  } finally {
    if (generation === searchGeneration) ui.players.removeAttribute('aria-busy');
  }
}

ui.search.addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => void runSearch(), SEARCH_DEBOUNCE_MS);
});
ui.searchForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void runSearch();
});

async function actOnPlayer(player: ModeratedPlayer, act: PlayerAct, reason: string) {
  let updated: ModeratedPlayer;
  try {
    updated = await moderate(act, player.id, reason);
  } catch (error) {
    throw new Error(error instanceof Problem ? error.message : describeError(error).message);
  }
  showStatus(`${PAST[act]}: ${updated.username} (${updated.id}), “${reason}”.`, 'ok');
  await afterAct();
  return updated;
}

/** After every act: the boards and the audit log show the new state. */
async function afterAct(): Promise<void> {
  await Promise.all([boards.refresh(), loadAudit()]);
}

// ---- void ----------------------------------------------------------------

function prepareVoid(actionId: string) {
  ui.voidActionId.value = actionId;
  say(ui.voidMessage, `Give a reason to void ${actionId}.`);
  ui.voidForm.scrollIntoView({ block: 'nearest' });
  ui.voidReason.focus();
}

ui.voidForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void (async () => {
    const actionId = ui.voidActionId.value.trim();
    const reason = ui.voidReason.value.trim();
    ui.voidActionId.toggleAttribute('aria-invalid', !UUID.test(actionId));
    ui.voidReason.toggleAttribute('aria-invalid', !reason);
    if (!UUID.test(actionId)) {
      say(ui.voidMessage, 'An action id is a UUID (see the actionId of a CREDIT row in the audit log).', 'error');
      ui.voidActionId.focus();
      return;
    }
    if (!reason) {
      say(ui.voidMessage, 'A reason is required to void an action: it goes into the audit log.', 'error');
      ui.voidReason.focus();
      return;
    }
    ui.voidButton.disabled = true;
    say(ui.voidMessage, 'Working…');
    try {
      const { voidAction: done } = await mutate(VoidActionDocument, { actionId, reason });
      say(
        ui.voidMessage,
        done.replayed
          ? `Already voided: nothing subtracted this time (${done.player.username} has ${done.player.score}).`
          : `Voided ${actionId}: ${done.scoreDelta} for ${done.player.username}, now ${done.player.score}.`,
        'ok',
      );
      ui.voidReason.value = '';
      for (const row of rows) if (row.id === done.player.id) row.update(done.player);
      if (!done.replayed) showStatus(`Voided: ${actionId} of ${done.player.username} (${done.player.id}), “${reason}”.`, 'ok');
      await afterAct();
    } catch (error) {
      say(ui.voidMessage, error instanceof Problem ? error.message : describeError(error).message, 'error');
    } finally {
      ui.voidButton.disabled = false;
    }
  })();
});

// ---- audit log -----------------------------------------------------------

let auditFilter: { id: string; username: string } | null = null;
let auditCursor: string | null = null;
/** Bumped on every reload, so a "more" page of an older listing is dropped. */
let auditGeneration = 0;

function renderAuditPage(data: AdminAuditLogQuery, replace: boolean) {
  const page = data.auditLog;
  const trs = page.entries.map((e) => createAuditRow(e, prepareVoid));
  if (replace) auditBody.replaceChildren(...trs);
  else auditBody.append(...trs);
  auditCursor = page.endCursor;
  ui.auditMore.hidden = !page.hasNextPage;
  ui.auditFilter.hidden = !auditFilter;
  ui.auditFilter.querySelector('span')!.textContent = auditFilter ? `Only ${auditFilter.username} (${auditFilter.id}).` : '';
  say(ui.auditNote, auditBody.rows.length === 0 ? 'Nothing in the audit log yet.' : '');
}

/** Reloads the first page (newest first) under the current filter. */
async function loadAudit(): Promise<void> {
  const generation = ++auditGeneration;
  try {
    const data = await query(AdminAuditLogDocument, { first: AUDIT_PAGE, player: auditFilter?.id ?? null });
    if (generation === auditGeneration) renderAuditPage(data, true);
  } catch (error) {
    if (generation === auditGeneration) say(ui.auditNote, error instanceof Problem ? error.message : describeError(error).message, 'error');
  }
}

async function filterAudit(player: { id: string; username: string } | null) {
  auditFilter = player;
  await loadAudit();
  if (player) ui.auditLog.scrollIntoView({ block: 'nearest' });
}

ui.auditAll.addEventListener('click', () => void filterAudit(null));

ui.auditMore.addEventListener('click', () => {
  void (async () => {
    const generation = auditGeneration;
    ui.auditMore.disabled = true;
    try {
      const data = await query(AdminAuditLogDocument, { first: AUDIT_PAGE, after: auditCursor, player: auditFilter?.id ?? null });
      if (generation === auditGeneration) renderAuditPage(data, false);
    } catch (error) {
      say(ui.auditNote, error instanceof Problem ? error.message : describeError(error).message, 'error');
    } finally {
      ui.auditMore.disabled = false;
    }
  })();
});

// ---- start ---------------------------------------------------------------

const stored = loadAdminToken();
if (stored) void signIn(stored, true);
