/**
 * Where the app's server lives, per WeChat environment: the one place to change it.
 *
 * WeChat reports the environment in `wx.getAccountInfoSync().miniProgram.envVersion` (see
 * utils/environment.ts, which picks the entry):
 * - develop: DevTools' simulator, and a phone opened from 预览 / 真机调试. The default is the
 *   developer server (`npm start`) on this machine, which the simulator reaches directly
 *   (project.config.json turns domain checking off). A phone cannot reach 127.0.0.1: put this
 *   machine's LAN address here (README, "Trying it on a phone") and start the server with HOST=0.0.0.0.
 * - trial (体验版) and release (正式版): your server's HTTPS domain, registered as a request
 *   domain (request合法域名) in the mini-program's admin console. WeChat refuses anything else.
 *
 * Data only, no `wx`: the developer server reads `develop` from here to say, when it starts,
 * whether the app will reach it.
 */
export type EnvVersion = 'develop' | 'trial' | 'release';

export const API_BASE_URLS: Record<EnvVersion, string> = {
  develop: 'http://127.0.0.1:3000',
  trial: 'https://api.example.com',
  release: 'https://api.example.com',
};
