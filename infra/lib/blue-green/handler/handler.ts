import type { CloudFormationCustomResourceEvent } from 'aws-lambda';

import { describeError, FleetError } from './errors';
import { FleetApi, type FleetDependencies } from './fleet-api';
import { createFleet, deleteFleet, fleetGone, updateFleet, type FleetResult } from './lifecycle';
import { eventLog, type EventContext, type EventLog } from './log';
import { ownerIdFor } from './ownership';
import { parseIdentity, parseProperties } from './properties';

/** The Provider framework's isComplete request: the onEvent request plus what onEvent returned. */
export type IsCompleteEvent = CloudFormationCustomResourceEvent & {
  readonly PhysicalResourceId?: string;
  readonly Data?: Readonly<Record<string, string>>;
};

export interface IsCompleteResult {
  readonly IsComplete: boolean;
}

export interface FleetHandler {
  onEvent(event: CloudFormationCustomResourceEvent): Promise<FleetResult>;
  isComplete(event: IsCompleteEvent): Promise<IsCompleteResult>;
}

/**
 * The custom resource's handlers, with the AWS clients passed in so tests can
 * mock them. See README.md for the calls each event makes.
 */
export function createFleetHandler(deps: FleetDependencies): FleetHandler {
  const logAdvice =
    deps.logGroupName === undefined
      ? "See the handler's CloudWatch log for details."
      : `Details: CloudWatch log group ${deps.logGroupName}.`;

  return {
    async onEvent(event) {
      // A FleetApi per event: each event gets the whole retry budget, and its log the event's context.
      const log = eventLog(contextOf(event));
      const api = new FleetApi(deps, log);
      log.info({ action: event.RequestType });
      return reportFailures(log, logAdvice, async () => {
        switch (event.RequestType) {
          case 'Create':
            return createFleet(api, parseProperties(event.ResourceProperties), { owner: ownerIdFor(event), stackId: event.StackId });
          case 'Update':
            return updateFleet(api, parseProperties(event.ResourceProperties), event.OldResourceProperties, {
              owner: event.PhysicalResourceId,
              stackId: event.StackId,
            });
          case 'Delete':
            return deleteFleet(api, parseIdentity(event.ResourceProperties), { owner: event.PhysicalResourceId, stackId: event.StackId });
        }
      });
    },

    async isComplete(event) {
      if (event.RequestType !== 'Delete') return { IsComplete: true };
      const log = eventLog(contextOf(event));
      const api = new FleetApi(deps, log);
      return reportFailures(log, logAdvice, async () => ({ IsComplete: await fleetGone(api, event.Data?.AutoScalingGroupNames) }));
    },
  };
}

/**
 * What every log line of an event names: the request, the resource and, when
 * the properties name one, its deployment group. Read from the raw properties
 * so that a line is logged even for properties that fail validation.
 */
function contextOf(event: CloudFormationCustomResourceEvent): EventContext {
  const { ApplicationName: application, DeploymentGroupName: deploymentGroup } = event.ResourceProperties as Record<string, unknown>;
  return {
    requestType: event.RequestType,
    cloudFormationRequestId: event.RequestId,
    logicalResourceId: event.LogicalResourceId,
    physicalResourceId: event.RequestType === 'Create' ? undefined : event.PhysicalResourceId,
    deploymentGroup: typeof application === 'string' && typeof deploymentGroup === 'string' ? `${application}/${deploymentGroup}` : undefined,
  };
}

/**
 * Logs a failure in full for CloudWatch (the failure's message, and the AWS
 * error's name, message and request id under it) and rethrows it as a
 * FleetError, whose message is what CloudFormation shows in the stack events.
 */
async function reportFailures<T>(log: EventLog, logAdvice: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const cause = rootCause(error);
    log.error({
      action: 'Failed',
      error: describeError(error),
      cause: cause === error ? undefined : { ...describeError(cause), requestId: requestIdOf(cause) },
    });
    if (error instanceof FleetError) throw new FleetError(`${error.message} ${logAdvice}`, { cause: error.cause });
    const { name, message } = describeError(error);
    throw new FleetError(`Unexpected failure: ${name}: ${message} ${logAdvice}`, { cause: error });
  }
}

/** The AWS error under any FleetErrors wrapped around it. */
function rootCause(error: unknown): unknown {
  let current = error;
  while (current instanceof FleetError && current.cause !== undefined) current = current.cause;
  return current;
}

function requestIdOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('$metadata' in error)) return undefined;
  const metadata = (error as { $metadata?: { requestId?: string } }).$metadata;
  return metadata?.requestId;
}
