/**
 * Create, Update and Delete against the stateful model of CodeDeploy and Auto
 * Scaling: the handler runs unchanged, and the tests check what the account
 * holds afterwards (and, where order matters, the calls).
 */
import { OWNER_TAG_KEY } from '../ownership';
import { APP, COPY, DG, FLEET, LT_ID, rejectionOf, TAG_KEY, TG_ARN } from './fixtures';
import { quietConsole } from './mocks';
import { autoScalingError, FAULTS, type AwsModel, type ModelGroup } from './model/aws-model';
import { createWorld, fleetGroups, fleetProps, servingGroups, type World } from './model/world';

let world: World;
let consoleSpies: ReturnType<typeof quietConsole>;

beforeEach(() => {
  consoleSpies = quietConsole();
  world = createWorld();
});

afterEach(() => {
  world.restore();
  jest.restoreAllMocks();
});

const OTHER_TG = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/conveyor-prod-v2/fedcba9876543210';
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:conveyor-prod-events';

/** The writes the handler sent, in order (reads left out). */
function writes(model: AwsModel): string[] {
  return model.calls.filter((c) => !/^(Get|Describe|List|BatchGet)/.test(c.operation)).map((c) => c.operation);
}

/** A group as someone else left it in the account. */
function plantGroup(model: AwsModel, name: string, tags: Record<string, string> = {}): ModelGroup {
  const group: ModelGroup = {
    name,
    launchTemplate: { id: 'lt-0fff', version: '1' },
    min: 1,
    desired: 1,
    max: 2,
    subnets: 'subnet-0ccc3333',
    healthCheckType: 'EC2',
    targetGroups: new Set(),
    tags: new Map(Object.entries(tags).map(([key, value]) => [key, { value, propagate: false }])),
    notifications: new Map(),
    deleting: undefined,
    createdAt: 0,
    madeBy: 'api',
  };
  model.groups.set(name, group);
  return group;
}

function plantDeploymentGroup(model: AwsModel, name: string, targets: string[], owner?: string): void {
  model.deploymentGroups.set(`${APP}/${name}`, {
    applicationName: APP,
    name,
    settings: {},
    autoScalingGroups: targets,
    tags: new Map(owner === undefined ? [] : [[OWNER_TAG_KEY, owner]]),
  });
}

function ownerOf(model: AwsModel, name: string): string | undefined {
  return model.groups.get(name)?.tags.get(OWNER_TAG_KEY)?.value;
}

