import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { chromium, type Browser, type Page } from 'playwright-core';
import { loadConfig } from '../../src/config.js';
import { buildApp, type App } from '../../src/server.js';
import { IssueActionTokenDocument, SubmitActionDocument } from '../../sdk/generated/graphql.js';

/** Shared plumbing for the browser tests: the built page, the real server, Chromium. */

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

/** Builds web/dist when it is missing or older than its sources (the tests must test this code). */
export function ensureWebBuild(): void {
  const pages = ['index.html', 'admin.html'].map((name) => join(ROOT, 'web/dist', name));
  const sources = [
    join(ROOT, 'web/src'),
    join(ROOT, 'web/index.html'),
    join(ROOT, 'web/admin.html'),
    join(ROOT, 'web/vite.config.ts'),
    join(ROOT, 'sdk/generated'),
    join(ROOT, 'packages/client/src'),
  ];
  const newest = Math.max(...sources.map(newestMtime));
  if (pages.every((page) => existsSync(page) && statSync(page).mtimeMs >= newest)) return;
  execFileSync('npm', ['run', 'web:build'], { cwd: ROOT, stdio: 'inherit' });
}

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  return Math.max(info.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`No Chromium at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH.`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

export interface RunningServer {
  app: App;
  url: string;
  port: number;
}

/**
 * The real app, in-process, on `port` (0 = any). When restarting on the port a
 * previous instance just left, the port can take a moment to be free again.
 */
export async function startServer(dataDir: string, port = 0, env: Record<string, string> = {}): Promise<RunningServer> {
  const app = await buildApp(loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'warn', LEADERBOARD_COALESCE_MS: '20', ...env }));
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const url = await app.start(port, '127.0.0.1');
      return { app, url, port: Number(new URL(url).port) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || Date.now() > deadline) {
        await app.stop();
        throw error;
      }
      await sleep(100);
    }
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A dev token from the server's own endpoint, as the page gets it. */
export async function devToken(url: string, username: string): Promise<string> {
  const res = await fetch(`${url}/auth/dev-sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username }),
  });
  if (!res.ok) throw new Error(`dev sign-in failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

export async function gql<R, V>(url: string, doc: TypedDocumentNode<R, V>, variables: V, token?: string): Promise<R> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query: print(doc), variables }),
  });
  const body = (await res.json()) as { data?: R; errors?: unknown[] };
  if (body.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
  return body.data!;
}

/** Completes `count` tasks for a player through the public API (ticket, then submit). */
export async function completeTasks(url: string, token: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const { issueActionToken: t } = await gql(url, IssueActionTokenDocument, { actionType: 'COMPLETE_TASK' }, token);
    await gql(url, SubmitActionDocument, { input: { actionId: t.actionId, actionType: t.actionType, token: t.token } }, token);
  }
}

// ---- page helpers ------------------------------------------------------------

export async function signInOnPage(page: Page, url: string, username: string): Promise<void> {
  await page.goto(url);
  await page.getByTestId('username').fill(username);
  await page.getByTestId('sign-in').click();
  await page.getByTestId('my-score').and(page.locator('[data-score]')).waitFor({ timeout: 10_000 });
}

export function waitForLive(page: Page, timeout = 10_000) {
  return page.locator('[data-testid="connection"][data-state="live"]').waitFor({ timeout });
}

/** Waits until the board shows `username` at `rank` with `score` (checked in the DOM, text and data). */
export function waitForRow(page: Page, username: string, want: { rank: number; score: number }, timeout = 5_000) {
  return page.waitForFunction(
    ([name, rank, score]) => {
      const rows = [...document.querySelectorAll<HTMLElement>('[data-testid="leaderboard"] [data-testid="leaderboard-row"]')];
      const row = rows.find((r) => r.dataset.username === name);
      if (!row) return false;
      const text = row.textContent ?? '';
      return (
        row.dataset.rank === String(rank) &&
        row.dataset.score === String(score) &&
        rows.indexOf(row) === rank - 1 &&
        text.includes(name) &&
        text.includes(String(score)) &&
        text.trim().startsWith(String(rank))
      );
    },
    [username, want.rank, want.score] as const,
    { timeout, polling: 'raf' },
  );
}

export async function boardRows(page: Page) {
  return page.$$eval('[data-testid="leaderboard-row"]', (rows) =>
    rows.map((r) => ({
      rank: Number((r as HTMLElement).dataset.rank),
      username: (r as HTMLElement).dataset.username,
      score: Number((r as HTMLElement).dataset.score),
    })),
  );
}
