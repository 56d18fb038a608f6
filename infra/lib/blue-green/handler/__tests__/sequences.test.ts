/**
 * Property-based runs: random interleavings of stack operations, CodeDeploy
 * deployments, scale changes and injected faults against the model, with the
 * fleet's invariants checked after every step.
 */
import fc from 'fast-check';

import { OWNER_TAG_KEY } from '../ownership';
import { APP, DG, FLEET, TAG_KEY } from './fixtures';
import { FAULTS, type AwsModel, type Fault, type ModelCall, type ModelDeployment } from './model/aws-model';
import type { CloudFormationStack, Props, StackStatus } from './model/cloudformation';
import { createWorld, fleetProps, type World } from './model/world';

/** A fleet of another stack in the same account and application: nothing may ever delete it. */
const FOREIGN_OWNER = 'other-stack/00000000-aaaa-bbbb-cccc-000000000000/Fleet';
const FOREIGN_DG = 'conveyor-other';
const FOREIGN_GROUP = 'conveyor-other-fleet';

type Shape = { readonly min: number; readonly desired: number; readonly max: number; readonly version: number };
type Names = 'original' | 'renamed';

type Op =
  | { kind: 'deploy'; logicalId: 'FleetA' | 'FleetB'; names: Names; shape: Shape; failAfter: boolean }
  | { kind: 'destroy' }
  | { kind: 'start-deployment' }
  | { kind: 'finish-deployment'; outcome: 'succeeded' | 'failed' }
  | { kind: 'end-wait'; alarm: boolean }
  | { kind: 'scale'; desired: number }
  | { kind: 'fault'; fault: 'iam-create-dg' | 'iam-update-dg' | 'iam-create-asg' | 'iam-update-asg' | 'throttle' | 'denied'; times: number; operation: string }
  | { kind: 'advance'; steps: number };

const shape: fc.Arbitrary<Shape> = fc
  .tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 9 }))
  .map(([min, extra, spread, version]) => ({ min, desired: min + Math.min(extra, spread), max: min + spread, version }));

const WRITES = ['CreateAutoScalingGroup', 'UpdateAutoScalingGroup', 'CreateDeploymentGroup', 'UpdateDeploymentGroup', 'DeleteAutoScalingGroup', 'DeleteDeploymentGroup', 'CreateOrUpdateTags'];

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('deploy' as const), logicalId: fc.constantFrom('FleetA' as const, 'FleetB' as const), names: fc.constantFrom<Names>('original', 'renamed'), shape, failAfter: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'destroy' as const }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'start-deployment' as const }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('finish-deployment' as const), outcome: fc.constantFrom('succeeded' as const, 'failed' as const) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('end-wait' as const), alarm: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('scale' as const), desired: fc.integer({ min: 0, max: 6 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('fault' as const),
      fault: fc.constantFrom('iam-create-dg' as const, 'iam-update-dg' as const, 'iam-create-asg' as const, 'iam-update-asg' as const, 'throttle' as const, 'denied' as const),
      times: fc.integer({ min: 1, max: 4 }),
      operation: fc.constantFrom(...WRITES, 'DescribeAutoScalingGroups', 'GetDeploymentGroup'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const), steps: fc.integer({ min: 1, max: 3 }) }) },
);

function propsFor(names: Names, s: Shape): Props {
  const renamed = names === 'renamed' ? { DeploymentGroupName: `${DG}-b`, FleetName: `${FLEET}-b` } : {};
  return fleetProps({ ...renamed, MinSize: String(s.min), DesiredCapacity: String(s.desired), MaxSize: String(s.max), LaunchTemplateVersion: String(s.version) });
}

function faultFor(o: Extract<Op, { kind: 'fault' }>): Fault {
  switch (o.fault) {
    case 'iam-create-dg':
      return FAULTS.invalidRole('CreateDeploymentGroup', o.times);
    case 'iam-update-dg':
      return FAULTS.invalidRole('UpdateDeploymentGroup', o.times);
    case 'iam-create-asg':
      return FAULTS.launchTemplateNotAuthorized('CreateAutoScalingGroup', o.times);
    case 'iam-update-asg':
      return FAULTS.passRoleNotAuthorized('UpdateAutoScalingGroup', o.times);
    case 'throttle':
      return FAULTS.throttling(o.operation, o.times);
    case 'denied':
      // One call: an access denial is not retried, so it fails exactly one event.
      return FAULTS.accessDenied(o.operation, 1);
  }
}

/** Words a failure reason must use to say what to do. */
const ACTION = /\b(retry|deploy again|delete|choose|give|wait|check|fix|keep|put the old names back|remove)\b/i;

interface Run {
  readonly world: World;
  readonly stack: CloudFormationStack;
  readonly model: AwsModel;
  readonly deployments: ModelDeployment[];
  template: Record<string, Props>;
}

