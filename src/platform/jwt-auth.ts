import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { type ApiKeyRing, SCOPES, type Caller, type CallerSource, type Scope } from './api-keys.js';
import { GatewayError, GatewayErrorCode, UnauthenticatedError } from './errors.js';
import { int, type DeepReadonly, type ReportProblem, type ValuesOf } from './settings.js';

/** Asymmetric JWS algorithms only: a shared secret in a key set anyone may read would let anyone sign. */
export const JWT_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/** Bearer JWTs of one OIDC issuer: what jwtSettings makes of the JWT_* variables. */
export type JwtConfig = DeepReadonly<NonNullable<ReturnType<typeof jwtSettings>>>;

/** The issuer's keys cannot be had (its JWKS URL is down or answers nonsense): nobody's token can be checked. */
export class AuthUnavailableError extends GatewayError {
  constructor(message: string) {
    super(message, GatewayErrorCode.AUTH_UNAVAILABLE, { retryable: true });
  }
}

/** Three base64url segments (the last empty for `alg: none`, which verification then refuses). */
const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]*$/;
/** Verified tokens are remembered this long at most (never past their `exp`): a key the issuer withdraws stops working within it. */
const VERIFIED_TTL_MS = 30_000;
/** Characters of remembered tokens, all together. */
const VERIFIED_CACHE_CHARS = 8 * 2 ** 20;
/** A `sub` that can name a caller in logs, rate keys and the decision record. */
const SUBJECT = /^[^\p{Cc}]{1,256}$/u;

/**
 * Verifies bearer JWTs of one OIDC issuer with jose: signature against the issuer's JWKS, `iss`, `aud`, `exp`
 * (required) and `nbf` with a clock tolerance, an allowed algorithm, and a `sub` to name the caller. A verified
 * token is remembered for a short while (a repeated signature check costs more than the lookup), keyed by its
 * whole text.
 */
export class JwtVerifier {
  private readonly keys: JWTVerifyGetKey;
  private readonly verified = new LRUCache<string, Caller>({
    maxSize: VERIFIED_CACHE_CHARS,
    sizeCalculation: (_v, token) => token.length,
    ttl: VERIFIED_TTL_MS,
  });
  private readonly source: string;

  constructor(private readonly config: JwtConfig) {
    if ('url' in config.jwks) {
      this.keys = createRemoteJWKSet(new URL(config.jwks.url), {
        timeoutDuration: 5000,
        cooldownDuration: 30_000,
        cacheMaxAge: 10 * 60_000,
      });
      this.source = config.jwks.url;
    } else {
      // jose's type is mutable; it only reads the set.
      this.keys = createLocalJWKSet(config.jwks.keys as JSONWebKeySet);
      this.source = config.jwks.file;
    }
  }

