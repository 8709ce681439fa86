/**
 * The group coordinator's settings, under Kafka's broker config names (GroupCoordinatorConfig.java),
 * with Kafka's defaults. The broker's config catalogue maps its values onto this shape.
 */

import assert from 'node:assert';

export interface GroupCoordinatorConfig {
  /**
   * `group.initial.rebalance.delay.ms`: how long the first rebalance of an empty group waits for
   * more members, extended by the same amount (up to the rebalance timeout) each time one joins,
   * so that consumers started together share one rebalance instead of one each.
   */
  readonly initialRebalanceDelayMs: number;
  /** `group.min.session.timeout.ms`: a JoinGroup asking for less is refused with INVALID_SESSION_TIMEOUT. */
  readonly minSessionTimeoutMs: number;
  /** `group.max.session.timeout.ms`: a JoinGroup asking for more is refused with INVALID_SESSION_TIMEOUT. */
  readonly maxSessionTimeoutMs: number;
  /**
   * How long a brand-new member's JoinGroup may stay parked before the member is dropped
   * (Kafka's `group.classic.new.member.join.timeout.ms`, internal). A new member has no member id
   * to heartbeat with, so without this a client that went away mid-rebalance would stay forever.
   */
  readonly newMemberJoinTimeoutMs: number;
}

export const defaultGroupCoordinatorConfig: GroupCoordinatorConfig = {
  initialRebalanceDelayMs: 3_000,
  minSessionTimeoutMs: 6_000,
  maxSessionTimeoutMs: 1_800_000,
  newMemberJoinTimeoutMs: 300_000,
};

export function resolveGroupCoordinatorConfig(overrides: Partial<GroupCoordinatorConfig> = {}): GroupCoordinatorConfig {
  const config = { ...defaultGroupCoordinatorConfig, ...overrides };
  for (const [name, value] of Object.entries(config)) assert(Number.isSafeInteger(value) && value >= 0, `group coordinator config ${name} must be a non-negative integer, got ${value}`);
  assert(config.minSessionTimeoutMs <= config.maxSessionTimeoutMs, `group.min.session.timeout.ms (${config.minSessionTimeoutMs}) must not exceed group.max.session.timeout.ms (${config.maxSessionTimeoutMs})`);
  return config;
}
