import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, posix, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Serves the built scoreboard pages (web/dist, made by `npm run web:build`):
 * `/` is index.html and `/admin` the operator console, admin.html (both
 * revalidated on every load, with the page CSP), `/assets/*` are Vite's
 * content-hashed files (cached for a year, immutable), anything else that is a
 * file in the folder is served with a short cache, and the rest is 404.
 *
 * The handler only answers GET and HEAD; it returns false for other methods so
 * the caller can pass the request on (e.g. to Yoga).
 */
export const DEFAULT_SITE_ROOT = fileURLToPath(new URL('../../web/dist/', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
};

const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';
const SHORT = 'public, max-age=3600';

// The page talks only to its own origin (HTTP and WebSocket); nothing inline.
const PAGE_CSP = [
  "default-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "style-src 'self'",
  "script-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The HTML pages, by the paths they answer at: the public page at `/` and the
 * operator console at `/admin` (both also at their file names). Only these get
 * the page CSP and revalidation; the mapping is exact, so the checks below
 * still apply to every other path.
 */
const PAGES = new Map([
  ['/', '/index.html'],
  ['/index.html', '/index.html'],
  ['/admin', '/admin.html'],
  ['/admin.html', '/admin.html'],
]);

export type StaticSiteHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

export function staticSiteHandler(root: string = DEFAULT_SITE_ROOT): StaticSiteHandler {
  let realRoot: Promise<string | undefined> | undefined;
  // Resolved lazily and retried while missing, so building the page after start-up works.
  const rootDir = async () => {
    const found = await (realRoot ??= realpath(root).catch(() => undefined));
    if (!found) realRoot = undefined;
    return found;
  };

  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const rawPath = (req.url ?? '/').split('?')[0]!.split('#')[0]!;

    let path: string;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      return notFound(req, res, 400, 'Bad request');
    }
    // Reject before touching the file system: no NUL, no backslashes, no dot segments,
    // no hidden files. normalize() must then leave the path unchanged.
    if (
      !path.startsWith('/') ||
      path.includes('\0') ||
      path.includes('\\') ||
      path.split('/').some((part) => part === '..' || part === '.' || part.startsWith('.')) ||
      posix.normalize(path) !== path
    ) {
      return notFound(req, res);
    }
    const page = PAGES.get(path);
    if (page) path = page;
    else if (path.endsWith('/')) return notFound(req, res);

    const base = await rootDir();
    if (!base) {
      return notFound(req, res, 404, page ? 'The page is not built yet: run `npm run web:build`.' : 'Not found');
    }

    let file: string;
    let size: number;
    let mtime: Date;
    try {
      file = await realpath(join(base, ...path.slice(1).split('/')));
      // A symlink inside the folder must not lead out of it.
      if (!file.startsWith(base + sep)) return notFound(req, res);
      const info = await stat(file);
      if (!info.isFile()) return notFound(req, res);
      size = info.size;
      mtime = info.mtime;
    } catch {
      return notFound(req, res);
    }

    const isPage = page !== undefined;
    const etag = `W/"${size.toString(16)}-${Math.floor(mtime.getTime()).toString(16)}"`;
    const headers: Record<string, string> = {
      'content-type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'cache-control': path.startsWith('/assets/') ? IMMUTABLE : isPage ? REVALIDATE : SHORT,
      'last-modified': mtime.toUTCString(),
      etag,
      'x-content-type-options': 'nosniff',
    };
    if (isPage) {
      headers['content-security-policy'] = PAGE_CSP;
      headers['referrer-policy'] = 'no-referrer';
    }

    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    res.writeHead(200, { ...headers, 'content-length': String(size) });
    if (req.method === 'HEAD') {
      res.end();
      return true;
    }
    await new Promise<void>((resolve) => {
      const stream = createReadStream(file);
      stream.on('error', () => {
        res.destroy();
        resolve();
      });
      stream.on('end', resolve);
      stream.pipe(res);
    });
    return true;
  };
}

function notFound(req: IncomingMessage, res: ServerResponse, status = 404, message = 'Not found'): true {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(req.method === 'HEAD' ? undefined : `${message}\n`);
  return true;
}
