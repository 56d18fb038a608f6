import { LOG_DIR, SERVICE_NAME } from '@conveyor/config';
import { Match, Template } from 'aws-cdk-lib/assertions';
import Ajv from 'ajv-draft-04';

import { LOG_RETENTION_DAYS } from '../../../config/schema';
import { joinedString, shippedEnvironment, synthTemplates, testConfig, userDataOf, type TemplateResources as Resources } from '../../../test-support';
import agentSchema from '../../../test-support/cloudwatch-agent/schema.json';
import { CLOUDWATCH_AGENT_CONFIG_FILE } from '../../fleet';
import { names } from '../../names';
import { INSIGHTS_QUERIES, SHIPPED_LOGS } from '..';

interface AgentConfig {
  logs: { logs_collected: { files: { collect_list: { file_path: string; log_group_name: string; log_stream_name: string }[] } } };
  metrics?: {
    namespace: string;
    append_dimensions: Record<string, string>;
    aggregation_dimensions: string[][];
    metrics_collected: { disk: { measurement: string[]; resources: string[] }; mem: { measurement: string[]; append_dimensions: Record<string, string> } };
  };
}

/** The agent configuration as the instance writes it: the heredoc in the user data, parsed. */
function agentConfigOf(template: Template): AgentConfig {
  const script = userDataOf(template);
  const match = /<<'CWAGENTCONFIG'\n([\s\S]*?)\nCWAGENTCONFIG\n/.exec(script);
  if (match?.[1] === undefined) throw new Error('the user data writes no CloudWatch agent configuration');
  return JSON.parse(match[1]) as AgentConfig;
}

/** A dashboard body as one string (it holds tokens, so CloudFormation joins it). */
function dashboardBodyOf(template: Template): string {
  const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard') as Resources);
  return joinedString(dashboard?.Properties.DashboardBody as string | { 'Fn::Join': [string, unknown[]] });
}

const validateAgentConfig = new Ajv({ allErrors: true, strict: false }).compile(agentSchema);

/** A fork's two environments, with their observability settings spelled out here, not taken from the example. */
function config(options: { removalPolicy?: 'destroy' | 'retain'; stagingMetrics?: boolean } = {}) {
  return testConfig({
    environments: [
      { ...shippedEnvironment('staging'), name: 'qa', observability: { logRetentionDays: 7, instanceMetrics: options.stagingMetrics ?? true, diskFullPercent: 70 } },
      { ...shippedEnvironment('prod'), name: 'live', deploymentStyle: 'blue-green', observability: { logRetentionDays: 365, instanceMetrics: true, diskFullPercent: 90 } },
    ],
    ...(options.removalPolicy === undefined ? {} : { removalPolicy: options.removalPolicy }),
  });
}

