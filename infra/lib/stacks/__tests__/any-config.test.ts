import { Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import fc from 'fast-check';

import { parseDeployConfig, type DeployConfig } from '../../../config/schema';
import { createTestApp, deployConfigs } from '../../../test-support';
import { names } from '../../names';
import { createStacks } from '..';

/**
 * Behaviour that must hold for every valid deploy config, checked over
 * generated ones (test-support/arbitraries.ts). Each run synthesizes a whole
 * app with cdk-nag (one to three seconds), the most expensive test of the suite,
 * so the run count stays small. With 10 configs, a choice the generator makes
 * half the time (source kind, deployment style, a flag) is seen both ways in
 * all but 1 run in 500; an optional field left out (1 in 6 per field) is
 * missed by 1 run in 6. Every run of the suite draws a new seed, so the
 * configs covered add up from build to build. A failure prints the config and
 * fast-check's seed; adding `seed` and `path` from it to the fc.assert options
 * below replays that config.
 */
const RUNS = 10;

type Resource = { Type: string; Properties?: Record<string, unknown> };
type Resources = Record<string, Resource>;
interface Rule {
  Name: string;
  RuleTypeId: { Provider: string };
  Configuration: Record<string, unknown>;
}
interface Stage {
  Name: string;
  Actions: { Name: string; ActionTypeId: { Category: string; Provider: string }; Configuration?: Record<string, unknown> }[];
  BeforeEntry?: { Conditions?: { Result: string; Rules?: Rule[] }[] };
  OnFailure?: { Result?: string };
}

/**
 * Name limits of the AWS resources the app names itself (CloudFormation resource
 * reference, "Length constraints"). The target group is 32 like the load
 * balancer; CodeDeploy's blue/green copy `CodeDeploy_<group>_<d-XXXXXXXXX>` must
 * fit an Auto Scaling group name (255).
 */
const NAME_LIMITS: readonly { type: string; property: string; max: number; pattern?: RegExp }[] = [
  { type: 'AWS::CodePipeline::Pipeline', property: 'Name', max: 100, pattern: /^[A-Za-z0-9.@_-]+$/ },
  { type: 'AWS::CodeBuild::Project', property: 'Name', max: 255, pattern: /^[A-Za-z0-9][A-Za-z0-9_-]+$/ },
  { type: 'AWS::CodeBuild::ReportGroup', property: 'Name', max: 128 },
  { type: 'AWS::CodeDeploy::Application', property: 'ApplicationName', max: 100 },
  { type: 'AWS::CodeDeploy::DeploymentGroup', property: 'DeploymentGroupName', max: 100 },
  { type: 'AWS::CloudWatch::Alarm', property: 'AlarmName', max: 255 },
  { type: 'AWS::Logs::LogGroup', property: 'LogGroupName', max: 512, pattern: /^[.\-_/#A-Za-z0-9]+$/ },
  { type: 'AWS::SSM::Parameter', property: 'Name', max: 1011, pattern: /^[a-zA-Z0-9_.\-/]+$/ },
  { type: 'AWS::ElasticLoadBalancingV2::LoadBalancer', property: 'Name', max: 32 },
  { type: 'AWS::ElasticLoadBalancingV2::TargetGroup', property: 'Name', max: 32 },
  { type: 'AWS::AutoScaling::AutoScalingGroup', property: 'AutoScalingGroupName', max: 255 },
  { type: 'AWS::SNS::Topic', property: 'TopicName', max: 256 },
  { type: 'AWS::CodeCommit::Repository', property: 'RepositoryName', max: 100 },
  { type: 'AWS::CloudWatch::Dashboard', property: 'DashboardName', max: 255, pattern: /^[A-Za-z0-9_-]+$/ },
  { type: 'AWS::Logs::QueryDefinition', property: 'Name', max: 255 },
];
const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;

/** Synthesizes like `cdk synth` (cdk-nag on; a finding left unacknowledged throws) and returns each stack's template. */
function synthesize(config: DeployConfig): { stackNames: string[]; templates: Map<string, Template> } {
  const app = createTestApp();
  const stacks = createStacks(app, config);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const assembly = app.synth();
  const all = [stacks.foundation, ...stacks.environments, stacks.pipeline];
  const templates = new Map(all.map((stack) => [stack.stackName, Template.fromJSON(assembly.getStackArtifact(stack.artifactId).template as Record<string, unknown>)]));
  return { stackNames: all.map((stack) => stack.stackName), templates };
}

function resourcesOf(template: Template): Resources {
  return (template.toJSON() as { Resources: Resources }).Resources;
}

function templateOf(templates: Map<string, Template>, stackName: string): Template {
  const template = templates.get(stackName);
  if (template === undefined) throw new Error(`no stack ${stackName}`);
  return template;
}

/** Every violated invariant, as a sentence (an empty list means the config is handled right). */
function violations(config: DeployConfig): string[] {
  const found: string[] = [];
  const { stackNames, templates } = synthesize(config);
  const envNames = config.environments.map((env) => env.name);
  const production = envNames.at(-1) ?? '';

  // Stacks: foundation, one per environment in order, pipeline; valid CloudFormation stack names.
  const expectedStacks = [names.foundationStack, ...envNames.map(names.environmentStack), names.pipelineStack];
  if (JSON.stringify(stackNames) !== JSON.stringify(expectedStacks)) found.push(`stacks are ${stackNames.join(', ')}`);
  for (const name of stackNames) if (!STACK_NAME.test(name)) found.push(`stack name ${name} is not a valid CloudFormation stack name`);

  // Pipeline: Source, Build, UpdatePipeline, Deploy-<env> in order, with Approve-<prod> right before Deploy-<prod>.
  const pipeline = templateOf(templates, names.pipelineStack);
  const [pipelineResource] = Object.values(pipeline.findResources('AWS::CodePipeline::Pipeline') as Resources);
  const stages = (pipelineResource?.Properties?.Stages ?? []) as Stage[];
  const expectedStages = ['Source', 'Build', 'UpdatePipeline', ...envNames.slice(0, -1).map((env) => `Deploy-${env}`), `Approve-${production}`, `Deploy-${production}`];
  const stageNames = stages.map((stage) => stage.Name);
  if (JSON.stringify(stageNames) !== JSON.stringify(expectedStages)) found.push(`pipeline stages are ${stageNames.join(' > ')}`);
  const sourceProvider = stages[0]?.Actions[0]?.ActionTypeId.Provider;
  const expectedProvider = config.source.kind === 'github' ? 'CodeStarSourceConnection' : 'CodeCommit';
  if (sourceProvider !== expectedProvider) found.push(`source action is ${String(sourceProvider)}, expected ${expectedProvider}`);
  const approval = stages.find((stage) => stage.Name === `Approve-${production}`)?.Actions ?? [];
  if (approval.length !== 1 || approval[0]?.ActionTypeId.Provider !== 'Manual') found.push('production has no single manual approval');
  for (const env of envNames) {
    const stage = stages.find((candidate) => candidate.Name === `Deploy-${env}`);
    const actions = (stage?.Actions ?? []).map((action) => `${action.Name}:${action.ActionTypeId.Provider}`);
    // The stack first, then the bundle, then (before the approval) the acceptance check.
    const expectedActions = ['UpdateStack:CodeBuild', 'Deploy:CodeDeploy', ...(env === production ? [] : ['AcceptanceCheck:CodeBuild'])];
    if (JSON.stringify(actions) !== JSON.stringify(expectedActions)) found.push(`Deploy-${env} actions are ${actions.join(', ')}`);
    const rules = stage?.BeforeEntry?.Conditions?.[0]?.Rules ?? [];
    const alarmRules = rules.filter((rule) => rule.RuleTypeId.Provider === 'CloudWatchAlarm').map((rule) => rule.Configuration.AlarmName);
    if (alarmRules.length === 0 || !alarmRules.every((name) => String(name).startsWith(names.alarm(env, '')))) {
      found.push(`Deploy-${env} does not wait for its own alarms: ${alarmRules.join(', ')}`);
    }
    const window = rules.some((rule) => rule.RuleTypeId.Provider === 'DeploymentWindow');
    if (window !== (env === production && config.pipeline.deploymentWindow !== undefined)) found.push(`Deploy-${env} deployment window is ${window}`);
    if (stage?.OnFailure?.Result !== 'ROLLBACK') found.push(`Deploy-${env} does not roll back on failure`);
    // CodePipeline: rule names are unique in the pipeline, at most 100 characters of [A-Za-z0-9.@_-].
    for (const rule of rules) if (!/^[A-Za-z0-9.@_-]{1,100}$/.test(rule.Name)) found.push(`rule name ${rule.Name} is not valid`);
  }

  for (const env of config.environments) {
    const template = templateOf(templates, names.environmentStack(env.name));
    const resources = resourcesOf(template);

    // One deployment group, whichever style owns it (L2 resource or the blue/green custom resource).
    const groups = Object.entries(resources).filter(([, r]) => r.Properties?.DeploymentGroupName !== undefined);
    if (groups.length !== 1) {
      found.push(`${env.name}: ${groups.length} deployment groups`);
      continue;
    }
    const [, group] = groups[0]!;
    if (group.Properties?.DeploymentGroupName !== names.deploymentGroup(env.name)) {
      found.push(`${env.name}: deployment group named ${JSON.stringify(group.Properties?.DeploymentGroupName)}`);
    }

    // Alarms: three (and disk-full with instance metrics), named after the environment, each telling the topic,
    // the rollback ones on the group and disk-full not.
    const alarms = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm');
    const alarmNames = alarms.map(([, r]) => String(r.Properties?.AlarmName)).sort();
    const diskFull = env.observability.instanceMetrics ? ['disk-full-root'] : [];
    const expectedAlarms = ['p99-latency', 'target-5xx', 'unhealthy-hosts', ...diskFull].map((what) => names.alarm(env.name, what)).sort();
    if (JSON.stringify(alarmNames) !== JSON.stringify(expectedAlarms)) found.push(`${env.name}: alarms ${alarmNames.join(', ')}`);
    const topics = Object.keys(template.findResources('AWS::SNS::Topic'));
    for (const [id, alarm] of alarms) {
      const actions = JSON.stringify(alarm.Properties?.AlarmActions);
      if (!topics.some((topic) => actions === JSON.stringify([{ Ref: topic }]))) found.push(`${env.name}: alarm ${id} notifies no topic`);
    }
    const groupJson = JSON.stringify(group.Properties);
    const isDiskFull = (r: Resource): boolean => String(r.Properties?.AlarmName).includes('-disk-full');
    const rollbackAlarms = alarms.filter(
      ([, r]) => !isDiskFull(r) && (env.deploymentStyle === 'in-place' || !String(r.Properties?.AlarmName).endsWith('unhealthy-hosts')),
    );
    for (const [id] of rollbackAlarms) {
      if (!groupJson.includes(JSON.stringify({ Ref: id }))) found.push(`${env.name} (${env.deploymentStyle}): alarm ${id} is not on the deployment group`);
    }
    for (const [id] of alarms.filter(([, r]) => isDiskFull(r))) {
      if (groupJson.includes(JSON.stringify({ Ref: id })) || groupJson.includes(id)) found.push(`${env.name}: the disk-full alarm ${id} would roll deployments back`);
    }

    // Log groups: the four shipped files, each with the environment's retention and the config's removal policy.
    const logGroups = Object.values(resources).filter((r) => r.Type === 'AWS::Logs::LogGroup' && String(r.Properties?.LogGroupName).startsWith(names.logGroup(env.name, '')));
    const policy = config.removalPolicy === 'retain' ? 'Retain' : 'Delete';
    if (logGroups.length !== 4) found.push(`${env.name}: ${logGroups.length} instance log groups`);
    for (const group of logGroups) {
      if (group.Properties?.RetentionInDays !== env.observability.logRetentionDays) found.push(`${env.name}: ${String(group.Properties?.LogGroupName)} keeps ${String(group.Properties?.RetentionInDays)} days`);
      if ((group as { DeletionPolicy?: string }).DeletionPolicy !== policy) found.push(`${env.name}: ${String(group.Properties?.LogGroupName)} is not ${policy} on delete`);
    }

    // HTTPS exactly when a certificate is configured; every email subscribed to the environment's topic.
    const https = Object.keys(template.findResources('AWS::ElasticLoadBalancingV2::Listener', { Properties: { Port: 443 } })).length;
    if (https !== (env.certificateArn === undefined ? 0 : 1)) found.push(`${env.name}: ${https} HTTPS listeners with certificate ${String(env.certificateArn)}`);
    const endpoints = Object.values(template.findResources('AWS::SNS::Subscription') as Resources).map((r) => r.Properties?.Endpoint).sort();
    if (JSON.stringify(endpoints) !== JSON.stringify([...config.notificationEmails].sort())) found.push(`${env.name}: subscriptions ${JSON.stringify(endpoints)}`);
  }

  // Every name the app chooses fits its AWS limit.
  for (const [stackName, template] of templates) {
    for (const [id, resource] of Object.entries(resourcesOf(template))) {
      for (const limit of NAME_LIMITS.filter((l) => l.type === resource.Type)) {
        const value = resource.Properties?.[limit.property];
        if (typeof value !== 'string') continue; // generated by CloudFormation, or a token
        if (value.length > limit.max || (limit.pattern && !limit.pattern.test(value))) {
          found.push(`${stackName}/${id}: ${limit.property} ${value} breaks ${limit.type}'s limit (${limit.max} characters${limit.pattern ? `, ${String(limit.pattern)}` : ''})`);
        }
      }
    }
  }
  for (const env of envNames) {
    const copy = `CodeDeploy_${names.deploymentGroup(env)}_d-XXXXXXXXX`;
    if (copy.length > 255) found.push(`${env}: CodeDeploy's copy of the fleet, ${copy}, exceeds an Auto Scaling group name's 255 characters`);
  }
  return found;
}

describe('any valid deploy config (generated)', () => {
  it(`when the app is synthesized with cdk-nag for ${RUNS} generated configs, then stages, deployment groups, alarms and names hold for each`, () => {
    fc.assert(
      fc.property(deployConfigs(), (input) => {
        // Arrange
        const config = parseDeployConfig(input);

        // Act (synthesis throws with the validation report when a cdk-nag finding is left)
        const problems = violations(config);

        // Assert
        expect(problems).toEqual([]);
      }),
      // No shrinking: each step is a synthesis; the failing config is printed as generated.
      { numRuns: RUNS, endOnFailure: true },
    );
  }, RUNS * 60_000);
});
