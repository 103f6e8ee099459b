import { EventEmitter } from 'node:events';
import { RedisPubSub } from 'graphql-redis-subscriptions';
import { Cluster } from 'ioredis';
import type { RedisClient } from '../../db/redis.js';

/**
 * The event bus between instances. Payloads are small notices ("the board
 * changed at seq N"); each instance re-reads the board itself, so a lost or
 * duplicated notice can never leave a subscriber on a wrong board.
 */
export interface BoardChangedNotice {
  /** The views that changed (viewId strings); every live board of those views re-reads. */
  views: string[];
  /**
   * Optional: which players' scores moved on which views, so that live standings
   * (myStandingChanged) re-read only the subscribers whose rank may have changed.
   * A notice without moves for a view makes every standing subscriber of that view re-read.
   */
  moves?: StandingMove[];
}

/** An entry's place in the order: score, then the credit id at which it was reached (lower first). */
export interface EntryState {
  score: number;
  seq: number;
}

/**
 * One player's move on one view. `from: null` = the player enters the view
 * (first credit there, or unhidden); `to: null` = the player leaves it (hidden,
 * banned). Subscribers whose score lies between the two states (or below the
 * entering/leaving score) are the only ones whose rank can change.
 */
export interface StandingMove {
  view: string;
  player: string;
  from: EntryState | null;
  to: EntryState | null;
}

/** An achievement was unlocked (after commit); delivered to that player's subscribers on every instance. */
export interface AchievementUnlockedNotice {
  player: string;
  code: string;
  /** ISO-8601. */
  unlockedAt: string;
}

/** An operator changed the points table or the boards: every instance reloads its copy. */
export interface DefinitionsChangedNotice {
  kind: 'boards' | 'actionTypes';
}

export interface Topics {
  BOARD_CHANGED: BoardChangedNotice;
  DEFINITIONS_CHANGED: DefinitionsChangedNotice;
  ACHIEVEMENT_UNLOCKED: AchievementUnlockedNotice;
}

export type Topic = keyof Topics;

export interface Bus {
  publish<T extends Topic>(topic: T, payload: Topics[T]): Promise<void>;
  subscribe<T extends Topic>(topic: T, handler: (payload: Topics[T]) => void): Promise<() => void>;
  /** Called after the bus connection came back: messages may have been missed meanwhile. */
  onReconnect(handler: () => void): void;
  /** Called when the bus connection is lost: no notices arrive until onReconnect. */
  onDisconnect(handler: () => void): void;
  close(): Promise<void>;
}

/** Embedded default: one process, so an EventEmitter is the whole bus. */
export class InProcessBus implements Bus {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  async publish<T extends Topic>(topic: T, payload: Topics[T]) {
    this.emitter.emit(topic, payload);
  }

  async subscribe<T extends Topic>(topic: T, handler: (payload: Topics[T]) => void) {
    this.emitter.on(topic, handler);
    return () => void this.emitter.off(topic, handler);
  }

  onReconnect() {
    // Never disconnects.
  }

  onDisconnect() {
    // Never disconnects.
  }

  async close() {
    this.emitter.removeAllListeners();
  }
}

/** Redis pub/sub through graphql-redis-subscriptions; both clients are connected before use. */
export class RedisBus implements Bus {
  private readonly pubsub: RedisPubSub;

  constructor(
    private readonly publisher: RedisClient,
    private readonly subscriber: RedisClient,
    private readonly prefix: string,
    onError: (error: Error, what: string) => void = () => {},
  ) {
    // graphql-redis-subscriptions fires UNSUBSCRIBE/PUNSUBSCRIBE without handling their
    // promises: while the connection is down (or closing at shutdown) they reject, and
    // an unhandled rejection can bring the process down. Ours are handled and reported.
    // (Nothing is lost: a closed subscriber connection holds no subscriptions.)
    for (const method of ['unsubscribe', 'punsubscribe'] as const) {
      const original = subscriber[method].bind(subscriber) as (...channels: string[]) => Promise<unknown>;
      (subscriber as unknown as Record<string, unknown>)[method] = (...channels: string[]) => original(...channels).catch((error: Error) => onError(error, method));
    }
    this.pubsub = new RedisPubSub({ publisher, subscriber });
  }

