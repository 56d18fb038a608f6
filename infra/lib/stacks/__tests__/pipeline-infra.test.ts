// Infrastructure from the push, the acceptance check and the stage conditions:
// what the pipeline template must hold so that a push changing only the deploy
// config reaches every environment, in order, without anyone running cdk deploy.
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnRole } from 'aws-cdk-lib/aws-iam';

import { shippedEnvironment, synthStacks, testConfig } from '../../../test-support';
import { expectAllowed, expectDenied, resolveApp, TEST_ACCOUNT, type SimulatedPrincipal } from '../../../test-support/iam-simulator';
import { CLI_VERSION_FILE } from '../../cdk-deploy';
import { names } from '../../names';
import { NPM_FROM_PACKAGE_MANAGER } from '../../pipeline-step';

type Resources = Record<string, { Properties: Record<string, unknown> }>;
interface Rule {
  Name: string;
  RuleTypeId: { Provider: string; Category: string; Owner: string; Version: string };
  Configuration: Record<string, unknown>;
}
interface Action {
  Name: string;
  RunOrder?: number;
  ActionTypeId: { Provider: string };
  InputArtifacts?: { Name: string }[];
  OutputArtifacts?: { Name: string }[];
  Configuration: Record<string, unknown>;
}
interface Stage {
  Name: string;
  Actions: Action[];
  BeforeEntry?: { Conditions: { Result: string; Rules: Rule[] }[] };
  OnFailure?: { Result: string };
}

function stagesOf(template: Template): Stage[] {
  const [pipeline] = Object.values(template.findResources('AWS::CodePipeline::Pipeline') as Resources);
  return pipeline?.Properties.Stages as Stage[];
}

function action(template: Template, stageName: string, actionName: string): Action {
  const found = stagesOf(template)
    .find((stage) => stage.Name === stageName)
    ?.Actions.find((candidate) => candidate.Name === actionName);
  if (found === undefined) throw new Error(`no action ${actionName} in ${stageName}`);
  return found;
}

/** The environment variables of a CodeBuild action whose values are plain strings, by name. */
function environmentOf(found: Action): Record<string, string> {
  const raw = found.Configuration.EnvironmentVariables;
  if (typeof raw !== 'string') throw new Error(`${found.Name}: environment variables hold references`);
  return Object.fromEntries((JSON.parse(raw) as { name: string; value: string }[]).map((v) => [v.name, v.value]));
}

/** The inline buildspec of the project a CodeBuild action runs. */
function buildSpecOf(template: Template, found: Action): { phases: Record<string, { commands: string[] }>; artifacts?: Record<string, unknown> } {
  const projectRef = (found.Configuration.ProjectName as { Ref: string }).Ref;
  const project = (template.findResources('AWS::CodeBuild::Project') as Resources)[projectRef];
  const source = project?.Properties.Source as { BuildSpec: string };
  return JSON.parse(source.BuildSpec) as ReturnType<typeof buildSpecOf>;
}

function projectOf(template: Template, found: Action): Record<string, unknown> {
  const projectRef = (found.Configuration.ProjectName as { Ref: string }).Ref;
  return (template.findResources('AWS::CodeBuild::Project') as Resources)[projectRef]!.Properties;
}

