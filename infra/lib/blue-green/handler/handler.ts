import type { CloudFormationCustomResourceEvent } from 'aws-lambda';

import { describeError, FleetError } from './errors';
import { FleetApi, type FleetDependencies } from './fleet-api';
import { createFleet, deleteFleet, fleetGone, updateFleet, type FleetResult } from './lifecycle';
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
      // A FleetApi per event: each event gets the whole retry budget.
      const api = new FleetApi(deps);
      const physicalId = event.RequestType === 'Create' ? undefined : event.PhysicalResourceId;
      console.log(`${event.RequestType} ${JSON.stringify({ LogicalResourceId: event.LogicalResourceId, PhysicalResourceId: physicalId })}`);
      return reportFailures(logAdvice, async () => {
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
      const api = new FleetApi(deps);
      return reportFailures(logAdvice, async () => ({ IsComplete: await fleetGone(api, event.Data?.AutoScalingGroupNames) }));
    },
  };
}

/**
 * Logs a failure in full for CloudWatch (the AWS error's name, message and
 * request id) and rethrows it as a FleetError, whose message is what
 * CloudFormation shows in the stack events.
 */
async function reportFailures<T>(logAdvice: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const cause = rootCause(error);
    console.error(
      `FAILED ${JSON.stringify({
        message: describeError(error).message,
        cause: cause === error ? undefined : { ...describeError(cause), requestId: requestIdOf(cause) },
      })}`,
    );
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