  /** The caller a token names; rejects with UnauthenticatedError (401) or AuthUnavailableError (503) saying why. */
  async verify(token: string): Promise<Caller> {
    const known = this.verified.get(token);
    if (known) return known;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        issuer: this.config.issuer,
        audience: [...this.config.audience],
        algorithms: [...this.config.algorithms],
        clockTolerance: this.config.clockToleranceSeconds,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      throw this.explain(error, token);
    }
    const sub = payload.sub!;
    if (!SUBJECT.test(sub))
      throw new UnauthenticatedError(
        `bearer token's sub must be 1..256 printable characters, got ${sub.length} characters`,
      );
    const caller: Caller = { name: sub, scopes: new Set(this.scopesOf(payload)), via: 'jwt' };
    const ttl = Math.min(VERIFIED_TTL_MS, (payload.exp! + this.config.clockToleranceSeconds) * 1000 - Date.now());
    if (ttl > 0) this.verified.set(token, caller, { ttl });
    return caller;
  }

  /** The gateway scopes a verified token grants, from the configured claim. */
  scopesOf(payload: JWTPayload): Scope[] {
    let value: unknown = payload;
    for (const part of this.config.scopesClaim.split('.'))
      value = value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
    const values =
      typeof value === 'string'
        ? value.split(/\s+/).filter(Boolean)
        : Array.isArray(value)
          ? value.filter((v): v is string => typeof v === 'string')
          : [];
    const map = this.config.scopeMap;
    const scopes = map
      ? values.flatMap((v) => (Object.hasOwn(map, v) ? map[v]! : []))
      : values.filter((v): v is Scope => (SCOPES as readonly string[]).includes(v));
    return [...new Set(scopes)];
  }

  /** jose's error as a message a caller can act on. */
  private explain(error: unknown, token: string): GatewayError {
    const header = safeHeader(token);
    const got = (v: unknown) => (v === undefined ? 'none' : JSON.stringify(v).slice(0, 120));
    if (error instanceof errors.JWTExpired) {
      const exp = typeof error.payload.exp === 'number' ? new Date(error.payload.exp * 1000).toISOString() : 'unknown';
      return new UnauthenticatedError(
        `bearer token expired at ${exp} (clock tolerance ${this.config.clockToleranceSeconds} s): get a new one from ${this.config.issuer}`,
      );
    }
    if (error instanceof errors.JWTClaimValidationFailed) {
      const { claim, reason, payload } = error;
      if (reason === 'missing') return new UnauthenticatedError(`bearer token must carry the ${claim} claim`);
      if (claim === 'iss')
        return new UnauthenticatedError(`bearer token's issuer must be ${this.config.issuer}, got ${got(payload.iss)}`);
      if (claim === 'aud')
        return new UnauthenticatedError(
          `bearer token's audience must include ${this.config.audience.join(' or ')}, got ${got(payload.aud)}`,
        );
      if (claim === 'nbf')
        return new UnauthenticatedError(
          `bearer token is not valid before ${typeof payload.nbf === 'number' ? new Date(payload.nbf * 1000).toISOString() : got(payload.nbf)}`,
        );
      return new UnauthenticatedError(`bearer token's ${claim} claim is invalid: ${error.message}`);
    }
    if (error instanceof errors.JOSEAlgNotAllowed) {
      return new UnauthenticatedError(
        `bearer token's algorithm must be one of ${this.config.algorithms.join(', ')}, got ${got(header?.alg)}`,
      );
    }
    if (error instanceof errors.JWSSignatureVerificationFailed) {
      return new UnauthenticatedError(
        `bearer token's signature does not verify with the issuer's key${header?.kid ? ` ${header.kid}` : ''}`,
      );
    }
    if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
      return new UnauthenticatedError(
        `bearer token is signed with a key (kid ${got(header?.kid)}, alg ${got(header?.alg)}) that the issuer's key set does not hold once`,
      );
    }
    if (
      error instanceof errors.JWSInvalid ||
      error instanceof errors.JWTInvalid ||
      error instanceof errors.JOSENotSupported ||
      error instanceof errors.JWKInvalid
    ) {
      return new UnauthenticatedError(`bearer token is not a valid signed JWT: ${error.message}`);
    }
    // The key set could not be fetched or read (timeout, HTTP error, not JSON, not a key set): no fault of the caller's.
    const reason = error instanceof Error ? error.message : String(error);
    return new AuthUnavailableError(
      `bearer tokens cannot be verified now: the issuer's key set (${this.source}) is unavailable (${reason}); retry later`,
    );
  }
}

/** The JWT_* variables (config.ts takes them into the environment's schema). */
export const jwtVariables = {
  JWT_ISSUER: z.string().min(1).optional(),
  JWT_AUDIENCE: z.string().min(1).optional(),
  JWT_JWKS: z.string().min(1).optional(),
  JWT_ALGORITHMS: z.string().default('RS256,PS256,ES256,EdDSA'),
  JWT_CLOCK_TOLERANCE_S: int(0, 600).default(30),
  JWT_SCOPES_CLAIM: z
    .string()
    .regex(/^[\w:-]+(\.[\w:-]+)*$/, 'a claim name or dotted path such as realm_access.roles')
    .default('scope'),
  JWT_SCOPE_MAP: z.string().optional(),
};

/**
 * The JWT settings: all of issuer, audience and key set, or none (undefined: API keys only). A key set file is
 * read and checked here. Reports the first problem and gives undefined.
 */
