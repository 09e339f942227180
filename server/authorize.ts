/** The guard of routes that need a permission (see ./access.ts for who has which). */
import type { FastifyRequest } from 'fastify';
import type { Permission } from './access';
import type { AccountPolicy } from './account';
import { ApiError } from './errors';
import { rolesOf, can } from './roles';
import { authenticateComplete, type Authenticated } from './session';
import { whenReady, type MaybePromise, type SessionStore } from './stores/types';

/**
 * What routes that need a permission call instead of authenticateComplete: the same live session
 * and complete account, and 403 FORBIDDEN when the user's roles lack `permission`.
 */
export function authorize(request: FastifyRequest, stores: { sessions: SessionStore }, policy: AccountPolicy, permission: Permission): MaybePromise<Authenticated> {
  return whenReady(authenticateComplete(request, stores, policy), (authenticated) => {
    if (!can(rolesOf(authenticated.user), permission)) throw new ApiError('FORBIDDEN', `this needs the permission ${permission}`);
    return authenticated;
  });
}
