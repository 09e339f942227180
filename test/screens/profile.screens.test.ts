import { screensOf } from './harness';

screensOf('pages/profile/profile');
