/**
 * GET /healthz → 200 { "status": "ok" } while the broker serves; once it is stopping, the
 * shutdown hook in app.ts answers every request, this one included, 503 BROKER_SHUTTING_DOWN.
 * The app is built only after the core has opened (recovery done), so "served" means "ready".
 */

import type { FastifyInstance } from 'fastify';

const healthResponse = { type: 'object', properties: { status: { type: 'string' } } } as const;

export function registerHealthRoutes(app: FastifyInstance): void {
  app.get('/healthz', { schema: { response: { 200: healthResponse } } }, async () => ({ status: 'ok' }));
}
