import type { AvatarFiles } from './avatars';
import type { Config } from './config';
import type { LoginService } from './core/login-service';
import type { Lifecycle } from './http-server';
import type { PushEventProcessor } from './push-events/processor';
import type { Clock, Stores } from './stores/types';
import type { WeChatClient } from './wechat/client';
import type { Simulator } from './wechat/simulator';

/** What the routes share; built once per app by buildApp. */
export interface Context {
  config: Config;
  now: Clock;
  stores: Stores;
  wechat: WeChatClient;
  /** Login, sessions, user data, phone binding: the core the login routes mount. */
  login: LoginService;
  /** Null in real mode: no simulator, no development routes. */
  simulator: Simulator | null;
  avatars: AvatarFiles;
  /** What acts on WeChat's pushed account events; null without the message push (WX_PUSH_*) or with a handler of the host's. */
  pushEvents: PushEventProcessor | null;
  /** `closing` from the start of close(): readiness fails, new requests get 503. */
  lifecycle: Lifecycle;
}
