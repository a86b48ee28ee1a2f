import {
  getMetadataStorage,
  validateSync,
  ValidationTypes,
  type ValidationArguments,
  type ValidationError,
} from 'class-validator';
import { getNamedType, isInputObjectType } from 'graphql';
import type { ResolverData, ValidatorFn } from 'type-graphql';
import { InvalidInputError } from '../platform/errors.js';
import { SENTENCE_RULE } from './input-rules.js';

/** A value as the caller wrote it: JSON, except that non-finite numbers (JSON's null) read as Infinity or NaN. */
function show(value: unknown): string {
  return (
    JSON.stringify(value, (_key, v: unknown) =>
      typeof v === 'number' && !Number.isFinite(v) ? String(v) : v,
    )?.replace(/"(-?Infinity|NaN)"/g, '$1') ?? String(value)
  );
}

/** One thing wrong with an input: its path (`accounts[2].age`) and the whole sentence that names it. */
interface Problem {
  readonly field: string;
  readonly message: string;
}

/**
 * Flattens class-validator errors into sentences, e.g. "accounts[2].age: must not be less than 100, got 101" for
 * class-validator's own constraints and "input.series[3].close must be a positive price ..., got 0" for the shared
 * rules (input-rules.ts), whose message already holds the sub-path and the value.
 */
function describe(errors: readonly ValidationError[], prefix: string): Problem[] {
  return errors.flatMap((e) => {
    const at = /^\d+$/.test(e.property) ? `${prefix}[${e.property}]` : `${prefix}.${e.property}`;
    const own = Object.entries(e.constraints ?? {}).map(([name, message]): Problem => {
      if (e.contexts?.[name]?.[SENTENCE_RULE]) {
        const space = message.indexOf(' ');
        const field = at + message.slice(0, space);
        return { field, message: `${field} ${message.slice(space + 1)}` };
      }
      const got = Array.isArray(e.value) || typeof e.value !== 'object' ? `, got ${show(e.value).slice(0, 120)}` : '';
      // class-validator starts its messages with the bare property name; replace it with the full path.
      return {
        field: at,
        message: `${at}: ${message.startsWith(e.property) ? message.slice(e.property.length).trim() : message}${got}`,
      };
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

type Acceptor = (object: object) => boolean;

/** One property's IsOptional/ValidateIf conditions, the synchronous constraints validateSync would call on it, and whether it is nested. */
interface PropertyChecks {
  readonly name: string;
  readonly conditions: Array<(object: object, value: unknown) => boolean>;
  readonly checks: Array<{
    each: boolean;
    constraints: unknown[];
    validate: (value: unknown, args: ValidationArguments) => unknown;
  }>;
  nested: boolean;
}

/**
 * A quick "would class-validator find nothing wrong?" for one input class, made from class-validator's own
 * metadata and constraint functions: it calls each constraint's validate exactly as validateSync does, without
 * validateSync's per-object metadata filtering and error objects.
 * It only ever accepts: an object it does not accept goes through validateSync, which gives the verdict and the
 * messages. IsOptional and ValidateIf conditions are called as validateSync calls them; ValidateNested values go
 * through their own classes' acceptors as validateSync walks them. Null for a class using what it does not model
 * (a constraint's own validateIf option, IsDefined, whitelisting, promise validation): those always take validateSync.
 */
function compileAcceptor(target: Function): Acceptor | null {
  const storage = getMetadataStorage();
  const byProperty = storage.groupByPropertyName(
    storage.getTargetValidationMetadatas(target, undefined as unknown as string, false, false, undefined),
  );
  const properties: PropertyChecks[] = [];
  for (const [name, metadatas] of Object.entries(byProperty)) {
    const property: PropertyChecks = { name, conditions: [], checks: [], nested: false };
    for (const m of metadatas) {
      if (m.type === ValidationTypes.CONDITIONAL_VALIDATION)
        property.conditions.push(m.constraints[0] as (object: object, value: unknown) => boolean);
      else if (m.type === ValidationTypes.NESTED_VALIDATION && !m.validateIf) property.nested = true;
      else if (m.type === ValidationTypes.CUSTOM_VALIDATION && !m.validateIf) {
        for (const c of storage.getTargetValidatorConstraints(m.constraintCls)) {
          // validateSync ignores asynchronous constraints; so does this.
          if (c.async) continue;
          const instance = c.instance;
          property.checks.push({
            each: m.each,
            constraints: m.constraints,
            validate: (value, args) => instance.validate(value, args),
          });
        }
      } else return null;
    }
    properties.push(property);
  }
  const targetName = target.name;
  return (object) => {
    for (const { name, conditions, checks, nested } of properties) {
      const value = (object as Record<string, unknown>)[name];
      if (!conditions.every((condition) => condition(object, value))) continue;
      for (const { each, constraints, validate } of checks) {
        const args: ValidationArguments = { targetName, property: name, object, value, constraints };
        if (each && (Array.isArray(value) || value instanceof Set || value instanceof Map)) {
          for (const item of value instanceof Map ? value.values() : value)
            if (validate(item, args) !== true) return false;
        } else if (validate(value, args) !== true) return false;
      }
      if (nested && !acceptsNested(value)) return false;
    }
    return true;
  };
}

/** validateSync's nested walk: undefined passes, lists item by item, objects by their class, anything else fails. */
function acceptsNested(value: unknown): boolean {
  if (value === undefined) return true;
  if (Array.isArray(value) || value instanceof Set || value instanceof Map) {
    for (const item of value instanceof Map ? value.values() : value) if (!acceptsNested(item)) return false;
    return true;
  }
  return value instanceof Object && acceptorOf(value.constructor)?.(value) === true;
}

const acceptors = new Map<Function, Acceptor | null>();

function acceptorOf(target: Function): Acceptor | null {
  let accept = acceptors.get(target);
  if (accept === undefined) acceptors.set(target, (accept = compileAcceptor(target)));
  return accept;
}

/** Every problem validateSync finds, through the class's acceptor where it has one. */
function problemsOf(value: object, path: string): Problem[] {
  if (acceptorOf(value.constructor)?.(value)) return [];
  // Synchronous: every constraint here is, and the async form costs a promise per constraint per item.
  return describe(validateSync(value, { forbidUnknownValues: false, skipMissingProperties: false }), path);
}

/** validateSync's verdict as sentences, e.g. ['accounts[3].age: must not be less than 18, got 17']. */
export function validationProblems(value: object, path: string): string[] {
  return problemsOf(value, path).map((p) => p.message);
}

/**
 * type-graphql's validateFn: class-validator on every input object, list items included, with errors
 * that name the argument, the field and, in a list, the index. The first problem is the message; all
 * of them are in `extensions.problems`.
 */
export const validateInput: ValidatorFn<object> = (argValue: unknown, _type: unknown, data: ResolverData<object>) => {
  if (argValue === null || typeof argValue !== 'object') return;
  const argName = argumentName(argValue, data);
  const items = Array.isArray(argValue)
    ? argValue.map((v, i) => [`${argName}[${i}]`, v] as const)
    : [[argName, argValue] as const];
  const problems: Problem[] = [];
  for (const [path, value] of items) {
    if (value === null || typeof value !== 'object') continue;
    problems.push(...problemsOf(value, path));
    if (problems.length >= 20) break;
  }
  if (problems.length) {
    const error = new InvalidInputError(problems[0]!.message, problems[0]!.field);
    Object.assign(error.details, { problems: problems.map((p) => p.message) });
    throw error;
  }
};
