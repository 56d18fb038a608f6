/**
 * IAM checked, not assumed. Every call the handler makes while the stateful
 * model runs it through CloudFormation's events is evaluated, with the policy
 * simulator, against the handler role's policies as this construct
 * synthesizes them; and the calls CodeDeploy makes with its service role
 * during a blue/green deployment of a launch-template group are evaluated
 * against the service role's. A policy that loses a needed permission fails
 * here, naming the call.
 */
import type { CfnResource } from 'aws-cdk-lib';

import {
  expectAllowed,
  expectDenied,
  resolveApp,
  TEST_ACCOUNT,
  type ResolvedApp,
  type RolePolicies,
  type SimulatedRequest,
} from '../../../test-support/iam-simulator';
import { quietConsole } from '../handler/__tests__/mocks';
import { FAULTS, type ModelCall } from '../handler/__tests__/model/aws-model';
import { createWorld, type World } from '../handler/__tests__/model/world';
import { fleetTestStack, TEST_NAMES, type FleetTestStack } from './test-stack';

/** A concrete Auto Scaling group ARN (the id part is a uuid on AWS; any one does here). */
const GROUP_UUID = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';

interface Fixture {
  readonly built: FleetTestStack;
  readonly resolved: ResolvedApp;
  readonly region: string;
  /** The custom resource's properties with every intrinsic resolved. */
  readonly props: Record<string, unknown>;
  readonly handlerRole: RolePolicies;
  readonly serviceRole: RolePolicies;
  readonly instanceRoleArn: string;
  readonly securityGroupIds: readonly string[];
  readonly alarmArns: readonly string[];
  readonly topicArn: string;
}

let fixture: Fixture;

beforeAll(() => {
  const built = fleetTestStack();
  const { stack, template, fleet } = built;
  const resolved = resolveApp([stack]);
  const name = stack.stackName;
  const logicalId = (resource: { node: { defaultChild?: unknown } }): string => stack.getLogicalId(resource.node.defaultChild as CfnResource);

  const [fleetResource] = Object.values(template.findResources('Custom::BlueGreenFleet')) as { Properties: Record<string, unknown> }[];
  // The target group's name is an attribute the simulator's resolver does not know; on AWS it is the ARN's name part.
  const { TargetGroupName: _name, ...rest } = fleetResource!.Properties;
  const props = resolved.resolve(name, rest) as Record<string, unknown>;
  const targetGroupName = String(props.TargetGroupArn).split('/')[1];

  const launchTemplateData = (template.toJSON().Resources as Record<string, { Properties: { LaunchTemplateData: { SecurityGroupIds: unknown } } }>)[
    logicalId(built.launchTemplate)
  ]!.Properties.LaunchTemplateData;
  fixture = {
    built,
    resolved,
    region: resolved.region,
    props: { ...props, TargetGroupName: targetGroupName },
    handlerRole: resolved.rolePolicies(name, logicalId(fleet.handler.role as unknown as { node: { defaultChild?: unknown } })),
    serviceRole: resolved.rolePolicies(name, logicalId(fleet.serviceRole)),
    instanceRoleArn: resolved.arnOf(name, logicalId(built.instanceRole)),
    securityGroupIds: resolved.resolve(name, launchTemplateData.SecurityGroupIds) as string[],
    alarmArns: [built.alarms.errors, built.alarms.unhealthy].map(
      (alarm) => `arn:aws:cloudwatch:${resolved.region}:${TEST_ACCOUNT}:alarm:${String(resolved.resolve(name, { Ref: logicalId(alarm) }))}`,
    ),
    topicArn: String(props.NotificationTopicArn),
  };
});

// --- ARNs as IAM sees them --------------------------------------------------

function arn(service: string, resource: string): string {
  return `arn:aws:${service}:${fixture.region}:${TEST_ACCOUNT}:${resource}`;
}

const groupArn = (name: string): string => arn('autoscaling', `autoScalingGroup:${GROUP_UUID}:autoScalingGroupName/${name}`);
const deploymentGroupArn = (app: string, dg: string): string => arn('codedeploy', `deploymentgroup:${app}/${dg}`);

