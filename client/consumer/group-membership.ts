/**
 * This consumer's membership of its group, in Kafka's classic protocol (kafka-facts §7.1,
 * docs/consumer-groups.md): join and sync to get a generation and partitions, heartbeats on a
 * timer of their own, and the rules for what each answer means.
 *
 * | answer                       | from               | meaning, and what happens                                      |
 * |------------------------------|--------------------|----------------------------------------------------------------|
 * | `MEMBER_ID_REQUIRED`         | join               | KIP-394: join again at once with the id in the answer          |
 * | `UNKNOWN_MEMBER_ID`          | any                | the group dropped this member: rejoin as a new member (id '')  |
 * | `ILLEGAL_GENERATION`         | sync, heartbeat    | a rebalance went by without this member: rejoin with its id    |
 * | `REBALANCE_IN_PROGRESS`      | sync, heartbeat    | the group is rebalancing: rejoin (with its id)                 |
 * | `COORDINATOR_NOT_AVAILABLE`  | sync               | storing the assignment failed: rejoin                          |
 * | retriable (connection, …)    | join, sync         | try again after a backoff, up to `retry.retries`               |
 * | retriable                    | heartbeat          | a missed heartbeat; the next one is at the next interval       |
 * | anything else                | join, sync         | thrown: the consumer stops (a wrong session timeout, …)        |
 *
 * ILLEGAL_GENERATION keeps the member id, as the broker's docs advise: the member still exists in
 * the group, and a join under a new id would leave the old one for the rebalance to wait out.
 *
 * Heartbeats run on their own timer, every heartbeat.interval.ms, whatever the application's
 * handler is doing, so a slow handler keeps its partitions. During a rebalance they go on until
 * this member sends its JoinGroup (each heartbeat answered REBALANCE_IN_PROGRESS still renews the
 * session), so a handler that needs a while to finish its record does not cost the membership
 * before the rebalance timeout. One limit, as Java's max.poll.interval.ms: when a single handler
 * call has run longer than the rebalance timeout, the member leaves the group (its partitions go
 * to others at once) and joins again as a new member once the handler returns.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import { BrokerError, MiniKafkaClientError, isRetriable } from '../errors.ts';
import { backoffMs } from '../retry.ts';
import type { ConsumerConfig } from './consumer-config.ts';
import type { ConsumerEventEmitter } from './consumer-events.ts';
import type { Assignment, GroupCalls } from './group-calls.ts';

export interface Generation {
  readonly memberId: string;
  readonly generationId: number;
  readonly leaderId: string;
  readonly isLeader: boolean;
  readonly protocolName: string;
  readonly assignment: ReadonlyArray<Assignment>;
}

export interface MembershipHooks {
  /** Called when the member must rejoin (the runner stops handing out records and revokes). */
  readonly onRejoinNeeded: () => void;
  /** How long the handler call in progress has run, or -1 when none is (the max.poll.interval.ms check). */
  readonly handlerRunningMs: () => number;
}

/** Answers to a join long poll come within the rebalance timeout; Kafka's client allows it 5 s more. */
const JOIN_ALLOWANCE_MS = 5000;
/** Rejoins at once after this many "join again" answers in a row; with a backoff after that. */
const IMMEDIATE_REJOINS = 3;
/** LeaveGroup on close is a courtesy: if the broker does not answer soon, the session timeout does the job. */
const LEAVE_TIMEOUT_MS = 5000;

export class GroupMembership {
  readonly #calls: GroupCalls;
  readonly #config: ConsumerConfig<unknown, unknown>;
  readonly #events: ConsumerEventEmitter;
  readonly #hooks: MembershipHooks;
  #memberId = '';
  #generationId = -1;
  #needsRejoin = true;
  #heartbeatTimer: NodeJS.Timeout | null = null;
  /** From a completed sync until the next join, a lost membership or leave(); on through REBALANCE_IN_PROGRESS. */
  #areHeartbeatsOn = false;
  #isHeartbeating = false;
  #isStopped = false;

  constructor(calls: GroupCalls, config: ConsumerConfig<unknown, unknown>, events: ConsumerEventEmitter, hooks: MembershipHooks) {
    this.#calls = calls;
    this.#config = config;
    this.#events = events;
    this.#hooks = hooks;
  }

  get memberId(): string {
    return this.#memberId;
  }

  get generationId(): number {
    return this.#generationId;
  }

  /** True from a rebalance (or a lost membership) until the next join and sync complete. */
  get needsRejoin(): boolean {
    return this.#needsRejoin;
  }

