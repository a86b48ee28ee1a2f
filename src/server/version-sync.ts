import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../platform/logger.js';
import type { ModelRegistry } from '../runtime/model-registry.js';

const CHANNEL = 'fin-intel-gateway:model-versions';
/** model name -> the version the fleet runs, for replicas that start later. */
const ACTIVE = 'fin-intel-gateway:active-versions';

/**
 * Keeps the active model versions of every replica in step through Redis: a version activated on one
 * replica (by activateModelVersion or a manifest edit) is published, recorded, and activated by the
 * others, each with its own warm-up and atomic swap; a replica that starts later takes the recorded
 * versions. A replica that cannot load the version keeps its own and says so in its log.
 */
export class VersionSync {
  private readonly origin = randomUUID();
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  /** Activations this replica is applying because another announced them: not announced again. */
  private readonly incoming = new Set<string>();

  constructor(url: string, private readonly registry: ModelRegistry, private readonly logger: Logger) {
    this.publisher = new Redis(url, { maxRetriesPerRequest: 2 });
    this.subscriber = new Redis(url, { maxRetriesPerRequest: 2 });
    for (const client of [this.publisher, this.subscriber]) client.on('error', (error: Error) => logger.warn({ reason: error.message }, 'version sync: Redis error'));
  }

  /** Subscribes, then takes the versions the fleet already runs. */
  async start(): Promise<void> {
    this.subscriber.on('message', (_channel: string, message: string) => {
      const { origin, name, version } = JSON.parse(message) as { origin: string; name: string; version: string };
      if (origin !== this.origin) this.apply(name, version);
    });
    await this.subscriber.subscribe(CHANNEL);
    for (const [name, version] of Object.entries(await this.publisher.hgetall(ACTIVE))) this.apply(name, version);
  }

  /** Called by the registry after each activation on this replica. */
  announce(name: string, version: string): void {
    if (this.incoming.delete(`${name}@${version}`)) return;
    this.publisher.multi().hset(ACTIVE, name, version).publish(CHANNEL, JSON.stringify({ origin: this.origin, name, version })).exec()
      .catch((error: Error) => this.logger.error({ model: name, version, reason: error.message }, 'version sync: could not announce the activation'));
  }

  private apply(name: string, version: string): void {
    const current = this.registry.get(name);
    if (!current || current.manifest.version === version) return;
    this.incoming.add(`${name}@${version}`);
    this.logger.info({ model: name, version }, 'version sync: activating the version another replica activated');
    this.registry.activate(name, version).catch((error: Error) => {
      this.incoming.delete(`${name}@${version}`);
      this.logger.error({ model: name, version, reason: error.message }, 'version sync: this replica keeps its version');
    });
  }

  async close(): Promise<void> {
    await Promise.all([this.publisher, this.subscriber].map((c) => c.quit().catch(() => c.disconnect())));
  }
}
