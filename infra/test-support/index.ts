import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { BUNDLING_STACKS } from 'aws-cdk-lib/cx-api';

import { parseDeployConfig, type DeployConfig, type DeployConfigInput } from '../config/schema';
import { createStacks, type ServiceStacks } from '../lib/stacks';
import { exampleDeployConfig } from './example-deploy-config';

export { exampleDeployConfig } from './example-deploy-config';
export { deployConfigs, type GeneratedConfigOptions } from './arbitraries';
export { joinedString, userDataOf, type TemplateResources } from './templates';

/** One environment as written in a deploy config (before defaults). */
export type EnvironmentInput = DeployConfigInput['environments'][number];

/** The feature flags `cdk synth` runs with, so tests synthesize exactly what the CLI would. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(__dirname, '..', 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

export interface TestAppOptions {
  /**
   * Run CDK's built-in CloudFormation template validation on synth, as `cdk synth` does.
   * It costs ~8 s on first use, so only the tests that check a whole app against it turn it on.
   * @default false
   */
  readonly cloudFormationValidation?: boolean;
  /**
   * Bundle asset code (the blue/green handler: esbuild, ~1 MB) as `cdk synth` does.
   * Off, CDK skips bundling and stages the unbundled source in its place, as it does
   * for stacks a CLI command did not select: the templates are the same but for the
   * asset's hash. A bundle costs an esbuild run of about a second on every synthesis,
   * and only the tests that read the bundle or synthesize exactly as the CLI does need it.
   * @default false
   */
  readonly bundling?: boolean;
}

/**
 * cdk.json's context, plus the context that turns asset bundling off unless `bundling` is set
 * (`aws:cdk:bundling-stacks`, the key by which the CLI bundles only the stacks it selected).
 */
export function testAppContext(options: Pick<TestAppOptions, 'bundling'> = {}): Record<string, unknown> {
  return { ...cdkJsonContext(), ...(options.bundling === true ? {} : { [BUNDLING_STACKS]: [] }) };
}

/** An App with cdk.json's context (asset bundling off unless `bundling` is set). */
export function createTestApp(options: TestAppOptions = {}): App {
  return new App({ context: testAppContext(options), builtinCloudFormationValidation: options.cloudFormationValidation ?? false });
}

/**
 * The example config's environment of that name, as written (to spread into
 * variants). It comes from the frozen example (./example-deploy-config.ts),
 * not from the fork's own deploy-config.ts, so it exists on every fork.
 */
export function shippedEnvironment(name: 'staging' | 'prod'): EnvironmentInput {
  const environment = exampleDeployConfig.environments.find((env) => env.name === name);
  if (environment === undefined) throw new Error(`the frozen example config has no ${name} environment`);
  return environment;
}

/** A connection ARN as a fork would have it (the shipped placeholder makes the app warn). */
export const TEST_CONNECTION_ARN = 'arn:aws:codeconnections:us-east-1:111122223333:connection/0f0e0d0c-0b0a-4999-8888-777766665555';

/**
 * The frozen example config with a real-looking connection ARN, validated,
 * with `overrides` applied on top (shallowly, per top-level field). A source
 * override is taken as given: a CodeCommit source gets no connection ARN.
 */
export function testConfig(overrides: Partial<DeployConfigInput> = {}): DeployConfig {
  return parseDeployConfig({
    ...exampleDeployConfig,
    source: { ...exampleDeployConfig.source, connectionArn: TEST_CONNECTION_ARN },
    ...overrides,
  });
}

/** Builds every stack of the app for `config`, as bin/app.ts does (without the cdk-nag plugin). */
export function synthStacks(config: DeployConfig = testConfig(), options: TestAppOptions = {}): ServiceStacks {
  return createStacks(createTestApp(options), config);
}

/** The template of each stack of an app, in the order createStacks returns them. */
export interface StackTemplates {
  readonly foundation: Template;
  readonly environments: readonly Template[];
  readonly pipeline: Template;
}

const synthesized = new Map<string, StackTemplates>();

/**
 * The templates {@link synthStacks} gives for `config`, synthesized once per test
 * file and config: a test file that asks again for a config it already built
 * (in a `beforeAll` and again in a variant) gets the same templates back.
 * Shared, so read them only (`toJSON()` is the template itself); a test that adds
 * constructs to the app calls synthStacks.
 */
export function synthTemplates(config: DeployConfig = testConfig()): StackTemplates {
  const key = JSON.stringify(config);
  let templates = synthesized.get(key);
  if (templates === undefined) {
    const stacks = synthStacks(config);
    templates = {
      foundation: Template.fromStack(stacks.foundation),
      environments: stacks.environments.map((stack) => Template.fromStack(stack)),
      pipeline: Template.fromStack(stacks.pipeline),
    };
    synthesized.set(key, templates);
  }
  return templates;
}

/** The former name of {@link synthStacks}, kept while tests still import it. */
export const synthConveyor = synthStacks;
