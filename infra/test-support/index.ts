import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { App } from 'aws-cdk-lib';

import { deployConfig } from '../config/deploy-config';
import { parseDeployConfig, type DeployConfig, type DeployConfigInput } from '../config/schema';

/** One environment as written in a deploy config (before defaults). */
export type EnvironmentInput = DeployConfigInput['environments'][number];
import { createConveyorStacks, type ConveyorStacks } from '../lib/stacks';

/** The feature flags `cdk synth` runs with, so tests synthesize exactly what the CLI would. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(__dirname, '..', 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

export interface TestAppOptions {
  /**
   * Run CDK's built-in CloudFormation template validation on synth, as `cdk synth` does.
   * It costs ~8 s on first use, so only the test that checks the whole app against it turns it on.
   * @default false
   */
  readonly cloudFormationValidation?: boolean;
}

/** An App with cdk.json's context. */
export function createTestApp(options: TestAppOptions = {}): App {
  return new App({ context: cdkJsonContext(), builtinCloudFormationValidation: options.cloudFormationValidation ?? false });
}

/** The shipped config's environment of that name, as written (to spread into variants). */
export function shippedEnvironment(name: 'staging' | 'prod'): EnvironmentInput {
  const environment = deployConfig.environments.find((env) => env.name === name);
  if (environment === undefined) throw new Error(`infra/config/deploy-config.ts has no ${name} environment`);
  return environment;
}

/** A connection ARN as a fork would have it (the shipped placeholder makes the app warn). */
export const TEST_CONNECTION_ARN = 'arn:aws:codeconnections:us-east-1:111122223333:connection/0f0e0d0c-0b0a-4999-8888-777766665555';

/**
 * The shipped deploy config with a real-looking connection ARN, validated,
 * with `overrides` applied on top (shallowly, per top-level field).
 */
export function testConfig(overrides: Partial<DeployConfigInput> = {}): DeployConfig {
  return parseDeployConfig({
    ...deployConfig,
    source: { ...deployConfig.source, connectionArn: TEST_CONNECTION_ARN },
    ...overrides,
  });
}

/** Builds every stack of the app for `config`, as bin/app.ts does (without the cdk-nag plugin). */
export function synthConveyor(config: DeployConfig = testConfig(), options: TestAppOptions = {}): ConveyorStacks {
  return createConveyorStacks(createTestApp(options), config);
}
