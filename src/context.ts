import type { PlayerIdentity } from './auth/player-jwt.js';
import { bearerToken, OPERATOR_ROLE } from './auth/player-jwt.js';
import { forbidden, unauthenticated } from './errors.js';
import type { Player } from './generated/prisma/client.js';
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
  /** The verified identity of an operator ("admin" in the roles claim); FORBIDDEN for anyone else. */
  operator(): Promise<PlayerIdentity>;
  /** Players by id, batched: the ids asked for in one tick cost one query. */
  loadPlayer(id: string): Promise<Player | null>;
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
  type Waiter = { resolve: (p: Player | null) => void; reject: (e: unknown) => void };
  let batch: Map<string, Waiter[]> | undefined;
  const loadPlayer = (id: string) =>
    new Promise<Player | null>((resolve, reject) => {
      if (!batch) {
        const pending = (batch = new Map<string, Waiter[]>());
        queueMicrotask(() => {
          batch = undefined;
          services.prisma.player.findMany({ where: { id: { in: [...pending.keys()] } } }).then(
            (rows) => {
              const byId = new Map(rows.map((r) => [r.id, r]));
              for (const [pid, waiters] of pending) for (const w of waiters) w.resolve(byId.get(pid) ?? null);
            },
            (error: unknown) => {
              for (const waiters of pending.values()) for (const w of waiters) w.reject(error);
            },
          );
        });
      }
      const waiters = batch.get(id) ?? [];
      waiters.push({ resolve, reject });
      batch.set(id, waiters);
    });
  return {
    services,
    async operator() {
      const identity = await viewer();
      if (!identity.roles.includes(OPERATOR_ROLE)) throw forbidden('This operation is for operators only');
      return identity;
    },
    loadPlayer,
    // Lazy: building a request's AbortSignal costs measurable CPU, and only subscriptions need it.
    get signal() {
      return signal?.();
    },
    authorization,
    viewer,
  };
}
