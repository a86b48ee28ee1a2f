import { validateSync, type ValidationError } from 'class-validator';
import { getNamedType, isInputObjectType } from 'graphql';
import type { ResolverData, ValidatorFn } from 'type-graphql';
import { InvalidInputError } from '../platform/errors.js';

/** A value as the caller wrote it: JSON, except that non-finite numbers (JSON's null) read as Infinity or NaN. */
function show(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v))?.replace(/"(-?Infinity|NaN)"/g, '$1') ?? String(value);
}

/** Flattens class-validator errors into "path: constraint" sentences, e.g. "accounts[2].age must not be greater than 100". */
function describe(errors: readonly ValidationError[], prefix: string): string[] {
  return errors.flatMap((e) => {
    const at = /^\d+$/.test(e.property) ? `${prefix}[${e.property}]` : `${prefix}.${e.property}`;
    const own = Object.values(e.constraints ?? {}).map((message) => {
      const got = Array.isArray(e.value) || typeof e.value !== 'object' ? `, got ${show(e.value).slice(0, 120)}` : '';
      // class-validator starts its messages with the bare property name; replace it with the full path.
      return `${at}: ${message.startsWith(e.property) ? message.slice(e.property.length).trim() : message}${got}`;
    });
    return [...own, ...describe(e.children ?? [], at)];
  });
}

/** The argument being validated: the field's only input-object argument, else the one holding this value. */
function argumentName(argValue: unknown, data: ResolverData<object>): string {
  const field = data.info.parentType.getFields()[data.info.fieldName];
  const inputArgs = field?.args.filter((a) => isInputObjectType(getNamedType(a.type))) ?? [];
  if (inputArgs.length === 1) return inputArgs[0]!.name;
  return Object.entries(data.args).find(([, v]) => v === argValue)?.[0] ?? 'input';
}

/**
 * type-graphql's validateFn: class-validator on every input object, list items included, with errors
 * that name the argument, the field and, in a list, the index. The first problem is the message; all
 * of them are in `extensions.problems`.
 */
export const validateInput: ValidatorFn<object> = (argValue: unknown, _type: unknown, data: ResolverData<object>) => {
  if (argValue === null || typeof argValue !== 'object') return;
  const argName = argumentName(argValue, data);
  const items = Array.isArray(argValue) ? argValue.map((v, i) => [`${argName}[${i}]`, v] as const) : [[argName, argValue] as const];
  const problems: string[] = [];
  for (const [path, value] of items) {
    if (value === null || typeof value !== 'object') continue;
    // Synchronous: every constraint here is, and the async form costs a promise per constraint per item.
    problems.push(...describe(validateSync(value as object, { forbidUnknownValues: false, skipMissingProperties: false }), path));
    if (problems.length >= 20) break;
  }
  if (problems.length) {
    const error = new InvalidInputError(problems[0]!, problems[0]!.split(':')[0]);
    Object.assign(error.details, { problems });
    throw error;
  }
};
