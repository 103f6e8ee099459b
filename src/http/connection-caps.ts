import type { Config } from '../config.js';

/**
 * Long-lived connections per client address and per player, counted together
 * for every transport that holds one open: WebSocket, SSE and multipart
 * subscription streams. One instance per app; each instance counts its own.
 */
export interface ConnectionCaps {
  /** Takes a slot for this address; `undefined` when it is over the cap. The release function is idempotent. */
  acquireAddress(address: string): (() => void) | undefined;
  /** Takes a slot for this player; `undefined` when it is over the cap. */
  acquirePlayer(playerId: string): (() => void) | undefined;
}

export function createConnectionCaps(config: Pick<Config, 'ws'>): ConnectionCaps {
  const perAddress = new Map<string, number>();
  const perPlayer = new Map<string, number>();

  // The caps are read on every call, so a changed config (tests lower them) applies at once.
  function acquire(map: Map<string, number>, key: string, max: () => number) {
    const count = (map.get(key) ?? 0) + 1;
    if (count > max()) return undefined;
    map.set(key, count);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const n = (map.get(key) ?? 1) - 1;
      if (n <= 0) map.delete(key);
      else map.set(key, n);
    };
  }

  return {
    acquireAddress: (address) => acquire(perAddress, address, () => config.ws.maxPerIp),
    acquirePlayer: (playerId) => acquire(perPlayer, playerId, () => config.ws.maxPerPlayer),
  };
}
