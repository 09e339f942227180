/**
 * The node:http server under fastify, with the time and space limits a server facing the
 * internet needs. Node enforces the timeouts; this module sets them, caps connections (in all
 * and per client) and the requests one connection may have waiting, cuts connections whose
 * answers do not drain, refuses requests not addressed to this server (Host, request target), and
 * turns requests away in the envelope once the server is closing.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ApiErrorCode } from '../typings/api';
import { allowedHostCheck } from './allowed-hosts';
import type { Config } from './config';
import { endWithEnvelope, envelope, writeEnvelope } from './errors';
import { clientKey, proxyTrust } from './net';

/** What the app and its shutdown share: once `closing`, every new request gets 503. */
export interface Lifecycle {
  closing: boolean;
}

type Limits = Pick<
  Config,
  'requestTimeoutMs' | 'headersTimeoutMs' | 'keepAliveTimeoutMs' | 'maxConnections' | 'maxConnectionsPerClient' | 'trustProxy' | 'allowedHosts' | 'maxPipelinedRequests'
>;

/** node's own field: the answer being written on a connection (errors.ts and beginShutdown read it too). */
type HttpSocket = Socket & { _httpMessage?: ServerResponse | null };

/** Refuses connections beyond `cap` from one client; each costs a map update on open and close, nothing per request. */
function capPerClient(server: Server, cap: number, counted: (peer: string) => boolean): void {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const peer = socket.remoteAddress;
    if (peer === undefined || !counted(peer)) return;
    const key = clientKey(peer);
    const count = (open.get(key) ?? 0) + 1;
    if (count > cap) {
      socket.destroy();
      return;
    }
    open.set(key, count);
    socket.once('close', () => {
      const left = (open.get(key) ?? 1) - 1;
      if (left === 0) open.delete(key);
      else open.set(key, left);
    });
  });
}

/**
 * How often node checks open requests against the timeouts (its default, 30 s, would let a
 * stalled client stay up to twice the request timeout).
 */
const checkingIntervalFor = (limits: Limits) => Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4)));

/** The open connections of each server made here, for a shutdown to reach the answers under way. */
const openConnections = new WeakMap<Server, Set<Socket>>();

type Refusal = [number, ApiErrorCode, string, Record<string, string>?];

/**
 * What is wrong with a request that node lets through: its Host (HTTP/1.1 requires exactly one;
 * node's own check would answer without the envelope, and it keeps the first of several), a Host
 * that names another site (DNS rebinding: see allowed-hosts.ts), a target that is not a path (a
 * full URL would name another host than Host, and be logged as sent), and a Content-Encoding the
 * server does not decode (the body would be read as if plain).
 */
function refusalOf(hostAllowed: (host: string) => boolean | null) {
  return (request: IncomingMessage): Refusal | null => {
    const { host } = request.headers;
    if (host === undefined) {
      if (request.httpVersionMajor === 1 && request.httpVersionMinor >= 1) return [400, 'BAD_REQUEST', 'HTTP/1.1 requires a Host header'];
    } else if (host.includes(',')) {
      // Duplicates arrive joined (joinDuplicateHeaders); a host name never holds a comma.
      return [400, 'BAD_REQUEST', 'a request must carry one Host header, not several'];
    }
    // Origin-form (a path) only: not absolute-form (http://host/path), asterisk-form (*) but for
    // OPTIONS, nor authority-form (CONNECT, refused in the 'connect' listener below).
    const { url } = request;
    if (url?.charCodeAt(0) !== 0x2f && !(url === '*' && request.method === 'OPTIONS')) {
      return [400, 'BAD_REQUEST', 'the request target must be a path such as /auth/login, not a full URL, an authority or *'];
    }
    if (host !== undefined) {
      const allowed = hostAllowed(host);
      if (allowed === null) return [400, 'BAD_REQUEST', 'the Host header is not a host name or address'];
      if (!allowed) return [421, 'BAD_REQUEST', 'this server does not answer to the name in Host: if clients reach it by that name, add it to ALLOWED_HOSTS'];
    }
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
      return [415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Encoding is not supported: send the body uncompressed', { 'accept-encoding': 'identity' }];
    }
    return null;
  };
}

/** A connection's requests that arrived while an earlier answer was still being written. */
interface Pipeline {
  /** Those whose answers have not been handed to the kernel yet. */
  waiting: number;
  /** Past the cap: every request read after it is dropped, and the connection reads no more. */
  refused: boolean;
}

const pipelines = new WeakMap<Socket, Pipeline>();
const PIPELINED = Symbol('pipelined');
type PipelinedResponse = ServerResponse & { [PIPELINED]?: true };

/**
 * Whether a request that arrived while another answer on its connection was being written may be
 * served. Node queues such requests without bound: a client that pipelines and never reads had
 * every request it sent parsed and answered into buffers (84,000 on one connection in the audit).
 * At `cap` requests waiting, the next is answered 429 and the connection closes after the answers
 * before it; requests already read behind it are dropped unanswered, and no more are read.
 * Only pipelining pays for this: a request with no answer ahead of it never gets here.
 */
