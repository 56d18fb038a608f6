/**
 * The ways the fleet resource broke on a real account, each replayed against
 * the stateful model through CloudFormation's event sequence.
 */
import { APP, DG, FLEET } from './fixtures';
import { quietConsole } from './mocks';
import { FAULTS } from './model/aws-model';
import { createWorld, fleetGroups, fleetProps, servingGroups, type World } from './model/world';

let world: World;

beforeEach(() => {
  quietConsole();
  world = createWorld();
});

afterEach(() => {
  world.restore();
  jest.restoreAllMocks();
});

describe('a renamed or moved construct (new logical id, same names)', () => {
  it('when CloudFormation creates the new resource and deletes the old one, then production keeps its deployment group and fleet', async () => {
    // Arrange
    const { model, stack } = world;
    await stack.deploy({ FleetA: fleetProps() });
    model.finishDeployment(model.startDeployment(APP, DG)!, 'succeeded');

    // Act
    const status = await stack.deploy({ FleetB: fleetProps() });

    // Assert
    const serving = servingGroups(model);
    expect(serving).toHaveLength(1);
    expect(model.deletedGroups.filter((d) => d.by === 'api')).toEqual([]);
    expect(status).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(stack.failureReasons().join('\n')).toMatch(/another DeploymentGroupName/);
  });

  it('when the new resource gets new names, then the new fleet is created first and the old one deleted after', async () => {
    // Arrange
    const { model, stack } = world;
    await stack.deploy({ FleetA: fleetProps() });

    // Act
    const status = await stack.deploy({ FleetB: fleetProps({ DeploymentGroupName: 'renamed', FleetName: 'renamed-fleet' }) });

    // Assert
    expect(status).toBe('UPDATE_COMPLETE');
    expect(servingGroups(model, APP, 'renamed')?.map((g) => g.name)).toEqual(['renamed-fleet']);
    expect(servingGroups(model)).toBeUndefined();
    expect(fleetGroups(model)).toEqual([]);
  });
});

describe('a Create that fails after it made the first group', () => {
  it('when a deployment group of that name exists and targets a group this fleet did not make (switch from in-place), then no group of this attempt is left', async () => {
    // Arrange: the in-place deployment group, deleted by CloudFormation only after the new resource exists.
    const { model, stack } = world;
    model.groups.set('in-place-asg', { ...structuredClone(inPlaceGroup()) });
    (model as unknown as { deploymentGroups: Map<string, unknown> }).deploymentGroups.set(`${APP}/${DG}`, {
      applicationName: APP,
      name: DG,
      settings: {},
      autoScalingGroups: ['in-place-asg'],
      tags: new Map(),
    });

    // Act
    const status = await stack.deploy({ Fleet: fleetProps() });

    // Assert
    expect(status).toBe('ROLLBACK_COMPLETE');
    expect(model.liveGroup(FLEET)).toBeUndefined();
    expect(model.liveGroup('in-place-asg')).toBeDefined();
    expect(stack.failureReasons().join('\n')).toMatch(/already exists/);
  });
});

