import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { stripIgnoredCharacters } from 'graphql';
import { z } from 'zod';
import { hasScope, type Caller } from '../platform/api-keys.js';
import { GatewayErrorCode, httpStatusOf } from '../platform/errors.js';
import type { ApqCache } from '../platform/apq-cache.js';
import { refusal, type TrustedDocumentCheck } from './admission.js';

/** Apollo's persisted-query manifest (what `@apollo/generate-persisted-query-manifest` and `npm run trusted-documents` write). */
const manifestSchema = z.object({
  format: z.literal('apollo-persisted-query-manifest'),
  version: z.literal(1),
  operations: z.array(z.object({
    id: z.string().regex(/^[0-9a-f]{64}$/, 'the hex SHA-256 of body'),
    name: z.string(),
    type: z.enum(['query', 'mutation', 'subscription']),
    body: z.string().min(1),
  })),
});
export type TrustedOperation = z.infer<typeof manifestSchema>['operations'][number];
export type TrustedDocumentsManifest = z.infer<typeof manifestSchema>;

/** Hex SHA-256 of a document's text: the hash APQ clients send in `extensions.persistedQuery.sha256Hash`. */
export function documentHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Characters a free-form text may have beyond the longest registered one (comments, indentation) before it is not even lexed. */
const TEXT_SLACK = 16 * 1024;

/**
 * The operations a gateway serves when trusted documents are on, by the SHA-256 of their text. A free-form text
 * matches a registered operation when it is the same text, or the same tokens with other whitespace, commas and
 * comments (graphql-js's `stripIgnoredCharacters`, a lexer pass: no parse, no validation).
 */
export class TrustedDocuments {
  private readonly byHash: ReadonlyMap<string, TrustedOperation>;
  private readonly byTokens: ReadonlySet<string>;
  private readonly longest: number;

  constructor(readonly operations: readonly TrustedOperation[], readonly source: string) {
    this.byHash = new Map(operations.map((o) => [o.id, o]));
    this.byTokens = new Set(operations.map((o) => documentHash(stripIgnoredCharacters(o.body))));
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
      throw new Error(`TRUSTED_DOCUMENTS_FILE ${file} must be an Apollo persisted-query manifest ({"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id","name","type","body"}]}): ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    for (const [i, o] of parsed.data.operations.entries()) {
      const actual = documentHash(o.body);
      if (actual !== o.id) throw new Error(`TRUSTED_DOCUMENTS_FILE ${file}: operations.${i} (${o.name}) has id ${o.id}, but its body hashes to ${actual}`);
      try {
        stripIgnoredCharacters(o.body);
      } catch (error) {
        throw new Error(`TRUSTED_DOCUMENTS_FILE ${file}: operations.${i} (${o.name}) is not GraphQL: ${(error as Error).message}`);
      }
    }
    return new TrustedDocuments(parsed.data.operations, file);
  }

  /** The registered operation with this hash. */
  get(hash: string): TrustedOperation | undefined {
    return this.byHash.get(hash);
  }

  /** Whether a free-form text is a registered operation, up to ignored characters. */
  allows(text: string): boolean {
    if (this.byHash.has(documentHash(text))) return true;
    if (text.length > this.longest * 4 + TEXT_SLACK) return false;
    try {
      return this.byTokens.has(documentHash(stripIgnoredCharacters(text)));
    } catch {
      return false; // not even GraphQL's tokens
    }
  }

  /**
   * Admission's check with trusted documents enforced: a known hash runs its registered text (Apollo's APQ finds it
   * in `withTrustedDocuments`' cache); an unknown hash is PERSISTED_QUERY_NOT_FOUND and a free-form text not in the
   * manifest OPERATION_NOT_ALLOWED, except for callers with the scope `explore`.
   */
  check(): TrustedDocumentCheck {
    const notFound = httpStatusOf(GatewayErrorCode.PERSISTED_QUERY_NOT_FOUND);
    const notAllowed = httpStatusOf(GatewayErrorCode.OPERATION_NOT_ALLOWED);
    const only = `this gateway runs registered operations only (TRUSTED_DOCUMENTS=on, ${this.operations.length} in its manifest)`;
    const escape = 'or use an API key or token with the scope explore';
    return (caller: Caller | undefined, query: string, hash: string | undefined) => {
      if (caller && hasScope(caller, 'explore')) return undefined;
      if (hash !== undefined) {
        const known = this.byHash.get(hash);
        if (!known) {
          return refusal(notFound, `${only}: no trusted document has the hash ${hash.slice(0, 80)}; register the operation (npm run trusted-documents) ${escape}`,
            { code: GatewayErrorCode.PERSISTED_QUERY_NOT_FOUND });
        }
        if (query === '' || documentHash(query) === hash) return undefined;
        return refusal(notAllowed, `${only}: the text sent with hash ${hash} is not the registered text of ${known.name || 'that operation'}; send the hash alone`,
          { code: GatewayErrorCode.OPERATION_NOT_ALLOWED });
      }
      // No document at all: Apollo answers that as it always does.
      if (query === '' || this.allows(query)) return undefined;
      return refusal(notAllowed, `${only}: the document sent (sha256 ${documentHash(query)}) is not one of them; send a registered operation, by its text or by its hash in extensions.persistedQuery.sha256Hash, ${escape}`,
        { code: GatewayErrorCode.OPERATION_NOT_ALLOWED });
    };
  }
}

/** Apollo's key prefix for APQ entries in `persistedQueries.cache`. */
const APQ_PREFIX = 'apq:';

/**
 * Apollo's APQ cache with the trusted documents in front: a request with a registered hash and no text finds its
 * registered text here, on every replica and without registering first; other hashes are APQ's as usual.
 */
export function withTrustedDocuments(documents: TrustedDocuments, inner: ApqCache): ApqCache {
  const registered = (key: string) => (key.startsWith(APQ_PREFIX) ? documents.get(key.slice(APQ_PREFIX.length)) : undefined);
  return {
    get: async (key) => registered(key)?.body ?? inner.get(key),
    set: async (key, value, options) => {
      if (!registered(key)) await inner.set(key, value, options);
    },
    delete: (key) => inner.delete(key),
  };
}
