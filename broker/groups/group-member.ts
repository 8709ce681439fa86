/**
 * One member of a group, as the coordinator knows it: who it is, its timeouts, the assignors it
 * offers with its subscription for each, its assignment, and the JoinGroup or SyncGroup call it
 * has parked while a rebalance is under way.
 *
 * A member is "new" from its first JoinGroup until that rebalance completes; until then it has no
 * generation to heartbeat with, so its liveness is bounded by the new-member join timeout instead
 * of the session timeout.
 */

import assert from 'node:assert';
import type { Deferred } from './deferred.ts';
import type { MemberIdentity } from './group-snapshot.ts';
import type { GroupProtocol, JoinGroupResult, SyncGroupResult } from './group-requests.ts';

export interface GroupMemberInit extends MemberIdentity {
  readonly protocolType: string;
  readonly protocols: readonly GroupProtocol[];
  readonly assignment?: Buffer;
}

export class GroupMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly protocolType: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  #protocols: readonly GroupProtocol[];
  /** Assignment bytes from the last completed sync (empty until then, and after a failed one). */
  assignment: Buffer;
  isNew = false;
  awaitingJoin: Deferred<JoinGroupResult> | null = null;
  awaitingSync: Deferred<SyncGroupResult> | null = null;

  constructor(init: GroupMemberInit) {
    assert(init.protocols.length > 0, `member ${init.memberId} offers no protocol`);
    this.memberId = init.memberId;
    this.groupInstanceId = init.groupInstanceId;
    this.clientId = init.clientId;
    this.clientHost = init.clientHost;
    this.protocolType = init.protocolType;
    this.rebalanceTimeoutMs = init.rebalanceTimeoutMs;
    this.sessionTimeoutMs = init.sessionTimeoutMs;
    this.#protocols = init.protocols;
    this.assignment = init.assignment ?? Buffer.alloc(0);
  }

  get protocols(): readonly GroupProtocol[] {
    return this.#protocols;
  }

  set protocols(protocols: readonly GroupProtocol[]) {
    assert(protocols.length > 0, `member ${this.memberId} offers no protocol`);
    this.#protocols = protocols;
  }

  get isAwaitingJoin(): boolean {
    return this.awaitingJoin !== null;
  }

  get isAwaitingSync(): boolean {
    return this.awaitingSync !== null;
  }

  /**
   * Whether the member counts as alive without a heartbeat: one that has (re)joined or synced in
   * this rebalance has shown it is there. A new member never does: it must complete its join.
   */
  get hasSatisfiedHeartbeat(): boolean {
    return !this.isNew && (this.isAwaitingJoin || this.isAwaitingSync);
  }

  supportsProtocol(name: string): boolean {
    return this.#protocols.some((protocol) => protocol.name === name);
  }

  /** The member's subscription bytes for a protocol it offers. */
  metadata(protocolName: string): Buffer {
    const protocol = this.#protocols.find((candidate) => candidate.name === protocolName);
    assert(protocol !== undefined, `member ${this.memberId} does not offer protocol ${protocolName}`);
    return protocol.metadata;
  }

  /** Same names, same bytes, same order: a rejoin with nothing new to say. */
  matches(protocols: readonly GroupProtocol[]): boolean {
    return protocols.length === this.#protocols.length && protocols.every((protocol, i) => protocol.name === this.#protocols[i].name && protocol.metadata.equals(this.#protocols[i].metadata));
  }

  /** The member's most preferred protocol among the candidates (its vote). */
  vote(candidates: ReadonlySet<string>): string {
    const choice = this.#protocols.find((protocol) => candidates.has(protocol.name));
    assert(choice !== undefined, `member ${this.memberId} supports none of the candidate protocols`);
    return choice.name;
  }
}