describe('Create', () => {
  it('when the fleet is created, then a group tagged with the fleet and its owner comes first and the blue/green deployment group owned alike second', async () => {
    // Act
    const status = await world.stack.deploy({ Fleet: fleetProps() });

    // Assert
    const { model, stack } = world;
    const physicalId = stack.resources.get('Fleet')!.physicalId;
    expect(status).toBe('CREATE_COMPLETE');
    expect(physicalId).toBe('fleet-stack/6c9a1e40-0f5a-11ef-9a3b-0a1b2c3d4e5f/Fleet');
    expect(writes(model)).toEqual(['CreateAutoScalingGroup', 'CreateDeploymentGroup']);
    expect(model.liveGroup(FLEET)?.tags.get(TAG_KEY)).toEqual({ value: FLEET, propagate: true });
    expect(ownerOf(model, FLEET)).toBe(physicalId);
    expect(model.deploymentGroups.get(`${APP}/${DG}`)?.tags.get(OWNER_TAG_KEY)).toBe(physicalId);
    expect(servingGroups(model)?.map((g) => [g.name, g.launchTemplate, g.desired, [...g.targetGroups]])).toEqual([
      [FLEET, { id: LT_ID, version: '3' }, 2, [TG_ARN]],
    ]);
  });

  it('when a notification topic is given, then the first group reports to it before the deployment group is made', async () => {
    // Act
    await world.stack.deploy({ Fleet: fleetProps({ NotificationTopicArn: TOPIC }) });

    // Assert
    expect(writes(world.model)).toEqual(['CreateAutoScalingGroup', 'PutNotificationConfiguration', 'CreateDeploymentGroup']);
    expect([...world.model.liveGroup(FLEET)!.notifications.keys()]).toEqual([TOPIC]);
  });

  it('when CloudFormation delivers the Create twice, then the second finds its own fleet, brings it to the settings, and nothing is duplicated', async () => {
    // Arrange
    world.restore();
    world = createWorld({ retryEvents: true });

    // Act
    const status = await world.stack.deploy({ Fleet: fleetProps() });

    // Assert
    expect(status).toBe('CREATE_COMPLETE');
    expect([...world.model.groups.keys()]).toEqual([FLEET]);
    expect(world.model.deploymentGroups.size).toBe(1);
    expect(world.model.deletedGroups).toEqual([]);
  });

  it('when the earlier delivery stopped after making the group, then the next one adopts that group (same owner) and completes', async () => {
    // Arrange: the first attempt made the group, then CreateDeploymentGroup kept being throttled past the budget... and its cleanup failed.
    const { model, stack } = world;
    const event = stack.createEvent('Fleet', fleetProps());
    model.inject(FAULTS.accessDenied('CreateDeploymentGroup', 1));
    model.inject(FAULTS.accessDenied('DeleteAutoScalingGroup', 1));
    await rejectionOf(world.handler.onEvent(event));

    // Act
    const result = await world.handler.onEvent(event);

    // Assert
    expect(result.Data.AutoScalingGroupNames).toBe(FLEET);
    expect(servingGroups(model)?.map((g) => g.name)).toEqual([FLEET]);
  });

  it('when an Auto Scaling group of that name exists without this owner, then Create is refused, says what to do, and touches nothing', async () => {
    // Arrange
    const planted = plantGroup(world.model, FLEET, { [TAG_KEY]: FLEET });

    // Act
    const status = await world.stack.deploy({ Fleet: fleetProps() });

    // Assert
    expect(status).toBe('ROLLBACK_COMPLETE');
    expect(world.stack.failureReasons()[0]).toMatch(/CreateAutoScalingGroup refused: conveyor-prod-fleet: .*belongs to no blue\/green fleet resource.*Choose another FleetName/);
    expect(world.model.groups.get(FLEET)).toBe(planted);
    expect(planted.deleting).toBeUndefined();
    expect(writes(world.model)).toEqual(['CreateAutoScalingGroup']);
  });

  it("when this fleet's group is targeted by another deployment group of the application, then Create refuses to share it", async () => {
    // Arrange
    const event = world.stack.createEvent('Fleet', fleetProps());
    const owner = 'fleet-stack/6c9a1e40-0f5a-11ef-9a3b-0a1b2c3d4e5f/Fleet';
    plantGroup(world.model, FLEET, { [OWNER_TAG_KEY]: owner });
    plantDeploymentGroup(world.model, 'conveyor-staging', [FLEET]);

    // Act
    const error = await rejectionOf(world.handler.onEvent(event));

    // Assert
    expect(error.message).toMatch(/deployment group conveyor-staging of application conveyor targets it\. Remove it from that deployment group, or give this fleet another FleetName/);
    expect(world.model.liveGroup(FLEET)).toBeDefined();
  });

  it("when this fleet's leftover group is still being deleted, then Create fails asking to wait", async () => {
    // Arrange
    const event = world.stack.createEvent('Fleet', fleetProps());
    plantGroup(world.model, FLEET, { [OWNER_TAG_KEY]: 'fleet-stack/6c9a1e40-0f5a-11ef-9a3b-0a1b2c3d4e5f/Fleet' }).deleting = 2;

    // Act
    const error = await rejectionOf(world.handler.onEvent(event));

    // Assert
    expect(error.message).toMatch(/still being deleted\. Wait until it is gone .* and retry the deployment/);
  });

  it('when a deployment group of that name exists and belongs to another resource, then Create is refused before anything is made', async () => {
    // Arrange
    plantGroup(world.model, 'their-fleet', { [OWNER_TAG_KEY]: 'other-stack/uuid/Fleet' });
    plantDeploymentGroup(world.model, DG, ['their-fleet'], 'other-stack/uuid/Fleet');

    // Act
    const status = await world.stack.deploy({ Fleet: fleetProps() });

    // Assert
    expect(status).toBe('ROLLBACK_COMPLETE');
    expect(world.stack.failureReasons()[0]).toMatch(/belongs to the fleet resource other-stack\/uuid\/Fleet/);
    expect(writes(world.model)).toEqual([]);
  });

  it('when the repeated Create finds its deployment group targeting a CodeDeploy copy, then it keeps that target', async () => {
    // Arrange
    const { model, stack } = world;
    const event = stack.createEvent('Fleet', fleetProps());
    await world.handler.onEvent(event);
    const deployment = model.startDeployment(APP, DG)!;
    model.finishDeployment(deployment, 'succeeded');

    // Act
    const result = await world.handler.onEvent(event);

    // Assert
    expect(result.Data.AutoScalingGroupNames).toBe(deployment.green);
    expect(servingGroups(model)?.map((g) => g.name)).toEqual([deployment.green]);
  });

  it('when deleting the group after a failed Create fails too, then the reason asks to delete it by hand', async () => {
    // Arrange
    world.model.inject(FAULTS.accessDenied('CreateDeploymentGroup', 1));
    world.model.inject(FAULTS.accessDenied('DeleteAutoScalingGroup', 1));

    // Act
    await world.stack.deploy({ Fleet: fleetProps() });

    // Assert
    expect(world.stack.failureReasons()[0]).toMatch(/failed too .*delete it by hand: CloudFormation sends no Delete for a resource whose Create failed/);
  });

  it('when CreateAutoScalingGroup is denied, then the reason names the group and the permissions to check, and nothing else is written', async () => {
    // Arrange
    world.model.inject(FAULTS.accessDenied('CreateAutoScalingGroup', 1));

    // Act
    await world.stack.deploy({ Fleet: fleetProps() });

    // Assert
    expect(world.stack.failureReasons()[0]).toMatch(
      /^FleetError: CreateAutoScalingGroup failed: conveyor-prod-fleet: AccessDenied: .*lacks a permission for CreateAutoScalingGroup.*ec2:RunInstances/,
    );
    expect(writes(world.model)).toEqual(['CreateAutoScalingGroup']);
  });

  it('when a property is invalid, then Create fails naming it before any AWS call', async () => {
    // Act
    await world.stack.deploy({ Fleet: fleetProps({ MinSize: 'two' }) });

    // Assert
    expect(world.stack.failureReasons()[0]).toMatch(/MinSize/);
    expect(world.model.calls).toEqual([]);
  });

  it('when the fleet is created, then CloudWatch shows each call with its names in order', async () => {
    // Act
    await world.stack.deploy({ Fleet: fleetProps() });

    // Assert
    const actions = consoleSpies.log.mock.calls.map(([line]) => (line as { action: string }).action);
    expect(actions.filter((action) => /^(Create|Get|List)/.test(action))).toEqual([
      'Create',
      'GetDeploymentGroup',
      'CreateAutoScalingGroup',
      'CreateDeploymentGroup',
    ]);
  });
});

