import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayConfig } from '../platform/config.js';
import type { AnswerCache } from '../platform/answer-cache.js';
import type { PostgresPools } from '../platform/databases.js';
import type { Logger } from '../platform/logger.js';
import type { ResourceStack } from '../platform/resources.js';
import type { ModelRegistry } from '../runtime/model-registry.js';
import type { TaskFacts } from '../runtime/tasks.js';
import type { GatewayContext, RequestInfo } from './context.js';

/** Something besides the models that a domain needs to serve (the credit decision record), with whether it works now. */
export interface Capability {
  readonly name: string;
  state(): { ready: boolean; reason?: string };
}

/** What a domain builds its services from at start. */
export interface DomainInfrastructure {
  readonly config: GatewayConfig;
  readonly registry: ModelRegistry;
  /** Whatever the domain opens (stores, pools) registers its closer here, so a failed start or a stop closes it. */
  readonly resources: ResourceStack;
  readonly logger: Logger;
  /** The process's PostgreSQL pools, one per URL (stores of several domains share a database's). */
  readonly postgres: PostgresPools;
  /** Deterministic answers by model artefact and input, bounded, shared through Redis when configured. */
  readonly answers: AnswerCache;
}

/** A started domain: its long-lived services and what it adds to the server. */
export interface StartedDomain<Services> {
  readonly services: Services;
  /** Apollo plugins the domain's behaviour needs (the credit decision record is written by one). */
  readonly plugins?: ReadonlyArray<ApolloServerPlugin<GatewayContext>>;
  /** Readiness waits for these as it does for the models. */
  readonly capabilities?: readonly Capability[];
}

/**
 * One business domain: its part of the schema, the tasks its models serve, how it starts, and its
 * per-request state. src/domains/index.ts lists them; the schema, the context, the server and the
 * runtime loop over that list, so a new domain is one folder and one line there.
 */
export interface DomainModule<Services = unknown, RequestState = unknown> {
  /** The key of its per-request state in the context. */
  readonly name: string;
  // type-graphql takes resolver and type classes as plain constructors.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  readonly resolvers: readonly Function[];
  /** Types reached only through federation's `_entities` (no query returns them). */
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  readonly orphanedTypes?: readonly Function[];
  /** The model tasks the domain serves, by manifest `task` name. */
  tasks?(config: GatewayConfig): Readonly<Record<string, TaskFacts>>;
  start(infrastructure: DomainInfrastructure): Promise<StartedDomain<Services>>;
  /** Per-request state, built for every request: the domain's resolvers find it at `context[name]`. */
  request?(services: Services, request: RequestInfo): RequestState;
}

/** Keeps a module's own types while it joins the untyped list. */
export function defineDomain<Services, RequestState>(
  module: DomainModule<Services, RequestState>,
): DomainModule<Services, RequestState> {
  return module;
}

/** The context a domain's resolvers see: the shared part and its own per-request state. */
export type DomainContext<Name extends string, RequestState> = GatewayContext & { readonly [K in Name]: RequestState };
