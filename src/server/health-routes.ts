import { timingSafeEqual } from 'node:crypto';
import { Router } from 'express';
import { GatewayErrorCode, httpStatusOf } from '../platform/errors.js';
import type { GatewayMetrics } from '../platform/metrics.js';
import type { ModelRegistry } from '../runtime/model-registry.js';
import type { Capability } from '../graphql/domain-module.js';

export type { Capability } from '../graphql/domain-module.js';

/**
 * /healthz: the process is up. /readyz: 200 only when every required model has loaded and answered
 * its warm-up inference and the gateway is not shutting down, so load balancers send traffic only then.
 */
export function healthRoutes(
  registry: ModelRegistry,
  lifecycle: { readonly draining: boolean },
  capabilities: readonly Capability[] = [],
): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', (_req, res) => {
    const states = capabilities.map((c) => ({ name: c.name, ...c.state() }));
    const degraded = states.some((c) => !c.ready);
    const ready = registry.ready && !lifecycle.draining && !degraded;
    res.status(ready ? 200 : 503).json({
      status: lifecycle.draining ? 'draining' : !registry.ready ? 'loading' : degraded ? 'degraded' : 'ready',
      models: registry.list().map((m) => ({
        name: m.manifest.name,
        version: m.identity.version,
        state: m.state.phase,
        required: m.manifest.required,
      })),
      ...(states.length ? { capabilities: states } : {}),
    });
  });
  return router;
}

/** GET /metrics in Prometheus text format; with a token configured, only for `Authorization: Bearer <token>`. */
export function metricsRoute(metrics: GatewayMetrics, token: string | undefined): Router {
  const router = Router();
  router.get('/metrics', async (req, res) => {
    if (token && !sameSecret(req.header('authorization') ?? '', `Bearer ${token}`)) {
      res
        .status(httpStatusOf(GatewayErrorCode.UNAUTHENTICATED))
        .setHeader('www-authenticate', 'Bearer')
        .json({
          errors: [
            {
              message: 'metrics need Authorization: Bearer <METRICS_TOKEN>',
              extensions: { code: GatewayErrorCode.UNAUTHENTICATED },
            },
          ],
        });
      return;
    }
    res.setHeader('content-type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });
  return router;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
