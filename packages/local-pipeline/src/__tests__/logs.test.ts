import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { showLogs } from '../logs';

const SERVICE = 'svc';
const LOG_DIR = '/var/log/svc';

function rehearsal(active?: 'blue' | 'green'): { stateDir: string; serviceLog: string } {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'logs-test-'));
  const slots = active ? { [active]: { port: 8081, commit: 'abc1234', deploymentId: 'd-TEST00001' } } : {};
  writeFileSync(path.join(stateDir, 'state.json'), JSON.stringify({ groupId: 'g', ...(active ? { active } : {}), slots }));
  const serviceLog = path.join(stateDir, 'slots', active ?? 'blue', LOG_DIR, `${SERVICE}.log`);
  mkdirSync(path.dirname(serviceLog), { recursive: true });
  return { stateDir, serviceLog };
}

function collector() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, sinks: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

describe('rehearse logs', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('when --lines is given, then it says where each file lives and prints the serving slot\'s last lines, then returns', async () => {
    // Arrange
    const { stateDir, serviceLog } = rehearsal('green');
    dirs.push(stateDir);
    writeFileSync(serviceLog, ['{"n":1}', '{"n":2}', '{"n":3}', ''].join('\n'));
    const { out, err, sinks } = collector();

    // Act
    const code = await showLogs({ stateDir, serviceName: SERVICE, logDir: LOG_DIR, lines: 2, ...sinks });

    // Assert
    expect(code).toBe(0);
    expect(out).toEqual(['{"n":2}', '{"n":3}']);
    expect(err).toContain(`[logs] service log: ${serviceLog} (on AWS: ${LOG_DIR}/${SERVICE}.log, log group /${SERVICE}/<environment>/service)`);
    expect(err[0]).toBe('[logs] slot green is serving, commit abc1234');
  });

  it('when following, then lines appended later are printed whole, and aborting stops it', async () => {
    // Arrange
    const { stateDir, serviceLog } = rehearsal('blue');
    dirs.push(stateDir);
    writeFileSync(serviceLog, '{"n":1}\n');
    const { out, sinks } = collector();
    const stop = new AbortController();

    // Act
    const running = showLogs({ stateDir, serviceName: SERVICE, logDir: LOG_DIR, signal: stop.signal, pollMs: 10, ...sinks });
    await new Promise((resolve) => setTimeout(resolve, 50));
    appendFileSync(serviceLog, '{"n":2}\n{"n":');
    await new Promise((resolve) => setTimeout(resolve, 50));
    appendFileSync(serviceLog, '3}\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    stop.abort();

    // Assert
    await expect(running).resolves.toBe(0);
    expect(out).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
  });

  it('when nothing is deployed, then it says so and fails', async () => {
    // Arrange
    const { stateDir } = rehearsal();
    dirs.push(stateDir);
    const { err, sinks } = collector();

    // Act
    const code = await showLogs({ stateDir, serviceName: SERVICE, logDir: LOG_DIR, lines: 5, ...sinks });

    // Assert
    expect(code).toBe(1);
    expect(err).toEqual(['[logs] nothing deployed: run npm run rehearse first']);
  });
});
