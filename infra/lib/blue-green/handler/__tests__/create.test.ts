import {
  CreateAutoScalingGroupCommand,
  DeleteAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  BatchGetDeploymentGroupsCommand,
  CreateDeploymentGroupCommand,
  GetDeploymentGroupCommand,
  ListDeploymentGroupsCommand,
} from '@aws-sdk/client-codedeploy';

import { FleetError } from '../errors';
import { buildCreateAutoScalingGroupRequest, buildUpdateAutoScalingGroupRequest, buildUpdateDeploymentGroupRequest } from '../requests';
import {
  APP,
  COPY,
  createEvent,
  DG,
  expectedDeploymentGroup,
  FLEET,
  LT_ID,
  PHYSICAL_ID,
  properties,
  rejectionOf,
  TAG_KEY,
  TG_ARN,
} from './fixtures';
import { autoScalingError, codeDeployError, firstGroup, group, mockFleet, quietConsole } from './mocks';

const fleet = mockFleet();
let consoleSpies: ReturnType<typeof quietConsole>;

beforeEach(() => {
  fleet.reset();
  consoleSpies = quietConsole();
});

afterEach(() => {
  jest.restoreAllMocks();
});

const createGroup = {
  AutoScalingGroupName: FLEET,
  LaunchTemplate: { LaunchTemplateId: LT_ID, Version: '3' },
  MinSize: 2,
  DesiredCapacity: 2,
  MaxSize: 4,
  VPCZoneIdentifier: 'subnet-0aaa1111,subnet-0bbb2222',
  TargetGroupARNs: [TG_ARN],
  HealthCheckType: 'ELB',
  HealthCheckGracePeriod: 300,
  Tags: [{ Key: TAG_KEY, Value: FLEET, PropagateAtLaunch: true }],
};

