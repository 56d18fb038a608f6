/**
 * `npm run rehearse`: the pipeline on this machine, driven by the repo's real
 * buildspec.yml and appspec.yml.
 *
 *   npm run rehearse                    build (CodeBuild), then deploy blue/green (CodeDeploy)
 *   npm run rehearse -- build           only the build
 *   npm run rehearse -- deploy          only the deployment (of the last build's artifact, or --bundle <dir>)
 *   npm run rehearse -- status          what is serving where
 *   npm run rehearse -- logs            the serving slot's service log, followed (--lines <n>: print and exit)
 *   npm run rehearse -- --stop          stop the load balancer and both slots
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { LOG_DIR, SERVICE_NAME } from '@conveyor/config';

import { runBuildspec } from './codebuild';
import { deployBlueGreen, readState, stopRehearsal, type Slot } from './codedeploy/blue-green';
import { showLogs } from './logs';

const USAGE = `usage: rehearse-pipeline [build|deploy|status|logs|stop] [options]
  --lines <n>          logs: print the last n lines and exit (default: follow until Ctrl-C)
  --port <n>           port of the local load balancer (default 8080)
  --slot-ports <a,b>   service ports of slots blue and green (default: port+1, port+2)
  --bundle <dir>       deploy: the revision to deploy (default: the last build's artifact)
  --state-dir <dir>    where the rehearsal keeps its state (default: <repo>/.rehearsal)
  --strict-audit       fail the build when the registry cannot be audited, as CodeBuild does
  --workers <n>        pm2 workers per slot (default 2)
  --termination-wait <seconds>
                       keep the old slot running this long after traffic moves, while the 5xx
                       alarm watches the new slot (default 0: stop it as soon as it has drained)
  --alarm-5xx <n>      5xx answers from the new slot, from the switch until the old slot stops,
                       that roll the deployment back (default 5)
  --verbose            echo every build command's output
  --stop               same as the stop command`;

class UsageError extends Error {}

function repoRoot(): string {
  try {
    return execFileSync('git', ['rev-parse', '--show-toplevel'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    throw new UsageError('run the rehearsal inside the repository (git rev-parse found no work tree)');
  }
}

function port(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65_535) throw new UsageError(`${name} must be a port number, got "${value}"`);
  return n;
}

const print = (line: string) => console.error(line);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      'slot-ports': { type: 'string' },
      bundle: { type: 'string' },
      'state-dir': { type: 'string' },
      'strict-audit': { type: 'boolean', default: false },
      workers: { type: 'string' },
      'termination-wait': { type: 'string' },
      'alarm-5xx': { type: 'string' },
      verbose: { type: 'boolean', default: false },
      stop: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
      lines: { type: 'string' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const command = values.stop ? 'stop' : (positionals[0] ?? 'all');
  if (!['all', 'build', 'deploy', 'status', 'logs', 'stop'].includes(command) || positionals.length > 1) {
    throw new UsageError(`unknown command "${positionals.join(' ')}"`);
  }

  // Every option is checked before any work starts.
  const proxyPort = port(values.port, '--port', 8080);
  const slotPortList = (values['slot-ports'] ?? `${proxyPort + 1},${proxyPort + 2}`).split(',');
  if (slotPortList.length !== 2) throw new UsageError(`--slot-ports takes two ports, blue and green, e.g. 8081,8082; got "${values['slot-ports']}"`);
  const slotPorts: Record<Slot, number> = {
    blue: port(slotPortList[0], '--slot-ports', 0),
    green: port(slotPortList[1], '--slot-ports', 0),
  };
  const workers = values.workers === undefined ? 2 : Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1) throw new UsageError(`--workers must be a positive whole number, got "${values.workers}"`);
  const terminationWait = values['termination-wait'] === undefined ? 0 : Number(values['termination-wait']);
  if (!Number.isFinite(terminationWait) || terminationWait < 0 || terminationWait > 3_600) {
    throw new UsageError(`--termination-wait must be a number of seconds from 0 to 3600, got "${values['termination-wait']}"`);
  }
  const alarm5xx = values['alarm-5xx'] === undefined ? 5 : Number(values['alarm-5xx']);
  if (!Number.isInteger(alarm5xx) || alarm5xx < 1 || alarm5xx > 100_000) {
    throw new UsageError(`--alarm-5xx must be a whole number from 1 to 100000, got "${values['alarm-5xx']}"`);
  }

  const root = repoRoot();
  const stateDir = path.resolve(values['state-dir'] ?? path.join(root, '.rehearsal'));
  const parentEnv = process.env;

  if (command === 'stop') {
    await stopRehearsal({ stateDir, parentEnv, progress: print });
    print('[rehearse] stopped');
    return 0;
  }
  if (command === 'logs') {
    const lines = values.lines === undefined ? undefined : Number(values.lines);
    if (lines !== undefined && !(Number.isInteger(lines) && lines > 0)) throw new UsageError(`--lines must be a positive whole number, got "${values.lines}"`);
    const stop = new AbortController();
    process.once('SIGINT', () => stop.abort());
    return showLogs({ stateDir, serviceName: SERVICE_NAME, logDir: LOG_DIR, lines, signal: stop.signal, out: (line) => console.log(line), err: print });
  }
  if (command === 'status') {
    const state = readState(stateDir);
    const active = state.active ? state.slots[state.active] : undefined;
    console.log(active && state.proxy ? `serving http://127.0.0.1:${state.proxy.port} from slot ${state.active}, commit ${active.commit}` : 'nothing deployed');
    return 0;
  }

  const started = Date.now();
  const workDir = path.join(stateDir, 'codebuild');
  let bundleDir = values.bundle ? path.resolve(values.bundle) : path.join(workDir, 'artifact');

  if (command === 'all' || command === 'build') {
    print('[rehearse] build: running buildspec.yml as CodeBuild would, in a clean copy of the working tree');
    if (!values['strict-audit']) print('[rehearse] local override: AUDIT_IF_UNREACHABLE=warn (CodeBuild fails when the registry cannot be audited; --strict-audit does too)');
    const build = await runBuildspec({
      sourceRoot: root,
      workDir,
      cacheDir: path.join(stateDir, 'cache'),
      parentEnv,
      envOverrides: values['strict-audit'] ? {} : { AUDIT_IF_UNREACHABLE: 'warn' },
      progress: print,
      verbose: values.verbose,
    });
    if (!build.succeeded || !build.artifactDir) {
      print(`[rehearse] build FAILED: see ${build.logFile}`);
      return 1;
    }
    print(`[rehearse] build succeeded in ${seconds(Date.now() - started)}: artifact ${path.relative(root, build.artifactDir)}`);
    bundleDir = build.artifactDir;
    if (command === 'build') return 0;
  }

  if (!existsSync(path.join(bundleDir, 'appspec.yml'))) {
    throw new UsageError(`${bundleDir} holds no appspec.yml: build first (npm run rehearse -- build) or pass --bundle <dir>`);
  }

  const deployStarted = Date.now();
  const hookEnv = Object.fromEntries(
    ['VALIDATE_ATTEMPTS', 'VALIDATE_INTERVAL_SECONDS'].flatMap((key) => (parentEnv[key] ? [[key, parentEnv[key]]] : [])),
  ) as Record<string, string>;
  const result = await deployBlueGreen({
    stateDir, bundleDir, proxyPort, slotPorts, parentEnv, progress: print, workersPerSlot: workers, hookEnv,
    terminationWaitMs: Math.round(terminationWait * 1000), alarm5xxThreshold: alarm5xx,
  });
  if (!result.succeeded) {
    const failure = result.lifecycle.failure;
    if (result.rollback) {
      print(
        result.rollback.cause === 'ALARM_ACTIVE'
          ? `[rehearse] deployment ${result.deploymentId} Stopped (ALARM_ACTIVE): ${result.rollback.detail}`
          : `[rehearse] deployment ${result.deploymentId} FAILED at ${failure?.event ?? 'AcceptanceCheck'} on slot ${result.slot}: ${result.rollback.detail}`,
      );
      print(`[rehearse] rolled back: traffic on slot ${result.serving?.slot ?? '?'}, commit ${result.serving?.commit ?? '?'}: ${result.url}; slot ${result.slot} stopped`);
      return 1;
    }
    print(`[rehearse] deployment ${result.deploymentId} FAILED at ${failure?.event ?? 'an unknown step'} on slot ${result.slot}`);
    print(result.serving ? `[rehearse] traffic stays on slot ${result.serving.slot}, commit ${result.serving.commit}: ${result.url}` : '[rehearse] nothing is serving');
    print(`[rehearse] hook output: ${path.join(stateDir, 'slots', result.slot, 'opt', 'codedeploy-agent', 'deployment-root')}/**/logs/scripts.log`);
    return 1;
  }
  print(`[rehearse] deployment ${result.deploymentId} succeeded in ${seconds(Date.now() - deployStarted)} (total ${seconds(Date.now() - started)})`);
  console.log(`Serving ${result.url} from slot ${result.slot}, commit ${result.commit}`);
  console.log(`  curl ${result.url}/health`);
  console.log('  stop it: npm run rehearse -- --stop');
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError || (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
      console.error(`rehearse-pipeline: ${error.message}\n${USAGE}`);
      process.exit(2);
    }
    console.error(`rehearse-pipeline: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
