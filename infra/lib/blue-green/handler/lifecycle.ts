import type { AutoScalingGroup } from '@aws-sdk/client-auto-scaling';

import { describeError, FleetError } from './errors';
import { DELETE_IN_PROGRESS, type FleetApi } from './fleet-api';
import { physicalResourceId, rawString, type FleetIdentity, type FleetProperties } from './properties';
import {
  buildCreateAutoScalingGroupRequest,
  buildDeploymentGroupRequest,
  buildUpdateAutoScalingGroupRequest,
  buildUpdateDeploymentGroupRequest,
} from './requests';

/** What onEvent returns to the Provider framework (which forwards it to CloudFormation). */
export interface FleetResult {
  readonly PhysicalResourceId: string;
  readonly Data: {
    readonly DeploymentGroupName: string;
    /** Comma-joined: after a Create, the first group; after an Update, the groups the deployment group targets now. */
    readonly AutoScalingGroupNames: string;
  };
}

/**
 * True for the Auto Scaling groups CodeDeploy makes for a blue/green
 * deployment of this deployment group: it names them
 * CodeDeploy_<deployment group name>_<deployment id>, for example
 * CodeDeploy_alpha-deployments_d-ABCDEF123
 * (https://docs.aws.amazon.com/codedeploy/latest/userguide/integrations-aws-auto-scaling.html,
 * "How CodeDeploy names Amazon EC2 Auto Scaling groups").
 */
export function isCodeDeployCopy(autoScalingGroupName: string, deploymentGroupName: string): boolean {
  const prefix = `CodeDeploy_${deploymentGroupName}_`;
  return autoScalingGroupName.startsWith(prefix) && /^d-[A-Za-z0-9]+$/.test(autoScalingGroupName.slice(prefix.length));
}

function result(props: FleetIdentity, autoScalingGroups: readonly string[], id = physicalResourceId(props)): FleetResult {
  return {
    PhysicalResourceId: id,
    Data: { DeploymentGroupName: props.deploymentGroupName, AutoScalingGroupNames: autoScalingGroups.join(',') },
  };
}

function hasFleetTag(group: AutoScalingGroup, props: FleetIdentity): boolean {
  return (group.Tags ?? []).some((tag) => tag.Key === props.fleetTagKey && tag.Value === props.fleetName);
}

// --- Create ----------------------------------------------------------------

/**
 * Creates the fleet's first Auto Scaling group, then the blue/green deployment
 * group that copies it on every deployment. Safe to run again for the same
 * resource: a group left by an earlier attempt is taken over if it carries the
 * fleet tag, and an existing deployment group is updated instead of created.
 */
export async function createFleet(api: FleetApi, props: FleetProperties): Promise<FleetResult> {
  // Built before any call: a request that breaks an API limit fails with nothing created.
  const createGroupRequest = buildCreateAutoScalingGroupRequest(props);
  const createDeploymentGroupRequest = buildDeploymentGroupRequest(props);

  await ensureFirstAutoScalingGroup(api, props, createGroupRequest);

  let outcome: 'created' | 'exists';
  try {
    if (props.notificationTopicArn) await api.putNotification(props.fleetName, props.notificationTopicArn);
    outcome = await api.createDeploymentGroup(createDeploymentGroupRequest);
  } catch (error) {
    // No deployment group targets the group yet, and the Provider framework answers the
    // Delete that follows a failed Create without calling this handler
    // (CREATE_FAILED_PHYSICAL_ID_MARKER). Left here, the group and its instances would
    // run unowned, so this attempt removes it before reporting the failure.
    throw await cleanUpAfterFailedCreate(api, props.fleetName, error);
  }

  const targets = outcome === 'created' ? [props.fleetName] : await takeOverDeploymentGroup(api, props);
  return result(props, targets);
}

async function ensureFirstAutoScalingGroup(
  api: FleetApi,
  props: FleetProperties,
  request: ReturnType<typeof buildCreateAutoScalingGroupRequest>,
): Promise<void> {
  if ((await api.createAutoScalingGroup(request)) === 'created') return;

  const name = props.fleetName;
  const existing = await api.describeAutoScalingGroup(name);
  if (!existing) {
    throw new FleetError(
      `CreateAutoScalingGroup failed: ${name}: a group of that name exists but DescribeAutoScalingGroups does not return it, ` +
        'so it is probably being deleted. Wait a few minutes and retry the deployment.',
    );
  }
  if (!hasFleetTag(existing, props)) {
    throw new FleetError(
      `CreateAutoScalingGroup failed: ${name}: an Auto Scaling group of that name already exists and is not tagged ` +
        `${props.fleetTagKey}=${props.fleetName}, so it belongs to something else. Choose another FleetName, ` +
        'or delete that group if it is a leftover you no longer need.',
    );
  }
  if (existing.Status === DELETE_IN_PROGRESS) {
    throw new FleetError(
      `CreateAutoScalingGroup failed: ${name}: a group of this fleet with that name is still being deleted ` +
        '(left over from an earlier stack). Wait until it is gone (EC2 console, Auto Scaling groups) and retry the deployment.',
    );
  }
  const owner = (await api.groupsOfOtherDeploymentGroups(props.applicationName, props.deploymentGroupName)).get(name);
  if (owner) {
    throw new FleetError(
      `CreateAutoScalingGroup failed: ${name}: the group carries this fleet's tag but deployment group ${owner} of ` +
        `application ${props.applicationName} targets it, so two resources share FleetName ${name}. Give this fleet another FleetName.`,
    );
  }
  // Left by an earlier attempt of this Create: bring it to the settings asked for now.
  await api.updateAutoScalingGroup(buildUpdateAutoScalingGroupRequest(props, name));
}

