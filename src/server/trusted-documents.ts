import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { stripIgnoredCharacters } from 'graphql';
import { z } from 'zod';
import { callerLabel, hasScope, type Caller } from '../platform/api-keys.js';
import { GatewayErrorCode, httpStatusOf } from '../platform/errors.js';
import type { ApqCache } from '../platform/apq-cache.js';
import { refusal, type Refusal, type TrustedDocumentCheck } from './admission.js';

/** Apollo's persisted-query manifest (what `@apollo/generate-persisted-query-manifest` and `npm run trusted-documents` write). */
const manifestSchema = z.object({
  format: z.literal('apollo-persisted-query-manifest'),
  version: z.literal(1),
  operations: z.array(
    z.object({
      id: z.string().regex(/^[0-9a-f]{64}$/, 'the hex SHA-256 of body'),
      name: z.string(),
      type: z.enum(['query', 'mutation', 'subscription']),
      body: z.string().min(1),
      /** This gateway's extension: the callers (API key names, `jwt:<sub>`) that may run it; absent: every caller. */
      callers: z.array(z.string().min(1)).min(1).optional(),
    }),
  ),
});
export type TrustedOperation = z.infer<typeof manifestSchema>['operations'][number];
export type TrustedDocumentsManifest = z.infer<typeof manifestSchema>;

/** Hex SHA-256 of a document's text: the hash APQ clients send in `extensions.persistedQuery.sha256Hash`. */
export function documentHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Characters a free-form text may have beyond the longest registered one (comments, indentation) before it is not even lexed. */
const TEXT_SLACK = 16 * 1024;

/** An operation and who may run it: `callers` undefined when every caller may. */
interface Registered {
  readonly operation: TrustedOperation;
  readonly callers: ReadonlySet<string> | undefined;
}

/**
 * The operations a gateway serves when trusted documents are on, by the SHA-256 of their text, each global or
 * registered for some callers only. A free-form text matches a registered operation when it is the same text, or the
 * same tokens with other whitespace, commas and comments (graphql-js's `stripIgnoredCharacters`, a lexer pass: no
 * parse, no validation).
 */
export class TrustedDocuments {
  /** One per id, with the callers of every entry of that id merged. */
  readonly operations: readonly TrustedOperation[];
  private readonly byHash = new Map<string, Registered>();
  private readonly byTokens = new Map<string, Registered[]>();
  private readonly longest: number;
  private readonly global: number;
  private readonly perCaller = new Map<string, number>();

  constructor(
    operations: readonly TrustedOperation[],
    readonly source: string,
  ) {
    const merged = new Map<string, { operation: TrustedOperation; callers: Set<string> | undefined }>();
    for (const o of operations) {
      const seen = merged.get(o.id);
      if (!seen) merged.set(o.id, { operation: o, callers: o.callers && new Set(o.callers) });
      else if (!o.callers) seen.callers = undefined;
      else if (seen.callers) for (const c of o.callers) seen.callers.add(c);
    }
    this.operations = [...merged.values()].map(({ operation, callers }) => ({
      ...operation,
      callers: callers && [...callers].sort(),
    }));
    for (const r of merged.values()) {
      this.byHash.set(r.operation.id, r);
      const tokens = documentHash(stripIgnoredCharacters(r.operation.body));
      this.byTokens.set(tokens, [...(this.byTokens.get(tokens) ?? []), r]);
      for (const c of r.callers ?? []) this.perCaller.set(c, (this.perCaller.get(c) ?? 0) + 1);
    }
    this.global = [...merged.values()].filter((r) => !r.callers).length;
    this.longest = Math.max(0, ...operations.map((o) => o.body.length));
  }

