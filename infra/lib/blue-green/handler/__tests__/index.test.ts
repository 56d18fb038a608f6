import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CodeDeployClient, GetDeploymentGroupCommand } from '@aws-sdk/client-codedeploy';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';

import { isComplete, onEvent } from '../index';
import { ownerIdFor } from '../ownership';
import { createEvent, DG, FLEET, PHYSICAL_ID } from './fixtures';
import { codeDeployError, quietConsole } from './mocks';

const codeDeploy = mockClient(CodeDeployClient);
const autoScaling = mockClient(AutoScalingClient);

beforeEach(() => {
  codeDeploy.reset().onAnyCommand().resolves({});
  codeDeploy.on(GetDeploymentGroupCommand).rejects(codeDeployError('DeploymentGroupDoesNotExistException', 'No Deployment Group found'));
  autoScaling.reset().onAnyCommand().resolves({});
  quietConsole();
});

afterEach(() => {
  jest.restoreAllMocks();
});

describe('Lambda entry points', () => {
  it('when the Provider framework calls onEvent, then the default clients are used and the contract shape is returned', async () => {
    // Arrange: the signature the construct relies on.
    const entry: (event: CloudFormationCustomResourceEvent) => Promise<{ PhysicalResourceId: string; Data?: Record<string, string> }> =
      onEvent;

    // Act
    const result = await entry(createEvent());

    // Assert
    expect(result).toEqual({ PhysicalResourceId: ownerIdFor(createEvent()), Data: { DeploymentGroupName: DG, AutoScalingGroupNames: FLEET } });
    expect(autoScaling.calls()).toHaveLength(1);
    expect(codeDeploy.calls()).toHaveLength(2);
  });

  it('when the Provider framework calls isComplete after a Create, then it is complete at once', async () => {
    // Arrange
    const event = { ...createEvent(), PhysicalResourceId: PHYSICAL_ID };

    // Act
    const result = await isComplete(event);

    // Assert
    expect(result).toEqual({ IsComplete: true });
  });
});
