import { PLACEHOLDER_CONNECTION_ARN, type DeployConfigInput } from '../config/schema';

/**
 * A frozen copy of the example in infra/config/deploy-config.ts, as shipped.
 * Tests that check exact values (an instance type, a threshold, the stage
 * names of staging-then-prod) read this copy, so they stay exact when a fork
 * edits its real config. Tests of behaviour run over generated configs
 * (./arbitraries.ts), and one test checks that the real file parses and
 * synthesizes (infra/lib/stacks/__tests__/deploy-config.test.ts).
 * Do not edit it when you edit deploy-config.ts.
 */
export const exampleDeployConfig = {
  region: 'us-east-1',
  source: {
    kind: 'github',
    connectionArn: PLACEHOLDER_CONNECTION_ARN,
    owner: 'your-github-org',
    repo: 'your-repo',
    branch: 'main',
    ignoredPaths: ['docs/**', '**/*.md'],
  },
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
      observability: { logRetentionDays: 14, instanceMetrics: true },
    },
    {
      name: 'prod',
      instanceType: 't3.small',
      capacity: { min: 2, desired: 2, max: 4 },
      deploymentStyle: 'blue-green',
      blueGreen: { terminationWaitMinutes: 15 },
      natGateways: 1,
      greeting: 'Hello',
      alarms: { target5xxPerMinute: 5, unhealthyHosts: 1, p99LatencySeconds: 1.5 },
      observability: { logRetentionDays: 30, instanceMetrics: true, diskFullPercent: 85 },
    },
  ],
  notificationEmails: [],
  removalPolicy: 'destroy',
} as const satisfies DeployConfigInput;
