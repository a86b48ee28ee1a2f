import { createHash } from 'node:crypto';
import type { Priority } from './priority.js';

export const SCOPES = ['sentiment:read', 'credit:assess', 'forecast:read', 'audit:read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface ApiKeyConfig {
  readonly name: string;
  /** Hex SHA-256 of the key: the gateway never holds keys in clear. */
  readonly sha256: string;
  readonly scopes: readonly Scope[];
  /** How urgently its requests are served when the gateway or a model is busy (normal when absent). */
  readonly priority?: Priority;
}

export interface Caller {
  readonly name: string;
  readonly scopes: ReadonlySet<Scope>;
  /** Its requests' priority (normal when absent); a request may lower it with x-priority, never raise it. */
  readonly priority?: Priority;
}

/** sha256 hex of a key, as configured in API_KEYS. @example hashApiKey('abc') // 'ba7816bf…' */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * The configured API keys. Keys are long random tokens, so a fast hash suffices: lookups compare
 * the hash of what was sent, never the secret itself.
 */
export class ApiKeyRing {
  private readonly byHash: ReadonlyMap<string, Caller>;

  constructor(keys: readonly ApiKeyConfig[]) {
    this.byHash = new Map(keys.map((k) => [k.sha256.toLowerCase(), { name: k.name, scopes: new Set(k.scopes), priority: k.priority ?? 'normal' }]));
  }

  /** True when no keys are configured: the gateway runs open. */
  get open(): boolean {
    return this.byHash.size === 0;
  }

  /** The caller of `Authorization: Bearer <key>` or `x-api-key: <key>`; undefined when absent or unknown. */
  authenticate(authorization: string | undefined, apiKeyHeader: string | undefined): Caller | undefined {
    const key = apiKeyHeader ?? /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    return key ? this.byHash.get(hashApiKey(key)) : undefined;
  }
}

/** Whether a caller may use a field that needs `scope` (admin may use everything). */
export function hasScope(caller: Caller, scope: Scope): boolean {
  return caller.scopes.has('admin') || caller.scopes.has(scope);
}
