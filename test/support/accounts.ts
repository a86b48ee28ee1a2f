import type { CardAccountInput } from '../generated/graphql.js';

/** A plausible account, varied by i. */
export function sampleAccount(i: number): CardAccountInput {
  const late = i % 7 === 0;
  return {
    accountId: `acc-${i}`,
    creditLimit: 20_000 + (i % 50) * 10_000,
    age: 21 + (i % 50),
    education: (['GRADUATE_SCHOOL', 'UNIVERSITY', 'HIGH_SCHOOL', 'OTHER', 'UNKNOWN'] as const)[i % 5]!,
    repaymentStatus: late ? [2, 2, 1, 0, 0, -1] : [0, 0, 0, -1, -1, -2],
    billAmounts: [15_000, 14_000, 13_500, 12_000, 9_000, 8_000].map((b) => b + (i % 13) * 1000),
    paymentAmounts: late ? [0, 0, 500, 1_000, 1_000, 1_000] : [2_000, 1_500, 1_500, 1_200, 1_000, 900],
  };
}
