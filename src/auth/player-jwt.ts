import { createHash } from 'node:crypto';
import { createRemoteJWKSet, errors, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Config } from '../config.js';
import { unauthenticated } from '../errors.js';
import { importHmacKey } from './hmac-key.js';

/** Who a verified player JWT says the caller is. */
export interface PlayerIdentity {
  playerId: string;
  username: string;
  /** Roles from the claim named by JWT_ROLES_CLAIM; "admin" makes an operator. */
  roles: readonly string[];
  /** Player attributes (segments) from the claims named by PLAYER_ATTRIBUTE_CLAIMS: 1..64 characters each. */
  attributes: Readonly<Record<string, string>>;
}

export const OPERATOR_ROLE = 'admin';
const MAX_ATTRIBUTE_LENGTH = 64;

const HS_ALGORITHMS = ['HS256'];
const JWKS_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'];
// Identity providers label access tokens either way; anything else (e.g. our own
// action tickets) is not a player JWT.
const ACCEPTED_TYP = new Set(['jwt', 'at+jwt', 'application/at+jwt']);
const MAX_USERNAME = 64;

export interface PlayerJwtVerifier {
  verify(token: string): Promise<PlayerIdentity>;
}

export function createPlayerJwtVerifier(config: Config['jwt']): PlayerJwtVerifier {
  // A CryptoKey once: given raw bytes, jose imports the key again on every verify.
  const key: Promise<CryptoKey> | JWTVerifyGetKey | undefined = config.jwksUrl
    ? createRemoteJWKSet(new URL(config.jwksUrl), { cooldownDuration: 30_000, timeoutDuration: 5_000 })
    : config.secret && importHmacKey(config.secret);
  if (!key) throw new Error('No JWT verification key configured');
  const algorithms = config.jwksUrl ? JWKS_ALGORITHMS : HS_ALGORITHMS;

  // Each action presents the same JWT twice (issue, submit): remember verified
  // tokens until they expire. Bounded; only successes are kept.
  const verified = new Map<string, { identity: PlayerIdentity; expiresAtMs: number }>();
  const MAX_REMEMBERED = 50_000;

  return {
    async verify(token) {
      const hit = verified.get(token);
      if (hit && hit.expiresAtMs > Date.now()) return hit.identity;
      const identity = await verifyOnce(token);
      if (verified.size >= MAX_REMEMBERED) verified.clear();
      verified.set(token, identity);
      return identity.identity;
    },
  };

  async function verifyOnce(token: string): Promise<{ identity: PlayerIdentity; expiresAtMs: number }> {
    let payload: JWTPayload;
    try {
      const result = typeof key === 'function' ? await jwtVerify(token, key, options()) : await jwtVerify(token, await (key as Promise<CryptoKey>), options());
      if (result.protectedHeader.typ && !ACCEPTED_TYP.has(result.protectedHeader.typ.toLowerCase())) {
        throw unauthenticated('JWT has the wrong typ');
      }
      // With a shared secret there is exactly one key: a kid naming another is unknown.
      if (!config.jwksUrl && result.protectedHeader.kid !== undefined) {
        throw unauthenticated('JWT names an unknown key (kid)');
      }
      payload = result.payload;
    } catch (error) {
      throw asUnauthenticated(error);
    }
    checkLifetime(payload);
    return { identity: identityFrom(payload, config), expiresAtMs: (payload.exp as number) * 1000 };
  }

  function options() {
    return {
      algorithms,
      issuer: config.issuer,
      audience: config.audience,
      requiredClaims: ['exp', 'sub', 'iss', 'aud'],
      // Clock skew between us and the identity provider: for `nbf` (and `iat`, below).
      // `exp` keeps its own small tolerance: a token is not valid a minute longer.
      clockTolerance: config.clockSkewSeconds,
    };
  }

  /**
   * Bounded lifetime: a stolen long-lived token is not good forever. `iat` may
   * not lie in the future (beyond the skew), `exp - iat` may not exceed the
   * maximum age; a token without `iat` may not be valid for longer than that from now.
   */
  function checkLifetime(payload: JWTPayload) {
    const now = Date.now() / 1000;
    const exp = payload.exp as number;
    if (exp + EXP_TOLERANCE_SECONDS < now) throw unauthenticated('JWT has expired');
    const iat = payload.iat;
    if (iat !== undefined) {
      if (typeof iat !== 'number' || !Number.isFinite(iat)) throw unauthenticated('JWT claim check failed: iat');
      if (iat > now + config.clockSkewSeconds) throw unauthenticated('JWT claim check failed: iat is in the future');
      if (exp - iat > config.maxAgeSeconds) throw unauthenticated(`JWT lifetime is over the maximum of ${config.maxAgeSeconds}s`);
    } else if (exp - now > config.maxAgeSeconds + config.clockSkewSeconds) {
      throw unauthenticated(`JWT lifetime is over the maximum of ${config.maxAgeSeconds}s`);
    }
  }
}

