import type { AutoScalingGroup } from '@aws-sdk/client-auto-scaling';

import { describeError, FleetError } from './errors';
import { DELETE_IN_PROGRESS, type FleetApi } from './fleet-api';
import { deploymentGroupArn, describeOwner, groupOwner, OWNER_TAG_KEY } from './ownership';
import { rawString, type FleetIdentity, type FleetProperties } from './properties';
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
    /** Comma-joined: after a Create or Update, the groups the deployment group targets; after a Delete, the groups being deleted. */
    readonly AutoScalingGroupNames: string;
  };
}

/** Which resource an event is about: its owner id (the physical id) and the stack that holds it. */
export interface Ownership {
  /** The physical id: Create's from the stack id and logical id (ownership.ts), later events' as CloudFormation sends it. */
  readonly owner: string;
  readonly stackId: string;
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

function result(ownership: Ownership, props: FleetIdentity, autoScalingGroups: readonly string[]): FleetResult {
  return {
    PhysicalResourceId: ownership.owner,
    Data: { DeploymentGroupName: props.deploymentGroupName, AutoScalingGroupNames: autoScalingGroups.join(',') },
  };
}

function nameOf(group: AutoScalingGroup): string {
  return group.AutoScalingGroupName ?? '';
}

function arnOf(ownership: Ownership, props: Pick<FleetIdentity, 'applicationName' | 'deploymentGroupName'>): string {
  return deploymentGroupArn(ownership.stackId, props.applicationName, props.deploymentGroupName);
}

function ownerTags(ownership: Ownership): { Key: string; Value: string }[] {
  return [{ Key: OWNER_TAG_KEY, Value: ownership.owner }];
}

/** The refusal when a deployment group of these names belongs to something else. */
function foreignDeploymentGroup(operation: string, props: FleetIdentity, owner: string | undefined): FleetError {
  return new FleetError(
    `${operation} refused: ${props.applicationName}/${props.deploymentGroupName}: a deployment group of that name already exists ` +
      `and belongs to ${describeOwner(owner)}, so this resource leaves it alone. If the construct was renamed or moved (a new ` +
      'logical id), CloudFormation creates the new resource before deleting the old one, and both cannot own one deployment group: ' +
      'keep the old construct id, or give the new one another DeploymentGroupName and another FleetName. If that deployment group ' +
      'is a leftover (an in-place group of the same name, or a deleted stack), delete it and its Auto Scaling groups first, then deploy again.',
  );
}

// --- Create ----------------------------------------------------------------

/**
 * Creates the fleet's first Auto Scaling group, then the blue/green deployment
 * group that copies it on every deployment, both tagged with this resource's
 * owner id. It adopts only what an earlier attempt of this same resource made
 * and refuses anything else before it creates anything. Whatever this attempt
 * made is deleted again when it fails: the Provider framework answers the
 * Delete that follows a failed Create itself, without calling this handler.
 */
export async function createFleet(api: FleetApi, props: FleetProperties, ownership: Ownership): Promise<FleetResult> {
  // Built before any call: a request that breaks an API limit fails with nothing created.
  const createGroupRequest = buildCreateAutoScalingGroupRequest(props, ownership.owner);
  const createDeploymentGroupRequest = { ...buildDeploymentGroupRequest(props), tags: ownerTags(ownership) };
  const arn = arnOf(ownership, props);

  const existing = await api.getDeploymentGroup(props.applicationName, props.deploymentGroupName, arn);
  if (existing) {
    if (existing.owner !== ownership.owner) throw foreignDeploymentGroup('CreateDeploymentGroup', props, existing.owner);
    // Only a complete attempt leaves a deployment group: this is the same Create delivered again
    // after it succeeded. Bring the fleet to these properties as an Update would; deleting it on a
    // failure here would delete a fleet CloudFormation already counts as created.
    return convergeFleet(api, props, ownership, existing, undefined);
  }

  await ensureFirstAutoScalingGroup(api, props, ownership, createGroupRequest);
  try {
    if (props.notificationTopicArn) await api.putNotification(props.fleetName, props.notificationTopicArn);
    if ((await api.createDeploymentGroup(createDeploymentGroupRequest)) === 'exists') {
      const now = await api.getDeploymentGroup(props.applicationName, props.deploymentGroupName, arn);
      if (now?.owner !== ownership.owner) throw foreignDeploymentGroup('CreateDeploymentGroup', props, now?.owner);
    }
  } catch (error) {
    throw await cleanUpAfterFailedCreate(api, props.fleetName, error);
  }
  return result(ownership, props, [props.fleetName]);
}

/**
 * Creates the first group, or takes over the one an earlier attempt of this
 * resource left (it carries this owner id), bringing it to the properties asked
 * for now. Any other group of that name is refused.
 */
async function ensureFirstAutoScalingGroup(
  api: FleetApi,
  props: FleetProperties,
  ownership: Ownership,
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
  const owner = groupOwner(existing);
  if (owner !== ownership.owner) {
    throw new FleetError(
      `CreateAutoScalingGroup refused: ${name}: an Auto Scaling group of that name already exists and belongs to ` +
        `${describeOwner(owner)}. Choose another FleetName, or delete that group if it is a leftover you no longer need ` +
        '(aws autoscaling delete-auto-scaling-group --force-delete), then deploy again.',
    );
  }
  if (existing.Status === DELETE_IN_PROGRESS) {
    throw new FleetError(
      `CreateAutoScalingGroup failed: ${name}: this fleet's group of that name is still being deleted. ` +
        'Wait until it is gone (EC2 console, Auto Scaling groups) and retry the deployment.',
    );
  }
  const other = (await api.groupsOfOtherDeploymentGroups(props.applicationName, props.deploymentGroupName)).get(name);
  if (other) {
    throw new FleetError(
      `CreateAutoScalingGroup refused: ${name}: deployment group ${other} of application ${props.applicationName} targets it. ` +
        'Remove it from that deployment group, or give this fleet another FleetName.',
    );
  }
  await api.updateAutoScalingGroup(buildUpdateAutoScalingGroupRequest(props, name));
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
 * Brings the deployment group and the groups it targets now to the new
 * properties. It acts on live state, never on what the old properties say, so
 * the Update CloudFormation sends back on rollback (old properties as new)
 * succeeds whenever those properties are valid:
 * - during a blue/green deployment the deployment group targets the original
 *   group and CodeDeploy's copy: both get capacity and launch template, and the
 *   request leaves the deployment group's group list to CodeDeploy;
 * - a deployment group deleted by hand, or targeting nothing alive, is made
 *   again on this fleet's newest live group (or a new first group).
 *
 * Renaming is refused: new names that name a deployment group this resource
 * does not own, or none at all. The rollback of a refused rename carries the
 * old names, whose deployment group it owns, and succeeds.
 */
export async function updateFleet(
  api: FleetApi,
  props: FleetProperties,
  oldRaw: Readonly<Record<string, unknown>>,
  ownership: Ownership,
): Promise<FleetResult> {
  const old = { applicationName: rawString(oldRaw, 'ApplicationName'), deploymentGroupName: rawString(oldRaw, 'DeploymentGroupName') };
  const renamed = old.applicationName !== props.applicationName || old.deploymentGroupName !== props.deploymentGroupName;
  const renameAdvice =
    'ApplicationName and DeploymentGroupName cannot change in place: put the old names back, or replace the fleet by giving the ' +
    'construct a new id and new DeploymentGroupName and FleetName (CloudFormation creates the new fleet, then deletes the old one).';

  const existing = await api.getDeploymentGroup(props.applicationName, props.deploymentGroupName, arnOf(ownership, props));
  if (existing && existing.owner !== ownership.owner) {
    if (renamed) {
      throw new FleetError(
        `Update refused: ${props.applicationName}/${props.deploymentGroupName} belongs to ${describeOwner(existing.owner)}. ${renameAdvice}`,
      );
    }
    throw foreignDeploymentGroup('Update', props, existing.owner);
  }
  if (!existing && renamed) {
    // No call for the old names: the handler's policy names the deployment group of the properties,
    // and CloudFormation updates the policy (to the new names) before this resource.
    throw new FleetError(
      `Update refused: this resource manages deployment group ${old.applicationName ?? '?'}/${old.deploymentGroupName ?? '?'}, and the new ` +
        `properties name ${props.applicationName}/${props.deploymentGroupName}. ${renameAdvice}`,
    );
  }
  return convergeFleet(api, props, ownership, existing, oldRaw);
}

/**
 * Makes live state match the properties: a deployment group owned by this
 * resource targeting a live group of the fleet, and every group it targets
 * carrying the capacity, launch template, tags and notifications asked for.
 */
async function convergeFleet(
  api: FleetApi,
  props: FleetProperties,
  ownership: Ownership,
  existing: { targets: string[]; owner: string | undefined } | undefined,
  oldRaw: Readonly<Record<string, unknown>> | undefined,
): Promise<FleetResult> {
  const described = await api.describeAutoScalingGroups(existing?.targets ?? []);
  let live = described.filter((group) => group.Status !== DELETE_IN_PROGRESS);
  let repoint = existing === undefined || live.length === 0;
  if (live.length === 0) {
    live = [await liveGroupOfTheFleet(api, props, ownership)];
    repoint = true;
  }
  const targets = live.map(nameOf);

  if (existing) {
    await api.updateDeploymentGroup(buildUpdateDeploymentGroupRequest(props, repoint ? targets.slice(0, 1) : undefined));
  } else {
    api.log.info({ action: 'RecreateDeploymentGroup', reason: 'the deployment group is gone', autoScalingGroupName: targets[0] });
    const created = await api.createDeploymentGroup({ ...buildDeploymentGroupRequest(props, targets.slice(0, 1)), tags: ownerTags(ownership) });
    if (created === 'exists') throw foreignDeploymentGroup('CreateDeploymentGroup', props, undefined);
  }

  const old = {
    targetGroupArn: rawString(oldRaw, 'TargetGroupArn'),
    fleetTagKey: rawString(oldRaw, 'FleetTagKey'),
    notificationTopicArn: rawString(oldRaw, 'NotificationTopicArn'),
  };
  for (const group of repoint ? live.slice(0, 1) : live) {
    const name = nameOf(group);
    await api.updateAutoScalingGroup(buildUpdateAutoScalingGroupRequest(props, name));

    const tags = new Map((group.Tags ?? []).map((tag) => [tag.Key, tag.Value]));
    if (tags.get(OWNER_TAG_KEY) !== ownership.owner) await api.tagFleet(name, OWNER_TAG_KEY, ownership.owner, false);
    if (tags.get(props.fleetTagKey) !== props.fleetName) await api.tagFleet(name, props.fleetTagKey, props.fleetName);
    if (old.fleetTagKey !== undefined && old.fleetTagKey !== props.fleetTagKey && tags.has(old.fleetTagKey)) {
      await api.untag(name, old.fleetTagKey);
    }
    // Target group and notifications: the live group lists its target groups, so attach what is
    // missing and detach the old one; notifications follow the old properties (each change undoes
    // itself when a rollback sends the old values back).
    if (!(group.TargetGroupARNs ?? []).includes(props.targetGroupArn)) await api.attachTargetGroup(name, props.targetGroupArn);
    if (old.targetGroupArn !== undefined && old.targetGroupArn !== props.targetGroupArn && (group.TargetGroupARNs ?? []).includes(old.targetGroupArn)) {
      await api.detachTargetGroup(name, old.targetGroupArn);
    }
    if (oldRaw === undefined || old.notificationTopicArn !== props.notificationTopicArn || repoint) {
      if (props.notificationTopicArn) await api.putNotification(name, props.notificationTopicArn);
      if (old.notificationTopicArn && old.notificationTopicArn !== props.notificationTopicArn) {
        await api.deleteNotification(name, old.notificationTopicArn);
      }
    }
  }
  return result(ownership, props, targets);
}

/**
 * When the deployment group is gone or targets nothing alive: this fleet's
 * newest live group (by owner tag), or a new first group.
 */
async function liveGroupOfTheFleet(api: FleetApi, props: FleetProperties, ownership: Ownership): Promise<AutoScalingGroup> {
  const owned = (await api.listAutoScalingGroups())
    .filter((group) => groupOwner(group) === ownership.owner && group.Status !== DELETE_IN_PROGRESS)
    .sort((a, b) => (b.CreatedTime?.getTime() ?? 0) - (a.CreatedTime?.getTime() ?? 0));
  if (owned[0]) {
    api.log.info({ action: 'AdoptNewestGroup', reason: 'the deployment group targets no live group', autoScalingGroupName: nameOf(owned[0]) });
    return owned[0];
  }
  api.log.info({ action: 'RecreateFirstGroup', reason: 'no live group of this fleet is left', autoScalingGroupName: props.fleetName });
  await ensureFirstAutoScalingGroup(api, props, ownership, buildCreateAutoScalingGroupRequest(props, ownership.owner));
  const created = await api.describeAutoScalingGroup(props.fleetName);
  if (!created) {
    throw new FleetError(
      `Update failed: ${props.fleetName}: the group was created but DescribeAutoScalingGroups does not return it yet. Retry the deployment.`,
    );
  }
  return created;
}

// --- Delete ----------------------------------------------------------------

/**
 * Deletes what this resource owns and nothing else: its deployment group (owner
 * tag = this physical id) and every Auto Scaling group that carries its owner
 * tag. Groups its deployment group targets and CodeDeploy's copies of it
 * (CodeDeploy_<deployment group>_<deployment id>; whether they inherit tags is
 * undocumented) get the owner tag first, before the deployment group goes, so
 * a retried Delete still finds them. A group carrying another owner, or that
 * another deployment group of the application targets, is left alone; so is a
 * deployment group this resource does not own. Nothing being there is success.
 */
export async function deleteFleet(api: FleetApi, props: FleetIdentity, ownership: Ownership): Promise<FleetResult> {
  const deploymentGroup = await api.getDeploymentGroup(props.applicationName, props.deploymentGroupName, arnOf(ownership, props));
  const ownsDeploymentGroup = deploymentGroup !== undefined && deploymentGroup.owner === ownership.owner;
  if (deploymentGroup === undefined) api.log.info({ action: 'SkipDeleteDeploymentGroup', reason: 'already gone' });
  else if (!ownsDeploymentGroup) api.log.info({ action: 'SkipDeleteDeploymentGroup', reason: `it belongs to ${describeOwner(deploymentGroup.owner)}` });

  const others = await api.groupsOfOtherDeploymentGroups(props.applicationName, props.deploymentGroupName);
  const fleet = (await api.listAutoScalingGroups()).filter((group) => {
    const owner = groupOwner(group);
    if (owner !== undefined) return owner === ownership.owner;
    const name = nameOf(group);
    return ownsDeploymentGroup && (deploymentGroup.targets.includes(name) || isCodeDeployCopy(name, props.deploymentGroupName));
  });

  const deleting: string[] = [];
  const doomed: string[] = [];
  for (const group of fleet) {
    const name = nameOf(group);
    const other = others.get(name);
    if (other) {
      api.log.info({ action: 'SkipDeleteAutoScalingGroup', autoScalingGroupName: name, reason: `deployment group ${other} of this application targets it` });
      continue;
    }
    if (group.Status === DELETE_IN_PROGRESS) {
      api.log.info({ action: 'SkipDeleteAutoScalingGroup', autoScalingGroupName: name, reason: 'already being deleted' });
      deleting.push(name);
      continue;
    }
    if (groupOwner(group) !== ownership.owner) await api.tagFleet(name, OWNER_TAG_KEY, ownership.owner, false);
    doomed.push(name);
  }

  if (ownsDeploymentGroup) await api.deleteDeploymentGroup(props.applicationName, props.deploymentGroupName);
  for (const name of doomed) {
    if ((await api.deleteAutoScalingGroup(name)) === 'deleted') deleting.push(name);
  }
  return result(ownership, props, deleting);
}

/**
 * For the Provider framework's isComplete: a Delete is complete once every
 * group it deleted is gone, so CloudFormation deletes the subnets, security
 * group and target group only after the instances have left them.
 */
export async function fleetGone(api: FleetApi, autoScalingGroupNames: string | undefined): Promise<boolean> {
  const names = (autoScalingGroupNames ?? '').split(',').filter((name) => name !== '');
  const remaining = await api.remainingAutoScalingGroups(names);
  if (remaining.length > 0) api.log.info({ action: 'WaitForDeletion', autoScalingGroupNames: remaining });
  return remaining.length === 0;
}
