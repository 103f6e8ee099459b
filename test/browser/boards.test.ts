import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signDevPlayerJwt } from '../../src/auth/player-jwt.js';
import { loadConfig } from '../../src/config.js';
import { BoardsDocument, UpsertBoardDocument, type BoardInput } from '../../sdk/generated/graphql.js';
import { completeTasks, devToken, ensureWebBuild, gql, launchChromium, ROOT, signInOnPage, sleep, startServer, waitForLive, waitForRow, type RunningServer } from './harness.js';

/**
 * Boards on the page: one tab per enabled board, the chosen board's period and
 * rows, and "Around you" for a signed-in player. Real server (embedded PGlite),
 * Chromium; the cases share one server and build on each other's data, in order.
 */

const ARTIFACTS = join(ROOT, 'test-results');
// No JWT_SECRET: the server keeps its generated dev secret in DATA_DIR (dev sign-in exists only
// then), and the test signs operator tokens with that same secret (loadConfig reads the file).
const serverEnv = { PLAYER_ATTRIBUTE_CLAIMS: 'country' };

/** Enabled boards the operator creates (the server lists them after global, by id). */
const BOARDS: BoardInput[] = [
  { id: 'weekly', title: 'Weekly (New York)', window: 'WEEKLY', timeZone: 'America/New_York', enabled: true },
  // A title with markup in it: it must show as text, never as HTML.
  { id: 'monthly', title: 'Monthly <b>sprint</b>', window: 'MONTHLY', timeZone: 'UTC', enabled: true },
  { id: 'by-country', title: 'By country', window: 'ALL_TIME', segmentBy: 'country', enabled: true },
  // Periods of 2 s: the page must follow the board into each new period.
  { id: 'blitz', title: 'Blitz', window: 'CUSTOM', periodSeconds: 2, enabled: true },
];
const DISABLED: BoardInput = { id: 'retired', title: 'Retired board', window: 'DAILY', enabled: false };

let dataDir: string;
let server: RunningServer;
let browser: Browser;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

async function newPage(options: Parameters<Browser['newContext']>[0] = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1024, height: 900 }, ...options });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  return page;
}

function jwtConfig() {
  return loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...serverEnv }).jwt;
}

const tabTexts = (page: Page) => page.getByTestId('board-tab').allTextContents();
const selectedTab = (page: Page) => page.locator('[data-testid="board-tab"][aria-selected="true"]');

/** Waits until the board card shows exactly these players (in order) for board `id`. */
function waitForBoard(page: Page, id: string, usernames: string[], timeout = 5_000) {
  return page.waitForFunction(
    ([board, want]) => {
      const list = document.querySelector<HTMLElement>('[data-testid="leaderboard"]')!;
      const rows = [...list.querySelectorAll<HTMLElement>('[data-testid="leaderboard-row"]')].map((r) => r.dataset.username);
      return list.dataset.board === board && list.dataset.seq !== '' && rows.join(',') === want.join(',');
    },
    [id, usernames] as const,
    { timeout, polling: 'raf' },
  );
}

/** The rows of "Around you": username, rank, and whether it is marked as the player's own. */
function aroundRows(page: Page) {
  return page.$$eval('[data-testid="around-me"] [data-testid="around-row"]', (rows) =>
    rows.map((r) => ({
      username: (r as HTMLElement).dataset.username,
      rank: Number((r as HTMLElement).dataset.rank),
      current: r.getAttribute('aria-current'),
    })),
  );
}

/** Waits until "Around you" marks `username` as the current row, at `rank` (any rank when null). */
function waitForAroundMe(page: Page, username: string, rank: number | null, timeout = 5_000) {
  return page.waitForFunction(
    ([name, want]) => {
      const panel = document.querySelector<HTMLElement>('[data-testid="around-me"]')!;
      if (panel.hidden) return false;
      const current = panel.querySelectorAll<HTMLElement>('[data-testid="around-row"][aria-current="true"]');
      return current.length === 1 && current[0]!.dataset.username === name && (want === null || current[0]!.dataset.rank === String(want));
    },
    [username, rank] as const,
    { timeout, polling: 'raf' },
  );
}

