// Reliability drill: a release whose greeting route answers 500. Version 1
// serves through the rehearsal's load balancer (slot blue) under a bounded
// keep-alive load on the greeting route; the bad release goes to slot green
// with a termination wait. It boots, passes ValidateService and the
// acceptance check (whose one sample name has no space, and the regression
// needs one; on a busy machine the alarm may go off before the check runs),
// takes traffic, and answers the load 500: the 5xx alarm must put
// it in ALARM, traffic must go back to blue, green must stop, the command
// must report the deployment rolled back and exit non-zero, and the only
// failed requests must be the 5xx the alarm counted.
import net from 'node:net';

import { failureReasons, startLoad } from '@conveyor/tooling-support';

import { health, makeFailingGreetingBundle } from '../../codedeploy/__tests__/fixtures';
import { rehearsalServingVersion1, type DrillRehearsal } from './rehearsal';

/** A name the bad release fails on (it has a space); the acceptance check's own name has none. */
const GREETING_PATH = '/api/greeting?name=Ada%20Lovelace';
const THRESHOLD = 5;
const CONNECTIONS = 4;

let rehearsal: DrillRehearsal;
let failing: string;

/** Whether something accepts connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** One GET through the load balancer: status and body. */
async function get(pathname: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`http://127.0.0.1:${rehearsal.ports.proxy}${pathname}`, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: await res.json() };
}

beforeAll(async () => {
  rehearsal = await rehearsalServingVersion1('drill-rollback', 2);
  failing = makeFailingGreetingBundle(rehearsal.firstBundle, rehearsal.work, 'rev-500');
});

afterAll(async () => {
  await rehearsal?.stop();
});

describe('a release whose greeting route answers 500', () => {
  it('when it takes traffic under load, then the 5xx alarm rolls it back: exit 1, slot green stopped, version 1 serving, no failed request beyond the 5xx the alarm counted', async () => {
    const before = await get(GREETING_PATH);
    const load = startLoad({ port: rehearsal.ports.proxy, path: GREETING_PATH, connections: CONNECTIONS, maxDurationMs: 150_000 });

    const run = await rehearsal.cli(['deploy', '--bundle', failing, '--termination-wait', '60', '--alarm-5xx', String(THRESHOLD)]);
    // A moment more of load on version 1, after the rollback.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const outcomes = await load.stop();

    // Arrange's own check: version 1 answered that name before the deployment.
    expect(before.status).toBe(200);
    // The acceptance check ran after the switch and passed: only the alarm
    // could catch this release. On a busy machine the load's 500s can reach
    // the threshold before the deployer's own request has seen the switch:
    // the deployment then stops at AllowTraffic, before the check, as
    // CodeDeploy stops at whatever event an alarm goes off in.
    const switched = run.stderr.includes('[deploy] AllowTraffic:');
    const acceptance = run.stderr.split('\n').filter((line) => line.startsWith('[acceptance]'));
    expect({ switched, ran: acceptance.length > 0, examplePassed: acceptance.some((line) => line.startsWith('[acceptance] PASS example route')) }).toEqual(
      switched ? { switched, ran: true, examplePassed: true } : { switched, ran: false, examplePassed: false },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/deployment d-\w+ Stopped \(ALARM_ACTIVE\): alarm conveyor-api-rehearsal-5xx in ALARM/);
    expect(run.stderr).toContain('[rehearse] rolled back: traffic on slot blue, commit rev-1');
    expect(run.stderr).toContain('[deploy:green] stopped');
    expect(await listening(rehearsal.ports.green)).toBe(false);
    expect((await health(rehearsal.ports.proxy)).body).toMatchObject({ status: 'ok', commit: 'rev-1' });
    expect(await get(GREETING_PATH)).toEqual({ status: 200, body: { greeting: 'Hello, Ada Lovelace!' } });

    const counted = /slot green answered (\d+) 5xx of (\d+) requests/.exec(run.stderr);
    expect(counted).not.toBeNull();
    const alarmed = Number(counted?.[1]);
    const failed = outcomes.filter((o) => o.result !== 'ok').length;
    console.log(`rollback drill: ${outcomes.length} requests, ${failed} failed ${JSON.stringify(failureReasons(outcomes))}, alarm counted ${alarmed} 5xx (threshold ${THRESHOLD})`);
    // Every failed request is a 500 the alarm counted: none before the switch, none after the rollback, no connection error.
    expect(failureReasons(outcomes)).toEqual({ 'HTTP 500': alarmed });
    // The alarm tripped at the threshold; the rest were already in flight on one of the connections.
    expect(alarmed).toBeGreaterThanOrEqual(THRESHOLD);
    expect(alarmed).toBeLessThanOrEqual(THRESHOLD + CONNECTIONS - 1);
  });
});
