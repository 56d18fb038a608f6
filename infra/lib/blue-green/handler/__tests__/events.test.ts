/**
 * CloudFormation's event sequences for one fleet resource, through the
 * handler's public onEvent/isComplete with the Provider framework's semantics
 * (model/cloudformation.ts), each once as delivered once and once with every
 * event delivered again.
 */
import { APP, DG, FLEET } from './fixtures';
import { quietConsole } from './mocks';
import { FAULTS } from './model/aws-model';
import { CREATE_FAILED_MARKER } from './model/cloudformation';
import { createWorld, fleetGroups, fleetProps, servingGroups, type World } from './model/world';

let world: World;

beforeEach(() => {
  quietConsole();
});

afterEach(() => {
  world.restore();
  jest.restoreAllMocks();
});

const RENAMED = { DeploymentGroupName: 'conveyor-prod-b', FleetName: 'conveyor-prod-b-fleet' };

describe.each([
  ['delivered once', false],
  ['every event delivered twice', true],
])('CloudFormation event sequences (%s)', (_label, retryEvents) => {
  beforeEach(() => {
    world = createWorld({ retryEvents });
  });

  it('when the stack is created, then the fleet serves from its first group', async () => {
    // Act
    const status = await world.stack.deploy({ Fleet: fleetProps() });

    // Assert
    expect(status).toBe('CREATE_COMPLETE');
    expect(servingGroups(world.model)?.map((g) => g.name)).toEqual([FLEET]);
  });

  it('when the stack is updated, then the live group has the new capacity', async () => {
    // Arrange
    await world.stack.deploy({ Fleet: fleetProps() });

    // Act
    const status = await world.stack.deploy({ Fleet: fleetProps({ DesiredCapacity: '4', LaunchTemplateVersion: '9' }) });

    // Assert
    expect(status).toBe('UPDATE_COMPLETE');
    expect(servingGroups(world.model)?.map((g) => [g.desired, g.launchTemplate.version])).toEqual([[4, '9']]);
  });

  it('when an update rolls back, then the old properties come back as an Update and the live group has the old capacity again', async () => {
    // Arrange
    await world.stack.deploy({ Fleet: fleetProps() });

    // Act
    const status = await world.stack.deploy({ Fleet: fleetProps({ DesiredCapacity: '4', LaunchTemplateVersion: '9' }) }, { failAfter: true });

    // Assert
    expect(status).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(world.stack.events.slice(-2).map((e) => [e.requestType, e.ok])).toEqual([
      ['Update', true],
      ['Update', true],
    ]);
    expect(servingGroups(world.model)?.map((g) => [g.desired, g.launchTemplate.version])).toEqual([[2, '3']]);
  });

  it('when the construct is replaced with new names, then the new fleet is created before the old one is deleted', async () => {
    // Arrange
    await world.stack.deploy({ FleetA: fleetProps() });

    // Act
    const status = await world.stack.deploy({ FleetB: fleetProps(RENAMED) });

    // Assert
    expect(status).toBe('UPDATE_COMPLETE');
    expect(world.stack.events.slice(-2).map((e) => [e.requestType, e.logicalId])).toEqual([
      ['Create', 'FleetB'],
      ['Delete', 'FleetA'],
    ]);
    expect(servingGroups(world.model, APP, RENAMED.DeploymentGroupName)?.map((g) => g.name)).toEqual([RENAMED.FleetName]);
    expect(servingGroups(world.model)).toBeUndefined();
    expect(fleetGroups(world.model)).toEqual([]);
  });

  it('when a replacement rolls back, then the new fleet is deleted and the old one keeps serving', async () => {
    // Arrange
    await world.stack.deploy({ FleetA: fleetProps() });

    // Act
    const status = await world.stack.deploy({ FleetB: fleetProps(RENAMED) }, { failAfter: true });

    // Assert
    expect(status).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(world.stack.events.slice(-2).map((e) => [e.requestType, e.logicalId, e.ok])).toEqual([
      ['Create', 'FleetB', true],
      ['Delete', 'FleetB', true],
    ]);
    expect(servingGroups(world.model)?.map((g) => g.name)).toEqual([FLEET]);
    expect(world.model.deploymentGroups.has(`${APP}/${RENAMED.DeploymentGroupName}`)).toBe(false);
    expect(fleetGroups(world.model, RENAMED.FleetName)).toEqual([]);
  });

  it("when a Create fails, then the framework answers CloudFormation's Delete itself and no group of the attempt is left", async () => {
    // Arrange
    world.model.inject(FAULTS.accessDenied('CreateDeploymentGroup', 1));

    // Act
    const status = await world.stack.deploy({ Fleet: fleetProps() });

    // Assert
    expect(status).toBe('ROLLBACK_COMPLETE');
    expect(world.stack.events.map((e) => [e.requestType, e.ok, e.handled])).toEqual([
      ['Create', false, true],
      ['Delete', true, false],
    ]);
    expect(world.model.liveGroup(FLEET)).toBeUndefined();
  });

  it('when the stack is created again after a failed create, then cdk deploy deletes the failed stack first and the new one serves', async () => {
    // Arrange
    world.model.inject(FAULTS.accessDenied('CreateDeploymentGroup', 1));
    await world.stack.deploy({ Fleet: fleetProps() });

    // Act
    const status = await world.stack.deploy({ Fleet: fleetProps() });

    // Assert
    expect(status).toBe('CREATE_COMPLETE');
    expect(world.stack.resources.get('Fleet')?.physicalId).not.toBe(CREATE_FAILED_MARKER);
    expect(servingGroups(world.model)?.map((g) => g.name)).toEqual([FLEET]);
  });

  it('when the stack is deleted after deployments, then no group and no deployment group of the fleet is left', async () => {
    // Arrange
    const { model, stack } = world;
    await stack.deploy({ Fleet: fleetProps() });
    const first = model.startDeployment(APP, DG)!;
    model.finishDeployment(first, 'succeeded');
    model.startDeployment(APP, DG);

    // Act
    const status = await stack.destroy();

    // Assert
    expect(status).toBe('DELETE_COMPLETE');
    expect([...model.groups.keys()]).toEqual([]);
    expect(model.deploymentGroups.size).toBe(0);
  });
});
