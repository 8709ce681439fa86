/**
 * The broker's HTTP API: a fastify app over an open BrokerCore. `buildHttpApp` returns the app
 * without listening (tests call `app.inject()`; startBroker calls `listen`).
 *
 * The app is an adapter: routes translate HTTP into core calls and core results (or
 * MiniKafkaErrors) back into HTTP, one file per resource under routes/. What lives here is what
 * every route shares: body parsers, the one error body, the limits, request metrics, and an
 * orderly close (long polls are ended first, then requests still arriving are answered 503
 * BROKER_SHUTTING_DOWN until the server has closed).
 *
 * Logging is for the lifecycle only: fastify's per-request lines are off, and nothing is logged
 * per record; a request is logged only when it fails on the broker's side.
 */

import { lazySerializerFactory, lazyValidatorFactory } from './lazy-schema-compilers.ts';
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { MiniKafkaError } from '../../common/errors.ts';
import type { BrokerCore } from '../core/broker-core.ts';
import type { BrokerMetrics } from '../metrics.ts';
import { createBrokerMetrics } from '../metrics.ts';
import { limitConnections } from './connection-limit.ts';
import { registerBodyParsers } from './content-types.ts';
import { frameworkErrorHandler, onClientError, registerErrorHandling } from './error-handler.ts';
import type { HttpContext } from './http-context.ts';
import type { HttpLimits } from './http-limits.ts';
import { resolveHttpLimits } from './http-limits.ts';
import { LongPolls } from './long-polls.ts';
import { registerBrokerRoutes } from './routes/brokers.ts';
import { registerFetchRoutes } from './routes/fetch.ts';
import { registerGroupMemberRoutes } from './routes/group-members.ts';
import { registerGroupRoutes } from './routes/groups.ts';
import { registerHealthRoutes } from './routes/health.ts';
import { registerMetricsRoutes } from './routes/metrics.ts';
import { registerOffsetRoutes } from './routes/offsets.ts';
import { registerProduceRoutes } from './routes/produce.ts';
import { registerProduceBatchesRoutes } from './routes/produce-batches.ts';
import { registerProducerRoutes } from './routes/producers.ts';
import { registerTopicRoutes } from './routes/topics.ts';

export type { HttpLimits } from './http-limits.ts';
export { defaultHttpLimits, limitNames } from './http-limits.ts';

export interface HttpAppOptions {
  /** Any limit left out takes its default (http-limits.ts). */
  readonly limits?: Partial<HttpLimits>;
  /**
   * The broker's metrics; the same object whose `traffic` and `storage` were given to
   * BrokerCore.open. Without one the app makes its own, which then sees no traffic or storage events.
   */
  readonly metrics?: BrokerMetrics;
  /** A pino logger (fastify's `loggerInstance`), or false (the default) for none. */
  readonly logger?: FastifyBaseLogger | false;
}

/** Topic names are at most 249 characters; percent-encoded hostile ones may be longer, and get a proper error. */
const MAX_PATH_PARAM_LENGTH = 1024;

export function buildHttpApp(core: BrokerCore, options: HttpAppOptions = {}): FastifyInstance {
  const limits = resolveHttpLimits(options.limits);
  const metrics = options.metrics ?? createBrokerMetrics({ processMetrics: false });
  metrics.watchCore(core);

  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: limits.maxBodyBytes,
    // Our own onRequest hook answers during close, in the one error shape.
    return503OnClosing: false,
    routerOptions: { maxParamLength: MAX_PATH_PARAM_LENGTH },
    // Fields such as a config value may be a string, number or boolean.
    ajv: { customOptions: { allowUnionTypes: true } },
    // Compile route schemas on first use: a third of the cold start otherwise (lazy-schema-compilers.ts).
    schemaController: { compilersFactory: { buildValidator: lazyValidatorFactory(), buildSerializer: lazySerializerFactory() } },
    frameworkErrors: frameworkErrorHandler(limits),
    clientErrorHandler: onClientError,
  });

  const context: HttpContext = { core, limits, longPolls: new LongPolls(), metrics };
  metrics.watchFetchPurgatory(() => context.longPolls.size);
  let isClosing = false;

  registerBodyParsers(app);
  registerErrorHandling(app, limits);
  limitConnections(app, limits.maxConnections);

  app.addHook('onRequest', async () => {
    if (isClosing || core.isClosing) throw new MiniKafkaError('BROKER_SHUTTING_DOWN', 'the broker is shutting down and takes no new requests; retry once it is back', {});
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.observeHttpRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });
  app.addHook('preClose', async () => {
    isClosing = true;
    context.longPolls.abortAll();
  });

  registerHealthRoutes(app);
  registerMetricsRoutes(app, context);
  registerBrokerRoutes(app);
  registerTopicRoutes(app, context);
  registerProduceRoutes(app, context);
  registerProduceBatchesRoutes(app, context);
  registerFetchRoutes(app, context);
  registerOffsetRoutes(app, context);
  registerProducerRoutes(app, context);
  registerGroupRoutes(app, context);
  registerGroupMemberRoutes(app, context);
  return app;
}
