/**
 * Lambda entry points of the blue/green fleet custom resource (CDK Provider
 * framework): `onEvent` for every event, and optionally `isComplete`, which
 * holds a Delete until the fleet's Auto Scaling groups are gone.
 *
 * Bundled by NodejsFunction (esbuild, offline); the SDK clients are bundled in.
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';

import { createFleetHandler, type FleetHandler, type IsCompleteEvent, type IsCompleteResult } from './handler';
import type { FleetResult } from './lifecycle';
import { LOG_GROUP_ENV } from './log-group';

export { createFleetHandler, type FleetHandler, type IsCompleteEvent, type IsCompleteResult } from './handler';
export type { FleetDependencies } from './fleet-api';
export type { FleetResult } from './lifecycle';
export { buildDeploymentGroupRequest, buildUpdateDeploymentGroupRequest, deploymentGroupRequestProblems } from './requests';
export { parseProperties, type FleetProperties } from './properties';
export { ownerIdFor } from './ownership';

let handler: FleetHandler | undefined;


/** Clients are made on first use (region and credentials from the Lambda environment) and reused while the container lives. */
function defaultHandler(): FleetHandler {
  // eslint-disable-next-line no-restricted-properties -- the Lambda entry point reads the one setting its construct passes, once, like a main()
  const logGroupName = process.env[LOG_GROUP_ENV];
  handler ??= createFleetHandler({
    codeDeploy: new CodeDeployClient({}),
    autoScaling: new AutoScalingClient({}),
    ...(logGroupName ? { logGroupName } : {}),
  });
  return handler;
}

export async function onEvent(event: CloudFormationCustomResourceEvent): Promise<FleetResult> {
  return defaultHandler().onEvent(event);
}

export async function isComplete(event: IsCompleteEvent): Promise<IsCompleteResult> {
  return defaultHandler().isComplete(event);
}
