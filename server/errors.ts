import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiErrorBody, ApiErrorCode } from '../typings/api';
import { ApiError } from './core/errors';

// The core's typed error, importable from here where it began.
export { ApiError };

export function envelope(code: ApiErrorCode, message: string): ApiErrorBody {
  return { error: { code, message } };
}

/** Fastify's own client errors (body parser, validation, multipart limits) carry only a status. */
function codeForStatus(status: number): ApiErrorCode {
  switch (status) {
    case 404:
      return 'NOT_FOUND';
    case 405:
      return 'METHOD_NOT_ALLOWED';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 406: // @fastify/multipart's "the request is not multipart"
    case 415:
      return 'UNSUPPORTED_MEDIA_TYPE';
    case 429:
      return 'RATE_LIMITED';
    default:
      return 'BAD_REQUEST';
  }
}

/** An error in the envelope; like every answer of this server, never to be cached (see app.ts). */
export function sendEnvelope(reply: FastifyReply, status: number, body: ApiErrorBody): FastifyReply {
  return reply.status(status).type('application/json; charset=utf-8').header('cache-control', 'no-store').send(body);
}

/**
 * What a log line tells the operator about a failure: its code, and its cause's message, the
 * detail the answer leaves out (a WeChat errcode, a Redis error). The message only, not the cause
 * itself: an error object can carry more (an undici error its request). Causes hold no secret.
 */
export function failureDetails(error: unknown): { code?: ApiErrorCode; cause?: string } {
  return {
    code: error instanceof ApiError ? error.code : undefined,
    cause: error instanceof Error && error.cause instanceof Error ? error.cause.message : undefined,
  };
}

/**
 * One envelope for every failure. Client errors keep the message fastify or the route wrote
 * (they describe the request, never a secret); anything else is a bug and is logged in full
 * but answered with a generic 500.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(answerError);
}

/** The error handler's answer: also what the login plugin's requireSession answers a failure with, on a host's route. */
export function answerError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof ApiError) {
    // 5xx answers mean something upstream (WeChat, Redis) is failing: worth a line for the operator.
    if (error.status >= 500) request.log.warn(failureDetails(error), error.message);
    reply.headers(error.headers);
    return sendEnvelope(reply, error.status, envelope(error.code, error.message));
  }
  const status = error.statusCode ?? 500;
  if (error.validation) {
    return sendEnvelope(reply, 400, envelope('BAD_REQUEST', error.message));
  }
  if (status >= 400 && status < 500) {
    const finalStatus = status === 406 ? 415 : status;
    return sendEnvelope(reply, finalStatus, envelope(codeForStatus(status), error.message));
  }
  request.log.error({ err: error }, 'unhandled error');
  return sendEnvelope(reply, 500, envelope('INTERNAL', 'internal server error'));
}

/** The 404 message: method and path, never the query string (it can carry codes and secrets). */
export function noRouteFor(request: FastifyRequest): string {
  return `no route for ${request.method} ${request.url.split('?')[0].slice(0, 100)}`;
}

/** The envelope on a raw response, for answers given before fastify sees the request. */
export function writeEnvelope(response: ServerResponse, status: number, code: ApiErrorCode, message: string, headers: Record<string, string> = {}): void {
  const json = JSON.stringify(envelope(code, message));
  response.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json), 'cache-control': 'no-store' });
  response.end(json);
}

/** The errors fastify's router raises before any route runs: an undecodable URL, an over-long parameter. */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  if (error.code === 'FST_ERR_BAD_URL') sendEnvelope(reply, 400, envelope('BAD_REQUEST', 'the URL is not validly percent-encoded'));
  else if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') sendEnvelope(reply, 414, envelope('URI_TOO_LONG', 'a path segment of the URL is too long'));
  else sendEnvelope(reply, 500, envelope('INTERNAL', 'internal server error'));
}

/** What node's parser failed on, as the status and envelope the client gets. */
function clientErrorAnswer(code: string | undefined): [number, ApiErrorBody] {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, envelope('HEADERS_TOO_LARGE', 'request line or headers too large')];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, envelope('BAD_REQUEST', 'the request did not arrive in time')];
    default:
      return [400, envelope('BAD_REQUEST', 'malformed HTTP request')];
  }
}

/**
 * Requests so broken that Node's HTTP parser rejects them before fastify sees them (oversized
 * headers, invalid header characters), and requests cut by the request or headers timeout,
 * still get the envelope instead of Node's bare answer, unless an answer is already under way.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  // Node's own rule: a response whose headers went out cannot be replaced by another.
  const pending = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || pending?.headersSent) {
    socket.destroy();
    return;
  }
  endWithEnvelope(socket, ...clientErrorAnswer(error.code));
}

/** The envelope written straight to a socket that no response object serves, and the socket closed after it. */
export function endWithEnvelope(socket: Socket, status: number, body: ApiErrorBody): void {
  const json = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(json)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${json}`,
  );
  // A client that never reads must not keep the socket open: end() waits for the write.
  socket.destroySoon();
}
