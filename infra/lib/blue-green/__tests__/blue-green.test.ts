import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { Stage, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';

import { exampleDeployConfig, synthTemplates, testConfig, type EnvironmentInput } from '../../../test-support';
import { names } from '../../names';
import { fleetTestStack, TEST_NAMES, type FleetTestStack } from './test-stack';

type Resource = { Type: string; Properties: Record<string, unknown>; DependsOn?: string[]; Metadata?: Record<string, unknown> };
type Statement = { Sid?: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

const account = { Ref: 'AWS::AccountId' };
const arn = (...parts: unknown[]): unknown => ({ 'Fn::Join': ['', parts] });
// IAM policy minimization sorts the resources.
const fleetGroupArns = [
  arn(`arn:aws:autoscaling:${TEST_NAMES.region}:`, account, `:autoScalingGroup:*:autoScalingGroupName/CodeDeploy_${TEST_NAMES.deploymentGroup}_*`),
  arn(`arn:aws:autoscaling:${TEST_NAMES.region}:`, account, `:autoScalingGroup:*:autoScalingGroupName/${TEST_NAMES.fleet}`),
];

function only(template: Template, type: string): [string, Resource] {
  const entries = Object.entries(template.findResources(type) as Record<string, Resource>);
  if (entries.length !== 1) throw new Error(`expected exactly one ${type}, found ${entries.length}`);
  return entries[0]!;
}

/** The logical id of a construct's CloudFormation resource in the test stack. */
function idOf(built: FleetTestStack, construct: IConstruct): string {
  return built.stack.getLogicalId(construct.node.defaultChild as CfnElement);
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

describe('blue/green deployment (the construct, in a stack of its own)', () => {
  let built: FleetTestStack;
  let template: Template;
  let fleet: [string, Resource];

  beforeAll(() => {
    // Bundled: one test below reads the handler's asset.
    built = fleetTestStack({}, { bundling: true });
    template = built.template;
    fleet = only(template, 'Custom::BlueGreenFleet');
  });

  describe('who owns the fleet', () => {
    it('when the construct is used, then a custom resource owns the fleet and deployment group, and the stack owns neither', () => {
      // Assert
      template.resourceCountIs('Custom::BlueGreenFleet', 1);
      template.resourceCountIs('AWS::AutoScaling::AutoScalingGroup', 0);
      template.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 0);
    });
  });

  describe('the custom resource', () => {
    it("when the construct is synthesized, then the resource gets its props' names, capacity, launch template, subnets and target group", () => {
      // Arrange
      const launchTemplate = idOf(built, built.launchTemplate);
      const targetGroup = idOf(built, built.targetGroup);
      const serviceRole = idOf(built, built.fleet.serviceRole);
      const topic = idOf(built, built.topic);
      const privateSubnets = Object.keys(template.findResources('AWS::EC2::Subnet', { Properties: { MapPublicIpOnLaunch: false } }));

      // Assert
      expect(fleet[1].Properties).toEqual({
        ServiceToken: { 'Fn::GetAtt': [expect.stringMatching(/^FleetProviderframeworkonEvent/), 'Arn'] },
        ApplicationName: TEST_NAMES.application,
        DeploymentGroupName: TEST_NAMES.deploymentGroup,
        ServiceRoleArn: { 'Fn::GetAtt': [serviceRole, 'Arn'] },
        FleetName: TEST_NAMES.fleet,
        FleetTagKey: TEST_NAMES.fleetTagKey,
        LaunchTemplateId: { Ref: launchTemplate },
        LaunchTemplateVersion: { 'Fn::GetAtt': [launchTemplate, 'LatestVersionNumber'] },
        MinSize: '1',
        DesiredCapacity: '2',
        MaxSize: '3',
        SubnetIds: privateSubnets.map((id) => ({ Ref: id })),
        TargetGroupArn: { Ref: targetGroup },
        TargetGroupName: { 'Fn::GetAtt': [targetGroup, 'TargetGroupName'] },
        AlarmNames: expect.any(Array) as unknown,
        TerminationWaitMinutes: '7',
        HealthCheckType: 'EC2',
        HealthCheckGracePeriodSeconds: '300',
        NotificationTopicArn: { Ref: topic },
        DeploymentConfigName: 'CodeDeployDefault.AllAtOnce',
      });
      expect(privateSubnets).toHaveLength(2);
    });

    it('when the deployment group watches alarms, then it gets every alarm but the target-health ones (in ALARM until the first release), in order', () => {
      // Arrange
      const everyAlarm = fleetTestStack({ targetHealthAlarms: [] });
      const ref = (stack: FleetTestStack, alarm: IConstruct): unknown => ({ Ref: idOf(stack, alarm) });

      // Assert
      expect(fleet[1].Properties.AlarmNames).toEqual([ref(built, built.alarms.errors)]);
      expect(only(everyAlarm.template, 'Custom::BlueGreenFleet')[1].Properties.AlarmNames).toEqual([
        ref(everyAlarm, everyAlarm.alarms.errors),
        ref(everyAlarm, everyAlarm.alarms.unhealthy),
      ]);
    });

    it('when the stack is deleted, then the resource goes before both IAM policies, the routes to the internet and the listener', () => {
      // Arrange
      const policies = Object.keys(template.findResources('AWS::IAM::Policy')).filter((id) => /^Fleet(ServiceRolePolicy|HandlerPolicy)/.test(id));

      // Assert
      expect(policies).toHaveLength(2);
      expect(fleet[1].DependsOn).toEqual(expect.arrayContaining([...policies, expect.stringMatching(/DefaultRoute/), expect.stringMatching(/^AlbHttp/)]));
    });

    it('when a delete waits for the groups to go, then isComplete is polled every 30 s for at most 30 minutes', () => {
      // Arrange
      const [, stateMachine] = only(template, 'AWS::StepFunctions::StateMachine');
      const definition = JSON.stringify(stateMachine.Properties.DefinitionString);

      // Assert
      expect(definition).toContain('\\"IntervalSeconds\\":30');
      expect(definition).toContain('\\"MaxAttempts\\":60');
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ USER_IS_COMPLETE_FUNCTION_ARN: Match.anyValue() }) },
      });
    });

    it("when the pipeline targets the construct's deployment group, then it gets the name the custom resource returns", () => {
      // Assert
      expect(built.stack.resolve(built.fleet.deploymentGroup.deploymentGroupName)).toEqual({ 'Fn::GetAtt': [fleet[0], 'DeploymentGroupName'] });
    });
  });

  describe('the handler', () => {
    it('when the handler is deployed, then both entry points run on Node.js 22 from one bundled asset, not inline code', () => {
      // Arrange
      const handlers = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Runtime: 'nodejs22.x' } }) as Record<string, Resource>);

      // Assert
      expect(handlers.map((fn) => fn.Properties.Handler).sort()).toEqual(['index.isComplete', 'index.onEvent']);
      const code = handlers.map((fn) => fn.Properties.Code as { S3Bucket: unknown; S3Key: string; ZipFile?: string });
      expect(code[0]?.ZipFile).toBeUndefined();
      expect(code[0]?.S3Key).toEqual(code[1]?.S3Key);
      expect(code[0]?.S3Key).toMatch(/^[0-9a-f]{64}\.zip$/);
    });

    it('when synth bundles the handler, then the asset is one esbuild file holding the entry points and the SDK clients', () => {
      // Arrange
      const [, handler] = Object.entries(template.findResources('AWS::Lambda::Function', { Properties: { Handler: 'index.onEvent' } }) as Record<string, Resource>)[0]!;
      const assetHash = (handler.Properties.Code as { S3Key: string }).S3Key.replace(/\.zip$/, '');
      const assetPath = `asset.${assetHash}`;
      const outdir = Stage.of(built.stack)!.outdir;

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

  describe("CodeDeploy's service role", () => {
    let statements: Statement[];
    beforeAll(() => {
      statements = statementsOf(template, 'FleetServiceRolePolicy');
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
      const targetGroup = idOf(built, built.targetGroup);

      // Assert
      expect(statement(statements, 'MoveTrafficInTheTargetGroup')).toMatchObject({
        Action: ['elasticloadbalancing:DeregisterTargets', 'elasticloadbalancing:RegisterTargets'],
        Resource: { Ref: targetGroup },
      });
      expect(statement(statements, 'TerminateOnlyFleetInstances')).toMatchObject({
        Action: 'ec2:TerminateInstances',
        Condition: { StringLike: { 'aws:ResourceTag/aws:autoscaling:groupName': [TEST_NAMES.fleet, `CodeDeploy_${TEST_NAMES.deploymentGroup}_*`] } },
      });
    });

    it("when CodeDeploy launches green from the launch template, then it may pass only the instance role, to EC2, and launch only through that template", () => {
      // Arrange
      const launchTemplate = idOf(built, built.launchTemplate);
      const instanceRole = idOf(built, built.instanceRole);
      const templateArn = arn(`arn:aws:ec2:${TEST_NAMES.region}:`, account, ':launch-template/', { Ref: launchTemplate });

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
      template.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: Match.objectLike({ Statement: [Match.objectLike({ Principal: { Service: 'codedeploy.amazonaws.com' } })] }),
        ManagedPolicyArns: Match.absent(),
      });
      expect(writesOnStar).toEqual([]);
    });
  });

  describe("the handler's role", () => {
    let statements: Statement[];
    beforeAll(() => {
      statements = statementsOf(template, 'FleetHandlerPolicy');
    });

    it('when the handler manages the deployment group, then it may write only its own deployment group and read the application', () => {
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
        Resource: arn(`arn:aws:codedeploy:${TEST_NAMES.region}:`, account, `:deploymentgroup:${TEST_NAMES.application}/${TEST_NAMES.deploymentGroup}`),
      });
      expect(statement(statements, 'SeeWhichGroupsOtherDeploymentGroupsTarget')).toMatchObject({
        Action: 'codedeploy:BatchGetDeploymentGroups',
        Resource: arn(`arn:aws:codedeploy:${TEST_NAMES.region}:`, account, `:deploymentgroup:${TEST_NAMES.application}/*`),
      });
      expect(statement(statements, 'ListDeploymentGroups')).toMatchObject({
        Action: 'codedeploy:ListDeploymentGroups',
        Resource: arn(`arn:aws:codedeploy:${TEST_NAMES.region}:`, account, `:application:${TEST_NAMES.application}`),
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
      const serviceRole = idOf(built, built.fleet.serviceRole);

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

describe('blue/green deployment in the app (each environment picks its style)', () => {
  /** The frozen example's environments, the first in place and every other blue/green, whatever the example itself chose. */
  const environments = (blueGreen: Partial<EnvironmentInput> = {}): EnvironmentInput[] =>
    exampleDeployConfig.environments.map((env, index) =>
      index === 0 ? { ...env, deploymentStyle: 'in-place' } : { ...env, deploymentStyle: 'blue-green', ...blueGreen },
    );

  it('when an environment is in place, then its stack owns its Auto Scaling group and deployment group, and has no custom resource', () => {
    // Arrange
    const [inPlace, ...blueGreen] = synthTemplates(testConfig({ environments: environments() })).environments;

    // Assert
    expect(blueGreen.length).toBeGreaterThan(0);
    inPlace!.resourceCountIs('AWS::AutoScaling::AutoScalingGroup', 1);
    inPlace!.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 1);
    inPlace!.resourceCountIs('Custom::BlueGreenFleet', 0);
    expect(inPlace!.findResources('AWS::Lambda::Function', { Properties: { Handler: Match.stringLikeRegexp('^index\\.(onEvent|isComplete)$') } })).toEqual({});
    for (const template of blueGreen) {
      template.resourceCountIs('Custom::BlueGreenFleet', 1);
      template.resourceCountIs('AWS::AutoScaling::AutoScalingGroup', 0);
      template.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 0);
    }
  });

  it("when a blue/green environment is deployed, then the pipeline's action targets the deployment group name its custom resource returns", () => {
    // Arrange (the same app as the test above: synthesized once)
    const templates = synthTemplates(testConfig({ environments: environments() }));
    const environmentName = environments().at(-1)!.name;
    const template = templates.environments.at(-1)!;
    const [fleetId, fleet] = only(template, 'Custom::BlueGreenFleet');
    const stages = only(templates.pipeline, 'AWS::CodePipeline::Pipeline')[1].Properties.Stages as { Name: string; Actions: { Name: string; Configuration: Record<string, unknown> }[] }[];
    const configuration = stages.find((stage) => stage.Name === `Deploy-${environmentName}`)?.Actions.find((action) => action.Name === 'Deploy')?.Configuration;
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;

    // Act
    const outputName = (configuration?.DeploymentGroupName as { 'Fn::GetStackOutput': { StackName: string; OutputName: string } })['Fn::GetStackOutput'];

    // Assert
    expect(configuration?.ApplicationName).toBe(fleet.Properties.ApplicationName);
    expect(outputName.StackName).toBe(names.environmentStack(environmentName));
    expect(outputs[outputName.OutputName]?.Value).toEqual({ 'Fn::GetAtt': [fleetId, 'DeploymentGroupName'] });
  });

  it('when an environment sets a termination wait, then the resource carries it', () => {
    // Arrange
    const config = testConfig({ environments: environments({ blueGreen: { terminationWaitMinutes: 120 } }) });

    // Act
    const templates = synthTemplates(config).environments.slice(1);

    // Assert
    expect(templates.length).toBeGreaterThan(0);
    for (const template of templates) {
      expect(only(template, 'Custom::BlueGreenFleet')[1].Properties.TerminationWaitMinutes).toBe('120');
    }
  });
});