function admitPipelined(socket: HttpSocket, response: PipelinedResponse, cap: number): boolean {
  let pipeline = pipelines.get(socket);
  if (pipeline === undefined) pipelines.set(socket, (pipeline = { waiting: 0, refused: false }));
  if (pipeline.refused) return false;
  // The queued ones, and the one being written unless it is one of them.
  const waiting = pipeline.waiting + ((socket._httpMessage as PipelinedResponse | null | undefined)?.[PIPELINED] ? 0 : 1);
  if (waiting >= cap) {
    pipeline.refused = true;
    response.shouldKeepAlive = false;
    writeEnvelope(response, 429, 'RATE_LIMITED', `at most ${cap} requests may wait for their answers on one connection: read the answers before sending more`);
    // Node resumes reading as answers go out (and as it discards request bodies): stopped again at once.
    socket.pause();
    socket.on('resume', () => socket.pause());
    return false;
  }
  const counted = pipeline;
  counted.waiting++;
  response[PIPELINED] = true;
  response.once('finish', () => counted.waiting--);
  return true;
}

/**
 * Closes the connections whose answers have not drained for `timeoutMs`. A client that stops
 * reading leaves them in node's buffer once the kernel's are full; node then stops reading its
 * requests, so no other limit applies (each request arrived whole, and the connection is not idle).
 * A look at every open connection every `everyMs`, nothing per request.
 */
function cutStalledReaders(server: Server, open: Set<Socket>, timeoutMs: number, everyMs: number): void {
  const stalledSince = new WeakMap<Socket, number>();
  server.once('listening', () => {
    const timer = setInterval(() => {
      const now = Date.now();
      for (const socket of open) {
        if (socket.writableLength === 0) {
          stalledSince.delete(socket);
          continue;
        }
        const since = stalledSince.get(socket);
        if (since === undefined) stalledSince.set(socket, now);
        else if (now - since >= timeoutMs) socket.destroy();
      }
    }, everyMs);
    timer.unref();
    server.once('close', () => clearInterval(timer));
  });
}

/** A fastify `serverFactory`: the http.Server with every limit set. */
export function httpServerFactory(limits: Limits, lifecycle: Lifecycle) {
  const refusal = refusalOf(allowedHostCheck(limits.allowedHosts));
  const pipelineCap = limits.maxPipelinedRequests;
  return (handler: (request: IncomingMessage, response: ServerResponse) => void): Server => {
    const server = createServer(
      {
        requestTimeout: limits.requestTimeoutMs,
        headersTimeout: limits.headersTimeoutMs,
        keepAliveTimeout: limits.keepAliveTimeoutMs,
        connectionsCheckingInterval: checkingIntervalFor(limits),
        // Checked below, so that the answer is in the envelope.
        requireHostHeader: false,
        // A header sent twice arrives as one joined value instead of node keeping one of them silently.
        joinDuplicateHeaders: true,
      },
      (request, response) => {
        // Queued behind another answer on its connection (pipelined): counted, and capped.
        if ((request.socket as HttpSocket)._httpMessage !== response && !admitPipelined(request.socket, response, pipelineCap)) return;
        // Requests that arrive on an open connection after close() began: the load balancer
        // should send them elsewhere, and the connection closes after the answer.
        if (lifecycle.closing) {
          response.shouldKeepAlive = false;
          writeEnvelope(response, 503, 'INTERNAL', 'the server is shutting down, try again');
          return;
        }
        const refused = refusal(request);
        if (refused) {
          // The body, if any, is not read: the connection cannot be reused after it.
          response.shouldKeepAlive = false;
          writeEnvelope(response, ...refused);
          return;
        }
        handler(request, response);
      },
    );
    server.maxConnections = limits.maxConnections;
    // Per connection, not per request: an add and a delete.
    const open = new Set<Socket>();
    openConnections.set(server, open);
    server.on('connection', (socket: Socket) => {
      open.add(socket);
      socket.once('close', () => open.delete(socket));
    });
    cutStalledReaders(server, open, limits.requestTimeoutMs, checkingIntervalFor(limits));
    // CONNECT (an authority-form target): node would close the connection without a word.
    server.on('connect', (_request: IncomingMessage, socket: Socket) => endWithEnvelope(socket, 400, envelope('BAD_REQUEST', 'CONNECT is not supported: this is not a proxy')));
    if (limits.maxConnectionsPerClient > 0) {
      // A trusted proxy carries many clients on its connections: the cap is the proxy's job there.
      const trusted = proxyTrust(limits.trustProxy);
      capPerClient(server, limits.maxConnectionsPerClient, (peer) => !trusted(peer, 0));
    }
    return server;
  };
}

/**
 * The start of a shutdown. Answers still being worked on go out with `Connection: close` (their
 * connections would otherwise idle on as keep-alive and hold the shutdown up), and until the
 * server has closed, each connection is closed as soon as it is idle: close() closes those idle
 * at that moment; one still receiving a body it was already answered for, or finishing a
 * response, becomes idle later and would otherwise be kept for the whole keep-alive timeout.
 */
export function beginShutdown(server: Server, everyMs = 50): void {
  for (const socket of openConnections.get(server) ?? []) {
    // The answer the connection is busy with.
    const response = (socket as HttpSocket)._httpMessage;
    if (response && !response.headersSent) response.shouldKeepAlive = false;
  }
  const timer = setInterval(() => server.closeIdleConnections(), everyMs);
  timer.unref();
  server.once('close', () => clearInterval(timer));
}
