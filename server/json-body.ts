/**
 * The JSON body parser: fastify's rules (secure-json-parse refusing `__proto__` and
 * `constructor.prototype`, which would poison objects built from the body), with messages that
 * say which rule a body broke instead of calling valid JSON invalid.
 */
import type { FastifyRequest } from 'fastify';
import sjson from 'secure-json-parse';
import { ApiError } from './errors';

const REFUSE_PROTOTYPES = { protoAction: 'error', constructorAction: 'error' } as const;

/** Only reached for a body that was refused: which rule it broke. */
function refusalOf(text: string): ApiError {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return new ApiError('BAD_REQUEST', 'the body is not valid JSON');
  }
  let property = 'constructor.prototype';
  try {
    sjson.scan(value as object, { protoAction: 'error', constructorAction: 'ignore' });
  } catch {
    property = '__proto__';
  }
  return new ApiError('BAD_REQUEST', `forbidden property ${property}: a JSON body may not set an object's prototype`);
}

/** A JSON body's value, undefined for an empty one; throws ApiError 400 saying which rule it broke. */
export function parseJson(text: string): unknown {
  // wx.request sends `content-type: application/json` even without data; an empty body is "no body".
  if (text === '') return undefined;
  try {
    return sjson.parse(text, REFUSE_PROTOTYPES);
  } catch {
    throw refusalOf(text);
  }
}

/** A fastify content-type parser for `application/json` (parseAs: 'string'). */
export function parseJsonBody(_request: FastifyRequest, body: string | Buffer, done: (error: Error | null, value?: unknown) => void): void {
  let value: unknown;
  try {
    value = parseJson(body.toString());
  } catch (error) {
    return done(error as Error);
  }
  done(null, value);
}
