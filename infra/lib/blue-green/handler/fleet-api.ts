import {
  AttachLoadBalancerTargetGroupsCommand,
  CreateAutoScalingGroupCommand,
  CreateOrUpdateTagsCommand,
  DeleteAutoScalingGroupCommand,
  DeleteNotificationConfigurationCommand,
  DeleteTagsCommand,
  DescribeAutoScalingGroupsCommand,
  DetachLoadBalancerTargetGroupsCommand,
  paginateDescribeAutoScalingGroups,
  PutNotificationConfigurationCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingClient,
  type AutoScalingGroup,
  type CreateAutoScalingGroupCommandInput,
  type UpdateAutoScalingGroupCommandInput,
} from '@aws-sdk/client-auto-scaling';
import {
  BatchGetDeploymentGroupsCommand,
  CreateDeploymentGroupCommand,
  DeleteDeploymentGroupCommand,
  GetDeploymentGroupCommand,
  ListTagsForResourceCommand,
  paginateListDeploymentGroups,
  TagResourceCommand,
  UpdateDeploymentGroupCommand,
  type CodeDeployClient,
  type CreateDeploymentGroupCommandInput,
  type UpdateDeploymentGroupCommandInput,
} from '@aws-sdk/client-codedeploy';

import { awsFailure, describeError, isErrorNamed } from './errors';
import type { EventLog } from './log';
import { OWNER_TAG_KEY } from './ownership';
import { buildNotificationRequest } from './requests';

/** What the handler needs from outside; tests pass mocked clients and a sleep that does not wait. */
export interface FleetDependencies {
  readonly codeDeploy: CodeDeployClient;
  readonly autoScaling: AutoScalingClient;
  /** Waits between retries (IAM propagation, throttling, a busy group). */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * The CloudWatch log group the handler writes to; failure reasons name it
   * (the Provider framework's own reason names /aws/lambda/<function>, which
   * this handler does not use).
   * @default - failure reasons say "the handler's CloudWatch log"
   */
  readonly logGroupName?: string;
  /**
   * How long, in all, one event may wait between retries of IAM-propagation and
   * throttling errors. Well inside the function's timeout (see the construct).
   * @default RETRY_BUDGET_MS
   */
  readonly retryBudgetMs?: number;
}

/**
 * IAM is eventually consistent: the service role, its policy and the handler's
 * policy are created or changed just before the resource runs. Terraform's
 * CodeDeploy resource retries the same errors for 5 minutes; this handler
 * retries for up to 3 minutes per event (the function has 10).
 */
export const RETRY_BUDGET_MS = 180_000;
/** First wait between retries, doubled each time up to RETRY_MAX_WAIT_MS. */
const RETRY_FIRST_WAIT_MS = 1_000;
const RETRY_MAX_WAIT_MS = 30_000;

/**
 * An error that goes away once IAM has propagated a change:
 * - CodeDeploy checks at Create/UpdateDeploymentGroup that it can assume the
 *   service role (InvalidRoleException);
 * - Auto Scaling checks the caller's ec2:RunInstances and iam:PassRole on the
 *   launch template at Create/UpdateAutoScalingGroup (ValidationError
 *   "You are not authorized to use launch template", "... not authorized to
 *   perform: iam:PassRole ...").
 */
export function isIamPropagationError(operation: string, error: unknown): boolean {
  if (operation === 'CreateDeploymentGroup' || operation === 'UpdateDeploymentGroup') {
    return isErrorNamed(error, 'InvalidRoleException');
  }
  if (operation === 'CreateAutoScalingGroup' || operation === 'UpdateAutoScalingGroup') {
    return (
      isErrorNamed(error, 'ValidationError') &&
      /not authorized to use launch template|not authorized to perform: (?:iam:PassRole|ec2:RunInstances|ec2:CreateTags)|You are not authorized to perform this operation/i.test(
        describeError(error).message,
      )
    );
  }
  return false;
}

