import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import type { Config } from '../../config.js';
import { AppError, invalidActionToken } from '../../errors.js';
import { importHmacKey } from '../../auth/hmac-key.js';

/**
 * Action tickets: server-signed, single-use permissions to credit one action.
 * Own key, own `typ` and `aud`, so a ticket can never pass as a player JWT and
 * the other way round.
 */
export const TICKET_TYP = 'scoreboard-action+jwt';
export const TICKET_AUDIENCE = 'scoreboard-action';
const TICKET_ISSUER = 'scoreboard';
const ALGORITHM = 'HS256';

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
  /** Verifies signature, alg, typ, aud, iss. `expired` is reported, not thrown, so an applied action can still be replayed. */
  verify(token: string): Promise<TicketClaims & { expired: boolean }>;
}

export function createActionTickets(config: Config['actionToken']): ActionTickets {
  // A CryptoKey once: given raw bytes or a KeyObject, jose imports the key again on every call.
  const key = importHmacKey(config.secret);
  return {
    async issue(playerId, actionType) {
      const issuedAtMs = Date.now();
      const expiresAtMs = issuedAtMs + config.ttlSeconds * 1000;
      const actionId = randomUUID();
      const token = await new SignJWT({ act: actionType, ims: issuedAtMs })
        .setProtectedHeader({ alg: ALGORITHM, typ: TICKET_TYP })
        .setIssuer(TICKET_ISSUER)
        .setAudience(TICKET_AUDIENCE)
        .setSubject(playerId)
        .setJti(actionId)
        .setIssuedAt(Math.floor(issuedAtMs / 1000))
        .setExpirationTime(Math.ceil(expiresAtMs / 1000))
        .sign(await key);
      return { token, playerId, actionType, actionId, issuedAtMs, expiresAtMs };
    },

    async verify(token) {
      let payload: JWTPayload;
      let expired = false;
      try {
        ({ payload } = await jwtVerify(token, await key, {
          algorithms: [ALGORITHM],
          typ: TICKET_TYP,
          issuer: TICKET_ISSUER,
          audience: TICKET_AUDIENCE,
          requiredClaims: ['exp', 'iat', 'sub', 'jti'],
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
    },
  };
}

export const ticketExpired = () => new AppError('ACTION_TOKEN_EXPIRED', 'The action ticket has expired; request a new one with issueActionToken');