  /**
   * Joins and syncs until this member has a generation and its partitions. Heartbeats stop while
   * it joins (a parked join keeps the member alive) and start again once it is synced.
   * @throws the broker's error for what a rejoin cannot fix; the signal's reason when aborted
   */
  async join(topics: ReadonlyArray<string>, signal: AbortSignal): Promise<Generation> {
    this.#stopHeartbeats();
    const timeoutMs = this.#config.rebalanceTimeoutMs + JOIN_ALLOWANCE_MS;
    // Answers that say "join again" are followed at once, but not forever at full speed.
    for (let failures = 0, rejoins = 0; ;) {
      signal.throwIfAborted();
      if (rejoins > IMMEDIATE_REJOINS) await sleep(backoffMs(rejoins - IMMEDIATE_REJOINS, this.#config.retry), undefined, { signal }).catch(() => undefined);
      signal.throwIfAborted();
      try {
        const joined = await this.#calls.join({
          memberId: this.#memberId,
          sessionTimeoutMs: this.#config.sessionTimeoutMs,
          rebalanceTimeoutMs: this.#config.rebalanceTimeoutMs,
          topics,
          assignors: this.#config.assignors,
          timeoutMs,
          signal,
        });
        this.#memberId = joined.memberId;
        this.#generationId = joined.generationId;
        const isLeader = joined.leaderId === joined.memberId;
        const assignment = await this.#calls.sync({
          memberId: joined.memberId, generationId: joined.generationId, serverAssignor: isLeader ? joined.protocolName : null, timeoutMs, signal,
        });
        this.#needsRejoin = false;
        this.#startHeartbeats();
        return { memberId: joined.memberId, generationId: joined.generationId, leaderId: joined.leaderId, isLeader, protocolName: joined.protocolName, assignment };
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        const code = error instanceof BrokerError ? error.code : null;
        if (code === 'MEMBER_ID_REQUIRED' || code === 'UNKNOWN_MEMBER_ID' || code === 'ILLEGAL_GENERATION' || code === 'REBALANCE_IN_PROGRESS') {
          rejoins++;
          if (code === 'MEMBER_ID_REQUIRED') this.#memberId = String((error as BrokerError).details.memberId ?? '');
          if (code === 'UNKNOWN_MEMBER_ID') this.#forgetMember();
          continue;
        }
        if (!isRetriable(error) || failures >= this.#config.retry.retries) throw error;
        failures++;
        await sleep(backoffMs(failures, this.#config.retry), undefined, { signal }).catch(() => undefined);
      }
    }
  }

  /** Marks the membership as needing a rejoin (a heartbeat or a commit said so). */
  requestRejoin(reason: 'rebalance' | 'illegal-generation' | 'unknown-member'): void {
    if (reason === 'unknown-member') {
      this.#forgetMember();
      this.#stopHeartbeats();
    } else if (reason === 'illegal-generation') {
      this.#stopHeartbeats();
    }
    if (this.#needsRejoin) return;
    this.#needsRejoin = true;
    this.#hooks.onRejoinNeeded();
  }

  /** A heartbeat now, beside the timer's (KafkaJS's heartbeat() in a handler); never throws. */
  async heartbeatNow(): Promise<void> {
    if (this.#generationId < 0 || this.#isStopped) return;
    await this.#heartbeat();
  }

  /** Stops heartbeats and leaves the group, so its partitions move at once; best effort. */
  async leave(): Promise<void> {
    this.#isStopped = true;
    this.#stopHeartbeats();
    if (this.#memberId === '') return;
    const memberId = this.#memberId;
    this.#forgetMember();
    try {
      await this.#calls.leave(memberId, Math.min(this.#config.requestTimeoutMs, LEAVE_TIMEOUT_MS));
    } catch {
      // Gone already (UNKNOWN_MEMBER_ID), or the broker is away: the session timeout removes the member.
    }
  }

  /** Stops heartbeats without leaving (the membership ends with the session timeout). */
  stop(): void {
    this.#isStopped = true;
    this.#stopHeartbeats();
  }

  #forgetMember(): void {
    this.#memberId = '';
    this.#generationId = -1;
  }

  #startHeartbeats(): void {
    this.#stopHeartbeats();
    if (this.#isStopped) return;
    this.#areHeartbeatsOn = true;
    this.#heartbeatTimer = setTimeout(() => void this.#tick(), this.#config.heartbeatIntervalMs);
  }

  #stopHeartbeats(): void {
    this.#areHeartbeatsOn = false;
    if (this.#heartbeatTimer !== null) clearTimeout(this.#heartbeatTimer);
    this.#heartbeatTimer = null;
  }

  async #tick(): Promise<void> {
    this.#heartbeatTimer = null;
    const runningMs = this.#hooks.handlerRunningMs();
    if (runningMs > this.#config.rebalanceTimeoutMs) {
      // Java's max.poll.interval.ms: a handler this slow gives its partitions up rather than hold them.
      const memberId = this.#memberId;
      this.requestRejoin('unknown-member');
      await this.#calls.leave(memberId, Math.min(this.#config.requestTimeoutMs, LEAVE_TIMEOUT_MS)).catch(() => undefined);
      return;
    }
    await this.#heartbeat();
    // A join, a lost membership or a stop while the heartbeat was out turned heartbeats off.
    if (this.#areHeartbeatsOn && this.#heartbeatTimer === null) {
      this.#heartbeatTimer = setTimeout(() => void this.#tick(), this.#config.heartbeatIntervalMs);
    }
  }

  async #heartbeat(): Promise<void> {
    if (this.#isHeartbeating) return;
    this.#isHeartbeating = true;
    const { memberId, generationId } = { memberId: this.#memberId, generationId: this.#generationId };
    try {
      await this.#calls.heartbeat(memberId, generationId, Math.min(this.#config.requestTimeoutMs, this.#config.sessionTimeoutMs));
      this.#events.emit('consumer.heartbeat', { groupId: this.#config.groupId, memberId, groupGenerationId: generationId });
    } catch (error) {
      // An answer about a membership that has changed since the heartbeat left says nothing now.
      if (memberId !== this.#memberId || generationId !== this.#generationId) return;
      const code = error instanceof MiniKafkaClientError ? error.code : null;
      if (code === 'REBALANCE_IN_PROGRESS') this.requestRejoin('rebalance');
      else if (code === 'UNKNOWN_MEMBER_ID') this.requestRejoin('unknown-member');
      else if (code === 'ILLEGAL_GENERATION') this.requestRejoin('illegal-generation');
      // Anything else is a missed heartbeat: the next one is at the next interval.
    } finally {
      this.#isHeartbeating = false;
    }
  }
}
