/**
 * Jest setupFilesAfterEnv for the UI project: miniprogram-simulate defines `wx` (a stub),
 * `Component` and `Behavior`; ./platform adds what it leaves out and resets it before every test.
 */
import 'miniprogram-simulate';
import { installPlatform } from './platform';

installPlatform();
