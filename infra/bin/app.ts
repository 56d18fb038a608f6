#!/usr/bin/env node
// The CDK app's entry point (cdk.json runs it with tsx). It reads the deploy
// config once, validates it, and passes typed props down; nothing below
// reads context, files or the environment.
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

import { deployConfig } from '../config/deploy-config';
import { DeployConfigError, parseDeployConfig, type DeployConfig } from '../config/schema';
import { createStacks } from '../lib/stacks';

function readConfig(): DeployConfig | undefined {
  try {
    return parseDeployConfig(deployConfig);
  } catch (error) {
    if (!(error instanceof DeployConfigError)) throw error;
    // One readable message naming every bad field, instead of a stack trace.
    console.error(error.message);
    process.exitCode = 1;
    return undefined;
  }
}

const config = readConfig();
if (config !== undefined) {
  const app = new App();
  createStacks(app, config);
  // Every stack is checked against the AWS Solutions rules on synth: a finding
  // that is neither fixed nor acknowledged with a reason fails the synth.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
}