export function jwtSettings(e: ValuesOf<typeof jwtVariables>, problem: ReportProblem) {
  const fail = (message: string) => {
    problem(message);
    return undefined;
  };
  const given = { JWT_ISSUER: e.JWT_ISSUER, JWT_AUDIENCE: e.JWT_AUDIENCE, JWT_JWKS: e.JWT_JWKS };
  const missing = Object.entries(given)
    .filter(([, v]) => v === undefined)
    .map(([k]) => k);
  if (missing.length === 3)
    return e.JWT_SCOPE_MAP === undefined
      ? undefined
      : fail('JWT_SCOPE_MAP needs JWT_ISSUER, JWT_AUDIENCE and JWT_JWKS');
  if (missing.length)
    return fail(`bearer JWTs need JWT_ISSUER, JWT_AUDIENCE and JWT_JWKS together; missing ${missing.join(', ')}`);
  const algorithms = e.JWT_ALGORITHMS.split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  const badAlgorithms = algorithms.filter((a) => !(JWT_ALGORITHMS as readonly string[]).includes(a));
  if (!algorithms.length || badAlgorithms.length) {
    return fail(`JWT_ALGORITHMS must list algorithms from ${JWT_ALGORITHMS.join(', ')}, got ${e.JWT_ALGORITHMS}`);
  }
  const jwksSource = e.JWT_JWKS!;
  let jwks: { readonly url: string } | { readonly file: string; readonly keys: JSONWebKeySet };
  if (/^https?:\/\//.test(jwksSource)) {
    jwks = { url: jwksSource };
  } else {
    const file = path.resolve(jwksSource);
    let keys: unknown;
    try {
      keys = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      return fail(
        `JWT_JWKS must be an http(s):// URL or a readable JSON key set file; ${file}: ${(error as Error).message}`,
      );
    }
    const set = z.object({ keys: z.array(z.object({ kty: z.string() }).passthrough()).min(1) }).safeParse(keys);
    if (!set.success)
      return fail(
        `JWT_JWKS file ${file} must hold a JSON Web Key Set {"keys":[{"kty":...}, ...]} with at least one key`,
      );
    jwks = { file, keys: keys as JSONWebKeySet };
  }
  let scopeMap: Record<string, Scope[]> | undefined;
  if (e.JWT_SCOPE_MAP !== undefined) {
    let value: unknown;
    try {
      value = JSON.parse(e.JWT_SCOPE_MAP);
    } catch {
      return fail('JWT_SCOPE_MAP must be JSON such as {"analyst":["sentiment:read","forecast:read"]}');
    }
    const parsed = z.record(z.string(), z.array(z.enum(SCOPES))).safeParse(value);
    if (!parsed.success)
      return fail(`JWT_SCOPE_MAP: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    scopeMap = parsed.data;
  }
  return {
    /** The `iss` every token must carry (the OIDC issuer URL). */
    issuer: e.JWT_ISSUER!,
    /** Accepted `aud` values: a token must name at least one. */
    audience: e
      .JWT_AUDIENCE!.split(',')
      .map((a) => a.trim())
      .filter(Boolean),
    /** The issuer's public keys: fetched from a URL (and refetched for an unknown `kid`), or read from a file at start. */
    jwks,
    algorithms: algorithms as JwtAlgorithm[],
    clockToleranceSeconds: e.JWT_CLOCK_TOLERANCE_S,
    /** Dotted path of the claim that carries the scopes: a space-separated string (`scope`) or an array (`roles`, `realm_access.roles`). */
    scopesClaim: e.JWT_SCOPES_CLAIM,
    /** Claim values to gateway scopes; undefined: values that name a gateway scope are taken as they are. */
    scopeMap,
  };
}

function safeHeader(token: string): { alg?: unknown; kid?: unknown } | undefined {
  try {
    return decodeProtectedHeader(token);
  } catch {
    return undefined;
  }
}

/**
 * API keys and, when configured, bearer JWTs: a Bearer value that is a configured API key is that key; one shaped
 * like a JWT is verified (and refused, never taken as anonymous, if it fails); anything else is no caller.
 */
export class Authenticator implements CallerSource {
  constructor(
    private readonly keys: ApiKeyRing,
    private readonly jwt: JwtVerifier | undefined,
  ) {}

  get open(): boolean {
    return this.keys.open && !this.jwt;
  }

  authenticate(
    authorization: string | undefined,
    apiKeyHeader: string | undefined,
  ): Caller | undefined | Promise<Caller> {
    const byKey = this.keys.authenticate(authorization, apiKeyHeader);
    if (byKey || !this.jwt || apiKeyHeader !== undefined) return byKey;
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    return token && JWT_SHAPE.test(token) ? this.jwt.verify(token) : undefined;
  }
}
