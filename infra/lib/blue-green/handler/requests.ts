import type {
  CreateAutoScalingGroupCommandInput,
  PutNotificationConfigurationCommandInput,
  UpdateAutoScalingGroupCommandInput,
} from '@aws-sdk/client-auto-scaling';
import type { CreateDeploymentGroupCommandInput, UpdateDeploymentGroupCommandInput } from '@aws-sdk/client-codedeploy';

import { FleetError } from './errors';
import { inRange, LIMITS } from './limits';
import { OWNER_TAG_KEY } from './ownership';
import type { FleetProperties } from './properties';

/**
 * The requests the handler sends, built by pure functions so tests can check
 * them without AWS. Each is typed as the SDK's own input type, so a renamed or
 * retyped field fails the typecheck, not a deployment.
 */

/**
 * The deployment group: blue/green with traffic control, the green fleet a copy
 * of the Auto Scaling group the group targets now, blue instances terminated
 * after the configured wait, automatic rollback on failure and on alarm, and
 * instances launched mid-deployment brought up to date (outdatedInstancesStrategy UPDATE).
 *
 * @param autoScalingGroups the groups the deployment group targets: the fleet's
 *   first group on Create, whatever CodeDeploy left it targeting on Update.
 * @throws FleetError when the request breaks an API limit (see limits.ts).
 */
export function buildDeploymentGroupRequest(
  props: FleetProperties,
  autoScalingGroups: readonly string[] = [props.fleetName],
): CreateDeploymentGroupCommandInput {
  const request = {
    applicationName: props.applicationName,
    deploymentGroupName: props.deploymentGroupName,
    serviceRoleArn: props.serviceRoleArn,
    deploymentConfigName: props.deploymentConfigName,
    autoScalingGroups: [...autoScalingGroups],
    deploymentStyle: { deploymentType: 'BLUE_GREEN', deploymentOption: 'WITH_TRAFFIC_CONTROL' },
    blueGreenDeploymentConfiguration: {
      greenFleetProvisioningOption: { action: 'COPY_AUTO_SCALING_GROUP' },
      deploymentReadyOption:
        props.deploymentReadyWaitMinutes === undefined
          ? { actionOnTimeout: 'CONTINUE_DEPLOYMENT' }
          : { actionOnTimeout: 'STOP_DEPLOYMENT', waitTimeInMinutes: props.deploymentReadyWaitMinutes },
      terminateBlueInstancesOnDeploymentSuccess: {
        action: 'TERMINATE',
        terminationWaitTimeInMinutes: props.terminationWaitMinutes,
      },
    },
    loadBalancerInfo: { targetGroupInfoList: [{ name: props.targetGroupName }] },
    // Always sent, so an Update that removes the last alarm switches monitoring off.
    alarmConfiguration: {
      enabled: props.alarmNames.length > 0,
      ignorePollAlarmFailure: false,
      alarms: props.alarmNames.map((name) => ({ name })),
    },
    autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM'] },
    outdatedInstancesStrategy: 'UPDATE',
  } satisfies CreateDeploymentGroupCommandInput;

  const problems = deploymentGroupRequestProblems(request);
  if (problems.length > 0) {
    throw new FleetError(
      `The deployment group request for ${props.deploymentGroupName} breaks CodeDeploy's limits: ${problems.join('; ')}. ` +
        'Fix the value in the deploy config.',
    );
  }
  return request;
}

/**
 * The same settings as an UpdateDeploymentGroup request for an existing group.
 *
 * @param autoScalingGroups the groups to target from now on; undefined leaves
 *   out the field, which keeps the groups CodeDeploy has (during a blue/green
 *   deployment it lists the original and its copy, and COPY_AUTO_SCALING_GROUP
 *   accepts exactly one group in a request).
 */
export function buildUpdateDeploymentGroupRequest(
  props: FleetProperties,
  autoScalingGroups?: readonly string[],
): UpdateDeploymentGroupCommandInput {
  const { deploymentGroupName, autoScalingGroups: groups, ...settings } = buildDeploymentGroupRequest(props, autoScalingGroups ?? [props.fleetName]);
  return {
    ...settings,
    ...(autoScalingGroups === undefined ? {} : { autoScalingGroups: groups }),
    currentDeploymentGroupName: deploymentGroupName,
  } satisfies UpdateDeploymentGroupCommandInput;
}

/**
 * Checks a deployment group request against the limits CodeDeploy documents;
 * an empty list means the request is within them.
 */
