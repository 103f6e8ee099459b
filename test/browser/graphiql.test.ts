import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRAPHIQL_ASSETS, GRAPHIQL_CSP } from '../../src/http/graphiql.js';
import { completeTasks, devToken, launchChromium, startServer, type RunningServer } from './harness.js';

/**
 * GraphiQL as a developer meets it, on a machine without internet: every
 * request the page makes stays on loopback, nothing breaks the CSP, and a
 * subscription started in GraphiQL shows a credit made elsewhere.
 */

let dataDir: string;
let server: RunningServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const requests: string[] = [];
const problems: string[] = [];

describe('GraphiQL served by the server', () => {
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'scoreboard-graphiql-'));
    [server, browser] = await Promise.all([startServer(dataDir), launchChromium()]);
    context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    // Violations of the page's CSP are reported to the page: collect them.
    await context.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        (window as unknown as { __csp: string[] }).__csp ??= [];
        (window as unknown as { __csp: string[] }).__csp.push(`${e.violatedDirective} ${e.blockedURI}`);
      });
    });
    page = await context.newPage();
    page.on('request', (request) => requests.push(request.url()));
    page.on('websocket', (ws) => requests.push(ws.url()));
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.app.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('serves the page with a strict CSP and its assets from our own origin', async () => {
    const html = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(html.status).toBe(200);
    expect(html.headers.get('content-security-policy')).toBe(GRAPHIQL_CSP);
    const text = await html.text();
    expect(text).not.toMatch(/https?:\/\//); // nothing from elsewhere
    expect(text).not.toMatch(/<script>/); // no inline script: script-src 'self' is enough
    const js = await fetch(`${server.url}${GRAPHIQL_ASSETS}graphiql.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toContain('immutable');
    // An API client (no text/html) still gets GraphQL at the same path.
    const api = await fetch(`${server.url}/graphql?query=${encodeURIComponent('{ __typename }')}`, {
      headers: { accept: 'application/json', 'x-graphql-yoga-csrf': '1' },
    });
    expect(await api.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('runs the example subscription and shows a credit made elsewhere', async () => {
    const token = await devToken(server.url, 'gina');
    await page.goto(`${server.url}/graphql`);
    const editor = page.locator('.graphiql-query-editor');
    await editor.getByText('query Top10').waitFor({ timeout: 30_000 });

    // The example holds two operations: Run asks which one.
    await page.locator('.graphiql-execute-button').click();
    await page.getByRole('menuitem', { name: 'LiveTop10' }).click();

    // The result pane is an editor: its text, with its non-breaking spaces made plain.
    const result = async () => (await page.locator('.graphiql-response').innerText()).replace(/\u00a0/g, ' ');
    await expect.poll(result, { timeout: 15_000 }).toContain('"leaderboardChanged"');
    expect(await result()).not.toContain('gina');

    await completeTasks(server.url, token, 1);
    await expect.poll(result, { timeout: 15_000 }).toContain('"username": "gina"');
    const shown = await result();
    expect(shown).toContain('"score": 10');
    expect(shown).toContain('"rank": 1');

    const violations = await page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? []);
    expect(violations).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('made every request to loopback only', () => {
    expect(requests.length).toBeGreaterThan(0);
    const hosts = new Set(requests.filter((u) => !u.startsWith('blob:') && !u.startsWith('data:')).map((u) => new URL(u).hostname));
    expect([...hosts].filter((h) => h !== '127.0.0.1' && h !== 'localhost')).toEqual([]);
    // The editor workers came from our origin too, and the subscription went over graphql-ws on /graphql.
    expect(requests.some((u) => u.endsWith('graphql.worker.js') || u.endsWith('editor.worker.js'))).toBe(true);
    expect(requests.filter((u) => u.startsWith('ws://')).map((u) => new URL(u).pathname)).toContain('/graphql');
  });
});
