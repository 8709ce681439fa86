/**
 * What every route module is given: the core it calls, the limits it checks, the registry of
 * long polls in flight (so closing the server can end them), and the metrics it reports to.
 */

import type { BrokerCore } from '../core/broker-core.ts';
import type { BrokerMetrics } from '../metrics.ts';
import type { HttpLimits } from './http-limits.ts';
import type { LongPolls } from './long-polls.ts';

export interface HttpContext {
  readonly core: BrokerCore;
  readonly limits: HttpLimits;
  readonly longPolls: LongPolls;
  readonly metrics: BrokerMetrics;
}
