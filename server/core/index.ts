/**
 * `wx-login-server`: the login core, framework-free. The adapters are `wx-login-server/fastify`
 * and `wx-login-server/express`; the simulated WeChat is `wx-login-server/simulator`.
 */
export { createLoginService, type LoginClient, type LoginLogger, type LoginService, type LoginServiceOptions, type RedisClient } from './login-service';
export { ApiError, OptionError } from './errors';
export { createAccountLifecycle, type AccountDeletion, type AccountLifecycle, type AccountLifecycleOptions, type DeletedBy, type UserFiles } from './account-lifecycle';
export { clientKey } from './client-key';
// Bind mode: a host makes its platform accounts' password hashes with the same function the service checks them with.
export { hashPassword, needsRehash, PASSWORD_PARAMS, type PasswordParams } from '../passwords';
export type { AccountEvent, AccountMode } from './bind';
export { CONTRACT_ROUTES, contractPaths, type ContractRoute, type RouteInput } from './contract-routes';
export { isSimulatedWeChat, sealKeyFromSecret, type OwnWeChatClient, type RealWeChatOptions, type SimulatedWeChat, type WeChatOption } from './wechat-option';
export { createMemoryStores } from '../stores/memory';
export type { Authenticated } from '../session';
export type { WeChatClient, WeChatSession } from '../wechat/client';
export type * from '../stores/types';
export type { AccountDeleteResponse, AccountExport, ApiErrorBody, ApiErrorCode, LoginResponse, SessionResponse, User, UserInfoRequest, UserInfoResponse, PhoneBindResponse, LogoutResponse } from '../../typings/api';