  /** Reads and checks a manifest file: its format, and that each id is the SHA-256 of its body. */
  static read(file: string): TrustedDocuments {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new Error(`TRUSTED_DOCUMENTS_FILE ${file} is not readable JSON: ${(error as Error).message}`);
    }
    const parsed = manifestSchema.safeParse(json);
    if (!parsed.success) {
      throw new Error(
        `TRUSTED_DOCUMENTS_FILE ${file} must be an Apollo persisted-query manifest ({"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id","name","type","body"}]}): ${parsed.error.issues
          .slice(0, 3)
          .map((i) => `${i.path.join('.')}: ${i.message}`)
          .join('; ')}`,
      );
    }
    return TrustedDocuments.checked(parsed.data.operations, `TRUSTED_DOCUMENTS_FILE ${file}`, file);
  }

  /** The operations, once each is checked: its id the SHA-256 of its body, its body GraphQL's tokens. */
  static checked(operations: readonly TrustedOperation[], where: string, source: string): TrustedDocuments {
    for (const [i, o] of operations.entries()) {
      const actual = documentHash(o.body);
      if (actual !== o.id)
        throw new Error(`${where}: operations.${i} (${o.name}) has id ${o.id}, but its body hashes to ${actual}`);
      try {
        stripIgnoredCharacters(o.body);
      } catch (error) {
        throw new Error(`${where}: operations.${i} (${o.name}) is not GraphQL: ${(error as Error).message}`);
      }
    }
    return new TrustedDocuments(operations, source);
  }

  /** The registered operation with this hash, whoever it is registered for (APQ's lookup; admission checks the caller first). */
  get(hash: string): TrustedOperation | undefined {
    return this.byHash.get(hash)?.operation;
  }

  /** How many operations `caller` (as `callerLabel` names it: a key's name, `jwt:<sub>`; undefined: anonymous) may run: the global ones and its own. */
  countFor(caller: string | undefined): number {
    return this.global + (caller === undefined ? 0 : (this.perCaller.get(caller) ?? 0));
  }

  /** Whether `caller` (undefined: anonymous, global operations only) may run the operation with this hash. */
  allowsHash(hash: string, caller?: string): boolean {
    const r = this.byHash.get(hash);
    return r !== undefined && permits(r, caller);
  }

  /** Whether a free-form text is an operation `caller` may run, up to ignored characters. */
  allows(text: string, caller?: string): boolean {
    if (this.allowsHash(documentHash(text), caller)) return true;
    if (text.length > this.longest * 4 + TEXT_SLACK) return false;
    try {
      return this.byTokens.get(documentHash(stripIgnoredCharacters(text)))?.some((r) => permits(r, caller)) ?? false;
    } catch {
      return false; // not even GraphQL's tokens
    }
  }

  /**
   * Admission's verdict with trusted documents enforced: a hash the caller may run runs its registered text (Apollo's
   * APQ finds it in `withTrustedDocuments`' cache); any other hash is PERSISTED_QUERY_NOT_FOUND (another caller's
   * operations are not even confirmed to exist) and a free-form text not among the caller's OPERATION_NOT_ALLOWED,
   * except for callers with the scope `explore`.
   */
  verdict(caller: Caller | undefined, query: string, hash: string | undefined): Refusal | undefined {
    if (caller && hasScope(caller, 'explore')) return undefined;
    const name = caller && callerLabel(caller);
    const only = `this gateway runs registered operations only (TRUSTED_DOCUMENTS=on, ${this.countFor(name)} in its manifest)`;
    const exemption = 'or use an API key or token with the scope explore';
    if (hash !== undefined) {
      if (!this.allowsHash(hash, name)) {
        return refusal(
          httpStatusOf(GatewayErrorCode.PERSISTED_QUERY_NOT_FOUND),
          `${only}: no trusted document has the hash ${hash.slice(0, 80)}; register the operation (npm run trusted-documents) ${exemption}`,
          { code: GatewayErrorCode.PERSISTED_QUERY_NOT_FOUND },
        );
      }
      if (query === '' || documentHash(query) === hash) return undefined;
      return refusal(
        httpStatusOf(GatewayErrorCode.OPERATION_NOT_ALLOWED),
        `${only}: the text sent with hash ${hash} is not the registered text of ${this.get(hash)!.name || 'that operation'}; send the hash alone`,
        { code: GatewayErrorCode.OPERATION_NOT_ALLOWED },
      );
    }
    // No document at all: Apollo answers that as it always does.
    if (query === '' || this.allows(query, name)) return undefined;
    return refusal(
      httpStatusOf(GatewayErrorCode.OPERATION_NOT_ALLOWED),
      `${only}: the document sent (sha256 ${documentHash(query)}) is not one of them; send a registered operation, by its text or by its hash in extensions.persistedQuery.sha256Hash, ${exemption}`,
      { code: GatewayErrorCode.OPERATION_NOT_ALLOWED },
    );
  }

  /** `verdict` as admission's check. */
  check(): TrustedDocumentCheck {
    return (caller, query, hash) => this.verdict(caller, query, hash);
  }
}

function permits(r: Registered, caller: string | undefined): boolean {
  return r.callers === undefined || (caller !== undefined && r.callers.has(caller));
}

/** Apollo's key prefix for APQ entries in `persistedQueries.cache`. */
const APQ_PREFIX = 'apq:';

/**
 * Apollo's APQ cache with the trusted documents in front: a request with a registered hash and no text finds its
 * registered text here, on every replica and without registering first; other hashes are APQ's as usual.
 */
export function withTrustedDocuments(documents: Pick<TrustedDocuments, 'get'>, inner: ApqCache): ApqCache {
  const registered = (key: string) =>
    key.startsWith(APQ_PREFIX) ? documents.get(key.slice(APQ_PREFIX.length)) : undefined;
  return {
    get: async (key) => registered(key)?.body ?? inner.get(key),
    set: async (key, value, options) => {
      if (!registered(key)) await inner.set(key, value, options);
    },
    delete: (key) => inner.delete(key),
  };
}
