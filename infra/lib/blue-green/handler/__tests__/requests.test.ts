import type { CreateAutoScalingGroupCommandInput, UpdateAutoScalingGroupCommandInput } from '@aws-sdk/client-auto-scaling';
import type { UpdateDeploymentGroupCommandInput } from '@aws-sdk/client-codedeploy';

import { FleetError } from '../errors';
import type { FleetProperties } from '../properties';
import {
  buildCreateAutoScalingGroupRequest,
  buildDeploymentGroupRequest,
  buildUpdateAutoScalingGroupRequest,
  buildUpdateDeploymentGroupRequest,
  deploymentGroupRequestProblems,
} from '../requests';
import { APP, COPY, DG, expectedDeploymentGroup, FLEET, LT_ID, properties, TAG_KEY, TG_ARN, thrownBy } from './fixtures';

describe('buildDeploymentGroupRequest', () => {
  it('when built from valid properties, then it is blue/green with a copied Auto Scaling group, rollback on failure and alarm, and outdated instances updated', () => {
    // Arrange
    const props = properties();

    // Act
    const request = buildDeploymentGroupRequest(props);

    // Assert
    expect(request).toEqual(expectedDeploymentGroup());
  });

  it('when DeploymentReadyWaitMinutes is set, then traffic waits for a manual continue and the deployment stops after the wait', () => {
    // Arrange
    const props = properties({ DeploymentReadyWaitMinutes: '120' });

    // Act
    const request = buildDeploymentGroupRequest(props);

    // Assert
    expect(request.blueGreenDeploymentConfiguration?.deploymentReadyOption).toEqual({
      actionOnTimeout: 'STOP_DEPLOYMENT',
      waitTimeInMinutes: 120,
    });
  });

  it('when there are no alarms, then alarm monitoring is switched off explicitly (so an Update can remove the last one)', () => {
    // Arrange
    const props = properties({ AlarmNames: [] });

    // Act
    const request = buildDeploymentGroupRequest(props);

    // Assert
    expect(request.alarmConfiguration).toEqual({ enabled: false, ignorePollAlarmFailure: false, alarms: [] });
  });

  it.each([
    ['terminationWaitMinutes 3000', { terminationWaitMinutes: 3000 }, 'terminationWaitTimeInMinutes must be from 0 to 2880 (got 3000)'],
    ['terminationWaitMinutes -1', { terminationWaitMinutes: -1 }, 'terminationWaitTimeInMinutes must be from 0 to 2880 (got -1)'],
    ['deploymentReadyWaitMinutes 2881', { deploymentReadyWaitMinutes: 2881 }, 'waitTimeInMinutes must be from 0 to 2880 (got 2881)'],
    ['11 alarms', { alarmNames: Array.from({ length: 11 }, (_, i) => `alarm-${i}`) }, 'at most 10 alarms are allowed (got 11)'],
    ['a 256-character alarm name', { alarmNames: ['a'.repeat(256)] }, 'alarm names must be at most 255 characters'],
    ['a 101-character group name', { deploymentGroupName: 'g'.repeat(101) }, 'deploymentGroupName must be 1 to 100 characters'],
  ])('when the properties hold %s, then the request is refused before any call, naming the API limit', (_case, override, expected) => {
    // Arrange: typed properties that skipped parseProperties, as a construct bug would produce.
    const props: FleetProperties = { ...properties(), ...override };

    // Act
    const error = thrownBy(() => buildDeploymentGroupRequest(props));

    // Assert
    expect(error).toBeInstanceOf(FleetError);
    expect(error.message).toContain(expected);
  });

  it('when the boundary values 0 and 2880 are used, then the request is within the limits', () => {
    // Arrange
    const low: FleetProperties = { ...properties(), terminationWaitMinutes: 0, deploymentReadyWaitMinutes: 0 };
    const high: FleetProperties = { ...properties(), terminationWaitMinutes: 2880, deploymentReadyWaitMinutes: 2880 };

    // Act
    const problems = [buildDeploymentGroupRequest(low), buildDeploymentGroupRequest(high)].flatMap(deploymentGroupRequestProblems);

    // Assert
    expect(problems).toEqual([]);
  });

  it('when COPY_AUTO_SCALING_GROUP is given two groups, then the request is refused (CodeDeploy copies exactly one)', () => {
    // Arrange
    const props = properties();

    // Act
    const error = thrownBy(() => buildDeploymentGroupRequest(props, [FLEET, COPY]));

    // Assert
    expect(error.message).toContain('COPY_AUTO_SCALING_GROUP needs exactly one Auto Scaling group (got 2)');
  });
});

describe('deploymentGroupRequestProblems', () => {
  it('when STOP_DEPLOYMENT has no wait time, then that is a problem', () => {
    // Arrange
    const request: UpdateDeploymentGroupCommandInput = {
      applicationName: APP,
      currentDeploymentGroupName: DG,
      blueGreenDeploymentConfiguration: { deploymentReadyOption: { actionOnTimeout: 'STOP_DEPLOYMENT' } },
    };

    // Act
    const problems = deploymentGroupRequestProblems(request);

    // Assert
    expect(problems).toEqual(['STOP_DEPLOYMENT needs a waitTimeInMinutes']);
  });
});

describe('buildUpdateDeploymentGroupRequest', () => {
  it('when built for the group CodeDeploy made, then it names the current group and keeps that Auto Scaling group', () => {
    // Arrange
    const props = properties();

    // Act
    const request = buildUpdateDeploymentGroupRequest(props, [COPY]);

    // Assert
    const { deploymentGroupName: _name, ...settings } = expectedDeploymentGroup([COPY]);
    const expected: UpdateDeploymentGroupCommandInput = { ...settings, currentDeploymentGroupName: DG };
    expect(request).toEqual(expected);
    expect(request).not.toHaveProperty('newDeploymentGroupName');
  });
});

describe('Auto Scaling group requests', () => {
  it('when the first group is built, then it uses the launch template, the subnets, the target group, ELB health checks and the propagated fleet tag', () => {
    // Arrange
    const props = properties();

    // Act
    const request = buildCreateAutoScalingGroupRequest(props);

    // Assert
    const expected: CreateAutoScalingGroupCommandInput = {
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
    expect(request).toEqual(expected);
  });

  it('when an update is built for a copied group, then it carries capacity, launch template and placement for that group', () => {
    // Arrange
    const props = properties({ LaunchTemplateVersion: '7', HealthCheckType: 'EC2' });

    // Act
    const request = buildUpdateAutoScalingGroupRequest(props, COPY);

    // Assert
    const expected: UpdateAutoScalingGroupCommandInput = {
      AutoScalingGroupName: COPY,
      LaunchTemplate: { LaunchTemplateId: LT_ID, Version: '7' },
      MinSize: 2,
      DesiredCapacity: 2,
      MaxSize: 4,
      VPCZoneIdentifier: 'subnet-0aaa1111,subnet-0bbb2222',
      HealthCheckType: 'EC2',
      HealthCheckGracePeriod: 300,
    };
    expect(request).toEqual(expected);
  });
});