/** A retried Create found the deployment group already there: update it, if it is this fleet's. */
async function takeOverDeploymentGroup(api: FleetApi, props: FleetProperties): Promise<string[]> {
  const subject = `${props.applicationName}/${props.deploymentGroupName}`;
  const current = await api.getDeploymentGroupTargets(props.applicationName, props.deploymentGroupName);
  if (current === undefined) {
    throw new FleetError(
      `CreateDeploymentGroup failed: ${subject}: CodeDeploy reported that it exists, then that it does not; ` +
        'something else is changing it. Retry the deployment once nothing else manages this deployment group.',
    );
  }
  const foreign = current.filter((name) => name !== props.fleetName && !isCodeDeployCopy(name, props.deploymentGroupName));
  if (foreign.length > 0) {
    throw new FleetError(
      `CreateDeploymentGroup failed: ${subject}: a deployment group of that name already exists and targets ` +
        `${foreign.join(', ')}, which this fleet did not create. Choose another DeploymentGroupName, ` +
        'or delete that deployment group if it is a leftover.',
    );
  }
  const targets = current.length > 0 ? current : [props.fleetName];
  await api.updateDeploymentGroup(buildUpdateDeploymentGroupRequest(props, targets));
  return targets;
}

async function cleanUpAfterFailedCreate(api: FleetApi, autoScalingGroupName: string, error: unknown): Promise<FleetError> {
  const { message } = describeError(error);
  let note: string;
  try {
    await api.deleteAutoScalingGroup(autoScalingGroupName);
    note = `The Auto Scaling group ${autoScalingGroupName} was deleted again, so nothing of this attempt is left running.`;
  } catch (cleanupError) {
    note =
      `Deleting the Auto Scaling group ${autoScalingGroupName} afterwards failed too (${describeError(cleanupError).message}); ` +
      'delete it by hand: CloudFormation sends no Delete for a resource whose Create failed.';
  }
  return new FleetError(`${message} ${note}`, { cause: error });
}

// --- Update ----------------------------------------------------------------

/**
 * Applies new settings to the deployment group, then capacity, launch template
 * and placement to every Auto Scaling group it targets now: after any
 * deployment that is CodeDeploy's copy, not the group Create made.
 *
 * Renaming is refused. The physical id names the deployment group that exists;
 * properties naming another one would make CloudFormation treat the change as a
 * replacement and send a Delete for the old id, whose fleet (found by tag and by
 * CodeDeploy's naming) is the very fleet the new group would target. Comparing
 * with the physical id rather than OldResourceProperties keeps the rollback of a
 * refused rename working: the rollback's properties match the physical id again.
 */
