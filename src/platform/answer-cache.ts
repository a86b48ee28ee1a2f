import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Logger } from './logger.js';

/** What the cache reports; GatewayMetrics implements it (tests may pass nothing). */
export interface AnswerCacheObserver {
  lookups(cache: string, level: 'local' | 'redis', hits: number, misses: number): void;
  evicted(cache: string): void;
  /** A Redis command failed or timed out: the request went on without that level. */
  redisError(cache: string): void;
}

export interface AnswerCacheOptions {
  /** Bound of the local level in (estimated) bytes; 0 turns the whole cache off. */
  readonly maxBytes: number;
  /** How long an answer is kept, in ms (0: until evicted). */
  readonly ttlMs: number;
  /** A second level shared by replicas; undefined: local only. */
  readonly redisUrl?: string;
  /** Longest a Redis command may take before the request computes instead. */
  readonly redisTimeoutMs?: number;
  readonly observer?: AnswerCacheObserver;
  readonly logger?: Logger;
}

/** How one cache's values travel through Redis, and what one weighs locally. */
export interface AnswerCodec<V> {
  /** Estimated heap bytes of a value (the key is counted apart). */
  size(value: V): number;
  /** Absent: the cache stays local (values cheaper to recompute than to fetch, or not worth sharing). */
  encode?(value: V): string;
  decode?(text: string): V;
}

interface Entry {
  readonly cache: string;
  readonly value: unknown;
  readonly size: number;
}

/** Per-entry bookkeeping of lru-cache and the Map behind it, beside the key's characters and the value. */
const ENTRY_OVERHEAD = 96;
const REDIS_PREFIX = 'fin-intel-gateway:answer:';

/**
 * A cache of deterministic answers: a local LRU bounded in bytes, then Redis when configured. Keys are made by the
 * callers from everything that decides the answer (a model's artefact hash and the normalised input), so an entry
 * is never wrong, only unused; nothing is invalidated on a model swap. Redis failing never fails a request: the
 * lookup counts an error and answers "miss".
 */
export class AnswerCache {
  private readonly lru: LRUCache<string, Entry> | undefined;
  private readonly redis: Redis | undefined;
  private readonly bytesByCache = new Map<string, number>();
  private readonly entriesByCache = new Map<string, number>();
  private degraded = false;

  constructor(private readonly options: AnswerCacheOptions) {
    if (options.maxBytes <= 0) return;
    this.lru = new LRUCache<string, Entry>({
      maxSize: options.maxBytes,
      sizeCalculation: (entry) => entry.size,
      ttl: options.ttlMs > 0 ? options.ttlMs : undefined,
      dispose: (entry, _key, reason) => {
        this.account(entry.cache, -entry.size, -1);
        if (reason === 'evict') options.observer?.evicted(entry.cache);
      },
    });
    if (options.redisUrl) {
      // No offline queue and a command timeout: while Redis is away or slow a lookup fails fast and the request computes.
      this.redis = new Redis(options.redisUrl, {
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        commandTimeout: options.redisTimeoutMs ?? 250,
        lazyConnect: false,
      });
      this.redis.on('error', () => undefined); // reconnects by itself; failed commands are counted
    }
  }

  /** False when ANSWER_CACHE_MAX_BYTES is 0. */
  get enabled(): boolean {
    return this.lru !== undefined;
  }

  /** The local level's estimated bytes (the bound applies to this), in all or one cache. */
  bytes(cache?: string): number {
    if (!this.lru) return 0;
    return cache === undefined ? this.lru.calculatedSize : (this.bytesByCache.get(cache) ?? 0);
  }

  /** Per cache name: estimated bytes and entries held locally. */
  usage(): Array<{ cache: string; bytes: number; entries: number }> {
    return [...this.bytesByCache.keys()].map((cache) => ({
      cache,
      bytes: this.bytesByCache.get(cache) ?? 0,
      entries: this.entriesByCache.get(cache) ?? 0,
    }));
  }

  get maxBytes(): number {
    return this.lru ? this.options.maxBytes : 0;
  }

