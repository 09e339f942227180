import { screensOf } from './harness';

screensOf('pages/index/index');