export async function updateFleet(
  api: FleetApi,
  props: FleetProperties,
  oldRaw: Readonly<Record<string, unknown>>,
  currentPhysicalId: string,
): Promise<FleetResult> {
  const wanted = physicalResourceId(props);
  if (wanted !== currentPhysicalId) {
    throw new FleetError(
      `Update refused: this resource manages deployment group ${currentPhysicalId} (ApplicationName:DeploymentGroupName), ` +
        `and the new properties name ${wanted}. The names cannot change in place, because CloudFormation would then delete ` +
        "the old resource and with it the fleet the new deployment group targets. Keep the old names, or replace the fleet: give " +
        'the construct a new id and a new FleetName, so CloudFormation creates the new fleet before deleting the old one.',
    );
  }

  const subject = `${props.applicationName}/${props.deploymentGroupName}`;
  const targets = await api.getDeploymentGroupTargets(props.applicationName, props.deploymentGroupName);
  if (targets === undefined) {
    throw new FleetError(
      `Update failed: ${subject}: the deployment group no longer exists; it was deleted outside CloudFormation. ` +
        `Delete the fleet's Auto Scaling groups (tag ${props.fleetTagKey}=${props.fleetName}) and replace this resource ` +
        '(new construct id and FleetName), or delete and redeploy the stack.',
    );
  }
  if (targets.length === 0) {
    throw new FleetError(
      `Update failed: ${subject}: the deployment group targets no Auto Scaling group, so there is nothing to copy at the next ` +
        'deployment. Check the last deployment in the CodeDeploy console; redeploying the last good revision usually restores it.',
    );
  }

  await api.updateDeploymentGroup(buildUpdateDeploymentGroupRequest(props, targets));

  const old = {
    targetGroupArn: rawString(oldRaw, 'TargetGroupArn'),
    fleetTagKey: rawString(oldRaw, 'FleetTagKey'),
    fleetName: rawString(oldRaw, 'FleetName'),
    notificationTopicArn: rawString(oldRaw, 'NotificationTopicArn'),
  };
  for (const name of targets) {
    await api.updateAutoScalingGroup(buildUpdateAutoScalingGroupRequest(props, name));

    // Each change below is applied only when it differs from the old properties, and in a
    // way that undoes itself when a rollback sends the old properties back.
    if (old.targetGroupArn !== undefined && old.targetGroupArn !== props.targetGroupArn) {
      await api.attachTargetGroup(name, props.targetGroupArn);
      await api.detachTargetGroup(name, old.targetGroupArn);
    }
    if (old.fleetTagKey !== props.fleetTagKey || old.fleetName !== props.fleetName) {
      await api.tagFleet(name, props.fleetTagKey, props.fleetName);
      if (old.fleetTagKey !== undefined && old.fleetTagKey !== props.fleetTagKey) await api.untag(name, old.fleetTagKey);
    }
    if (old.notificationTopicArn !== props.notificationTopicArn) {
      if (props.notificationTopicArn) await api.putNotification(name, props.notificationTopicArn);
      if (old.notificationTopicArn) await api.deleteNotification(name, old.notificationTopicArn);
    }
  }
  return result(props, targets);
}

// --- Delete ----------------------------------------------------------------

/**
 * Deletes the deployment group, then every Auto Scaling group of the fleet:
 * the ones the deployment group targets, the ones carrying the fleet tag, and
 * CodeDeploy's copies named after this deployment group (their tags are not
 * documented, so they are found by name too). A group another deployment group
 * of the application targets is left alone, and so is a group already being
 * deleted. Nothing being there is success.
 */
export async function deleteFleet(api: FleetApi, props: FleetIdentity, currentPhysicalId: string): Promise<FleetResult> {
  if (currentPhysicalId !== physicalResourceId(props)) {
    console.log(
      `Delete: physical id ${currentPhysicalId} differs from the properties' ${physicalResourceId(props)}; deleting what the properties name.`,
    );
  }
  const targets = await api.getDeploymentGroupTargets(props.applicationName, props.deploymentGroupName);
  if (targets === undefined) {
    console.log(`Delete: deployment group ${props.applicationName}/${props.deploymentGroupName} is already gone.`);
  } else {
    await api.deleteDeploymentGroup(props.applicationName, props.deploymentGroupName);
  }

  const owners = await api.groupsOfOtherDeploymentGroups(props.applicationName, props.deploymentGroupName);
  const existing = await api.listAutoScalingGroups();
  const existingNames = new Set(existing.map((group) => group.AutoScalingGroupName));
  for (const name of targets ?? []) {
    if (!existingNames.has(name)) console.log(`Delete: Auto Scaling group ${name} is already gone.`);
  }

  const fleet = existing.filter((group) => {
    const name = group.AutoScalingGroupName ?? '';
    return (targets ?? []).includes(name) || hasFleetTag(group, props) || isCodeDeployCopy(name, props.deploymentGroupName);
  });

  const deleting: string[] = [];
  for (const group of fleet) {
    const name = group.AutoScalingGroupName ?? '';
    const owner = owners.get(name);
    if (owner) {
      console.log(`Delete: keeping Auto Scaling group ${name}: deployment group ${owner} of this application targets it.`);
      continue;
    }
    if (group.Status === DELETE_IN_PROGRESS) {
      console.log(`Delete: Auto Scaling group ${name} is already being deleted.`);
      deleting.push(name);
      continue;
    }
    if ((await api.deleteAutoScalingGroup(name)) === 'deleted') deleting.push(name);
  }
  return result(props, deleting, currentPhysicalId);
}

/**
 * For the Provider framework's isComplete: a Delete is complete once every
 * group it deleted is gone, so CloudFormation deletes the subnets, security
 * group and target group only after the instances have left them.
 */
export async function fleetGone(api: FleetApi, autoScalingGroupNames: string | undefined): Promise<boolean> {
  const names = (autoScalingGroupNames ?? '').split(',').filter((name) => name !== '');
  const remaining = await api.remainingAutoScalingGroups(names);
  if (remaining.length > 0) console.log(`Waiting for Auto Scaling groups to be deleted: ${remaining.join(', ')}`);
  return remaining.length === 0;
}
