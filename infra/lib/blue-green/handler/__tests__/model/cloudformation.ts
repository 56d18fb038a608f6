import type { CloudFormationCustomResourceEvent } from 'aws-lambda';

import type { FleetHandler } from '../../handler';

/**
 * CloudFormation and the CDK Provider framework around one stack of fleet
 * resources, as far as the handler can tell them apart:
 *
 * - the framework calls onEvent, then isComplete until it says complete (here
 *   every poll lets the model's time pass); a failure of either fails the event;
 * - a Create that fails before returning a physical id is answered with the
 *   framework's CREATE_FAILED marker, and the Delete CloudFormation then sends
 *   for it is answered by the framework without calling the handler
 *   (aws-cdk-lib/custom-resources, runtime/cfn-response.js safeHandler);
 * - a stack update creates and updates first; if anything fails it rolls back
 *   (Update with the old properties, Delete of what it created, in reverse
 *   order); if all succeed, it deletes the resources that left the template
 *   (cleanup, whose failures do not roll back);
 * - a logical id change is a Create of the new id plus the Delete of the old
 *   one in cleanup;
 * - a failed first deployment leaves ROLLBACK_COMPLETE, which `cdk deploy`
 *   deletes before it creates the stack again;
 * - `retryEvents` delivers every event a second time (the first answer
 *   counts), as an at-least-once delivery may: after a success always, after a
 *   failure for Update and Delete. A Create delivered again after a failed
 *   first delivery would make a fleet CloudFormation counts as failed; the
 *   handler cannot tell that delivery from a first one (see the README).
 */

export const STACK_ID = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/fleet-stack/6c9a1e40-0f5a-11ef-9a3b-0a1b2c3d4e5f';
export const CREATE_FAILED_MARKER = 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED';
const SERVICE_TOKEN = 'arn:aws:lambda:eu-west-1:123456789012:function:provider-framework-onEvent';
const MAX_POLLS = 20;

export type Props = Record<string, unknown>;

export interface Deployed {
  readonly physicalId: string;
  readonly props: Props;
}

export type StackStatus =
  | 'NONE'
  | 'CREATE_COMPLETE'
  | 'UPDATE_COMPLETE'
  | 'UPDATE_ROLLBACK_COMPLETE'
  | 'UPDATE_ROLLBACK_FAILED'
  | 'ROLLBACK_COMPLETE'
  | 'ROLLBACK_FAILED'
  | 'DELETE_COMPLETE'
  | 'DELETE_FAILED';

export interface EventRecord {
  readonly requestType: 'Create' | 'Update' | 'Delete';
  readonly logicalId: string;
  /** Whether the handler was called at all (not for the Delete of a failed Create). */
  readonly handled: boolean;
  readonly ok: boolean;
  readonly reason?: string;
}

export interface DeployOptions {
  /** Another resource of the stack fails after the fleet's events succeeded, so the update rolls back. */
  readonly failAfter?: boolean;
}

export class CloudFormationStack {
  status: StackStatus = 'NONE';
  /** The resources as CloudFormation records them after the last operation. */
  resources = new Map<string, Deployed>();
  readonly events: EventRecord[] = [];
  private requestCounter = 0;

  constructor(
    private readonly handler: FleetHandler,
    private readonly between: () => void = () => undefined,
    private readonly options: { retryEvents?: boolean; stackId?: string } = {},
  ) {}

  get stackId(): string {
    return this.options.stackId ?? STACK_ID;
  }

  /** Deploys a template holding these fleet resources (logical id → properties). */
  async deploy(template: Record<string, Props>, options: DeployOptions = {}): Promise<StackStatus> {
    if (this.status === 'ROLLBACK_COMPLETE' || this.status === 'ROLLBACK_FAILED') {
      // cdk deploy deletes a stack that never got created before creating it again.
      if ((await this.destroy()) === 'DELETE_FAILED') return this.status;
    }
    const creating = this.status === 'NONE' || this.status === 'DELETE_COMPLETE';
    if (this.status === 'UPDATE_ROLLBACK_FAILED' || this.status === 'DELETE_FAILED') return this.status;

    const before = new Map(this.resources);
    const done: { logicalId: string; kind: 'create' | 'update'; old?: Deployed }[] = [];
    let failed = false;
    for (const [logicalId, props] of Object.entries(template)) {
      const existing = this.resources.get(logicalId);
      if (existing && sameProps(existing.props, props)) continue;
      if (existing) {
        const outcome = await this.send(this.updateEvent(logicalId, existing, props));
        done.push({ logicalId, kind: 'update', old: existing });
        if (!outcome.ok) {
          failed = true;
          break;
        }
        this.resources.set(logicalId, { physicalId: outcome.physicalId, props });
      } else {
        const outcome = await this.send(this.createEvent(logicalId, props));
        // A failed Create is still recorded, with the marker id, so rollback sends its Delete.
        this.resources.set(logicalId, { physicalId: outcome.physicalId, props });
        done.push({ logicalId, kind: 'create' });
        if (!outcome.ok) {
          failed = true;
          break;
        }
      }
    }
    if (!failed && options.failAfter) failed = true;

    if (failed) {
      let rollbackOk = true;
      for (const step of [...done].reverse()) {
        if (step.kind === 'update' && step.old) {
          const current = this.resources.get(step.logicalId)!;
          const outcome = await this.send(this.updateEvent(step.logicalId, { ...step.old, physicalId: current.physicalId }, step.old.props));
          if (!outcome.ok) rollbackOk = false;
          else this.resources.set(step.logicalId, step.old);
        } else {
          const current = this.resources.get(step.logicalId)!;
          const outcome = await this.send(this.deleteEvent(step.logicalId, current));
          if (!outcome.ok) rollbackOk = false;
          else this.resources.delete(step.logicalId);
        }
      }
      if (creating) this.status = rollbackOk ? 'ROLLBACK_COMPLETE' : 'ROLLBACK_FAILED';
      else this.status = rollbackOk ? 'UPDATE_ROLLBACK_COMPLETE' : 'UPDATE_ROLLBACK_FAILED';
      if (rollbackOk && !creating) this.resources = before;
      return this.status;
    }

    // Cleanup: what left the template is deleted after the update succeeded; a failure here does not roll back.
    for (const [logicalId, deployed] of [...this.resources]) {
      if (logicalId in template) continue;
      await this.send(this.deleteEvent(logicalId, deployed));
      this.resources.delete(logicalId);
    }
    this.status = creating ? 'CREATE_COMPLETE' : 'UPDATE_COMPLETE';
    return this.status;
  }

