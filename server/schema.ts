/**
 * JSON schemas typed by the contract types they validate. `object<T>()` demands exactly one
 * schema per property of T, `optional()` exactly on T's optional properties, and a schema of
 * the property's own type; a contract change that the schema misses is a compile error.
 */

declare const typeTag: unique symbol;
/** Phantom: which TypeScript type a schema stands for (invariant, so User ≠ Order). */
interface Typed<T> {
  readonly [typeTag]?: (value: T) => T;
}

export interface StringSchema<T extends string = string> extends Typed<T> {
  type: 'string';
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  enum?: readonly T[];
}
/** A string or null; fast-json-stringify serializes a type list without the cost of anyOf. */
export interface NullableStringSchema extends Typed<string | null> {
  type: ['string', 'null'];
  maxLength?: number;
}
export interface NumberSchema<T extends number = number> extends Typed<T> {
  type: 'integer' | 'number';
  minimum?: number;
  maximum?: number;
  enum?: readonly T[];
}
export interface BooleanSchema<T extends boolean = boolean> extends Typed<T> {
  type: 'boolean';
  const?: T;
}
export interface ArraySchema<T> extends Typed<T[]> {
  type: 'array';
  items: Schema<T>;
  maxItems?: number;
}
export interface ObjectSchema<T> extends Typed<T> {
  type: 'object' | ['object', 'null'];
  properties: Record<string, unknown>;
  required: string[];
  additionalProperties: false;
  minProperties?: number;
}

/** The schema type for a TypeScript type. */
export type Schema<T> = [T] extends [string]
  ? StringSchema<T>
  : [T] extends [string | null]
    ? NullableStringSchema
  : [T] extends [number]
    ? NumberSchema<T>
    : [T] extends [boolean]
      ? BooleanSchema<T>
      : [T] extends [Array<infer U>]
        ? ArraySchema<U>
        : null extends T
          ? ObjectSchema<Exclude<T, null>> & { type: ['object', 'null'] }
          : ObjectSchema<T> & { type: 'object' };

declare const optionalTag: unique symbol;
interface Optional<S> {
  readonly [optionalTag]: true;
  readonly schema: S;
}

type OptionalKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? K : never }[keyof T];
type PropertySchemas<T> = {
  [K in keyof T]-?: K extends OptionalKeys<T> ? Optional<Schema<Exclude<T[K], undefined>>> : Schema<T[K]>;
};

export function optional<S>(schema: S): Optional<S> {
  return { schema } as Optional<S>;
}

function isOptional(value: unknown): value is Optional<unknown> {
  return typeof value === 'object' && value !== null && 'schema' in value && !('type' in value);
}

export function object<T>(properties: PropertySchemas<T>, options: { minProperties?: number } = {}): ObjectSchema<T> & { type: 'object' } {
  const props: Record<string, unknown> = {};
  const required: string[] = [];
  for (const [key, value] of Object.entries(properties)) {
    if (isOptional(value)) {
      props[key] = value.schema;
    } else {
      props[key] = value;
      required.push(key);
    }
  }
  return { type: 'object', properties: props, required, additionalProperties: false, ...options };
}

/** The same object, or null. */
export function nullable<T>(schema: ObjectSchema<T> & { type: 'object' }): ObjectSchema<T> & { type: ['object', 'null'] } {
  return { ...schema, type: ['object', 'null'] };
}

export function string(options: Omit<StringSchema, 'type' | 'enum'> = {}): StringSchema {
  return { type: 'string', ...options };
}

export function nullableString(options: { maxLength?: number } = {}): NullableStringSchema {
  return { type: ['string', 'null'], ...options };
}

/** A string enum; the Record makes the list of values complete. */
export function oneOf<T extends string>(values: Record<T, true>): StringSchema<T> {
  return { type: 'string', enum: Object.keys(values) as T[] };
}

export function integer(options: Omit<NumberSchema, 'type' | 'enum'> = {}): NumberSchema {
  return { type: 'integer', ...options };
}

export function boolean(): BooleanSchema {
  return { type: 'boolean' };
}

export function constant<T extends boolean>(value: T): BooleanSchema<T> {
  return { type: 'boolean', const: value };
}

export function array<T>(items: Schema<T>, options: { maxItems?: number } = {}): ArraySchema<T> {
  return { type: 'array', items, ...options };
}
