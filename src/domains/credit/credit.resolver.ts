import { Arg, Authorized, Ctx, FieldResolver, Int, Query, Resolver, Root } from 'type-graphql';
import { perItemComplexity, rowsComplexity } from '../../graphql/common.types.js';
import { CREDIT_ITEM_COST, type CreditContext } from './credit.context.js';
import { throwFirstError } from '../../graphql/settle.js';
import { CardAccountInput } from './credit.inputs.js';
import { CreditAccount, CreditAssessment, CreditDecisionRecord } from './credit.types.js';
import { GraphQLDateTime } from 'graphql-scalars';
import { InvalidInputError, ModelUnavailableError } from '../../platform/errors.js';

@Resolver()
export class CreditResolver {
  @Authorized('credit:assess')
  @Query(() => CreditAssessment, {
    description: 'Risk assessment of one card account.',
    complexity: perItemComplexity('account', CREDIT_ITEM_COST),
  })
  creditAssessment(
    @Arg('account', () => CardAccountInput) account: CardAccountInput,
    @Ctx() ctx: CreditContext,
  ): Promise<CreditAssessment> {
    return ctx.credit.loaders.creditAssessment.load(account) as Promise<CreditAssessment>;
  }

  @Authorized('credit:assess')
  @Query(() => [CreditAssessment], {
    description: 'Risk assessments of up to 10,000 accounts, in the order sent, in batched inferences.',
    complexity: perItemComplexity('accounts', CREDIT_ITEM_COST),
  })
  async creditAssessments(
    @Arg('accounts', () => [CardAccountInput]) accounts: CardAccountInput[],
    @Ctx() ctx: CreditContext,
  ): Promise<CreditAssessment[]> {
    ctx.credit.service.validateAccounts(accounts);
    return throwFirstError(
      await ctx.credit.service.assessMany(accounts, ctx.credit.pendingDecisions, ctx.submission),
    ) as CreditAssessment[];
  }

  @Authorized('audit:read')
  @Query(() => [CreditDecisionRecord], {
    description:
      'Recorded credit decisions, newest first (at most 1,000), for auditors. Costs one complexity unit per 10 rows of the limit.',
    complexity: rowsComplexity('limit', 100),
  })
  creditDecisions(
    @Arg('accountId', () => String, { nullable: true }) accountId: string | null,
    @Arg('from', () => GraphQLDateTime, { nullable: true }) from: Date | null,
    @Arg('to', () => GraphQLDateTime, { nullable: true }) to: Date | null,
    @Arg('limit', () => Int, { defaultValue: 100 }) limit: number,
    @Ctx() ctx: CreditContext,
  ): Promise<CreditDecisionRecord[]> {
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new InvalidInputError(`limit must be 1..1000, got ${limit}`, 'limit');
    if (from && to && from > to)
      throw new InvalidInputError(`from must not be after to, got ${from.toISOString()} > ${to.toISOString()}`, 'from');
    const audit = ctx.credit.service.audit;
    if (!audit) throw new ModelUnavailableError('credit-audit', 'no audit store is configured');
    return audit.query({ accountId, from, to, limit });
  }
}

/** A CreditAccount's fields (the account entity other subgraphs reference). */
@Resolver(() => CreditAccount)
export class CreditAccountResolver {
  @Authorized('audit:read')
  @FieldResolver(() => CreditDecisionRecord, {
    nullable: true,
    description: 'The most recent recorded decision for this account; null when none is on record.',
  })
  async latestDecision(
    @Root() account: CreditAccount,
    @Ctx() ctx: CreditContext,
  ): Promise<CreditDecisionRecord | null> {
    const audit = ctx.credit.service.audit;
    if (!audit) throw new ModelUnavailableError('credit-audit', 'no audit store is configured');
    return (await audit.query({ accountId: account.accountId, limit: 1 }))[0] ?? null;
  }
}
