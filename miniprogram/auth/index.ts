/**
 * The auth service: WeChat login with a server-issued skey, cached in storage, and a request
 * wrapper that attaches it and heals an expired session with one shared login.
 * Dependency-free: copy this folder into any mini-program, or install it as a package.
 */
export { createAuth } from './client';
export { AuthError, isAuthError } from './errors';
export type { AuthErrorCode, BindTicket } from './errors';
export type {
  AbortSignalLike,
  AuthClient,
  AuthEvents,
  AuthOptions,
  BindRequest,
  BindRequiredAnswer,
  HttpMethod,
  LoginAnswer,
  PendingCall,
  RequestOptions,
  Response,
  Session,
  UploadOptions,
  WxLike,
} from './types';