describe('Update', () => {
  beforeEach(async () => {
    await world.stack.deploy({ Fleet: fleetProps({ NotificationTopicArn: TOPIC }) });
  });

  it('when nothing was deployed yet, then the deployment group and the first group get the new settings', async () => {
    // Act
    const status = await world.stack.deploy({
      Fleet: fleetProps({ NotificationTopicArn: TOPIC, DesiredCapacity: '3', MaxSize: '6', TerminationWaitMinutes: '30' }),
    });

    // Assert
    expect(status).toBe('UPDATE_COMPLETE');
    expect([world.model.liveGroup(FLEET)?.desired, world.model.liveGroup(FLEET)?.max]).toEqual([3, 6]);
    expect(world.model.deploymentGroups.get(`${APP}/${DG}`)?.settings.blueGreenDeploymentConfiguration).toMatchObject({
      terminateBlueInstancesOnDeploymentSuccess: { terminationWaitTimeInMinutes: 30 },
    });
  });

  it('when CodeDeploy has replaced the group, then capacity and launch template go to its copy', async () => {
    // Arrange
    const { model, stack } = world;
    const deployment = model.startDeployment(APP, DG)!;
    model.finishDeployment(deployment, 'succeeded');
    model.endTerminationWait(deployment, false);
    model.advance(3);

    // Act
    const status = await stack.deploy({ Fleet: fleetProps({ NotificationTopicArn: TOPIC, MinSize: '3', DesiredCapacity: '3', MaxSize: '5', LaunchTemplateVersion: '4' }) });

    // Assert
    expect(status).toBe('UPDATE_COMPLETE');
    const copy = model.liveGroup(deployment.green)!;
    expect([copy.min, copy.desired, copy.max, copy.launchTemplate.version]).toEqual([3, 3, 5, '4']);
    expect(model.groups.has(FLEET)).toBe(false);
    expect(ownerOf(model, deployment.green)).toBe(stack.resources.get('Fleet')!.physicalId);
  });

  it('when the target group is replaced, then each current group is attached to the new one before leaving the old one', async () => {
    // Act
    await world.stack.deploy({ Fleet: fleetProps({ NotificationTopicArn: TOPIC, TargetGroupArn: OTHER_TG }) });

    // Assert
    expect([...world.model.liveGroup(FLEET)!.targetGroups]).toEqual([OTHER_TG]);
    const order = writes(world.model);
    expect(order.indexOf('AttachLoadBalancerTargetGroups')).toBeLessThan(order.indexOf('DetachLoadBalancerTargetGroups'));
  });

  it('when the fleet tag key changes, then the current groups get the new tag and lose the old one', async () => {
    // Act
    await world.stack.deploy({ Fleet: fleetProps({ NotificationTopicArn: TOPIC, FleetTagKey: 'conveyor:fleet-v2' }) });

    // Assert
    const tags = world.model.liveGroup(FLEET)!.tags;
    expect([tags.has(TAG_KEY), tags.get('conveyor:fleet-v2')?.value]).toEqual([false, FLEET]);
  });

  it('when the notification topic changes, then the current groups report to the new topic and stop reporting to the old one', async () => {
    // Arrange
    const topic2 = `${TOPIC}-v2`;

    // Act
    await world.stack.deploy({ Fleet: fleetProps({ NotificationTopicArn: topic2 }) });

    // Assert
    expect([...world.model.liveGroup(FLEET)!.notifications.keys()]).toEqual([topic2]);
  });

  it('when the deployment group name changes, then the update is refused, says how to rename, and its rollback succeeds', async () => {
    // Act
    const status = await world.stack.deploy({ Fleet: fleetProps({ NotificationTopicArn: TOPIC, DeploymentGroupName: 'conveyor-prod-v2' }) });

    // Assert
    expect(status).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(world.stack.failureReasons()[0]).toMatch(/Update refused: this resource manages deployment group conveyor\/conveyor-prod,.*put the old names back/);
    expect(world.model.deploymentGroups.has(`${APP}/conveyor-prod-v2`)).toBe(false);
    expect(servingGroups(world.model)?.map((g) => g.name)).toEqual([FLEET]);
  });

  it('when attaching the new target group is denied, then the update fails naming the call and the permission, still in the old one', async () => {
    // Arrange
    world.model.inject(FAULTS.accessDenied('AttachLoadBalancerTargetGroups', 1));

    // Act
    const status = await world.stack.deploy({ Fleet: fleetProps({ NotificationTopicArn: TOPIC, TargetGroupArn: OTHER_TG }) });

    // Assert
    expect(status).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(world.stack.failureReasons()[0]).toMatch(/AttachLoadBalancerTargetGroups failed: conveyor-prod-fleet: AccessDenied: .*autoscaling:AttachLoadBalancerTargetGroups/);
    expect([...world.model.liveGroup(FLEET)!.targetGroups]).toEqual([TG_ARN]);
  });

  it('when the calls are throttled, then they are retried and the update completes', async () => {
    // Arrange
    world.model.inject(FAULTS.throttling(/./, 4));

    // Act
    const status = await world.stack.deploy({ Fleet: fleetProps({ NotificationTopicArn: TOPIC, DesiredCapacity: '4' }) });

    // Assert
    expect(status).toBe('UPDATE_COMPLETE');
    expect(world.model.liveGroup(FLEET)?.desired).toBe(4);
  });
});

