import { ArnFormat, CustomResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';

import type { EnvironmentDeploymentProps, IEnvironmentDeployment } from '../deployment/types';
import { acknowledge, wildcardResourceFinding } from '../nag';
import { addFleetProvider } from './provider';

export { VENDED_LOG_DELIVERY_ACTIONS } from './provider';

/** Instances get this long after launch before failed EC2 status checks replace them (as in-place). */
const HEALTH_CHECK_GRACE = Duration.minutes(5);
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
 * (./handler) always asks CodeDeploy which group is current. This file holds
 * the resource side (CodeDeploy's service role, the handler's permissions, the
 * custom resource); ./provider.ts the handler's functions and the Provider
 * framework that serve it.
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

    // --- The custom resource's handler and the Provider framework (./provider.ts).
    const provider = addFleetProvider(this, {
      deploymentGroupName,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      handlerStatements: [
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
    this.handler = provider.handler;
    this.handlerPolicy = provider.handlerPolicy;

    const alarmNames = props.alarms.filter((alarm) => !(props.targetHealthAlarms ?? []).includes(alarm)).map((alarm) => alarm.alarmName);
    this.resource = new CustomResource(this, 'Fleet', {
      serviceToken: provider.provider.serviceToken,
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

    this.acknowledgeFindings({ fleetGroupArns, launchedResourceArns, imageArns, applicationName, stack });
  }

  private acknowledgeFindings(refs: {
    fleetGroupArns: string[];
    launchedResourceArns: string[];
    imageArns: string[];
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
  }
}

/** A CodeDeploy ARN (`arn:…:codedeploy:<region>:<account>:<resource>:<name>`). */
function codeDeployArn(stack: Stack, resource: string, resourceName: string): string {
  return stack.formatArn({ service: 'codedeploy', resource, resourceName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
}
