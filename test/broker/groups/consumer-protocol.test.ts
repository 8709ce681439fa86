/**
 * The consumer protocol codecs against hand-made byte fixtures (the layouts KafkaJS and the Java
 * client write), round trips on random values, and truncated input.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMiniKafkaError } from '../../../common/errors.ts';
import type { TopicPartitions } from '../../../broker/groups/consumer-protocol.ts';
import { decodeAssignment, decodeSubscription, encodeAssignment, encodeSubscription } from '../../../broker/groups/consumer-protocol.ts';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');
// "orders" = 6f 72 64 65 72 73, "payments" = 70 61 79 6d 65 6e 74 73
const ORDERS = '0006 6f7264657273';
const PAYMENTS = '0008 7061796d656e7473';

describe('decodeSubscription()', () => {
  it('reads the v0 layout KafkaJS writes (empty userData)', () => {
    const bytes = hex(`0000 00000002 ${ORDERS} ${PAYMENTS} 00000000`);
    expect(decodeSubscription(bytes)).toEqual({ version: 0, topics: ['orders', 'payments'], userData: Buffer.alloc(0), ownedPartitions: [], generationId: -1, rackId: null });
    expect(encodeSubscription({ topics: ['orders', 'payments'] })).toEqual(bytes);
  });

  it('reads version 1 written with the v0 layout (what KafkaJS sends) as owning nothing', () => {
    const bytes = hex(`0001 00000001 ${ORDERS} 00000000`);
    expect(decodeSubscription(bytes)).toMatchObject({ version: 1, topics: ['orders'], ownedPartitions: [] });
  });

  it('reads Java v1 with null userData and ownedPartitions', () => {
    const bytes = hex(`0001 00000001 ${ORDERS} ffffffff 00000001 ${ORDERS} 00000002 00000000 00000002`);
    const decoded = decodeSubscription(bytes);
    expect(decoded).toMatchObject({ version: 1, userData: null, ownedPartitions: [{ topic: 'orders', partitions: [0, 2] }] });
    expect(encodeSubscription({ topics: ['orders'], userData: null, ownedPartitions: [{ topic: 'orders', partitions: [0, 2] }] }, 1)).toEqual(bytes);
  });

  it('reads v3 (generation, rack) and ignores fields of later versions', () => {
    const v3 = `0003 00000001 ${ORDERS} 00000000 00000000 00000007 0002 7231`;
    expect(decodeSubscription(hex(v3))).toMatchObject({ version: 3, topics: ['orders'], generationId: 7, rackId: 'r1' });
    const v9 = `0009${v3.slice(4)} deadbeef`;
    expect(decodeSubscription(hex(v9))).toMatchObject({ version: 9, topics: ['orders'], generationId: 7, rackId: 'r1' });
  });

  it('refuses a negative version, a null topic and a count larger than the bytes', () => {
    for (const bad of ['ffff 00000000 00000000', `0000 00000001 ffff 00000000`, '0000 7fffffff']) {
      expect(() => decodeSubscription(hex(bad))).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
    }
  });
});

describe('decodeAssignment()', () => {
  it('reads the v0 layout (KafkaJS writes version 1 with it)', () => {
    const bytes = hex(`0001 00000001 ${ORDERS} 00000002 00000000 00000002 00000000`);
    expect(decodeAssignment(bytes)).toEqual({ version: 1, assignedPartitions: [{ topic: 'orders', partitions: [0, 2] }], userData: Buffer.alloc(0) });
  });

  it('writes v0 with empty userData', () => {
    expect(encodeAssignment([{ topic: 'orders', partitions: [1] }, { topic: 'payments', partitions: [] }])).toEqual(hex(`0000 00000002 ${ORDERS} 00000001 00000001 ${PAYMENTS} 00000000 00000000`));
  });

  it('reads zero bytes (a member the leader gave nothing) as an empty assignment', () => {
    expect(decodeAssignment(Buffer.alloc(0))).toEqual({ version: 0, assignedPartitions: [], userData: null });
  });
});

const topicName = fc.stringMatching(/^[a-zA-Z0-9._-]{1,20}$/);
const topicPartitions: fc.Arbitrary<TopicPartitions> = fc.record({ topic: topicName, partitions: fc.array(fc.nat(1000), { maxLength: 5 }) });
const userData = fc.option(fc.uint8Array({ maxLength: 16 }).map((bytes) => Buffer.from(bytes)), { nil: null });

describe('consumer protocol round trips', () => {
  it('decode(encode(subscription)) gives the subscription back, v0 and v1', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 30 }), { maxLength: 6 }), userData, fc.array(topicPartitions, { maxLength: 4 }), fc.constantFrom(0 as const, 1 as const), (topics, data, owned, version) => {
        const decoded = decodeSubscription(encodeSubscription({ topics, userData: data, ownedPartitions: owned }, version));
        expect(decoded).toEqual({ version, topics, userData: data, ownedPartitions: version === 1 ? owned : [], generationId: -1, rackId: null });
      }),
    );
  });

  it('decode(encode(assignment)) gives the assignment back', () => {
    fc.assert(
      fc.property(fc.array(topicPartitions, { maxLength: 6 }), userData, (assigned, data) => {
        expect(decodeAssignment(encodeAssignment(assigned, data))).toEqual({ version: 0, assignedPartitions: assigned, userData: data });
      }),
    );
  });

  it('every truncation of a message either decodes (it ends on a field boundary) or throws INVALID_REQUEST, never a RangeError', () => {
    fc.assert(
      fc.property(fc.array(topicName, { maxLength: 4 }), fc.array(topicPartitions, { maxLength: 3 }), (topics, owned) => {
        const messages = [encodeSubscription({ topics, ownedPartitions: owned }, 1), encodeAssignment(owned)];
        for (const bytes of messages) {
          for (let length = 1; length < bytes.length; length++) {
            const decode = bytes === messages[0] ? decodeSubscription : decodeAssignment;
            try {
              decode(bytes.subarray(0, length));
            } catch (error) {
              expect(isMiniKafkaError(error, 'INVALID_REQUEST'), String(error)).toBe(true);
            }
          }
        }
      }),
    );
  });
});
