// Reliability drill: a release whose workers crash while loading. Version 1
// serves through the rehearsal's load balancer (slot blue); the broken
// release goes to slot green. ApplicationStart must see the restarts and fail
// within its short watch, naming the crash loop on its last line, instead of
// reporting success and leaving ValidateService to find out a minute later;
// version 1 must serve every request meanwhile.
import { failureReasons, startLoad } from '@conveyor/tooling-support';

import { health, makeBrokenBundle } from '../../codedeploy/__tests__/fixtures';
import { rehearsalServingVersion1, type DrillRehearsal } from './rehearsal';

let rehearsal: DrillRehearsal;
let broken: string;

/** The last line of a failed event's hook output, as the rehearsal prints it (indented under "<event> Failed"). */
function lastHookLine(stderr: string, event: string): string {
  const lines = stderr.split('\n');
  const start = lines.findIndex((line) => new RegExp(`\\] ${event} +Failed`).test(line));
  const block = lines.slice(start + 1);
  const end = block.findIndex((line) => !/^\s/.test(line));
  return (end === -1 ? block : block.slice(0, end)).at(-1)?.trim() ?? '';
}

beforeAll(async () => {
  rehearsal = await rehearsalServingVersion1('drill-crash-loop', 2);
  broken = makeBrokenBundle(rehearsal.firstBundle, rehearsal.work, 'rev-crash');
});

afterAll(async () => {
  await rehearsal?.stop();
});

describe('a release that crash-loops', () => {
  it('when its workers crash while loading, then ApplicationStart fails naming the crash loop last, and version 1 serves every request', async () => {
    const load = startLoad({ port: rehearsal.ports.proxy, connections: 4, maxDurationMs: 120_000 });

    const run = await rehearsal.cli(['deploy', '--bundle', broken]);
    const outcomes = await load.stop();

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('ApplicationStart Failed');
    expect(run.stderr).toContain('FAILED at ApplicationStart on slot green');
    expect(lastHookLine(run.stderr, 'ApplicationStart')).toMatch(/ERROR: conveyor-api's workers are crash-looping: \d+ restarts within 10 s of starting/);
    expect(run.stderr).not.toContain('ValidateService');
    expect(run.stderr).toContain('traffic stays on slot blue, commit rev-1');
    expect({ failed: outcomes.filter((o) => o.result !== 'ok').length, reasons: failureReasons(outcomes) }).toEqual({ failed: 0, reasons: {} });
    expect((await health(rehearsal.ports.proxy)).body).toMatchObject({ status: 'ok', commit: 'rev-1' });
  });
});
