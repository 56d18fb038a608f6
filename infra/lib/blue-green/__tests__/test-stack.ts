import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';

import { testAppContext, type TestAppOptions } from '../../../test-support';
import { BlueGreenServerDeployment, type BlueGreenServerDeploymentProps } from '..';

/**
 * A stack holding one BlueGreenServerDeployment and only what it needs, with
 * names of its own: the construct's tests do not depend on the example deploy
 * config (a fork changes it).
 */
export const TEST_NAMES = {
  region: 'ap-southeast-2',
  application: 'shop',
  deploymentGroup: 'shop-live',
  fleet: 'shop-live-fleet',
  fleetTagKey: 'shop:fleet',
} as const;

export interface FleetTestStack {
  readonly stack: Stack;
  readonly fleet: BlueGreenServerDeployment;
  readonly template: Template;
  readonly launchTemplate: ec2.LaunchTemplate;
  readonly instanceRole: iam.Role;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly topic: sns.Topic;
  readonly alarms: { readonly errors: cloudwatch.Alarm; readonly unhealthy: cloudwatch.Alarm };
}

/** `options.bundling` bundles the handler as `cdk synth` does (off, a test synthesizes in a second less). */
export function fleetTestStack(overrides: Partial<BlueGreenServerDeploymentProps> = {}, options: Pick<TestAppOptions, 'bundling'> = {}): FleetTestStack {
  const app = new App({ context: testAppContext(options) });
  const stack = new Stack(app, 'FleetTest', { env: { region: TEST_NAMES.region } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const instanceRole = new iam.Role(stack, 'InstanceRole', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
  const securityGroup = new ec2.SecurityGroup(stack, 'InstanceSg', { vpc });
  const launchTemplate = new ec2.LaunchTemplate(stack, 'LaunchTemplate', {
    machineImage: ec2.MachineImage.latestAmazonLinux2023(),
    instanceType: new ec2.InstanceType('t3.micro'),
    role: instanceRole,
    securityGroup,
  });
  const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc, internetFacing: false });
  const targetGroup = new elbv2.ApplicationTargetGroup(stack, 'Targets', { vpc, port: 8080, targetType: elbv2.TargetType.INSTANCE });
  alb.addListener('Http', { port: 80, defaultTargetGroups: [targetGroup] });
  const topic = new sns.Topic(stack, 'Topic');
  const errors = new cloudwatch.Alarm(stack, 'Errors', {
    metric: targetGroup.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT),
    threshold: 5,
    evaluationPeriods: 2,
  });
  const unhealthy = new cloudwatch.Alarm(stack, 'Unhealthy', { metric: targetGroup.metrics.unhealthyHostCount(), threshold: 1, evaluationPeriods: 2 });

  const fleet = new BlueGreenServerDeployment(stack, 'Fleet', {
    application: codedeploy.ServerApplication.fromServerApplicationName(stack, 'Application', TEST_NAMES.application),
    deploymentGroupName: TEST_NAMES.deploymentGroup,
    vpc,
    launchTemplate,
    capacity: { min: 1, desired: 2, max: 3 },
    targetGroup,
    alarms: [errors, unhealthy],
    targetHealthAlarms: [unhealthy],
    notificationTopic: topic,
    fleetName: TEST_NAMES.fleet,
    fleetTagKey: TEST_NAMES.fleetTagKey,
    terminationWait: Duration.minutes(7),
    removalPolicy: RemovalPolicy.DESTROY,
    ...overrides,
  });
  return { stack, fleet, template: Template.fromStack(stack), launchTemplate, instanceRole, targetGroup, topic, alarms: { errors, unhealthy } };
}
