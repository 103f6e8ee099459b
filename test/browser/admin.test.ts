import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { signDevPlayerJwt } from '../../src/auth/player-jwt.js';
import { loadConfig } from '../../src/config.js';
import { AdminAuditLogDocument, BoardLeaderboardDocument, BoardsDocument, UpsertBoardDocument } from '../../sdk/generated/graphql.js';
import { completeTasks, devToken, ensureWebBuild, gql, launchChromium, ROOT, startServer, type RunningServer } from './harness.js';

/**
 * The operator console at /admin, in Chromium against the real server
 * (embedded PGlite): sign-in with an operator JWT (and refusals), boards with
 * their tops, finding a player, hiding them with a required reason, the public
 * board dropping them, the audit log (newest first, "more" pages), and a void.
 * The cases share one server and build on each other's data, in order.
 */

const ARTIFACTS = join(ROOT, 'test-results');
// No JWT_SECRET: the server keeps its generated dev secret in DATA_DIR (dev sign-in exists only
// then), and the test signs operator tokens with that same secret (loadConfig reads the file).
const OPERATOR = { id: 'ops-olga', username: 'Olga Ops', roles: ['admin'] };

let dataDir: string;
let server: RunningServer;
let browser: Browser;
let operatorToken: string;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];
/** Player ids by username (dev sign-in ids are "dev-<username>"-like; read them from the server). */
const ids = new Map<string, string>();

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 1000 } });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  return page;
}

async function signInAdmin(page: Page, token: string) {
  const response = await page.goto(`${server.url}/admin`);
  await page.getByTestId('admin-token').fill(token);
  await page.getByTestId('admin-sign-in').click();
  return response;
}

/** The public global board, as anyone (no JWT) reads it over GraphQL. */
async function publicBoard(first = 10) {
  const { leaderboard } = await gql(server.url, BoardLeaderboardDocument, { board: 'global', first }, undefined);
  return leaderboard.entries.map((e) => ({ position: e.position, username: e.player.username, score: e.score }));
}

const auditRows = (page: Page) =>
  page.$$eval('[data-testid="admin-audit-log"] [data-testid="audit-row"]', (rows) =>
    rows.map((r) => ({
      id: Number((r as HTMLElement).dataset.id),
      kind: (r as HTMLElement).dataset.kind,
      player: (r as HTMLElement).dataset.playerId ?? null,
      actionId: (r as HTMLElement).dataset.actionId ?? null,
      text: r.textContent ?? '',
    })),
  );

/** Waits until the first audit row is of `kind` for `playerId`. */
function waitForTopAudit(page: Page, kind: string, playerId: string) {
  return page.waitForFunction(
    ([k, p]) => {
      const first = document.querySelector<HTMLElement>('[data-testid="admin-audit-log"] [data-testid="audit-row"]');
      return first?.dataset.kind === k && first.dataset.playerId === p;
    },
    [kind, playerId] as const,
    { polling: 'raf' },
  );
}

/** Waits until the public page's board shows exactly these usernames, in order. */
function waitForPublicRows(page: Page, usernames: string[]) {
  return page.waitForFunction(
    (want) => {
      const rows = [...document.querySelectorAll<HTMLElement>('[data-testid="leaderboard"] [data-testid="leaderboard-row"]')];
      return rows.map((r) => r.dataset.username).join(',') === want.join(',');
    },
    usernames,
    { polling: 'raf' },
  );
}

/** Waits until the admin card of `board` lists exactly these usernames in its top. */
function waitForAdminTop(page: Page, board: string, usernames: string[]) {
  return page.waitForFunction(
    ([id, want]) => {
      const card = document.querySelector<HTMLElement>(`[data-testid="admin-board"][data-board-id="${id}"]`);
      if (!card) return false;
      const rows = [...card.querySelectorAll<HTMLElement>('[data-testid="admin-board-row"]')].map((r) => r.dataset.username);
      return rows.join(',') === want.join(',');
    },
    [board, usernames] as const,
    { polling: 'raf' },
  );
}

