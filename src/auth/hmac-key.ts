import { webcrypto } from 'node:crypto';

/** An HS256 key as a non-extractable CryptoKey, imported once at start-up. */
export function importHmacKey(secret: Uint8Array): Promise<CryptoKey> {
  return webcrypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}
