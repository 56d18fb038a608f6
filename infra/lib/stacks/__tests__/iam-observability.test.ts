// The instance role's logs and metrics permissions, checked with the policy
// simulator: the calls the CloudWatch agent makes, allowed in the instance's
// own environment and denied everywhere else.
import type { CfnRole } from 'aws-cdk-lib/aws-iam';

import { shippedEnvironment, synthStacks, testConfig } from '../../../test-support';
import { expectAllowed, expectDenied, resolveApp, TEST_ACCOUNT, type SimulatedPrincipal, type SimulatedRequest } from '../../../test-support/iam-simulator';
import { names } from '../../names';
import { SHIPPED_LOGS } from '../../observability';

const REGION = 'eu-west-1';

/** A fork's environments, frozen here: metrics on in two, off in one. */
function config() {
  const { source } = testConfig();
  return testConfig({
    region: REGION,
    source: source.kind === 'github' ? { ...source, connectionArn: source.connectionArn.replace(/:codeconnections:[^:]+:/, `:codeconnections:${REGION}:`) } : source,
    environments: [
      { ...shippedEnvironment('staging'), name: 'dev', observability: { instanceMetrics: false } },
      { ...shippedEnvironment('staging'), name: 'qa', observability: { instanceMetrics: true } },
      { ...shippedEnvironment('prod'), name: 'live', observability: { instanceMetrics: true } },
    ],
  });
}

interface Case {
  readonly environment: string;
  readonly metrics: boolean;
  readonly principal: SimulatedPrincipal;
  readonly others: readonly string[];
}

function cases(): Case[] {
  const stacks = synthStacks(config());
  const resolved = resolveApp([stacks.foundation, ...stacks.environments, stacks.pipeline]);
  const all = stacks.environments.map((stack) => stack.environmentName);
  return stacks.environments.map((stack) => {
    const role = resolved.rolePolicies(stack.stackName, stack.getLogicalId(stack.fleet.role.node.defaultChild as CfnRole));
    return {
      environment: stack.environmentName,
      metrics: stack.observability.metricsNamespace !== undefined,
      principal: { arn: `arn:aws:sts::${TEST_ACCOUNT}:assumed-role/${role.roleName}/i-0123456789abcdef0`, identityPolicies: role.identityPolicies, resourcePolicies: role.resourcePolicies },
      others: all.filter((name) => name !== stack.environmentName),
    };
  });
}

const groupArn = (group: string): string => `arn:aws:logs:${REGION}:${TEST_ACCOUNT}:log-group:${group}`;

/** What the agent does for one file: create the instance's stream (tolerating it exists), look it up, put events. */
function shipping(environment: string): SimulatedRequest[] {
  return Object.values(SHIPPED_LOGS).flatMap((log) => {
    const group = names.logGroup(environment, log.group);
    return [
      // IAM authorizes CreateLogStream against the stream it creates.
      { description: `CreateLogStream in ${group}`, action: 'logs:CreateLogStream', resource: `${groupArn(group)}:log-stream:i-0123456789abcdef0` },
      { description: `DescribeLogStreams of ${group}`, action: 'logs:DescribeLogStreams', resource: groupArn(group) },
      { description: `PutLogEvents to ${group}/i-0123456789abcdef0`, action: 'logs:PutLogEvents', resource: `${groupArn(group)}:log-stream:i-0123456789abcdef0` },
    ];
  });
}

/**
 * The PutMetricData statements of a role. The simulator cannot evaluate the call: IAM's data now
 * gives PutMetricData an optional resource type (OTLP datasets), so a call without a resource ("*")
 * reads as a pattern there. The namespace condition is checked on the statements instead.
 */
function metricStatements(c: Case): { Action?: unknown; Resource?: unknown; Condition?: unknown; Effect?: string }[] {
  const statements = c.principal.identityPolicies.flatMap((policy) => [policy.document.Statement].flat() as { Action?: unknown }[]);
  return statements.filter((statement) => [statement.Action].flat().some((action) => /^cloudwatch:(PutMetricData|\*)$|^\*$/.test(String(action))));
}

describe('instance role: logs and metrics (simulated)', () => {
  const all = cases();

  it.each(all.map((c) => [c.environment, c] as const))('when the agent on a %s instance ships its files, then every call is allowed', async (_env, c) => {
    await expectAllowed(c.principal, shipping(c.environment));
  });

  it.each(all.map((c) => [c.environment, c] as const))(
    'when the agent on a %s instance publishes disk and memory, then PutMetricData is allowed in its own namespace only, and only with metrics on',
    (_env, c) => {
      const own = { Effect: 'Allow', Action: 'cloudwatch:PutMetricData', Resource: '*', Condition: { StringEquals: { 'cloudwatch:namespace': names.metricsNamespace(c.environment) } } };
      const found = metricStatements(c).map(({ Effect, Action, Resource, Condition }) => ({ Effect, Action, Resource, Condition }));
      expect(found).toEqual(c.metrics ? [own] : []);
    },
  );

  it.each(all.map((c) => [c.environment, c] as const))(
    "when a %s instance writes another environment's logs or any other group, or manages groups, then it is denied",
    async (_env, c) => {
      const own = groupArn(names.logGroup(c.environment, 'service'));
      await expectDenied(c.principal, [
        ...c.others.flatMap(shipping),
        { description: 'PutLogEvents to a Lambda function\'s group', action: 'logs:PutLogEvents', resource: `${groupArn('/aws/lambda/anything')}:log-stream:x` },
        { description: 'CreateLogStream in the pipeline\'s build logs', action: 'logs:CreateLogStream', resource: `${groupArn(`/aws/codebuild/${names.buildProject}`)}:log-stream:x` },
        { description: 'CreateLogGroup', action: 'logs:CreateLogGroup', resource: groupArn(names.logGroup(c.environment, 'other')) },
        { description: 'DeleteLogGroup of its own', action: 'logs:DeleteLogGroup', resource: own },
        { description: 'PutRetentionPolicy on its own', action: 'logs:PutRetentionPolicy', resource: own },
        { description: 'DeleteLogStream in its own', action: 'logs:DeleteLogStream', resource: `${own}:log-stream:i-0123456789abcdef0` },
        { description: 'read its own group (GetLogEvents)', action: 'logs:GetLogEvents', resource: `${own}:log-stream:i-0123456789abcdef0` },
      ]);
    },
  );

  it.each(all.map((c) => [c.environment, c] as const))('when the %s instance role is synthesized, then no statement grants logs:* or a wildcard logs action', (_env, c) => {
    const statements = c.principal.identityPolicies.flatMap((policy) => [policy.document.Statement].flat() as { Action?: string | string[] }[]);
    const actions = statements.flatMap((statement) => [statement.Action ?? []].flat());
    expect(actions).toContain('logs:PutLogEvents');
    expect(actions.filter((action) => /^(logs:\*|\*|logs:.*\*)$/.test(String(action)))).toEqual([]);
  });
});
