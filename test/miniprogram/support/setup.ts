/**
 * Jest setupFilesAfterEnv for the UI project: miniprogram-simulate defines `wx` (a stub),
 * `Component` and `Behavior`; ./platform adds what it leaves out and resets it before every test,
 * and every page or component a test mounted is detached after it.
 */
import 'miniprogram-simulate';
import { installPlatform } from './platform';
import { unmountAll } from './render';

installPlatform();
afterEach(unmountAll);