  async publish<T extends Topic>(topic: T, payload: Topics[T]) {
    await this.pubsub.publish(this.prefix + topic, payload);
  }

  async subscribe<T extends Topic>(topic: T, handler: (payload: Topics[T]) => void) {
    const id = await this.pubsub.subscribe(this.prefix + topic, handler);
    return () => this.pubsub.unsubscribe(id);
  }

  onReconnect(handler: () => void) {
    // ioredis re-subscribes by itself on reconnect; 'ready' after the first
    // connection means we were disconnected and may have missed notices.
    let first = this.subscriber.status === 'ready';
    this.subscriber.on('ready', () => {
      if (first) handler();
      first = true;
    });
  }

  onDisconnect(handler: () => void) {
    let connected = this.subscriber.status === 'ready';
    this.subscriber.on('ready', () => (connected = true));
    this.subscriber.on('close', () => {
      if (!connected) return;
      connected = false;
      handler();
    });
  }

  async close() {
    // The clients are owned (and closed) by the caller.
  }
}

/**
 * Sharded pub/sub on a Redis Cluster (Redis >= 7): SPUBLISH reaches only the
 * master that owns the channel's slot, and ioredis keeps one SSUBSCRIBE
 * connection per master, re-subscribing when a master is replaced or comes
 * back. Classic PUBLISH on a cluster is copied to every node over the cluster
 * bus, so its cost grows with the number of nodes; sharded messages do not.
 */
export class ShardedRedisBus implements Bus {
  private readonly handlers = new Map<string, Set<(payload: never) => void>>();
  private readonly onMessage = (channel: string, message: string) => {
    const handlers = this.handlers.get(channel);
    if (!handlers?.size) return;
    let payload: never;
    try {
      payload = JSON.parse(message) as never;
    } catch (error) {
      this.onError(error as Error, 'parse');
      return;
    }
    for (const handler of handlers) handler(payload);
  };

  constructor(
    private readonly publisher: Cluster,
    private readonly subscriber: Cluster,
    private readonly prefix: string,
    private readonly onError: (error: Error, what: string) => void = () => {},
  ) {
    subscriber.on('smessage', this.onMessage);
  }

  async publish<T extends Topic>(topic: T, payload: Topics[T]) {
    await this.publisher.spublish(this.prefix + topic, JSON.stringify(payload));
  }

  async subscribe<T extends Topic>(topic: T, handler: (payload: Topics[T]) => void) {
    const channel = this.prefix + topic;
    let set = this.handlers.get(channel);
    if (!set) {
      this.handlers.set(channel, (set = new Set()));
      await this.subscriber.ssubscribe(channel);
    }
    set.add(handler);
    return () => {
      set.delete(handler);
      if (set.size === 0 && this.handlers.get(channel) === set) {
        this.handlers.delete(channel);
        this.subscriber.sunsubscribe(channel).catch((error: Error) => this.onError(error, 'sunsubscribe'));
      }
    };
  }

  onReconnect(handler: () => void) {
    // A master's subscriber connection was lost and replaced ('-subscriber'); once the
    // group is subscribed again, notices may have been missed meanwhile.
    let lost = false;
    this.subscriber.on('-subscriber', () => (lost = true));
    this.subscriber.on('subscribersReady', () => {
      if (!lost) return;
      lost = false;
      handler();
    });
  }

  onDisconnect(handler: () => void) {
    this.subscriber.on('-subscriber', handler);
  }

  async close() {
    this.subscriber.off('smessage', this.onMessage);
    this.handlers.clear();
  }
}
