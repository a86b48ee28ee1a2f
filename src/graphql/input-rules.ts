import { registerDecorator } from 'class-validator';
import {
  intRangeProblem,
  levelsProblem,
  listSizeProblem,
  nameListProblem,
  nameProblem,
  seriesProblem,
  symbolListProblem,
  symbolProblem,
  textProblem,
  type PriceRowLike,
  type RuleProblem,
} from '../domains/market-rules.js';

/**
 * The context key of constraints whose message is a shared rule's sentence, written "<sub-path> <sentence>"
 * (sub-path '' for the property itself): validate-input puts the property's path in front of it as is, where
 * class-validator's own messages get "path: message, got value".
 */
export const SENTENCE_RULE = 'sharedRule';

type Rule = (value: unknown, object: object) => string | RuleProblem | undefined;

/** Whatever a rule is handed when GraphQL's types were bypassed (a programmatic caller): said, never thrown. */
function guarded(rule: Rule, accepts: (value: unknown) => boolean, expected: string): Rule {
  return (value, object) => (accepts(value) ? rule(value, object) : `must be ${expected}, got ${typeof value}`);
}

/**
 * A class-validator constraint from a shared rule of market-rules.ts: valid when the rule finds no problem;
 * the message is the rule's own sentence, so GraphQL, the services, /v2 and the importer say the same thing.
 */
export function Satisfies(name: string, rule: Rule): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name,
      target: target.constructor,
      propertyName: propertyName as string,
      options: { context: { [SENTENCE_RULE]: true } },
      validator: {
        validate: (value, args) => rule(value, args!.object) === undefined,
        defaultMessage: (args) => {
          const problem = rule(args!.value, args!.object) ?? 'is invalid';
          return typeof problem === 'string' ? ` ${problem}` : `${problem.at} ${problem.message}`;
        },
      },
    });
}

const isString = (v: unknown) => typeof v === 'string';
const isArray = (v: unknown): v is unknown[] => Array.isArray(v);

/** A ticker symbol by the gateway's one symbol rule. */
export const IsSymbol = () =>
  Satisfies(
    'isSymbol',
    guarded((v) => symbolProblem(v as string), isString, 'a string'),
  );

/** Up to `max` ticker symbols. */
export const IsSymbolList = (max: number) =>
  Satisfies(
    'isSymbolList',
    guarded(
      (v) => symbolListProblem(v as string[], max),
      (v) => isArray(v) && v.every(isString),
      'a list of strings',
    ),
  );

/** Non-blank text of at most `maxLength` characters. */
export const IsText = (maxLength: number) => Satisfies('isText', (v) => textProblem(v, maxLength));

/** Text that is not blank (its length bound is configured: the service checks it). */
export const IsNonBlank = () => Satisfies('isNonBlank', (v) => textProblem(v, Infinity));

/** A name as it appears in text: 1..maxLength characters, not blank. */
export const IsName = (maxLength: number) =>
  Satisfies(
    'isName',
    guarded((v) => nameProblem(v as string, maxLength), isString, 'a string'),
  );

/** A list of min..max names, each 1..maxLength characters. */
export const IsNameList = (min: number, max: number, maxLength: number) =>
  Satisfies(
    'isNameList',
    guarded(
      (v) => nameListProblem(v as string[], min, max, maxLength),
      (v) => isArray(v) && v.every(isString),
      'a list of strings',
    ),
  );

/** A list of min..max items (the items themselves are checked by their own class). */
export const HasItems = (min: number, max: number) =>
  Satisfies(
    'hasItems',
    guarded((v) => listSizeProblem((v as unknown[]).length, max, min), isArray, 'a list'),
  );

export const IsIntIn = (min: number, max: number) => Satisfies('isIntIn', (v) => intRangeProblem(v, min, max));

/**
 * A price series: min..max rows, each by the price-row rule, dates strictly increasing. One rule over the list
 * rather than a nested class per row: the first bad row is found in one pass, where validateSync's error
 * objects for 10,000 nested rows would cost the event loop tens of milliseconds per refused request.
 */
export const IsPriceSeries = (min: number, max: number) =>
  Satisfies(
    'isPriceSeries',
    guarded(
      (v) => {
        const series = v as PriceRowLike[];
        return listSizeProblem(series.length, max, min) ?? seriesProblem(series);
      },
      (v) => isArray(v) && v.every((p) => p !== null && typeof p === 'object'),
      'a list of prices',
    ),
  );

/** Interval levels: 1..max, each in (0, 1). */
export const IsLevels = (max: number) =>
  Satisfies(
    'isLevels',
    guarded(
      (v) => levelsProblem(v as number[], max),
      (v) => isArray(v) && v.every((l) => typeof l === 'number'),
      'a list of numbers',
    ),
  );
