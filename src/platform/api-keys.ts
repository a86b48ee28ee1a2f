import { createHash } from 'node:crypto';
import type { Priority } from './priority.js';

/** `explore`: may send free-form operations while trusted documents are enforced. */
export const SCOPES = ['sentiment:read', 'credit:assess', 'forecast:read', 'audit:read', 'explore', 'admin'] as const;
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
  /** The API key's name, or a bearer JWT's `sub`. */
  readonly name: string;
  readonly scopes: ReadonlySet<Scope>;
  /** Its requests' priority (normal when absent); a request may lower it with x-priority, never raise it. */
  readonly priority?: Priority;
  /** How the caller proved who it is; absent: an API key. */
  readonly via?: 'jwt';
}

/**
 * Who sent a request: API keys alone (`ApiKeyRing`) or keys and bearer JWTs (`Authenticator`). Undefined when no
 * credential was sent or a key is unknown; a JWT that fails verification rejects with UnauthenticatedError.
 */
export interface CallerSource {
  /** No credential is configured: the gateway runs open. */
  readonly open: boolean;
  authenticate(
    authorization: string | undefined,
    apiKeyHeader: string | undefined,
  ): Caller | undefined | Promise<Caller | undefined>;
}

/** How a caller is named in messages, logs and the decision record: a JWT subject as `jwt:<sub>`. */
export function callerLabel(caller: Caller): string {
  return caller.via === 'jwt' ? `jwt:${caller.name}` : caller.name;
}

/** sha256 hex of a key, as configured in API_KEYS. @example hashApiKey('abc') // 'ba7816bf…' */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * The configured API keys. Keys are long random tokens, so a fast hash suffices: lookups compare
 * the hash of what was sent, never the secret itself.
 */
export class ApiKeyRing implements CallerSource {
  private readonly byHash: ReadonlyMap<string, Caller>;

  constructor(keys: readonly ApiKeyConfig[]) {
    this.byHash = new Map(
      keys.map((k) => [
        k.sha256.toLowerCase(),
        { name: k.name, scopes: new Set(k.scopes), priority: k.priority ?? 'normal' },
      ]),
    );
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

/** Whom rate limits and fair shares count a caller against. */
export function rateKeyOf(caller: Caller): string {
  return caller.via === 'jwt' ? `jwt:${caller.name}` : `key:${caller.name}`;
}

/** Whether a caller may use a field that needs `scope` (admin may use everything). */
export function hasScope(caller: Caller, scope: Scope): boolean {
  return caller.scopes.has('admin') || caller.scopes.has(scope);
}
