import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { endLeftovers, processesMentioning } from '../support/leftovers';
import { alive, tempDirPerTest } from './helpers';

const work = tempDirPerTest('leftovers');

describe('processesMentioning', () => {
  it('when command lines mention a path, then exactly those pids are found', () => {
    const proc = path.join(work(), 'proc');
    const fake = (pid: number, argv: string[]) => {
      mkdirSync(path.join(proc, String(pid)), { recursive: true });
      writeFileSync(path.join(proc, String(pid), 'cmdline'), `${argv.join('\0')}\0`);
    };
    fake(101, ['/usr/bin/node', '/tmp/conveyor-repo-abc/repo/packages/local-pipeline/dist/deploy/proxy-main.js', '40563']);
    fake(102, ['PM2 v7.0.4: God Daemon (/tmp/conveyor-tmp-xyz/state/slots/blue/home/app/.pm2)']);
    fake(103, ['/usr/bin/node', '/work/main/apps/api/dist/main.js']);
    mkdirSync(path.join(proc, 'self'));

    const pids = processesMentioning(['/tmp/conveyor-repo-abc/repo', '/tmp/conveyor-tmp-xyz'], proc);

    expect(pids.sort()).toEqual([101, 102]);
  });

  it("when a command line has a port as a whole argument (the checkout's load balancer), then it is found, and a longer number or a flag value in another is not", () => {
    const proc = path.join(work(), 'proc');
    const fake = (pid: number, argv: string[]) => {
      mkdirSync(path.join(proc, String(pid)), { recursive: true });
      writeFileSync(path.join(proc, String(pid), 'cmdline'), `${argv.join('\0')}\0`);
    };
    fake(201, ['/usr/bin/node', '/work/main/packages/local-pipeline/dist/deploy/proxy-main.js', '40563', 'blue', '40564']);
    fake(202, ['/usr/bin/node', '/work/main/packages/local-pipeline/dist/deploy/proxy-main.js', '405631']);
    fake(203, ['/usr/bin/node', 'x.js', '--port=40563']);

    expect(processesMentioning([], proc, ['40563'])).toEqual([201]);
  });
});

describe('endLeftovers', () => {
  it('when a detached process outlives its step in a temp dir, then it is ended and others are not', async () => {
    const marker = path.join(work(), 'step-tmp');
    const leftover = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)', marker], { detached: true, stdio: 'ignore' });
    const bystander = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)', path.join(work(), 'other')], { detached: true, stdio: 'ignore' });
    leftover.unref();
    bystander.unref();
    // Both must be running (their command lines readable) before the scan; polled, not slept, for a loaded machine.
    await until(() => [leftover.pid!, bystander.pid!].every((pid) => commandLine(pid).includes(work())));

    const ended = endLeftovers([marker]);
    await until(() => !alive(leftover.pid!));
    const bystanderAlive = alive(bystander.pid!);
    process.kill(bystander.pid!, 'SIGKILL');

    expect(ended).toEqual([leftover.pid]);
    expect(alive(leftover.pid!)).toBe(false);
    expect(bystanderAlive).toBe(true);
  });
});

/** Polls `condition` every 20 ms for up to 10 s. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i += 1) await new Promise((resolve) => setTimeout(resolve, 20));
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}
