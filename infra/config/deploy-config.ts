import { PLACEHOLDER_CONNECTION_ARN, type DeployConfigInput } from './schema';

/**
 * THE file to edit when you fork: where the pipeline runs, where it pulls the
 * code from, which environments it deploys to, and who hears about it.
 * Every field is described in infra/README.md ("The deploy config") and
 * validated by ./schema.ts when the CDK app starts; a bad value stops
 * `cdk synth` with the field's path in the message.
 *
 * The service's own name, port and health path are not here: they live in
 * packages/config/src/contract.ts, which the service and the infra share.
 */
export const deployConfig = {
  /** The region everything is deployed to. The account is the one your credentials point at. */
  region: 'us-east-1',

  /**
   * Where the pipeline takes the code from. Replace the connection ARN with
   * yours (see "Deploy to AWS" in infra/README.md). For CodeCommit instead:
   *   source: { kind: 'codecommit', repositoryName: 'your-repo', create: true, branch: 'main' },
   */
  source: {
    kind: 'github',
    connectionArn: PLACEHOLDER_CONNECTION_ARN,
    owner: 'your-github-org',
    repo: 'your-repo',
    branch: 'main',
    ignoredPaths: ['docs/**', '**/*.md'],
  },

  /** In deployment order. The LAST one is production: a manual approval stands right before it. */
  environments: [
    {
      name: 'staging',
      instanceType: 't3.small',
      capacity: { min: 1, desired: 1, max: 2 },
      deploymentStyle: 'in-place',
      natGateways: 1,
      greeting: 'Hello from staging',
      logLevel: 'debug',
      alarms: { target5xxPerMinute: 5, unhealthyHosts: 1, p99LatencySeconds: 2 },
      // CloudWatch: how long the instances' logs are kept, and disk/memory metrics (billed per metric).
      observability: { logRetentionDays: 14, instanceMetrics: true },
    },
    {
      name: 'prod',
      instanceType: 't3.small',
      capacity: { min: 2, desired: 2, max: 4 },
      // Every release goes to a fresh copy of the fleet; traffic moves once it is healthy.
      deploymentStyle: 'blue-green',
      // The previous fleet keeps running this long after the switch, ready to take traffic back.
      blueGreen: { terminationWaitMinutes: 15 },
      natGateways: 1,
      // certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/<id>',  // HTTPS; unset = HTTP only
      greeting: 'Hello',
      alarms: { target5xxPerMinute: 5, unhealthyHosts: 1, p99LatencySeconds: 1.5 },
      observability: { logRetentionDays: 30, instanceMetrics: true, diskFullPercent: 85 },
    },
  ],

  /** Who receives alarms, pipeline failures and approval requests (each address must confirm by email). */
  notificationEmails: [],

  /** 'destroy': `cdk destroy` leaves nothing billing. 'retain': keep buckets, keys, logs and reports. */
  removalPolicy: 'destroy',
} satisfies DeployConfigInput;
