/**
 * The player's JWT, kept in localStorage so a reload (or another tab) stays signed in.
 * The token is only decoded here for display hints (name, expiry); the server is
 * the one that verifies it.
 */
const STORAGE_KEY = 'scoreboard.token';
export const USERNAME_PATTERN = /^[A-Za-z0-9_.-]{1,32}$/;

export function loadToken(): string | undefined {
  try {
    return localStorage.getItem(STORAGE_KEY) ?? undefined;
  } catch {
    return undefined; // storage disabled: still usable for this page view
  }
}

export function saveToken(token: string | undefined): void {
  try {
    if (token) localStorage.setItem(STORAGE_KEY, token);
    else localStorage.removeItem(STORAGE_KEY);
  } catch {
    // storage disabled or full: the session just will not survive a reload
  }
}

/** Calls back when another tab signs in or out. */
export function onTokenChangedElsewhere(callback: (token: string | undefined) => void): void {
  window.addEventListener('storage', (event) => {
    if (event.key === STORAGE_KEY) callback(event.newValue ?? undefined);
  });
}

export interface JwtHints {
  username?: string;
  expiresAt?: Date;
}

/** Reads the (unverified) payload of a JWT; throws when it does not look like one. */
export function readJwt(token: string): JwtHints {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) {
    throw new Error('That does not look like a JWT (three base64url parts separated by dots).');
  }
  let payload: Record<string, unknown>;
  try {
    const base64 = parts[1]!.replace(/-/g, '+').replace(/_/g, '/');
    const bytes = Uint8Array.from(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, '=')), (c) => c.charCodeAt(0));
    payload = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  } catch {
    throw new Error('The JWT payload is not readable JSON.');
  }
  const name = [payload.preferred_username, payload.name, payload.sub].find((v): v is string => typeof v === 'string' && v.length > 0);
  return {
    username: name,
    expiresAt: typeof payload.exp === 'number' ? new Date(payload.exp * 1000) : undefined,
  };
}

export class SignInError extends Error {}

/** Outside production the server hands out player JWTs for any username. */
export async function devSignIn(username: string): Promise<string> {
  if (!USERNAME_PATTERN.test(username)) {
    throw new SignInError('Usernames are 1 to 32 characters: letters, digits, _ . -');
  }
  let response: Response;
  try {
    response = await fetch('/auth/dev-sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username }),
    });
  } catch (error) {
    throw new SignInError(`Cannot reach the server (${(error as Error).message}).`);
  }
  if (response.status === 404) {
    throw new SignInError('Dev sign-in is off on this server (production): paste a JWT from your identity provider instead.');
  }
  const body = (await response.json().catch(() => ({}))) as { token?: string; error?: string };
  if (!response.ok || !body.token) throw new SignInError(body.error ?? `Sign-in failed (HTTP ${response.status}).`);
  return body.token;
}