/** What Auto Scaling checks with the caller's permissions when a group is created or updated from the launch template. */
function launchFromTemplate(launchTemplateId: string, note: string): SimulatedRequest[] {
  const template = arn('ec2', `launch-template/${launchTemplateId}`);
  const viaTemplate = { 'ec2:LaunchTemplate': template };
  const subnets = (fixture.props.SubnetIds as string[]).map((id) => arn('ec2', `subnet/${id}`));
  return [
    { action: 'ec2:RunInstances', resource: template, description: `${note}: RunInstances on the launch template` },
    ...subnets.map((resource) => ({ action: 'ec2:RunInstances', resource, context: viaTemplate, description: `${note}: RunInstances in ${resource}` })),
    ...fixture.securityGroupIds.map((id) => ({ action: 'ec2:RunInstances', resource: arn('ec2', `security-group/${id}`), context: viaTemplate })),
    ...['instance/i-0123456789abcdef0', 'volume/vol-0123456789abcdef0', 'network-interface/eni-0123456789abcdef0'].map((resource) => ({
      action: 'ec2:RunInstances',
      resource: arn('ec2', resource),
      context: viaTemplate,
    })),
    { action: 'ec2:RunInstances', resource: `arn:aws:ec2:${fixture.region}::image/ami-0123456789abcdef0`, context: viaTemplate },
    { action: 'ec2:CreateTags', resource: arn('ec2', 'instance/i-0123456789abcdef0'), context: { 'ec2:CreateAction': 'RunInstances' } },
    { action: 'iam:PassRole', resource: fixture.instanceRoleArn, context: { 'iam:PassedToService': 'ec2.amazonaws.com' }, description: `${note}: pass the instance role` },
  ];
}

/** The IAM requests one handler call makes. */
function requestsFor(call: ModelCall): SimulatedRequest[] {
  const input = call.input;
  const action = `${call.service}:${call.operation}`;
  const note = `${call.operation} ${JSON.stringify(input).slice(0, 80)}`;
  if (call.service === 'codedeploy') {
    const app = (input.applicationName as string | undefined) ?? '';
    switch (call.operation) {
      case 'ListDeploymentGroups':
        return [{ action, resource: arn('codedeploy', `application:${app}`), description: note }];
      case 'BatchGetDeploymentGroups':
        return (input.deploymentGroupNames as string[]).map((dg) => ({ action, resource: deploymentGroupArn(app, dg), description: note }));
      case 'ListTagsForResource':
      case 'TagResource': {
        const [, app2 = '', dg = ''] = /deploymentgroup:([^/]+)\/(.+)$/.exec(String(input.ResourceArn)) ?? [];
        return [{ action, resource: deploymentGroupArn(app2, dg), description: note }];
      }
      case 'CreateDeploymentGroup':
      case 'UpdateDeploymentGroup': {
        const dg = String(input.deploymentGroupName ?? input.currentDeploymentGroupName);
        return [
          { action, resource: deploymentGroupArn(app, dg), description: note },
          ...(input.tags === undefined ? [] : [{ action: 'codedeploy:TagResource', resource: deploymentGroupArn(app, dg), description: `${note}: tags` }]),
          { action: 'iam:PassRole', resource: String(input.serviceRoleArn), context: { 'iam:PassedToService': 'codedeploy.amazonaws.com' }, description: `${note}: pass the service role` },
        ];
      }
      default:
        return [{ action, resource: deploymentGroupArn(app, String(input.deploymentGroupName)), description: note }];
    }
  }
  switch (call.operation) {
    case 'DescribeAutoScalingGroups':
      return [{ action, resource: '*', description: note }];
    case 'CreateOrUpdateTags':
    case 'DeleteTags':
      return (input.Tags as { ResourceId: string }[]).map((tag) => ({ action, resource: groupArn(tag.ResourceId), description: note }));
    case 'CreateAutoScalingGroup':
    case 'UpdateAutoScalingGroup': {
      const name = String(input.AutoScalingGroupName);
      const template = (input.LaunchTemplate as { LaunchTemplateId?: string } | undefined)?.LaunchTemplateId;
      return [
        { action, resource: groupArn(name), description: note },
        // Tags given to CreateAutoScalingGroup need CreateOrUpdateTags as well.
        ...(input.Tags === undefined ? [] : [{ action: 'autoscaling:CreateOrUpdateTags', resource: groupArn(name), description: `${note}: tags` }]),
        ...(template === undefined ? [] : launchFromTemplate(template, note)),
      ];
    }
    default:
      return [{ action, resource: groupArn(String(input.AutoScalingGroupName)), description: note }];
  }
}

