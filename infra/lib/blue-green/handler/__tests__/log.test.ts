/**
 * The handler's log lines as Lambda's JSON log format records them: each
 * console call must be one plain object, so that it stays an object under
 * `message` instead of being flattened into text.
 */
import { format } from 'node:util';

import { APP, DG, FLEET } from './fixtures';
import { FAULTS } from './model/aws-model';
import { createWorld, fleetProps, type World } from './model/world';

/**
 * What Lambda writes for one console call with `loggingFormat: JSON`
 * (aws-lambda-nodejs-runtime-interface-client, src/LogPatch.js,
 * formatJsonMessage): a single argument is kept as `message`; two or more are
 * formatted into one string.
 */
function asLambdaWritesIt(level: 'INFO' | 'ERROR', args: unknown[]): { level: string; message: unknown } {
  const message = args.length === 1 ? args[0] : format(...args);
  return JSON.parse(JSON.stringify({ timestamp: '2026-12-05T00:00:00.000Z', level, requestId: 'lambda-request', message })) as { level: string; message: unknown };
}

type Line = { level: string; message: Record<string, unknown> };

let world: World;
let lines: () => Line[];

beforeEach(() => {
  world = createWorld();
  const info = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  lines = () => {
    const written = [
      ...info.mock.calls.map((args, i) => ({ order: info.mock.invocationCallOrder[i]!, line: asLambdaWritesIt('INFO', args) })),
      ...error.mock.calls.map((args, i) => ({ order: error.mock.invocationCallOrder[i]!, line: asLambdaWritesIt('ERROR', args) })),
    ];
    return written.sort((a, b) => a.order - b.order).map(({ line }) => line as Line);
  };
});

afterEach(() => {
  world.restore();
  jest.restoreAllMocks();
});

describe("the handler's log lines", () => {
  it('when a fleet is created (with a throttled call), updated and deleted, then every line is an object naming its action, the request and the resource', async () => {
    // Arrange
    world.model.inject(FAULTS.throttling('CreateAutoScalingGroup', 1));

    // Act
    await world.stack.deploy({ Fleet: fleetProps() });
    await world.stack.deploy({ Fleet: fleetProps({ MaxSize: '6' }) });
    await world.stack.destroy();

    // Assert
    const written = lines();
    expect(written.length).toBeGreaterThan(10);
    for (const { message } of written) {
      expect(typeof message.action).toBe('string');
      expect(message).toMatchObject({ logicalResourceId: 'Fleet', deploymentGroup: `${APP}/${DG}` });
      expect(['Create', 'Update', 'Delete']).toContain(message.requestType);
      expect(typeof message.cloudFormationRequestId).toBe('string');
    }
    const withoutPhysicalId = written.filter(({ message }) => message.requestType !== 'Create' && typeof message.physicalResourceId !== 'string');
    expect(withoutPhysicalId).toEqual([]);
    const actions = new Set(written.map(({ message }) => message.action));
    for (const action of ['Create', 'Update', 'Delete', 'CreateAutoScalingGroup', 'DeleteDeploymentGroup']) expect(actions).toContain(action);
    const retry = written.find(({ message }) => message.action === 'Retry')?.message;
    expect(retry).toMatchObject({ operation: 'CreateAutoScalingGroup', error: 'Throttling', attempt: 1 });
    expect(typeof retry?.waitMs).toBe('number');
  });

  it('when a call fails, then one ERROR line names the failure and the AWS error with its request id, without a stack', async () => {
    // Arrange
    world.model.inject(FAULTS.accessDenied('CreateAutoScalingGroup', 1));

    // Act
    await world.stack.deploy({ Fleet: fleetProps() });

    // Assert
    const errors = lines().filter(({ level }) => level === 'ERROR');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatchObject({
      action: 'Failed',
      requestType: 'Create',
      deploymentGroup: `${APP}/${DG}`,
      error: { name: 'FleetError' },
      cause: { name: 'AccessDenied', requestId: 'model-as' },
    });
    expect((errors[0]!.message.error as { message: string }).message).toContain(`CreateAutoScalingGroup failed: ${FLEET}: AccessDenied`);
    expect(JSON.stringify(errors[0])).not.toMatch(/stack|\bat .*\.ts:\d+/i);
  });
});
