import { AttachLoadBalancerTargetGroupsCommand, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { GetDeploymentGroupCommand } from '@aws-sdk/client-codedeploy';

import { FleetError } from '../errors';
import { buildUpdateAutoScalingGroupRequest, buildUpdateDeploymentGroupRequest } from '../requests';
import { APP, COPY, DG, FLEET, LT_ID, PHYSICAL_ID, properties, rejectionOf, TAG_KEY, TG_ARN, updateEvent } from './fixtures';
import { autoScalingError, codeDeployError, mockFleet, quietConsole } from './mocks';

const fleet = mockFleet();

beforeEach(() => {
  fleet.reset();
  quietConsole();
});

afterEach(() => {
  jest.restoreAllMocks();
});

/** GetDeploymentGroup answers that the deployment group targets these Auto Scaling groups. */
function deploymentGroupTargets(...names: string[]): void {
  fleet.codeDeploy.on(GetDeploymentGroupCommand).resolves({
    deploymentGroupInfo: {
      applicationName: APP,
      deploymentGroupName: DG,
      autoScalingGroups: names.map((name) => ({ name, hook: `CodeDeploy-managed-automatic-launch-deployment-hook-${DG}-1` })),
    },
  });
}

describe('Update', () => {
  it('when nothing was deployed yet, then the deployment group and the group Create made get the new settings', async () => {
    // Arrange
    deploymentGroupTargets(FLEET);
    const event = updateEvent({ DesiredCapacity: '3', MaxSize: '6', TerminationWaitMinutes: '30' });
    const props = properties({ DesiredCapacity: '3', MaxSize: '6', TerminationWaitMinutes: '30' });

    // Act
    const result = await fleet.handler.onEvent(event);

    // Assert
    expect(fleet.sent()).toEqual([
      ['GetDeploymentGroup', { applicationName: APP, deploymentGroupName: DG }],
      ['UpdateDeploymentGroup', buildUpdateDeploymentGroupRequest(props, [FLEET])],
      ['UpdateAutoScalingGroup', buildUpdateAutoScalingGroupRequest(props, FLEET)],
    ]);
    expect(fleet.sent()[1]?.[1]).toMatchObject({
      currentDeploymentGroupName: DG,
      autoScalingGroups: [FLEET],
      blueGreenDeploymentConfiguration: { terminateBlueInstancesOnDeploymentSuccess: { terminationWaitTimeInMinutes: 30 } },
    });
    expect(fleet.sent()[2]?.[1]).toMatchObject({ AutoScalingGroupName: FLEET, DesiredCapacity: 3, MaxSize: 6 });
    expect(result).toEqual({ PhysicalResourceId: PHYSICAL_ID, Data: { DeploymentGroupName: DG, AutoScalingGroupNames: FLEET } });
  });

  it('when CodeDeploy has replaced the group, then capacity and launch template go to its copy and never to the original name', async () => {
    // Arrange
    deploymentGroupTargets(COPY);
    const event = updateEvent({ MinSize: '3', DesiredCapacity: '3', MaxSize: '5', LaunchTemplateVersion: '4' });
    const props = properties({ MinSize: '3', DesiredCapacity: '3', MaxSize: '5', LaunchTemplateVersion: '4' });

    // Act
    const result = await fleet.handler.onEvent(event);

    // Assert
    expect(fleet.sent()).toEqual([
      ['GetDeploymentGroup', { applicationName: APP, deploymentGroupName: DG }],
      ['UpdateDeploymentGroup', buildUpdateDeploymentGroupRequest(props, [COPY])],
      [
        'UpdateAutoScalingGroup',
        {
          AutoScalingGroupName: COPY,
          LaunchTemplate: { LaunchTemplateId: LT_ID, Version: '4' },
          MinSize: 3,
          DesiredCapacity: 3,
          MaxSize: 5,
          VPCZoneIdentifier: 'subnet-0aaa1111,subnet-0bbb2222',
          HealthCheckType: 'ELB',
          HealthCheckGracePeriod: 300,
        },
      ],
    ]);
    expect(JSON.stringify(fleet.sent().slice(1))).not.toContain(`"${FLEET}"`);
    expect(result.Data.AutoScalingGroupNames).toBe(COPY);
  });

  it('when only the launch template version changes, then the same calls carry the new version and nothing else changes', async () => {
    // Arrange
    deploymentGroupTargets(COPY);
    const event = updateEvent({ LaunchTemplateVersion: '4' }, { LaunchTemplateVersion: '3' });

    // Act
    await fleet.handler.onEvent(event);

    // Assert
    const before = properties({ LaunchTemplateVersion: '3' });
    const after = properties({ LaunchTemplateVersion: '4' });
    expect(fleet.sent()).toEqual([
      ['GetDeploymentGroup', { applicationName: APP, deploymentGroupName: DG }],
      ['UpdateDeploymentGroup', buildUpdateDeploymentGroupRequest(before, [COPY])],
      ['UpdateAutoScalingGroup', { ...buildUpdateAutoScalingGroupRequest(before, COPY), LaunchTemplate: { LaunchTemplateId: LT_ID, Version: '4' } }],
    ]);
    expect(buildUpdateDeploymentGroupRequest(after, [COPY])).toEqual(buildUpdateDeploymentGroupRequest(before, [COPY]));
  });

  it('when the target group is replaced, then each current group is attached to the new one before leaving the old one', async () => {
    // Arrange
    deploymentGroupTargets(COPY);
    const newArn = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/conveyor-prod-2/fedcba9876543210';
    const event = updateEvent({ TargetGroupArn: newArn, TargetGroupName: 'conveyor-prod-2' });

    // Act
    await fleet.handler.onEvent(event);

    // Assert
    expect(fleet.sent().slice(2)).toEqual([
      ['UpdateAutoScalingGroup', buildUpdateAutoScalingGroupRequest(properties({ TargetGroupArn: newArn }), COPY)],
      ['AttachLoadBalancerTargetGroups', { AutoScalingGroupName: COPY, TargetGroupARNs: [newArn] }],
      ['DetachLoadBalancerTargetGroups', { AutoScalingGroupName: COPY, TargetGroupARNs: [TG_ARN] }],
    ]);
    expect(fleet.sent()[1]?.[1]).toMatchObject({ loadBalancerInfo: { targetGroupInfoList: [{ name: 'conveyor-prod-2' }] } });
  });

  it('when the fleet tag key changes, then the current groups get the new tag and lose the old one', async () => {
    // Arrange
    deploymentGroupTargets(COPY);
    const event = updateEvent({ FleetTagKey: 'conveyor:fleet-name' });

    // Act
    await fleet.handler.onEvent(event);

    // Assert
    expect(fleet.sent().slice(3)).toEqual([
      [
        'CreateOrUpdateTags',
        { Tags: [{ ResourceId: COPY, ResourceType: 'auto-scaling-group', Key: 'conveyor:fleet-name', Value: FLEET, PropagateAtLaunch: true }] },
      ],
      ['DeleteTags', { Tags: [{ ResourceId: COPY, ResourceType: 'auto-scaling-group', Key: TAG_KEY }] }],
    ]);
  });

  it('when the notification topic changes, then the current groups report to the new topic and stop reporting to the old one', async () => {
    // Arrange
    deploymentGroupTargets(COPY);
    const oldTopic = 'arn:aws:sns:eu-west-1:123456789012:old-events';
    const newTopic = 'arn:aws:sns:eu-west-1:123456789012:new-events';
    const event = updateEvent({ NotificationTopicArn: newTopic }, { NotificationTopicArn: oldTopic });

    // Act
    await fleet.handler.onEvent(event);

    // Assert
    expect(fleet.sent().slice(3).map(([operation, input]) => [operation, (input as { TopicARN: string }).TopicARN])).toEqual([
      ['PutNotificationConfiguration', newTopic],
      ['DeleteNotificationConfiguration', oldTopic],
    ]);
  });

  it('when the deployment group name changes, then the update is refused before any call and says how to rename', async () => {
    // Arrange
    const event = updateEvent({ DeploymentGroupName: 'conveyor-production' });

    // Act
    const error = await rejectionOf(fleet.handler.onEvent(event));

    // Assert
    expect(error).toBeInstanceOf(FleetError);
    expect(error.message).toContain(`this resource manages deployment group ${PHYSICAL_ID}`);
    expect(error.message).toContain(`the new properties name ${APP}:conveyor-production`);
    expect(error.message).toContain('give the construct a new id and a new FleetName');
    expect(fleet.sent()).toEqual([]);
  });

  it('when CloudFormation rolls back a refused rename, then the rollback succeeds because the names match the physical id again', async () => {
    // Arrange: a rollback sends the original properties as new and the refused ones as old.
    deploymentGroupTargets(COPY);
    const event = updateEvent({}, { DeploymentGroupName: 'conveyor-production' });

    // Act
    const result = await fleet.handler.onEvent(event);

    // Assert
    expect(result.PhysicalResourceId).toBe(PHYSICAL_ID);
    expect(fleet.sent().map(([operation]) => operation)).toEqual(['GetDeploymentGroup', 'UpdateDeploymentGroup', 'UpdateAutoScalingGroup']);
  });

  it('when the deployment group was deleted outside CloudFormation, then the update fails saying so and what to do', async () => {
    // Arrange
    fleet.codeDeploy.on(GetDeploymentGroupCommand).rejects(codeDeployError('DeploymentGroupDoesNotExistException', 'No Deployment Group found'));

    // Act
    const error = await rejectionOf(fleet.handler.onEvent(updateEvent()));

    // Assert
    expect(error.message).toContain(`Update failed: ${APP}/${DG}: the deployment group no longer exists; it was deleted outside CloudFormation.`);
    expect(fleet.sent().map(([operation]) => operation)).toEqual(['GetDeploymentGroup']);
  });

  it('when the current group has vanished, then the error names the copy that failed', async () => {
    // Arrange
    deploymentGroupTargets(COPY);
    fleet.autoScaling.on(UpdateAutoScalingGroupCommand).rejects(autoScalingError('ValidationError', `AutoScalingGroup name not found - AutoScalingGroup ${COPY} not found`));

    // Act
    const error = await rejectionOf(fleet.handler.onEvent(updateEvent()));

    // Assert
    expect(error.message).toMatch(new RegExp(`^UpdateAutoScalingGroup failed: ${COPY}: ValidationError: AutoScalingGroup name not found`));
  });

  it('when attaching the new target group is denied, then the update fails naming the call and the missing permission, before leaving the old one', async () => {
    // Arrange
    deploymentGroupTargets(COPY);
    fleet.autoScaling.on(AttachLoadBalancerTargetGroupsCommand).rejects(autoScalingError('AccessDenied', 'User is not authorized to perform: autoscaling:AttachLoadBalancerTargetGroups'));
    const newArn = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/conveyor-prod-2/fedcba9876543210';

    // Act
    const error = await rejectionOf(fleet.handler.onEvent(updateEvent({ TargetGroupArn: newArn, TargetGroupName: 'conveyor-prod-2' })));

    // Assert
    expect(error.message).toMatch(new RegExp(`^AttachLoadBalancerTargetGroups failed: ${COPY}: AccessDenied: `));
    expect(error.message).toContain("lacks a permission for AttachLoadBalancerTargetGroups");
    expect(fleet.sent().map(([operation]) => operation)).not.toContain('DetachLoadBalancerTargetGroups');
  });
});
