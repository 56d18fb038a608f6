import { AutoScalingClient, AutoScalingServiceException, type AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import { CodeDeployClient, CodeDeployServiceException } from '@aws-sdk/client-codedeploy';
import { mockClient } from 'aws-sdk-client-mock';

import { createFleetHandler, type FleetHandler } from '../handler';
import { FLEET, TAG_KEY } from './fixtures';

/** One AWS request as the tests assert it: the operation name and the exact input. */
export type SentRequest = readonly [operation: string, input: unknown];

/**
 * Mocked CodeDeploy and Auto Scaling clients, the handler wired to them, and
 * the requests it sent across both clients in the order it sent them.
 */
export function mockFleet() {
  const codeDeploy = mockClient(CodeDeployClient);
  const autoScaling = mockClient(AutoScalingClient);
  const sleeps: number[] = [];
  const requests: SentRequest[] = [];
  const handler: FleetHandler = createFleetHandler({
    codeDeploy: recording(new CodeDeployClient({ region: 'eu-west-1' }), requests),
    autoScaling: recording(new AutoScalingClient({ region: 'eu-west-1' }), requests),
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
  });

  return {
    codeDeploy,
    autoScaling,
    handler,
    sleeps,
    /** Resets both mocks; every command not configured by the test answers {}. */
    reset(): void {
      codeDeploy.reset();
      autoScaling.reset();
      codeDeploy.onAnyCommand().resolves({});
      autoScaling.onAnyCommand().resolves({});
      sleeps.length = 0;
      requests.length = 0;
    },
    /** Every request sent through either client, in order. */
    sent(): SentRequest[] {
      return [...requests];
    },
  };
}

/**
 * Records a copy of each command's input when it is sent, then lets the mock
 * answer. A copy, because the SDK's paginators reuse one input object and set
 * its NextToken for the next page, which would rewrite what the mock recorded.
 */
function recording<C extends object>(client: C, requests: SentRequest[]): C {
  type Send = (command: { input: unknown }, ...rest: unknown[]) => Promise<unknown>;
  const wrapped = (command: { input: unknown }, ...rest: unknown[]) => {
    requests.push([command.constructor.name.replace(/Command$/, ''), structuredClone(command.input)]);
    // Looked up on every call: the mock's reset() replaces the stub on the client's prototype.
    const send = (Object.getPrototypeOf(client) as { send: Send }).send;
    return send.call(client, command, ...rest);
  };
  Object.assign(client, { send: wrapped });
  return client;
}

export function codeDeployError(name: string, message: string): CodeDeployServiceException {
  return new CodeDeployServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: 400, requestId: 'req-cd-1' }, message });
}

export function autoScalingError(name: string, message: string): AutoScalingServiceException {
  return new AutoScalingServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: 400, requestId: 'req-as-1' }, message });
}

/** A group as DescribeAutoScalingGroups returns it. */
export function group(name: string, options: { tagValue?: string; status?: string } = {}): AutoScalingGroup {
  return {
    AutoScalingGroupName: name,
    MinSize: 2,
    MaxSize: 4,
    DesiredCapacity: 2,
    DefaultCooldown: 300,
    AvailabilityZones: ['eu-west-1a', 'eu-west-1b'],
    HealthCheckType: 'ELB',
    CreatedTime: new Date('2026-11-01T00:00:00Z'),
    Tags:
      options.tagValue === undefined
        ? []
        : [{ Key: TAG_KEY, Value: options.tagValue, PropagateAtLaunch: true, ResourceId: name, ResourceType: 'auto-scaling-group' }],
    ...(options.status === undefined ? {} : { Status: options.status }),
  };
}

/** The fleet's first group, tagged as Create tags it. */
export function firstGroup(options: { status?: string } = {}): AutoScalingGroup {
  return group(FLEET, { tagValue: FLEET, ...options });
}

/** Silences the handler's call log for a test file, and returns the spies to assert on. */
export function quietConsole() {
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  return { log, error };
}