describe('Create', () => {
  it('when the fleet is created, then the tagged Auto Scaling group comes first and the blue/green deployment group copying it second', async () => {
    // Arrange
    const event = createEvent();

    // Act
    const result = await fleet.handler.onEvent(event);

    // Assert
    expect(fleet.sent()).toEqual([
      ['CreateAutoScalingGroup', createGroup],
      ['CreateDeploymentGroup', expectedDeploymentGroup([FLEET])],
    ]);
    expect(result).toEqual({
      PhysicalResourceId: PHYSICAL_ID,
      Data: { DeploymentGroupName: DG, AutoScalingGroupNames: FLEET },
    });
  });

  it('when a notification topic is given, then the first group reports its launches and terminations to it before the deployment group is made', async () => {
    // Arrange
    const topic = 'arn:aws:sns:eu-west-1:123456789012:conveyor-prod-events';
    const event = createEvent({ NotificationTopicArn: topic });

    // Act
    await fleet.handler.onEvent(event);

    // Assert
    expect(fleet.sent().map(([operation]) => operation)).toEqual([
      'CreateAutoScalingGroup',
      'PutNotificationConfiguration',
      'CreateDeploymentGroup',
    ]);
    expect(fleet.sent()[1]).toEqual([
      'PutNotificationConfiguration',
      {
        AutoScalingGroupName: FLEET,
        TopicARN: topic,
        NotificationTypes: [
          'autoscaling:EC2_INSTANCE_LAUNCH',
          'autoscaling:EC2_INSTANCE_LAUNCH_ERROR',
          'autoscaling:EC2_INSTANCE_TERMINATE',
          'autoscaling:EC2_INSTANCE_TERMINATE_ERROR',
        ],
      },
    ]);
  });

  it('when CloudFormation retries a Create whose group and deployment group both exist, then both are brought to the new settings and it succeeds', async () => {
    // Arrange
    fleet.autoScaling.on(CreateAutoScalingGroupCommand).rejects(autoScalingError('AlreadyExistsFault', `AutoScalingGroup by this name already exists - A group with the name ${FLEET} already exists`));
    fleet.autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [firstGroup()] });
    fleet.codeDeploy.on(ListDeploymentGroupsCommand).resolves({ deploymentGroups: [DG] });
    fleet.codeDeploy.on(CreateDeploymentGroupCommand).rejects(codeDeployError('DeploymentGroupAlreadyExistsException', `The deployment group ${DG} already exists`));
    fleet.codeDeploy.on(GetDeploymentGroupCommand).resolves({
      deploymentGroupInfo: { applicationName: APP, deploymentGroupName: DG, autoScalingGroups: [{ name: FLEET, hook: 'CodeDeploy-managed-automatic-launch-deployment-hook-conveyor-prod-1' }] },
    });
    const props = properties();

    // Act
    const result = await fleet.handler.onEvent(createEvent());

    // Assert
    expect(fleet.sent()).toEqual([
      ['CreateAutoScalingGroup', buildCreateAutoScalingGroupRequest(props)],
      ['DescribeAutoScalingGroups', { AutoScalingGroupNames: [FLEET] }],
      ['ListDeploymentGroups', { applicationName: APP }],
      ['UpdateAutoScalingGroup', buildUpdateAutoScalingGroupRequest(props, FLEET)],
      ['CreateDeploymentGroup', expectedDeploymentGroup([FLEET])],
      ['GetDeploymentGroup', { applicationName: APP, deploymentGroupName: DG }],
      ['UpdateDeploymentGroup', buildUpdateDeploymentGroupRequest(props, [FLEET])],
    ]);
    expect(result.PhysicalResourceId).toBe(PHYSICAL_ID);
  });

  it('when an Auto Scaling group of that name exists without the fleet tag, then Create fails saying it belongs to something else, and touches nothing', async () => {
    // Arrange
    fleet.autoScaling.on(CreateAutoScalingGroupCommand).rejects(autoScalingError('AlreadyExistsFault', 'already exists'));
    fleet.autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [group(FLEET, { tagValue: 'someone-else' })] });

    // Act
    const error = await rejectionOf(fleet.handler.onEvent(createEvent()));

    // Assert
    expect(error).toBeInstanceOf(FleetError);
    expect(error.message).toBe(
      `CreateAutoScalingGroup failed: ${FLEET}: an Auto Scaling group of that name already exists and is not tagged ` +
        `${TAG_KEY}=${FLEET}, so it belongs to something else. Choose another FleetName, or delete that group if it is a leftover you no longer need.`,
    );
    expect(fleet.sent().map(([operation]) => operation)).toEqual(['CreateAutoScalingGroup', 'DescribeAutoScalingGroups']);
  });

  it('when the tagged group is targeted by another deployment group of the application, then Create refuses to share it', async () => {
    // Arrange
    fleet.autoScaling.on(CreateAutoScalingGroupCommand).rejects(autoScalingError('AlreadyExistsFault', 'already exists'));
    fleet.autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [firstGroup()] });
    fleet.codeDeploy.on(ListDeploymentGroupsCommand).resolves({ deploymentGroups: ['conveyor-old', DG] });
    fleet.codeDeploy.on(BatchGetDeploymentGroupsCommand).resolves({
      deploymentGroupsInfo: [{ deploymentGroupName: 'conveyor-old', autoScalingGroups: [{ name: FLEET }] }],
    });

    // Act
    const error = await rejectionOf(fleet.handler.onEvent(createEvent()));

    // Assert
    expect(error.message).toContain(`deployment group conveyor-old of application ${APP} targets it`);
    expect(error.message).toContain('Give this fleet another FleetName.');
    expect(fleet.sent()).toEqual([
      ['CreateAutoScalingGroup', createGroup],
      ['DescribeAutoScalingGroups', { AutoScalingGroupNames: [FLEET] }],
      ['ListDeploymentGroups', { applicationName: APP }],
      ['BatchGetDeploymentGroups', { applicationName: APP, deploymentGroupNames: ['conveyor-old'] }],
    ]);
  });

  it('when a leftover group of this fleet is still being deleted, then Create fails asking to wait', async () => {
    // Arrange
    fleet.autoScaling.on(CreateAutoScalingGroupCommand).rejects(autoScalingError('AlreadyExistsFault', 'already exists'));
    fleet.autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [firstGroup({ status: 'Delete in progress' })] });

    // Act
    const error = await rejectionOf(fleet.handler.onEvent(createEvent()));

    // Assert
    expect(error.message).toContain('is still being deleted');
    expect(fleet.sent().map(([operation]) => operation)).toEqual(['CreateAutoScalingGroup', 'DescribeAutoScalingGroups']);
  });

  it('when the existing deployment group targets a group this fleet did not make, then the retried Create fails and leaves it alone', async () => {
    // Arrange
    fleet.codeDeploy.on(CreateDeploymentGroupCommand).rejects(codeDeployError('DeploymentGroupAlreadyExistsException', 'exists'));
    fleet.codeDeploy.on(GetDeploymentGroupCommand).resolves({
      deploymentGroupInfo: { deploymentGroupName: DG, autoScalingGroups: [{ name: 'legacy-web-asg' }] },
    });

    // Act
    const error = await rejectionOf(fleet.handler.onEvent(createEvent()));

    // Assert
    expect(error.message).toContain(`CreateDeploymentGroup failed: ${APP}/${DG}: a deployment group of that name already exists and targets legacy-web-asg`);
    expect(fleet.sent().map(([operation]) => operation)).toEqual(['CreateAutoScalingGroup', 'CreateDeploymentGroup', 'GetDeploymentGroup']);
  });

  it('when the retried Create finds the deployment group already targeting a CodeDeploy copy, then it keeps that target', async () => {
    // Arrange
    fleet.codeDeploy.on(CreateDeploymentGroupCommand).rejects(codeDeployError('DeploymentGroupAlreadyExistsException', 'exists'));
    fleet.codeDeploy.on(GetDeploymentGroupCommand).resolves({ deploymentGroupInfo: { autoScalingGroups: [{ name: COPY }] } });

    // Act
    const result = await fleet.handler.onEvent(createEvent());

    // Assert
    expect(fleet.sent().at(-1)).toEqual(['UpdateDeploymentGroup', buildUpdateDeploymentGroupRequest(properties(), [COPY])]);
    expect(result.Data.AutoScalingGroupNames).toBe(COPY);
  });

  it('when CreateDeploymentGroup is denied, then the error says what failed and what to do, and the group this attempt made is deleted again', async () => {
    // Arrange
    fleet.codeDeploy.on(CreateDeploymentGroupCommand).rejects(
      codeDeployError(
        'AccessDeniedException',
        'User: arn:aws:sts::123456789012:assumed-role/handler/fn is not authorized to perform: iam:PassRole on resource: arn:aws:iam::123456789012:role/conveyor-prod-codedeploy',
      ),
    );

    // Act
    const error = await rejectionOf(fleet.handler.onEvent(createEvent()));

    // Assert
    expect(error).toBeInstanceOf(FleetError);
    expect(error.message).toMatch(
      new RegExp(
        `^CreateDeploymentGroup failed: ${APP}/${DG}: AccessDeniedException: User: .* is not authorized to perform: iam:PassRole .*\\. ` +
          "The handler's role \\(or the CodeDeploy service role it passes\\) lacks a permission for CreateDeploymentGroup",
      ),
    );
    expect(error.message).toContain('Check that the CodeDeploy application exists, that the service role exists');
    expect(error.message).toContain(`The Auto Scaling group ${FLEET} was deleted again`);
    expect(error.stack).toBe(`FleetError: ${error.message}`);
    expect(fleet.sent()).toEqual([
      ['CreateAutoScalingGroup', createGroup],
      ['CreateDeploymentGroup', expectedDeploymentGroup([FLEET])],
      ['DeleteAutoScalingGroup', { AutoScalingGroupName: FLEET, ForceDelete: true }],
    ]);
    expect(consoleSpies.error).toHaveBeenCalledWith(expect.stringContaining('"requestId":"req-cd-1"'));
  });

  it('when deleting the group after a failed Create fails too, then the error asks to delete it by hand', async () => {
    // Arrange
    fleet.codeDeploy.on(CreateDeploymentGroupCommand).rejects(codeDeployError('InvalidRoleException', 'The service role cannot be assumed'));
    fleet.autoScaling.on(DeleteAutoScalingGroupCommand).rejects(autoScalingError('AccessDenied', 'not authorized'));

    // Act
    const error = await rejectionOf(fleet.handler.onEvent(createEvent()));

    // Assert
    expect(error.message).toContain(`CreateDeploymentGroup failed: ${APP}/${DG}: InvalidRoleException: The service role cannot be assumed.`);
    expect(error.message).toContain(`Deleting the Auto Scaling group ${FLEET} afterwards failed too`);
    expect(error.message).toContain('delete it by hand: CloudFormation sends no Delete for a resource whose Create failed.');
  });

  it('when CreateAutoScalingGroup fails, then the error names the group and the permissions to check, and nothing else is called', async () => {
    // Arrange
    fleet.autoScaling.on(CreateAutoScalingGroupCommand).rejects(
      autoScalingError('ValidationError', 'You are not authorized to use launch template: lt-0abc123def4567890'),
    );

    // Act
    const error = await rejectionOf(fleet.handler.onEvent(createEvent()));

    // Assert
    expect(error.message).toBe(
      `CreateAutoScalingGroup failed: ${FLEET}: ValidationError: You are not authorized to use launch template: lt-0abc123def4567890. ` +
        "Check that the launch template version, subnets and target group exist, and that the handler's role may call " +
        'autoscaling:CreateAutoScalingGroup/UpdateAutoScalingGroup, ec2:RunInstances, ec2:CreateTags and iam:PassRole on the instance role.',
    );
    expect(fleet.sent().map(([operation]) => operation)).toEqual(['CreateAutoScalingGroup']);
  });

  it('when a property is invalid, then Create fails naming it before any AWS call', async () => {
    // Arrange
    const event = createEvent({ TerminationWaitMinutes: '3000' });

    // Act
    const error = await rejectionOf(fleet.handler.onEvent(event));

    // Assert
    expect(error.message).toContain('TerminationWaitMinutes must be an integer from 0 to 2880 (got "3000")');
    expect(fleet.sent()).toEqual([]);
  });

  it('when the fleet is created, then CloudWatch shows each call with its names in order', async () => {
    // Arrange
    const event = createEvent();

    // Act
    await fleet.handler.onEvent(event);

    // Assert
    const lines = consoleSpies.log.mock.calls.map(([line]) => String(line));
    expect(lines.map((line) => line.split(' ')[0])).toEqual(['Create', 'CreateAutoScalingGroup', 'CreateDeploymentGroup']);
    expect(lines[2]).toContain(`"deploymentGroupName":"${DG}"`);
    expect(lines.join('\n')).not.toContain('arn:aws:iam');
  });
});

describe('isComplete', () => {
  it('when the event is a Create, then it is complete at once without any call', async () => {
    // Arrange
    const event = { ...createEvent(), PhysicalResourceId: PHYSICAL_ID };

    // Act
    const result = await fleet.handler.isComplete(event);

    // Assert
    expect(result).toEqual({ IsComplete: true });
    expect(fleet.sent()).toEqual([]);
  });
});
