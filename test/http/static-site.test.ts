import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { staticSiteHandler } from '../../src/http/static-site.js';

/** Raw requests: fetch() would normalize the hostile paths away before sending them. */
function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET') {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('static site', () => {
  let dir: string;
  let server: Server;
  let port: number;
  let passedOn: string[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'scoreboard-site-'));
    const root = join(dir, 'dist');
    mkdirSync(join(root, 'assets'), { recursive: true });
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(join(root, 'admin.html'), '<!doctype html><title>admin</title>');
    writeFileSync(join(root, 'assets', 'index-abc123.js'), 'console.log(1)');
    writeFileSync(join(root, 'assets', 'index-abc123.css'), 'body{}');
    writeFileSync(join(root, 'favicon.svg'), '<svg/>');
    writeFileSync(join(root, '.secret'), 'no');
    writeFileSync(join(dir, 'outside.txt'), 'outside');
    symlinkSync(join(dir, 'outside.txt'), join(root, 'assets', 'link.txt'));
    const site = staticSiteHandler(root);
    passedOn = [];
    server = createServer((req, res) => {
      void site(req, res).then((served) => {
        if (served) return;
        passedOn.push(`${req.method} ${req.url}`);
        res.writeHead(418).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves index.html at / with revalidation and a CSP', async () => {
    for (const path of ['/', '/index.html', '/?x=1']) {
      const res = await get(port, path);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      expect(res.body).toContain('<title>t</title>');
    }
  });

  it('serves the operator console, admin.html, at /admin with the same CSP and revalidation', async () => {
    for (const path of ['/admin', '/admin.html', '/admin?x=1', '/%61dmin']) {
      const res = await get(port, path);
      expect(res.status, path).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['content-security-policy']).toBe((await get(port, '/')).headers['content-security-policy']);
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.body).toContain('<title>admin</title>');
    }
    for (const path of ['/admin/', '/admin/x', '/admin/../index.html', '/admin/%2e%2e/.secret', '/admin.html/', '/ADMIN']) {
      expect((await get(port, path)).status, path).toBe(404);
    }
  });

  it('serves hashed assets as immutable with the right types', async () => {
    const js = await get(port, '/assets/index-abc123.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.headers['x-content-type-options']).toBe('nosniff');
    expect(js.body).toBe('console.log(1)');
    expect((await get(port, '/assets/index-abc123.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    const icon = await get(port, '/favicon.svg');
    expect(icon.headers['content-type']).toBe('image/svg+xml');
    expect(icon.headers['cache-control']).toBe('public, max-age=3600');
  });

  it('answers HEAD without a body and 304 for a matching ETag', async () => {
    const head = await get(port, '/assets/index-abc123.js', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe('14');
    expect(head.body).toBe('');
    const again = await get(port, '/', { 'if-none-match': String((await get(port, '/')).headers.etag) });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
  });

  it.each([
    '/../outside.txt',
    '/assets/../../outside.txt',
    '/%2e%2e/outside.txt',
    '/assets/%2e%2e/%2e%2e/outside.txt',
    '/assets/..%2f..%2foutside.txt',
    '/assets/..%5c..%5coutside.txt',
    '/..\\outside.txt',
    '/assets/link.txt',
    '/.secret',
    '/%00',
    '/index.html%00.js',
    '/assets',
    '/assets/',
    '//etc/passwd',
    '/missing.js',
    '/assets/missing-123.js',
  ])('404 for %s, never a file outside the folder', async (path) => {
    const res = await get(port, path);
    expect(res.status).toBe(404);
    expect(res.body).not.toContain('outside');
  });

  it('400 for a malformed escape', async () => {
    expect((await get(port, '/%E0%A4%A')).status).toBe(400);
  });

  it('leaves other methods to the next handler', async () => {
    await get(port, '/', {}, 'POST');
    expect(passedOn).toEqual(['POST /']);
  });

  it('says how to build the page when the folder is missing', async () => {
    const handler = staticSiteHandler(join(dir, 'not-built'));
    const missing = createServer((req, res) => void handler(req, res));
    await new Promise<void>((resolve) => missing.listen(0, '127.0.0.1', resolve));
    try {
      const res = await get((missing.address() as AddressInfo).port, '/');
      expect(res.status).toBe(404);
      expect(res.body).toContain('npm run web:build');
    } finally {
      missing.close();
    }
  });
});
