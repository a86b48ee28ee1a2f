import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Logger } from './logger.js';

/** Apollo's KeyValueCache<string>, as `persistedQueries.cache` takes it. */
export interface ApqCache {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, options?: { ttl?: number | null }): Promise<void>;
  delete(key: string): Promise<boolean | undefined>;
}

/** Characters of query text the in-process APQ cache holds (Apollo's own default cache holds about 30 MiB). */
const LOCAL_CHARS = 30 * 2 ** 20;
/** How long a document registered in Redis stays there unless Apollo's `ttl` says otherwise. */
const REDIS_TTL_S = 24 * 3600;
const REDIS_PREFIX = 'fin-intel-gateway:';

/** The in-process APQ cache: bounded by characters, least recently used out first. */
export function localApqCache(): ApqCache {
  const lru = new LRUCache<string, string>({
    maxSize: LOCAL_CHARS,
    sizeCalculation: (value, key) => value.length + key.length,
  });
  return {
    get: async (key) => lru.get(key),
    set: async (key, value, options) => {
      lru.set(key, value, options?.ttl ? { ttl: options.ttl * 1000 } : {});
    },
    delete: async (key) => lru.delete(key),
  };
}

/**
 * APQ shared by the replicas through Redis, behind an in-process cache: a document registered on one replica is
 * found by the others. While Redis cannot be reached a lookup misses (the client resends the text, as APQ does
 * anyway) and a registration stays local, so Redis being down never fails a request.
 */
export class RedisApqCache implements ApqCache {
  private readonly client: Redis;
  private readonly local = localApqCache();
  private degraded = false;

  constructor(
    url: string,
    private readonly logger?: Logger,
  ) {
    // No offline queue: while disconnected a command fails at once and the local cache answers alone.
    this.client = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    this.client.on('error', () => undefined); // reconnects by itself
  }

  async get(key: string): Promise<string | undefined> {
    const local = await this.local.get(key);
    if (local !== undefined) return local;
    try {
      const shared = await this.client.get(REDIS_PREFIX + key);
      this.healthy();
      if (shared === null) return undefined;
      await this.local.set(key, shared);
      return shared;
    } catch (error) {
      this.failed(error);
      return undefined;
    }
  }

  async set(key: string, value: string, options?: { ttl?: number | null }): Promise<void> {
    await this.local.set(key, value, options);
    try {
      await this.client.set(REDIS_PREFIX + key, value, 'EX', options?.ttl ?? REDIS_TTL_S);
      this.healthy();
    } catch (error) {
      this.failed(error);
    }
  }

  async delete(key: string): Promise<boolean> {
    const local = await this.local.delete(key);
    try {
      return (await this.client.del(REDIS_PREFIX + key)) > 0 || Boolean(local);
    } catch (error) {
      this.failed(error);
      return Boolean(local);
    }
  }

  close(): void {
    this.client.disconnect();
  }

  private failed(error: unknown): void {
    if (this.degraded) return;
    this.degraded = true;
    this.logger?.warn(
      { err: error },
      'APQ: Redis not reachable, persisted queries are cached on this replica only until it returns',
    );
  }

  private healthy(): void {
    if (!this.degraded) return;
    this.degraded = false;
    this.logger?.info('APQ: Redis reachable again, persisted queries are shared by the replicas');
  }
}
