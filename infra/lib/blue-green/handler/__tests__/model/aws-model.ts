import {
  AttachLoadBalancerTargetGroupsCommand,
  AutoScalingClient,
  AutoScalingServiceException,
  CreateAutoScalingGroupCommand,
  CreateOrUpdateTagsCommand,
  DeleteAutoScalingGroupCommand,
  DeleteNotificationConfigurationCommand,
  DeleteTagsCommand,
  DescribeAutoScalingGroupsCommand,
  DetachLoadBalancerTargetGroupsCommand,
  PutNotificationConfigurationCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import {
  BatchGetDeploymentGroupsCommand,
  CodeDeployClient,
  CodeDeployServiceException,
  CreateDeploymentGroupCommand,
  DeleteDeploymentGroupCommand,
  GetDeploymentGroupCommand,
  ListDeploymentGroupsCommand,
  ListTagsForResourceCommand,
  TagResourceCommand,
  UpdateDeploymentGroupCommand,
  type DeploymentGroupInfo,
} from '@aws-sdk/client-codedeploy';
import { mockClient } from 'aws-sdk-client-mock';

/**
 * A stateful model of the parts of CodeDeploy and EC2 Auto Scaling the fleet
 * handler calls, plus what CodeDeploy itself does during a blue/green
 * deployment of a COPY_AUTO_SCALING_GROUP deployment group. The handler runs
 * unchanged against it: `connect()` answers every SDK command from this state
 * through aws-sdk-client-mock's `callsFake`.
 *
 * What it models (and the AWS documentation it follows):
 * - deployment groups with tags, looked up by application; ARNs as IAM sees them;
 * - a blue/green deployment copies the target group into
 *   `CodeDeploy_<deployment group>_<deployment id>` (capacity, launch template,
 *   target groups, notifications; tags when `copiesTags`), lists both while it
 *   runs, then targets the copy (success) or the original (failure, rollback);
 *   the loser is deleted (after the termination wait for the original);
 * - `DeleteAutoScalingGroup` leaves a group in `Delete in progress` for a few
 *   `advance()` steps before it disappears;
 * - faults: an error for the next N calls of an operation (IAM propagation,
 *   throttling, access denied).
 *
 * Not modelled: instances one by one (a group's instances are its desired
 * capacity), lifecycle hooks, health checks, load balancer registration.
 */

export const MODEL_ACCOUNT = '123456789012';
export const MODEL_REGION = 'eu-west-1';
export const MODEL_PARTITION = 'aws';

/** How many advance() steps a deleted group stays in `Delete in progress`. */
const DELETE_STEPS = 2;
/** Page sizes small enough that the handler's paginators really page. */
const DESCRIBE_PAGE = 3;
const LIST_PAGE = 2;

export interface ModelGroup {
  readonly name: string;
  launchTemplate: { id: string; version: string };
  min: number;
  desired: number;
  max: number;
  subnets: string;
  healthCheckType: string;
  targetGroups: Set<string>;
  tags: Map<string, { value: string; propagate: boolean }>;
  notifications: Map<string, readonly string[]>;
  /** Steps left until a group being deleted is gone; undefined while it lives. */
  deleting: number | undefined;
  readonly createdAt: number;
  /** Who made it: the handler (through the API) or CodeDeploy (a blue/green copy). */
  readonly madeBy: 'api' | 'codedeploy';
}

export interface ModelDeploymentGroup {
  readonly applicationName: string;
  readonly name: string;
  settings: Record<string, unknown>;
  autoScalingGroups: string[];
  tags: Map<string, string>;
}

export type DeploymentOutcome = 'succeeded' | 'failed' | 'rolled-back-by-alarm';

export interface ModelDeployment {
  readonly id: string;
  readonly applicationName: string;
  readonly deploymentGroupName: string;
  readonly blue: string;
  readonly green: string;
  /** running: both groups targeted; waiting: traffic on green, blue kept for the termination wait; then done. */
  phase: 'running' | 'waiting' | 'done';
  outcome?: DeploymentOutcome;
}

/** One call the handler made, as IAM evaluates it later. */
export interface ModelCall {
  readonly service: 'codedeploy' | 'autoscaling';
  readonly operation: string;
  readonly input: Record<string, unknown>;
  /** Whether the model answered it with an error. */
  failed: boolean;
  /** The error's name, when it failed. */
  error?: string;
}

export interface Fault {
  readonly operation: string | RegExp;
  /** Calls left that get the error. */
  remaining: number;
  readonly error: (call: ModelCall) => Error;
}

export function codeDeployError(name: string, message: string): CodeDeployServiceException {
  return new CodeDeployServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: 400, requestId: 'model-cd' }, message });
}

