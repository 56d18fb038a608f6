import { DeleteAutoScalingGroupCommand, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import {
  BatchGetDeploymentGroupsCommand,
  DeleteDeploymentGroupCommand,
  GetDeploymentGroupCommand,
  ListDeploymentGroupsCommand,
} from '@aws-sdk/client-codedeploy';

import { isCodeDeployCopy } from '../lifecycle';
import { APP, COPY, deleteEvent, DG, FLEET, PHYSICAL_ID, rejectionOf } from './fixtures';
import { autoScalingError, codeDeployError, firstGroup, group, mockFleet, quietConsole } from './mocks';

const fleet = mockFleet();

beforeEach(() => {
  fleet.reset();
  quietConsole();
});

afterEach(() => {
  jest.restoreAllMocks();
});

const OTHER_FLEET = 'conveyor-staging-fleet';
const OTHER_COPY = 'CodeDeploy_conveyor-staging_d-XYZ987654';

function deploymentGroupTargets(...names: string[]): void {
  fleet.codeDeploy.on(GetDeploymentGroupCommand).resolves({
    deploymentGroupInfo: { applicationName: APP, deploymentGroupName: DG, autoScalingGroups: names.map((name) => ({ name })) },
  });
}

function accountHolds(...groups: ReturnType<typeof group>[]): void {
  fleet.autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: groups });
}

const deleteGroup = (name: string) => ['DeleteAutoScalingGroup', { AutoScalingGroupName: name, ForceDelete: true }] as const;

