/**
 * The coordinator's domain errors, built in one place so that each code always carries the same
 * details and says what the client should do next (rejoin, join afresh, retry). Codes and their
 * Kafka numbers are in common/errors.ts.
 */

import { MiniKafkaError } from '../../common/errors.ts';
import type { GroupCoordinatorConfig } from './group-coordinator-config.ts';
import type { JoinGroupRequest } from './group-requests.ts';

export function validateGroupId(groupId: string): void {
  if (typeof groupId !== 'string' || groupId === '') throw new MiniKafkaError('INVALID_GROUP_ID', 'the group id is empty; give the consumer a group id', { groupId });
}

export function validateJoinTimeouts(request: JoinGroupRequest, config: GroupCoordinatorConfig): void {
  const { sessionTimeoutMs, rebalanceTimeoutMs } = request;
  const { minSessionTimeoutMs, maxSessionTimeoutMs } = config;
  if (!Number.isSafeInteger(sessionTimeoutMs) || sessionTimeoutMs < minSessionTimeoutMs || sessionTimeoutMs > maxSessionTimeoutMs) {
    throw new MiniKafkaError(
      'INVALID_SESSION_TIMEOUT',
      `group ${request.groupId}: session timeout ${sessionTimeoutMs} ms is outside the broker's bounds [${minSessionTimeoutMs}, ${maxSessionTimeoutMs}] (group.min.session.timeout.ms, group.max.session.timeout.ms)`,
      { groupId: request.groupId, sessionTimeoutMs, minSessionTimeoutMs, maxSessionTimeoutMs },
    );
  }
  if (!Number.isSafeInteger(rebalanceTimeoutMs) || rebalanceTimeoutMs < 0) {
    throw new MiniKafkaError('INVALID_REQUEST', `group ${request.groupId}: rebalance timeout ${rebalanceTimeoutMs} ms is not a non-negative integer`, { groupId: request.groupId, rebalanceTimeoutMs });
  }
}

export function unknownMember(groupId: string, memberId: string): MiniKafkaError {
  return new MiniKafkaError('UNKNOWN_MEMBER_ID', `group ${groupId} has no member ${JSON.stringify(memberId)} (it left, timed out, or the group is gone); join again with an empty member id`, { groupId, memberId });
}

export function illegalGeneration(groupId: string, memberId: string, generationId: number, currentGenerationId: number): MiniKafkaError {
  return new MiniKafkaError('ILLEGAL_GENERATION', `group ${groupId}: member ${JSON.stringify(memberId)} is at generation ${generationId}, the group at ${currentGenerationId}; rejoin`, { groupId, memberId, generationId, currentGenerationId });
}

export function rebalanceInProgress(groupId: string, generationId: number, what = 'is rebalancing; rejoin (JoinGroup) to get the new generation'): MiniKafkaError {
  return new MiniKafkaError('REBALANCE_IN_PROGRESS', `group ${groupId} ${what}`, { groupId, generationId });
}

export function inconsistentProtocol(request: JoinGroupRequest): MiniKafkaError {
  const names = request.protocols.map((protocol) => protocol.name);
  return new MiniKafkaError(
    'INCONSISTENT_GROUP_PROTOCOL',
    `group ${request.groupId}: protocol type ${JSON.stringify(request.protocolType)} with assignors [${names.join(', ')}] does not fit the group: the type must match and one assignor must be offered by every member`,
    { groupId: request.groupId, protocolType: request.protocolType, protocols: names },
  );
}

export function groupNotFound(groupId: string): MiniKafkaError {
  return new MiniKafkaError('GROUP_ID_NOT_FOUND', `group ${groupId} does not exist`, { groupId });
}

export function coordinatorNotAvailable(groupId: string, why: string, details: Record<string, unknown> = {}, cause?: unknown): MiniKafkaError {
  return new MiniKafkaError('COORDINATOR_NOT_AVAILABLE', `group ${groupId}: ${why}`, { groupId, ...details }, cause === undefined ? undefined : { cause });
}