function startRun(copiesTags: boolean, retryEvents: boolean): Run {
  const world = createWorld({ copiesTags, retryEvents });
  const { model, stack } = world;
  model.groups.set(FOREIGN_GROUP, {
    name: FOREIGN_GROUP,
    launchTemplate: { id: 'lt-0fff', version: '1' },
    min: 1,
    desired: 1,
    max: 2,
    subnets: 'subnet-0ccc3333',
    healthCheckType: 'EC2',
    targetGroups: new Set(),
    tags: new Map([
      [OWNER_TAG_KEY, { value: FOREIGN_OWNER, propagate: false }],
      [TAG_KEY, { value: FOREIGN_GROUP, propagate: true }],
    ]),
    notifications: new Map(),
    deleting: undefined,
    createdAt: 0,
    madeBy: 'api',
  });
  model.deploymentGroups.set(`${APP}/${FOREIGN_DG}`, {
    applicationName: APP,
    name: FOREIGN_DG,
    settings: {},
    autoScalingGroups: [FOREIGN_GROUP],
    tags: new Map([[OWNER_TAG_KEY, FOREIGN_OWNER]]),
  });
  return { world, stack, model, deployments: [], template: {} };
}

function currentNames(run: Run): { deploymentGroup: string; fleet: string } | undefined {
  const [deployed] = [...run.stack.resources.values()];
  if (!deployed) return undefined;
  return { deploymentGroup: String(deployed.props.DeploymentGroupName), fleet: String(deployed.props.FleetName) };
}

function activeDeployment(run: Run): ModelDeployment | undefined {
  return run.deployments.find((d) => d.phase !== 'done');
}

async function apply(run: Run, o: Op): Promise<{ status?: StackStatus; appliedShape?: Shape }> {
  const { model, stack } = run;
  switch (o.kind) {
    case 'deploy': {
      const template = { [o.logicalId]: propsFor(o.names, o.shape) };
      const status = await stack.deploy(template, { failAfter: o.failAfter });
      return { status, ...(status === 'CREATE_COMPLETE' || status === 'UPDATE_COMPLETE' ? { appliedShape: o.shape } : {}) };
    }
    case 'destroy':
      return { status: await stack.destroy() };
    case 'start-deployment': {
      const names = currentNames(run);
      const d = names && model.startDeployment(APP, names.deploymentGroup);
      if (d) run.deployments.push(d);
      return {};
    }
    case 'finish-deployment': {
      const d = run.deployments.find((x) => x.phase === 'running');
      if (d) model.finishDeployment(d, o.outcome);
      return {};
    }
    case 'end-wait': {
      const d = run.deployments.find((x) => x.phase === 'waiting');
      if (d) model.endTerminationWait(d, o.alarm);
      return {};
    }
    case 'scale': {
      const names = currentNames(run);
      const dg = names && model.deploymentGroups.get(`${APP}/${names.deploymentGroup}`);
      for (const name of dg?.autoScalingGroups ?? []) model.scale(name, o.desired);
      return {};
    }
    case 'fault':
      model.inject(faultFor(o));
      return {};
    case 'advance':
      model.advance(o.steps);
      return {};
  }
}

/**
 * A failed Create whose cleanup was denied leaves its group and says "delete it
 * by hand" (lifecycle.test.ts checks the message). CloudFormation sends the
 * handler no Delete for a resource whose Create failed, so no later event can
 * remove it either.
 */
const deniedCleanup = (calls: readonly ModelCall[]): boolean => calls.some((c) => c.operation === 'DeleteAutoScalingGroup' && c.error !== undefined);

/**
 * Whether an event failed on an access denial. What it could not delete stays,
 * and its reason says what to delete (every reason is checked for an action):
 * a Delete that fails in an update's cleanup is not retried or rolled back by
 * CloudFormation, and no Delete follows a failed Create.
 */
function leftForAPerson(run: Run): boolean {
  return run.world.handled.some((event) => !event.ok && run.model.calls.slice(event.from, event.to).some((c) => c.error !== undefined && /AccessDenied/.test(c.error)));
}

