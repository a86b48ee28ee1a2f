import { unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLFormattedError } from 'graphql';
import { GatewayError, GatewayErrorCode } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';

/** Codes whose messages are safe to show: this gateway's, which include those Apollo Server sets on request errors. */
const OWN_CODES = new Set<string>(Object.values(GatewayErrorCode));

/**
 * Apollo's formatError: gateway errors keep their message and code; GraphQL request errors keep
 * theirs; anything else is logged and masked as INTERNAL_SERVER_ERROR (no stack, no paths).
 */
export function createFormatError(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof GatewayError) {
      return {
        message: original.message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: { code: original.code, ...original.details },
      };
    }
    const code = formatted.extensions?.code;
    // graphql 16 words it "Document contains more that N tokens"; later releases fix the spelling.
    const tokens =
      code === GatewayErrorCode.GRAPHQL_PARSE_FAILED
        ? /Document contains more tha[nt] (\d+) tokens/.exec(formatted.message)
        : null;
    if (tokens) {
      return {
        message: `query text must be at most ${tokens[1]} tokens (MAX_QUERY_TOKENS); send large inputs as variables`,
        extensions: { code: GatewayErrorCode.QUERY_TOO_COMPLEX, max: Number(tokens[1]) },
      };
    }
    // Apollo's words address its own API ("pass introspection: true to ApolloServer"); callers need this gateway's.
    if (
      code === GatewayErrorCode.GRAPHQL_VALIDATION_FAILED &&
      /introspection is not allowed/i.test(formatted.message)
    ) {
      return {
        message:
          'introspection is turned off on this gateway (INTROSPECTION=false): the schema is published as schema/schema.graphql',
        locations: formatted.locations,
        extensions: { code },
      };
    }
    if (typeof code === 'string' && code !== GatewayErrorCode.INTERNAL_SERVER_ERROR && OWN_CODES.has(code)) {
      const { stacktrace: _omit, ...extensions } = formatted.extensions ?? {};
      const field =
        code === GatewayErrorCode.BAD_USER_INPUT && extensions.field === undefined
          ? variableField(formatted.message)
          : undefined;
      return { ...formatted, extensions: field ? { ...extensions, field } : extensions };
    }
    // Apollo's own request errors without a code (a persisted-query hash that does not match, for one)
    // carry a 4xx status: the caller's mistake, said as such.
    const status = (original as { extensions?: { http?: { status?: number } } } | undefined)?.extensions?.http?.status;
    if (
      (code === undefined || code === GatewayErrorCode.INTERNAL_SERVER_ERROR) &&
      status !== undefined &&
      status >= 400 &&
      status < 500
    ) {
      return { message: formatted.message, extensions: { code: GatewayErrorCode.BAD_REQUEST } };
    }
    logger.error({ err: original, path: formatted.path }, 'unexpected error');
    return {
      message: 'Internal server error',
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: GatewayErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}

/**
 * The input a variable-coercion error is about, as graphql-js words it:
 * `Variable "$input" got invalid value "x" at "input.series[3].close"; ...` gives `input.series[3].close`.
 */
export function variableField(message: string): string | undefined {
  const m = /^Variable "\$([_A-Za-z][_0-9A-Za-z]*)" (?:got invalid value .*? at "([^"]+)"|[\s\S]*)/.exec(message);
  return m ? (m[2] ?? m[1]) : undefined;
}
