import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signDevPlayerJwt } from '../../src/auth/player-jwt.js';
import { loadConfig } from '../../src/config.js';
import { AcceptFriendDocument, UpsertAchievementDocument } from '../../sdk/generated/graphql.js';
import { completeTasks, devToken, ensureWebBuild, gql, launchChromium, signInOnPage, startServer, waitForLive, type RunningServer } from './harness.js';

/**
 * The social layer on the page, real server (embedded) and Chromium: the
 * overtaken notice fed by myStandingChanged, achievements with progress, and
 * the friends tab of the board. The cases build on each other, in order.
 */

let dataDir: string;
let server: RunningServer;
let browser: Browser;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1024, height: 1200 } });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  return page;
}

const subOf = (jwt: string) => (JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { sub: string }).sub;

describe('social layer on the page', () => {
  let alice: Page;
  let bob: string;
  let carol: string;

  beforeAll(async () => {
    ensureWebBuild();
    dataDir = mkdtempSync(join(tmpdir(), 'scoreboard-social-page-'));
    server = await startServer(dataDir, 0, { RATE_LIMIT_ACTIONS_PER_HOUR: '10000' });
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await server?.app.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("shows a notice on A's page when B passes A", async () => {
    alice = await newPage();
    await signInOnPage(alice, server.url, 'alice');
    await waitForLive(alice);
    const aliceToken = await devToken(server.url, 'alice');
    await completeTasks(server.url, aliceToken, 2); // alice 20
    bob = await devToken(server.url, 'bob');
    await completeTasks(server.url, bob, 1); // bob 10
    // Alice's live standing says first place (her subscription is up).
    await alice.locator('[data-testid="overtaken-notice"][data-current-rank="1"]').waitFor({ state: 'attached', timeout: 10_000 });
    expect(await alice.getByTestId('overtaken-notice').isHidden()).toBe(true);

    await completeTasks(server.url, bob, 2); // bob 30: passes alice
    const notice = alice.getByTestId('overtaken-notice');
    await notice.waitFor({ state: 'visible', timeout: 10_000 });
    expect(await notice.textContent()).toContain('bob overtook you: you are now #2 (was #1)');
    expect(await notice.getAttribute('data-overtaken-by')).toBe(subOf(bob));
    await alice.getByTestId('overtaken-dismiss').click();
    await notice.waitFor({ state: 'hidden' });
  }, 60_000);

  it('lists achievements, locked ones with progress, and shows an unlock', async () => {
    const op = await signDevPlayerJwt(loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'warn' }).jwt, { id: 'ops', username: 'ops', roles: ['admin'] });
    await gql(server.url, UpsertAchievementDocument, { input: { code: 'FORTY', title: 'Forty points', kind: 'SCORE_AT_LEAST', board: 'global', threshold: 40 } }, op);
    await alice.reload();
    const row = alice.locator('[data-testid="achievement"][data-code="FORTY"]');
    await row.and(alice.locator('[data-unlocked="false"][data-progress="20"][data-target="40"]')).waitFor({ timeout: 10_000 });
    expect(await row.textContent()).toContain('20 / 40');
    await alice.getByTestId('complete-task').click();
    await row.and(alice.locator('[data-progress="30"]')).waitFor({ timeout: 10_000 });
    await alice.getByTestId('complete-task').click();
    await row.and(alice.locator('[data-unlocked="true"][data-progress="40"]')).waitFor({ timeout: 10_000 });
    expect(await row.textContent()).toContain('unlocked');
  }, 60_000);

  it('the friends tab shows alice and her accepted friends only', async () => {
    carol = await devToken(server.url, 'carol');
    await completeTasks(server.url, carol, 8); // carol 80: tops the board, but is no friend
    await alice.getByTestId('friend-id').fill(subOf(bob));
    await alice.getByTestId('add-friend').click();
    await alice.locator(`[data-testid="friend-row"][data-player-id="${subOf(bob)}"][data-status="PENDING_OUT"]`).waitFor({ timeout: 10_000 });
    await gql(server.url, AcceptFriendDocument, { player: subOf(await devToken(server.url, 'alice')) }, bob);
    await alice.reload();
    await alice.locator(`[data-testid="friend-row"][data-player-id="${subOf(bob)}"][data-status="ACCEPTED"]`).waitFor({ timeout: 10_000 });

    await alice.getByTestId('scope-friends').click();
    expect(await alice.getByTestId('scope-friends').getAttribute('aria-selected')).toBe('true');
    await alice.waitForFunction(
      () => [...document.querySelectorAll<HTMLElement>('[data-testid="friends-board"] [data-testid="friends-row"]')].map((r) => r.dataset.username).join(',') === 'alice,bob',
      undefined,
      { timeout: 10_000 },
    );
    expect(await alice.getByTestId('leaderboard').isHidden()).toBe(true);
    await alice.getByTestId('scope-everyone').click();
    await alice.getByTestId('leaderboard').waitFor({ state: 'visible' });
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
