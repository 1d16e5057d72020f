// The grant lifecycle as callers see it (API, CLI, web UI): request → policy → approve/deny → active → ended.
import type { AuditLog } from '../audit/events.js';
import type { Config } from '../config/schema.js';
import type { Store } from '../store/store.js';
import { badRequest, conflict, forbidden, notFound, unavailable } from './errors.js';
import type { Grant, GrantState } from './grant.js';
import type { GrantLifecycle } from './grant-lifecycle.js';
import { isAdmin, isAuditor, type Identity } from './identity.js';
import { isGrantId, newGrantId } from './ids.js';
import { canDecide, evaluateGrantRequest, type GrantRequestInput, type TtlClamp } from './policy.js';
import { generateToken, makeTokenVerifiers } from './tokens.js';

/** Reasons are shown to approvers and kept in the audit trail; long enough for a ticket link and a sentence. */
const MAX_REASON_LENGTH = 1_000;

export interface IssuedGrant {
  readonly grant: Grant;
  /** The grant's secret, returned exactly once: only verifiers are stored. */
  readonly token: string;
  /** The ttl asked for, and what cut it short (null when granted as asked): the requester is told. */
  readonly requestedTtlSeconds: number;
  readonly ttlClamped: TtlClamp | null;
}

export interface GrantServiceOptions {
  readonly config: Config;
  readonly store: Store;
  readonly audit: AuditLog;
  readonly lifecycle: GrantLifecycle;
  readonly now?: () => Date;
}

export class GrantService {
  private readonly now: () => Date;

  constructor(private readonly options: GrantServiceOptions) {
    this.now = options.now ?? (() => new Date());
  }

  async request(requester: Identity, input: GrantRequestInput): Promise<IssuedGrant> {
    this.requireAudit();
    if (input.reason.length > MAX_REASON_LENGTH) throw badRequest(`reason must be at most ${MAX_REASON_LENGTH} characters`);
    const decision = evaluateGrantRequest(this.options.config, requester, input);
    if (decision instanceof Error) throw decision;

    const token = generateToken();
    const now = this.now();
    const autoApproved = decision.approvalsRequired === 0;
    const grant: Grant = {
      id: newGrantId(),
      resource: decision.resource.name,
      role: input.role,
      requester: requester.name,
      reason: input.reason,
      policy: decision.policy.name,
      state: autoApproved ? 'approved' : 'pending',
      endReason: null,
      ttlSeconds: decision.ttlSeconds,
      approvalsRequired: decision.approvalsRequired,
      approverGroups: decision.approverGroups,
      createdAt: now,
      approvedAt: autoApproved ? now : null,
      activatedAt: null,
      expiresAt: new Date(now.getTime() + (autoApproved ? decision.ttlSeconds : this.options.config.grants.pending_timeout) * 1000),
      endedAt: null,
      verifiers: await makeTokenVerifiers(token),
      decisions: [],
      version: 1,
    };
    await this.options.store.insertGrant(grant);
    await this.options.audit.emit({
      type: 'grant.requested', grant: grant.id, actor: requester.name, resource: grant.resource, role: grant.role,
      reason: grant.reason, ttlSeconds: grant.ttlSeconds, policy: grant.policy, state: grant.state,
    });
    if (autoApproved) {
      await this.options.audit.emit({
        type: 'grant.approved', grant: grant.id, actor: `policy:${grant.policy}`, comment: 'auto-approved',
        approvals: 0, required: 0, expiresAt: grant.expiresAt.toISOString(),
      });
    }
    this.options.lifecycle.reschedule();
    return { grant, token, requestedTtlSeconds: decision.requestedTtlSeconds, ttlClamped: decision.ttlClamped };
  }

