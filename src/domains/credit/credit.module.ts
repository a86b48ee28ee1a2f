import { defineDomain } from '../../graphql/domain-module.js';
import type { ModelManifest } from '../../runtime/model-manifest.js';
import { AuditAvailability } from './credit-audit-availability.js';
import { PostgresCreditAudit } from './credit-audit-postgres.js';
import { CreditAuditLog, PendingDecisions } from './credit-audit.js';
import { creditAuditPlugin } from './credit-audit.plugin.js';
import { CREDIT_ITEM_COST, CREDIT_TASK, type CreditRequest } from './credit.context.js';
import { readCreditFeatureSpec } from './credit.features.js';
import { createCreditLoaders } from './credit.loaders.js';
import { CreditAccountResolver, CreditResolver } from './credit.resolver.js';
import { CreditService } from './credit.service.js';
import { CreditAccount } from './credit.types.js';

/** Card-account risk: assessments, the decision record every returned decision is written to, its auditors' queries. */
export const creditDomain = defineDomain<CreditService, CreditRequest>({
  name: 'credit',
  resolvers: [CreditResolver, CreditAccountResolver],
  // Reached only through federation's _entities (no query returns it here).
  orphanedTypes: [CreditAccount],
  tasks: (config) => ({
    [CREDIT_TASK]: {
      input: 'rows',
      scope: 'credit:assess',
      itemCost: CREDIT_ITEM_COST,
      shadow: true,
      maxItems: config.limits.creditMaxAccounts,
      checkArtefacts: checkFeatureSpec,
    },
  }),
  async start({ config, registry, resources, logger, postgres }) {
    const store = config.auditDatabaseUrl
      ? await PostgresCreditAudit.open(postgres.pool(config.auditDatabaseUrl))
      : new CreditAuditLog(config.auditDbPath);
    const audit = resources.use(
      'decision record',
      new AuditAvailability(store, (available, reason) =>
        available
          ? logger.info('the credit decision record is writable again')
          : logger.error({ reason }, 'the credit decision record cannot be written: credit is not ready'),
      ),
      (a) => a.close(),
    );
    const service = new CreditService(
      () => registry.rowsModel(registry.nameForTask(CREDIT_TASK) ?? CREDIT_TASK),
      {
        thresholds: config.credit,
        maxAccounts: config.limits.creditMaxAccounts,
      },
      audit,
    );
    return {
      services: service,
      plugins: [creditAuditPlugin(audit, logger)],
      capabilities: [
        {
          name: 'credit-decision-record',
          state: () => {
            const s = audit.status;
            return s.available
              ? { ready: true }
              : { ready: false, reason: `cannot write since ${s.since.toISOString()}: ${s.reason}` };
          },
        },
      ],
    };
  },
  request(service, { submission }) {
    const pendingDecisions = new PendingDecisions();
    // The caller rides along to the batcher, which serves callers in turn.
    return {
      service,
      pendingDecisions,
      loaders: createCreditLoaders({ credit: service }, pendingDecisions, submission),
    };
  },
});

/** A credit model version must bring a features.json the gateway can honour, as wide as its input. */
function checkFeatureSpec(manifest: ModelManifest): void {
  const spec = readCreditFeatureSpec(manifest.dir);
  const width = manifest.inputs[0]?.shape?.[1];
  if (spec.width !== width)
    throw new Error(`features.json lists ${spec.width} features, the manifest's input is ${width} wide`);
}
