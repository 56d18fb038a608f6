import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

import { acknowledge, wildcardResourceFinding } from '../nag';
import type { EnvironmentDeploymentProps, IEnvironmentDeployment } from './types';

export type { Capacity, EnvironmentDeploymentProps, IEnvironmentDeployment } from './types';

/**
 * In-place deployment: a stack-owned Auto Scaling group, and a CodeDeploy
 * deployment group that takes one instance at a time out of the load
 * balancer, installs the new bundle, validates it and puts it back.
 */
export class InPlaceDeployment extends Construct implements IEnvironmentDeployment {
  readonly deploymentGroup: codedeploy.IServerDeploymentGroup;
  readonly autoScalingGroup: autoscaling.AutoScalingGroup;

  constructor(scope: Construct, id: string, props: EnvironmentDeploymentProps) {
    super(scope, id);
    const { capacity } = props;

    this.autoScalingGroup = new autoscaling.AutoScalingGroup(this, 'AutoScalingGroup', {
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      launchTemplate: props.launchTemplate,
      minCapacity: capacity.min,
      desiredCapacity: capacity.desired,
      maxCapacity: capacity.max,
      // EC2 status checks, not the load balancer's: until the first deployment no
      // instance runs the service, and ELB health checks would replace them in a loop.
      // A broken release is caught by CodeDeploy (AllowTraffic waits for the target
      // to be healthy) and by the unhealthy-hosts alarm.
      healthChecks: autoscaling.HealthChecks.ec2({ gracePeriod: Duration.minutes(5) }),
      cooldown: Duration.minutes(5),
      notifications: [{ topic: props.notificationTopic }],
      // Free at one-minute granularity; the environment's dashboard shows instances in service.
      groupMetrics: [new autoscaling.GroupMetrics(autoscaling.GroupMetric.IN_SERVICE_INSTANCES, autoscaling.GroupMetric.DESIRED_CAPACITY)],
      // A launch template change (new AMI, new user data) replaces instances one by one,
      // launching the new one first; CodeDeploy installs the current release on it before
      // it enters service.
      updatePolicy: autoscaling.UpdatePolicy.rollingUpdate({
        minInstancesInService: capacity.min,
        maxBatchSize: 1,
        pauseTime: Duration.minutes(15),
      }),
    });
    acknowledge(
      this.autoScalingGroup,
      'The deploy config is the source of truth for capacity and no scaling policy changes it, so resetting desired capacity on deploy is intended.',
      '@aws-cdk/aws-autoscaling:desiredCapacitySet',
    );

    // A scoped service role instead of the managed AWSCodeDeployRole (every action of it on "*"): in place,
    // CodeDeploy manages the group's lifecycle hooks (launch and termination), suspends and resumes its
    // processes, registers and deregisters instances in the target group and reads alarms and health.
    const stack = Stack.of(this);
    const groupArn = stack.formatArn({
      service: 'autoscaling',
      resource: 'autoScalingGroup',
      resourceName: `*:autoScalingGroupName/${this.autoScalingGroup.autoScalingGroupName}`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const serviceRole = new iam.Role(this, 'ServiceRole', {
      assumedBy: new iam.ServicePrincipal('codedeploy.amazonaws.com'),
      description: `CodeDeploy in place for ${props.deploymentGroupName}: lifecycle hooks of one group, its target group`,
    });
    const servicePolicy = new iam.Policy(this, 'ServiceRolePolicy', {
      roles: [serviceRole],
      statements: [
        new iam.PolicyStatement({
          sid: 'ManageTheGroupHooks',
          actions: [
            'autoscaling:CompleteLifecycleAction',
            'autoscaling:DeleteLifecycleHook',
            'autoscaling:PutLifecycleHook',
            'autoscaling:RecordLifecycleActionHeartbeat',
            'autoscaling:ResumeProcesses',
            'autoscaling:SuspendProcesses',
          ],
          resources: [groupArn],
        }),
        new iam.PolicyStatement({
          sid: 'DescribeGroupsInstancesAndTargets',
          actions: [
            'autoscaling:DescribeAutoScalingGroups',
            'autoscaling:DescribeLifecycleHooks',
            'autoscaling:DescribeScalingActivities',
            'cloudwatch:DescribeAlarms',
            'ec2:DescribeInstanceStatus',
            'ec2:DescribeInstances',
            'elasticloadbalancing:DescribeLoadBalancers',
            'elasticloadbalancing:DescribeTargetGroups',
            'elasticloadbalancing:DescribeTargetHealth',
            'tag:GetResources',
          ],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'MoveInstancesInTheTargetGroup',
          actions: ['elasticloadbalancing:DeregisterTargets', 'elasticloadbalancing:RegisterTargets'],
          resources: [props.targetGroup.targetGroupArn],
        }),
      ],
    });
    acknowledge(
      servicePolicy,
      'Describe actions of Auto Scaling, EC2, Elastic Load Balancing, CloudWatch and the tagging API need "*"; the Auto Scaling ' +
        "group's ARN holds a generated id, so it is matched by name with \"*\" for the id.",
      wildcardResourceFinding(servicePolicy, groupArn),
      wildcardResourceFinding(servicePolicy, '*'),
    );

    const deploymentGroup = new codedeploy.ServerDeploymentGroup(this, 'DeploymentGroup', {
      // CDK attaches AWSCodeDeployRole to any role it is given; an immutable view keeps it off.
      role: serviceRole.withoutPolicyUpdates(),
      application: props.application,
      deploymentGroupName: props.deploymentGroupName,
      autoScalingGroups: [this.autoScalingGroup],
      // The launch template's user data installs the agent (after everything else);
      // CDK's installer would also need an ASG without a launch template.
      installAgent: false,
      loadBalancers: [codedeploy.LoadBalancer.application(props.targetGroup)],
      deploymentConfig: codedeploy.ServerDeploymentConfig.ONE_AT_A_TIME,
      alarms: [...props.alarms],
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
      // Scale-in runs BlockTraffic and ApplicationStop on the leaving instance, so it
      // drains from the load balancer and stops the service gracefully.
      terminationHook: true,
    });
    // CodeDeploy checks its role when the deployment group is created or updated, so the policy comes first.
    deploymentGroup.node.addDependency(servicePolicy);

    // The pipeline gets a reference without the Auto Scaling group: given the group, the
    // deploy action would try to grant artifact access to the group's role, which CDK
    // cannot reach through a launch template. The instance role already has that access.
    this.deploymentGroup = codedeploy.ServerDeploymentGroup.fromServerDeploymentGroupAttributes(this, 'PipelineTarget', {
      application: props.application,
      deploymentGroupName: deploymentGroup.deploymentGroupName,
      deploymentConfig: deploymentGroup.deploymentConfig,
    });
  }
}
