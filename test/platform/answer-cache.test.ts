import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AnswerCache,
  cachedMany,
  type AnswerCacheObserver,
  type AnswerCodec,
} from '../../src/platform/answer-cache.js';
import { startRedis } from '../support/redis-server.js';

const CODEC: AnswerCodec<number[]> = {
  size: (v) => 16 * v.length,
  encode: (v) => JSON.stringify(v),
  decode: (t) => JSON.parse(t) as number[],
};

/** Counts what the cache reports, by event, cache and level. */
function counting() {
  const counts = new Map<string, number>();
  const add = (key: string, n: number) => counts.set(key, (counts.get(key) ?? 0) + n);
  const observer: AnswerCacheObserver = {
    lookups: (cache, level, hits, misses) => {
      add(`hit:${cache}:${level}`, hits);
      add(`miss:${cache}:${level}`, misses);
    },
    evicted: (cache) => add(`evicted:${cache}`, 1),
    redisError: (cache) => add(`redisError:${cache}`, 1),
  };
  return { observer, count: (key: string) => counts.get(key) ?? 0 };
}

describe('AnswerCache: a local LRU bounded in bytes', () => {
  it('computes only the missing inputs, in order, and does not keep errors', async () => {
    const cache = new AnswerCache({ maxBytes: 1 << 20, ttlMs: 0 });
    const calls: string[][] = [];
    const compute = async (inputs: readonly string[]) => {
      calls.push([...inputs]);
      return inputs.map((i) => (i.startsWith('bad') ? new Error(i) : [i.length]));
    };
    const first = await cachedMany(cache, 'c', ['a', 'bb', 'bad1'], (i) => i, CODEC, compute);
    assert.deepEqual(first.slice(0, 2), [[1], [2]]);
    assert.ok(first[2] instanceof Error);
    const second = await cachedMany(
      cache,
      'c',
      ['ccc', 'a', 'bad1', 'bb', 'nokey'],
      (i) => (i === 'nokey' ? undefined : i),
      CODEC,
      compute,
    );
    assert.deepEqual(calls, [
      ['a', 'bb', 'bad1'],
      ['ccc', 'bad1', 'nokey'],
    ]);
    assert.deepEqual([second[0], second[1], second[3], second[4]], [[3], [1], [2], [5]]);
    assert.ok(second[2] instanceof Error);
    await cache.close();
  });

  it('stays within maxBytes when filled far past it, evicting the least recently used', async () => {
    const { observer, count } = counting();
    const maxBytes = 64 * 1024;
    const cache = new AnswerCache({ maxBytes, ttlMs: 0, observer });
    let peak = 0;
    for (let i = 0; i < 5000; i++) {
      cache.setMany('fill', [[`key-${i}`, [i, i, i, i]]], CODEC);
      if (i % 7 === 0) cache.getLocal('fill', 'key-0'); // key-0 stays recently used
      peak = Math.max(peak, cache.bytes());
    }
    assert.ok(peak <= maxBytes, `peak ${peak} bytes > bound ${maxBytes}`);
    assert.ok(peak > maxBytes * 0.9, `the cache filled up (${peak} of ${maxBytes} bytes)`);
    assert.equal(
      cache.usage().find((u) => u.cache === 'fill')!.bytes,
      cache.bytes(),
      'per-cache bytes add up to the bound-checked total',
    );
    assert.ok(count('evicted:fill') > 4000, `${count('evicted:fill')} evictions`);
    assert.deepEqual(cache.getLocal('fill', 'key-0'), [0, 0, 0, 0]);
    assert.equal(cache.getLocal('fill', 'key-1'), undefined);
    await cache.close();
  });

  it('is off with maxBytes 0: everything is computed', async () => {
    const cache = new AnswerCache({ maxBytes: 0, ttlMs: 0 });
    let computed = 0;
    for (let k = 0; k < 2; k++)
      await cachedMany(
        cache,
        'c',
        ['a'],
        (i) => i,
        CODEC,
        async (inputs) => inputs.map(() => [computed++]),
      );
    assert.equal(computed, 2);
    assert.equal(cache.enabled, false);
  });
});

describe('AnswerCache: Redis as a second level', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  before(async () => {
    redis = await startRedis();
  });
  after(() => redis.stop());

  it('shares answers between two caches (two replicas), and answers "miss" fast when Redis is down', async () => {
    const a = counting();
    const b = counting();
    const one = new AnswerCache({ maxBytes: 1 << 20, ttlMs: 60_000, redisUrl: redis.url, observer: a.observer });
    const two = new AnswerCache({ maxBytes: 1 << 20, ttlMs: 60_000, redisUrl: redis.url, observer: b.observer });
    try {
      assert.equal(await one.redisReady(), true);
      assert.equal(await two.redisReady(), true);
      one.setMany(
        's',
        [
          ['x', [1, 2]],
          ['y', [3]],
        ],
        CODEC,
      );
      // setMany does not wait for Redis: wait until the other replica sees both.
      let got: Array<number[] | undefined> = [];
      for (let tries = 0; tries < 100 && got.filter(Boolean).length < 2; tries++)
        got = await two.getMany('s', ['x', 'y', 'z'], CODEC);
      assert.deepEqual(got, [[1, 2], [3], undefined]);
      assert.ok(b.count('hit:s:redis') >= 2);
      // Redis's hits were copied locally: asked again, the second replica does not go to Redis for them.
      const before = b.count('hit:s:redis') + b.count('miss:s:redis');
      assert.deepEqual(await two.getMany('s', ['x', 'y'], CODEC), [[1, 2], [3]]);
      assert.equal(b.count('hit:s:redis') + b.count('miss:s:redis'), before);

      await redis.stop();
      const started = performance.now();
      const down = await two.getMany('s', ['x', 'w'], CODEC);
      const ms = performance.now() - started;
      assert.deepEqual(down, [[1, 2], undefined]);
      assert.ok(ms < 500, `a lookup with Redis down took ${ms.toFixed(0)} ms`);
      assert.ok(b.count('redisError:s') >= 1, 'the failure is counted');
      const computed = await cachedMany(
        two,
        's',
        ['w'],
        (i) => i,
        CODEC,
        async (inputs) => inputs.map(() => [9]),
      );
      assert.deepEqual(computed, [[9]]);
    } finally {
      await one.close();
      await two.close();
      redis = await startRedis(redis.port);
    }
  });
});
