import { screensOf } from './harness';

screensOf('pages/approvals/approvals');
