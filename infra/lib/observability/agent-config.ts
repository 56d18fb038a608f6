import { LOG_DIR, SERVICE_NAME } from '@conveyor/config';

/** What the instances ship to CloudWatch Logs, each file to a log group of its own. */
export const SHIPPED_LOGS = {
  /** The service's JSON lines: pm2 writes every worker's stdout and stderr to one file (apps/api/ecosystem.config.js). */
  service: { file: `${LOG_DIR}/${SERVICE_NAME}.log`, group: 'service' },
  /** The hook scripts' output, as the CodeDeploy agent records it for every deployment on the instance. */
  codedeployDeployments: {
    file: '/opt/codedeploy-agent/deployment-root/deployment-logs/codedeploy-agent-deployments.log',
    group: 'codedeploy-deployments',
  },
  /** The CodeDeploy agent's own log: polling, revision downloads, hook timeouts. */
  codedeployAgent: { file: '/var/log/aws/codedeploy-agent/codedeploy-agent.log', group: 'codedeploy-agent' },
  /** The user data's output at first boot (package installs, the agents' installers). */
  cloudInit: { file: '/var/log/cloud-init-output.log', group: 'cloud-init' },
} as const;

export type ShippedLog = keyof typeof SHIPPED_LOGS;

/**
 * The agent names every stream after the instance: it resolves the placeholder
 * once, when it starts. A stream cannot carry the release (no placeholder
 * exists for it, and the release changes while the agent runs, on in-place
 * deployments): every service line says which release wrote it (`commit`),
 * and the deployment log names the deployment id.
 */
export const LOG_STREAM_NAME = '{instance_id}';

/** The disk and memory measurements the agent publishes, as CloudWatch names them (the plugin's prefix, `_`, the measurement). */
export const INSTANCE_METRICS = {
  diskUsedPercent: 'disk_used_percent',
  memoryUsedPercent: 'mem_used_percent',
} as const;

/**
 * The dimension the memory metric is rolled up by (one value per environment),
 * so the dashboard and the alarms need no instance id, which blue/green
 * replaces on every release.
 */
export const ENVIRONMENT_DIMENSION = 'environment';

export interface AgentConfigOptions {
  /** The environment's name; goes into the memory metric's rolled-up dimension. */
  readonly environmentName: string;
  /** The log group of each shipped file. */
  readonly logGroupNames: Readonly<Record<ShippedLog, string>>;
  /** The metric namespace, one per environment (the instance role may publish to it only). Unset: no metrics section. */
  readonly metricsNamespace?: string;
  /** Mount points whose disk use is measured. */
  readonly diskMountPoints: readonly string[];
}

/**
 * The CloudWatch agent's configuration file (the JSON `amazon-cloudwatch-agent-ctl
 * -a fetch-config` reads), as a plain object. Its fields are the agent's
 * schema (translator/config/schema.json in aws/amazon-cloudwatch-agent; the
 * tests validate against a vendored copy).
 */
export function cloudWatchAgentConfig(options: AgentConfigOptions): Record<string, unknown> {
  const files = (Object.keys(SHIPPED_LOGS) as ShippedLog[]).map((log) => ({
    file_path: SHIPPED_LOGS[log].file,
    log_group_name: options.logGroupNames[log],
    log_stream_name: LOG_STREAM_NAME,
    // No retention_in_days: the stack sets each group's retention (the agent would need logs:PutRetentionPolicy).
  }));
  return {
    agent: {
      // The agent's own log stays on the instance (and in the journal): shipping it would need its own group.
      logfile: '/opt/aws/amazon-cloudwatch-agent/logs/amazon-cloudwatch-agent.log',
      metrics_collection_interval: 60,
      // Without it the agent also calls ec2:DescribeTags to find the Auto Scaling group; nothing here needs it.
      omit_hostname: true,
    },
    logs: {
      logs_collected: { files: { collect_list: files } },
      // Lines buffered while the network is down are sent in order once it is back.
      force_flush_interval: 5,
    },
    ...(options.metricsNamespace === undefined
      ? {}
      : {
          metrics: {
            namespace: options.metricsNamespace,
            // Per instance (to find the one that is full), from instance metadata: no API call.
            append_dimensions: { InstanceId: '${aws:InstanceId}' },
            // And rolled up without the instance id, for the dashboard and the alarm:
            // disk by mount point, memory by environment.
            aggregation_dimensions: [['path'], [ENVIRONMENT_DIMENSION]],
            metrics_collected: {
              disk: {
                measurement: ['used_percent'],
                resources: [...options.diskMountPoints],
                drop_device: true,
                metrics_collection_interval: 60,
              },
              mem: {
                measurement: ['used_percent'],
                metrics_collection_interval: 60,
                append_dimensions: { [ENVIRONMENT_DIMENSION]: options.environmentName },
              },
            },
          },
        }),
  };
}