export function autoScalingError(name: string, message: string): AutoScalingServiceException {
  return new AutoScalingServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: 400, requestId: 'model-as' }, message });
}

/** Ready-made faults, each the answer AWS gives in that situation. */
export const FAULTS = {
  /** The CodeDeploy service role (or its policy) is too new for CodeDeploy to assume it yet. */
  invalidRole: (operation: 'CreateDeploymentGroup' | 'UpdateDeploymentGroup', times: number): Fault => ({
    operation,
    remaining: times,
    error: (call) =>
      codeDeployError('InvalidRoleException', `AWS CodeDeploy does not have the permissions required to assume the role ${String(call.input.serviceRoleArn)}.`),
  }),
  /** Auto Scaling checks the caller's ec2:RunInstances / iam:PassRole on the launch template; a new policy is not seen yet. */
  launchTemplateNotAuthorized: (operation: 'CreateAutoScalingGroup' | 'UpdateAutoScalingGroup', times: number): Fault => ({
    operation,
    remaining: times,
    error: (call) => {
      const template = (call.input.LaunchTemplate as { LaunchTemplateId?: string } | undefined)?.LaunchTemplateId ?? 'lt-unknown';
      return autoScalingError('ValidationError', `You are not authorized to use launch template: ${template}`);
    },
  }),
  passRoleNotAuthorized: (operation: 'CreateAutoScalingGroup' | 'UpdateAutoScalingGroup', times: number): Fault => ({
    operation,
    remaining: times,
    error: () =>
      autoScalingError(
        'ValidationError',
        `You are not authorized to perform this operation. User: arn:aws:sts::${MODEL_ACCOUNT}:assumed-role/handler/fn is not authorized to perform: iam:PassRole on resource: arn:aws:iam::${MODEL_ACCOUNT}:role/instance`,
      ),
  }),
  throttling: (operation: string | RegExp, times: number): Fault => ({
    operation,
    remaining: times,
    error: (call) =>
      call.service === 'codedeploy' ? codeDeployError('ThrottlingException', 'Rate exceeded') : autoScalingError('Throttling', 'Rate exceeded'),
  }),
  accessDenied: (operation: string | RegExp, times: number): Fault => ({
    operation,
    remaining: times,
    error: (call) =>
      call.service === 'codedeploy'
        ? codeDeployError('AccessDeniedException', `User is not authorized to perform: codedeploy:${call.operation}`)
        : autoScalingError('AccessDenied', `User is not authorized to perform: autoscaling:${call.operation}`),
  }),
} as const;

export class AwsModel {
  readonly applications = new Set<string>();
  readonly deploymentGroups = new Map<string, ModelDeploymentGroup>();
  readonly groups = new Map<string, ModelGroup>();
  readonly deployments: ModelDeployment[] = [];
  readonly calls: ModelCall[] = [];
  readonly faults: Fault[] = [];
  /**
   * Groups that were deleted, in order: whether the handler or CodeDeploy
   * deleted them, their tags then, and the `context` at the time (tests set it
   * to the resource whose event is running).
   */
  readonly deletedGroups: { name: string; by: 'api' | 'codedeploy'; tags: Map<string, string>; context?: string }[] = [];
  /** Deployment groups the handler deleted, with their tags and the `context` at the time. */
  readonly deletedDeploymentGroups: { name: string; tags: Map<string, string>; context?: string }[] = [];
  /** Set by tests to whatever they want deletions attributed to. */
  context: string | undefined;
  /** Whether CodeDeploy's copy carries the original's tags (undocumented; tests run both ways). */
  copiesTags = true;
  private clock = 0;
  private deploymentCounter = 0;

  constructor(options: { copiesTags?: boolean } = {}) {
    this.copiesTags = options.copiesTags ?? true;
  }

