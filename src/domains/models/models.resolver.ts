import { Arg, Authorized, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { listVersions } from '../../runtime/model-manifest.js';
import type { GatewayContext } from '../../graphql/context.js';
import type { ModelSnapshot } from '../../runtime/model-registry.js';
import { ModelInfo, ModelMonitoring, type ModelState, ShadowComparison, type DriftStatus } from './models.types.js';
import { NotFoundError } from '../../platform/errors.js';

@Resolver()
export class ModelsResolver {
  @Authorized()
  @Query(() => [ModelInfo], { description: 'Every configured model with its state, metrics and batching counters.' })
  models(@Ctx() ctx: GatewayContext): ModelInfo[] {
    return ctx.registry.list().map(toModelInfo);
  }

  @Authorized()
  @Query(() => ModelInfo, { nullable: true, description: 'One model by name; null when no such model is configured.' })
  model(@Arg('name', () => String) name: string, @Ctx() ctx: GatewayContext): ModelInfo | null {
    const snapshot = ctx.registry.get(name);
    return snapshot ? toModelInfo(snapshot) : null;
  }

  @Authorized('admin')
  @Mutation(() => ModelInfo, {
    description:
      'Loads and warms up another version of a model, then swaps it in without downtime; a version that fails is refused and the old one stays.',
  })
  async activateModelVersion(
    @Arg('name', () => String) name: string,
    @Arg('version', () => String) version: string,
    @Ctx() ctx: GatewayContext,
  ): Promise<ModelInfo> {
    return toModelInfo(await ctx.registry.activate(name, version));
  }

  @Authorized('admin')
  @Mutation(() => ShadowComparison, {
    nullable: true,
    description:
      'Runs another version of a model in shadow: it gets a copy of the traffic and modelMonitoring reports how its answers compare; ' +
      'they never reach a caller. A null version stops the shadow (and the mutation returns null). Credit models only.',
  })
  async setShadowModelVersion(
    @Arg('name', () => String) name: string,
    @Arg('version', () => String, { nullable: true }) version: string | null,
    @Ctx() ctx: GatewayContext,
  ): Promise<ShadowComparison | null> {
    return ctx.registry.shadows.set(name, version ?? null);
  }

  @Authorized()
  @Query(() => ModelMonitoring, {
    nullable: true,
    description: 'Drift of a model against its training baseline; null when no such model is configured.',
  })
  modelMonitoring(@Arg('name', () => String) name: string, @Ctx() ctx: GatewayContext): ModelMonitoring | null {
    if (!ctx.registry.get(name)) return null;
    const report = ctx.registry.drift(name);
    if (!report) throw new NotFoundError(`model ${name} ships no drift baseline (baseline.json)`);
    return {
      model: name,
      ...report,
      status: report.status as DriftStatus,
      features: report.features.map((f) => ({ ...f, status: f.status as DriftStatus })),
      output: { ...report.output, status: report.output.status as DriftStatus },
      shadow: ctx.registry.shadows.report(name) ?? null,
    };
  }
}

function toModelInfo(s: ModelSnapshot): ModelInfo {
  const { manifest: m, state } = s;
  return {
    name: m.name,
    task: m.task,
    version: s.identity.version,
    sha256: s.identity.sha256,
    versions: listVersions(s.root, s.identity.version),
    runtime: m.runtime,
    required: m.required,
    state: state.phase.toUpperCase() as ModelState,
    loadedAt: state.phase === 'ready' ? state.loadedAt : null,
    failureReason: state.phase === 'failed' ? state.reason : null,
    metrics: m.metrics,
    batching: { ...s.batching, maxQueueMs: s.batching.maxQueueMs ?? null },
    stats: { ...s.stats, queued: s.queued },
    shadowVersion: s.shadowVersion ?? null,
  };
}
