import { screensOf } from './harness';

screensOf('pages/account-delete/account-delete');
