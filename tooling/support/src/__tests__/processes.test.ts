import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { endLeftovers, processesMentioning, processTable, running } from '../processes';
import { scratch, until } from './helpers';

const newDir = scratch('processes');

/** A fake /proc entry: its command line, its state and group in `stat`, and optionally its working directory. */
function fakeProc(proc: string, pid: number, argv: readonly string[], options: { state?: string; pgid?: number; cwd?: string } = {}): void {
  const dir = path.join(proc, String(pid));
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'cmdline'), `${argv.join('\0')}\0`);
  writeFileSync(path.join(dir, 'stat'), `${pid} (some (odd) name) ${options.state ?? 'S'} 1 ${options.pgid ?? pid} 0 0\n`);
  if (options.cwd !== undefined) symlinkSync(options.cwd, path.join(dir, 'cwd'));
}

let dir = '';
const work = () => dir;
beforeEach(() => {
  dir = newDir();
});

describe('processesMentioning', () => {
  it('when command lines mention a path, then exactly those pids are found', () => {
    const proc = path.join(work(), 'proc');
    fakeProc(proc, 101, ['/usr/bin/node', '/tmp/conveyor-repo-abc/repo/packages/local-pipeline/dist/deploy/proxy-main.js', '40563']);
    fakeProc(proc, 102, ['PM2 v7.0.4: God Daemon (/tmp/conveyor-tmp-xyz/state/slots/blue/home/app/.pm2)']);
    fakeProc(proc, 103, ['/usr/bin/node', '/work/main/apps/api/dist/main.js']);
    mkdirSync(path.join(proc, 'self'));

    const pids = processesMentioning(['/tmp/conveyor-repo-abc/repo', '/tmp/conveyor-tmp-xyz'], { proc }).map((p) => p.pid);

    expect(pids.sort()).toEqual([101, 102]);
  });

  it("when a command line has a port as a whole argument (the checkout's load balancer), then it is found, and a longer number or a flag value in another is not", () => {
    const proc = path.join(work(), 'proc');
    fakeProc(proc, 201, ['/usr/bin/node', '/work/main/packages/local-pipeline/dist/deploy/proxy-main.js', '40563', 'blue', '40564']);
    fakeProc(proc, 202, ['/usr/bin/node', '/work/main/packages/local-pipeline/dist/deploy/proxy-main.js', '405631']);
    fakeProc(proc, 203, ['/usr/bin/node', 'x.js', '--port=40563']);

    expect(processesMentioning([], { proc, args: ['40563'] }).map((p) => p.pid)).toEqual([201]);
  });

  it('when a process runs inside the folder, or names a longer folder beside it, or is a zombie, then only the one inside is found, with its command', () => {
    const proc = path.join(work(), 'proc');
    const dir = path.join(work(), 'run');
    mkdirSync(path.join(dir, 'copy'), { recursive: true });
    mkdirSync(`${dir}-other`);
    fakeProc(proc, 301, ['npm', 'run', 'rehearse'], { cwd: path.join(dir, 'copy') });
    fakeProc(proc, 302, ['node', `${dir}-other/server.js`], { cwd: `${dir}-other` });
    fakeProc(proc, 303, ['node', `${dir}/copy/server.js`], { state: 'Z' });

    expect(processesMentioning([dir], { proc })).toEqual([{ pid: 301, command: 'npm run rehearse' }]);
  });
});

describe('processTable', () => {
  it('when reading /proc, then each process has its group and zombie state, and a folder that is not there gives undefined', () => {
    const proc = path.join(work(), 'proc');
    fakeProc(proc, 401, ['bash'], { pgid: 400 });
    fakeProc(proc, 402, ['node'], { pgid: 400, state: 'Z' });

    expect(processTable(proc)?.sort((a, b) => a.pid - b.pid)).toEqual([
      { pid: 401, pgid: 400, zombie: false },
      { pid: 402, pgid: 400, zombie: true },
    ]);
    expect(processTable(path.join(work(), 'no-proc'))).toBeUndefined();
  });
});

describe('running', () => {
  it('when a process is alive, then it is running; once it has exited and is reaped, it is not', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    await until(() => child.pid !== undefined && running(child.pid));
    const before = running(child.pid!);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;

    expect(before).toBe(true);
    expect(running(child.pid!)).toBe(false);
  });

  it('when /proc says the process is a zombie, then it is not running', () => {
    const proc = path.join(work(), 'proc');
    fakeProc(proc, process.pid, ['node'], { state: 'Z' });

    expect(running(process.pid, proc)).toBe(false);
    expect(running(process.pid)).toBe(true);
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
    await until(() => !running(leftover.pid!));
    const bystanderAlive = running(bystander.pid!);
    process.kill(bystander.pid!, 'SIGKILL');

    expect(ended).toEqual([leftover.pid]);
    expect(running(leftover.pid!)).toBe(false);
    expect(bystanderAlive).toBe(true);
  });
});

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}
