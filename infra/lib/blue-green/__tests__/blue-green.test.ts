import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { Stage } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';

import { shippedEnvironment, synthConveyor, testConfig } from '../../../test-support';
import type { ServiceStacks } from '../../stacks';

type Resource = { Type: string; Properties: Record<string, unknown>; DependsOn?: string[]; Metadata?: Record<string, unknown> };
type Statement = { Sid?: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

const account = { Ref: 'AWS::AccountId' };
const arn = (...parts: unknown[]): unknown => ({ 'Fn::Join': ['', parts] });
// IAM policy minimization sorts the resources.
const fleetGroupArns = [
  arn('arn:aws:autoscaling:us-east-1:', account, ':autoScalingGroup:*:autoScalingGroupName/CodeDeploy_conveyor-api-prod_*'),
  arn('arn:aws:autoscaling:us-east-1:', account, ':autoScalingGroup:*:autoScalingGroupName/conveyor-api-prod-fleet'),
];

function only(template: Template, type: string): [string, Resource] {
  const entries = Object.entries(template.findResources(type) as Record<string, Resource>);
  if (entries.length !== 1) throw new Error(`expected exactly one ${type}, found ${entries.length}`);
  return entries[0]!;
}

function logicalId(template: Template, type: string, props: Record<string, unknown>): string {
  const ids = Object.keys(template.findResources(type, { Properties: props }));
  if (ids.length !== 1) throw new Error(`expected exactly one ${type} matching, found ${ids.length}`);
  return ids[0]!;
}

/** The statements of the AWS::IAM::Policy whose logical id starts with `prefix`. */
function statementsOf(template: Template, prefix: string): Statement[] {
  const [policy] = Object.entries(template.findResources('AWS::IAM::Policy') as Record<string, Resource>).filter(([id]) => id.startsWith(prefix));
  if (policy === undefined) throw new Error(`no policy ${prefix}`);
  return (policy[1].Properties.PolicyDocument as { Statement: Statement[] }).Statement;
}

function statement(statements: Statement[], sid: string): Statement {
  const found = statements.find((s) => s.Sid === sid);
  if (found === undefined) throw new Error(`no statement ${sid}`);
  return found;
}

describe('blue/green deployment (default config: staging in place, prod blue/green)', () => {
  let stacks: ServiceStacks;
  let staging: Template;
  let prod: Template;
  let pipeline: Template;
  let fleet: [string, Resource];

  beforeAll(() => {
    stacks = synthConveyor();
    [staging, prod] = stacks.environments.map((stack) => Template.fromStack(stack)) as [Template, Template];
    pipeline = Template.fromStack(stacks.pipeline);
    fleet = only(prod, 'Custom::BlueGreenFleet');
  });

  describe('who owns the fleet', () => {
    it('when prod is blue/green, then a custom resource owns its fleet and deployment group, and the stack owns neither', () => {
      // Assert
      prod.resourceCountIs('Custom::BlueGreenFleet', 1);
      prod.resourceCountIs('AWS::AutoScaling::AutoScalingGroup', 0);
      prod.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 0);
    });

    it('when staging is in place, then the stack owns its Auto Scaling group and deployment group, and has no custom resource', () => {
      // Assert
      staging.resourceCountIs('AWS::AutoScaling::AutoScalingGroup', 1);
      staging.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 1);
      staging.resourceCountIs('Custom::BlueGreenFleet', 0);
      expect(staging.findResources('AWS::Lambda::Function', { Properties: { Handler: Match.stringLikeRegexp('^index\\.(onEvent|isComplete)$') } })).toEqual({});
    });
  });

  describe('the custom resource', () => {
    it("when prod is synthesized, then the resource gets prod's names, capacity, launch template, subnets and target group", () => {
      // Arrange
      const launchTemplate = logicalId(prod, 'AWS::EC2::LaunchTemplate', {});
      const targetGroup = logicalId(prod, 'AWS::ElasticLoadBalancingV2::TargetGroup', {});
      const serviceRole = logicalId(prod, 'AWS::IAM::Role', {
        AssumeRolePolicyDocument: Match.objectLike({ Statement: [Match.objectLike({ Principal: { Service: 'codedeploy.amazonaws.com' } })] }),
      });
      const topic = logicalId(prod, 'AWS::SNS::Topic', {});
      const privateSubnets = Object.keys(prod.findResources('AWS::EC2::Subnet', { Properties: { MapPublicIpOnLaunch: false } }));

      // Assert
      expect(fleet[1].Properties).toEqual({
        ServiceToken: { 'Fn::GetAtt': [expect.stringMatching(/^DeploymentProviderframeworkonEvent/), 'Arn'] },
        ApplicationName: 'conveyor-api',
        DeploymentGroupName: 'conveyor-api-prod',
        ServiceRoleArn: { 'Fn::GetAtt': [serviceRole, 'Arn'] },
        FleetName: 'conveyor-api-prod-fleet',
        FleetTagKey: 'conveyor-api:fleet',
        LaunchTemplateId: { Ref: launchTemplate },
        LaunchTemplateVersion: { 'Fn::GetAtt': [launchTemplate, 'LatestVersionNumber'] },
        MinSize: '2',
        DesiredCapacity: '2',
        MaxSize: '4',
        SubnetIds: privateSubnets.map((id) => ({ Ref: id })),
        TargetGroupArn: { Ref: targetGroup },
        TargetGroupName: { 'Fn::GetAtt': [targetGroup, 'TargetGroupName'] },
        AlarmNames: expect.any(Array) as unknown,
        TerminationWaitMinutes: '15',
        HealthCheckType: 'EC2',
        HealthCheckGracePeriodSeconds: '300',
        NotificationTopicArn: { Ref: topic },
        DeploymentConfigName: 'CodeDeployDefault.AllAtOnce',
      });
      expect(privateSubnets).toHaveLength(2);
    });

    it('when the deployment group watches alarms, then it gets 5xx and p99 latency but not unhealthy hosts (in ALARM until the first release)', () => {
      // Arrange
      const alarm = (name: string): string => logicalId(prod, 'AWS::CloudWatch::Alarm', { AlarmName: `conveyor-api-prod-${name}` });

      // Assert
      expect(fleet[1].Properties.AlarmNames).toEqual([{ Ref: alarm('target-5xx') }, { Ref: alarm('p99-latency') }]);
    });

    it('when the stack is deleted, then the resource goes before both IAM policies, the routes to the internet and the listener', () => {
      // Arrange
      const policies = Object.keys(prod.findResources('AWS::IAM::Policy')).filter((id) => /^Deployment(ServiceRolePolicy|HandlerPolicy)/.test(id));

      // Assert
      expect(policies).toHaveLength(2);
      expect(fleet[1].DependsOn).toEqual(expect.arrayContaining([...policies, expect.stringMatching(/DefaultRoute/), expect.stringMatching(/^LoadBalancerHttp/)]));
    });

    it('when a delete waits for the groups to go, then isComplete is polled every 30 s for at most 30 minutes', () => {
      // Arrange
      const [, stateMachine] = only(prod, 'AWS::StepFunctions::StateMachine');
      const definition = JSON.stringify(stateMachine.Properties.DefinitionString);

      // Assert
      expect(definition).toContain('\\"IntervalSeconds\\":30');
      expect(definition).toContain('\\"MaxAttempts\\":60');
      prod.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ USER_IS_COMPLETE_FUNCTION_ARN: Match.anyValue() }) },
      });
    });
  });

  describe('the handler', () => {
    it('when the handler is deployed, then both entry points run on Node.js 22 from one bundled asset, not inline code', () => {
      // Arrange
      const handlers = Object.values(prod.findResources('AWS::Lambda::Function', { Properties: { Runtime: 'nodejs22.x' } }) as Record<string, Resource>);

      // Assert
      expect(handlers.map((fn) => fn.Properties.Handler).sort()).toEqual(['index.isComplete', 'index.onEvent']);
      const code = handlers.map((fn) => fn.Properties.Code as { S3Bucket: unknown; S3Key: string; ZipFile?: string });
      expect(code[0]?.ZipFile).toBeUndefined();
      expect(code[0]?.S3Key).toEqual(code[1]?.S3Key);
      expect(code[0]?.S3Key).toMatch(/^[0-9a-f]{64}\.zip$/);
    });

    it('when synth bundles the handler, then the asset is one esbuild file holding the entry points and the SDK clients', () => {
      // Arrange
      const [, handler] = Object.entries(prod.findResources('AWS::Lambda::Function', { Properties: { Handler: 'index.onEvent' } }) as Record<string, Resource>)[0]!;
      const assetHash = (handler.Properties.Code as { S3Key: string }).S3Key.replace(/\.zip$/, '');
      const assetPath = `asset.${assetHash}`;
      const outdir = Stage.of(stacks.environments[1]!)!.outdir;

      // Act
      const bundle = readFileSync(join(outdir, assetPath, 'index.js'), 'utf8');

      // Assert
      expect(existsSync(join(outdir, assetPath, 'node_modules'))).toBe(false);
      expect(bundle).toContain('onEvent');
      expect(bundle).toContain('isComplete');
      expect(bundle).toContain('CreateDeploymentGroupCommand');
      expect(bundle).toContain('CreateAutoScalingGroupCommand');
    });
  });

  describe('the pipeline', () => {
    it("when prod is deployed, then the pipeline's action targets the deployment group name the custom resource returns", () => {
      // Arrange
      const action = (pipeline.findResources('AWS::CodePipeline::Pipeline') as Record<string, Resource>);
      const stages = Object.values(action)[0]!.Properties.Stages as { Name: string; Actions: { Configuration: Record<string, unknown> }[] }[];
      const configuration = stages.find((stage) => stage.Name === 'Deploy-prod')?.Actions[0]?.Configuration;
      const outputs = prod.toJSON().Outputs as Record<string, { Value: unknown }>;

      // Act
      const outputName = (configuration?.DeploymentGroupName as { 'Fn::GetStackOutput': { StackName: string; OutputName: string } })['Fn::GetStackOutput'];

      // Assert
      expect(configuration?.ApplicationName).toBe('conveyor-api');
      expect(outputName.StackName).toBe('conveyor-api-prod');
      expect(outputs[outputName.OutputName]?.Value).toEqual({ 'Fn::GetAtt': [fleet[0], 'DeploymentGroupName'] });
    });
  });

  describe("CodeDeploy's service role", () => {
    let statements: Statement[];
    beforeAll(() => {
      statements = statementsOf(prod, 'DeploymentServiceRolePolicy');
    });

    it('when CodeDeploy copies or deletes a group, then it may touch only the fleet group and its CodeDeploy_<group>_ copies', () => {
      // Assert
      expect(statement(statements, 'ManageTheFleetGroups')).toEqual({
        Sid: 'ManageTheFleetGroups',
        Effect: 'Allow',
        Action: [
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
        Resource: fleetGroupArns,
      });
    });

    it('when CodeDeploy moves traffic and terminates blue, then it registers only in the target group and terminates only fleet instances', () => {
      // Arrange
      const targetGroup = logicalId(prod, 'AWS::ElasticLoadBalancingV2::TargetGroup', {});

      // Assert
      expect(statement(statements, 'MoveTrafficInTheTargetGroup')).toMatchObject({
        Action: ['elasticloadbalancing:DeregisterTargets', 'elasticloadbalancing:RegisterTargets'],
        Resource: { Ref: targetGroup },
      });
      expect(statement(statements, 'TerminateOnlyFleetInstances')).toMatchObject({
        Action: 'ec2:TerminateInstances',
        Condition: { StringLike: { 'aws:ResourceTag/aws:autoscaling:groupName': ['conveyor-api-prod-fleet', 'CodeDeploy_conveyor-api-prod_*'] } },
      });
    });

    it("when CodeDeploy launches green from the launch template, then it may pass only the instance role, to EC2, and launch only through that template", () => {
      // Arrange
      const launchTemplate = logicalId(prod, 'AWS::EC2::LaunchTemplate', {});
      const instanceRole = logicalId(prod, 'AWS::IAM::Role', {
        AssumeRolePolicyDocument: Match.objectLike({ Statement: [Match.objectLike({ Principal: { Service: 'ec2.amazonaws.com' } })] }),
      });
      const templateArn = arn('arn:aws:ec2:us-east-1:', account, ':launch-template/', { Ref: launchTemplate });

      // Assert
      expect(statement(statements, 'PassTheInstanceRole')).toMatchObject({
        Action: 'iam:PassRole',
        Resource: { 'Fn::GetAtt': [instanceRole, 'Arn'] },
        Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
      });
      expect(statement(statements, 'LaunchOnlyThroughTheFleetTemplate')).toMatchObject({
        Action: 'ec2:RunInstances',
        Condition: { ArnLike: { 'ec2:LaunchTemplate': templateArn } },
      });
      expect(statement(statements, 'LaunchFromTheFleetTemplate').Resource).toEqual(expect.arrayContaining([templateArn]));
    });

    it('when the role is created, then it trusts CodeDeploy only and has no managed policy and no "*" write action', () => {
      // Arrange
      const writesOnStar = statements.filter((s) => s.Resource === '*' && [s.Action].flat().some((a) => !/:(Describe|Get)/.test(a)));

      // Assert
      prod.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: Match.objectLike({ Statement: [Match.objectLike({ Principal: { Service: 'codedeploy.amazonaws.com' } })] }),
        ManagedPolicyArns: Match.absent(),
      });
      expect(writesOnStar).toEqual([]);
    });
  });

  describe("the handler's role", () => {
    let statements: Statement[];
    beforeAll(() => {
      statements = statementsOf(prod, 'DeploymentHandlerPolicy');
    });

    it('when the handler manages the deployment group, then it may write only conveyor-api/conveyor-api-prod and read the application', () => {
      // Assert
      expect(statement(statements, 'OwnTheDeploymentGroup')).toMatchObject({
        Action: [
          'codedeploy:CreateDeploymentGroup',
          'codedeploy:DeleteDeploymentGroup',
          'codedeploy:GetDeploymentGroup',
          'codedeploy:ListTagsForResource',
          'codedeploy:TagResource',
          'codedeploy:UpdateDeploymentGroup',
        ],
        Resource: arn('arn:aws:codedeploy:us-east-1:', account, ':deploymentgroup:conveyor-api/conveyor-api-prod'),
      });
      expect(statement(statements, 'SeeWhichGroupsOtherDeploymentGroupsTarget')).toMatchObject({
        Action: 'codedeploy:BatchGetDeploymentGroups',
        Resource: arn('arn:aws:codedeploy:us-east-1:', account, ':deploymentgroup:conveyor-api/*'),
      });
      expect(statement(statements, 'ListDeploymentGroups')).toMatchObject({
        Action: 'codedeploy:ListDeploymentGroups',
        Resource: arn('arn:aws:codedeploy:us-east-1:', account, ':application:conveyor-api'),
      });
    });

    it('when the handler creates, updates and deletes groups, then it may do so only on the fleet group and its copies', () => {
      // Assert
      expect(statement(statements, 'OwnTheFleetGroups')).toMatchObject({
        Action: [
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
        Resource: fleetGroupArns,
      });
      expect(statement(statements, 'FindTheFleetGroups')).toMatchObject({ Action: 'autoscaling:DescribeAutoScalingGroups', Resource: '*' });
    });

    it('when the handler creates the deployment group, then it may pass only the CodeDeploy service role, to CodeDeploy', () => {
      // Arrange
      const serviceRole = logicalId(prod, 'AWS::IAM::Role', {
        AssumeRolePolicyDocument: Match.objectLike({ Statement: [Match.objectLike({ Principal: { Service: 'codedeploy.amazonaws.com' } })] }),
      });

      // Assert
      expect(statement(statements, 'PassTheServiceRoleToCodeDeploy')).toMatchObject({
        Action: 'iam:PassRole',
        Resource: { 'Fn::GetAtt': [serviceRole, 'Arn'] },
        Condition: { StringEquals: { 'iam:PassedToService': 'codedeploy.amazonaws.com' } },
      });
      expect(statement(statements, 'CreateTheAutoScalingServiceRoleOnFirstUse')).toMatchObject({
        Action: 'iam:CreateServiceLinkedRole',
        Condition: { StringLike: { 'iam:AWSServiceName': 'autoscaling.amazonaws.com' } },
      });
    });
  });
});

describe('blue/green deployment variants', () => {
  it('when an environment sets a termination wait, then the resource carries it', () => {
    // Arrange
    const config = testConfig({ environments: [{ ...shippedEnvironment('prod'), blueGreen: { terminationWaitMinutes: 120 } }] });

    // Act
    const template = Template.fromStack(synthConveyor(config).environments[0]!);

    // Assert
    template.hasResourceProperties('Custom::BlueGreenFleet', { TerminationWaitMinutes: '120', DeploymentGroupName: 'conveyor-api-prod' });
  });
});