describe('boards on the page', () => {
  beforeAll(async () => {
    ensureWebBuild();
    mkdirSync(ARTIFACTS, { recursive: true });
    dataDir = mkdtempSync(join(tmpdir(), 'scoreboard-browser-boards-'));
    [server, browser] = await Promise.all([startServer(dataDir, 0, serverEnv), launchChromium()]);

    // Scores before the boards exist count on global only.
    await completeTasks(server.url, await devToken(server.url, 'alice'), 3);

    const operator = await signDevPlayerJwt(jwtConfig(), { id: 'ops-1', username: 'ops', roles: ['admin'] });
    for (const input of [...BOARDS, DISABLED]) await gql(server.url, UpsertBoardDocument, { input }, operator);

    // From now on every credit lands on global and on the enabled boards.
    await completeTasks(server.url, await devToken(server.url, 'bob'), 2);
    await completeTasks(server.url, await devToken(server.url, 'carol'), 1);
  }, 180_000);

  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close()));
    expect(pageErrors.splice(0), 'uncaught errors in the page').toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.app.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('offers one tab per enabled board, global first, titles as text; no around-me when signed out', async () => {
    const { boards } = await gql(server.url, BoardsDocument, {});
    const enabled = boards.filter((b) => b.enabled);
    expect(boards.map((b) => b.id)).toContain('retired');
    expect(enabled.map((b) => b.id)).toEqual(['global', ...BOARDS.map((b) => b.id).sort()]);

    const page = await newPage();
    await page.goto(server.url);
    await page
      .locator('[data-testid="board-tab"]')
      .nth(enabled.length - 1)
      .waitFor();
    expect(await tabTexts(page)).toEqual(enabled.map((b) => b.title));
    expect(await tabTexts(page)).not.toContain('Retired board');
    await expect(page.getByTestId('board-tab').count()).resolves.toBe(enabled.length);
    expect(await page.locator('[data-testid="board-tabs"] b').count(), 'titles are text, not HTML').toBe(0);
    expect(await page.getByRole('tablist').getByRole('tab').count()).toBe(enabled.length);

    // Global is chosen by default, and only it.
    await expect(selectedTab(page).count()).resolves.toBe(1);
    await expect(selectedTab(page).getAttribute('id')).resolves.toBe('tab-global');
    await expect(page.locator('[data-testid="board-tab"][aria-selected="false"]').count()).resolves.toBe(enabled.length - 1);
    await waitForLive(page);
    await waitForBoard(page, 'global', ['alice', 'bob', 'carol']);
    await page.locator('[data-testid="board-period"]', { hasText: 'All time' }).waitFor();

    await expect(page.getByTestId('around-me').isVisible()).resolves.toBe(false);
  }, 60_000);

  it("moves aria-selected on click and shows the chosen board's period and entries", async () => {
    const { boards } = await gql(server.url, BoardsDocument, {});
    const weekly = boards.find((b) => b.id === 'weekly')!;
    const monthly = boards.find((b) => b.id === 'monthly')!;

    const page = await newPage();
    await page.goto(server.url);
    await waitForLive(page);
    await waitForBoard(page, 'global', ['alice', 'bob', 'carol']);

    await page.getByTestId('board-tab').filter({ hasText: 'Weekly (New York)' }).click();
    await expect(selectedTab(page).textContent()).resolves.toBe('Weekly (New York)');
    await expect(page.locator('#tab-global').getAttribute('aria-selected')).resolves.toBe('false');
    // alice scored before the board existed: she is not on it.
    await waitForBoard(page, 'weekly', ['bob', 'carol']);
    await waitForRow(page, 'bob', { rank: 1, score: 20 });
    const period = page.getByTestId('board-period');
    await page.locator(`[data-testid="board-period"][data-board="weekly"][data-period-key="${weekly.currentPeriod.key}"]`).waitFor();
    await expect(period.textContent()).resolves.toBe(`Week of ${weekly.currentPeriod.key} (America/New_York)`);
    expect(new URL(page.url()).hash).toBe('#board=weekly');

    // Live on the chosen board: a new player's task shows up without reload.
    await completeTasks(server.url, await devToken(server.url, 'dave'), 3);
    await waitForBoard(page, 'weekly', ['dave', 'bob', 'carol']);

    // Keyboard: the arrow moves to the neighbouring tab (weekly is last, monthly before it) and chooses it.
    await selectedTab(page).focus();
    await page.keyboard.press('ArrowLeft');
    await expect(selectedTab(page).textContent()).resolves.toBe('Monthly <b>sprint</b>');
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('tab-monthly');
    await waitForBoard(page, 'monthly', ['dave', 'bob', 'carol']);
    const [year, month] = monthly.currentPeriod.key.split('-').map(Number);
    const monthName = new Date(Date.UTC(year!, month! - 1, 1)).toLocaleString('en', { month: 'long', timeZone: 'UTC' });
    await page.locator('[data-testid="board-period"]', { hasText: `${monthName} ${year} (UTC)` }).waitFor();

    // Back to global: its own rows again.
    await page.locator('#tab-global').click();
    await waitForBoard(page, 'global', ['alice', 'dave', 'bob', 'carol']);
    await expect(selectedTab(page).getAttribute('id')).resolves.toBe('tab-global');
    await page.locator('[data-testid="board-period"]', { hasText: 'All time' }).waitFor();
  }, 60_000);

  it('remembers the chosen board (hash and reload) and ignores a disabled one', async () => {
    const page = await newPage();
    await page.goto(`${server.url}/#board=weekly`);
    await expect(selectedTab(page).getAttribute('id')).resolves.toBe('tab-weekly');
    await waitForBoard(page, 'weekly', ['dave', 'bob', 'carol']);

    await page.locator('#tab-monthly').click();
    await waitForBoard(page, 'monthly', ['dave', 'bob', 'carol']);
    await page.goto(server.url); // no hash: the last choice on this browser
    await page.locator('#tab-monthly[aria-selected="true"]').waitFor();
    await waitForBoard(page, 'monthly', ['dave', 'bob', 'carol']);

    // A disabled (or unknown) board in the address: global instead.
    const other = await newPage();
    await other.goto(`${server.url}/#board=retired`);
    await other.locator('#tab-global[aria-selected="true"]').waitFor();
    await waitForBoard(other, 'global', ['alice', 'dave', 'bob', 'carol']);
    await expect(other.locator('#tab-retired').count()).resolves.toBe(0);
    expect(new URL(other.url()).hash).toBe('');
  }, 60_000);

  it("shows the signed-in player's neighbours in around-me, their own row aria-current, after they act", async () => {
    // A fuller weekly board: erin will land in the middle of it.
    for (const [name, tasks] of [
      ['frank', 6],
      ['grace', 5],
      ['heidi', 4],
    ] as const) {
      await completeTasks(server.url, await devToken(server.url, name), tasks);
    }
    const page = await newPage();
    await signInOnPage(page, server.url, 'erin');
    await waitForLive(page);
    await page.locator('#tab-weekly').click();
    await waitForBoard(page, 'weekly', ['frank', 'grace', 'heidi', 'dave', 'bob', 'carol']);

    // Not on the board yet: the panel says so and marks nobody.
    const panel = page.getByTestId('around-me');
    await page.locator('[data-testid="around-me"][data-state="unranked"]').waitFor();
    await expect(panel.isVisible()).resolves.toBe(true);
    await expect(page.getByTestId('around-note').textContent()).resolves.toMatch(/not on this board yet/);
    await expect(page.locator('[data-testid="around-row"][aria-current]').count()).resolves.toBe(0);

    // Two tasks: 20 points, tied with bob but later, so rank 6 of 7.
    await page.getByTestId('complete-task').click();
    await page.locator('[data-testid="last-action"]', { hasText: '+10 points' }).waitFor();
    await page.getByTestId('complete-task').click();
    await page.locator('[data-testid="my-score"][data-score="20"]').waitFor();
    await waitForAroundMe(page, 'erin', 6);
    await page.locator('[data-testid="around-me"][data-state="ranked"]').waitFor();
    expect(await aroundRows(page)).toEqual([
      { username: 'heidi', rank: 3, current: null },
      { username: 'dave', rank: 4, current: null },
      { username: 'bob', rank: 5, current: null },
      { username: 'erin', rank: 6, current: 'true' },
      { username: 'carol', rank: 7, current: null },
    ]);
    await expect(page.getByTestId('around-note').isVisible()).resolves.toBe(false);
    // The top 10 marks the player too.
    await page.locator('[data-testid="leaderboard-row"][data-username="erin"][aria-current="true"]').waitFor();

    // Someone else's task moves erin: the panel follows the board.
    await completeTasks(server.url, await devToken(server.url, 'carol'), 2);
    await waitForAroundMe(page, 'erin', 7);
    await page.waitForFunction(() =>
      [...document.querySelectorAll<HTMLElement>('[data-testid="around-row"]')].some((r) => r.dataset.username === 'carol' && r.dataset.rank === '5'),
    );

    // Another board, another neighbourhood: on global, alice (30) is in it.
    await page.locator('#tab-global').click();
    await waitForBoard(page, 'global', ['frank', 'grace', 'heidi', 'alice', 'dave', 'carol', 'bob', 'erin']);
    await waitForAroundMe(page, 'erin', 8);
    expect((await aroundRows(page)).map((r) => r.username)).toEqual(['alice', 'dave', 'carol', 'bob', 'erin']);

    // Signed out: no panel.
    await page.getByTestId('sign-out').click();
    await expect(panel.isVisible()).resolves.toBe(false);
  }, 90_000);

  it('shows a per-country board for the signed-in player, and asks signed-out visitors to sign in', async () => {
    const config = jwtConfig();
    for (const [id, name, country, tasks] of [
      ['p-fr-1', 'amelie', 'FR', 2],
      ['p-de-1', 'bernd', 'DE', 3],
      ['p-fr-2', 'chloe', 'FR', 1],
    ] as const) {
      await completeTasks(server.url, await signDevPlayerJwt(config, { id, username: name, attributes: { country } }), tasks);
    }
    const page = await newPage();
    await page.goto(`${server.url}/#board=by-country`);
    await page.locator('[data-testid="board-note"]', { hasText: 'sign in' }).waitFor();
    await expect(page.getByTestId('leaderboard-row').count()).resolves.toBe(0);

    // Signed in with a country: that country's board, live.
    await page.locator('summary').click();
    await page.getByTestId('jwt').fill(await signDevPlayerJwt(config, { id: 'p-fr-3', username: 'didier', attributes: { country: 'FR' } }));
    await page.getByTestId('use-jwt').click();
    await waitForBoard(page, 'by-country', ['amelie', 'chloe']);
    await page.locator('[data-testid="board-period"]', { hasText: 'country FR' }).waitFor();
    await expect(page.getByTestId('board-note').isVisible()).resolves.toBe(false);
    await page.getByTestId('complete-task').click();
    await waitForBoard(page, 'by-country', ['amelie', 'chloe', 'didier']);
    await waitForAroundMe(page, 'didier', 3);
  }, 60_000);

  it('follows the board into its next period', async () => {
    const page = await newPage();
    await page.goto(`${server.url}/#board=blitz`);
    const first = page.locator('[data-testid="board-period"][data-board="blitz"]');
    await first.waitFor();
    // Key and text read together: with 2 s periods, two separate reads can straddle a rollover.
    const [keyText, label] = await first.evaluate((el) => [el.getAttribute('data-period-key'), el.textContent]);
    const key = Number(keyText);
    expect(label).toMatch(new RegExp(`^Period ${key}: `));
    // The subscription (period: null) delivers the next period's board at the boundary.
    await page.waitForFunction((was) => Number(document.querySelector<HTMLElement>('[data-testid="board-period"]')!.dataset.periodKey) > was, key, { timeout: 15_000 });
    expect(await page.getByTestId('board-period').textContent()).toMatch(/^Period \d+: /);
    await waitForLive(page);
  }, 60_000);

  it('fits tabs and around-me at phone width (375 px) and takes a screenshot', async () => {
    const page = await newPage({ viewport: { width: 375, height: 812 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    await signInOnPage(page, server.url, 'erin');
    await page.locator('#tab-weekly').click();
    await waitForLive(page);
    // Others have scored on weekly since (the per-country players): erin's rank is theirs to decide.
    await waitForAroundMe(page, 'erin', null);
    const layout = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      tabsRight: document.querySelector('[data-testid="board-tabs"]')!.getBoundingClientRect().right,
      tabsInView: [...document.querySelectorAll('[data-testid="board-tab"]')].every((t) => {
        const r = t.getBoundingClientRect();
        return r.width > 0 && r.left >= 0 && r.right <= window.innerWidth;
      }),
      aroundRight: document.querySelector('[data-testid="around-me"]')!.getBoundingClientRect().right,
    }));
    expect(layout.scrollWidth, 'no horizontal scrolling').toBeLessThanOrEqual(375);
    expect(layout.tabsRight).toBeLessThanOrEqual(375);
    expect(layout.tabsInView, 'every board tab in sight').toBe(true);
    expect(layout.aroundRight).toBeLessThanOrEqual(375);
    await page.screenshot({ path: join(ARTIFACTS, 'boards-phone.png'), fullPage: true });

    const desktop = await newPage({ viewport: { width: 720, height: 900 }, deviceScaleFactor: 1 });
    await signInOnPage(desktop, server.url, 'heidi');
    await desktop.locator('#tab-weekly').click();
    await waitForLive(desktop);
    await waitForAroundMe(desktop, 'heidi', null);
    await sleep(700); // let row animations finish for a clean picture
    await desktop.screenshot({ path: join(ARTIFACTS, 'boards.png'), fullPage: true });
    if (process.env.UPDATE_SCREENSHOT === '1') copyFileSync(join(ARTIFACTS, 'boards.png'), join(ROOT, 'docs/screenshot.png'));
  }, 60_000);

  it('stays on the chosen board across a server restart and resyncs it', async () => {
    const page = await newPage();
    await signInOnPage(page, server.url, 'erin');
    await page.locator('#tab-weekly').click();
    await waitForLive(page);
    await waitForAroundMe(page, 'erin', null);
    const erinBefore = (await aroundRows(page)).find((r) => r.current === 'true')!.rank;

    const { port } = server;
    await server.app.stop();
    await page.locator('[data-testid="connection"][data-state="reconnecting"]').waitFor({ timeout: 10_000 });
    server = await startServer(dataDir, port, serverEnv);
    // A change only the new server knows: ivan tops the weekly board.
    await completeTasks(server.url, await devToken(server.url, 'ivan'), 7);

    await waitForLive(page, 30_000);
    await waitForRow(page, 'ivan', { rank: 1, score: 70 }, 10_000);
    await expect(page.locator('[data-testid="leaderboard"]').getAttribute('data-board')).resolves.toBe('weekly');
    await expect(selectedTab(page).getAttribute('id')).resolves.toBe('tab-weekly');
    await page.locator('[data-testid="board-period"][data-board="weekly"]', { hasText: 'Week of' }).waitFor();
    // Around you follows too: ivan pushed erin down one place.
    await waitForAroundMe(page, 'erin', erinBefore + 1);
  }, 120_000);
});