  /** Deletes the stack: every resource, in reverse order of creation. */
  async destroy(): Promise<StackStatus> {
    if (this.status === 'NONE' || this.status === 'DELETE_COMPLETE') return this.status;
    let ok = true;
    for (const [logicalId, deployed] of [...this.resources].reverse()) {
      const outcome = await this.send(this.deleteEvent(logicalId, deployed));
      if (outcome.ok) this.resources.delete(logicalId);
      else ok = false;
    }
    this.status = ok ? 'DELETE_COMPLETE' : 'DELETE_FAILED';
    if (ok) this.resources.clear();
    return this.status;
  }

  /** Reasons of every failed event so far. */
  failureReasons(): string[] {
    return this.events.flatMap((event) => (event.ok || event.reason === undefined ? [] : [event.reason]));
  }

  // --- events ------------------------------------------------------------------

  private common(logicalId: string) {
    this.requestCounter += 1;
    return {
      ServiceToken: SERVICE_TOKEN,
      ResponseURL: 'https://cloudformation-custom-resource-response.example/response',
      StackId: this.stackId,
      RequestId: `request-${this.requestCounter}`,
      LogicalResourceId: logicalId,
      ResourceType: 'Custom::BlueGreenFleet',
    };
  }

  createEvent(logicalId: string, props: Props): CloudFormationCustomResourceEvent {
    return { ...this.common(logicalId), RequestType: 'Create', ResourceProperties: { ServiceToken: SERVICE_TOKEN, ...props } };
  }

  updateEvent(logicalId: string, existing: Deployed, props: Props): CloudFormationCustomResourceEvent {
    return {
      ...this.common(logicalId),
      RequestType: 'Update',
      PhysicalResourceId: existing.physicalId,
      ResourceProperties: { ServiceToken: SERVICE_TOKEN, ...props },
      OldResourceProperties: { ServiceToken: SERVICE_TOKEN, ...existing.props },
    };
  }

  deleteEvent(logicalId: string, existing: Deployed): CloudFormationCustomResourceEvent {
    return {
      ...this.common(logicalId),
      RequestType: 'Delete',
      PhysicalResourceId: existing.physicalId,
      ResourceProperties: { ServiceToken: SERVICE_TOKEN, ...existing.props },
    };
  }

  /** One event through the Provider framework: onEvent, then isComplete until done. */
  async send(event: CloudFormationCustomResourceEvent): Promise<{ ok: boolean; physicalId: string; reason?: string }> {
    const first = await this.frameworkOnce(event);
    if (this.options.retryEvents && (first.ok || event.RequestType !== 'Create')) await this.frameworkOnce(event);
    this.events.push({
      requestType: event.RequestType,
      logicalId: event.LogicalResourceId,
      handled: !(event.RequestType === 'Delete' && event.PhysicalResourceId === CREATE_FAILED_MARKER),
      ok: first.ok,
      ...(first.reason === undefined ? {} : { reason: first.reason }),
    });
    this.between();
    return first;
  }

  private async frameworkOnce(event: CloudFormationCustomResourceEvent): Promise<{ ok: boolean; physicalId: string; reason?: string }> {
    const currentId = event.RequestType === 'Create' ? undefined : event.PhysicalResourceId;
    if (event.RequestType === 'Delete' && currentId === CREATE_FAILED_MARKER) {
      return { ok: true, physicalId: CREATE_FAILED_MARKER };
    }
    let physicalId: string;
    let data: Record<string, string> | undefined;
    try {
      const result = await this.handler.onEvent(event);
      physicalId = result.PhysicalResourceId || currentId || event.RequestId;
      data = { ...result.Data };
      if (event.RequestType === 'Delete' && physicalId !== currentId) {
        throw new Error(`DELETE: cannot change the physical resource ID from "${String(currentId)}" to "${physicalId}" during deletion`);
      }
    } catch (error) {
      return { ok: false, physicalId: currentId ?? CREATE_FAILED_MARKER, reason: reasonOf(error) };
    }
    try {
      for (let poll = 0; poll < MAX_POLLS; poll += 1) {
        const { IsComplete } = await this.handler.isComplete({ ...event, PhysicalResourceId: physicalId, Data: data });
        if (IsComplete) return { ok: true, physicalId };
        this.between();
      }
      return { ok: false, physicalId, reason: 'Operation timed out' };
    } catch (error) {
      // A failed isComplete fails the event; after a Create the id was already returned by onEvent,
      // but the framework reports FAILED with the id it has, so CloudFormation will send a Delete for it.
      return { ok: false, physicalId, reason: reasonOf(error) };
    }
  }
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

function sameProps(a: Props, b: Props): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
