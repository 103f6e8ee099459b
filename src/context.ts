import type { PlayerIdentity } from './auth/player-jwt.js';
import { bearerToken } from './auth/player-jwt.js';
import { unauthenticated } from './errors.js';
import type { Services } from './services.js';

/**
 * One Context per HTTP request or WebSocket operation. Singletons live in
 * `services`; the viewer is per request, verified lazily (public fields never
 * pay for JWT verification).
 */
export interface Context {
  services: Services;
  /** Aborted when the request or WebSocket operation ends. */
  signal?: AbortSignal;
  /** Raw Authorization value (HTTP header or connection_init payload), if any. */
  authorization?: string;
  /** Verified identity; throws UNAUTHENTICATED when missing or invalid. */
  viewer(): Promise<PlayerIdentity>;
}

export function createContext(services: Services, authorization: string | undefined, signal?: () => AbortSignal | undefined): Context {
  let verified: Promise<PlayerIdentity> | undefined;
  const viewer = () => {
    verified ??= (async () => {
      const token = bearerToken(authorization);
      if (!token) throw unauthenticated();
      return services.playerJwt.verify(token);
    })();
    return verified;
  };
  return {
    services,
    // Lazy: building a request's AbortSignal costs measurable CPU, and only subscriptions need it.
    get signal() {
      return signal?.();
    },
    authorization,
    viewer,
  };
}
