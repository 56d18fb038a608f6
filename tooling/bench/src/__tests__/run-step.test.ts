import { readFileSync } from 'node:fs';
import path from 'node:path';

import { heartbeatLine, lastLines, runStep } from '../support/run-step';
import { running as alive } from '@conveyor/tooling-support';

import { tempDirPerTest } from './helpers';

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
const work = tempDirPerTest('step');

// Up to 10 s: on a loaded machine a killed process can take a while to be gone.
async function waitUntilGone(pid: number): Promise<boolean> {
  for (let i = 0; i < 500 && alive(pid); i += 1) await new Promise((resolve) => setTimeout(resolve, 20));
  return !alive(pid);
}

describe('runStep', () => {
  it('when the step exits 0, then its output and its wall time are returned', async () => {
    const ran = await runStep('greet', 'bash', ['-c', 'echo out; echo err >&2; sleep 0.2'], { cwd: work(), env, timeoutMs: 10_000 });

    expect(ran.output).toContain('out');
    expect(ran.output).toContain('err');
    expect(ran.ms).toBeGreaterThanOrEqual(200);
  });

  it('when the step exits non-zero, then the error names the step and the code and shows the last 20 lines', async () => {
    const script = 'for i in $(seq 1 50); do echo "line $i"; done; exit 3';

    const failed = runStep('npm ci (empty npm cache)', 'bash', ['-c', script], { cwd: work(), env, timeoutMs: 10_000 });

    await expect(failed).rejects.toThrow(/^npm ci \(empty npm cache\): exited with code 3 after .* s; last 20 lines of its output:\n {4}line 31\n[\s\S]* {4}line 50$/);
  });

  it('when the step outlives its timeout, then it and what it started are killed and the error says so', async () => {
    const pidFile = path.join(work(), 'pid');

    const failed = runStep('slow step', 'bash', ['-c', `sleep 60 & echo $! > ${pidFile}; echo started; wait`], { cwd: work(), env, timeoutMs: 3_000 });

    // 3 s: long enough for bash to print "started" on a loaded machine.
    await expect(failed).rejects.toThrow(/^slow step: did not finish within 3 s and was killed; last 1 lines of its output:\n {4}started$/);
    expect(await waitUntilGone(Number(readFileSync(pidFile, 'utf8')))).toBe(true);
  });

  it('when the step exits but leaves a process behind in its group, then that process is ended too', async () => {
    const ran = await runStep('leaky step', 'bash', ['-c', 'sleep 60 >/dev/null 2>&1 </dev/null & echo $!'], { cwd: work(), env, timeoutMs: 10_000 });

    expect(await waitUntilGone(Number(ran.output.trim()))).toBe(true);
  });

  it('when the command does not exist, then the error names the step and the command', async () => {
    const failed = runStep('synth', 'no-such-command-conveyor', [], { cwd: work(), env, timeoutMs: 10_000 });

    await expect(failed).rejects.toThrow(/^synth: could not start no-such-command-conveyor/);
  });
});

describe('lastLines', () => {
  it('when output has blank lines and CRLF endings, then the last non-empty lines come back in order', () => {
    const lines = lastLines('a\r\n\r\nb\n  \nc\nd\n', 3);

    expect(lines).toEqual(['b', 'c', 'd']);
  });

  it('when output is coloured, then the lines come back without colour codes', () => {
    const lines = lastLines('\u001b[31m\u001b[1m>\u001b[22m\u001b[39m 301 | expect(broken)\n');

    expect(lines).toEqual(['> 301 | expect(broken)']);
  });
});

describe('the heartbeat of a long step', () => {
  it('when a step runs longer than the heartbeat, then a line says how long and what it printed last, and stops with the step', async () => {
    const lines: string[] = [];

    await runStep('slow step', 'bash', ['-c', 'echo first; sleep 1; printf "50%%\\r90%%\\n"; sleep 1.2'], {
      cwd: process.cwd(),
      env: { PATH: process.env['PATH'] ?? '' },
      timeoutMs: 10_000,
      log: (line) => lines.push(line),
      heartbeatMs: 300,
    });
    const count = lines.length;
    await new Promise((resolve) => setTimeout(resolve, 600));

    // Seconds vary with the machine's load; what each line says does not.
    expect(lines.some((line) => /^slow step: still running after \d+s; last output: first$/.test(line))).toBe(true);
    expect(lines.at(-1)).toMatch(/^slow step: still running after \d+s; last output: 90%$/);
    expect(lines).toHaveLength(count);
  });

  it.each([
    [95_000, '', 'x: still running after 1m35s'],
    [5_000, `${'a'.repeat(150)}\n`, `x: still running after 5s; last output: ${'a'.repeat(99)}…`],
  ])('when %i ms passed, then the line reads as expected', (ms, output, line) => {
    expect(heartbeatLine('x', ms, output)).toBe(line);
  });
});
