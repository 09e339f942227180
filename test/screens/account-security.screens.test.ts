import { screensOf } from './harness';

screensOf('pages/account-security/account-security');