describe('infrastructure from the push (the example config)', () => {
  const stacks = synthStacks(testConfig());
  const template = Template.fromStack(stacks.pipeline);

  it('when the run builds, then one synth beside the build writes the cloud assembly with the pinned CLI version', () => {
    // Act
    const synth = action(template, 'Build', 'Synth');
    const build = action(template, 'Build', 'BuildTestPackage');
    const spec = buildSpecOf(template, synth);

    // Assert
    expect(synth.RunOrder ?? 1).toBe(build.RunOrder ?? 1);
    expect(synth.InputArtifacts).toEqual([{ Name: 'Source' }]);
    expect(synth.OutputArtifacts).toEqual([{ Name: 'Assembly' }]);
    expect(spec.phases.install?.commands).toEqual([NPM_FROM_PACKAGE_MANAGER, 'npm ci --no-audit --no-fund']);
    expect(spec.phases.build?.commands[0]).toBe('npm run synth');
    expect(spec.phases.build?.commands[1]).toContain(`> infra/cdk.out/${CLI_VERSION_FILE}`);
    expect(spec.artifacts).toEqual({ 'base-directory': 'infra/cdk.out', files: ['**/*'] });
    // The repository's buildspec.yml (run by the local rehearsal too) still drives the build.
    expect((projectOf(template, build).Source as { BuildSpec: string }).BuildSpec).toBe('buildspec.yml');
  });

  it('when the build is done, then the pipeline deploys the foundation and its own stack from the assembly, exclusively', () => {
    // Act
    const stages = stagesOf(template);
    const selfUpdate = action(template, 'UpdatePipeline', 'SelfUpdate');
    const spec = buildSpecOf(template, selfUpdate);

    // Assert
    expect(stages.findIndex((stage) => stage.Name === 'UpdatePipeline')).toBe(stages.findIndex((stage) => stage.Name === 'Build') + 1);
    expect(selfUpdate.InputArtifacts).toEqual([{ Name: 'Assembly' }]);
    expect(environmentOf(selfUpdate)).toEqual({ STACKS: `${names.foundationStack} ${names.pipelineStack}` });
    expect(spec.phases.install?.commands).toEqual([`npm install --global --no-audit --no-fund "aws-cdk@$(cat ${CLI_VERSION_FILE})"`]);
    expect(spec.phases.build?.commands.join('\n')).toMatch(/cdk deploy --app \. --exclusively --require-approval never .*"\$\{stacks\[@\]\}"/);
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', { RestartExecutionOnUpdate: true, ExecutionMode: 'QUEUED' });
  });

  it('when an environment is deployed, then its stack is updated from the same assembly first, then the bundle', () => {
    for (const env of ['staging', 'prod']) {
      // Act
      const update = action(template, `Deploy-${env}`, 'UpdateStack');
      const deploy = action(template, `Deploy-${env}`, 'Deploy');

      // Assert
      expect(update.InputArtifacts).toEqual([{ Name: 'Assembly' }]);
      expect(environmentOf(update)).toEqual({ STACKS: names.environmentStack(env) });
      expect(update.Configuration.ProjectName).toEqual(action(template, 'UpdatePipeline', 'SelfUpdate').Configuration.ProjectName);
      expect(update.RunOrder).toBeLessThan(deploy.RunOrder ?? 1);
    }
  });

  it("when production's stack is updated, then that waits behind the approval like its bundle", () => {
    // Act
    const stageNames = stagesOf(template).map((stage) => stage.Name);
    const stagesUpdatingProd = stagesOf(template)
      .filter((stage) => stage.Actions.some((a) => JSON.stringify(a.Configuration.EnvironmentVariables ?? '').includes(names.environmentStack('prod'))))
      .map((stage) => stage.Name);

    // Assert
    expect(stagesUpdatingProd).toEqual(['Deploy-prod']);
    expect(stageNames.indexOf('Approve-prod')).toBeLessThan(stageNames.indexOf('Deploy-prod'));
  });

  it('when a non-production environment is deployed, then the acceptance check runs last, from the source, against its load balancer and commit', () => {
    // Act
    const stage = stagesOf(template).find((candidate) => candidate.Name === 'Deploy-staging');
    const check = action(template, 'Deploy-staging', 'AcceptanceCheck');
    const spec = buildSpecOf(template, check);
    const env = stacks.pipeline.resolve(check.Configuration.EnvironmentVariables) as unknown;

    // Assert
    expect(stage?.Actions.at(-1)?.Name).toBe('AcceptanceCheck');
    expect(check.RunOrder).toBeGreaterThan(action(template, 'Deploy-staging', 'Deploy').RunOrder ?? 1);
    expect(check.InputArtifacts).toEqual([{ Name: 'Source' }]);
    expect(spec.phases.install?.commands).toEqual([NPM_FROM_PACKAGE_MANAGER, 'npm ci --no-audit --no-fund']);
    expect(spec.phases.build?.commands).toEqual([
      'npx turbo run build --filter=@conveyor/acceptance',
      'npx acceptance-check --url "${SERVICE_URL}" --commit "${SOURCE_COMMIT_ID}"',
    ]);
    const text = JSON.stringify(env);
    expect(text).toContain('\\"name\\":\\"SERVICE_URL\\",\\"type\\":\\"PLAINTEXT\\",\\"value\\":\\"http://');
    expect(text).toContain(`"StackName":"${names.environmentStack('staging')}"`);
    expect(text).toContain('\\"name\\":\\"SOURCE_COMMIT_ID\\",\\"type\\":\\"PLAINTEXT\\",\\"value\\":\\"#{Source.CommitId}\\"');
    // The load balancer is internet-facing: the check calls it from outside any VPC.
    expect(projectOf(template, check).VpcConfig).toBeUndefined();
    expect(stagesOf(template).find((candidate) => candidate.Name === 'Deploy-prod')?.Actions.map((a) => a.Name)).not.toContain('AcceptanceCheck');
  });

  it('when a Deploy stage is entered, then it fails while a rollback alarm of its environment is in ALARM, and rolls back on failure', () => {
    for (const [env, alarms] of [
      ['staging', ['target-5xx', 'unhealthy-hosts', 'p99-latency']],
      // Blue/green keeps the unhealthy-hosts alarm off its deployment group (in ALARM until the first release).
      ['prod', ['target-5xx', 'p99-latency']],
    ] as const) {
      // Act
      const stage = stagesOf(template).find((candidate) => candidate.Name === `Deploy-${env}`);

      // Assert
      expect(stage?.BeforeEntry?.Conditions).toEqual([
        {
          Result: 'FAIL',
          Rules: alarms.map((alarm) => ({
            Name: names.alarm(env, alarm),
            RuleTypeId: { Category: 'Rule', Owner: 'AWS', Provider: 'CloudWatchAlarm', Version: '1' },
            Configuration: { AlarmName: names.alarm(env, alarm), AlarmStates: 'ALARM' },
          })),
        },
      ]);
      expect(stage?.OnFailure).toEqual({ Result: 'ROLLBACK' });
    }
    expect(stagesOf(template).filter((stage) => stage.BeforeEntry !== undefined).map((stage) => stage.Name)).toEqual(['Deploy-staging', 'Deploy-prod']);
  });

  it('when no deployment window is configured, then production has no window rule', () => {
    // Assert
    expect(JSON.stringify(stagesOf(template))).not.toContain('DeploymentWindow');
  });

  describe('roles, checked with the policy simulator', () => {
    const resolved = resolveApp([stacks.foundation, ...stacks.environments, stacks.pipeline]);
    const logicalId = (construct: { node: { defaultChild?: unknown } }): string => stacks.pipeline.getLogicalId(construct.node.defaultChild as CfnRole);
    const region = resolved.region;
    const principal = (role: { node: { defaultChild?: unknown } }, session: string): SimulatedPrincipal => {
      const policies = resolved.rolePolicies(stacks.pipeline.stackName, logicalId(role));
      return { ...policies, arn: `arn:aws:sts::${TEST_ACCOUNT}:assumed-role/${policies.roleName}/${session}` };
    };
    const deployer = principal(stacks.pipeline.delivery.infrastructure.deploy.role, 'AWSCodeBuild-1');
    const bootstrapRole = (qualifier: string, kind: string): string => `arn:aws:iam::${TEST_ACCOUNT}:role/cdk-${qualifier}-${kind}-role-${TEST_ACCOUNT}-${region}`;

    it('when a stack is updated, then the deploy step may assume the bootstrap deploy and file-publishing roles of the qualifier', async () => {
      await expectAllowed(deployer, [
        { description: 'deploy through the bootstrap deploy role', action: 'sts:AssumeRole', resource: bootstrapRole('hnb659fds', 'deploy') },
        { description: 'publish assets through the file-publishing role', action: 'sts:AssumeRole', resource: bootstrapRole('hnb659fds', 'file-publishing') },
      ]);
    });

    it('when the deploy step reaches further, then administrator-like roles, other qualifiers and direct CloudFormation are denied', async () => {
      await expectDenied(deployer, [
        { description: 'an administrator role', action: 'sts:AssumeRole', resource: `arn:aws:iam::${TEST_ACCOUNT}:role/Admin` },
        { description: "the CloudFormation execution role (only CloudFormation may use it)", action: 'sts:AssumeRole', resource: bootstrapRole('hnb659fds', 'cfn-exec') },
        { description: 'the image-publishing role (no container assets)', action: 'sts:AssumeRole', resource: bootstrapRole('hnb659fds', 'image-publishing') },
        { description: 'another qualifier', action: 'sts:AssumeRole', resource: bootstrapRole('other1', 'deploy') },
        { description: 'another account', action: 'sts:AssumeRole', resource: `arn:aws:iam::222222222222:role/cdk-hnb659fds-deploy-role-222222222222-${region}` },
        { description: 'CloudFormation without the bootstrap role', action: 'cloudformation:UpdateStack', resource: `arn:aws:cloudformation:${region}:${TEST_ACCOUNT}:stack/${names.pipelineStack}/abc` },
        { description: 'pass a role', action: 'iam:PassRole', resource: `arn:aws:iam::${TEST_ACCOUNT}:role/Admin` },
      ]);
    });

    it('when a Deploy stage is entered, then the pipeline may read its environments\u2019 rollback alarms only', async () => {
      const pipelineRole = principal(stacks.pipeline.delivery.pipeline.role, 'pipeline');
      const alarmArn = (name: string): string => `arn:aws:cloudwatch:${region}:${TEST_ACCOUNT}:alarm:${name}`;
      await expectAllowed(pipelineRole, [
        { action: 'cloudwatch:DescribeAlarms', resource: alarmArn(names.alarm('staging', 'target-5xx')) },
        { action: 'cloudwatch:DescribeAlarms', resource: alarmArn(names.alarm('prod', 'p99-latency')) },
      ]);
      await expectDenied(pipelineRole, [
        { description: "another application's alarm", action: 'cloudwatch:DescribeAlarms', resource: alarmArn('billing-alarm') },
        { description: 'changing an alarm', action: 'cloudwatch:PutMetricAlarm', resource: alarmArn(names.alarm('prod', 'p99-latency')) },
      ]);
    });
  });
});