describe('IAM propagation', () => {
  it('when CodeDeploy cannot assume the new service role for a while, then Create retries with backoff and succeeds', async () => {
    // Arrange
    const { model, stack, sleeps } = world;
    model.inject(FAULTS.invalidRole('CreateDeploymentGroup', 3));
    model.inject(FAULTS.launchTemplateNotAuthorized('CreateAutoScalingGroup', 2));

    // Act
    const status = await stack.deploy({ Fleet: fleetProps() });

    // Assert
    expect(status).toBe('CREATE_COMPLETE');
    expect(servingGroups(model)?.map((g) => g.name)).toEqual([FLEET]);
    expect(sleeps.length).toBeGreaterThanOrEqual(5);
    expect(sleeps[1]).toBeGreaterThan(sleeps[0]!);
  });

  it('when Auto Scaling refuses PassRole and CodeDeploy the role on an Update, then the Update retries and succeeds', async () => {
    // Arrange
    const { model, stack } = world;
    await stack.deploy({ Fleet: fleetProps() });
    model.inject(FAULTS.passRoleNotAuthorized('UpdateAutoScalingGroup', 2));
    model.inject(FAULTS.invalidRole('UpdateDeploymentGroup', 2));

    // Act
    const status = await stack.deploy({ Fleet: fleetProps({ DesiredCapacity: '3' }) });

    // Assert
    expect(status).toBe('UPDATE_COMPLETE');
    expect(model.liveGroup(FLEET)?.desired).toBe(3);
  });

  it('when the role never propagates, then the retries stop within the budget and the reason says what to do', async () => {
    // Arrange
    const { model, stack, sleeps } = world;
    model.inject(FAULTS.invalidRole('CreateDeploymentGroup', 10_000));

    // Act
    const status = await stack.deploy({ Fleet: fleetProps() });

    // Assert
    expect(status).toBe('ROLLBACK_COMPLETE');
    expect(sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(180_000);
    expect(stack.failureReasons()[0]).toMatch(/InvalidRoleException.*retry the deployment/s);
    expect(fleetGroups(model)).toEqual([]);
  });
});

describe('rollbacks', () => {
  it('when the stack updates while a blue/green deployment runs (two groups targeted), then the update and its rollback succeed', async () => {
    // Arrange
    const { model, stack } = world;
    await stack.deploy({ Fleet: fleetProps() });
    const deployment = model.startDeployment(APP, DG)!;

    // Act
    const updated = await stack.deploy({ Fleet: fleetProps({ DesiredCapacity: '3' }) });
    const rolledBack = await stack.deploy({ Fleet: fleetProps({ DesiredCapacity: '4' }) }, { failAfter: true });

    // Assert
    expect(updated).toBe('UPDATE_COMPLETE');
    expect(rolledBack).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect([model.liveGroup(deployment.blue)?.desired, model.liveGroup(deployment.green)?.desired]).toEqual([3, 3]);
  });

  it('when the deployment group was deleted by hand, then an Update recreates it on the live group and its rollback succeeds too', async () => {
    // Arrange
    const { model, stack } = world;
    await stack.deploy({ Fleet: fleetProps() });
    model.deleteDeploymentGroupByHand(APP, DG);

    // Act
    const updated = await stack.deploy({ Fleet: fleetProps({ DesiredCapacity: '3' }) }, { failAfter: true });

    // Assert
    expect(updated).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(servingGroups(model)?.map((g) => [g.name, g.desired])).toEqual([[FLEET, 2]]);
  });
});

function inPlaceGroup() {
  return {
    name: 'in-place-asg',
    launchTemplate: { id: 'lt-0abc', version: '1' },
    min: 1,
    desired: 1,
    max: 2,
    subnets: 'subnet-0aaa1111',
    healthCheckType: 'EC2',
    targetGroups: new Set<string>(),
    tags: new Map<string, { value: string; propagate: boolean }>(),
    notifications: new Map<string, readonly string[]>(),
    deleting: undefined,
    createdAt: 0,
    madeBy: 'api' as const,
  };
}

describe('a Create that fails after its first group exists', () => {
  it('when CreateDeploymentGroup is denied, then the group this attempt made is deleted before the failure is reported', async () => {
    // Arrange
    const { model, stack } = world;
    model.inject(FAULTS.accessDenied('CreateDeploymentGroup', 1));

    // Act
    const status = await stack.deploy({ Fleet: fleetProps() });

    // Assert
    expect(status).toBe('ROLLBACK_COMPLETE');
    expect(model.deletedGroups.map((d) => d.name)).toEqual([FLEET]);
    expect(fleetGroups(model)).toEqual([]);
    expect(stack.failureReasons()[0]).toMatch(/lacks a permission for CreateDeploymentGroup.*was deleted again/s);
  });
});

describe('failure reasons', () => {
  it('when an event fails, then the reason names the log group the handler writes to', async () => {
    // Arrange
    world.restore();
    world = createWorld({ logGroupName: '/fleet/handler-logs' });
    world.model.inject(FAULTS.accessDenied('CreateAutoScalingGroup', 1));

    // Act
    await world.stack.deploy({ Fleet: fleetProps() });

    // Assert
    expect(world.stack.failureReasons()[0]).toMatch(/CloudWatch log group \/fleet\/handler-logs\.$/);
  });
});
