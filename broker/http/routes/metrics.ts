/**
 * GET /metrics → Prometheus text exposition of the broker's own registry (broker/metrics.ts).
 * Per-partition gauges are read from the core during the scrape, so they are never stale.
 */

import type { FastifyInstance } from 'fastify';
import type { HttpContext } from '../http-context.ts';

export function registerMetricsRoutes(app: FastifyInstance, { metrics }: HttpContext): void {
  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });
}
