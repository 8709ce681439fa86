/**
 * The admin client's consumer-group calls against a real broker, with a real consumer making
 * the group: listGroups, describeGroup (members, committed offsets, lag), fetchOffsets,
 * resetOffsets (a dry run unless dryRun: false, refused while the group has members) and
 * deleteGroups.
 */

import { afterEach, describe, expect, test } from 'vitest';
import type { Admin } from '../../../client/admin/admin.ts';
import { BrokerError, InvalidArgumentError } from '../../../client/errors.ts';
import type { ConsumerTestContext } from './consumer-harness.ts';
import { FAST_CONSUMER, startConsumerTest, waitFor } from './consumer-harness.ts';

let t: ConsumerTestContext;
let admin: Admin;

afterEach(async () => {
  await admin.close();
  await t.cleanup();
});

describe('Admin consumer groups', () => {
  test('listGroups(), describeGroup() with lag and owners, fetchOffsets(); resetOffsets() plans, refuses a live group, then executes; deleteGroups()', async () => {
    t = await startConsumerTest();
    admin = t.client.admin();
    await t.createTopic('invoices', 2);
    await t.produce('invoices', 30, { partition: 0 });
    await t.produce('invoices', 10, { partition: 1 });

    const consumer = t.consumer({ groupId: 'billing', ...FAST_CONSUMER, autoOffsetReset: 'earliest', autoCommit: false });
    await consumer.subscribe({ topics: ['invoices'] });
    let count = 0;
    await consumer.run({ eachMessage: async () => void count++ });
    await waitFor(() => count === 40, () => `${count} of 40`);
    await consumer.commitOffsets([{ topic: 'invoices', partition: 0, offset: 25 }]);

    expect(await admin.listGroups()).toEqual({ groups: [{ groupId: 'billing', protocolType: 'consumer', state: 'Stable' }] });
    expect(await admin.listGroups({ states: ['Empty'] })).toEqual({ groups: [] });

    const described = await admin.describeGroup('billing');
    expect(described).toMatchObject({ groupId: 'billing', state: 'Stable', protocolType: 'consumer', protocol: 'range', generationId: consumer.generationId, leaderId: consumer.memberId, totalLag: 5 });
    expect(described.members).toEqual([{ memberId: consumer.memberId, groupInstanceId: null, clientId: 'consumer-test', clientHost: '/127.0.0.1', assignment: [{ topic: 'invoices', partitions: [0, 1] }] }]);
    expect(described.partitions).toEqual([
      { topic: 'invoices', partition: 0, committedOffset: 25, logEndOffset: 30, lag: 5, memberId: consumer.memberId, clientId: 'consumer-test', clientHost: '/127.0.0.1', metadata: '' },
      { topic: 'invoices', partition: 1, committedOffset: null, logEndOffset: 10, lag: null, memberId: consumer.memberId, clientId: 'consumer-test', clientHost: '/127.0.0.1', metadata: '' },
    ]);
    expect(await admin.describeGroups(['billing'])).toEqual({ groups: [described] });
    expect(await admin.fetchOffsets({ groupId: 'billing', topics: ['invoices'] })).toEqual([
      { topic: 'invoices', partitions: [{ partition: 0, offset: '25', metadata: '' }, { partition: 1, offset: '-1', metadata: '' }] },
    ]);

    await expect(admin.resetOffsets({ groupId: 'billing', topics: ['invoices'], to: 'earliest' })).rejects.toMatchObject({ code: 'NON_EMPTY_GROUP' });
    await expect(admin.deleteGroups(['billing'])).rejects.toMatchObject({ code: 'NON_EMPTY_GROUP' });
    await consumer.close();

    const plan = await admin.resetOffsets({ groupId: 'billing', topic: 'invoices', to: { shiftBy: -10 } });
    expect(plan).toEqual({
      executed: false,
      plan: [{ topic: 'invoices', partition: 0, currentOffset: 25, newOffset: 15 }, { topic: 'invoices', partition: 1, currentOffset: null, newOffset: 0 }],
    });
    expect((await admin.fetchOffsets({ groupId: 'billing' }))[0].partitions[0].offset).toBe('25'); // a dry run changed nothing

    const executed = await admin.resetOffsets({ groupId: 'billing', topics: [{ topic: 'invoices', partitions: [0] }], to: { offset: 3 }, dryRun: false });
    expect(executed).toEqual({ executed: true, plan: [{ topic: 'invoices', partition: 0, currentOffset: 25, newOffset: 3 }] });
    expect((await admin.describeGroup('billing')).partitions[0]).toMatchObject({ committedOffset: 3, lag: 27, memberId: null });
    expect((await admin.resetOffsets({ groupId: 'billing', allTopics: true, to: 'latest' })).plan.map((row) => row.newOffset)).toEqual([30, 10]);

    await expect(admin.resetOffsets({ groupId: 'billing', topic: 'invoices', earliest: true } as never)).rejects.toBeInstanceOf(InvalidArgumentError);

    await admin.deleteGroups(['billing']);
    expect(await admin.listGroups()).toEqual({ groups: [] });
    const missing = await admin.describeGroup('billing').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(BrokerError);
    expect(missing).toMatchObject({ code: 'GROUP_ID_NOT_FOUND' });
  });
});
