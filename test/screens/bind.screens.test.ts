import { screensOf } from './harness';

screensOf('pages/bind/bind');