/** The invariants, checked after every step; `checkedReasons` counts reasons already checked. */
function checkInvariants(run: Run, o: Op, outcome: { status?: StackStatus; appliedShape?: Shape }, checkedReasons: { count: number }): void {
  const { model, stack } = run;

  // Nothing another resource owns is ever deleted; the handler deletes only what the running event's resource owns.
  expect(model.liveGroup(FOREIGN_GROUP)).toBeDefined();
  expect(model.deploymentGroups.has(`${APP}/${FOREIGN_DG}`)).toBe(true);
  for (const deleted of model.deletedGroups.filter((d) => d.by === 'api')) {
    expect({ group: deleted.name, owner: deleted.tags.get(OWNER_TAG_KEY) }).toEqual({ group: deleted.name, owner: deleted.context });
  }
  for (const deleted of model.deletedDeploymentGroups) {
    expect({ dg: deleted.name, owner: deleted.tags.get(OWNER_TAG_KEY) }).toEqual({ dg: deleted.name, owner: deleted.context });
  }

  // Every failure message names the action to take.
  const reasons = stack.failureReasons();
  for (const reason of reasons.slice(checkedReasons.count)) expect(reason).toMatch(ACTION);
  checkedReasons.count = reasons.length;

  // No group outlives a failed Create: whatever a failed Create made is gone (or going).
  for (const event of run.world.handled) {
    if (event.requestType !== 'Create' || event.ok) continue;
    const calls = model.calls.slice(event.from, event.to);
    if (deniedCleanup(calls)) continue;
    for (const call of calls) {
      if (call.operation !== 'CreateAutoScalingGroup' || call.failed) continue;
      const name = String(call.input.AutoScalingGroupName);
      // Unless a later Create of the same resource took it over and succeeded.
      const adoptedLater = run.world.handled.some((later) => later.from >= event.to && later.requestType === 'Create' && later.ok);
      if (!adoptedLater) expect({ leakedByFailedCreate: name, live: model.liveGroup(name) !== undefined }).toEqual({ leakedByFailedCreate: name, live: false });
    }
  }

  // A rollback of an update succeeds whenever the old properties are valid (no access denial fired in it).
  if (outcome.status === 'UPDATE_ROLLBACK_FAILED' || outcome.status === 'ROLLBACK_FAILED') {
    expect(model.calls.some((c) => c.error !== undefined && /AccessDenied/.test(c.error))).toBe(true);
  }

  // After stack Delete no group, instance or deployment group of the fleet remains.
  if (outcome.status === 'DELETE_COMPLETE') {
    if (!leftForAPerson(run)) {
      const ours = [...model.groups.values()].filter((g) => g.name !== FOREIGN_GROUP);
      expect(ours.map((g) => g.name)).toEqual([]);
      expect([...model.deploymentGroups.keys()]).toEqual([`${APP}/${FOREIGN_DG}`]);
    }
  }

  // Outside a deployment, exactly one live group serves the fleet and the deployment group targets it.
  const healthy = stack.status === 'CREATE_COMPLETE' || stack.status === 'UPDATE_COMPLETE' || stack.status === 'UPDATE_ROLLBACK_COMPLETE';
  const [deployed] = [...stack.resources.values()];
  if (healthy && deployed && !activeDeployment(run)) {
    const key = `${APP}/${String(deployed.props.DeploymentGroupName)}`;
    const dg = model.deploymentGroups.get(key);
    expect(dg?.tags.get(OWNER_TAG_KEY)).toBe(deployed.physicalId);
    const serving = (dg?.autoScalingGroups ?? []).filter((name) => model.liveGroup(name));
    expect(serving).toHaveLength(1);
    const ownedLive = [...model.groups.values()].filter((g) => g.deleting === undefined && g.tags.get(OWNER_TAG_KEY)?.value === deployed.physicalId);
    expect(ownedLive.map((g) => g.name).filter((name) => name !== serving[0])).toEqual([]);

    // The stack's capacity and launch template version are on that group after every successful Update.
    if (outcome.appliedShape) {
      const group = model.liveGroup(serving[0]!)!;
      const s = outcome.appliedShape;
      expect({ min: group.min, desired: group.desired, max: group.max, version: group.launchTemplate.version }).toEqual({ ...s, version: String(s.version) });
    }
  }
  void o;
}

describe('random sequences of stack operations, deployments, scaling and faults', () => {
  let log: jest.SpyInstance;

  beforeEach(() => {
    log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    jest.spyOn(console, 'error').mockImplementation(() => undefined);
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('when any sequence runs, then the invariants hold after every step', async () => {
    let sequences = 0;
    let steps = 0;
    let events = 0;
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.boolean(), fc.array(op, { minLength: 5, maxLength: 30 }), async (copiesTags, retryEvents, ops) => {
        const run = startRun(copiesTags, retryEvents);
        const checkedReasons = { count: 0 };
        try {
          sequences += 1;
          for (const o of ops) {
            const outcome = await apply(run, o);
            steps += 1;
            checkInvariants(run, o, outcome, checkedReasons);
            log.mockClear();
          }
          // Whatever happened, deleting the stack (again after a failure: faults run out) leaves nothing of the fleet.
          for (let attempt = 0; attempt < 5 && run.stack.status !== 'DELETE_COMPLETE' && run.stack.status !== 'NONE'; attempt += 1) {
            if (run.stack.status === 'UPDATE_ROLLBACK_FAILED') break;
            const status = await run.stack.destroy();
            steps += 1;
            checkInvariants(run, { kind: 'destroy' }, { status }, checkedReasons);
          }
          events += run.stack.events.length;
        } finally {
          run.world.restore();
        }
      }),
      { numRuns: 150 },
    );
    // The figures the handler README quotes.
    process.stdout.write(`fleet property run: ${sequences} sequences, ${steps} steps, ${events} CloudFormation events\n`);
    expect(steps).toBeGreaterThan(1000);
  });
});
