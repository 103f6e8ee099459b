import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signDevPlayerJwt } from '../../src/auth/player-jwt.js';
import {
  boardRows,
  completeTasks,
  devToken,
  ensureWebBuild,
  launchChromium,
  ROOT,
  signInOnPage,
  sleep,
  startServer,
  waitForLive,
  waitForRow,
  type RunningServer,
} from './harness.js';

/**
 * The scoreboard page against the real server (embedded PGlite), in Chromium.
 * The cases share one server and build on each other's data, in order.
 */

const RATE_LIMIT = 12; // actions per player per hour: low, so the page can be shown a RATE_LIMITED error
const ARTIFACTS = join(ROOT, 'test-results');

let dataDir: string;
let server: RunningServer;
let browser: Browser;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

async function newPage(options: Parameters<Browser['newContext']>[0] = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1024, height: 800 }, ...options });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  return page;
}

const serverEnv = { RATE_LIMIT_ACTIONS_PER_HOUR: String(RATE_LIMIT) };

describe('scoreboard page', () => {
  beforeAll(async () => {
    ensureWebBuild();
    mkdirSync(ARTIFACTS, { recursive: true });
    dataDir = mkdtempSync(join(tmpdir(), 'scoreboard-browser-'));
    [server, browser] = await Promise.all([startServer(dataDir, 0, serverEnv), launchChromium()]);
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

  it('serves the built page with its assets', async () => {
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    const js = await fetch(`${server.url}${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(js.headers.get('cache-control')).toContain('immutable');
  });

  it("shows player A's task on player B's page within 2 s, without reload", async () => {
    const [a, b] = await Promise.all([newPage(), newPage()]);
    await Promise.all([signInOnPage(a, server.url, 'alice'), signInOnPage(b, server.url, 'bob')]);
    await Promise.all([waitForLive(a), waitForLive(b)]);
    await expect(b.getByTestId('my-score').getAttribute('data-score')).resolves.toBe('0');

    const navigations: string[] = [];
    b.on('framenavigated', (frame) => navigations.push(frame.url()));

    const clicked = Date.now();
    await a.getByTestId('complete-task').click();
    await waitForRow(b, 'alice', { rank: 1, score: 10 }, 2_000);
    const elapsed = Date.now() - clicked;
    expect(elapsed).toBeLessThan(2_000);
    expect(navigations, 'B must not reload').toEqual([]);

    // A sees the outcome of the mutation and the same board.
    await expect(a.getByTestId('last-action').textContent()).resolves.toMatch(/\+10 points · rank #1/);
    await expect(a.getByTestId('my-score').getAttribute('data-rank')).resolves.toBe('1');
    await waitForRow(a, 'alice', { rank: 1, score: 10 });

    // B overtakes A: rows swap on both pages, with a FLIP move, and A's own rank follows.
    await a.evaluate(() => {
      const w = window as unknown as { moves: number };
      w.moves = 0;
      new MutationObserver(() => {
        for (const row of document.querySelectorAll('[data-testid="leaderboard-row"]')) {
          if (row.getAnimations().some((an) => JSON.stringify((an.effect as KeyframeEffect).getKeyframes()).includes('translateY'))) {
            w.moves += 1;
          }
        }
      }).observe(document.querySelector('[data-testid="leaderboard"]')!, { subtree: true, childList: true, attributes: true });
    });
    await b.getByTestId('complete-task').click();
    await waitForRow(b, 'bob', { rank: 2, score: 10 }, 2_000);
    await b.getByTestId('complete-task').click();
    await Promise.all([
      waitForRow(a, 'bob', { rank: 1, score: 20 }, 2_000),
      waitForRow(a, 'alice', { rank: 2, score: 10 }, 2_000),
      waitForRow(b, 'bob', { rank: 1, score: 20 }, 2_000),
    ]);
    await a.locator('[data-testid="my-score"][data-rank="2"]').waitFor({ timeout: 2_000 });
    await expect(b.getByTestId('my-score').getAttribute('data-rank')).resolves.toBe('1');
    expect(await a.evaluate(() => (window as unknown as { moves: number }).moves)).toBeGreaterThan(0);
  }, 60_000);

  it('signs in with a pasted JWT and rejects garbage', async () => {
    const page = await newPage();
    await page.goto(server.url);
    await page.locator('summary').click();
    await page.getByTestId('jwt').fill('not-a-jwt');
    await page.getByTestId('use-jwt').click();
    await expect(page.getByTestId('status').getAttribute('data-kind')).resolves.toBe('error');
    await expect(page.getByTestId('status').textContent()).resolves.toMatch(/does not look like a JWT/);

    // A well-formed token the server does not accept: the API's error is shown.
    const forged = await signDevPlayerJwt(
      { secret: new TextEncoder().encode('x'.repeat(48)), issuer: 'scoreboard', audience: 'scoreboard-api' },
      { id: 'dev-mallory', username: 'mallory' },
    );
    await page.getByTestId('jwt').fill(forged);
    await page.getByTestId('use-jwt').click();
    await page.locator('[data-testid="status"]', { hasText: 'UNAUTHENTICATED' }).waitFor({ timeout: 5_000 });
    await expect(page.getByTestId('signed-out').isVisible()).resolves.toBe(true);

    const token = await devToken(server.url, 'carol');
    await page.getByTestId('jwt').fill(`Bearer ${token}`);
    await page.getByTestId('use-jwt').click();
    await page.locator('[data-testid="who"]', { hasText: 'carol' }).waitFor({ timeout: 5_000 });
    await expect(page.evaluate(() => localStorage.getItem('scoreboard.token'))).resolves.toBe(token);

    // The token survives a reload.
    await page.reload();
    await page.locator('[data-testid="my-score"][data-score="0"]').waitFor({ timeout: 5_000 });
    await page.getByTestId('sign-out').click();
    await expect(page.evaluate(() => localStorage.getItem('scoreboard.token'))).resolves.toBeNull();
    await expect(page.getByTestId('username').isVisible()).resolves.toBe(true);
  }, 60_000);

  it('shows RATE_LIMITED with its retryAfter in the status line', async () => {
    await completeTasks(server.url, await devToken(server.url, 'dave'), RATE_LIMIT);
    const page = await newPage();
    await signInOnPage(page, server.url, 'dave');
    await page.getByTestId('complete-task').click();
    const status = page.locator('[data-testid="status"][data-kind="error"]', { hasText: 'RATE_LIMITED' });
    await status.waitFor({ timeout: 5_000 });
    expect(await status.textContent()).toMatch(/try again in \d+ (s|min)/);
    await expect(page.getByTestId('my-score').getAttribute('data-score')).resolves.toBe(String(RATE_LIMIT * 10));
    await expect(page.getByTestId('complete-task').isEnabled()).resolves.toBe(true);
  }, 60_000);

  it('renders the board at phone width (375 px)', async () => {
    // A fuller board: a few more players, one with a name as long as allowed.
    const longName = 'a_very_long_player_name_32_chars';
    expect(longName).toHaveLength(32);
    for (const [name, tasks] of [
      ['erin', 3],
      [longName, 2],
      ['frank', 4],
      ['grace', 1],
      ['heidi', 5],
    ] as const) {
      await completeTasks(server.url, await devToken(server.url, name), tasks);
    }
    const page = await newPage({ viewport: { width: 375, height: 812 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    await signInOnPage(page, server.url, 'alice');
    await waitForLive(page);
    await waitForRow(page, 'dave', { rank: 1, score: RATE_LIMIT * 10 });
    await waitForRow(page, longName, { rank: 6, score: 20 });

    const layout = await page.evaluate(() => {
      const board = document.querySelector<HTMLElement>('[data-testid="leaderboard"]')!;
      const rows = [...board.querySelectorAll<HTMLElement>('[data-testid="leaderboard-row"]')];
      const button = document.querySelector<HTMLElement>('[data-testid="complete-task"]')!.getBoundingClientRect();
      return {
        innerWidth: window.innerWidth,
        scrollWidth: document.documentElement.scrollWidth,
        boardRight: board.getBoundingClientRect().right,
        buttonRight: button.right,
        buttonHeight: button.height,
        rows: rows.length,
        rowsFit: rows.every((r) => r.scrollWidth <= r.clientWidth && r.getBoundingClientRect().right <= window.innerWidth),
        scoresVisible: rows.every((r) => {
          const s = r.querySelector('.score')!.getBoundingClientRect();
          return s.width > 0 && s.right <= window.innerWidth;
        }),
      };
    });
    expect(layout.innerWidth).toBe(375);
    expect(layout.scrollWidth, 'no horizontal scrolling').toBeLessThanOrEqual(375);
    expect(layout.boardRight).toBeLessThanOrEqual(375);
    expect(layout.buttonRight).toBeLessThanOrEqual(375);
    expect(layout.buttonHeight, 'a thumb-sized button').toBeGreaterThanOrEqual(36);
    expect(layout.rows).toBe(8);
    expect(layout.rowsFit).toBe(true);
    expect(layout.scoresVisible).toBe(true);

    await page.getByTestId('complete-task').click();
    await page.locator('[data-testid="last-action"]', { hasText: '+10 points' }).waitFor();
    await waitForRow(page, 'alice', { rank: 7, score: 20 });
    await sleep(700); // let the row animations finish for a clean picture
    await page.screenshot({ path: join(ARTIFACTS, 'scoreboard-phone.png'), fullPage: true });
  }, 90_000);

  it('takes a desktop screenshot', async () => {
    const page = await newPage({ viewport: { width: 720, height: 900 }, deviceScaleFactor: 1 });
    await signInOnPage(page, server.url, 'frank');
    await waitForLive(page);
    await page.getByTestId('complete-task').click();
    await page.locator('[data-testid="last-action"]', { hasText: '+10 points' }).waitFor();
    await sleep(700);
    await page.screenshot({ path: join(ARTIFACTS, 'scoreboard.png'), fullPage: true });
    if (process.env.UPDATE_SCREENSHOT === '1') copyFileSync(join(ARTIFACTS, 'scoreboard.png'), join(ROOT, 'docs/screenshot.png'));
  }, 60_000);

  it('recovers after the server restarts: reconnecting, then live with the right board', async () => {
    const [a, b] = await Promise.all([newPage(), newPage()]);
    await Promise.all([signInOnPage(a, server.url, 'alice'), signInOnPage(b, server.url, 'bob')]);
    await Promise.all([waitForLive(a), waitForLive(b)]);
    const before = await boardRows(b);
    expect(before.length).toBeGreaterThan(0);

    const { port } = server;
    await server.app.stop();
    await Promise.all([a, b].map((p) => p.locator('[data-testid="connection"][data-state="reconnecting"]').waitFor({ timeout: 10_000 })));
    // Same data, same port: what a deploy or a crash-restart looks like to the page.
    server = await startServer(dataDir, port, serverEnv);
    // A change the pages can only learn from the new server (snapshot or event).
    await completeTasks(server.url, await devToken(server.url, 'ivan'), 1);

    await Promise.all([waitForLive(a, 30_000), waitForLive(b, 30_000)]);
    const expected = [...before, { username: 'ivan', score: 10, rank: 0 }].sort((x, y) => y.score - x.score).map((e) => `${e.username}:${e.score}`);
    const sameBoard = async (page: Page) => {
      await page.waitForFunction(
        (want) =>
          [...document.querySelectorAll<HTMLElement>('[data-testid="leaderboard-row"]')]
            .map((r) => `${r.dataset.username}:${r.dataset.score}`)
            .sort()
            .join(',') === [...want].sort().join(','),
        expected.slice(0, 10),
        { timeout: 10_000 },
      );
    };
    await Promise.all([sameBoard(a), sameBoard(b)]);

    // Live updates flow again, through the new subscriptions.
    await a.getByTestId('complete-task').click();
    await waitForRow(b, 'alice', { rank: 5, score: 30 }, 2_000);
    await a.locator('[data-testid="my-score"][data-score="30"][data-rank="5"]').waitFor({ timeout: 2_000 });
  }, 120_000);
});