export function deploymentGroupRequestProblems(
  request: CreateDeploymentGroupCommandInput | UpdateDeploymentGroupCommandInput,
): string[] {
  const problems: string[] = [];
  const config = request.blueGreenDeploymentConfiguration;

  const terminationWait = config?.terminateBlueInstancesOnDeploymentSuccess?.terminationWaitTimeInMinutes;
  if (terminationWait !== undefined && !inRange(terminationWait, LIMITS.terminationWaitMinutes)) {
    problems.push(
      `terminationWaitTimeInMinutes must be from ${LIMITS.terminationWaitMinutes.min} to ${LIMITS.terminationWaitMinutes.max} (got ${terminationWait})`,
    );
  }

  const ready = config?.deploymentReadyOption;
  if (ready?.waitTimeInMinutes !== undefined && !inRange(ready.waitTimeInMinutes, LIMITS.deploymentReadyWaitMinutes)) {
    problems.push(
      `waitTimeInMinutes must be from ${LIMITS.deploymentReadyWaitMinutes.min} to ${LIMITS.deploymentReadyWaitMinutes.max} (got ${ready.waitTimeInMinutes})`,
    );
  }
  if (ready?.actionOnTimeout === 'STOP_DEPLOYMENT' && ready.waitTimeInMinutes === undefined) {
    problems.push('STOP_DEPLOYMENT needs a waitTimeInMinutes');
  }

  const alarms = request.alarmConfiguration?.alarms ?? [];
  if (alarms.length > LIMITS.alarms) {
    problems.push(`at most ${LIMITS.alarms} alarms are allowed (got ${alarms.length})`);
  }
  const tooLong = alarms.filter((alarm) => (alarm.name ?? '').length > LIMITS.alarmNameLength);
  if (tooLong.length > 0) {
    problems.push(`alarm names must be at most ${LIMITS.alarmNameLength} characters`);
  }

  const asgCount = request.autoScalingGroups?.length ?? 0;
  if (config?.greenFleetProvisioningOption?.action === 'COPY_AUTO_SCALING_GROUP' && asgCount !== 1) {
    // CreateDeploymentGroup's own error: "Exactly one AutoScaling group must be specified
    // when selecting the COPY_AUTO_SCALING_GROUP green fleet provisioning option."
    problems.push(`COPY_AUTO_SCALING_GROUP needs exactly one Auto Scaling group (got ${asgCount})`);
  }

  const name = 'deploymentGroupName' in request ? request.deploymentGroupName : request.currentDeploymentGroupName;
  for (const [field, value] of [
    ['applicationName', request.applicationName],
    ['deploymentGroupName', name],
    ['deploymentConfigName', request.deploymentConfigName],
  ] as const) {
    if (value !== undefined && (value.length === 0 || value.length > LIMITS.codeDeployNameLength)) {
      problems.push(`${field} must be 1 to ${LIMITS.codeDeployNameLength} characters`);
    }
  }
  return problems;
}

/**
 * The fleet's first Auto Scaling group, tagged so every group of the fleet can
 * be found again, and, given an owner, with the owner tag (not propagated to
 * instances: it marks the group, see ownership.ts).
 */
export function buildCreateAutoScalingGroupRequest(props: FleetProperties, owner?: string): CreateAutoScalingGroupCommandInput {
  return {
    AutoScalingGroupName: props.fleetName,
    LaunchTemplate: { LaunchTemplateId: props.launchTemplateId, Version: props.launchTemplateVersion },
    MinSize: props.minSize,
    DesiredCapacity: props.desiredCapacity,
    MaxSize: props.maxSize,
    VPCZoneIdentifier: props.subnetIds.join(','),
    TargetGroupARNs: [props.targetGroupArn],
    HealthCheckType: props.healthCheckType,
    HealthCheckGracePeriod: props.healthCheckGracePeriodSeconds,
    Tags: [
      { Key: props.fleetTagKey, Value: props.fleetName, PropagateAtLaunch: true },
      ...(owner === undefined ? [] : [{ Key: OWNER_TAG_KEY, Value: owner, PropagateAtLaunch: false }]),
    ],
  } satisfies CreateAutoScalingGroupCommandInput;
}

/**
 * Capacity, launch template and placement for a group of the fleet. Existing
 * instances keep running; instances launched from now on (a scale-out, or the
 * green fleet CodeDeploy copies from this group) use the new template version.
 */
export function buildUpdateAutoScalingGroupRequest(
  props: FleetProperties,
  autoScalingGroupName: string,
): UpdateAutoScalingGroupCommandInput {
  return {
    AutoScalingGroupName: autoScalingGroupName,
    LaunchTemplate: { LaunchTemplateId: props.launchTemplateId, Version: props.launchTemplateVersion },
    MinSize: props.minSize,
    DesiredCapacity: props.desiredCapacity,
    MaxSize: props.maxSize,
    VPCZoneIdentifier: props.subnetIds.join(','),
    HealthCheckType: props.healthCheckType,
    HealthCheckGracePeriod: props.healthCheckGracePeriodSeconds,
  } satisfies UpdateAutoScalingGroupCommandInput;
}

/** The Auto Scaling events the in-place fleet also reports (CDK's ScalingEvents.ALL). */
export const NOTIFICATION_TYPES = [
  'autoscaling:EC2_INSTANCE_LAUNCH',
  'autoscaling:EC2_INSTANCE_LAUNCH_ERROR',
  'autoscaling:EC2_INSTANCE_TERMINATE',
  'autoscaling:EC2_INSTANCE_TERMINATE_ERROR',
] as const;

export function buildNotificationRequest(
  autoScalingGroupName: string,
  topicArn: string,
): PutNotificationConfigurationCommandInput {
  return {
    AutoScalingGroupName: autoScalingGroupName,
    TopicARN: topicArn,
    NotificationTypes: [...NOTIFICATION_TYPES],
  } satisfies PutNotificationConfigurationCommandInput;
}