  // --- set-up and CodeDeploy's own behaviour ------------------------------

  addApplication(name: string): void {
    this.applications.add(name);
  }

  inject(fault: Fault): void {
    this.faults.push(fault);
  }

  /** Time passes: groups being deleted get closer to gone. */
  advance(steps = 1): void {
    for (let step = 0; step < steps; step += 1) {
      this.clock += 1;
      for (const group of [...this.groups.values()]) {
        if (group.deleting === undefined) continue;
        group.deleting -= 1;
        if (group.deleting <= 0) this.groups.delete(group.name);
      }
    }
  }

  /** Whether a deployment of this deployment group is running or waiting to delete blue. */
  activeDeployment(applicationName: string, deploymentGroupName: string): ModelDeployment | undefined {
    return this.deployments.find(
      (d) => d.applicationName === applicationName && d.deploymentGroupName === deploymentGroupName && d.phase !== 'done',
    );
  }

  /**
   * CodeDeploy starts a blue/green deployment: it copies the one group the
   * deployment group targets. Returns undefined when CodeDeploy would refuse
   * (no deployment group, another deployment active, not exactly one live group).
   */
  startDeployment(applicationName: string, deploymentGroupName: string): ModelDeployment | undefined {
    const dg = this.deploymentGroups.get(dgKey(applicationName, deploymentGroupName));
    if (dg === undefined || this.activeDeployment(applicationName, deploymentGroupName)) return undefined;
    const live = dg.autoScalingGroups.filter((name) => this.liveGroup(name));
    if (live.length !== 1 || dg.autoScalingGroups.length !== 1) return undefined;
    const blue = this.liveGroup(live[0]!)!;
    this.deploymentCounter += 1;
    const id = `d-MODEL${String(this.deploymentCounter).padStart(5, '0')}`;
    const green: ModelGroup = {
      name: `CodeDeploy_${deploymentGroupName}_${id}`,
      launchTemplate: { ...blue.launchTemplate },
      min: blue.min,
      desired: blue.desired,
      max: blue.max,
      subnets: blue.subnets,
      healthCheckType: blue.healthCheckType,
      targetGroups: new Set(blue.targetGroups),
      tags: this.copiesTags ? new Map(blue.tags) : new Map<string, { value: string; propagate: boolean }>(),
      notifications: new Map(blue.notifications),
      deleting: undefined,
      createdAt: this.clock,
      madeBy: 'codedeploy',
    };
    this.groups.set(green.name, green);
    dg.autoScalingGroups = [blue.name, green.name];
    const deployment: ModelDeployment = { id, applicationName, deploymentGroupName, blue: blue.name, green: green.name, phase: 'running' };
    this.deployments.push(deployment);
    return deployment;
  }

  /**
   * The running deployment ends. Succeeded: traffic is on green, blue waits
   * out the termination wait. Failed: green is deleted, blue keeps traffic.
   */
  finishDeployment(deployment: ModelDeployment, outcome: 'succeeded' | 'failed'): void {
    if (deployment.phase !== 'running') return;
    const dg = this.deploymentGroups.get(dgKey(deployment.applicationName, deployment.deploymentGroupName));
    if (outcome === 'succeeded') {
      if (dg) dg.autoScalingGroups = [deployment.green];
      deployment.phase = 'waiting';
      deployment.outcome = 'succeeded';
      return;
    }
    if (dg) dg.autoScalingGroups = [deployment.blue];
    this.codeDeployDeletes(deployment.green);
    deployment.phase = 'done';
    deployment.outcome = 'failed';
  }

  /** The termination wait ends: blue is deleted, or an alarm in the wait moves traffic back and green is deleted. */
  endTerminationWait(deployment: ModelDeployment, alarm: boolean): void {
    if (deployment.phase !== 'waiting') return;
    const dg = this.deploymentGroups.get(dgKey(deployment.applicationName, deployment.deploymentGroupName));
    if (alarm && this.liveGroup(deployment.blue)) {
      if (dg) dg.autoScalingGroups = [deployment.blue];
      this.codeDeployDeletes(deployment.green);
      deployment.outcome = 'rolled-back-by-alarm';
    } else {
      this.codeDeployDeletes(deployment.blue);
    }
    deployment.phase = 'done';
  }

