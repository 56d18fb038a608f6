import { createHash } from 'node:crypto';

import type { AutoScalingGroup } from '@aws-sdk/client-auto-scaling';

/**
 * Who owns a deployment group or an Auto Scaling group: the custom resource
 * whose physical id is the value of this tag. The physical id is unique per
 * resource (stack id + logical id), so a resource created in place of another
 * (a renamed or moved construct: CloudFormation creates the new one, then
 * deletes the old one) never owns what the old one owns, and the old one's
 * Delete never removes what the new one made.
 */
export const OWNER_TAG_KEY = 'blue-green-fleet:owner';

/** Tag values (CodeDeploy and Auto Scaling) hold at most 256 characters. */
const MAX_TAG_VALUE = 256;

/** The parts of a CloudFormation event that identify one resource in one stack. */
export interface ResourceAddress {
  /** arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<uuid> */
  readonly StackId: string;
  readonly LogicalResourceId: string;
}

/**
 * The physical id Create returns, and the owner tag's value:
 * `<stack name>/<stack uuid>/<logical id>`. The stack's uuid makes it differ
 * from a deleted stack of the same name, so a leftover of that stack is never
 * taken for this resource's own. Too long for a tag, it becomes
 * `<stack uuid>/sha256:<hash of stack id and logical id>`.
 */
export function ownerIdFor(address: ResourceAddress): string {
  const [, stackName = 'stack', stackUuid = 'unknown'] = /:stack\/([^/]+)\/([^/]+)$/.exec(address.StackId) ?? [];
  const readable = `${stackName}/${stackUuid}/${address.LogicalResourceId}`;
  if (readable.length <= MAX_TAG_VALUE) return readable;
  const hash = createHash('sha256').update(`${address.StackId}/${address.LogicalResourceId}`).digest('hex');
  return `${stackUuid}/sha256:${hash}`;
}

/** Partition, region and account of the stack, from its id. */
export function stackEnvironment(stackId: string): { partition: string; region: string; account: string } {
  const match = /^arn:([\w-]+):cloudformation:([\w-]+):(\d{12}):stack\//.exec(stackId);
  if (!match) throw new Error(`not a CloudFormation stack id: ${stackId}`);
  return { partition: match[1]!, region: match[2]!, account: match[3]! };
}

/** The deployment group's ARN, which CodeDeploy's tagging API takes. */
export function deploymentGroupArn(stackId: string, applicationName: string, deploymentGroupName: string): string {
  const { partition, region, account } = stackEnvironment(stackId);
  return `arn:${partition}:codedeploy:${region}:${account}:deploymentgroup:${applicationName}/${deploymentGroupName}`;
}

/** The owner tag of an Auto Scaling group, if it has one. */
export function groupOwner(group: AutoScalingGroup): string | undefined {
  return group.Tags?.find((tag) => tag.Key === OWNER_TAG_KEY)?.Value;
}

/** How a failure message names an owner. */
export function describeOwner(owner: string | undefined): string {
  return owner === undefined ? 'no blue/green fleet resource (it carries no owner tag)' : `the fleet resource ${owner}`;
}
