/**
 * The contract's request schemas (contract.ts) checked without ajv, so that the plugin's routes
 * validate the same whatever ajv options the host's fastify has (fastify's defaults coerce types
 * and drop unknown properties), and the express adapter the same way. It covers what those
 * schemas use: objects without extra properties, strings, integers, booleans.
 */

type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean;
  minProperties?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  enum?: readonly unknown[];
  minimum?: number;
  maximum?: number;
  const?: unknown;
};

const typeOf = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value === 'number' && Number.isInteger(value) ? 'integer' : typeof value;

function matchesType(value: unknown, type: string): boolean {
  const actual = typeOf(value);
  return actual === type || (type === 'number' && actual === 'integer');
}

/** Why `value` does not fit `schema`, as ajv words it (`body/code must be string`); null when it fits. */
export function schemaProblem(schema: object, value: unknown, at = 'body'): string | null {
  const s = schema as Schema;
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? s.type : [s.type];
    if (!types.some((type) => matchesType(value, type))) return `${at} must be ${types.join(',')}`;
  }
  if (s.enum !== undefined && !s.enum.includes(value)) return `${at} must be equal to one of the allowed values`;
  if (s.const !== undefined && value !== s.const) return `${at} must be equal to constant`;
  if (typeof value === 'string') {
    // Characters as JSON Schema counts them: code points.
    const length = s.minLength !== undefined || s.maxLength !== undefined ? [...value].length : 0;
    if (s.minLength !== undefined && length < s.minLength) return `${at} must NOT have fewer than ${s.minLength} characters`;
    if (s.maxLength !== undefined && length > s.maxLength) return `${at} must NOT have more than ${s.maxLength} characters`;
    if (s.pattern !== undefined && !new RegExp(s.pattern, 'u').test(value)) return `${at} must match pattern "${s.pattern}"`;
  }
  if (typeof value === 'number') {
    if (s.minimum !== undefined && value < s.minimum) return `${at} must be >= ${s.minimum}`;
    if (s.maximum !== undefined && value > s.maximum) return `${at} must be <= ${s.maximum}`;
  }
  if (typeOf(value) === 'object' && s.properties !== undefined) {
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object);
    if (s.minProperties !== undefined && keys.length < s.minProperties) return `${at} must NOT have fewer than ${s.minProperties} properties`;
    for (const key of s.required ?? []) if (!Object.hasOwn(object, key)) return `${at} must have required property '${key}'`;
    for (const key of keys) {
      const property = Object.hasOwn(s.properties, key) ? s.properties[key] : undefined;
      if (property === undefined) {
        if (s.additionalProperties === false) return `${at} must NOT have additional properties`;
        continue;
      }
      const problem = schemaProblem(property, object[key], `${at}/${key}`);
      if (problem !== null) return problem;
    }
  }
  return null;
}
