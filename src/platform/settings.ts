import { z } from 'zod';

// Building blocks of the environment's schema (config.ts), shared with the modules that own a group of settings.

/** `true`, `false`, `1` or `0`. */
export const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/** An integer in min..max, from its decimal text. */
export const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/**
 * A variable holding JSON that `schema` validates; not JSON: "`name` must be JSON such as `example`".
 * @example json('MODEL_BATCHING', '{"m":{"maxBatchSize":64}}', z.record(z.string(), batching))
 */
export const json = <T extends z.ZodType>(name: string, example: string, schema: T) =>
  z
    .string()
    .transform((text, ctx): unknown => {
      try {
        return JSON.parse(text);
      } catch {
        ctx.issues.push({ code: 'custom', message: `${name} must be JSON such as ${example}`, input: text });
        return z.NEVER;
      }
    })
    .pipe(schema);

/** The validated values of a group of variables (a zod shape). */
export type ValuesOf<Shape extends z.ZodRawShape> = z.output<z.ZodObject<Shape>>;

/** Reports a problem that involves several variables; its message names them and the values given. */
export type ReportProblem = (message: string) => void;

/** What the configuration object's type promises: nothing in it changes after start (it is frozen too). */
export type DeepReadonly<T> = T extends (infer U)[]
  ? ReadonlyArray<DeepReadonly<U>>
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** Freezes a value and everything in it. */
export function deepFreeze<T>(value: T): DeepReadonly<T> {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value as DeepReadonly<T>;
}
