import type { Bus, DefinitionsChangedNotice } from './bus.js';

/**
 * An instance's copy of a small table that operators change (the points table,
 * the boards): read once, kept for `maxAgeMs`, and dropped at once when any
 * instance announces a change (DEFINITIONS_CHANGED of this kind) or the bus
 * reconnects (a notice may have been missed). A failed read is not kept.
 */
export class ReloadingSnapshot<T> {
  private loaded?: { at: number; value: Promise<T> };

  constructor(
    private readonly read: () => Promise<T>,
    private readonly maxAgeMs = 5_000,
  ) {}

  get(): Promise<T> {
    if (this.loaded && Date.now() - this.loaded.at < this.maxAgeMs) return this.loaded.value;
    const entry = { at: Date.now(), value: this.read() };
    entry.value.catch(() => {
      if (this.loaded === entry) this.loaded = undefined;
    });
    this.loaded = entry;
    return entry.value;
  }

  invalidate(): void {
    this.loaded = undefined;
  }

  /** Follows changes made on any instance; returns the unsubscribe function. */
  async follow(bus: Bus, kind: DefinitionsChangedNotice['kind']): Promise<() => void> {
    const stop = await bus.subscribe('DEFINITIONS_CHANGED', (notice) => {
      if (notice.kind === kind) this.invalidate();
    });
    bus.onReconnect(() => this.invalidate());
    return stop;
  }
}
