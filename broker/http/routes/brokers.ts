/**
 * GET /brokers → { "brokers": [0] }, as REST Proxy v2 and Redpanda's proxy answer: the ids of the
 * cluster's brokers. minikafka is one broker, id 0, the leader of every partition.
 */

import type { FastifyInstance } from 'fastify';
import { BROKER_ID } from '../../core/topic-manager.ts';

const brokersResponse = { type: 'object', properties: { brokers: { type: 'array', items: { type: 'integer' } } } } as const;

export function registerBrokerRoutes(app: FastifyInstance): void {
  app.get('/brokers', { schema: { response: { 200: brokersResponse } } }, async () => ({ brokers: [BROKER_ID] }));
}
