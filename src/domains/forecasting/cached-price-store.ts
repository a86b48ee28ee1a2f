import type { AnswerCache, AnswerCodec } from '../../platform/answer-cache.js';
import type { PriceRow, PriceStore, SymbolSummary } from './price-store.js';

const CACHE = 'prices';
/** Rows are objects of six fields: a generous estimate of their heap size. */
const ROWS_CODEC: AnswerCodec<readonly PriceRow[] | readonly SymbolSummary[]> = {
  size: (rows) => 64 + 160 * rows.length,
};

/**
 * Stored prices kept in the answer cache (locally: a read of the store costs about what a Redis round trip would)
 * while the store has not changed. A change is seen through the store's data version (SQLite: any commit by
 * another connection, such as `npm run import-prices`) or an upsert through this object; then every cached read
 * of the store is dropped. A store without a data version (PostgreSQL) is read every time.
 */
export class CachedPriceStore implements PriceStore {
  private generation = 0;
  private seen: number | undefined;

  constructor(
    private readonly store: PriceStore & { dataVersion?(): number },
    private readonly cache: AnswerCache,
  ) {}

  /** True when reads are cached (a store that can say when it changed, and the cache on). */
  get caching(): boolean {
    return this.cache.enabled && this.store.dataVersion !== undefined;
  }

  /** The store's version as this process knows it; drops the cached reads when it moved. */
  private version(): string | undefined {
    if (!this.caching) return undefined;
    const now = this.store.dataVersion!();
    if (this.seen !== undefined && now !== this.seen) this.invalidate();
    this.seen = now;
    return `${this.generation}.${now}`;
  }

  private invalidate(): void {
    this.generation++;
    this.cache.deleteLocal(CACHE);
  }

  private async read<T extends readonly PriceRow[] | readonly SymbolSummary[]>(
    key: string,
    load: () => Promise<T>,
  ): Promise<T> {
    const version = this.version();
    if (version === undefined) return load();
    const full = `${version}:${key}`;
    const hit = this.cache.getLocal<T>(CACHE, full);
    if (hit !== undefined) return hit;
    const rows = await load();
    // A commit while this read ran leaves the version moved: the read may predate it, so it is not kept.
    if (this.version() === version) this.cache.setLocal(CACHE, full, rows, ROWS_CODEC);
    return rows;
  }

  async upsert(symbol: string, rows: readonly PriceRow[]): Promise<number> {
    try {
      return await this.store.upsert(symbol, rows);
    } finally {
      this.invalidate();
    }
  }

  symbols(): Promise<SymbolSummary[]> {
    return this.read('symbols', () => this.store.symbols());
  }

  prices(symbol: string, from: string | undefined, to: string | undefined, limit: number): Promise<PriceRow[]> {
    return this.read(`range:${symbol}:${from ?? ''}:${to ?? ''}:${limit}`, () =>
      this.store.prices(symbol, from, to, limit),
    );
  }

  latest(symbol: string, count: number): Promise<PriceRow[]> {
    return this.read(`latest:${symbol}:${count}`, () => this.store.latest(symbol, count));
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
