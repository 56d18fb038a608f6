import { createRequire } from 'node:module';
import * as path from 'node:path';

import { ArnFormat, CustomResource, Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';

import type { EnvironmentDeploymentProps, IEnvironmentDeployment } from '../deployment/types';
import { LOG_GROUP_ENV } from './handler/log-group';
import { acknowledge, wildcardResourceFinding } from '../nag';

/** Instances get this long after launch before failed EC2 status checks replace them (as in-place). */
const HEALTH_CHECK_GRACE = Duration.minutes(5);
/** How long a stack deletion waits for the fleet's Auto Scaling groups (and instances) to be gone. */
const DELETE_TIMEOUT = Duration.minutes(30);
/** The deployment config the deployment group uses: install on every green instance, then move all traffic. */
const DEPLOYMENT_CONFIG = codedeploy.ServerDeploymentConfig.ALL_AT_ONCE;

export interface BlueGreenServerDeploymentProps extends EnvironmentDeploymentProps {
  /** The Auto Scaling group the custom resource creates first, and the value of the fleet tag. Must not start with `CodeDeploy_`. */
  readonly fleetName: string;
  /** The tag key put on every group of the fleet (and propagated to its instances), so all of them can be found again. */
  readonly fleetTagKey: string;
  /**
   * How long the previous (blue) instances keep running after traffic moved to the green ones;
   * an alarm in this window moves traffic back. The pipeline's deploy action waits it out.
   * @default Duration.minutes(15)
   */
  readonly terminationWait?: Duration;
  /**
   * What `cdk destroy` does with the construct's log groups (handler, Provider
   * framework, waiter state machine): the deploy config's `removalPolicy`.
   * @default RemovalPolicy.RETAIN - logs outlive the stack
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * CodeDeploy blue/green for an EC2 Auto Scaling fleet: every release goes to a
 * copy of the fleet's Auto Scaling group (COPY_AUTO_SCALING_GROUP), traffic
 * moves once the copy is healthy, and the old group is deleted after a wait.
 *
 * Neither CloudFormation nor CDK's ServerDeploymentGroup can define such a
 * deployment group, and a stack-owned group would be deleted by CodeDeploy
 * after the first release (docs/decisions/0001). So one custom resource owns
 * both the deployment group and the fleet's Auto Scaling groups; its handler
 * (./handler) always asks CodeDeploy which group is current.
 *
 * Health checks: the fleet's first group is attached to the target group (the
 * handler does this, and CodeDeploy's copies inherit it, so an instance that a
 * scale-out launches is registered by Auto Scaling once CodeDeploy's launch hook
 * has installed the current release on it). It uses EC2 health checks, not the
 * load balancer's: until the first release its instances serve nothing, and ELB
 * checks would replace them in a loop. A broken release never takes traffic:
 * ValidateService checks the green instance itself, and traffic moves only
 * through CodeDeploy's AllowTraffic.
 */
export class BlueGreenServerDeployment extends Construct implements IEnvironmentDeployment {
  readonly deploymentGroup: codedeploy.IServerDeploymentGroup;
  /** The role CodeDeploy assumes to copy the group, move traffic and delete the old group. */
  readonly serviceRole: iam.Role;
  /** Its permissions, a separate resource the custom resource waits for (and outlives on delete). */
  readonly serviceRolePolicy: iam.Policy;
  /** The custom resource's Lambda function (onEvent and isComplete share its code and role). */
  readonly handler: nodejs.NodejsFunction;
  readonly handlerPolicy: iam.Policy;
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: BlueGreenServerDeploymentProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const applicationName = props.application.applicationName;
    const { deploymentGroupName, fleetName, launchTemplate, targetGroup } = props;
    if (fleetName.startsWith('CodeDeploy_')) {
      throw new Error(`${this.node.path}: fleetName "${fleetName}" must not start with "CodeDeploy_" (CodeDeploy names its copies so)`);
    }
    if (launchTemplate.launchTemplateId === undefined) {
      throw new Error(`${this.node.path}: the launch template must have an id`);
    }
    const subnets = props.vpc.selectSubnets(props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
    const instanceRole = launchTemplate.role;
    const arn = (service: string, resource: string, resourceName?: string, account?: string): string =>
      stack.formatArn({ service, resource, resourceName, account, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });

    // Every group of the fleet: the first one and CodeDeploy's copies (CodeDeploy_<deployment group>_<deployment id>).
    const fleetGroupArns = [fleetName, `CodeDeploy_${deploymentGroupName}_*`].map((name) =>
      stack.formatArn({
        service: 'autoscaling',
        resource: 'autoScalingGroup',
        resourceName: `*:autoScalingGroupName/${name}`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    );
    const launchTemplateArn = arn('ec2', 'launch-template', launchTemplate.launchTemplateId);
    const launchedResourceArns = ['instance/*', 'volume/*', 'network-interface/*'].map((resource) => arn('ec2', resource));
    // The AMI is Amazon's (a public SSM parameter picks it), so it belongs to no account of ours.
    const imageArns = [arn('ec2', 'image', '*', '')];
    const subnetArns = subnets.subnetIds.map((subnetId) => arn('ec2', 'subnet', subnetId));
    const securityGroupArns = launchTemplate.connections.securityGroups.map((sg) => arn('ec2', 'security-group', sg.securityGroupId));

    /** What creating or copying a group from the launch template needs (Auto Scaling checks the caller's rights). */
    const launchFromTemplate = (): iam.PolicyStatement[] => [
      new iam.PolicyStatement({
        sid: 'LaunchFromTheFleetTemplate',
        actions: ['ec2:RunInstances'],
        resources: [launchTemplateArn, ...subnetArns, ...securityGroupArns],
      }),
      new iam.PolicyStatement({
        sid: 'LaunchOnlyThroughTheFleetTemplate',
        actions: ['ec2:RunInstances'],
        resources: [...launchedResourceArns, ...imageArns],
        conditions: { ArnLike: { 'ec2:LaunchTemplate': launchTemplateArn } },
      }),
      new iam.PolicyStatement({
        sid: 'TagInstancesAtLaunch',
        actions: ['ec2:CreateTags'],
        resources: launchedResourceArns,
        conditions: { StringEquals: { 'ec2:CreateAction': 'RunInstances' } },
      }),
      new iam.PolicyStatement({
        sid: 'ReadLaunchTemplates',
        actions: ['ec2:DescribeLaunchTemplates', 'ec2:DescribeLaunchTemplateVersions'],
        resources: ['*'],
      }),
      ...(instanceRole
        ? [
            new iam.PolicyStatement({
              sid: 'PassTheInstanceRole',
              actions: ['iam:PassRole'],
              resources: [instanceRole.roleArn],
              conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
            }),
          ]
        : []),
    ];

    // --- CodeDeploy's service role: AWSCodeDeployRole's actions, narrowed to this fleet where the services allow it.
    this.serviceRole = new iam.Role(this, 'ServiceRole', {
      assumedBy: new iam.ServicePrincipal('codedeploy.amazonaws.com'),
      description: `CodeDeploy blue/green for ${deploymentGroupName}: copy the fleet's Auto Scaling group, move traffic, delete the old group`,
    });
    this.serviceRolePolicy = new iam.Policy(this, 'ServiceRolePolicy', {
      roles: [this.serviceRole],
      statements: [
        new iam.PolicyStatement({
          sid: 'ManageTheFleetGroups',
          actions: [
            'autoscaling:AttachLoadBalancerTargetGroups',
            'autoscaling:AttachLoadBalancers',
            'autoscaling:CompleteLifecycleAction',
            'autoscaling:CreateAutoScalingGroup',
            'autoscaling:CreateOrUpdateTags',
            'autoscaling:DeleteAutoScalingGroup',
            'autoscaling:DeleteLifecycleHook',
            'autoscaling:EnableMetricsCollection',
            'autoscaling:PutLifecycleHook',
            'autoscaling:PutNotificationConfiguration',
            'autoscaling:PutScalingPolicy',
            'autoscaling:PutScheduledUpdateGroupAction',
            'autoscaling:PutWarmPool',
            'autoscaling:RecordLifecycleActionHeartbeat',
            'autoscaling:ResumeProcesses',
            'autoscaling:SuspendProcesses',
            'autoscaling:UpdateAutoScalingGroup',
          ],
          resources: fleetGroupArns,
        }),
        new iam.PolicyStatement({
          sid: 'DescribeGroupsInstancesAndTargets',
          actions: [
            'autoscaling:DescribeAutoScalingGroups',
            'autoscaling:DescribeLifecycleHooks',
            'autoscaling:DescribeNotificationConfigurations',
            'autoscaling:DescribePolicies',
            'autoscaling:DescribeScalingActivities',
            'autoscaling:DescribeScheduledActions',
            'autoscaling:DescribeWarmPool',
            'cloudwatch:DescribeAlarms',
            'ec2:DescribeInstanceStatus',
            'ec2:DescribeInstances',
            'elasticloadbalancing:DescribeLoadBalancerAttributes',
            'elasticloadbalancing:DescribeLoadBalancers',
            'elasticloadbalancing:DescribeTargetGroupAttributes',
            'elasticloadbalancing:DescribeTargetGroups',
            'elasticloadbalancing:DescribeTargetHealth',
            'tag:GetResources',
          ],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'MoveTrafficInTheTargetGroup',
          actions: ['elasticloadbalancing:DeregisterTargets', 'elasticloadbalancing:RegisterTargets'],
          resources: [targetGroup.targetGroupArn],
        }),
        new iam.PolicyStatement({
          sid: 'TerminateOnlyFleetInstances',
          actions: ['ec2:TerminateInstances'],
          resources: [arn('ec2', 'instance', '*')],
          // Auto Scaling tags each instance with its group's name (aws:autoscaling:groupName).
          conditions: { StringLike: { 'aws:ResourceTag/aws:autoscaling:groupName': [fleetName, `CodeDeploy_${deploymentGroupName}_*`] } },
        }),
        // No cloudwatch:PutMetricAlarm (AWSCodeDeployRole has it on every alarm): CodeDeploy needs it only to
        // copy the alarms of step or simple scaling policies, and the fleet has none. On alarm:* it would let
        // the role rewrite the very alarms that roll a deployment back. A fork that adds such policies grants
        // it on those alarms' names.
        new iam.PolicyStatement({
          sid: 'NotifyTheFleetTopic',
          actions: ['sns:Publish'],
          resources: [props.notificationTopic.topicArn],
        }),
        ...launchFromTemplate(),
      ],
    });

    // --- The custom resource's handler.
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const handlerLogs = new logs.LogGroup(this, 'HandlerLogs', { retention: logs.RetentionDays.ONE_YEAR, removalPolicy });
    const handlerRole = new iam.Role(this, 'HandlerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Custom resource owning the blue/green fleet and deployment group ${deploymentGroupName}`,
    });
    handlerLogs.grantWrite(handlerRole);
    this.handlerPolicy = new iam.Policy(this, 'HandlerPolicy', {
      roles: [handlerRole],
      statements: [
        new iam.PolicyStatement({
          sid: 'OwnTheDeploymentGroup',
          actions: [
            'codedeploy:CreateDeploymentGroup',
            'codedeploy:DeleteDeploymentGroup',
            'codedeploy:GetDeploymentGroup',
            // The owner tag: read to decide what this resource may adopt or delete, written on create.
            'codedeploy:ListTagsForResource',
            'codedeploy:TagResource',
            'codedeploy:UpdateDeploymentGroup',
          ],
          resources: [codeDeployArn(stack, 'deploymentgroup', `${applicationName}/${deploymentGroupName}`)],
        }),
        new iam.PolicyStatement({
          sid: 'SeeWhichGroupsOtherDeploymentGroupsTarget',
          actions: ['codedeploy:BatchGetDeploymentGroups'],
          resources: [codeDeployArn(stack, 'deploymentgroup', `${applicationName}/*`)],
        }),
        new iam.PolicyStatement({
          sid: 'ListDeploymentGroups',
          actions: ['codedeploy:ListDeploymentGroups'],
          resources: [codeDeployArn(stack, 'application', applicationName)],
        }),
        new iam.PolicyStatement({
          sid: 'PassTheServiceRoleToCodeDeploy',
          actions: ['iam:PassRole'],
          resources: [this.serviceRole.roleArn],
          conditions: { StringEquals: { 'iam:PassedToService': 'codedeploy.amazonaws.com' } },
        }),
        new iam.PolicyStatement({
          sid: 'OwnTheFleetGroups',
          actions: [
            'autoscaling:AttachLoadBalancerTargetGroups',
            'autoscaling:CreateAutoScalingGroup',
            'autoscaling:CreateOrUpdateTags',
            'autoscaling:DeleteAutoScalingGroup',
            'autoscaling:DeleteNotificationConfiguration',
            'autoscaling:DeleteTags',
            'autoscaling:DetachLoadBalancerTargetGroups',
            'autoscaling:PutNotificationConfiguration',
            'autoscaling:UpdateAutoScalingGroup',
          ],
          resources: fleetGroupArns,
        }),
        new iam.PolicyStatement({
          sid: 'FindTheFleetGroups',
          actions: ['autoscaling:DescribeAutoScalingGroups'],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'CreateTheAutoScalingServiceRoleOnFirstUse',
          actions: ['iam:CreateServiceLinkedRole'],
          resources: [
            stack.formatArn({
              service: 'iam',
              region: '',
              resource: 'role',
              resourceName: 'aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling',
            }),
          ],
          conditions: { StringLike: { 'iam:AWSServiceName': 'autoscaling.amazonaws.com' } },
        }),
        ...launchFromTemplate(),
      ],
    });

    this.handler = new nodejs.NodejsFunction(this, 'Handler', {
      entry: path.join(__dirname, 'handler', 'index.ts'),
      handler: 'onEvent',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      role: handlerRole,
      logGroup: handlerLogs,
      memorySize: 256,
      // Well above the handler's own waits: up to 3 minutes of IAM-propagation and throttling
      // retries per event (handler/fleet-api.ts RETRY_BUDGET_MS), plus up to 75 s per busy group on Delete.
      timeout: Duration.minutes(10),
      environment: { [LOG_GROUP_ENV]: handlerLogs.logGroupName },
      description: `Owns the blue/green fleet and deployment group ${deploymentGroupName}`,
      bundling: offlineBundling(this),
    });
    const isCompleteHandler = new nodejs.NodejsFunction(this, 'IsCompleteHandler', {
      entry: path.join(__dirname, 'handler', 'index.ts'),
      handler: 'isComplete',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      role: handlerRole,
      logGroup: handlerLogs,
      memorySize: 256,
      timeout: Duration.minutes(1),
      description: `Waits until the blue/green fleet of ${deploymentGroupName} is gone after a delete`,
      bundling: offlineBundling(this),
    });

    // The framework's own functions get roles that write only to their log group (not the managed
    // basic execution role), and its waiter state machine logs every event, without the payloads.
    const providerLogs = new logs.LogGroup(this, 'ProviderLogs', { retention: logs.RetentionDays.ONE_YEAR, removalPolicy });
    const [frameworkOnEventRole, frameworkCompleteAndTimeoutRole] = ['FrameworkOnEventRole', 'FrameworkWaiterRole'].map((roleId) => {
      const role = new iam.Role(this, roleId, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      providerLogs.grantWrite(role);
      return role;
    }) as [iam.Role, iam.Role];
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.handler,
      isCompleteHandler,
      queryInterval: Duration.seconds(30),
      totalTimeout: DELETE_TIMEOUT,
      logGroup: providerLogs,
      // The framework's default (FATAL) drops every line it logs: the events, the handler's answers, the responses.
      frameworkLambdaLoggingLevel: lambda.ApplicationLogLevel.INFO,
      frameworkOnEventRole,
      frameworkCompleteAndTimeoutRole,
      disableWaiterStateMachineLogging: false,
      waiterStateMachineLogOptions: {
        destination: new logs.LogGroup(this, 'WaiterLogs', { retention: logs.RetentionDays.ONE_YEAR, removalPolicy }),
        level: sfn.LogLevel.ALL,
        includeExecutionData: false,
      },
    });

    restrictWaiterLogPermissions(provider);

    const alarmNames = props.alarms.filter((alarm) => !(props.targetHealthAlarms ?? []).includes(alarm)).map((alarm) => alarm.alarmName);
    this.resource = new CustomResource(this, 'Fleet', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::BlueGreenFleet',
      properties: {
        ApplicationName: applicationName,
        DeploymentGroupName: deploymentGroupName,
        ServiceRoleArn: this.serviceRole.roleArn,
        FleetName: fleetName,
        FleetTagKey: props.fleetTagKey,
        LaunchTemplateId: launchTemplate.launchTemplateId,
        // A new version (AMI, user data) updates the resource, which points the current group at it.
        LaunchTemplateVersion: launchTemplate.latestVersionNumber,
        MinSize: String(props.capacity.min),
        DesiredCapacity: String(props.capacity.desired),
        MaxSize: String(props.capacity.max),
        SubnetIds: subnets.subnetIds,
        TargetGroupArn: targetGroup.targetGroupArn,
        TargetGroupName: targetGroup.targetGroupName,
        AlarmNames: alarmNames,
        TerminationWaitMinutes: String((props.terminationWait ?? Duration.minutes(15)).toMinutes()),
        HealthCheckType: 'EC2',
        HealthCheckGracePeriodSeconds: String(HEALTH_CHECK_GRACE.toSeconds()),
        NotificationTopicArn: props.notificationTopic.topicArn,
        DeploymentConfigName: DEPLOYMENT_CONFIG.deploymentConfigName,
      },
    });
    // On delete, CodeDeploy removes its lifecycle hooks with the service role's permissions and the
    // handler deletes the groups with its own: both policies must outlive the resource. Instances need
    // their subnets' route to the internet (agent, packages) and a target group that has a load balancer.
    this.resource.node.addDependency(this.serviceRolePolicy, this.handlerPolicy, subnets.internetConnectivityEstablished, targetGroup.loadBalancerAttached);

    this.deploymentGroup = codedeploy.ServerDeploymentGroup.fromServerDeploymentGroupAttributes(this, 'PipelineTarget', {
      application: props.application,
      deploymentGroupName: this.resource.getAttString('DeploymentGroupName'),
      deploymentConfig: DEPLOYMENT_CONFIG,
    });

    this.acknowledgeFindings({ fleetGroupArns, launchedResourceArns, imageArns, handlerRole, provider, isCompleteHandler, applicationName, stack });
  }

  private acknowledgeFindings(refs: {
    fleetGroupArns: string[];
    launchedResourceArns: string[];
    imageArns: string[];
    handlerRole: iam.Role;
    provider: cr.Provider;
    isCompleteHandler: lambda.IFunction;
    applicationName: string;
    stack: Stack;
  }): void {
    const resource = (value: string): string => wildcardResourceFinding(this, value);
    const launchWildcards = [...refs.launchedResourceArns, ...refs.imageArns].map(resource);
    const describeReason =
      'Describe/List actions of Auto Scaling, EC2, Elastic Load Balancing, CloudWatch and the tagging API support no resource-level permissions, so they need "*".';
    acknowledge(
      this.serviceRolePolicy,
      'CodeDeploy copies the fleet group into a new group named CodeDeploy_<deployment group>_<deployment id>, so the Auto Scaling ' +
        'actions are scoped to that name pattern and the first group; instances, volumes and network interfaces get ids at launch ' +
        "and are limited to launches through the fleet's launch template; Amazon's AMI ids change with each release. " +
        describeReason,
      ...refs.fleetGroupArns.filter((value) => value.includes('*')).map(resource),
      ...launchWildcards,
      resource('*'),
    );
    acknowledge(
      this.handlerPolicy,
      'The handler creates the first fleet group and deletes every copy CodeDeploy made, named CodeDeploy_<deployment group>_<deployment id>; ' +
        'it reads the other deployment groups of this one application so it never deletes a group they target; instances, volumes and ' +
        "network interfaces get ids at launch and are limited to launches through the fleet's launch template. " +
        describeReason,
      ...refs.fleetGroupArns.filter((value) => value.includes('*')).map(resource),
      ...launchWildcards,
      resource(codeDeployArn(refs.stack, 'deploymentgroup', `${refs.applicationName}/*`)),
      resource('*'),
    );
    acknowledge(
      refs.handlerRole,
      'CDK grants the handler CreateLogStream/PutLogEvents on its own log group, whose streams are named by Lambda at run time.',
      resource(`${(this.node.findChild('HandlerLogs') as logs.LogGroup).logGroupArn}:*`),
    );
    const invokedFunctions = [this.handler, refs.isCompleteHandler, ...['framework-isComplete', 'framework-onTimeout'].map((id) => refs.provider.node.findChild(id) as lambda.Function)];
    acknowledge(
      this,
      "The CDK Provider framework's functions and waiter state machine may invoke every version of the functions they call " +
        '("<function ARN>:*", as CDK grants invoke); each grant names one function of this construct.',
      ...invokedFunctions.map((fn) => resource(`${fn.functionArn}:*`)),
    );
    acknowledge(
      refs.provider,
      "The Provider framework's waiter state machine delivers its logs through CloudWatch Logs' vended log delivery; the " +
        "actions Step Functions documents for it (logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, " +
        'ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups) support no resource-level permissions. ' +
        'CDK also grants CreateLogStream and PutLogEvents on "*", which vended delivery does not use; the construct removes them. X-Ray tracing is not offered by the ' +
        'Provider framework, and the state machine only polls isComplete every 30 s during a delete; its events are logged.',
      resource('*'),
      'AwsSolutions-SF2',
    );
    for (const fn of [this.handler, refs.isCompleteHandler]) {
      acknowledge(
        fn,
        'Node.js 22 on purpose: the runtime the service, CodeBuild and the handler tests use; AWS SDK v3 requires Node.js 22 or later. Move with them.',
        'AwsSolutions-L1',
      );
    }
  }
}

/**
 * The actions Step Functions documents for logging to CloudWatch Logs (vended
 * log delivery); none of them supports resource-level permissions.
 * https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html#cloudwatch-iam-policy
 */
export const VENDED_LOG_DELIVERY_ACTIONS = [
  'logs:CreateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:DescribeLogGroups',
  'logs:DescribeResourcePolicies',
  'logs:GetLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:UpdateLogDelivery',
] as const;

/**
 * CDK's Provider grants its waiter state machine's role the vended-delivery
 * actions plus logs:CreateLogStream and logs:PutLogEvents, all on "*". The
 * state machine writes only through vended delivery, so the statement is
 * replaced by the documented actions alone. A CDK version that changes the
 * statement fails synth here rather than granting silently.
 */
function restrictWaiterLogPermissions(provider: cr.Provider): void {
  const policy = provider.node.findChild('waiter-state-machine').node.findChild('Role').node.findChild('DefaultPolicy') as iam.Policy;
  type Statement = { Action: string | string[] };
  // Computed at synth from the document CDK renders (statement order and merging are CDK's).
  (policy.node.defaultChild as iam.CfnPolicy).addPropertyOverride(
    'PolicyDocument.Statement',
    Lazy.any({
      produce: () => {
        const { Statement: statements } = Stack.of(policy).resolve(policy.document) as { Statement: Statement[] };
        const expected = [...VENDED_LOG_DELIVERY_ACTIONS, 'logs:CreateLogStream', 'logs:PutLogEvents'].sort();
        const delivery = statements.filter((st) => [st.Action].flat().includes('logs:CreateLogDelivery'));
        if (delivery.length !== 1 || JSON.stringify([delivery[0]!.Action].flat().sort()) !== JSON.stringify(expected)) {
          throw new Error(`${provider.node.path}: the Provider's waiter log statement changed; review restrictWaiterLogPermissions`);
        }
        return statements.map((st) => (st === delivery[0] ? { ...st, Action: [...VENDED_LOG_DELIVERY_ACTIONS] } : st));
      },
    }),
  );
}

/** A CodeDeploy ARN (`arn:…:codedeploy:<region>:<account>:<resource>:<name>`). */
function codeDeployArn(stack: Stack, resource: string, resourceName: string): string {
  return stack.formatArn({ service: 'codedeploy', resource, resourceName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
}

/**
 * Bundles the handler with the esbuild installed as a dev dependency, never in
 * Docker: synth must work offline and on machines without a Docker engine.
 * NodejsFunction falls back to building a Docker image when it finds no local
 * esbuild, so a missing one stops synth here with the fix instead.
 * The SDK clients are bundled in, so the handler runs the versions its tests ran.
 */
function offlineBundling(scope: Construct): nodejs.BundlingOptions {
  try {
    createRequire(__filename).resolve('esbuild');
  } catch {
    throw new Error(
      `${scope.node.path}: esbuild is not installed. The blue/green handler is bundled locally, never in Docker: run \`npm ci\` at the repository root.`,
    );
  }
  return {
    forceDockerBundling: false,
    bundleAwsSDK: true,
    minify: true,
    target: 'node22',
  };
}