describe('operator console (/admin)', () => {
  beforeAll(async () => {
    ensureWebBuild();
    mkdirSync(ARTIFACTS, { recursive: true });
    dataDir = mkdtempSync(join(tmpdir(), 'scoreboard-browser-admin-'));
    [server, browser] = await Promise.all([startServer(dataDir, 0), launchChromium()]);
    operatorToken = await signDevPlayerJwt(loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'warn' }).jwt, OPERATOR);
    // A second board, whose title must show as text.
    await gql(server.url, UpsertBoardDocument, { input: { id: 'weekly', title: 'Weekly <i>cup</i>', window: 'WEEKLY', enabled: true } }, operatorToken);
    // A segmented one: one table per country, so its card asks which.
    await gql(server.url, UpsertBoardDocument, { input: { id: 'by-country', title: 'By country', window: 'ALL_TIME', segmentBy: 'country' } }, operatorToken);
    // Players made through real actions: alice 12 tasks, mallory 8 (the cheater), bob 3: 23 credits.
    for (const [name, tasks] of [
      ['alice', 12],
      ['mallory', 8],
      ['bob', 3],
    ] as const) {
      const token = await devToken(server.url, name);
      await completeTasks(server.url, token, tasks);
      ids.set(name, JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sub as string);
    }
  });

  afterEach(async (ctx) => {
    const failed = ctx.task.result?.state === 'fail';
    for (const context of contexts.splice(0)) {
      if (failed) {
        for (const [i, page] of context.pages().entries()) {
          await page.screenshot({ path: join(ARTIFACTS, `admin-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}-${i}.png`), fullPage: true }).catch(() => {});
        }
      }
      await context.close();
    }
    expect(pageErrors.splice(0)).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.app.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses a player token and a malformed one with admin-error, stores nothing, shows nothing', async () => {
    const page = await newPage();
    const playerToken = await devToken(server.url, 'bob');
    const response = await signInAdmin(page, playerToken);
    expect(response?.status()).toBe(200);
    const error = page.getByTestId('admin-error');
    await error.waitFor({ state: 'visible' });
    // The server's own code and message.
    expect(await error.textContent()).toContain('FORBIDDEN');
    expect(await error.textContent()).toContain('operators only');
    expect(await page.getByTestId('admin-signed-in').isHidden()).toBe(true);
    expect(await page.getByTestId('audit-row').count()).toBe(0);
    expect(await page.evaluate(() => [sessionStorage.length, localStorage.length])).toEqual([0, 0]);

    await page.getByTestId('admin-token').fill('not.a-valid.jwt');
    await page.getByTestId('admin-sign-in').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="admin-error"]')?.textContent?.includes('UNAUTHENTICATED'), undefined, { polling: 'raf' });
    expect(await page.getByTestId('admin-signed-in').isHidden()).toBe(true);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it('signs in an operator: boards with their tops, the audit log newest first with more pages; the token stays in this tab', async () => {
    const page = await newPage();
    const response = await signInAdmin(page, operatorToken);
    // The console runs under the page's CSP (no inline scripts): it works, and the header is there.
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.getByTestId('admin-signed-in').waitFor({ state: 'visible' });
    expect(await page.getByTestId('admin-error').isHidden()).toBe(true);
    expect(await page.getByTestId('admin-operator').textContent()).toBe('Olga Ops');

    // One card per board, titles as text, with the current top.
    const { boards } = await gql(server.url, BoardsDocument, {}, operatorToken);
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="admin-boards"] [data-testid="admin-board"]').length === n, boards.length, {
      polling: 'raf',
    });
    const titles = await page.$$eval('[data-testid="admin-board"] h3', (hs) => hs.map((h) => h.textContent));
    expect(titles).toEqual(boards.map((b) => b.title));
    expect(await page.locator('[data-testid="admin-board"] i').count()).toBe(0);
    await waitForAdminTop(page, 'global', ['alice', 'mallory', 'bob']);
    await waitForAdminTop(page, 'weekly', ['alice', 'mallory', 'bob']);

    // A segmented board shows a segment's top once asked (nobody has a country here: empty, not an error).
    const segmented = page.locator('[data-testid="admin-board"][data-board-id="by-country"]');
    const segmentNote = (text: string) =>
      page.waitForFunction(
        (want) => {
          const note = document.querySelector<HTMLElement>('[data-board-id="by-country"] [data-testid="admin-board-note"]');
          return note?.textContent === want && note.dataset.kind !== 'error';
        },
        text,
        { polling: 'raf' },
      );
    await segmentNote('One table per country: enter a value to see its top.');
    await segmented.getByTestId('admin-board-segment').fill('DE');
    await segmented.getByRole('button', { name: 'Show' }).click();
    await segmentNote('No scores in this period yet.');

    // The audit log: the boards' CONFIG rows and the 23 credits, newest first, 20 and then "more".
    const api = await gql(server.url, AdminAuditLogDocument, { first: 100 }, operatorToken);
    expect(api.auditLog.entries.map((e) => e.kind)).toEqual([...Array<string>(23).fill('CREDIT'), 'CONFIG', 'CONFIG']);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="audit-row"]').length === 20, undefined, { polling: 'raf' });
    const more = page.getByTestId('admin-audit-more');
    await more.waitFor({ state: 'visible' });
    await more.click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="audit-row"]').length === 25, undefined, { polling: 'raf' });
    await more.waitFor({ state: 'hidden' });
    const rows = await auditRows(page);
    // Disjoint pages, in the API's order (newest first).
    expect(new Set(rows.map((r) => r.id)).size).toBe(25);
    expect(rows.map((r) => r.id)).toEqual([...rows.map((r) => r.id)].sort((a, b) => b - a));
    expect(rows.map((r) => String(r.id))).toEqual(api.auditLog.entries.map((e) => e.id));
    expect(rows.map((r) => r.kind)).toEqual(api.auditLog.entries.map((e) => e.kind));
    expect(rows[24]!.text).toContain(OPERATOR.id);
    expect(rows[0]!.player).toBe(ids.get('bob'));

    // sessionStorage only, and a reload keeps the operator signed in.
    const stored = await page.evaluate(() => ({ session: Object.keys(sessionStorage), local: Object.keys(localStorage) }));
    expect(stored.local).toEqual([]);
    expect(stored.session).toHaveLength(1);
    expect(await page.evaluate((k) => sessionStorage.getItem(k), stored.session[0]!)).toBe(operatorToken);
    await page.reload();
    await page.getByTestId('admin-signed-in').waitFor({ state: 'visible' });
    await page.getByTestId('admin-sign-out').click();
    await page.getByTestId('admin-signed-out').waitFor({ state: 'visible' });
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it('finds a player and hides them with a reason: the public board drops them, the audit log shows the HIDE on top', async () => {
    const mallory = ids.get('mallory')!;
    const before = await publicBoard();
    expect(before.map((e) => e.username)).toEqual(['alice', 'mallory', 'bob']);

    // The public page, open meanwhile, follows live.
    const publicPage = await newPage();
    await publicPage.goto(server.url);
    await waitForPublicRows(publicPage, ['alice', 'mallory', 'bob']);

    const page = await newPage();
    await signInAdmin(page, operatorToken);
    await page.getByTestId('admin-signed-in').waitFor({ state: 'visible' });
    await page.getByTestId('admin-player-search').fill('MALL');
    const row = page.locator(`[data-testid="admin-player"][data-player-id="${mallory}"]`);
    await row.waitFor({ state: 'visible' });
    expect(await page.getByTestId('admin-player').count()).toBe(1);
    expect(await row.getAttribute('data-hidden')).toBe('false');
    const rowText = await row.textContent();
    expect(rowText).toContain('mallory');
    expect(rowText).toContain(mallory);
    expect(rowText).toContain(String(before[1]!.score));

    // No reason: refused in the page, visibly, and nothing is sent.
    await row.getByTestId('admin-hide').click();
    const message = row.getByTestId('admin-player-message');
    await page.waitForFunction(
      (id) => document.querySelector(`[data-testid="admin-player"][data-player-id="${id}"] [data-testid="admin-player-message"]`)?.textContent?.includes('reason is required'),
      mallory,
      { polling: 'raf' },
    );
    expect(await message.isVisible()).toBe(true);
    expect(await row.getByTestId('admin-reason').getAttribute('aria-invalid')).toBe('true');
    expect((await publicBoard()).map((e) => e.username)).toEqual(['alice', 'mallory', 'bob']);
    expect((await gql(server.url, AdminAuditLogDocument, { first: 1 }, operatorToken)).auditLog.entries[0]!.kind).toBe('CREDIT');

    await row.getByTestId('admin-reason').fill('aimbot, see ticket 42');
    await row.getByTestId('admin-hide').click();
    await page.locator(`[data-testid="admin-player"][data-player-id="${mallory}"][data-hidden="true"]`).waitFor();
    expect(await row.getByTestId('admin-hide').textContent()).toBe('Unhide');

    // The audit log, refreshed, has the HIDE on top with the actor and the reason.
    await waitForTopAudit(page, 'HIDE', mallory);
    const top = (await auditRows(page))[0]!;
    expect(top.text).toContain('aimbot, see ticket 42');
    expect(top.text).toContain(OPERATOR.id);
    expect(top.text).toContain('mallory');

    // Everyone else's board closes up: over GraphQL, on the public page (live) and on the console.
    expect(await publicBoard()).toEqual([
      { position: 1, username: 'alice', score: before[0]!.score },
      { position: 2, username: 'bob', score: before[2]!.score },
    ]);
    await waitForPublicRows(publicPage, ['alice', 'bob']);
    await waitForAdminTop(page, 'global', ['alice', 'bob']);
    await waitForAdminTop(page, 'weekly', ['alice', 'bob']);

    // Still findable by operators (that is what the search is for), shown as hidden.
    await page.getByTestId('admin-player-search').fill('');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="admin-player"]').length === 0, undefined, { polling: 'raf' });
    await page.getByTestId('admin-player-search').fill('mallory');
    await page.locator(`[data-testid="admin-player"][data-player-id="${mallory}"][data-hidden="true"]`).waitFor();
  });

  it('bans and voids with a reason; an empty reason is refused; the audit log follows every act', async () => {
    const bob = ids.get('bob')!;
    const page = await newPage();
    await signInAdmin(page, operatorToken);
    await page.getByTestId('admin-signed-in').waitFor({ state: 'visible' });

    // Ban bob from his search row.
    await page.getByTestId('admin-player-search').fill('bob');
    const row = page.locator(`[data-testid="admin-player"][data-player-id="${bob}"]`);
    await row.waitFor({ state: 'visible' });
    await row.getByTestId('admin-reason').fill('chargeback fraud');
    await row.getByTestId('admin-ban').click();
    await page.locator(`[data-testid="admin-player"][data-player-id="${bob}"][data-banned="true"]`).waitFor();
    await waitForTopAudit(page, 'BAN', bob);
    await waitForAdminTop(page, 'global', ['alice']);
    expect((await publicBoard()).map((e) => e.username)).toEqual(['alice']);

    // bob's audit log only (3 credits and the ban), then everything again.
    await row.getByTestId('admin-player-audit').click();
    await page.waitForFunction(
      (id) => {
        const rows = [...document.querySelectorAll<HTMLElement>('[data-testid="audit-row"]')];
        return rows.length === 4 && rows.every((r) => r.dataset.playerId === id);
      },
      bob,
      { polling: 'raf' },
    );
    expect(await page.getByTestId('admin-audit-filter').textContent()).toContain(bob);
    await page.getByTestId('admin-audit-all').click();
    await page.getByTestId('admin-audit-filter').waitFor({ state: 'hidden' });
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="audit-row"]').length === 20, undefined, { polling: 'raf' });
    await waitForTopAudit(page, 'BAN', bob);

    // Void alice's newest credit from its audit row.
    const alice = ids.get('alice')!;
    const aliceScore = (await publicBoard())[0]!.score;
    const credit = (await auditRows(page)).find((r) => r.kind === 'CREDIT' && r.player === alice)!;
    await page.locator(`[data-testid="audit-row"][data-id="${credit.id}"] [data-testid="audit-void"]`).click();
    expect(await page.getByTestId('admin-void-action-id').inputValue()).toBe(credit.actionId);
    await page.getByTestId('admin-void').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="admin-void-message"]')?.textContent?.includes('reason is required'), undefined, {
      polling: 'raf',
    });
    expect((await publicBoard())[0]!.score).toBe(aliceScore);

    await page.getByTestId('admin-void-reason').fill('duplicate credit');
    await page.getByTestId('admin-void').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="admin-void-message"]')?.textContent?.startsWith('Voided'), undefined, {
      polling: 'raf',
    });
    await waitForTopAudit(page, 'VOID', alice);
    const top = (await auditRows(page))[0]!;
    expect(top.actionId).toBe(credit.actionId);
    expect(top.text).toContain('duplicate credit');
    const after = await publicBoard();
    expect(after).toHaveLength(1);
    expect(after[0]!.score).toBeLessThan(aliceScore);
    await page.waitForFunction(
      (score) => document.querySelector<HTMLElement>('[data-testid="admin-board"][data-board-id="global"] [data-testid="admin-board-row"]')?.dataset.score === String(score),
      after[0]!.score,
      { polling: 'raf' },
    );

    // Unban from the same row (the button toggles): bob is back on the board.
    await row.getByTestId('admin-reason').fill('appeal accepted');
    await row.getByTestId('admin-ban').click();
    await page.locator(`[data-testid="admin-player"][data-player-id="${bob}"][data-banned="false"]`).waitFor();
    await waitForTopAudit(page, 'UNBAN', bob);
    await waitForAdminTop(page, 'global', ['alice', 'bob']);
  });
});
