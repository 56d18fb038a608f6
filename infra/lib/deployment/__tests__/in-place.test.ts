import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';

import { cdkJsonContext } from '../../../test-support';
import { expectAllowed, expectDenied, resolveApp, TEST_ACCOUNT, type RolePolicies } from '../../../test-support/iam-simulator';
import { InPlaceDeployment } from '..';

const REGION = 'ca-central-1';

describe('in-place deployment: the CodeDeploy service role', () => {
  let template: Template;
  let role: RolePolicies;
  let groupArn: string;
  let targetGroupArn: string;

  beforeAll(() => {
    const app = new App({ context: cdkJsonContext() });
    const stack = new Stack(app, 'InPlaceTest', { env: { region: REGION } });
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const launchTemplate = new ec2.LaunchTemplate(stack, 'LaunchTemplate', {
      machineImage: ec2.MachineImage.latestAmazonLinux2023(),
      instanceType: new ec2.InstanceType('t3.micro'),
      role: new iam.Role(stack, 'InstanceRole', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') }),
      securityGroup: new ec2.SecurityGroup(stack, 'Sg', { vpc }),
    });
    const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc });
    const targetGroup = new elbv2.ApplicationTargetGroup(stack, 'Targets', { vpc, port: 8080, targetType: elbv2.TargetType.INSTANCE });
    alb.addListener('Http', { port: 80, defaultTargetGroups: [targetGroup] });
    const deployment = new InPlaceDeployment(stack, 'Deployment', {
      application: codedeploy.ServerApplication.fromServerApplicationName(stack, 'App', 'shop'),
      deploymentGroupName: 'shop-test',
      vpc,
      launchTemplate,
      capacity: { min: 1, desired: 1, max: 2 },
      targetGroup,
      alarms: [new cloudwatch.Alarm(stack, 'Errors', { metric: targetGroup.metrics.unhealthyHostCount(), threshold: 1, evaluationPeriods: 1 })],
      notificationTopic: new sns.Topic(stack, 'Topic'),
    });
    template = Template.fromStack(stack);
    const resolved = resolveApp([stack]);
    const roleId = Object.keys(template.findResources('AWS::IAM::Role', { Properties: { Description: deploymentRoleDescription() } }))[0]!;
    role = resolved.rolePolicies(stack.stackName, roleId);
    const groupName = String(resolved.resolve(stack.stackName, { Ref: stack.getLogicalId(deployment.autoScalingGroup.node.defaultChild as never) }));
    groupArn = `arn:aws:autoscaling:${REGION}:${TEST_ACCOUNT}:autoScalingGroup:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0:autoScalingGroupName/${groupName}`;
    targetGroupArn = String(resolved.resolve(stack.stackName, { Ref: stack.getLogicalId(targetGroup.node.defaultChild as never) }));
  });

  function deploymentRoleDescription(): unknown {
    return 'CodeDeploy in place for shop-test: lifecycle hooks of one group, its target group';
  }

  it('when the deployment group is made, then its role carries no AWS managed policy', () => {
    expect(role.unresolvedManagedPolicyArns).toEqual([]);
    expect(JSON.stringify(template.findResources('AWS::IAM::Role'))).not.toContain('AWSCodeDeployRole');
  });

  it('when CodeDeploy deploys in place (hooks, traffic, health, alarms), then the scoped role allows each call', async () => {
    await expectAllowed(role, [
      ...['PutLifecycleHook', 'DeleteLifecycleHook', 'CompleteLifecycleAction', 'RecordLifecycleActionHeartbeat', 'SuspendProcesses', 'ResumeProcesses'].map(
        (action) => ({ action: `autoscaling:${action}`, resource: groupArn }),
      ),
      ...['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeLifecycleHooks', 'ec2:DescribeInstances', 'ec2:DescribeInstanceStatus', 'elasticloadbalancing:DescribeTargetHealth', 'tag:GetResources'].map(
        (action) => ({ action, resource: '*' }),
      ),
      { action: 'elasticloadbalancing:RegisterTargets', resource: targetGroupArn },
      { action: 'elasticloadbalancing:DeregisterTargets', resource: targetGroupArn },
    ]);
  });

  it('when the role is scoped, then it may not touch other groups or create and delete groups', async () => {
    await expectDenied(role, [
      { action: 'autoscaling:PutLifecycleHook', resource: groupArn.replace(/autoScalingGroupName\/.*/, 'autoScalingGroupName/another') },
      { action: 'autoscaling:DeleteAutoScalingGroup', resource: groupArn },
      { action: 'ec2:TerminateInstances', resource: `arn:aws:ec2:${REGION}:${TEST_ACCOUNT}:instance/i-0123456789abcdef0` },
    ]);
  });
});