const EXP_TOLERANCE_SECONDS = 5;

function identityFrom(payload: JWTPayload, config: Config['jwt']): PlayerIdentity {
  const sub = payload.sub;
  // The id is stored and shown as is: no control or invisible characters, not blank.
  if (!isValidPlayerId(sub)) throw unauthenticated('JWT sub is invalid');
  const name = [payload.preferred_username, payload.name].map(displayName).find((v) => v.length > 0);
  return {
    playerId: sub,
    username: name ?? fallbackName(sub),
    roles: rolesFrom(payload[config.rolesClaim]),
    attributes: attributesFrom(payload, config.attributeClaims),
  };
}

/** A player id (JWT `sub`) is stored and shown as is: 1..128 characters, not blank, nothing invisible. */
export function isValidPlayerId(id: unknown): id is string {
  return typeof id === 'string' && id.length <= 128 && id.trim().length > 0 && !INVISIBLE.test(id);
}

/** An attribute value as kept on the player ('' when unusable): trimmed, 1..64 visible characters, `country` upper-cased. */
export function attributeValue(claim: string, raw: string): string {
  const value = raw.trim();
  if (!value || value.length > MAX_ATTRIBUTE_LENGTH || INVISIBLE.test(value)) return '';
  return claim === 'country' ? value.toUpperCase() : value;
}

/** Control, format (bidi overrides, zero-width), private-use, unassigned and separator characters other than the space. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}\p{Zl}\p{Zp}]/u;
const INVISIBLE_ALL = new RegExp(INVISIBLE.source, 'gu');
/** Blank-looking letters that survive NFKC (Hangul fillers, braille blank) count as white space. */
const BLANKS = /[\s\u115F\u1160\u3164\uFFA0\u2800]+/gu;

/**
 * A display name as others will see it: NFKC (full-width and other compatibility
 * forms become their plain letters), invisible characters removed, runs of
 * white space collapsed, at most 64 characters. '' when nothing visible is left.
 */
export function displayName(value: unknown): string {
  if (typeof value !== 'string') return '';
  const clean = value.normalize('NFKC').replace(INVISIBLE_ALL, '').replace(BLANKS, ' ').trim();
  return [...clean].slice(0, MAX_USERNAME).join('').trim();
}

/** For a player whose token names nobody visible: a stable, visible stand-in derived from the id. */
function fallbackName(sub: string): string {
  const shown = displayName(sub);
  return shown.length > 0 ? shown : `player-${createHash('sha256').update(sub).digest('hex').slice(0, 8)}`;
}

/** An array of strings (or one string); anything else means no roles. */
function rolesFrom(claim: unknown): string[] {
  if (typeof claim === 'string') return [claim];
  return Array.isArray(claim) ? claim.filter((r): r is string => typeof r === 'string') : [];
}

/**
 * Attribute values are strings of 1..64 characters (numbers are accepted as
 * their decimal form); `country` is upper-cased so "de" and "DE" are one segment.
 * A missing or unusable claim means the player has no value: not counted on boards segmented by it.
 */
function attributesFrom(payload: JWTPayload, claims: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const claim of claims) {
    const raw = payload[claim];
    const text = typeof raw === 'string' ? raw : typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : '';
    const value = attributeValue(claim, text);
    if (value) out[claim] = value;
  }
  return out;
}

function asUnauthenticated(error: unknown) {
  if (error instanceof errors.JWTExpired) return unauthenticated('JWT has expired');
  if (error instanceof errors.JWTClaimValidationFailed) return unauthenticated(`JWT claim check failed: ${error.claim}`);
  if (error instanceof errors.JWKSNoMatchingKey) return unauthenticated('JWT names an unknown key (kid)');
  if (error instanceof errors.JOSEError) return unauthenticated('JWT is malformed or wrongly signed');
  if (error instanceof Error && 'extensions' in error) return error;
  return unauthenticated('JWT could not be verified');
}

/** Reads `Authorization: Bearer <jwt>`; undefined when absent. */
export function bearerToken(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw unauthenticated('Authorization header must be "Bearer <jwt>"');
  return match[1];
}

/** Dev-only helper (npm run token, dev sign-in, tests): an HS256 player JWT. */
export async function signDevPlayerJwt(
  config: Pick<Config['jwt'], 'secret' | 'issuer' | 'audience'> & Partial<Pick<Config['jwt'], 'rolesClaim'>>,
  player: { id: string; username: string; roles?: string[]; attributes?: Record<string, string> },
  ttlSeconds = 12 * 3600,
): Promise<string> {
  if (!config.secret) throw new Error('Dev tokens need JWT_SECRET (not available with JWT_JWKS_URL)');
  const claims: JWTPayload = { preferred_username: player.username, ...player.attributes };
  if (player.roles?.length) claims[config.rolesClaim ?? 'roles'] = player.roles;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(player.id)
    .setIssuer(config.issuer)
    .setAudience(config.audience)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(config.secret);
}
