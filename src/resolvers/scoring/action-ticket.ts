import { createHmac, createSecretKey, randomUUID, timingSafeEqual, type KeyObject } from 'node:crypto';
import { errors, jwtVerify, type JWTPayload } from 'jose';
import type { Config } from '../../config.js';
import { AppError, invalidActionToken } from '../../errors.js';
import { importHmacKey } from '../../auth/hmac-key.js';

/**
 * Action tickets: server-signed, single-use permissions to credit one action.
 * Own key (ACTION_TOKEN_SECRET) and own format, so a ticket can never pass as a
 * player JWT and the other way round.
 *
 * Format v2 (issued since the write-path speed work; documented in README.md, "Action tickets"):
 *
 *     v2.<payload>.<signature>
 *
 * - `payload`: base64url (no padding) of a JSON object with exactly these claims:
 *   `aud` = "scoreboard-action" (the purpose), `sub` the player id, `act` the
 *   action type, `jti` the actionId (a UUID), `iat` and `exp` the issue and
 *   expiry times in **milliseconds** since the epoch.
 * - `signature`: base64url of HMAC-SHA256 under ACTION_TOKEN_SECRET over the
 *   ASCII text `v2.<payload>`. The algorithm is fixed by the version prefix:
 *   nothing in the token chooses it, so there is no `alg` to confuse.
 *
 * Signed and checked with node:crypto (a synchronous HMAC, compared with
 * timingSafeEqual): the profile of the write path showed jose's WebCrypto
 * signing and verifying among its largest costs.
 *
 * Format v1 (a JWT: HS256, typ "scoreboard-action+jwt", aud "scoreboard-action")
 * is still verified, with jose, for one ticket lifetime after this instance
 * started, so tickets issued by the previous version just before an upgrade
 * still land. After that window a v1 ticket is INVALID_ACTION_TOKEN.
 */
export const TICKET_VERSION = 'v2';
export const TICKET_AUDIENCE = 'scoreboard-action';
/** v1 (JWT) only. */
export const TICKET_TYP = 'scoreboard-action+jwt';
const V1_ISSUER = 'scoreboard';
const V1_ALGORITHM = 'HS256';

export interface TicketClaims {
  playerId: string;
  actionType: string;
  actionId: string;
  issuedAtMs: number;
  expiresAtMs: number;
}

export interface IssuedTicket extends TicketClaims {
  token: string;
}

export interface ActionTickets {
  issue(playerId: string, actionType: string): Promise<IssuedTicket>;
  /** Verifies the signature and every claim. `expired` is reported, not thrown, so an applied action can still be replayed. */
  verify(token: string): Promise<TicketClaims & { expired: boolean }>;
}

export interface TicketOptions {
  /** The clock (tests). */
  now?: () => number;
  /** Until when v1 (JWT) tickets are still verified; default: one ticket lifetime after creation. */
  acceptV1UntilMs?: number;
}

/** The v2 payload, claim for claim. */
interface V2Payload {
  aud: string;
  sub: string;
  act: string;
  jti: string;
  iat: number;
  exp: number;
}
const V2_CLAIMS = ['act', 'aud', 'exp', 'iat', 'jti', 'sub'] as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const SIGNATURE_BYTES = 32;

/** Signs a v2 ticket. Exported for tests, which forge tickets with chosen claims and keys. */
export function encodeTicketV2(key: KeyObject | Uint8Array, claims: TicketClaims): string {
  const payload: V2Payload = {
    aud: TICKET_AUDIENCE,
    sub: claims.playerId,
    act: claims.actionType,
    jti: claims.actionId,
    iat: claims.issuedAtMs,
    exp: claims.expiresAtMs,
  };
  const signed = `${TICKET_VERSION}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${signed}.${sign(key, signed)}`;
}

function sign(key: KeyObject | Uint8Array, signed: string): string {
  return createHmac('sha256', key).update(signed, 'ascii').digest('base64url');
}

