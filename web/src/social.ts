import { stringifyDocument, type Client } from '@urql/core';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import {
  AcceptFriendDocument,
  AchievementUnlockedDocument,
  FriendsDocument,
  FriendsLeaderboardDocument,
  MyAchievementsDocument,
  MyStandingChangedDocument,
  RemoveFriendDocument,
  RequestFriendDocument,
  type AchievementUnlockedSubscription,
  type FriendsQuery,
  type MyAchievementsQuery,
  type MyStandingChangedSubscription,
} from '../../sdk/generated/graphql';
import { backoffMs, describeError, graphqlWsUrl } from './api';
import { createBoardView, formatScore } from './board';

/**
 * The signed-in player's social layer on the page:
 * - "You were overtaken": `myStandingChanged` on the chosen board, over a
 *   WebSocket of its own that carries the player's JWT in connection_init (the
 *   public board's socket carries none);
 * - achievements, locked ones with their progress, refreshed on every unlock
 *   (`achievementUnlocked`, same socket) and after each action;
 * - friends: the friends tab of the board (`friendsLeaderboard`), requests to
 *   send, accept, decline or withdraw.
 */

export interface SocialOptions {
  client: Client;
  token(): string | undefined;
  onStatus(message: string, kind?: 'info' | 'error'): void;
}

export interface SocialView {
  board: string;
  segment: string | null;
}

function $<T extends HTMLElement>(testid: string): T {
  const el = document.querySelector<T>(`[data-testid="${testid}"]`);
  if (!el) throw new Error(`missing element ${testid}`);
  return el;
}

type Scope = 'everyone' | 'friends';
type Change = MyStandingChangedSubscription['myStandingChanged'];
type PlayerAchievement = NonNullable<MyAchievementsQuery['me']>['achievements'][number];

