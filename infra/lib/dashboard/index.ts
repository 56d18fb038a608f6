import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';

import { names } from '../names';
import type { Observability } from '../observability';

const PERIOD = Duration.minutes(1);

export interface EnvironmentDashboardProps {
  /** Goes into the dashboard's name and titles. */
  readonly environmentName: string;
  /** The environment's load balancer: requests. */
  readonly loadBalancer: elbv2.IApplicationLoadBalancer;
  /** The environment's target group: 5xx, p99, healthy hosts. */
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** The alarms that stop and roll back a deployment. */
  readonly rollbackAlarms: readonly cloudwatch.IAlarm[];
  /** The instance metrics and their alarms. */
  readonly observability: Observability;
  /** Mount points shown in the disk widget. */
  readonly diskMountPoints: readonly string[];
  /**
   * The search term that finds the environment's Auto Scaling groups for the
   * instances-in-service widget, e.g. `AutoScalingGroupName="<name>"` (blue/green
   * replaces the group on every release, so it is found by a search, not by one name).
   */
  readonly autoScalingGroupSearchTerm: string;
}

/**
 * One page per environment that says whether the release is healthy: traffic,
 * errors, latency, hosts and instances, disk and memory, and the state of the
 * alarms that stop a deployment.
 */
export class EnvironmentDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  /** The dashboard in the CloudWatch console. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: EnvironmentDashboardProps) {
    super(scope, id);
    const { environmentName: env, targetGroup, observability } = props;
    const dashboardName = names.dashboard(env);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName,
      defaultInterval: Duration.hours(3),
    });

    const instancesInService = new cloudwatch.MathExpression({
      // In place: the stack's group, by its name (it collects group metrics). Blue/green: the groups
      // whose name holds the deployment group's (CodeDeploy_<deployment group>_<id>), which show data
      // only once group metrics are enabled on the fleet; the agent count below stands in.
      expression: `SEARCH('{AWS/AutoScaling,AutoScalingGroupName} MetricName="GroupInServiceInstances" ${props.autoScalingGroupSearchTerm}', 'Maximum', 60)`,
      label: 'in service',
      period: PERIOD,
    });

    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: `${env}: alarms that stop and roll back a deployment`,
        alarms: [...props.rollbackAlarms],
        width: 24,
        height: 3,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Requests (load balancer)',
        left: [props.loadBalancer.metrics.requestCount({ period: PERIOD, statistic: 'Sum', label: 'requests' })],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Target 5xx',
        left: [targetGroup.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: PERIOD, statistic: 'Sum', label: 'target 5xx' })],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'p99 response time (s)',
        left: [targetGroup.metrics.targetResponseTime({ period: PERIOD, statistic: 'p99', label: 'p99' })],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Healthy hosts',
        left: [
          targetGroup.metrics.healthyHostCount({ period: PERIOD, statistic: 'Minimum', label: 'healthy' }),
          targetGroup.metrics.unhealthyHostCount({ period: PERIOD, statistic: 'Maximum', label: 'unhealthy' }),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Instances',
        left: [
          instancesInService,
          // One memory datapoint per instance and minute: the instances whose agent reports, whatever group they are in.
          ...(observability.metricsNamespace === undefined
            ? []
            : [observability.memoryUsedPercent().with({ statistic: 'SampleCount', label: 'reporting (CloudWatch agent)' })]),
        ],
        width: 12,
      }),
    );
    if (observability.metricsNamespace !== undefined) {
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'Disk used (%)',
          left: props.diskMountPoints.map((mountPoint) => observability.diskUsedPercent(mountPoint).with({ label: `${mountPoint} (fullest instance)` })),
          leftYAxis: { min: 0, max: 100 },
          leftAnnotations: observability.diskFullAlarms.map((alarm) => alarm.toAnnotation()),
          width: 8,
        }),
        new cloudwatch.GraphWidget({
          title: 'Memory used (%)',
          left: [observability.memoryUsedPercent().with({ label: 'most loaded instance' })],
          leftYAxis: { min: 0, max: 100 },
          width: 8,
        }),
        new cloudwatch.AlarmStatusWidget({
          title: 'Disk full (notifies only)',
          alarms: [...observability.diskFullAlarms],
          width: 8,
          height: 6,
        }),
      );
    } else {
      this.dashboard.addWidgets(
        new cloudwatch.TextWidget({
          markdown: `Instance metrics (disk, memory) are switched off for ${env}: \`observability.instanceMetrics\` in the deploy config.`,
          width: 24,
          height: 2,
        }),
      );
    }

    const { region } = Stack.of(this);
    this.url = `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards/dashboard/${dashboardName}`;
  }
}
