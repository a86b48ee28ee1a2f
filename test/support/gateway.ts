import 'reflect-metadata';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { loadConfig } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import { startGateway, type Gateway } from '../../src/server/gateway.js';

/** Starts the real gateway, with its real models, on an ephemeral loopback port. */
export function startTestGateway(env: Record<string, string> = {}): Promise<Gateway> {
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    NODE_ENV: 'test',
    PRICE_DB_PATH: ':memory:',
    AUDIT_DB_PATH: ':memory:',
    RATE_LIMIT_PER_SECOND: '0',
    ...env,
  });
  return startGateway(config, createLogger(config.logLevel));
}

export interface GraphQLResponse<T> {
  status: number;
  headers: Headers;
  body: { data?: T | null; errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, unknown> }> };
}

/** POSTs a typed operation (or raw query text) and returns status, headers and the parsed body. */
export async function gql<T, V>(
  url: string,
  document: TypedDocumentNode<T, V> | string,
  variables?: V,
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<T>> {
  const query = typeof document === 'string' ? document : print(document);
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as GraphQLResponse<T>['body'] };
}

/** The error codes of a response, in order. */
export const codes = (r: GraphQLResponse<unknown>) => (r.body.errors ?? []).map((e) => e.extensions?.code);

/** GET /metrics with the bearer token; `read(name, model)` is one counter's value for a model (0 when absent). */
export async function scrapeMetrics(graphqlUrl: string, token: string) {
  const res = await fetch(graphqlUrl.replace('/graphql', '/metrics'), {
    headers: { authorization: `Bearer ${token}` },
  });
  const text = await res.text();
  return {
    res,
    text,
    read: (name: string, model: string) =>
      Number(new RegExp(`^${name}\\{model="${model}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0),
  };
}
