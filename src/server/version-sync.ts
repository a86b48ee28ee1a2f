import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../platform/logger.js';
import type { ModelRegistry } from '../runtime/model-registry.js';

const CHANNEL = 'fin-intel-gateway:model-versions';
/** model name -> the version the fleet runs, for replicas that start later. */
const ACTIVE = 'fin-intel-gateway:active-versions';
/** How often a replica records what it has not yet recorded and re-reads the recorded versions. */
const RESYNC_MS = 5000;

/**
 * Keeps the active model versions of every replica in step through Redis: a version activated on one
 * replica (by activateModelVersion or a manifest edit) is recorded and published, and activated by the
 * others, each with its own warm-up and atomic swap; a replica that starts later takes the recorded
 * versions before it reports ready. An activation made while Redis is down is kept and recorded once Redis
 * answers (retried every 5 s); every replica re-reads the recorded versions when its connection comes back
 * and every 5 s, so the fleet converges after any outage. A replica that cannot load a version keeps its
 * own and says so in its log.
 */
export class VersionSync {
  private readonly origin = randomUUID();
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  /** Activations this replica is applying because another announced them: not announced again. */
  private readonly incoming = new Set<string>();
  /** Activations made here that Redis has not recorded yet: model name -> version. */
  private readonly unrecorded = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;
  private synced = false;
  private unreachable = false;
  /** Recorded versions this replica could not load: not tried again until the record names another. */
  private readonly refused = new Set<string>();

  constructor(
    url: string,
    private readonly registry: ModelRegistry,
    private readonly logger: Logger,
  ) {
    this.publisher = new Redis(url, { maxRetriesPerRequest: 2 });
    this.subscriber = new Redis(url, { maxRetriesPerRequest: 2 });
    for (const client of [this.publisher, this.subscriber]) client.on('error', () => undefined); // reconnects by itself; resync reports
  }

  /** False until the versions recorded at start serve here (or Redis could not be reached): readiness waits for it. */
  get ready(): boolean {
    return this.synced;
  }

  /** Subscribes, then takes the versions the fleet already runs; never throws (without Redis this replica keeps its own). */
  async start(): Promise<void> {
    this.subscriber.on('message', (_channel: string, message: string) => {
      const { origin, name, version } = JSON.parse(message) as { origin: string; name: string; version: string };
      if (origin !== this.origin) void this.apply(name, version);
    });
    // After a reconnection: record what waited, and catch up with what was recorded meanwhile.
    this.subscriber.on('ready', () => void this.resync());
    await this.subscriber.subscribe(CHANNEL).catch(() => undefined);
    await this.resync();
    this.synced = true;
    this.timer = setInterval(() => void this.resync(), RESYNC_MS);
    this.timer.unref();
  }

  /** Called by the registry after each activation on this replica. */
  announce(name: string, version: string): void {
    if (this.incoming.delete(`${name}@${version}`)) return;
    this.unrecorded.set(name, version);
    void this.record();
  }

  /** One resync at a time: record this replica's unrecorded activations, then take the recorded versions. */
  private resync(): Promise<void> {
    this.syncing ??= (async () => {
      try {
        if (!(await this.record())) return;
        let recorded: Record<string, string>;
        try {
          recorded = await this.publisher.hgetall(ACTIVE);
        } catch (error) {
          this.down(error as Error);
          return;
        }
        this.up();
        await Promise.all(Object.entries(recorded).map(([name, version]) => this.apply(name, version)));
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }

  /** Records and publishes every unrecorded activation; false while Redis does not take them. */
  private async record(): Promise<boolean> {
    for (const [name, version] of [...this.unrecorded]) {
      try {
        await this.publisher
          .multi()
          .hset(ACTIVE, name, version)
          .publish(CHANNEL, JSON.stringify({ origin: this.origin, name, version }))
          .exec();
      } catch (error) {
        this.down(error as Error);
        return false;
      }
      if (this.unrecorded.get(name) === version) this.unrecorded.delete(name);
      this.logger.info({ model: name, version }, 'version sync: activation recorded');
    }
    return true;
  }

  private down(error: Error): void {
    if (this.unreachable) return;
    this.unreachable = true;
    this.logger.warn(
      { reason: error.message, unrecorded: Object.fromEntries(this.unrecorded) },
      'version sync: Redis unreachable; this replica keeps its versions and records its activations once Redis answers',
    );
  }

  private up(): void {
    if (!this.unreachable) return;
    this.unreachable = false;
    this.logger.info('version sync: Redis answers again');
  }

  private async apply(name: string, version: string): Promise<void> {
    const current = this.registry.get(name);
    // A version this replica activated and has not recorded yet wins over the one Redis still holds.
    if (
      !current ||
      current.identity.version === version ||
      this.unrecorded.has(name) ||
      this.refused.has(`${name}@${version}`)
    )
      return;
    this.incoming.add(`${name}@${version}`);
    this.logger.info({ model: name, version }, 'version sync: activating the version another replica activated');
    await this.registry.activate(name, version).catch((error: Error) => {
      this.incoming.delete(`${name}@${version}`);
      this.refused.add(`${name}@${version}`);
      this.logger.error(
        { model: name, version, reason: error.message },
        'version sync: this replica keeps its version',
      );
    });
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([this.publisher, this.subscriber].map((c) => c.quit().catch(() => c.disconnect())));
  }
}
