/** `wx-login-server/simulator`: the simulated WeChat as a value, for a host's development setup and tests. */
export { createSimulatedWeChat, isSimulatedWeChat, type SimulatedWeChat } from './wechat-option';
export { DEFAULT_USER, DEVTOOLS_MOCK_CODE } from '../wechat/simulator';
