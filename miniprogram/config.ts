/**
 * Where the app's server lives: the one place to change it.
 * The default is the developer server (`npm start`) on this machine, which WeChat DevTools'
 * simulator reaches directly (project.config.json turns domain checking off). A phone needs
 * this machine's LAN address instead, and a release build needs a registered HTTPS domain.
 */
export const API_BASE_URL = 'http://127.0.0.1:3000';
