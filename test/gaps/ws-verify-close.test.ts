import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startInstance, waitFor, type Instance } from '../support/app.js';
import { createBackend, type Backend } from '../support/backends.js';

/**
 * A socket that closes while onConnect is still verifying its JWT must not keep
 * the player's connection slot: with one connection per player, the player
 * could otherwise never connect again until a restart. Verification is held
 * open by an identity provider (JWKS) that answers only when the test says so.
 */
describe('WebSocket: closed while the JWT is being verified', () => {
  let backend: Backend;
  let instance: Instance;
  let jwks: ReturnType<typeof createServer>;
  const held: ServerResponse[] = [];
  let body = '';
  let privateKey: CryptoKey;

  beforeAll(async () => {
    const keys = await generateKeyPair('RS256', { extractable: true });
    privateKey = keys.privateKey;
    body = JSON.stringify({ keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] });
    jwks = createServer((_req, res) => held.push(res));
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks`;
    backend = await createBackend('embedded', { JWT_JWKS_URL: url, WS_MAX_CONNECTIONS_PER_PLAYER: '1' });
    instance = await startInstance(backend);
  });
  afterAll(async () => {
    await instance?.stop();
    await backend?.dispose();
    jwks?.close();
  });

  const token = () =>
    new SignJWT({ preferred_username: 'slow' })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setSubject('slow-player')
      .setIssuer('scoreboard')
      .setAudience('scoreboard-api')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(privateKey);

  function connect(jwt: string) {
    const ws = new WebSocket(instance.wsUrl, 'graphql-transport-ws');
    const messages: { type: string }[] = [];
    ws.on('message', (m) => messages.push(JSON.parse(String(m))));
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    const opened = new Promise<void>((r) => ws.on('open', () => r()));
    void opened.then(() => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${jwt}` } })));
    return { ws, messages, closed, opened };
  }

  it('the slot is given back: the same player connects again afterwards', async () => {
    const first = connect(await token());
    await first.opened;
    // Verification is now waiting for the identity provider.
    await waitFor(() => held.length > 0, 10_000, 'the JWKS request');
    first.ws.close(1000);
    await first.closed; // the server answered the close: it knows the socket is gone
    for (const res of held.splice(0)) res.writeHead(200, { 'content-type': 'application/json' }).end(body);

    const second = connect(await token());
    await waitFor(() => second.messages.some((m) => m.type === 'connection_ack') || second.ws.readyState === WebSocket.CLOSED, 10_000, 'the second connection to be answered');
    expect(second.messages.map((m) => m.type)).toContain('connection_ack');
    second.ws.close(1000);
    await second.closed;
  });
});