  /** An operator (or a scaling policy) changes a group's desired capacity within its bounds. */
  scale(name: string, desired: number): void {
    const group = this.liveGroup(name);
    if (group) group.desired = Math.min(group.max, Math.max(group.min, desired));
  }

  /** Someone deletes the deployment group by hand (console, CLI). */
  deleteDeploymentGroupByHand(applicationName: string, deploymentGroupName: string): void {
    this.deploymentGroups.delete(dgKey(applicationName, deploymentGroupName));
  }

  /** A group that exists and is not being deleted. */
  liveGroup(name: string): ModelGroup | undefined {
    const group = this.groups.get(name);
    return group && group.deleting === undefined ? group : undefined;
  }

  deploymentGroupArn(applicationName: string, deploymentGroupName: string): string {
    return `arn:${MODEL_PARTITION}:codedeploy:${MODEL_REGION}:${MODEL_ACCOUNT}:deploymentgroup:${applicationName}/${deploymentGroupName}`;
  }

  private contextField(): { context?: string } {
    return this.context === undefined ? {} : { context: this.context };
  }

  private codeDeployDeletes(name: string): void {
    const group = this.liveGroup(name);
    if (!group) return;
    group.deleting = DELETE_STEPS;
    this.deletedGroups.push({ name, by: 'codedeploy', tags: tagValues(group), ...this.contextField() });
  }

  // --- wiring ---------------------------------------------------------------

  /**
   * Mocks both SDK clients so every command is answered by this model, and
   * returns real client instances for the handler.
   */
  connect(): { codeDeploy: CodeDeployClient; autoScaling: AutoScalingClient; restore: () => void } {
    const cd = mockClient(CodeDeployClient);
    const as = mockClient(AutoScalingClient);
    // Each model method takes the command's input; `never` lets one wrapper serve them all.
    const answer =
      (service: ModelCall['service'], operation: string, fn: (input: never) => unknown) =>
      (input: unknown) =>
        this.answer(service, operation, input as Record<string, unknown>, () => fn(input as never));
    cd.on(GetDeploymentGroupCommand).callsFake(answer('codedeploy', 'GetDeploymentGroup', (i) => this.getDeploymentGroup(i)));
    cd.on(CreateDeploymentGroupCommand).callsFake(answer('codedeploy', 'CreateDeploymentGroup', (i) => this.createDeploymentGroup(i)));
    cd.on(UpdateDeploymentGroupCommand).callsFake(answer('codedeploy', 'UpdateDeploymentGroup', (i) => this.updateDeploymentGroup(i)));
    cd.on(DeleteDeploymentGroupCommand).callsFake(answer('codedeploy', 'DeleteDeploymentGroup', (i) => this.deleteDeploymentGroup(i)));
    cd.on(ListDeploymentGroupsCommand).callsFake(answer('codedeploy', 'ListDeploymentGroups', (i) => this.listDeploymentGroups(i)));
    cd.on(BatchGetDeploymentGroupsCommand).callsFake(answer('codedeploy', 'BatchGetDeploymentGroups', (i) => this.batchGetDeploymentGroups(i)));
    cd.on(ListTagsForResourceCommand).callsFake(answer('codedeploy', 'ListTagsForResource', (i) => this.listTagsForResource(i)));
    cd.on(TagResourceCommand).callsFake(answer('codedeploy', 'TagResource', (i) => this.tagResource(i)));
    as.on(CreateAutoScalingGroupCommand).callsFake(answer('autoscaling', 'CreateAutoScalingGroup', (i) => this.createAutoScalingGroup(i)));
    as.on(UpdateAutoScalingGroupCommand).callsFake(answer('autoscaling', 'UpdateAutoScalingGroup', (i) => this.updateAutoScalingGroup(i)));
    as.on(DeleteAutoScalingGroupCommand).callsFake(answer('autoscaling', 'DeleteAutoScalingGroup', (i) => this.deleteAutoScalingGroup(i)));
    as.on(DescribeAutoScalingGroupsCommand).callsFake(answer('autoscaling', 'DescribeAutoScalingGroups', (i) => this.describeAutoScalingGroups(i)));
    as.on(CreateOrUpdateTagsCommand).callsFake(answer('autoscaling', 'CreateOrUpdateTags', (i) => this.createOrUpdateTags(i)));
    as.on(DeleteTagsCommand).callsFake(answer('autoscaling', 'DeleteTags', (i) => this.deleteTags(i)));
    as.on(AttachLoadBalancerTargetGroupsCommand).callsFake(
      answer('autoscaling', 'AttachLoadBalancerTargetGroups', (i) => this.attachTargetGroups(i)),
    );
    as.on(DetachLoadBalancerTargetGroupsCommand).callsFake(
      answer('autoscaling', 'DetachLoadBalancerTargetGroups', (i) => this.detachTargetGroups(i)),
    );
    as.on(PutNotificationConfigurationCommand).callsFake(answer('autoscaling', 'PutNotificationConfiguration', (i) => this.putNotification(i)));
    as.on(DeleteNotificationConfigurationCommand).callsFake(
      answer('autoscaling', 'DeleteNotificationConfiguration', (i) => this.deleteNotification(i)),
    );
    return {
      codeDeploy: new CodeDeployClient({ region: MODEL_REGION }),
      autoScaling: new AutoScalingClient({ region: MODEL_REGION }),
      restore: () => {
        cd.restore();
        as.restore();
      },
    };
  }

