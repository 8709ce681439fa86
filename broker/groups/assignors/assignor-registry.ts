/**
 * The assignors the broker can run itself, by protocol name: used by server-side assignment for
 * HTTP clients that ask the coordinator to assign. Clients that speak the Kafka protocol assign on
 * their leader and only relay the result; the names still matter to them, because the
 * coordinator's protocol vote compares names.
 */

import { MiniKafkaError } from '../../../common/errors.ts';
import type { Assignor } from './assignor.ts';
import { rangeAssignor } from './range.ts';
import { roundRobinAssignor } from './round-robin.ts';
import { stickyAssignor } from './sticky.ts';

export const serverAssignors: readonly Assignor[] = [rangeAssignor, roundRobinAssignor, stickyAssignor];

export function findAssignor(name: string): Assignor {
  const assignor = serverAssignors.find((candidate) => candidate.name === name);
  if (assignor === undefined) {
    throw new MiniKafkaError('INVALID_REQUEST', `assignor ${JSON.stringify(name)} is not one the broker can run; use one of ${serverAssignors.map((a) => a.name).join(', ')}`, { assignor: name });
  }
  return assignor;
}