/** The claims of a v2 ticket with a valid signature; throws INVALID_ACTION_TOKEN for anything else. */
function decodeTicketV2(key: KeyObject, token: string): TicketClaims {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== TICKET_VERSION) throw invalidActionToken();
  const [, payloadPart, signaturePart] = parts as [string, string, string];
  if (!BASE64URL.test(payloadPart) || !BASE64URL.test(signaturePart)) throw invalidActionToken();
  const given = Buffer.from(signaturePart, 'base64url');
  const expected = createHmac('sha256', key).update(`${TICKET_VERSION}.${payloadPart}`, 'ascii').digest();
  // Length first (timingSafeEqual needs equal lengths; the length is no secret), then constant time.
  if (given.length !== SIGNATURE_BYTES || !timingSafeEqual(given, expected)) throw invalidActionToken();
  // Authentic from here on, but still checked claim by claim: a key shared with a buggy issuer must not crash us.
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8'));
  } catch {
    throw invalidActionToken();
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw invalidActionToken();
  const keys = Object.keys(payload).sort();
  if (keys.length !== V2_CLAIMS.length || keys.some((k, i) => k !== V2_CLAIMS[i])) throw invalidActionToken('Action ticket has missing or unknown claims');
  const { aud, sub, act, jti, iat, exp } = payload as V2Payload;
  if (aud !== TICKET_AUDIENCE) throw invalidActionToken('Action ticket claim check failed: aud');
  if (typeof sub !== 'string' || sub === '' || typeof act !== 'string' || act === '' || typeof jti !== 'string' || !UUID.test(jti)) {
    throw invalidActionToken('Action ticket is missing claims');
  }
  if (!Number.isSafeInteger(iat) || !Number.isSafeInteger(exp) || exp <= iat) throw invalidActionToken('Action ticket has bad times');
  return { playerId: sub, actionType: act, actionId: jti, issuedAtMs: iat, expiresAtMs: exp };
}

export function createActionTickets(config: Config['actionToken'], options: TicketOptions = {}): ActionTickets {
  const now = options.now ?? Date.now;
  const key = createSecretKey(config.secret);
  const acceptV1UntilMs = options.acceptV1UntilMs ?? now() + config.ttlSeconds * 1000;
  // Imported once, and only while v1 tickets may still arrive.
  let v1Key: Promise<CryptoKey> | undefined;

  async function verifyV1(token: string): Promise<TicketClaims & { expired: boolean }> {
    v1Key ??= importHmacKey(config.secret);
    let payload: JWTPayload;
    let expired = false;
    try {
      ({ payload } = await jwtVerify(token, await v1Key, {
        algorithms: [V1_ALGORITHM],
        typ: TICKET_TYP,
        issuer: V1_ISSUER,
        audience: TICKET_AUDIENCE,
        requiredClaims: ['exp', 'iat', 'sub', 'jti'],
        currentDate: new Date(now()),
      }));
    } catch (error) {
      // jose checks the signature before the claims, so an expired ticket's payload is authentic.
      if (error instanceof errors.JWTExpired) {
        payload = error.payload;
        expired = true;
      } else {
        throw invalidActionToken(error instanceof errors.JWTClaimValidationFailed ? `Action ticket claim check failed: ${error.claim}` : undefined);
      }
    }
    const { sub, jti, act, ims, exp } = payload as JWTPayload & { act?: unknown; ims?: unknown };
    if (typeof sub !== 'string' || typeof jti !== 'string' || typeof act !== 'string' || typeof ims !== 'number' || typeof exp !== 'number') {
      throw invalidActionToken('Action ticket is missing claims');
    }
    return { playerId: sub, actionId: jti, actionType: act, issuedAtMs: ims, expiresAtMs: exp * 1000, expired };
  }

  return {
    issue(playerId, actionType) {
      const issuedAtMs = now();
      const claims: TicketClaims = { playerId, actionType, actionId: randomUUID(), issuedAtMs, expiresAtMs: issuedAtMs + config.ttlSeconds * 1000 };
      return Promise.resolve({ ...claims, token: encodeTicketV2(key, claims) });
    },

    async verify(token) {
      if (token.startsWith(`${TICKET_VERSION}.`)) {
        const claims = decodeTicketV2(key, token);
        return { ...claims, expired: now() >= claims.expiresAtMs };
      }
      // Anything else is a v1 JWT during the upgrade window, or refused.
      if (now() >= acceptV1UntilMs) throw invalidActionToken('Unsupported action ticket format; request a new ticket');
      return verifyV1(token);
    },
  };
}

export const ticketExpired = () => new AppError('ACTION_TOKEN_EXPIRED', 'The action ticket has expired; request a new one with issueActionToken');
