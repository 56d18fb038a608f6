import { FleetError } from '../errors';
import { parseIdentity, parseProperties } from '../properties';
import { FLEET, LT_ID, rawProperties, ROLE_ARN, TAG_KEY, TG_ARN, thrownBy } from './fixtures';

describe('parseProperties', () => {
  it('when CloudFormation sends every scalar as a string, then numbers are parsed and defaults filled in', () => {
    // Arrange
    const raw = rawProperties();

    // Act
    const props = parseProperties(raw);

    // Assert
    expect(props).toEqual({
      applicationName: 'conveyor',
      deploymentGroupName: 'conveyor-prod',
      serviceRoleArn: ROLE_ARN,
      fleetName: FLEET,
      fleetTagKey: TAG_KEY,
      launchTemplateId: LT_ID,
      launchTemplateVersion: '3',
      minSize: 2,
      desiredCapacity: 2,
      maxSize: 4,
      subnetIds: ['subnet-0aaa1111', 'subnet-0bbb2222'],
      targetGroupArn: TG_ARN,
      targetGroupName: 'conveyor-prod',
      alarmNames: ['conveyor-prod-5xx', 'conveyor-prod-unhealthy-hosts'],
      terminationWaitMinutes: 5,
      deploymentReadyWaitMinutes: undefined,
      healthCheckType: 'ELB',
      healthCheckGracePeriodSeconds: 300,
      deploymentConfigName: 'CodeDeployDefault.AllAtOnce',
      notificationTopicArn: undefined,
    });
  });

  it('when the optional properties are set, then they are used instead of the defaults', () => {
    // Arrange
    const raw = rawProperties({
      DeploymentReadyWaitMinutes: '60',
      DeploymentConfigName: 'CodeDeployDefault.HalfAtATime',
      HealthCheckType: 'EC2',
      NotificationTopicArn: 'arn:aws:sns:eu-west-1:123456789012:conveyor-prod-events',
      LaunchTemplateVersion: '$Latest',
    });

    // Act
    const props = parseProperties(raw);

    // Assert
    expect(props).toMatchObject({
      deploymentReadyWaitMinutes: 60,
      deploymentConfigName: 'CodeDeployDefault.HalfAtATime',
      healthCheckType: 'EC2',
      notificationTopicArn: 'arn:aws:sns:eu-west-1:123456789012:conveyor-prod-events',
      launchTemplateVersion: '$Latest',
    });
  });

  it('when AlarmNames is left out (CloudFormation may drop an empty list), then there are no alarms', () => {
    // Arrange
    const { AlarmNames: _dropped, ...raw } = rawProperties();

    // Act
    const props = parseProperties(raw);

    // Assert
    expect(props.alarmNames).toEqual([]);
  });

  it('when TerminationWaitMinutes is 3000, then the error names the property, the limit and the value', () => {
    // Arrange
    const raw = rawProperties({ TerminationWaitMinutes: '3000' });

    // Act
    const error = thrownBy(() => parseProperties(raw));

    // Assert
    expect(error).toBeInstanceOf(FleetError);
    expect(error.message).toContain('TerminationWaitMinutes must be an integer from 0 to 2880 (got "3000")');
  });

  it.each([
    ['MinSize', { MinSize: 'two' }, 'MinSize must be an integer of at least 0 (got "two")'],
    ['DeploymentReadyWaitMinutes', { DeploymentReadyWaitMinutes: '2881' }, 'DeploymentReadyWaitMinutes must be an integer from 0 to 2880'],
    ['HealthCheckGracePeriodSeconds', { HealthCheckGracePeriodSeconds: '1.5' }, 'HealthCheckGracePeriodSeconds must be an integer'],
    ['LaunchTemplateVersion', { LaunchTemplateVersion: 'latest' }, 'LaunchTemplateVersion must be a version number, "$Latest" or "$Default"'],
    ['LaunchTemplateId', { LaunchTemplateId: 'my-template' }, 'LaunchTemplateId must be a launch template id'],
    ['ServiceRoleArn', { ServiceRoleArn: 'conveyor-role' }, 'ServiceRoleArn must be an IAM role ARN'],
    ['TargetGroupArn', { TargetGroupArn: 'arn:aws:s3:::bucket' }, 'TargetGroupArn must be a target group ARN'],
    ['TargetGroupName', { TargetGroupName: 'x'.repeat(33) }, 'TargetGroupName must be at most 32 characters'],
    ['SubnetIds', { SubnetIds: [] }, 'SubnetIds must hold at least 1 item'],
    ['SubnetIds[1]', { SubnetIds: ['subnet-0aaa1111', 'vpc-1'] }, 'SubnetIds[1] must be subnet ids'],
    ['AlarmNames', { AlarmNames: Array.from({ length: 11 }, (_, i) => `alarm-${i}`) }, 'AlarmNames must hold at most 10 items (got 11)'],
    ['AlarmNames', { AlarmNames: ['a', 'a'] }, 'AlarmNames must not repeat an item'],
    ['HealthCheckType', { HealthCheckType: 'ALB' }, 'HealthCheckType must be one of "EC2", "ELB" (got "ALB")'],
    ['FleetName', { FleetName: 'CodeDeploy_conveyor-prod_d-ABC' }, 'FleetName must be an Auto Scaling group name that does not start with "CodeDeploy_"'],
    ['FleetTagKey', { FleetTagKey: 'aws:fleet' }, 'FleetTagKey must be a tag key that does not start with the reserved "aws:" prefix'],
    ['DeploymentGroupName', { DeploymentGroupName: 'd'.repeat(101) }, 'DeploymentGroupName must be at most 100 characters'],
    ['ApplicationName', { ApplicationName: '  ' }, 'ApplicationName must not be empty'],
    ['ApplicationName', { ApplicationName: 42 }, 'ApplicationName must be a string (got 42)'],
    ['Alarms', { Alarms: ['x'] }, 'Alarms is not a property of this resource'],
  ])('when %s is invalid, then the error names it', (_name, overrides, expected) => {
    // Arrange
    const raw = rawProperties(overrides);

    // Act
    const error = thrownBy(() => parseProperties(raw));

    // Assert
    expect(error.message).toContain(expected);
  });

  it('when DesiredCapacity lies outside MinSize..MaxSize, then the error shows all three', () => {
    // Arrange
    const raw = rawProperties({ MinSize: '3', DesiredCapacity: '2', MaxSize: '4' });

    // Act
    const error = thrownBy(() => parseProperties(raw));

    // Assert
    expect(error.message).toContain('DesiredCapacity must lie between MinSize and MaxSize (got MinSize 3, DesiredCapacity 2, MaxSize 4)');
  });

  it('when several properties are missing or wrong, then every one is reported in one error', () => {
    // Arrange
    const { ServiceRoleArn: _role, TargetGroupName: _tg, ...raw } = rawProperties({ MaxSize: '0' });

    // Act
    const error = thrownBy(() => parseProperties(raw));

    // Assert
    expect(error.message).toMatch(/^Invalid properties for the blue\/green fleet custom resource: /);
    expect(error.message).toContain('ServiceRoleArn is required');
    expect(error.message).toContain('TargetGroupName is required');
    expect(error.message).toContain('MaxSize must be an integer of at least 1 (got "0")');
  });

  it('when numbers arrive as numbers (a direct invocation), then they are accepted as well', () => {
    // Arrange
    const raw = rawProperties({ MinSize: 1, DesiredCapacity: 1, MaxSize: 1, TerminationWaitMinutes: 0 });

    // Act
    const props = parseProperties(raw);

    // Assert
    expect(props).toMatchObject({ minSize: 1, desiredCapacity: 1, maxSize: 1, terminationWaitMinutes: 0 });
  });
});

describe('parseIdentity', () => {
  it('when a Delete carries properties a stricter handler would reject, then the names needed to find the fleet are still read', () => {
    // Arrange
    const raw = rawProperties({ TerminationWaitMinutes: '99999', SomethingNew: 'x' });

    // Act
    const identity = parseIdentity(raw);

    // Assert
    expect(identity).toEqual({ applicationName: 'conveyor', deploymentGroupName: 'conveyor-prod', fleetName: FLEET, fleetTagKey: TAG_KEY });
  });

  it('when the fleet tag key is missing, then the error names it', () => {
    // Arrange
    const { FleetTagKey: _key, ...raw } = rawProperties();

    // Act
    const error = thrownBy(() => parseIdentity(raw));

    // Assert
    expect(error.message).toContain('FleetTagKey is required');
  });
});