describe('pipeline settings from the deploy config', () => {
  it('when a bootstrap qualifier is configured, then every stack and the deploy step use its roles', () => {
    // Arrange
    const stacks = synthStacks(testConfig({ pipeline: { bootstrapQualifier: 'team42' } }));

    // Act
    const template = Template.fromStack(stacks.pipeline);
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    const envTemplate = Template.fromStack(stacks.environments[0]!);

    // Assert
    expect(policies).toContain(':role/cdk-team42-deploy-role-');
    expect(policies).toContain(':role/cdk-team42-file-publishing-role-');
    expect(policies).not.toContain('hnb659fds');
    expect(JSON.stringify(envTemplate.toJSON().Parameters)).toContain('/cdk-bootstrap/team42/version');
  });

  it('when a deployment window is configured, then only production gets the rule, with its cron and time zone', () => {
    // Arrange
    const window = { cron: '* * 9-16 ? * MON-THU', timeZone: 'Europe/Berlin' };
    const template = Template.fromStack(synthStacks(testConfig({ pipeline: { deploymentWindow: window }, environments: [shippedEnvironment('staging'), shippedEnvironment('prod')] })).pipeline);

    // Act
    const rulesOf = (name: string): Rule[] => stagesOf(template).find((stage) => stage.Name === name)?.BeforeEntry?.Conditions[0]?.Rules ?? [];

    // Assert
    expect(rulesOf('Deploy-prod').filter((rule) => rule.RuleTypeId.Provider === 'DeploymentWindow')).toEqual([
      {
        Name: 'prod-deployment-window',
        RuleTypeId: { Category: 'Rule', Owner: 'AWS', Provider: 'DeploymentWindow', Version: '1' },
        Configuration: { Cron: window.cron, TimeZone: window.timeZone },
      },
    ]);
    expect(rulesOf('Deploy-staging').map((rule) => rule.RuleTypeId.Provider)).not.toContain('DeploymentWindow');
  });

  it('when an environment serves HTTPS, then its acceptance check calls https:// on the name its certificate covers', () => {
    // Arrange
    const certificateArn = 'arn:aws:acm:us-east-1:111122223333:certificate/0f0e0d0c-0b0a-4999-8888-777766665555';
    const domainName = 'staging.example.com';
    const stacks = synthStacks(testConfig({ environments: [{ ...shippedEnvironment('staging'), certificateArn, domainName }, shippedEnvironment('prod')] }));
    const template = Template.fromStack(stacks.pipeline);

    // Act
    const check = action(template, 'Deploy-staging', 'AcceptanceCheck');

    // Assert
    expect(JSON.stringify(stacks.pipeline.resolve(check.Configuration.EnvironmentVariables))).toContain(`\\"value\\":\\"https://${domainName}\\"`);
  });
});