describe('observability of each environment', () => {
  let qa: Template;
  let live: Template;

  beforeAll(() => {
    [qa, live] = synthTemplates(config()).environments as [Template, Template];
  });

  describe('log groups', () => {
    it.each([
      ['qa', 7],
      ['live', 365],
    ])('when %s is synthesized, then each shipped file has its own log group keeping the configured %d days', (env, days) => {
      // Arrange
      const template = env === 'qa' ? qa : live;

      // Assert
      for (const log of Object.values(SHIPPED_LOGS)) {
        template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: names.logGroup(env, log.group), RetentionInDays: days });
      }
    });

    it.each([
      ['destroy', 'Delete'],
      ['retain', 'Retain'],
    ] as const)('when removalPolicy is %s, then every instance log group is %s on stack deletion', (removalPolicy, expected) => {
      // Act (destroy is the example's policy: the templates of the beforeAll above)
      const [template] = synthTemplates(config({ removalPolicy })).environments;

      // Assert
      const groups = Object.values(template!.findResources('AWS::Logs::LogGroup') as Resources).filter((r) =>
        String(r.Properties.LogGroupName).startsWith(names.logGroup('qa', '')),
      );
      expect(groups).toHaveLength(Object.keys(SHIPPED_LOGS).length);
      for (const group of groups) expect(group.DeletionPolicy).toBe(expected);
    });

    it('when the retention is not one CloudWatch accepts, then the config is refused naming the field', () => {
      // Act
      const act = () => testConfig({ environments: [{ ...shippedEnvironment('prod'), observability: { logRetentionDays: 10 } }] });

      // Assert
      expect(act).toThrow(/environments\[0\]\.observability\.logRetentionDays: must be a retention CloudWatch Logs accepts/);
      expect(() => testConfig({ environments: [{ ...shippedEnvironment('prod'), observability: { logRetentionDays: LOG_RETENTION_DAYS[0] } }] })).not.toThrow();
    });
  });

  describe('the CloudWatch agent on the instances', () => {
    it('when an instance boots, then user data installs the agent from the distribution and starts it with the stack\'s file, before the CodeDeploy agent', () => {
      // Act
      const script = userDataOf(live);

      // Assert
      const install = script.indexOf('dnf install -y amazon-cloudwatch-agent');
      const start = script.indexOf(`amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:${CLOUDWATCH_AGENT_CONFIG_FILE}`);
      const codeDeployAgent = script.indexOf('codedeploy-install auto');
      expect(install).toBeGreaterThan(-1);
      expect(start).toBeGreaterThan(install);
      expect(script.indexOf(`cat > ${CLOUDWATCH_AGENT_CONFIG_FILE} <<'CWAGENTCONFIG'`)).toBeGreaterThan(install);
      expect(codeDeployAgent).toBeGreaterThan(start);
    });

    it.each(['qa', 'live'])('when %s is synthesized, then its agent configuration passes the agent\'s own JSON schema', (env) => {
      // Act
      const agentConfig = agentConfigOf(env === 'qa' ? qa : live);

      // Assert
      expect(validateAgentConfig(agentConfig) ? [] : validateAgentConfig.errors).toEqual([]);
    });

    it('when the configuration has a field the agent does not know, then the schema check fails (it is live)', () => {
      // Arrange
      const agentConfig = agentConfigOf(qa);
      agentConfig.logs.logs_collected.files.collect_list[0] = { ...agentConfig.logs.logs_collected.files.collect_list[0]!, log_stream: 'x' } as never;

      // Act
      const valid = validateAgentConfig(agentConfig);

      // Assert
      expect(valid).toBe(false);
    });

    it('when the agent runs, then it ships the service log, the deployment log, its agent log and cloud-init, each to its group, one stream per instance', () => {
      // Act
      const files = agentConfigOf(live).logs.logs_collected.files.collect_list;

      // Assert
      expect(files).toEqual(
        expect.arrayContaining([
          { file_path: `${LOG_DIR}/${SERVICE_NAME}.log`, log_group_name: names.logGroup('live', 'service'), log_stream_name: '{instance_id}' },
          {
            file_path: '/opt/codedeploy-agent/deployment-root/deployment-logs/codedeploy-agent-deployments.log',
            log_group_name: names.logGroup('live', 'codedeploy-deployments'),
            log_stream_name: '{instance_id}',
          },
          { file_path: '/var/log/aws/codedeploy-agent/codedeploy-agent.log', log_group_name: names.logGroup('live', 'codedeploy-agent'), log_stream_name: '{instance_id}' },
          { file_path: '/var/log/cloud-init-output.log', log_group_name: names.logGroup('live', 'cloud-init'), log_stream_name: '{instance_id}' },
        ]),
      );
      expect(files).toHaveLength(4);
    });

    it('when the agent runs, then it publishes disk use of the root volume and memory use to the environment\'s namespace, rolled up without the instance', () => {
      // Act
      const { metrics } = agentConfigOf(live);

      // Assert
      expect(metrics?.namespace).toBe(names.metricsNamespace('live'));
      expect(metrics?.metrics_collected.disk).toMatchObject({ measurement: ['used_percent'], resources: ['/'] });
      expect(metrics?.metrics_collected.mem).toMatchObject({ measurement: ['used_percent'], append_dimensions: { environment: 'live' } });
      expect(metrics?.append_dimensions).toEqual({ InstanceId: '${aws:InstanceId}' });
      expect(metrics?.aggregation_dimensions).toEqual([['path'], ['environment']]);
    });

    it('when instance metrics are switched off, then the agent publishes none, nothing alarms on them and the role may not publish', () => {
      // Act
      const [template] = synthTemplates(config({ stagingMetrics: false })).environments;

      // Assert
      expect(agentConfigOf(template!).metrics).toBeUndefined();
      expect(agentConfigOf(template!).logs.logs_collected.files.collect_list).toHaveLength(4);
      template!.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { AlarmName: Match.stringLikeRegexp('disk-full') }, 0);
      expect(JSON.stringify(template!.findResources('AWS::IAM::Policy'))).not.toContain('cloudwatch:PutMetricData');
      expect(dashboardBodyOf(template!)).toContain('switched off');
    });
  });

  describe('disk-full alarm', () => {
    it.each([
      ['qa', 'in place', 70],
      ['live', 'blue/green', 90],
    ])('when %s (%s) is synthesized, then the disk-full alarm watches the fullest root volume at its threshold and tells the topic', (env, _style, threshold) => {
      // Arrange
      const template = env === 'qa' ? qa : live;
      const [topic] = Object.keys(template.findResources('AWS::SNS::Topic'));

      // Assert
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: names.alarm(env, 'disk-full-root'),
        Namespace: names.metricsNamespace(env),
        MetricName: 'disk_used_percent',
        Dimensions: [{ Name: 'path', Value: '/' }],
        Statistic: 'Maximum',
        Threshold: threshold,
        AlarmActions: [{ Ref: topic }],
        OKActions: [{ Ref: topic }],
      });
    });

    it.each(['qa', 'live'])('when %s is synthesized, then the disk-full alarm is not one that stops or rolls back a deployment', (env) => {
      // Arrange
      const template = env === 'qa' ? qa : live;
      const alarmIdOf = (what: string) => Object.keys(template.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmName: names.alarm(env, what) } }))[0];
      const diskFull = alarmIdOf('disk-full-root');
      // Whichever style owns the deployment group (the L2 resource, or the blue/green custom resource).
      const groups = Object.values(template.toJSON().Resources as Resources).filter((r) => r.Properties?.DeploymentGroupName !== undefined);

      // Assert
      expect(diskFull).toBeDefined();
      expect(groups).toHaveLength(1);
      const groupsJson = JSON.stringify(groups);
      expect(groupsJson).toContain(`"${alarmIdOf('target-5xx')!}"`);
      expect(groupsJson).not.toContain(diskFull);
      expect(groupsJson).not.toContain(names.alarm(env, 'disk-full-root'));
    });
  });

  describe('saved Logs Insights queries', () => {
    it.each(['qa', 'live'])('when %s is synthesized, then "errors of the current release" and "slowest routes" are saved on its service log group', (env) => {
      // Arrange
      const template = env === 'qa' ? qa : live;
      const [serviceGroup] = Object.keys(template.findResources('AWS::Logs::LogGroup', { Properties: { LogGroupName: names.logGroup(env, 'service') } }));

      // Assert
      expect(serviceGroup).toBeDefined();
      for (const [name, queryString] of Object.entries(INSIGHTS_QUERIES)) {
        template.hasResourceProperties('AWS::Logs::QueryDefinition', {
          Name: `${SERVICE_NAME}/${env}/${name}`,
          QueryString: queryString,
          LogGroupNames: [{ Ref: serviceGroup }],
        });
      }
      template.resourceCountIs('AWS::Logs::QueryDefinition', 2);
    });

    it('when the queries run, then they read the fields the service writes on each line (request id, status, route, duration, release)', () => {
      // Assert: the names apps/api's logger and request-context write
      const errors = INSIGHTS_QUERIES['errors-of-the-current-release'];
      for (const field of ['reqId', 'status', 'path', 'method', 'durationMs', 'commit', 'level', 'err.message', '@logStream']) expect(errors).toContain(field);
      expect(errors).toMatch(/filter level >= 50 or status >= 500/);
      const slowest = INSIGHTS_QUERIES['slowest-routes'];
      expect(slowest).toMatch(/pct\(durationMs, 99\)/);
      expect(slowest).toMatch(/by method, path/);
      expect(slowest).toContain('msg = "request completed"');
    });
  });

  describe('dashboard', () => {
    it.each(['qa', 'live'])('when %s is synthesized, then its dashboard shows traffic, 5xx, p99, hosts, instances, disk, memory and the rollback alarms', (env) => {
      // Arrange
      const template = env === 'qa' ? qa : live;
      const body = dashboardBodyOf(template);
      const rollbackAlarms = ['target-5xx', 'unhealthy-hosts', 'p99-latency'].map(
        (what) => Object.keys(template.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmName: names.alarm(env, what) } }))[0]!,
      );

      // Assert
      template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: names.dashboard(env) });
      for (const metric of ['"RequestCount"', '"HTTPCode_Target_5XX_Count"', '"TargetResponseTime"', '"p99"', '"HealthyHostCount"', 'GroupInServiceInstances']) {
        expect(body).toContain(metric);
      }
      expect(body).toContain(`"${names.metricsNamespace(env)}","disk_used_percent","path","/"`);
      expect(body).toContain(`"${names.metricsNamespace(env)}","mem_used_percent","environment","${env}"`);
      for (const alarmId of rollbackAlarms) expect(body).toContain(`{"Fn::GetAtt":["${alarmId}","Arn"]}`);
    });

    it('when the environment is in place, then its Auto Scaling group collects the in-service metric the dashboard shows', () => {
      // Assert
      qa.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
        MetricsCollection: [{ Granularity: '1Minute', Metrics: Match.arrayWith(['GroupInServiceInstances']) }],
      });
      const [group] = Object.keys(qa.findResources('AWS::AutoScaling::AutoScalingGroup'));
      expect(dashboardBodyOf(qa)).toContain(`MetricName=\\"GroupInServiceInstances\\" AutoScalingGroupName=\\"{"Ref":"${group!}"}\\"`);
    });

    it.each(['qa', 'live'])('when %s has instance metrics, then the dashboard also counts the instances whose agent reports', (env) => {
      // Act
      const body = dashboardBodyOf(env === 'qa' ? qa : live);

      // Assert
      expect(body).toMatch(new RegExp(`"mem_used_percent","environment","${env}",\\{[^}]*"stat":"SampleCount"`));
    });

    it('when the environment is blue/green, then instances in service are searched across the fleet\'s groups and CodeDeploy\'s copies', () => {
      // Act
      const body = dashboardBodyOf(live);

      // Assert
      expect(body).toContain(`MetricName=\\"GroupInServiceInstances\\" \\"${names.deploymentGroup('live')}\\"`);
    });

    it.each(['qa', 'live'])('when %s is synthesized, then the stack outputs the dashboard\'s console URL and the service log group', (env) => {
      // Arrange
      const template = env === 'qa' ? qa : live;

      // Assert
      template.hasOutput('DashboardUrl', {
        Value: `https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards/dashboard/${names.dashboard(env)}`,
      });
      template.hasOutput('ServiceLogGroup', { Value: Match.anyValue() });
    });
  });
});
