import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

import type { AlarmThresholds } from '../../config/schema';
import { names } from '../names';

/** One-minute datapoints: a bad release should roll back within minutes, not a quarter of an hour. */
const PERIOD = Duration.minutes(1);
/** Two bad minutes in a row, so one slow request or one blip does not roll back a good release. */
const EVALUATION_PERIODS = 2;

export interface ServiceAlarmsProps {
  /** Goes into the alarm names (`<service>-<environment>-<what>`) and descriptions. */
  readonly environmentName: string;
  /** The target group whose metrics are watched. */
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** From the deploy config's `alarms`. */
  readonly thresholds: AlarmThresholds;
  /** Receives every alarm and every return to OK. */
  readonly topic: sns.ITopic;
}

/**
 * The alarms that say "this release is hurting users": target 5xx errors,
 * unhealthy targets and p99 latency. The deployment group stops and rolls back
 * a deployment when any of them fires; the topic tells people either way.
 *
 * Missing data is "not breaching": no traffic is not an incident, and an empty
 * target group (before the first deployment) has no unhealthy hosts.
 */
export class ServiceAlarms extends Construct {
  readonly alarms: readonly cloudwatch.Alarm[];
  /** The one among `alarms` that counts unhealthy registered targets. */
  readonly unhealthyHosts: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ServiceAlarmsProps) {
    super(scope, id);
    const { environmentName: env, targetGroup, thresholds } = props;
    const common = {
      evaluationPeriods: EVALUATION_PERIODS,
      datapointsToAlarm: EVALUATION_PERIODS,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    };

    const target5xx = new cloudwatch.Alarm(this, 'Target5xx', {
      ...common,
      alarmName: names.alarm(env, 'target-5xx'),
      alarmDescription: `${env}: the service answered ${thresholds.target5xxPerMinute}+ requests per minute with 5xx`,
      metric: targetGroup.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: PERIOD, statistic: 'Sum' }),
      threshold: thresholds.target5xxPerMinute,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    const unhealthyHosts = new cloudwatch.Alarm(this, 'UnhealthyHosts', {
      ...common,
      alarmName: names.alarm(env, 'unhealthy-hosts'),
      alarmDescription: `${env}: ${thresholds.unhealthyHosts}+ registered instances fail the health check`,
      metric: targetGroup.metrics.unhealthyHostCount({ period: PERIOD, statistic: 'Maximum' }),
      threshold: thresholds.unhealthyHosts,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    const p99Latency = new cloudwatch.Alarm(this, 'P99Latency', {
      ...common,
      alarmName: names.alarm(env, 'p99-latency'),
      alarmDescription: `${env}: p99 response time above ${thresholds.p99LatencySeconds} s`,
      metric: targetGroup.metrics.targetResponseTime({ period: PERIOD, statistic: 'p99' }),
      threshold: thresholds.p99LatencySeconds,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
    this.unhealthyHosts = unhealthyHosts;
    this.alarms = [target5xx, unhealthyHosts, p99Latency];

    const notify = new actions.SnsAction(props.topic);
    for (const alarm of this.alarms) {
      alarm.addAlarmAction(notify);
      alarm.addOkAction(notify);
    }
    // The topic policy that enforces TLS replaces SNS's default policy, so CloudWatch
    // needs an explicit grant, limited to this environment's alarms in this account.
    const stack = Stack.of(this);
    props.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [props.topic.topicArn],
        conditions: {
          ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: names.alarm(env, '*'), arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
          StringEquals: { 'aws:SourceAccount': stack.account },
        },
      }),
    );
  }
}
