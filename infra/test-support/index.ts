import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { App, type Stack } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

import { deployConfig } from '../config/deploy-config';
import { parseDeployConfig, type DeployConfig, type DeployConfigInput } from '../config/schema';
import { createConveyorStacks, type ConveyorStacks } from '../lib/stacks';

/** The feature flags `cdk synth` runs with, so tests synthesize exactly what the CLI would. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(__dirname, '..', 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

/** An App with cdk.json's context. */
export function createTestApp(): App {
  return new App({ context: cdkJsonContext() });
}

/** The shipped deploy config, validated, with `overrides` applied on top (shallowly, per top-level field). */
export function testConfig(overrides: Partial<DeployConfigInput> = {}): DeployConfig {
  return parseDeployConfig({ ...deployConfig, ...overrides });
}

/** Synthesizes the whole app for `config`, like `cdk synth` does (minus the nag plugin; see nagFindings). */
export function synthConveyor(config: DeployConfig = testConfig()): ConveyorStacks {
  const app = createTestApp();
  return createConveyorStacks(app, config);
}

/** The AWS Solutions findings left on a stack after its acknowledgements, as "rule at path" lines. */
export function nagFindings(stack: Stack): string[] {
  const report = new AwsSolutionsChecks().validateScope(stack);
  return report.violations.flatMap((violation) =>
    violation.violatingResources.map((resource) => `${violation.ruleName} at ${resource.constructPath ?? '?'}`),
  );
}
