import type { FastifyInstance } from 'fastify';
import type { HealthResponse, ReadinessResponse } from '../../typings/api';
import * as C from '../contract';
import type { Context } from '../context';
import { ApiError } from '../errors';

/**
 * Probes for a deployment: liveness (the process answers) and readiness (it can serve: not
 * shutting down, its store answers). Probes come every few seconds, so they write a log line
 * only when something is wrong.
 */
export function healthRoutes(app: FastifyInstance, ctx: Context): void {
  app.get<{ Reply: HealthResponse }>('/healthz', { logLevel: 'warn', schema: { response: { 200: C.healthResponse } } }, async () => ({ status: 'ok' }));

  app.get<{ Reply: ReadinessResponse }>('/readyz', { logLevel: 'warn', schema: { response: { 200: C.readinessResponse } } }, async () => {
    if (ctx.lifecycle.closing) throw new ApiError('INTERNAL', 'the server is shutting down', { status: 503 });
    await ctx.stores.ping();
    return { status: 'ready' };
  });
}