  async approve(approver: Identity, id: string, comment: string): Promise<Grant> {
    this.requireAudit();
    const grant = await this.decidable(approver, id);
    if (grant.decisions.some((decision) => decision.actor === approver.name && decision.decision === 'approve')) {
      throw conflict(`${approver.name} has already approved ${grant.id}`);
    }
    const now = this.now();
    const approvals = grant.decisions.filter((decision) => decision.decision === 'approve').length + 1;
    const complete = approvals >= grant.approvalsRequired;
    const expiresAt = complete ? new Date(now.getTime() + grant.ttlSeconds * 1000) : grant.expiresAt;
    // The compare-and-set comes before the decision row: of two approvers racing, one wins and the other retries
    // against the new count, so a 2-of-n grant can never be left with two approvals and still pending.
    const updated = await this.options.store.updateGrant(grant.id, grant.version,
      complete ? { state: 'approved', approvedAt: now, expiresAt } : {});
    if (!updated) throw conflict(`${grant.id} changed while being approved; try again`);
    const decision = { actor: approver.name, decision: 'approve', comment, at: now } as const;
    await this.options.store.addDecision(grant.id, decision);
    await this.options.audit.emit({
      type: 'grant.approved', grant: grant.id, actor: approver.name, comment, approvals, required: grant.approvalsRequired,
      ...(complete ? { expiresAt: expiresAt.toISOString() } : {}),
    });
    if (complete) this.options.lifecycle.reschedule();
    return { ...updated, decisions: [...updated.decisions, decision] };
  }

  async deny(approver: Identity, id: string, comment: string): Promise<Grant> {
    const grant = await this.decidable(approver, id);
    const now = this.now();
    const updated = await this.options.store.updateGrant(grant.id, grant.version, { state: 'denied', endedAt: now });
    if (!updated) throw conflict(`${grant.id} changed while being denied; try again`);
    const decision = { actor: approver.name, decision: 'deny', comment, at: now } as const;
    await this.options.store.addDecision(grant.id, decision);
    await this.options.audit.emit({ type: 'grant.denied', grant: grant.id, actor: approver.name, comment });
    this.options.lifecycle.reschedule();
    return { ...updated, decisions: [...updated.decisions, decision] };
  }

  /** The requester may end their own grant (a pending one is then `cancelled`); admins may end any. */
  async revoke(caller: Identity, id: string): Promise<Grant> {
    const grant = await this.get(caller, id);
    const own = grant.requester === caller.name;
    if (!own && !isAdmin(caller)) throw forbidden(`only the requester or an admin may revoke ${grant.id}`);
    if (grant.state === 'ended' || grant.state === 'denied') throw conflict(`${grant.id} is already ${grant.state}`);
    const reason = own && grant.state === 'pending' ? 'cancelled' : 'revoked';
    const ended = await this.options.lifecycle.end(grant, reason, caller.name);
    if (!ended) throw conflict(`${grant.id} changed while being revoked; try again`);
    return ended;
  }

  /**
   * Marks an approved grant active at its first session; idempotent for an active one. `read` is the grant as the
   * login just read it: one already active stays active (no state leads back to approved), so only an approved one
   * costs a re-read and the update.
   */
  async activate(read: Grant): Promise<Grant | undefined> {
    if (read.state === 'active') return read;
    const grant = await this.options.store.getGrant(read.id);
    if (!grant || grant.state !== 'approved') return grant;
    return (await this.options.store.updateGrant(grant.id, grant.version, { state: 'active', activatedAt: this.now() }))
      ?? this.options.store.getGrant(grant.id);
  }

  async get(caller: Identity, id: string): Promise<Grant> {
    const grant = isGrantId(id) ? await this.options.store.getGrant(id) : undefined;
    // Grants the caller may not see are reported as missing, so ids cannot be probed.
    if (!grant || !this.canSee(caller, grant)) throw notFound(`no grant ${id}`);
    return grant;
  }

  async list(caller: Identity, state?: GrantState): Promise<Grant[]> {
    const all = await this.options.store.listGrants(state === undefined ? {} : { state });
    return all.filter((grant) => this.canSee(caller, grant));
  }

  /** Under `audit.on_failure: block`, nothing that creates access happens while the trail cannot record it. */
  private requireAudit(): void {
    if (!this.options.audit.accepting()) throw unavailable('the audit trail is not accepting events; try again shortly');
  }

  private canSee(caller: Identity, grant: Grant): boolean {
    return grant.requester === caller.name || isAuditor(caller) || canDecide(caller, grant.approverGroups);
  }

  private async decidable(approver: Identity, id: string): Promise<Grant> {
    const grant = await this.get(approver, id);
    // State first: an ended or decided grant has nothing left to approve, whoever asks.
    if (grant.state !== 'pending') throw conflict(`${grant.id} is ${grant.state}, not pending`);
    if (grant.requester === approver.name) throw forbidden(`${approver.name} may not approve or deny their own grant`);
    if (!canDecide(approver, grant.approverGroups)) throw forbidden(`${approver.name} is not an approver for ${grant.id}`);
    return grant;
  }
}
