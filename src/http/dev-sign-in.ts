import type { IncomingMessage, ServerResponse } from 'node:http';
import { signDevPlayerJwt } from '../auth/player-jwt.js';
import type { Services } from '../services.js';

/**
 * `POST /auth/dev-sign-in` with `{"username": "alice"}` -> `{"token": "<player JWT>"}`.
 *
 * Lets the demo page (and the examples) try the API without an identity provider.
 * Anyone may sign in as anyone, so it must never exist in production: there it
 * answers 404 exactly like any unknown path. It is also off whenever JWT_SECRET
 * or JWT_JWKS_URL is configured: a dev instance that shares a real secret would
 * otherwise mint tokens that the real deployment accepts.
 */
export const DEV_SIGN_IN_PATH = '/auth/dev-sign-in';

const USERNAME = /^[A-Za-z0-9_.-]{1,32}$/;
const MAX_BODY_BYTES = 1024;

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export function devSignInHandler(services: Pick<Services, 'config' | 'logger'>): Handler {
  const { config } = services;
  const enabled = devSignInEnabled(config);
  return async (req, res) => {
    if (!enabled) return send(res, 404, { error: 'Not found' });
    if (req.method !== 'POST') return send(res, 405, { error: 'Use POST' }, { allow: 'POST' });
    // Requiring JSON also keeps cross-site HTML forms out: they cannot send this type
    // without a CORS preflight, which we do not answer.
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      return send(res, 415, { error: 'Send content-type: application/json' });
    }

    let body: unknown;
    try {
      body = JSON.parse(await readBody(req, MAX_BODY_BYTES));
    } catch (error) {
      if (error instanceof BodyTooLarge) return send(res, 413, { error: 'Body too large' });
      return send(res, 400, { error: 'Body must be JSON: {"username": "..."}' });
    }
    const username = (body as { username?: unknown } | null)?.username;
    if (typeof username !== 'string' || !USERNAME.test(username)) {
      return send(res, 400, { error: 'username must be 1..32 characters of A-Z a-z 0-9 _ . -' });
    }

    try {
      const token = await signDevPlayerJwt(config.jwt, { id: `dev-${username}`, username });
      return send(res, 200, { token });
    } catch (error) {
      // With JWT_JWKS_URL there is no local signing key: dev tokens cannot exist.
      services.logger.warn({ err: (error as Error).message }, 'dev sign-in unavailable');
      return send(res, 404, { error: 'Not found' });
    }
  };
}

/** Only outside production, and only with the generated dev secret. */
export function devSignInEnabled(config: Pick<Services['config'], 'production' | 'jwt'>): boolean {
  return !config.production && !config.jwt.configured && config.jwt.secret !== undefined;
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new BodyTooLarge());
        req.resume(); // drain, so the response can still be written
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(JSON.stringify(body));
}
