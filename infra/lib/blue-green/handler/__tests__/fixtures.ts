import type { CreateDeploymentGroupCommandInput } from '@aws-sdk/client-codedeploy';
import type {
  CloudFormationCustomResourceCreateEvent,
  CloudFormationCustomResourceDeleteEvent,
  CloudFormationCustomResourceUpdateEvent,
} from 'aws-lambda';

import { parseProperties, type FleetProperties } from '../properties';

export const APP = 'conveyor';
export const DG = 'conveyor-prod';
export const FLEET = 'conveyor-prod-fleet';
export const TAG_KEY = 'conveyor:fleet';
export const PHYSICAL_ID = `${APP}:${DG}`;
export const ROLE_ARN = 'arn:aws:iam::123456789012:role/conveyor-prod-codedeploy';
export const LT_ID = 'lt-0abc123def4567890';
export const TG_ARN = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/conveyor-prod/0123456789abcdef';
export const TG_NAME = 'conveyor-prod';
export const COPY = `CodeDeploy_${DG}_d-ABC123XYZ`;
export const SERVICE_TOKEN = 'arn:aws:lambda:eu-west-1:123456789012:function:provider-framework-onEvent';

/** ResourceProperties as CloudFormation sends them: every scalar a string. */
export function rawProperties(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ServiceToken: SERVICE_TOKEN,
    ApplicationName: APP,
    DeploymentGroupName: DG,
    ServiceRoleArn: ROLE_ARN,
    FleetName: FLEET,
    FleetTagKey: TAG_KEY,
    LaunchTemplateId: LT_ID,
    LaunchTemplateVersion: '3',
    MinSize: '2',
    DesiredCapacity: '2',
    MaxSize: '4',
    SubnetIds: ['subnet-0aaa1111', 'subnet-0bbb2222'],
    TargetGroupArn: TG_ARN,
    TargetGroupName: TG_NAME,
    AlarmNames: ['conveyor-prod-5xx', 'conveyor-prod-unhealthy-hosts'],
    TerminationWaitMinutes: '5',
    HealthCheckGracePeriodSeconds: '300',
    ...overrides,
  };
}

/** The parsed form of rawProperties(overrides). */
export function properties(overrides: Record<string, unknown> = {}): FleetProperties {
  return parseProperties(rawProperties(overrides));
}

const common = {
  ServiceToken: SERVICE_TOKEN,
  ResponseURL: 'https://cloudformation-custom-resource-response.example/response',
  StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/conveyor-prod/00000000-0000-0000-0000-000000000000',
  RequestId: 'request-1',
  LogicalResourceId: 'FleetBlueGreen',
  ResourceType: 'Custom::BlueGreenFleet',
};

export function createEvent(overrides: Record<string, unknown> = {}): CloudFormationCustomResourceCreateEvent {
  return { ...common, RequestType: 'Create', ResourceProperties: { ServiceToken: SERVICE_TOKEN, ...rawProperties(overrides) } };
}

export function updateEvent(
  overrides: Record<string, unknown> = {},
  oldOverrides: Record<string, unknown> = {},
  physicalId = PHYSICAL_ID,
): CloudFormationCustomResourceUpdateEvent {
  return {
    ...common,
    RequestType: 'Update',
    PhysicalResourceId: physicalId,
    ResourceProperties: { ServiceToken: SERVICE_TOKEN, ...rawProperties(overrides) },
    OldResourceProperties: { ServiceToken: SERVICE_TOKEN, ...rawProperties(oldOverrides) },
  };
}

export function deleteEvent(overrides: Record<string, unknown> = {}, physicalId = PHYSICAL_ID): CloudFormationCustomResourceDeleteEvent {
  return {
    ...common,
    RequestType: 'Delete',
    PhysicalResourceId: physicalId,
    ResourceProperties: { ServiceToken: SERVICE_TOKEN, ...rawProperties(overrides) },
  };
}

/** Awaits a promise that must reject, and returns what it rejected with. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`expected an Error, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected the promise to reject');
}

/** Runs a function that must throw synchronously, and returns what it threw. */
export function thrownBy(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`expected an Error, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected the function to throw');
}

/** The deployment group every test expects unless it says otherwise. */
export function expectedDeploymentGroup(autoScalingGroups: string[] = [FLEET]): CreateDeploymentGroupCommandInput {
  return {
    applicationName: APP,
    deploymentGroupName: DG,
    serviceRoleArn: ROLE_ARN,
    deploymentConfigName: 'CodeDeployDefault.AllAtOnce',
    autoScalingGroups,
    deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
    blueGreenDeploymentConfiguration: {
      greenFleetProvisioningOption: { action: 'COPY_AUTO_SCALING_GROUP' },
      deploymentReadyOption: { actionOnTimeout: 'CONTINUE_DEPLOYMENT' },
      terminateBlueInstancesOnDeploymentSuccess: { action: 'TERMINATE', terminationWaitTimeInMinutes: 5 },
    },
    loadBalancerInfo: { targetGroupInfoList: [{ name: TG_NAME }] },
    alarmConfiguration: {
      enabled: true,
      ignorePollAlarmFailure: false,
      alarms: [{ name: 'conveyor-prod-5xx' }, { name: 'conveyor-prod-unhealthy-hosts' }],
    },
    autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM'] },
    outdatedInstancesStrategy: 'UPDATE',
  };
}
