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
      const result =
        typeof key === 'function'
          ? await jwtVerify(token, key, options())
          : await jwtVerify(token, await (key as Promise<CryptoKey>), options());
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
    return { identity: identityFrom(payload, config), expiresAtMs: (payload.exp as number) * 1000 };
  }

  function options() {
    return {
      algorithms,
      issuer: config.issuer,
      audience: config.audience,
      requiredClaims: ['exp', 'sub', 'iss', 'aud'],
      clockTolerance: 5,
    };
  }
}

function identityFrom(payload: JWTPayload, config: Config['jwt']): PlayerIdentity {
  const sub = payload.sub;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 128) throw unauthenticated('JWT sub is invalid');
  const name = [payload.preferred_username, payload.name, sub].find(
    (v): v is string => typeof v === 'string' && v.trim().length > 0,
  )!;
  return {
    playerId: sub,
    username: name.trim().slice(0, MAX_USERNAME),
    roles: rolesFrom(payload[config.rolesClaim]),
    attributes: attributesFrom(payload, config.attributeClaims),
  };
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
    let value = typeof raw === 'string' ? raw.trim() : typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : undefined;
    if (!value || value.length > MAX_ATTRIBUTE_LENGTH || /[\u0000-\u001f\u007f]/.test(value)) continue;
    if (claim === 'country') value = value.toUpperCase();
    out[claim] = value;
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
  config: Config['jwt'],
  player: { id: string; username: string; roles?: string[]; attributes?: Record<string, string> },
  ttlSeconds = 12 * 3600,
): Promise<string> {
  if (!config.secret) throw new Error('Dev tokens need JWT_SECRET (not available with JWT_JWKS_URL)');
  const claims: JWTPayload = { preferred_username: player.username, ...player.attributes };
  if (player.roles?.length) claims[config.rolesClaim] = player.roles;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(player.id)
    .setIssuer(config.issuer)
    .setAudience(config.audience)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(config.secret);
}
