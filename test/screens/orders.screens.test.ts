import { screensOf } from './harness';

screensOf('pages/orders/orders');
