/** The guard of routes that need a permission (see ./access.ts for who has which). */
import type { FastifyError, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { Permission } from './access';
import { ApiError } from './core/errors';
import { answerError } from './errors';
import { can, rolesOf } from './roles';

/**
 * A preHandler that follows `requireSession` (which sets `request.wxUser`): 403 FORBIDDEN in the
 * envelope when the user's roles lack `permission`. The session and the phone rule come first:
 *
 *   app.get('/api/approvals', { preHandler: [app.requireSession, requirePermission('approvals:read')] }, handler)
 */
export function requirePermission(permission: Permission) {
  return function permissionGuard(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    if (can(rolesOf(request.wxUser), permission)) return done();
    // Answered here, as requireSession answers its refusals: the envelope, whatever error handler the host has.
    answerError(new ApiError('FORBIDDEN', `this needs the permission ${permission}`) as unknown as FastifyError, request, reply);
  };
}
