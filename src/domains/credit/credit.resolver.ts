import { Arg, Authorized, Ctx, Query, Resolver } from 'type-graphql';
import { ITEM_COST, perItemComplexity } from '../../graphql/common.types.js';
import type { GatewayContext } from '../../graphql/context.js';
import { throwFirstError } from '../../graphql/settle.js';
import { CardAccountInput } from './credit.inputs.js';
import { CreditAssessment } from './credit.types.js';

@Resolver()
export class CreditResolver {
  @Authorized('credit:assess')
  @Query(() => CreditAssessment, { description: 'Risk assessment of one card account.', complexity: perItemComplexity('account', ITEM_COST.credit) })
  creditAssessment(@Arg('account', () => CardAccountInput) account: CardAccountInput, @Ctx() ctx: GatewayContext): Promise<CreditAssessment> {
    return ctx.loaders.creditAssessment.load(account) as Promise<CreditAssessment>;
  }

  @Authorized('credit:assess')
  @Query(() => [CreditAssessment], {
    description: 'Risk assessments of up to 10,000 accounts, in the order sent, in batched inferences.',
    complexity: perItemComplexity('accounts', ITEM_COST.credit),
  })
  async creditAssessments(@Arg('accounts', () => [CardAccountInput]) accounts: CardAccountInput[], @Ctx() ctx: GatewayContext): Promise<CreditAssessment[]> {
    ctx.services.credit.validateAccounts(accounts);
    return throwFirstError(await ctx.services.credit.assessMany(accounts)) as CreditAssessment[];
  }
}
