/**
 * Outside production: a player JWT for `username` from the server's dev sign-in.
 * (Everything else the examples do goes through the client package,
 * packages/client.)
 */
export async function devSignIn(baseUrl: string, username: string): Promise<string> {
  const response = await fetch(new URL('/auth/dev-sign-in', baseUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username }),
  });
  if (response.status === 404) throw new Error('This server has no dev sign-in (production?): pass --token <jwt>.');
  const body = (await response.json().catch(() => ({}))) as { token?: string; error?: string };
  if (!response.ok || !body.token) throw new Error(`dev sign-in failed: ${body.error ?? `HTTP ${response.status}`}`);
  return body.token;
}
