import { SERVICE_NAME } from '@conveyor/config';
import { Token, type App, type Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';

import { parseDeployConfig } from '../../../config/schema';
import { exampleDeployConfig, synthStacks, testConfig } from '../../../test-support';
import type { ServiceStacks } from '..';

describe('createStacks (the example config)', () => {
  let stacks: ServiceStacks;
  let all: Stack[];

  beforeAll(() => {
    stacks = synthStacks(testConfig());
    all = [stacks.foundation, ...stacks.environments, stacks.pipeline];
  });

  it('when the app is built, then every stack name derives from the service name', () => {
    // Assert
    expect(all.map((stack) => stack.stackName)).toEqual([
      `${SERVICE_NAME}-foundation`,
      `${SERVICE_NAME}-staging`,
      `${SERVICE_NAME}-prod`,
      `${SERVICE_NAME}-pipeline`,
    ]);
  });

  it('when the app is built, then each stack has the configured region and no account, so synth needs no lookup', () => {
    // Act
    const assembly = (stacks.pipeline.node.root as App).synth();

    // Assert
    for (const stack of all) {
      expect(stack.region).toBe(exampleDeployConfig.region);
      expect(Token.isUnresolved(stack.account)).toBe(true);
    }
    expect(assembly.manifest.missing).toBeUndefined();
  });

  it('when the stacks are deployed, then the order is foundation, then the environments, then the pipeline', () => {
    // Arrange (compare names: deep-comparing constructs would walk the whole tree)
    const dependenciesOf = (stack: Stack): string[] => stack.dependencies.map((dep) => dep.stackName).sort();

    // Assert
    for (const env of stacks.environments) {
      expect(dependenciesOf(env)).toEqual([stacks.foundation.stackName]);
    }
    expect(dependenciesOf(stacks.pipeline)).toEqual([stacks.foundation, ...stacks.environments].map((stack) => stack.stackName).sort());
    expect(dependenciesOf(stacks.foundation)).toEqual([]);
  });
});

describe('createStacks (the example config, untouched)', () => {
  it('when the connection ARN is still the example value, then the pipeline stack warns how to replace it', () => {
    // Act
    const { pipeline } = synthStacks(parseDeployConfig(exampleDeployConfig));

    // Assert
    Annotations.fromStack(pipeline).hasWarning('*', Match.stringLikeRegexp('source.connectionArn .* is still the example value'));
  });
});