describe('Delete', () => {
  it('when the stack is deleted, then the deployment group goes first, then the group, and the delete waits until it is gone', async () => {
    // Arrange
    await world.stack.deploy({ Fleet: fleetProps() });

    // Act
    const status = await world.stack.destroy();

    // Assert
    expect(status).toBe('DELETE_COMPLETE');
    expect(writes(world.model).slice(-2)).toEqual(['DeleteDeploymentGroup', 'DeleteAutoScalingGroup']);
    expect(world.model.groups.size).toBe(0);
    expect(world.model.deploymentGroups.size).toBe(0);
  });

  it("when a copy stands beside the original, then both go, and other fleets and other deployment groups' copies stay", async () => {
    // Arrange
    const { model, stack } = world;
    await stack.deploy({ Fleet: fleetProps() });
    const deployment = model.startDeployment(APP, DG)!;
    plantGroup(model, 'conveyor-staging-fleet', { [TAG_KEY]: 'conveyor-staging-fleet' });
    plantGroup(model, 'CodeDeploy_conveyor-staging_d-XYZ987654');

    // Act
    await stack.destroy();

    // Assert
    expect(model.deletedGroups.map((d) => d.name).sort()).toEqual([deployment.green, FLEET].sort());
    expect([...model.groups.keys()].sort()).toEqual(['CodeDeploy_conveyor-staging_d-XYZ987654', 'conveyor-staging-fleet']);
  });

  it('when CodeDeploy does not copy tags and an earlier copy is no longer targeted, then it is found by its name and deleted', async () => {
    // Arrange
    world.restore();
    world = createWorld({ copiesTags: false });
    const { model, stack } = world;
    await stack.deploy({ Fleet: fleetProps() });
    const first = model.startDeployment(APP, DG)!;
    model.finishDeployment(first, 'succeeded');

    // Act
    const status = await stack.destroy();

    // Assert
    expect(status).toBe('DELETE_COMPLETE');
    expect(model.groups.size).toBe(0);
  });

  it('when everything is already gone, then Delete succeeds without deleting anything', async () => {
    // Arrange
    const event = world.stack.deleteEvent('Fleet', { physicalId: 'fleet-stack/6c9a1e40-0f5a-11ef-9a3b-0a1b2c3d4e5f/Fleet', props: fleetProps() });

    // Act
    const result = await world.handler.onEvent(event);

    // Assert
    expect(result.Data.AutoScalingGroupNames).toBe('');
    expect(writes(world.model)).toEqual([]);
  });

  it('when a group is already being deleted, then it is not deleted again but still reported, so isComplete waits for it', async () => {
    // Arrange
    await world.stack.deploy({ Fleet: fleetProps() });
    world.model.groups.get(FLEET)!.deleting = 2;
    const deployed = world.stack.resources.get('Fleet')!;

    // Act
    const result = await world.handler.onEvent(world.stack.deleteEvent('Fleet', deployed));

    // Assert
    expect(result.Data.AutoScalingGroupNames).toBe(FLEET);
    expect(writes(world.model)).not.toContain('DeleteAutoScalingGroup');
  });

  it('when another resource owns the deployment group and groups of these names, then Delete leaves all of them alone', async () => {
    // Arrange
    plantGroup(world.model, FLEET, { [OWNER_TAG_KEY]: 'other-stack/uuid/Fleet', [TAG_KEY]: FLEET });
    plantGroup(world.model, COPY, { [OWNER_TAG_KEY]: 'other-stack/uuid/Fleet' });
    plantDeploymentGroup(world.model, DG, [COPY], 'other-stack/uuid/Fleet');

    // Act
    await world.handler.onEvent(world.stack.deleteEvent('Fleet', { physicalId: 'fleet-stack/uuid-2/Fleet', props: fleetProps() }));

    // Assert
    expect(writes(world.model)).toEqual([]);
    expect(world.model.groups.size).toBe(2);
  });

  it('when another deployment group of the application targets a group carrying this owner, then that group is kept', async () => {
    // Arrange
    await world.stack.deploy({ Fleet: fleetProps() });
    plantDeploymentGroup(world.model, 'conveyor-staging', [FLEET]);

    // Act
    await world.stack.destroy();

    // Assert
    expect(world.model.liveGroup(FLEET)).toBeDefined();
  });

  it('when the account has more groups than one page, then every page is read', async () => {
    // Arrange
    await world.stack.deploy({ Fleet: fleetProps() });
    for (const n of [1, 2, 3, 4, 5, 6, 7]) plantGroup(world.model, `aaa-${n}`);

    // Act
    await world.stack.destroy();

    // Assert
    expect(world.model.groups.has(FLEET)).toBe(false);
    expect(world.model.calls.filter((c) => c.operation === 'DescribeAutoScalingGroups' && c.input.NextToken !== undefined).length).toBeGreaterThan(0);
  });

  it('when a scaling activity blocks the deletion for a while, then it is retried with growing waits', async () => {
    // Arrange
    await world.stack.deploy({ Fleet: fleetProps() });
    world.model.inject({ operation: 'DeleteAutoScalingGroup', remaining: 2, error: () => autoScalingError('ScalingActivityInProgressFault', 'busy') });

    // Act
    const status = await world.stack.destroy();

    // Assert
    expect(status).toBe('DELETE_COMPLETE');
    expect(world.sleeps).toEqual([5_000, 10_000]);
  });

  it('when a scaling activity keeps blocking the deletion, then Delete fails after five attempts saying what to wait for', async () => {
    // Arrange
    await world.stack.deploy({ Fleet: fleetProps() });
    world.model.inject({ operation: 'DeleteAutoScalingGroup', remaining: 99, error: () => autoScalingError('ScalingActivityInProgressFault', 'busy') });

    // Act
    const status = await world.stack.destroy();

    // Assert
    expect(status).toBe('DELETE_FAILED');
    expect(world.stack.failureReasons()[0]).toMatch(/after 5 attempts; wait for it to finish .* and retry the stack deletion/);
  });

  it("when the Delete properties would fail today's validation, then the fleet is still deleted", async () => {
    // Arrange
    await world.stack.deploy({ Fleet: fleetProps() });
    const deployed = world.stack.resources.get('Fleet')!;

    // Act
    await world.handler.onEvent(world.stack.deleteEvent('Fleet', { ...deployed, props: { ...deployed.props, TerminationWaitMinutes: '99999' } }));

    // Assert
    expect(world.model.deletedGroups.map((d) => d.name)).toEqual([FLEET]);
    expect(fleetGroups(world.model)).toEqual([]);
  });
});
