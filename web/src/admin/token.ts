/**
 * The operator's JWT lives in sessionStorage only: it survives a reload of this
 * tab, is gone when the tab closes, and is never shared with other tabs or with
 * the public page (whose player token is in localStorage under another key).
 */
const STORAGE_KEY = 'scoreboard.admin-token';

export function loadAdminToken(): string | undefined {
  try {
    return sessionStorage.getItem(STORAGE_KEY) ?? undefined;
  } catch {
    return undefined; // storage disabled: sign in again after a reload
  }
}

export function saveAdminToken(token: string | undefined): void {
  try {
    if (token) sessionStorage.setItem(STORAGE_KEY, token);
    else sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // storage disabled: the session just will not survive a reload
  }
}

/** What was pasted, without surrounding blanks or a leading "Bearer ". */
export function cleanToken(pasted: string): string {
  return pasted
    .trim()
    .replace(/^Bearer\s+/i, '')
    .trim();
}
