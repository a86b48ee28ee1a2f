import { Router } from 'express';
import type { ModelRegistry } from '../runtime/model-registry.js';

/**
 * /healthz: the process is up. /readyz: 200 only when every required model has loaded and answered
 * its warm-up inference and the gateway is not shutting down, so load balancers send traffic only then.
 */
export function healthRoutes(registry: ModelRegistry, lifecycle: { readonly draining: boolean }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', (_req, res) => {
    const ready = registry.ready && !lifecycle.draining;
    res.status(ready ? 200 : 503).json({
      status: lifecycle.draining ? 'draining' : ready ? 'ready' : 'loading',
      models: registry.list().map((m) => ({ name: m.manifest.name, version: m.manifest.version, state: m.state.phase, required: m.manifest.required })),
    });
  });
  return router;
}