  /** Resolves once Redis answers (true), or false after `timeoutMs` or without Redis. */
  async redisReady(timeoutMs = 2000): Promise<boolean> {
    const redis = this.redis;
    if (!redis) return false;
    if (redis.status === 'ready') return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      redis.once('ready', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /**
   * The cached value of each key, or undefined: the local level first, then (one MGET) Redis for what is missing
   * there, copying Redis's hits into the local level.
   */
  async getMany<V>(cache: string, keys: readonly string[], codec: AnswerCodec<V>): Promise<Array<V | undefined>> {
    const lru = this.lru;
    if (!lru) return keys.map(() => undefined);
    const found = keys.map((k) => lru.get(`${cache}|${k}`)?.value as V | undefined);
    const missing = found.flatMap((v, i) => (v === undefined ? [i] : []));
    this.options.observer?.lookups(cache, 'local', keys.length - missing.length, missing.length);
    if (!this.redis || !codec.decode || missing.length === 0) return found;
    let texts: Array<string | null>;
    try {
      texts = await this.redis.mget(missing.map((i) => `${REDIS_PREFIX}${cache}:${keys[i]}`));
      this.recovered();
    } catch (error) {
      this.failed(cache, error);
      return found;
    }
    let hits = 0;
    missing.forEach((i, k) => {
      const text = texts[k];
      if (text == null) return;
      let value: V;
      try {
        value = codec.decode!(text);
      } catch {
        return; // written by an incompatible replica: computed again and overwritten
      }
      found[i] = value;
      hits++;
      this.setLocal(cache, keys[i]!, value, codec);
    });
    this.options.observer?.lookups(cache, 'redis', hits, missing.length - hits);
    return found;
  }

  /** Stores answers locally and, for a shareable codec, in Redis (not awaited: the caller has its answer already). */
  setMany<V>(cache: string, entries: ReadonlyArray<readonly [string, V]>, codec: AnswerCodec<V>): void {
    if (!this.lru || entries.length === 0) return;
    for (const [key, value] of entries) this.setLocal(cache, key, value, codec);
    if (!this.redis || !codec.encode || this.redis.status !== 'ready') return;
    const pipeline = this.redis.pipeline();
    for (const [key, value] of entries) {
      const redisKey = `${REDIS_PREFIX}${cache}:${key}`;
      if (this.options.ttlMs > 0) pipeline.set(redisKey, codec.encode(value), 'PX', this.options.ttlMs);
      else pipeline.set(redisKey, codec.encode(value));
    }
    pipeline.exec().then(
      () => this.recovered(),
      (error: unknown) => this.failed(cache, error),
    );
  }

  /** The local level only, synchronously (for answers not worth a round trip: stored prices). */
  getLocal<V>(cache: string, key: string): V | undefined {
    const value = this.lru?.get(`${cache}|${key}`)?.value as V | undefined;
    this.options.observer?.lookups(cache, 'local', value === undefined ? 0 : 1, value === undefined ? 1 : 0);
    return value;
  }

  setLocal<V>(cache: string, key: string, value: V, codec: AnswerCodec<V>): void {
    if (!this.lru) return;
    const full = `${cache}|${key}`;
    const size = ENTRY_OVERHEAD + 2 * full.length + codec.size(value);
    // Larger than the whole bound: lru-cache would refuse it anyway; not counted as an eviction.
    if (size > this.options.maxBytes) return;
    this.account(cache, size, 1);
    this.lru.set(full, { cache, value, size });
  }

  /** Drops every local entry of one cache whose key starts with `prefix` (prices of a symbol that changed). */
  deleteLocal(cache: string, prefix = ''): void {
    if (!this.lru) return;
    const start = `${cache}|${prefix}`;
    for (const key of [...this.lru.keys()]) if (key.startsWith(start)) this.lru.delete(key);
  }

  async close(): Promise<void> {
    this.lru?.clear();
    if (this.redis) await this.redis.quit().catch(() => this.redis!.disconnect());
  }

  private account(cache: string, bytes: number, entries: number): void {
    this.bytesByCache.set(cache, (this.bytesByCache.get(cache) ?? 0) + bytes);
    this.entriesByCache.set(cache, (this.entriesByCache.get(cache) ?? 0) + entries);
  }

  private failed(cache: string, error: unknown): void {
    this.options.observer?.redisError(cache);
    if (this.degraded) return;
    this.degraded = true;
    this.options.logger?.warn(
      { reason: (error as Error).message },
      'answer cache: Redis unreachable, answers are computed (and cached locally)',
    );
  }

  private recovered(): void {
    if (!this.degraded) return;
    this.degraded = false;
    this.options.logger?.info('answer cache: Redis answers again');
  }
}

/**
 * A key part for inputs of any length: SHA-256, base64url (43 characters).
 * @example digest('Shares rose') // 'q3J...' (43 characters)
 */
export function digest(...parts: ReadonlyArray<string | ArrayBufferView>): string {
  const hash = createHash('sha256');
  for (const p of parts) {
    hash.update(typeof p === 'string' ? p : new Uint8Array(p.buffer, p.byteOffset, p.byteLength));
    hash.update('\0');
  }
  return hash.digest('base64url');
}

/**
 * Answers for `inputs` through `cache`: cached ones as they are, the others computed in one call (`compute` gets
 * only the missing inputs, in order) and stored unless they are Errors. `keyOf` returns undefined for an input
 * that must not be cached.
 */
export async function cachedMany<I, O>(
  cache: AnswerCache | undefined,
  name: string,
  inputs: readonly I[],
  keyOf: (input: I) => string | undefined,
  codec: AnswerCodec<O>,
  compute: (inputs: readonly I[]) => Promise<Array<O | Error>>,
): Promise<Array<O | Error>> {
  if (!cache?.enabled || inputs.length === 0) return compute(inputs);
  const keys = inputs.map(keyOf);
  const cacheable = keys.flatMap((k, i) => (k === undefined ? [] : [i]));
  const found = await cache.getMany(
    name,
    cacheable.map((i) => keys[i]!),
    codec,
  );
  const results = new Array<O | Error | undefined>(inputs.length);
  cacheable.forEach((i, k) => (results[i] = found[k]));
  const missing = inputs.flatMap((_, i) => (results[i] === undefined ? [i] : []));
  if (missing.length) {
    const computed = await compute(missing.map((i) => inputs[i]!));
    const fresh: Array<readonly [string, O]> = [];
    missing.forEach((i, k) => {
      const out = computed[k]!;
      results[i] = out;
      if (!(out instanceof Error) && keys[i] !== undefined) fresh.push([keys[i]!, out]);
    });
    cache.setMany(name, fresh, codec);
  }
  return results as Array<O | Error>;
}