/** Throttling as CodeDeploy and Auto Scaling report it. */
export function isThrottling(error: unknown): boolean {
  return isErrorNamed(error, 'Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'TooManyRequestsException');
}

/** Status DescribeAutoScalingGroups reports for a group that is being deleted. */
export const DELETE_IN_PROGRESS = 'Delete in progress';

/** DeleteAutoScalingGroup attempts while a scaling activity is in progress, and the first wait (doubled each time). */
const DELETE_ATTEMPTS = 5;
const DELETE_FIRST_WAIT_MS = 5_000;
/** BatchGetDeploymentGroups takes at most 100 names (BatchLimitExceededException). */
const BATCH_GET_LIMIT = 100;

const ADVICE = {
  codeDeployRead:
    "Check that the CodeDeploy application exists in this account and region and that the handler's role may call codedeploy:GetDeploymentGroup, ListDeploymentGroups and BatchGetDeploymentGroups.",
  deploymentGroupWrite:
    'Check that the CodeDeploy application exists, that the service role exists, trusts codedeploy.amazonaws.com and holds the ' +
    "blue/green permissions (README), that the target group and alarm names exist, and that the handler's role may call " +
    'codedeploy:CreateDeploymentGroup/UpdateDeploymentGroup and iam:PassRole on the service role.',
  deploymentGroupDelete:
    "Check that the handler's role may call codedeploy:DeleteDeploymentGroup; or delete the deployment group by hand and retry the stack deletion.",
  autoScalingWrite:
    'Check that the launch template version, subnets and target group exist, and that the handler\'s role may call ' +
    'autoscaling:CreateAutoScalingGroup/UpdateAutoScalingGroup, ec2:RunInstances, ec2:CreateTags and iam:PassRole on the instance role.',
  autoScalingRead: "Check that the handler's role may call autoscaling:DescribeAutoScalingGroups.",
  autoScalingDelete:
    "Check that the handler's role may call autoscaling:DeleteAutoScalingGroup; or delete the group by hand " +
    '(aws autoscaling delete-auto-scaling-group --force-delete) and retry the stack deletion.',
  autoScalingAttach:
    "Check that the target group exists and that the handler's role may call autoscaling:AttachLoadBalancerTargetGroups/DetachLoadBalancerTargetGroups.",
  autoScalingTags: "Check that the handler's role may call autoscaling:CreateOrUpdateTags and autoscaling:DeleteTags.",
  autoScalingNotifications:
    "Check that the topic exists and that the handler's role may call autoscaling:PutNotificationConfiguration/DeleteNotificationConfiguration.",
} as const;

/**
 * Every AWS call the handler makes, one method each: it logs the call, and turns
 * a failure into a FleetError that says what failed and what to do. The few
 * outcomes that are not failures for a custom resource (already exists, already
 * gone) come back as values instead.
 */
export class FleetApi {
  private readonly sleep: (ms: number) => Promise<void>;
  /** What is left of this event's retry budget. */
  private retryBudgetMs: number;

  /** One FleetApi per event: each event gets the whole retry budget, and its calls are logged with the event's context. */
  constructor(
    private readonly deps: FleetDependencies,
    /** The event's log; lifecycle decisions go to it too. */
    readonly log: EventLog,
  ) {
    this.sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.retryBudgetMs = deps.retryBudgetMs ?? RETRY_BUDGET_MS;
  }

  /**
   * Sends one request, retrying IAM-propagation and throttling errors with
   * exponential backoff while the event's retry budget lasts. Other errors,
   * and the last retryable one, are thrown as they came.
   */
  private async retrying<T>(operation: string, send: () => Promise<T>): Promise<T> {
    let wait = RETRY_FIRST_WAIT_MS;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await send();
      } catch (error) {
        const retryable = isIamPropagationError(operation, error) || isThrottling(error);
        if (!retryable || this.retryBudgetMs < wait) {
          if (retryable) throw new RetriesExhausted(error, attempt);
          throw error;
        }
        this.log.info({ action: 'Retry', operation, error: describeError(error).name, attempt, waitMs: wait });
        this.retryBudgetMs -= wait;
        await this.sleep(wait);
        wait = Math.min(wait * 2, RETRY_MAX_WAIT_MS);
      }
    }
  }

  /**
   * One line per AWS call, so CloudWatch shows the sequence the handler ran.
   * Only operation and resource names are logged; these properties hold no secrets.
   */
  private logCall(operation: string, details: Record<string, unknown>): void {
    this.log.info({ action: operation, ...details });
  }

  private logHooksNotCleanedUp(operation: string, hooks: readonly { name?: string | undefined }[] | undefined): void {
    if (hooks && hooks.length > 0) {
      this.log.info({
        action: 'LifecycleHooksLeft',
        operation,
        autoScalingGroupNames: hooks.map((hook) => hook.name),
        reason: 'CodeDeploy could not remove its lifecycle hook from these groups; they are deleted next or no longer used by this deployment group.',
      });
    }
  }

  // --- CodeDeploy ---------------------------------------------------------

  /** The Auto Scaling groups the deployment group targets now, or undefined when it (or its application) does not exist. */
  async getDeploymentGroupTargets(applicationName: string, deploymentGroupName: string): Promise<string[] | undefined> {
    this.logCall('GetDeploymentGroup', { applicationName, deploymentGroupName });
    try {
      const { deploymentGroupInfo } = await this.retrying('GetDeploymentGroup', () =>
        this.deps.codeDeploy.send(new GetDeploymentGroupCommand({ applicationName, deploymentGroupName })),
      );
      return (deploymentGroupInfo?.autoScalingGroups ?? []).flatMap((group) => (group.name ? [group.name] : []));
    } catch (error) {
      if (isErrorNamed(error, 'DeploymentGroupDoesNotExistException', 'ApplicationDoesNotExistException')) return undefined;
      throw awsFailure('GetDeploymentGroup', `${applicationName}/${deploymentGroupName}`, error, ADVICE.codeDeployRead);
    }
  }

  /**
   * The deployment group with the groups it targets now and its owner tag, or
   * undefined when it (or its application) does not exist.
   */
  async getDeploymentGroup(
    applicationName: string,
    deploymentGroupName: string,
    arn: string,
  ): Promise<{ targets: string[]; owner: string | undefined } | undefined> {
    const targets = await this.getDeploymentGroupTargets(applicationName, deploymentGroupName);
    if (targets === undefined) return undefined;
    this.logCall('ListTagsForResource', { ResourceArn: arn });
    try {
      const { Tags } = await this.retrying('ListTagsForResource', () =>
        this.deps.codeDeploy.send(new ListTagsForResourceCommand({ ResourceArn: arn })),
      );
      return { targets, owner: Tags?.find((tag) => tag.Key === OWNER_TAG_KEY)?.Value };
    } catch (error) {
      throw awsFailure('ListTagsForResource', arn, error, ADVICE.codeDeployRead);
    }
  }

  /** Records the owner on a deployment group (one made before owner tags existed, or recreated). */
  async tagDeploymentGroup(arn: string, owner: string): Promise<void> {
    this.logCall('TagResource', { ResourceArn: arn, Key: OWNER_TAG_KEY, Value: owner });
    try {
      await this.retrying('TagResource', () =>
        this.deps.codeDeploy.send(new TagResourceCommand({ ResourceArn: arn, Tags: [{ Key: OWNER_TAG_KEY, Value: owner }] })),
      );
    } catch (error) {
      throw awsFailure('TagResource', arn, error, ADVICE.codeDeployRead);
    }
  }

  /** 'exists' when a deployment group of that name is already there (a retried Create). */
  async createDeploymentGroup(request: CreateDeploymentGroupCommandInput): Promise<'created' | 'exists'> {
    const subject = `${request.applicationName}/${request.deploymentGroupName}`;
    this.logCall('CreateDeploymentGroup', {
      applicationName: request.applicationName,
      deploymentGroupName: request.deploymentGroupName,
      autoScalingGroups: request.autoScalingGroups,
    });
    try {
      await this.retrying('CreateDeploymentGroup', () => this.deps.codeDeploy.send(new CreateDeploymentGroupCommand(request)));
      return 'created';
    } catch (error) {
      if (isErrorNamed(error, 'DeploymentGroupAlreadyExistsException')) return 'exists';
      throw awsFailure('CreateDeploymentGroup', subject, error, ADVICE.deploymentGroupWrite);
    }
  }

  async updateDeploymentGroup(request: UpdateDeploymentGroupCommandInput): Promise<void> {
    const subject = `${request.applicationName}/${request.currentDeploymentGroupName}`;
    this.logCall('UpdateDeploymentGroup', {
      applicationName: request.applicationName,
      currentDeploymentGroupName: request.currentDeploymentGroupName,
      autoScalingGroups: request.autoScalingGroups,
    });
    try {
      const { hooksNotCleanedUp } = await this.retrying('UpdateDeploymentGroup', () =>
        this.deps.codeDeploy.send(new UpdateDeploymentGroupCommand(request)),
      );
      this.logHooksNotCleanedUp('UpdateDeploymentGroup', hooksNotCleanedUp);
    } catch (error) {
      throw awsFailure('UpdateDeploymentGroup', subject, error, ADVICE.deploymentGroupWrite);
    }
  }

  /** Deletes the deployment group; a group (or application) that is already gone is not an error. */
  async deleteDeploymentGroup(applicationName: string, deploymentGroupName: string): Promise<void> {
    this.logCall('DeleteDeploymentGroup', { applicationName, deploymentGroupName });
    try {
      const { hooksNotCleanedUp } = await this.retrying('DeleteDeploymentGroup', () =>
        this.deps.codeDeploy.send(new DeleteDeploymentGroupCommand({ applicationName, deploymentGroupName })),
      );
      this.logHooksNotCleanedUp('DeleteDeploymentGroup', hooksNotCleanedUp);
    } catch (error) {
      if (isErrorNamed(error, 'DeploymentGroupDoesNotExistException', 'ApplicationDoesNotExistException')) return;
      throw awsFailure('DeleteDeploymentGroup', `${applicationName}/${deploymentGroupName}`, error, ADVICE.deploymentGroupDelete);
    }
  }

  /**
   * Auto Scaling group name → the other deployment group of the application that
   * targets it. A group in this map belongs to someone else and is never touched.
   */
  async groupsOfOtherDeploymentGroups(applicationName: string, exceptDeploymentGroup: string): Promise<Map<string, string>> {
    const subject = applicationName;
    let names: string[];
    this.logCall('ListDeploymentGroups', { applicationName });
    try {
      // A throttled page restarts the listing: the retry covers the whole walk.
      names = await this.retrying('ListDeploymentGroups', async () => {
        const all: string[] = [];
        for await (const page of paginateListDeploymentGroups({ client: this.deps.codeDeploy }, { applicationName })) {
          all.push(...(page.deploymentGroups ?? []).filter((name) => name !== exceptDeploymentGroup));
        }
        return all;
      });
    } catch (error) {
      if (isErrorNamed(error, 'ApplicationDoesNotExistException')) return new Map();
      throw awsFailure('ListDeploymentGroups', subject, error, ADVICE.codeDeployRead);
    }

    const owners = new Map<string, string>();
    for (let start = 0; start < names.length; start += BATCH_GET_LIMIT) {
      const deploymentGroupNames = names.slice(start, start + BATCH_GET_LIMIT);
      this.logCall('BatchGetDeploymentGroups', { applicationName, deploymentGroupNames });
      try {
        const { deploymentGroupsInfo } = await this.retrying('BatchGetDeploymentGroups', () =>
          this.deps.codeDeploy.send(new BatchGetDeploymentGroupsCommand({ applicationName, deploymentGroupNames })),
        );
        for (const info of deploymentGroupsInfo ?? []) {
          for (const group of info.autoScalingGroups ?? []) {
            if (group.name && info.deploymentGroupName) owners.set(group.name, info.deploymentGroupName);
          }
        }
      } catch (error) {
        throw awsFailure('BatchGetDeploymentGroups', subject, error, ADVICE.codeDeployRead);
      }
    }
    return owners;
  }

  // --- Auto Scaling --------------------------------------------------------

  /** 'exists' when a group of that name is already there: a retried Create, or someone else's group. */
  async createAutoScalingGroup(request: CreateAutoScalingGroupCommandInput): Promise<'created' | 'exists'> {
    const name = request.AutoScalingGroupName ?? '';
    this.logCall('CreateAutoScalingGroup', {
      AutoScalingGroupName: name,
      LaunchTemplate: request.LaunchTemplate,
      MinSize: request.MinSize,
      DesiredCapacity: request.DesiredCapacity,
      MaxSize: request.MaxSize,
    });
    try {
      await this.retrying('CreateAutoScalingGroup', () => this.deps.autoScaling.send(new CreateAutoScalingGroupCommand(request)));
      return 'created';
    } catch (error) {
      if (isErrorNamed(error, 'AlreadyExistsFault', 'AlreadyExists')) return 'exists';
      throw awsFailure('CreateAutoScalingGroup', name, error, ADVICE.autoScalingWrite);
    }
  }

  async describeAutoScalingGroup(name: string): Promise<AutoScalingGroup | undefined> {
    this.logCall('DescribeAutoScalingGroups', { AutoScalingGroupNames: [name] });
    try {
      const { AutoScalingGroups } = await this.retrying('DescribeAutoScalingGroups', () =>
        this.deps.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] })),
      );
      return AutoScalingGroups?.find((group) => group.AutoScalingGroupName === name);
    } catch (error) {
      throw awsFailure('DescribeAutoScalingGroups', name, error, ADVICE.autoScalingRead);
    }
  }

  /**
   * Every Auto Scaling group in the account and region, page by page. The API
   * filters by tag but not by name prefix, and CodeDeploy's copies are found by
   * their name (CodeDeploy_<deployment group>_<deployment id>), so one full
   * listing serves both lookups.
   */
  async listAutoScalingGroups(): Promise<AutoScalingGroup[]> {
    this.logCall('DescribeAutoScalingGroups', { all: true });
    try {
      return await this.retrying('DescribeAutoScalingGroups', async () => {
        const groups: AutoScalingGroup[] = [];
        for await (const page of paginateDescribeAutoScalingGroups({ client: this.deps.autoScaling, pageSize: 100 }, {})) {
          groups.push(...(page.AutoScalingGroups ?? []));
        }
        return groups;
      });
    } catch (error) {
      throw awsFailure('DescribeAutoScalingGroups', 'all groups', error, ADVICE.autoScalingRead);
    }
  }

  async updateAutoScalingGroup(request: UpdateAutoScalingGroupCommandInput): Promise<void> {
    const name = request.AutoScalingGroupName ?? '';
    this.logCall('UpdateAutoScalingGroup', {
      AutoScalingGroupName: name,
      LaunchTemplate: request.LaunchTemplate,
      MinSize: request.MinSize,
      DesiredCapacity: request.DesiredCapacity,
      MaxSize: request.MaxSize,
    });
    try {
      await this.retrying('UpdateAutoScalingGroup', () => this.deps.autoScaling.send(new UpdateAutoScalingGroupCommand(request)));
    } catch (error) {
      throw awsFailure('UpdateAutoScalingGroup', name, error, ADVICE.autoScalingWrite);
    }
  }

  async attachTargetGroup(name: string, targetGroupArn: string): Promise<void> {
    await this.autoScalingWrite('AttachLoadBalancerTargetGroups', name, ADVICE.autoScalingAttach, { AutoScalingGroupName: name, TargetGroupARNs: [targetGroupArn] }, () =>
      this.deps.autoScaling.send(new AttachLoadBalancerTargetGroupsCommand({ AutoScalingGroupName: name, TargetGroupARNs: [targetGroupArn] })),
    );
  }

  async detachTargetGroup(name: string, targetGroupArn: string): Promise<void> {
    await this.autoScalingWrite('DetachLoadBalancerTargetGroups', name, ADVICE.autoScalingAttach, { AutoScalingGroupName: name, TargetGroupARNs: [targetGroupArn] }, () =>
      this.deps.autoScaling.send(new DetachLoadBalancerTargetGroupsCommand({ AutoScalingGroupName: name, TargetGroupARNs: [targetGroupArn] })),
    );
  }

  /** Puts a tag on a group; `propagate` copies it to the instances the group launches. */
  async tagFleet(name: string, key: string, value: string, propagate = true): Promise<void> {
    await this.autoScalingWrite('CreateOrUpdateTags', name, ADVICE.autoScalingTags, { AutoScalingGroupName: name, Key: key, Value: value }, () =>
      this.deps.autoScaling.send(
        new CreateOrUpdateTagsCommand({
          Tags: [{ ResourceId: name, ResourceType: 'auto-scaling-group', Key: key, Value: value, PropagateAtLaunch: propagate }],
        }),
      ),
    );
  }

  async untag(name: string, key: string): Promise<void> {
    await this.autoScalingWrite('DeleteTags', name, ADVICE.autoScalingTags, { AutoScalingGroupName: name, Key: key }, () =>
      this.deps.autoScaling.send(new DeleteTagsCommand({ Tags: [{ ResourceId: name, ResourceType: 'auto-scaling-group', Key: key }] })),
    );
  }

  async putNotification(name: string, topicArn: string): Promise<void> {
    await this.autoScalingWrite('PutNotificationConfiguration', name, ADVICE.autoScalingNotifications, { AutoScalingGroupName: name, TopicARN: topicArn }, () =>
      this.deps.autoScaling.send(new PutNotificationConfigurationCommand(buildNotificationRequest(name, topicArn))),
    );
  }

  async deleteNotification(name: string, topicArn: string): Promise<void> {
    await this.autoScalingWrite('DeleteNotificationConfiguration', name, ADVICE.autoScalingNotifications, { AutoScalingGroupName: name, TopicARN: topicArn }, () =>
      this.deps.autoScaling.send(new DeleteNotificationConfigurationCommand({ AutoScalingGroupName: name, TopicARN: topicArn })),
    );
  }

  /** One logged call whose failure becomes a FleetError saying what to do: the shape every plain write above shares. */
  private async autoScalingWrite(operation: string, name: string, advice: string, details: Record<string, unknown>, send: () => Promise<unknown>): Promise<void> {
    this.logCall(operation, details);
    try {
      await this.retrying(operation, send);
    } catch (error) {
      throw awsFailure(operation, name, error, advice);
    }
  }

  /**
   * Deletes a group and its instances (ForceDelete). A group that is already
   * gone is not an error. While a scaling activity blocks the deletion it is
   * retried a few times (about a minute in all) before failing with advice.
   */
  async deleteAutoScalingGroup(name: string): Promise<'deleted' | 'gone'> {
    for (let attempt = 1; ; attempt += 1) {
      this.logCall('DeleteAutoScalingGroup', { AutoScalingGroupName: name, ForceDelete: true, attempt });
      try {
        await this.retrying('DeleteAutoScalingGroup', () =>
          this.deps.autoScaling.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: name, ForceDelete: true })),
        );
        return 'deleted';
      } catch (error) {
        if (isAutoScalingGroupNotFound(error)) return 'gone';
        const blocked = isErrorNamed(error, 'ScalingActivityInProgressFault', 'ResourceInUseFault');
        if (blocked && attempt < DELETE_ATTEMPTS) {
          await this.sleep(DELETE_FIRST_WAIT_MS * 2 ** (attempt - 1));
          continue;
        }
        const advice = blocked
          ? `A scaling activity still holds the group after ${DELETE_ATTEMPTS} attempts; wait for it to finish (EC2 console, Auto Scaling group, Activity) and retry the stack deletion.`
          : ADVICE.autoScalingDelete;
        throw awsFailure('DeleteAutoScalingGroup', name, error, advice);
      }
    }
  }

  /** The named groups that exist (being deleted included), all pages. */
  async describeAutoScalingGroups(names: readonly string[]): Promise<AutoScalingGroup[]> {
    if (names.length === 0) return [];
    this.logCall('DescribeAutoScalingGroups', { AutoScalingGroupNames: names });
    try {
      return await this.retrying('DescribeAutoScalingGroups', async () => {
        const groups: AutoScalingGroup[] = [];
        for await (const page of paginateDescribeAutoScalingGroups(
          { client: this.deps.autoScaling, pageSize: 100 },
          { AutoScalingGroupNames: [...names] },
        )) {
          groups.push(...(page.AutoScalingGroups ?? []));
        }
        return groups;
      });
    } catch (error) {
      throw awsFailure('DescribeAutoScalingGroups', names.join(', '), error, ADVICE.autoScalingRead);
    }
  }

  /** The named groups that still exist (for isComplete after a Delete). */
  async remainingAutoScalingGroups(names: readonly string[]): Promise<string[]> {
    if (names.length === 0) return [];
    this.logCall('DescribeAutoScalingGroups', { AutoScalingGroupNames: names });
    try {
      return await this.retrying('DescribeAutoScalingGroups', async () => {
        const remaining: string[] = [];
        for await (const page of paginateDescribeAutoScalingGroups(
          { client: this.deps.autoScaling, pageSize: 100 },
          { AutoScalingGroupNames: [...names] },
        )) {
          remaining.push(...(page.AutoScalingGroups ?? []).flatMap((group) => group.AutoScalingGroupName ?? []));
        }
        return remaining;
      });
    } catch (error) {
      throw awsFailure('DescribeAutoScalingGroups', names.join(', '), error, ADVICE.autoScalingRead);
    }
  }
}

/**
 * Auto Scaling reports a missing group as a generic ValidationError whose
 * message names it ("AutoScalingGroup name not found - ..."); the same test
 * terraform-provider-aws uses.
 */
export function isAutoScalingGroupNotFound(error: unknown): boolean {
  return isErrorNamed(error, 'ValidationError') && /AutoScalingGroup name not found|Group .* not found/.test(describeError(error).message);
}


/**
 * A retryable error that outlasted the retry budget. Its name and message are
 * the AWS error's, so awsFailure reports it as such, with a note that it was retried.
 */
export class RetriesExhausted extends Error {
  constructor(
    readonly original: unknown,
    readonly attempts: number,
  ) {
    const { name, message } = describeError(original);
    super(
      `${message.replace(/\.?$/, '.')} Still failing after ${attempts} attempts over the retry budget; IAM changes usually reach ` +
        'CodeDeploy and Auto Scaling within minutes, so retry the deployment; if it fails again, the role really lacks the permission',
      { cause: original },
    );
    this.name = name;
  }
}
