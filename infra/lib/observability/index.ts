import { ArnFormat, Duration, Stack, type RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

import type { ObservabilitySettings } from '../../config/schema';
import { names } from '../names';
import { acknowledge, wildcardResourceFinding } from '../nag';
import { cloudWatchAgentConfig, ENVIRONMENT_DIMENSION, INSTANCE_METRICS, SHIPPED_LOGS, type ShippedLog } from './agent-config';

export { cloudWatchAgentConfig, ENVIRONMENT_DIMENSION, INSTANCE_METRICS, LOG_STREAM_NAME, SHIPPED_LOGS, type ShippedLog } from './agent-config';

/** The saved Logs Insights queries, by name (`<service>/<environment>/<name>` in the console). */
export const INSIGHTS_QUERIES = {
  /**
   * Failed requests and logged errors, newest first, with the release (`commit`: the
   * service writes it on every line) and the instance (`@logStream`) beside each. Pin one
   * release with `filter commit = "<sha>"`, the commit the pipeline run deployed.
   */
  'errors-of-the-current-release': [
    'fields @timestamp, @logStream, commit, reqId, method, path, status, durationMs, msg, err.type, err.message',
    '| filter level >= 50 or status >= 500',
    '| sort @timestamp desc',
    '| limit 200',
  ].join('\n'),
  /** The routes with the slowest p99 over the chosen time range, from the access-log lines. */
  'slowest-routes': [
    'filter msg = "request completed" and ispresent(durationMs)',
    '| stats count(*) as requests, avg(durationMs) as avgMs, pct(durationMs, 99) as p99Ms, max(durationMs) as maxMs by method, path',
    '| sort p99Ms desc',
    '| limit 20',
  ].join('\n'),
} as const;

export interface ObservabilityProps {
  /** Goes into the log group names, the metric namespace, the alarm names and the query names. */
  readonly environmentName: string;
  /** The environment's `observability` entry in the deploy config. */
  readonly settings: ObservabilitySettings;
  /** What `cdk destroy` does with the log groups (the deploy config's removalPolicy). */
  readonly removalPolicy: RemovalPolicy;
  /** Mount points of the instances' volumes whose disk use is measured and alarmed on. */
  readonly diskMountPoints: readonly string[];
}

/**
 * Where an environment's instances send their logs and metrics, and what
 * reads them: a log group per shipped file (retention and removal from the
 * deploy config), the CloudWatch agent's configuration (written by the user
 * data, see ../fleet), the grant that lets an instance write there and
 * nowhere else, the saved Logs Insights queries and the disk-full alarms.
 *
 * The disk-full alarm only notifies: it is not among the deployment group's
 * alarms, so a full disk never rolls a release back (the hooks refuse to
 * install on a full disk on their own, naming it).
 */
export class Observability extends Construct {
  /** The log group of each shipped file. */
  readonly logGroups: Readonly<Record<ShippedLog, logs.LogGroup>>;
  /** The namespace of the instance metrics, or undefined when they are switched off. */
  readonly metricsNamespace: string | undefined;
  /** The CloudWatch agent's configuration, as the instance writes it to disk. */
  readonly agentConfig: Record<string, unknown>;
  /** One per mount point, once {@link addDiskFullAlarms} ran; none when instance metrics are switched off. */
  readonly diskFullAlarms: cloudwatch.Alarm[] = [];
  readonly queries: readonly logs.CfnQueryDefinition[];
  private readonly environmentName: string;
  private readonly settings: ObservabilitySettings;
  private readonly diskMountPoints: readonly string[];

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const { environmentName: env, settings } = props;
    this.environmentName = env;
    this.settings = settings;
    this.diskMountPoints = props.diskMountPoints;

    const groups: Partial<Record<ShippedLog, logs.LogGroup>> = {};
    for (const log of Object.keys(SHIPPED_LOGS) as ShippedLog[]) {
      groups[log] = new logs.LogGroup(this, `${pascal(SHIPPED_LOGS[log].group)}Logs`, {
        logGroupName: names.logGroup(env, SHIPPED_LOGS[log].group),
        retention: settings.logRetentionDays as logs.RetentionDays,
        removalPolicy: props.removalPolicy,
      });
    }
    this.logGroups = groups as Record<ShippedLog, logs.LogGroup>;
    this.metricsNamespace = settings.instanceMetrics ? names.metricsNamespace(env) : undefined;

    this.agentConfig = cloudWatchAgentConfig({
      environmentName: env,
      // Literal names, not the groups' tokens: the config goes into the user data as plain text.
      logGroupNames: mapValues(SHIPPED_LOGS, (log) => names.logGroup(env, log.group)),
      ...(this.metricsNamespace === undefined ? {} : { metricsNamespace: this.metricsNamespace }),
      diskMountPoints: props.diskMountPoints,
    });

    this.queries = Object.entries(INSIGHTS_QUERIES).map(
      ([name, queryString]) =>
        new logs.CfnQueryDefinition(this, `${pascal(name)}Query`, {
          name: names.insightsQuery(env, name),
          queryString,
          logGroupNames: [this.logGroups.service.logGroupName],
        }),
    );

  }

  /**
   * Creates the disk-full alarm of each mount point, notifying `topic` when it
   * fires and when it clears (nothing when instance metrics are off). These
   * alarms are not for the deployment group: a full disk is not a bad release.
   */
  addDiskFullAlarms(topic: sns.ITopic): readonly cloudwatch.Alarm[] {
    if (this.metricsNamespace === undefined) return [];
    const env = this.environmentName;
    const { diskFullPercent } = this.settings;
    const notify = new actions.SnsAction(topic);
    const alarms = this.diskMountPoints.map((mountPoint) => {
      const alarm = new cloudwatch.Alarm(this, `DiskFull${pascal(mountPoint) || 'Root'}`, {
        alarmName: names.alarm(env, `disk-full${mountPoint === '/' ? '-root' : mountPoint.replace(/\//g, '-')}`),
        alarmDescription:
          `${env}: an instance's ${mountPoint} is ${diskFullPercent}% full or more. ` +
          'Notifies only: it does not stop or roll back deployments. See the dashboard, then the instance (Session Manager).',
        metric: this.diskUsedPercent(mountPoint),
        threshold: diskFullPercent,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        // No instance reporting (none running, agent stopped) is not a full disk.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(notify);
      alarm.addOkAction(notify);
      return alarm;
    });
    this.diskFullAlarms.push(...alarms);
    return alarms;
  }

  /** The fullest instance's use of `mountPoint`, in percent (undefined data when metrics are off). */
  diskUsedPercent(mountPoint: string): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.metricsNamespace ?? names.metricsNamespace(this.environmentName),
      metricName: INSTANCE_METRICS.diskUsedPercent,
      dimensionsMap: { path: mountPoint },
      statistic: 'Maximum',
      period: Duration.minutes(1),
    });
  }

  /** The most loaded instance's memory use, in percent. */
  memoryUsedPercent(): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.metricsNamespace ?? names.metricsNamespace(this.environmentName),
      metricName: INSTANCE_METRICS.memoryUsedPercent,
      dimensionsMap: { [ENVIRONMENT_DIMENSION]: this.environmentName },
      statistic: 'Maximum',
      period: Duration.minutes(1),
    });
  }

  /**
   * Lets the instances write what the agent ships: log streams in this
   * environment's log groups only, and metrics in its namespace only.
   */
  grantInstanceWrite(role: iam.IRole): iam.Policy {
    const stack = Stack.of(this);
    const groupArns = Object.values(this.logGroups).map((group) =>
      stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: group.logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
    );
    const streamArns = groupArns.map((arn) => `${arn}:log-stream:*`);
    const statements = [
      new iam.PolicyStatement({
        sid: 'ShipLogsToTheEnvironmentGroups',
        actions: ['logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'],
        resources: [...groupArns, ...streamArns],
      }),
    ];
    if (this.metricsNamespace !== undefined) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'PublishInstanceMetrics',
          actions: ['cloudwatch:PutMetricData'],
          // PutMetricData has no resource; the namespace condition is its only scope.
          resources: ['*'],
          conditions: { StringEquals: { 'cloudwatch:namespace': this.metricsNamespace } },
        }),
      );
    }
    const policy = new iam.Policy(this, 'InstanceWritePolicy', { roles: [role], statements });
    acknowledge(
      policy,
      'Streams are named after instance ids, unknown at synth: the role may create and write streams in its own ' +
        'environment\'s log groups only. PutMetricData supports no resource; it is limited to the environment\'s namespace by condition.',
      ...streamArns.map((arn) => wildcardResourceFinding(policy, arn)),
      ...(this.metricsNamespace === undefined ? [] : [wildcardResourceFinding(policy, '*')]),
    );
    return policy;
  }
}

function pascal(text: string): string {
  return text
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join('');
}

function mapValues<K extends string, V, W>(record: { readonly [key in K]: V }, fn: (value: V) => W): Record<K, W> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, fn(value as V)])) as Record<K, W>;
}