export function createSocial(options: SocialOptions) {
  const ui = {
    notice: $<HTMLDivElement>('overtaken-notice'),
    noticeText: $<HTMLSpanElement>('overtaken-text'),
    noticeClose: $<HTMLButtonElement>('overtaken-dismiss'),
    scopeEveryone: $<HTMLButtonElement>('scope-everyone'),
    scopeFriends: $<HTMLButtonElement>('scope-friends'),
    scopes: $<HTMLDivElement>('board-scopes'),
    board: $<HTMLOListElement>('leaderboard'),
    friendsBoard: $<HTMLOListElement>('friends-board'),
    friends: $<HTMLElement>('friends'),
    myId: $<HTMLElement>('my-player-id'),
    friendForm: $<HTMLFormElement>('friend-form'),
    friendId: $<HTMLInputElement>('friend-id'),
    friendList: $<HTMLUListElement>('friend-list'),
    achievements: $<HTMLElement>('achievements'),
    achievementList: $<HTMLUListElement>('achievement-list'),
  };
  const friendsView = createBoardView(ui.friendsBoard, { rowTestId: 'friends-row', emptyText: 'No scores among you and your friends on this board yet.' });

  let ws: WsClient | undefined;
  let wsToken: string | undefined;
  let standing: (() => void) | undefined;
  let unlocks: (() => void) | undefined;
  let view: SocialView | undefined;
  let myId: string | undefined;
  let scope: Scope = 'everyone';
  let friendsTimer: ReturnType<typeof setTimeout> | undefined;
  let friendsGeneration = 0;

  // ---- the player's own socket -------------------------------------------

  function socket(): WsClient | undefined {
    const token = options.token();
    if (!token) return undefined;
    if (ws && wsToken === token) return ws;
    void ws?.dispose();
    wsToken = token;
    ws = createWsClient({
      url: graphqlWsUrl(),
      lazy: true,
      retryAttempts: Infinity,
      shouldRetry: () => true,
      retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, backoffMs(retries))),
      connectionParams: () => ({ authorization: `Bearer ${token}` }),
    });
    return ws;
  }

  function follow() {
    standing?.();
    standing = undefined;
    const client = socket();
    if (!client || !view) return;
    const current = view;
    standing = client.subscribe<MyStandingChangedSubscription>(
      { query: stringifyDocument(MyStandingChangedDocument), variables: { board: current.board, segment: current.segment, period: null } },
      {
        next: (result) => {
          const change = result.data?.myStandingChanged;
          if (change && view === current) onStanding(change);
        },
        error: () => {},
        complete: () => {},
      },
    );
  }

  function listenForUnlocks() {
    unlocks?.();
    unlocks = undefined;
    const client = socket();
    if (!client) return;
    unlocks = client.subscribe<AchievementUnlockedSubscription>(
      { query: stringifyDocument(AchievementUnlockedDocument) },
      {
        next: (result) => {
          const unlocked = result.data?.achievementUnlocked;
          if (!unlocked) return;
          options.onStatus(`Achievement unlocked: ${unlocked.achievement.title}`);
          void loadAchievements();
        },
        error: () => {},
        complete: () => {},
      },
    );
  }

  // ---- overtaken notice ----------------------------------------------------

  function onStanding(change: Change) {
    // Every event says where the player stands now (the first one only that).
    ui.notice.dataset.currentRank = change.standing ? String(change.standing.rank) : '';
    if (change.previousRank == null || !change.standing) return;
    const passers = change.overtakenBy;
    if (change.standing.rank > change.previousRank && passers.length > 0) {
      const names = passers.map((p) => p.username);
      const who = names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
      ui.noticeText.textContent = `${who} overtook you: you are now #${change.standing.rank} (was #${change.previousRank}).`;
      ui.notice.dataset.rank = String(change.standing.rank);
      ui.notice.dataset.previousRank = String(change.previousRank);
      ui.notice.dataset.overtakenBy = passers.map((p) => p.id).join(',');
      ui.notice.hidden = false;
    }
    if (scope === 'friends') refreshFriendsBoard();
  }

  ui.noticeClose.addEventListener('click', () => {
    ui.notice.hidden = true;
  });

  // ---- achievements ----------------------------------------------------------

  async function loadAchievements() {
    if (!options.token()) return;
    const result = await options.client.query(MyAchievementsDocument, {}).toPromise();
    if (result.error || !result.data?.me) return;
    myId = result.data.me.id;
    ui.myId.textContent = myId;
    renderAchievements(result.data.me.achievements);
  }

  function renderAchievements(list: readonly PlayerAchievement[]) {
    ui.achievements.hidden = list.length === 0;
    ui.achievementList.replaceChildren(
      ...list.map((a) => {
        const li = document.createElement('li');
        li.dataset.testid = 'achievement';
        li.dataset.code = a.achievement.code;
        li.dataset.unlocked = String(a.unlockedAt !== null);
        li.dataset.progress = String(a.progress);
        li.dataset.target = String(a.target);
        li.className = a.unlockedAt ? 'achievement unlocked' : 'achievement locked';
        const title = document.createElement('strong');
        title.textContent = a.achievement.title; // never HTML
        const detail = document.createElement('span');
        detail.className = 'detail';
        detail.textContent = a.unlockedAt ? ` · unlocked ${new Date(a.unlockedAt).toLocaleString()}` : ` · ${formatScore(a.progress)} / ${formatScore(a.target)}`;
        const bar = document.createElement('progress');
        bar.max = a.target;
        bar.value = a.progress;
        bar.setAttribute('aria-label', `${a.achievement.title}: ${a.progress} of ${a.target}`);
        li.title = a.achievement.description;
        li.append(title, detail, bar);
        return li;
      }),
    );
  }

  // ---- friends -------------------------------------------------------------

  function setScope(next: Scope) {
    scope = next;
    ui.scopeEveryone.setAttribute('aria-selected', String(next === 'everyone'));
    ui.scopeFriends.setAttribute('aria-selected', String(next === 'friends'));
    ui.board.hidden = next === 'friends';
    ui.friendsBoard.hidden = next !== 'friends';
    if (next === 'friends') {
      friendsView.clear('Loading…');
      refreshFriendsBoard(0);
    }
  }

  ui.scopeEveryone.addEventListener('click', () => setScope('everyone'));
  ui.scopeFriends.addEventListener('click', () => setScope('friends'));

  /** Throttled: the public board's events say "something changed", and the friends board follows. */
  function refreshFriendsBoard(delay = 250) {
    if (scope !== 'friends' || friendsTimer) return;
    friendsTimer = setTimeout(async () => {
      friendsTimer = undefined;
      const current = view;
      if (!current || !options.token()) return;
      const generation = ++friendsGeneration;
      const result = await options.client.query(FriendsLeaderboardDocument, { board: current.board, period: null, first: 100 }).toPromise();
      if (generation !== friendsGeneration || view !== current) return;
      if (result.error) {
        friendsView.clear(describeError(result.error).message);
        return;
      }
      const page = result.data!.friendsLeaderboard;
      ui.friendsBoard.dataset.board = page.board.id;
      friendsView.render(page.entries, myId);
    }, delay);
  }

  async function loadFriends() {
    if (!options.token()) return;
    const result = await options.client.query(FriendsDocument, {}).toPromise();
    if (result.error || !result.data) return;
    renderFriends(result.data.friends);
  }

  function renderFriends(list: FriendsQuery['friends']) {
    const STATUS = { ACCEPTED: 'friend', PENDING_IN: 'wants to be your friend', PENDING_OUT: 'request sent' } as const;
    ui.friendList.replaceChildren(
      ...list.map((f) => {
        const li = document.createElement('li');
        li.dataset.testid = 'friend-row';
        li.dataset.playerId = f.player.id;
        li.dataset.status = f.status;
        const name = document.createElement('strong');
        name.textContent = f.player.username;
        const status = document.createElement('span');
        status.textContent = ` · ${STATUS[f.status]} `;
        li.append(name, status);
        if (f.status === 'PENDING_IN') li.append(button('Accept', 'friend-accept', () => act(AcceptFriendDocument, f.player.id)));
        const label = f.status === 'ACCEPTED' ? 'Remove' : f.status === 'PENDING_IN' ? 'Decline' : 'Withdraw';
        li.append(button(label, 'friend-remove', () => act(RemoveFriendDocument, f.player.id)));
        return li;
      }),
    );
    if (list.length === 0) {
      const li = document.createElement('li');
      li.className = 'empty';
      li.textContent = 'No friends yet: share your id, or add someone by theirs.';
      ui.friendList.replaceChildren(li);
    }
  }

  function button(text: string, testid: string, onClick: () => Promise<void>) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'link';
    b.dataset.testid = testid;
    b.textContent = text;
    b.addEventListener('click', () => void onClick());
    return b;
  }

  async function act(doc: typeof AcceptFriendDocument | typeof RemoveFriendDocument | typeof RequestFriendDocument, player: string) {
    const result = await options.client.mutation(doc as typeof RequestFriendDocument, { player }).toPromise();
    if (result.error) options.onStatus(describeError(result.error).message, 'error');
    await loadFriends();
    refreshFriendsBoard(0);
  }

  ui.friendForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const id = ui.friendId.value.trim();
    if (!id) return;
    ui.friendId.value = '';
    void act(RequestFriendDocument, id);
  });

  // ---- wiring from the page --------------------------------------------------

  return {
    /** The player signed in or out (or changed). */
    playerChanged() {
      const signedIn = Boolean(options.token());
      ui.notice.hidden = true;
      ui.friends.hidden = !signedIn;
      ui.scopes.hidden = !signedIn;
      ui.achievements.hidden = true;
      if (!signedIn) {
        standing?.();
        unlocks?.();
        standing = unlocks = undefined;
        void ws?.dispose();
        ws = wsToken = undefined;
        myId = undefined;
        setScope('everyone');
        return;
      }
      follow();
      listenForUnlocks();
      void loadAchievements();
      void loadFriends();
    },
    /** Another board (or segment) is shown. */
    viewChanged(next: SocialView | undefined) {
      view = next;
      ui.notice.hidden = true;
      follow();
      if (scope === 'friends') setScope('friends');
    },
    /** The public board changed: the friends tab follows it. */
    boardChanged() {
      refreshFriendsBoard();
    },
    /** After the player's own action: progress moved. */
    acted() {
      void loadAchievements();
    },
  };
}
