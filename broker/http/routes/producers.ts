/**
 * Idempotent producer ids (Kafka's InitProducerId without a transactional id):
 *
 *   POST /producers  {}                                        → { "producer_id": 7, "producer_epoch": 0 }
 *   POST /producers  { "producer_id": 7, "producer_epoch": 0 } → { "producer_id": 7, "producer_epoch": 1 }
 *
 * Without a body (or with an empty object, or producer_id -1) the broker allocates a new id. With
 * a known id and its epoch, the epoch is bumped, fencing any older instance still sending with it.
 */

import type { FastifyInstance } from 'fastify';
import { MiniKafkaError } from '../../../common/errors.ts';
import { JSON_BODY_TYPES, acceptContentTypes } from '../content-types.ts';
import type { HttpContext } from '../http-context.ts';

const EPOCH_MAX = 0x7fff;

interface InitProducerBody {
  producer_id?: number;
  producer_epoch?: number;
}

const initProducerBody = {
  type: ['object', 'null'],
  properties: {
    producer_id: { type: 'integer', minimum: -1, maximum: Number.MAX_SAFE_INTEGER },
    producer_epoch: { type: 'integer', minimum: -1, maximum: EPOCH_MAX },
  },
} as const;

const producerResponse = {
  type: 'object',
  properties: { producer_id: { type: 'integer' }, producer_epoch: { type: 'integer' } },
} as const;

export function registerProducerRoutes(app: FastifyInstance, { core }: HttpContext): void {
  app.post<{ Body: InitProducerBody | null | undefined }>(
    '/producers',
    { preParsing: acceptContentTypes(JSON_BODY_TYPES), schema: { body: initProducerBody, response: { 200: producerResponse } } },
    async (request) => {
      const { producer_id: producerId = -1, producer_epoch: producerEpoch } = request.body ?? {};
      if (producerId >= 0 && producerEpoch === undefined) {
        throw new MiniKafkaError('INVALID_REQUEST', `producer_id ${producerId} needs its current producer_epoch to be bumped`, { producerId });
      }
      const current = producerId >= 0 ? { producerId, producerEpoch: producerEpoch ?? -1 } : undefined;
      const allocated = await core.initProducerId(current);
      return { producer_id: allocated.producerId, producer_epoch: allocated.producerEpoch };
    },
  );
}
