import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';

import { isCodeDeployCopy } from '../lifecycle';
import { COPY, deleteEvent, DG, FLEET } from './fixtures';
import { group, mockFleet, quietConsole } from './mocks';

const fleet = mockFleet();

beforeEach(() => {
  fleet.reset();
  quietConsole();
});

afterEach(() => {
  jest.restoreAllMocks();
});

describe('isComplete after Delete', () => {
  it('when a deleted group still exists, then the Delete is not complete yet', async () => {
    // Arrange
    fleet.autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [group(COPY, { status: 'Delete in progress' })] });
    const event = { ...deleteEvent(), Data: { DeploymentGroupName: DG, AutoScalingGroupNames: `${FLEET},${COPY}` } };

    // Act
    const result = await fleet.handler.isComplete(event);

    // Assert
    expect(result).toEqual({ IsComplete: false });
    expect(fleet.sent()).toEqual([['DescribeAutoScalingGroups', { AutoScalingGroupNames: [FLEET, COPY], MaxRecords: 100 }]]);
  });

  it('when every deleted group is gone, then the Delete is complete', async () => {
    // Arrange
    fleet.autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });
    const event = { ...deleteEvent(), Data: { DeploymentGroupName: DG, AutoScalingGroupNames: COPY } };

    // Act
    const result = await fleet.handler.isComplete(event);

    // Assert
    expect(result).toEqual({ IsComplete: true });
  });

  it('when the Delete deleted nothing, then it is complete without a call', async () => {
    // Arrange
    const event = { ...deleteEvent(), Data: { DeploymentGroupName: DG, AutoScalingGroupNames: '' } };

    // Act
    const result = await fleet.handler.isComplete(event);

    // Assert
    expect(result).toEqual({ IsComplete: true });
    expect(fleet.sent()).toEqual([]);
  });
});

describe('isCodeDeployCopy', () => {
  it.each([
    [`CodeDeploy_${DG}_d-ABC123XYZ`, true],
    [`CodeDeploy_${DG}_d-abc123xyz`, true],
    [`CodeDeploy_${DG}-v2_d-ABC123XYZ`, false],
    [`CodeDeploy_${DG}_ABC123XYZ`, false],
    [`CodeDeploy_${DG}_d-`, false],
    [FLEET, false],
  ])('when the group is named %s, then it is a copy of this deployment group: %s', (name, expected) => {
    expect(isCodeDeployCopy(name, DG)).toBe(expected);
  });
});
