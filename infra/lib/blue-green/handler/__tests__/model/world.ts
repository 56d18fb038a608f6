import { createFleetHandler, type FleetHandler } from '../../handler';
import { ownerIdFor } from '../../ownership';
import { APP, DG, FLEET, rawProperties, TAG_KEY } from '../fixtures';
import { AwsModel, type ModelGroup } from './aws-model';
import { CloudFormationStack, type Props } from './cloudformation';

/** The model, the handler wired to it unchanged, and a stack of fleet resources driving it. */
export interface World {
  readonly model: AwsModel;
  readonly handler: FleetHandler;
  readonly stack: CloudFormationStack;
  /** Every wait the handler asked for, in ms (none is really waited). */
  readonly sleeps: number[];
  /** Each onEvent call: its request type, whether it succeeded, and the model calls it made ([from, to) in model.calls). */
  readonly handled: { requestType: string; ok: boolean; from: number; to: number }[];
  restore(): void;
}

export interface WorldOptions {
  readonly copiesTags?: boolean;
  readonly retryEvents?: boolean;
  readonly logGroupName?: string;
}

export function createWorld(options: WorldOptions = {}): World {
  const model = new AwsModel({ copiesTags: options.copiesTags ?? true });
  model.addApplication(APP);
  const { codeDeploy, autoScaling, restore } = model.connect();
  const sleeps: number[] = [];
  const inner = createFleetHandler({
    codeDeploy,
    autoScaling,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    ...(options.logGroupName === undefined ? {} : { logGroupName: options.logGroupName }),
  });
  // The model attributes each deletion to the resource whose event is running.
  const handled: World['handled'] = [];
  const handler: FleetHandler = {
    onEvent: async (event) => {
      model.context = event.RequestType === 'Create' ? ownerIdFor(event) : event.PhysicalResourceId;
      const record = { requestType: event.RequestType, ok: false, from: model.calls.length, to: model.calls.length };
      handled.push(record);
      try {
        const result = await inner.onEvent(event);
        record.ok = true;
        return result;
      } finally {
        record.to = model.calls.length;
      }
    },
    isComplete: (event) => inner.isComplete(event),
  };
  const stack = new CloudFormationStack(handler, () => model.advance(), { retryEvents: options.retryEvents ?? false });
  return { model, handler, stack, sleeps, handled, restore };
}

/** Fleet properties as CloudFormation sends them; overrides replace single keys. */
export function fleetProps(overrides: Props = {}): Props {
  const { ServiceToken: _token, ...props } = rawProperties(overrides);
  return props;
}

/** The live groups the deployment group of these names targets, or undefined without a deployment group. */
export function servingGroups(model: AwsModel, applicationName = APP, deploymentGroupName = DG): ModelGroup[] | undefined {
  const dg = model.deploymentGroups.get(`${applicationName}/${deploymentGroupName}`);
  if (!dg) return undefined;
  return dg.autoScalingGroups.flatMap((name) => model.liveGroup(name) ?? []);
}

/** Live groups carrying the fleet tag of this fleet name. */
export function fleetGroups(model: AwsModel, fleetName = FLEET): ModelGroup[] {
  return [...model.groups.values()].filter((g) => g.deleting === undefined && g.tags.get(TAG_KEY)?.value === fleetName);
}