describe('Delete', () => {
  it('when the deployment group and its group are present, then the deployment group goes first and the group with its instances after', async () => {
    // Arrange
    deploymentGroupTargets(FLEET);
    fleet.codeDeploy.on(ListDeploymentGroupsCommand).resolves({ deploymentGroups: [] });
    accountHolds(firstGroup(), group(OTHER_FLEET, { tagValue: OTHER_FLEET }));

    // Act
    const result = await fleet.handler.onEvent(deleteEvent());

    // Assert
    expect(fleet.sent()).toEqual([
      ['GetDeploymentGroup', { applicationName: APP, deploymentGroupName: DG }],
      ['DeleteDeploymentGroup', { applicationName: APP, deploymentGroupName: DG }],
      ['ListDeploymentGroups', { applicationName: APP }],
      ['DescribeAutoScalingGroups', { MaxRecords: 100 }],
      deleteGroup(FLEET),
    ]);
    expect(result).toEqual({ PhysicalResourceId: PHYSICAL_ID, Data: { DeploymentGroupName: DG, AutoScalingGroupNames: FLEET } });
  });

  it('when a CodeDeploy-made group stands beside the original, then both go, and other fleets and other deployment groups\' copies stay', async () => {
    // Arrange: the last deployment's green copy is live; the original blue group still waits out its termination.
    deploymentGroupTargets(COPY);
    fleet.codeDeploy.on(ListDeploymentGroupsCommand).resolves({ deploymentGroups: [DG, 'conveyor-staging'] });
    fleet.codeDeploy.on(BatchGetDeploymentGroupsCommand).resolves({
      deploymentGroupsInfo: [{ deploymentGroupName: 'conveyor-staging', autoScalingGroups: [{ name: OTHER_COPY }] }],
    });
    accountHolds(firstGroup(), group(COPY), group(OTHER_COPY, { tagValue: OTHER_FLEET }), group(OTHER_FLEET, { tagValue: OTHER_FLEET }), group('unrelated'));

    // Act
    const result = await fleet.handler.onEvent(deleteEvent());

    // Assert
    expect(fleet.sent()).toEqual([
      ['GetDeploymentGroup', { applicationName: APP, deploymentGroupName: DG }],
      ['DeleteDeploymentGroup', { applicationName: APP, deploymentGroupName: DG }],
      ['ListDeploymentGroups', { applicationName: APP }],
      ['BatchGetDeploymentGroups', { applicationName: APP, deploymentGroupNames: ['conveyor-staging'] }],
      ['DescribeAutoScalingGroups', { MaxRecords: 100 }],
      deleteGroup(FLEET),
      deleteGroup(COPY),
    ]);
    expect(result.Data.AutoScalingGroupNames).toBe(`${FLEET},${COPY}`);
  });

  it('when a copy of an earlier deployment no longer targeted by the deployment group is left, then it is found by its name and deleted', async () => {
    // Arrange
    const olderCopy = `CodeDeploy_${DG}_d-OLD000001`;
    deploymentGroupTargets(COPY);
    accountHolds(group(olderCopy), group(COPY, { tagValue: FLEET }));

    // Act
    await fleet.handler.onEvent(deleteEvent());

    // Assert
    expect(fleet.sent().slice(4)).toEqual([deleteGroup(olderCopy), deleteGroup(COPY)]);
  });

  it('when everything is already gone, then Delete succeeds without deleting anything', async () => {
    // Arrange
    fleet.codeDeploy.on(GetDeploymentGroupCommand).rejects(codeDeployError('ApplicationDoesNotExistException', 'No application found for name: conveyor'));
    fleet.codeDeploy.on(ListDeploymentGroupsCommand).rejects(codeDeployError('ApplicationDoesNotExistException', 'No application found for name: conveyor'));
    accountHolds(group(OTHER_FLEET, { tagValue: OTHER_FLEET }));

    // Act
    const result = await fleet.handler.onEvent(deleteEvent());

    // Assert
    expect(fleet.sent()).toEqual([
      ['GetDeploymentGroup', { applicationName: APP, deploymentGroupName: DG }],
      ['ListDeploymentGroups', { applicationName: APP }],
      ['DescribeAutoScalingGroups', { MaxRecords: 100 }],
    ]);
    expect(result).toEqual({ PhysicalResourceId: PHYSICAL_ID, Data: { DeploymentGroupName: DG, AutoScalingGroupNames: '' } });
  });

  it('when the deployment group and a group vanish while Delete runs, then "does not exist" and "not found" both count as deleted', async () => {
    // Arrange
    deploymentGroupTargets(COPY);
    fleet.codeDeploy.on(DeleteDeploymentGroupCommand).rejects(codeDeployError('DeploymentGroupDoesNotExistException', 'gone'));
    accountHolds(group(COPY));
    fleet.autoScaling.on(DeleteAutoScalingGroupCommand).rejects(autoScalingError('ValidationError', `AutoScalingGroup name not found - AutoScalingGroup '${COPY}' not found`));

    // Act
    const result = await fleet.handler.onEvent(deleteEvent());

    // Assert
    expect(fleet.sent().at(-1)).toEqual(deleteGroup(COPY));
    expect(result.Data.AutoScalingGroupNames).toBe('');
  });

  it('when the deployment group targets a group that is already gone, then Delete goes on with the rest', async () => {
    // Arrange
    deploymentGroupTargets(COPY);
    accountHolds(firstGroup());

    // Act
    await fleet.handler.onEvent(deleteEvent());

    // Assert
    expect(fleet.sent().slice(4)).toEqual([deleteGroup(FLEET)]);
  });

  it('when a group is already being deleted, then it is not deleted again but still reported, so isComplete waits for it', async () => {
    // Arrange
    deploymentGroupTargets(COPY);
    accountHolds(firstGroup({ status: 'Delete in progress' }), group(COPY));

    // Act
    const result = await fleet.handler.onEvent(deleteEvent());

    // Assert
    expect(fleet.sent().slice(4)).toEqual([deleteGroup(COPY)]);
    expect(result.Data.AutoScalingGroupNames).toBe(`${FLEET},${COPY}`);
  });

  it('when another deployment group of the application targets a group carrying this fleet\'s tag, then that group is kept', async () => {
    // Arrange: a second resource was given the same FleetName and took the name over.
    fleet.codeDeploy.on(GetDeploymentGroupCommand).rejects(codeDeployError('DeploymentGroupDoesNotExistException', 'gone'));
    fleet.codeDeploy.on(ListDeploymentGroupsCommand).resolves({ deploymentGroups: ['conveyor-prod-v2'] });
    fleet.codeDeploy.on(BatchGetDeploymentGroupsCommand).resolves({
      deploymentGroupsInfo: [{ deploymentGroupName: 'conveyor-prod-v2', autoScalingGroups: [{ name: FLEET }] }],
    });
    accountHolds(firstGroup());

    // Act
    await fleet.handler.onEvent(deleteEvent());

    // Assert
    expect(fleet.sent().map(([operation]) => operation)).toEqual([
      'GetDeploymentGroup',
      'ListDeploymentGroups',
      'BatchGetDeploymentGroups',
      'DescribeAutoScalingGroups',
    ]);
  });

  it('when the account has more groups than one page, then every page is read', async () => {
    // Arrange
    deploymentGroupTargets(COPY);
    fleet.autoScaling
      .on(DescribeAutoScalingGroupsCommand)
      .resolves({ AutoScalingGroups: [group('unrelated')], NextToken: 'page-2' })
      .on(DescribeAutoScalingGroupsCommand, { NextToken: 'page-2' })
      .resolves({ AutoScalingGroups: [group(COPY)] });

    // Act
    await fleet.handler.onEvent(deleteEvent());

    // Assert
    expect(fleet.sent().slice(3)).toEqual([
      ['DescribeAutoScalingGroups', { MaxRecords: 100 }],
      ['DescribeAutoScalingGroups', { MaxRecords: 100, NextToken: 'page-2' }],
      deleteGroup(COPY),
    ]);
  });

  it('when a scaling activity blocks the deletion for a while, then the deletion is retried with growing waits', async () => {
    // Arrange
    deploymentGroupTargets(COPY);
    accountHolds(group(COPY));
    const busy = autoScalingError('ScalingActivityInProgressFault', 'Scaling activity in progress');
    fleet.autoScaling.on(DeleteAutoScalingGroupCommand).rejectsOnce(busy).rejectsOnce(busy).resolves({});

    // Act
    const result = await fleet.handler.onEvent(deleteEvent());

    // Assert
    expect(fleet.sent().slice(4)).toEqual([deleteGroup(COPY), deleteGroup(COPY), deleteGroup(COPY)]);
    expect(fleet.sleeps).toEqual([5_000, 10_000]);
    expect(result.Data.AutoScalingGroupNames).toBe(COPY);
  });

  it('when a scaling activity keeps blocking the deletion, then Delete fails after five attempts saying what to wait for', async () => {
    // Arrange
    deploymentGroupTargets(COPY);
    accountHolds(group(COPY));
    fleet.autoScaling.on(DeleteAutoScalingGroupCommand).rejects(autoScalingError('ScalingActivityInProgressFault', 'Scaling activity in progress'));

    // Act
    const error = await rejectionOf(fleet.handler.onEvent(deleteEvent()));

    // Assert
    expect(error.message).toBe(
      `DeleteAutoScalingGroup failed: ${COPY}: ScalingActivityInProgressFault: Scaling activity in progress. ` +
        'A scaling activity still holds the group after 5 attempts; wait for it to finish (EC2 console, Auto Scaling group, Activity) and retry the stack deletion.',
    );
    expect(fleet.sleeps).toEqual([5_000, 10_000, 20_000, 40_000]);
  });

  it('when the Delete properties would fail today\'s validation, then the fleet is still deleted', async () => {
    // Arrange
    deploymentGroupTargets(FLEET);
    accountHolds(firstGroup());

    // Act
    await fleet.handler.onEvent(deleteEvent({ TerminationWaitMinutes: '99999' }));

    // Assert
    expect(fleet.sent().at(-1)).toEqual(deleteGroup(FLEET));
  });
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
