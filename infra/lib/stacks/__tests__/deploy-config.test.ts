import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

import { deployConfig } from '../../../config/deploy-config';
import { parseDeployConfig } from '../../../config/schema';
import { createTestApp } from '../../../test-support';
import { names } from '../../names';
import { createStacks } from '..';

// The one test that reads the real, fork-edited config: whatever a fork puts in
// deploy-config.ts, it must parse and synthesize cleanly. Every other test reads
// the frozen example (test-support/example-deploy-config.ts) or generated configs.
describe('infra/config/deploy-config.ts (this repository\'s own config)', () => {
  it('when it is parsed and synthesized as `cdk synth` does, then it is valid, cdk-nag clean and passes CloudFormation validation', () => {
    // Arrange
    const config = parseDeployConfig(deployConfig);
    const app = createTestApp({ cloudFormationValidation: true, bundling: true });

    // Act (synthesis throws on an unacknowledged cdk-nag finding or an invalid template)
    const stacks = createStacks(app, config);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const assembly = app.synth();

    // Assert
    expect(assembly.stacks.map((stack) => stack.stackName)).toEqual(
      expect.arrayContaining([names.foundationStack, ...config.environments.map((env) => names.environmentStack(env.name)), names.pipelineStack]),
    );
    expect(stacks.environments).toHaveLength(config.environments.length);
  });
});