  private answer(service: ModelCall['service'], operation: string, input: Record<string, unknown>, run: () => unknown): Promise<unknown> {
    // A copy: the SDK's paginators reuse one input object for every page.
    const call: ModelCall = { service, operation, input: structuredClone(input), failed: false };
    this.calls.push(call);
    const fault = this.faults.find((f) => f.remaining > 0 && (typeof f.operation === 'string' ? f.operation === operation : f.operation.test(operation)));
    try {
      if (fault) {
        fault.remaining -= 1;
        throw fault.error(call);
      }
      return Promise.resolve(run());
    } catch (error) {
      call.failed = true;
      call.error = error instanceof Error ? error.name : 'Error';
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  // --- CodeDeploy API --------------------------------------------------------

  private requireApplication(applicationName: unknown): string {
    const name = String(applicationName);
    if (!this.applications.has(name)) throw codeDeployError('ApplicationDoesNotExistException', `No application found for name: ${name}`);
    return name;
  }

  private requireDeploymentGroup(applicationName: unknown, deploymentGroupName: unknown): ModelDeploymentGroup {
    const app = this.requireApplication(applicationName);
    const dg = this.deploymentGroups.get(dgKey(app, String(deploymentGroupName)));
    if (!dg) throw codeDeployError('DeploymentGroupDoesNotExistException', `No Deployment Group found for name: ${String(deploymentGroupName)}`);
    return dg;
  }

  private info(dg: ModelDeploymentGroup): DeploymentGroupInfo {
    return {
      applicationName: dg.applicationName,
      deploymentGroupName: dg.name,
      serviceRoleArn: dg.settings.serviceRoleArn as string,
      autoScalingGroups: dg.autoScalingGroups.map((name) => ({ name, hook: `CodeDeploy-managed-automatic-launch-deployment-hook-${dg.name}` })),
    };
  }

  private getDeploymentGroup(input: { applicationName?: string; deploymentGroupName?: string }): unknown {
    return { deploymentGroupInfo: this.info(this.requireDeploymentGroup(input.applicationName, input.deploymentGroupName)) };
  }

  private checkDeploymentGroupRequest(input: Record<string, unknown>, autoScalingGroups: readonly string[] | undefined): void {
    for (const name of autoScalingGroups ?? []) {
      if (!this.liveGroup(name)) throw codeDeployError('InvalidAutoScalingGroupException', `Auto Scaling group not found: ${name}`);
    }
    const blueGreen = input.blueGreenDeploymentConfiguration as { greenFleetProvisioningOption?: { action?: string } } | undefined;
    if (autoScalingGroups !== undefined && blueGreen?.greenFleetProvisioningOption?.action === 'COPY_AUTO_SCALING_GROUP' && autoScalingGroups.length !== 1) {
      throw codeDeployError(
        'InvalidBlueGreenDeploymentConfigurationException',
        'Exactly one AutoScaling group must be specified when selecting the COPY_AUTO_SCALING_GROUP green fleet provisioning option.',
      );
    }
  }

  private createDeploymentGroup(input: Record<string, unknown>): unknown {
    const app = this.requireApplication(input.applicationName);
    const name = String(input.deploymentGroupName);
    if (this.deploymentGroups.has(dgKey(app, name))) {
      throw codeDeployError('DeploymentGroupAlreadyExistsException', `The deployment group ${name} already exists for application ${app}`);
    }
    const groups = (input.autoScalingGroups as string[] | undefined) ?? [];
    this.checkDeploymentGroupRequest(input, groups);
    const tags = new Map(((input.tags as { Key?: string; Value?: string }[] | undefined) ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
    this.deploymentGroups.set(dgKey(app, name), { applicationName: app, name, settings: { ...input }, autoScalingGroups: [...groups], tags });
    return { deploymentGroupId: `dg-${name}` };
  }

  private updateDeploymentGroup(input: Record<string, unknown>): unknown {
    const dg = this.requireDeploymentGroup(input.applicationName, input.currentDeploymentGroupName);
    if (input.newDeploymentGroupName !== undefined && input.newDeploymentGroupName !== dg.name) {
      throw new Error('model: renaming deployment groups is not modelled');
    }
    const groups = input.autoScalingGroups as string[] | undefined;
    this.checkDeploymentGroupRequest(input, groups);
    dg.settings = { ...dg.settings, ...input };
    if (groups !== undefined) dg.autoScalingGroups = [...groups];
    return { hooksNotCleanedUp: [] };
  }

  private deleteDeploymentGroup(input: { applicationName?: string; deploymentGroupName?: string }): unknown {
    const app = this.requireApplication(input.applicationName);
    const key = dgKey(app, String(input.deploymentGroupName));
    const dg = this.deploymentGroups.get(key);
    if (dg) this.deletedDeploymentGroups.push({ name: key, tags: new Map(dg.tags), ...this.contextField() });
    this.deploymentGroups.delete(key);
    // A deployment of a deleted group stops where it is; its groups stay as they are.
    for (const d of this.deployments) {
      if (d.applicationName === app && d.deploymentGroupName === input.deploymentGroupName) d.phase = 'done';
    }
    return { hooksNotCleanedUp: [] };
  }

  private listDeploymentGroups(input: { applicationName?: string; nextToken?: string }): unknown {
    const app = this.requireApplication(input.applicationName);
    const names = [...this.deploymentGroups.values()].filter((dg) => dg.applicationName === app).map((dg) => dg.name).sort();
    const start = input.nextToken ? Number(input.nextToken) : 0;
    const page = names.slice(start, start + LIST_PAGE);
    return { applicationName: app, deploymentGroups: page, nextToken: start + LIST_PAGE < names.length ? String(start + LIST_PAGE) : undefined };
  }

  private batchGetDeploymentGroups(input: { applicationName?: string; deploymentGroupNames?: string[] }): unknown {
    const app = this.requireApplication(input.applicationName);
    const names = input.deploymentGroupNames ?? [];
    if (names.length > 100) throw codeDeployError('BatchLimitExceededException', 'The maximum number of names was exceeded.');
    return {
      deploymentGroupsInfo: names.flatMap((name) => {
        const dg = this.deploymentGroups.get(dgKey(app, name));
        return dg ? [this.info(dg)] : [];
      }),
    };
  }

  private deploymentGroupByArn(arn: unknown): ModelDeploymentGroup {
    const match = /^arn:[\w-]+:codedeploy:([\w-]+):(\d{12}):deploymentgroup:([^/]+)\/(.+)$/.exec(String(arn));
    if (!match || match[1] !== MODEL_REGION || match[2] !== MODEL_ACCOUNT) {
      throw codeDeployError('InvalidArnException', `The specified ARN is not in a valid format: ${String(arn)}`);
    }
    const dg = this.deploymentGroups.get(dgKey(match[3]!, match[4]!));
    if (!dg) throw codeDeployError('ResourceArnRequiredException', `The ARN ${String(arn)} does not name an existing resource.`);
    return dg;
  }

  private listTagsForResource(input: { ResourceArn?: string }): unknown {
    const dg = this.deploymentGroupByArn(input.ResourceArn);
    return { Tags: [...dg.tags].map(([Key, Value]) => ({ Key, Value })) };
  }

  private tagResource(input: { ResourceArn?: string; Tags?: { Key?: string; Value?: string }[] }): unknown {
    const dg = this.deploymentGroupByArn(input.ResourceArn);
    for (const tag of input.Tags ?? []) dg.tags.set(tag.Key ?? '', tag.Value ?? '');
    return {};
  }

  // --- Auto Scaling API ------------------------------------------------------

  private notFound(name: string): Error {
    return autoScalingError('ValidationError', `AutoScalingGroup name not found - AutoScalingGroup '${name}' not found`);
  }

  private requireLiveGroup(name: unknown): ModelGroup {
    const group = this.groups.get(String(name));
    if (!group) throw this.notFound(String(name));
    if (group.deleting !== undefined) {
      throw autoScalingError('ValidationError', `AutoScalingGroup ${String(name)} is pending delete.`);
    }
    return group;
  }

  private createAutoScalingGroup(input: Record<string, unknown>): unknown {
    const name = String(input.AutoScalingGroupName);
    if (this.groups.has(name)) {
      throw autoScalingError('AlreadyExists', `AutoScalingGroup by this name already exists - A group with the name ${name} already exists`);
    }
    const lt = input.LaunchTemplate as { LaunchTemplateId: string; Version: string };
    const min = Number(input.MinSize);
    const max = Number(input.MaxSize);
    const desired = input.DesiredCapacity === undefined ? min : Number(input.DesiredCapacity);
    if (!(min <= desired && desired <= max)) throw autoScalingError('ValidationError', 'Desired capacity must be between min and max.');
    const tags = new Map(
      ((input.Tags as { Key?: string; Value?: string; PropagateAtLaunch?: boolean }[] | undefined) ?? []).map((t) => [
        t.Key ?? '',
        { value: t.Value ?? '', propagate: t.PropagateAtLaunch ?? false },
      ]),
    );
    this.groups.set(name, {
      name,
      launchTemplate: { id: lt.LaunchTemplateId, version: lt.Version },
      min,
      desired,
      max,
      subnets: String(input.VPCZoneIdentifier),
      healthCheckType: (input.HealthCheckType as string | undefined) ?? 'EC2',
      targetGroups: new Set((input.TargetGroupARNs as string[] | undefined) ?? []),
      tags,
      notifications: new Map(),
      deleting: undefined,
      createdAt: this.clock,
      madeBy: 'api',
    });
    return {};
  }

  private updateAutoScalingGroup(input: Record<string, unknown>): unknown {
    const group = this.requireLiveGroup(input.AutoScalingGroupName);
    const min = input.MinSize === undefined ? group.min : Number(input.MinSize);
    const max = input.MaxSize === undefined ? group.max : Number(input.MaxSize);
    const desired = input.DesiredCapacity === undefined ? Math.min(max, Math.max(min, group.desired)) : Number(input.DesiredCapacity);
    if (!(min <= desired && desired <= max)) throw autoScalingError('ValidationError', 'Desired capacity must be between min and max.');
    Object.assign(group, { min, max, desired });
    const lt = input.LaunchTemplate as { LaunchTemplateId: string; Version: string } | undefined;
    if (lt) group.launchTemplate = { id: lt.LaunchTemplateId, version: lt.Version };
    if (input.VPCZoneIdentifier !== undefined) group.subnets = input.VPCZoneIdentifier as string;
    if (input.HealthCheckType !== undefined) group.healthCheckType = input.HealthCheckType as string;
    return {};
  }

  private deleteAutoScalingGroup(input: { AutoScalingGroupName?: string }): unknown {
    const name = String(input.AutoScalingGroupName);
    const group = this.groups.get(name);
    if (!group) throw this.notFound(name);
    if (group.deleting === undefined) {
      group.deleting = DELETE_STEPS;
      this.deletedGroups.push({ name, by: 'api', tags: tagValues(group), ...this.contextField() });
    }
    return {};
  }

  private describeAutoScalingGroups(input: { AutoScalingGroupNames?: string[]; MaxRecords?: number; NextToken?: string }): unknown {
    const wanted = input.AutoScalingGroupNames;
    const all = [...this.groups.values()].filter((g) => wanted === undefined || wanted.includes(g.name)).sort((a, b) => a.name.localeCompare(b.name));
    const size = Math.min(input.MaxRecords ?? DESCRIBE_PAGE, DESCRIBE_PAGE);
    const start = input.NextToken ? Number(input.NextToken) : 0;
    return {
      AutoScalingGroups: all.slice(start, start + size).map((g) => describeGroup(g)),
      NextToken: start + size < all.length ? String(start + size) : undefined,
    };
  }

  private createOrUpdateTags(input: { Tags?: { ResourceId?: string; Key?: string; Value?: string; PropagateAtLaunch?: boolean }[] }): unknown {
    for (const tag of input.Tags ?? []) {
      const group = this.groups.get(String(tag.ResourceId));
      if (!group) throw this.notFound(String(tag.ResourceId));
      group.tags.set(tag.Key ?? '', { value: tag.Value ?? '', propagate: tag.PropagateAtLaunch ?? false });
    }
    return {};
  }

  private deleteTags(input: { Tags?: { ResourceId?: string; Key?: string }[] }): unknown {
    for (const tag of input.Tags ?? []) this.groups.get(String(tag.ResourceId))?.tags.delete(tag.Key ?? '');
    return {};
  }

  private attachTargetGroups(input: { AutoScalingGroupName?: string; TargetGroupARNs?: string[] }): unknown {
    const group = this.requireLiveGroup(input.AutoScalingGroupName);
    for (const arn of input.TargetGroupARNs ?? []) group.targetGroups.add(arn);
    return {};
  }

  private detachTargetGroups(input: { AutoScalingGroupName?: string; TargetGroupARNs?: string[] }): unknown {
    const group = this.requireLiveGroup(input.AutoScalingGroupName);
    for (const arn of input.TargetGroupARNs ?? []) group.targetGroups.delete(arn);
    return {};
  }

  private putNotification(input: { AutoScalingGroupName?: string; TopicARN?: string; NotificationTypes?: string[] }): unknown {
    const group = this.requireLiveGroup(input.AutoScalingGroupName);
    group.notifications.set(String(input.TopicARN), input.NotificationTypes ?? []);
    return {};
  }

  private deleteNotification(input: { AutoScalingGroupName?: string; TopicARN?: string }): unknown {
    const group = this.requireLiveGroup(input.AutoScalingGroupName);
    group.notifications.delete(String(input.TopicARN));
    return {};
  }
}

function dgKey(applicationName: string, deploymentGroupName: string): string {
  return `${applicationName}/${deploymentGroupName}`;
}

function tagValues(group: ModelGroup): Map<string, string> {
  return new Map([...group.tags].map(([key, tag]) => [key, tag.value]));
}

function describeGroup(g: ModelGroup): AutoScalingGroup {
  return {
    AutoScalingGroupName: g.name,
    AutoScalingGroupARN: `arn:${MODEL_PARTITION}:autoscaling:${MODEL_REGION}:${MODEL_ACCOUNT}:autoScalingGroup:00000000-0000-0000-0000-000000000000:autoScalingGroupName/${g.name}`,
    LaunchTemplate: { LaunchTemplateId: g.launchTemplate.id, Version: g.launchTemplate.version },
    MinSize: g.min,
    MaxSize: g.max,
    DesiredCapacity: g.desired,
    DefaultCooldown: 300,
    AvailabilityZones: [`${MODEL_REGION}a`, `${MODEL_REGION}b`],
    HealthCheckType: g.healthCheckType,
    CreatedTime: new Date(Date.UTC(2026, 0, 1) + g.createdAt * 60_000),
    VPCZoneIdentifier: g.subnets,
    TargetGroupARNs: [...g.targetGroups],
    Tags: [...g.tags].map(([Key, tag]) => ({ Key, Value: tag.value, PropagateAtLaunch: tag.propagate, ResourceId: g.name, ResourceType: 'auto-scaling-group' })),
    ...(g.deleting === undefined ? {} : { Status: 'Delete in progress' }),
  };
}
