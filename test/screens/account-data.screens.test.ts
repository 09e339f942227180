import { screensOf } from './harness';

screensOf('pages/account-data/account-data');