describe("the handler's calls against its synthesized policy", () => {
  let world: World;

  beforeEach(() => {
    quietConsole();
    world = createWorld();
    world.model.addApplication(TEST_NAMES.application);
  });

  afterEach(() => {
    world?.restore();
    jest.restoreAllMocks();
  });

  it('when the fleet lives through create, updates, deployments, faults, and delete, then IAM allows every call it makes', async () => {
    // Arrange
    const { model, stack } = world;
    const props = fixture.props;
    const dg = TEST_NAMES.deploymentGroup;

    // Act: a failed Create (cleaned up), then a life.
    model.inject(FAULTS.accessDenied('CreateDeploymentGroup', 1));
    await stack.deploy({ Fleet: props });
    model.inject(FAULTS.launchTemplateNotAuthorized('CreateAutoScalingGroup', 1));
    await stack.deploy({ Fleet: props });
    await stack.deploy({ Fleet: { ...props, DesiredCapacity: '3', LaunchTemplateVersion: '7' } });
    const first = model.startDeployment(TEST_NAMES.application, dg)!;
    await stack.deploy({ Fleet: { ...props, DesiredCapacity: '2' } });
    model.finishDeployment(first, 'succeeded');
    model.endTerminationWait(first, false);
    await stack.deploy({ Fleet: { ...props, NotificationTopicArn: undefined, DesiredCapacity: '3' } });
    await stack.deploy({ Fleet: { ...props, FleetTagKey: 'shop:fleet-v2' } }, { failAfter: true });
    // (A rename is left out: CloudFormation updates this policy to the new names before the resource,
    // so a policy synthesized for these names cannot judge it.)
    model.deleteDeploymentGroupByHand(TEST_NAMES.application, dg);
    await stack.deploy({ Fleet: { ...props, DesiredCapacity: '1' } });
    model.startDeployment(TEST_NAMES.application, dg);
    const status = await stack.destroy();

    // Assert
    expect(status).toBe('DELETE_COMPLETE');
    const requests = model.calls.flatMap(requestsFor);
    const distinct = [...new Map(requests.map((r) => [JSON.stringify(r), { ...r, description: r.description ?? '' }])).values()];
    process.stdout.write(`fleet IAM check: ${model.calls.length} handler calls, ${distinct.length} distinct IAM requests\n`);
    expect(new Set(model.calls.map((c) => c.operation)).size).toBeGreaterThanOrEqual(12);
    await expectAllowed(fixture.handlerRole, distinct);
  });

  it('when the handler is scoped to its fleet, then it may not touch another deployment group or group, nor pass the role to another service', async () => {
    await expectDenied(fixture.handlerRole, [
      { action: 'codedeploy:DeleteDeploymentGroup', resource: deploymentGroupArn(TEST_NAMES.application, 'another-group') },
      { action: 'codedeploy:TagResource', resource: deploymentGroupArn(TEST_NAMES.application, 'another-group') },
      { action: 'autoscaling:DeleteAutoScalingGroup', resource: groupArn('another-fleet') },
      { action: 'autoscaling:DeleteAutoScalingGroup', resource: groupArn('CodeDeploy_another-group_d-ABCDEF123') },
      { action: 'iam:PassRole', resource: String(fixture.props.ServiceRoleArn), context: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
    ]);
  });
});

describe("CodeDeploy's calls during a blue/green deployment against the synthesized service role", () => {
  /**
   * What CodeDeploy does with the service role for COPY_AUTO_SCALING_GROUP from
   * a launch template, following the CodeDeploy user guide's service role
   * (AWSCodeDeployRole's actions, plus ec2:RunInstances, ec2:CreateTags and
   * iam:PassRole for launch templates): copy the group and its hooks, policies,
   * notifications and tags; launch through the template; move traffic in the
   * target group; watch the alarms; notify; delete the original group.
   */
  function deploymentCalls(): SimulatedRequest[] {
    const blue = TEST_NAMES.fleet;
    const green = `CodeDeploy_${TEST_NAMES.deploymentGroup}_d-ABCDEF123`;
    const tg = String(fixture.props.TargetGroupArn);
    const onGroup = (actions: string[], name: string): SimulatedRequest[] => actions.map((action) => ({ action: `autoscaling:${action}`, resource: groupArn(name) }));
    const describe = [
      'autoscaling:DescribeAutoScalingGroups',
      'autoscaling:DescribeLifecycleHooks',
      'autoscaling:DescribeNotificationConfigurations',
      'autoscaling:DescribePolicies',
      'autoscaling:DescribeScalingActivities',
      'autoscaling:DescribeScheduledActions',
      'autoscaling:DescribeWarmPool',
      'ec2:DescribeInstances',
      'ec2:DescribeInstanceStatus',
      'elasticloadbalancing:DescribeLoadBalancers',
      'elasticloadbalancing:DescribeTargetGroups',
      'elasticloadbalancing:DescribeTargetHealth',
      'elasticloadbalancing:DescribeTargetGroupAttributes',
      'elasticloadbalancing:DescribeLoadBalancerAttributes',
      'tag:GetResources',
    ].map((action) => ({ action, resource: '*' }));
    return [
      ...describe,
      ...fixture.alarmArns.map((resource) => ({ action: 'cloudwatch:DescribeAlarms', resource })),
      ...onGroup(['PutLifecycleHook', 'DeleteLifecycleHook', 'CompleteLifecycleAction', 'RecordLifecycleActionHeartbeat', 'UpdateAutoScalingGroup'], blue),
      ...onGroup(
        [
          'CreateAutoScalingGroup',
          'CreateOrUpdateTags',
          'PutLifecycleHook',
          'CompleteLifecycleAction',
          'RecordLifecycleActionHeartbeat',
          'AttachLoadBalancerTargetGroups',
          'PutNotificationConfiguration',
          'PutScalingPolicy',
          'PutScheduledUpdateGroupAction',
          'PutWarmPool',
          'EnableMetricsCollection',
          'SuspendProcesses',
          'ResumeProcesses',
          'UpdateAutoScalingGroup',
        ],
        green,
      ),
      ...onGroup(['DeleteAutoScalingGroup'], blue),
      ...launchFromTemplate(String(fixture.props.LaunchTemplateId), 'copy the group'),
      { action: 'elasticloadbalancing:RegisterTargets', resource: tg },
      { action: 'elasticloadbalancing:DeregisterTargets', resource: tg },
      {
        action: 'ec2:TerminateInstances',
        resource: arn('ec2', 'instance/i-0123456789abcdef0'),
        context: { 'aws:ResourceTag/aws:autoscaling:groupName': blue },
      },
      { action: 'sns:Publish', resource: fixture.topicArn },
    ];
  }

  it('when CodeDeploy copies, shifts traffic and deletes the original, then the service role allows every call', async () => {
    await expectAllowed(fixture.serviceRole, deploymentCalls());
  });

  it('when the service role is scoped, then it may not rewrite the rollback alarms, terminate other instances or delete other groups', async () => {
    await expectDenied(fixture.serviceRole, [
      ...fixture.alarmArns.map((resource) => ({ action: 'cloudwatch:PutMetricAlarm', resource })),
      { action: 'cloudwatch:DeleteAlarms', resource: fixture.alarmArns[0]! },
      { action: 'ec2:TerminateInstances', resource: arn('ec2', 'instance/i-0fedcba9876543210'), context: { 'aws:ResourceTag/aws:autoscaling:groupName': 'another-fleet' } },
      { action: 'autoscaling:DeleteAutoScalingGroup', resource: groupArn('another-fleet') },
      { action: 'iam:PassRole', resource: fixture.instanceRoleArn, context: { 'iam:PassedToService': 'lambda.amazonaws.com' } },
    ]);
  });
});
