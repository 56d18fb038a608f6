// The pm2 process file. The ApplicationStart hook runs
// `pm2 startOrReload app/ecosystem.config.js` with the environment it builds
// from the bundle's deploy.env and the instance's env file; every value here
// is derived from that environment (or, for what it lacks, from deploy.env
// beside this file in the installed bundle), so nothing is hard-coded twice.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

/**
 * The most workers one instance runs. A reload replaces workers one at a time,
 * each within listen_timeout + kill_timeout, so ApplicationStart's worst case
 * grows with the worker count: this cap keeps it inside the appspec timeout on
 * any instance type (a test adds it up against appspec.yml).
 */
const MAX_WORKERS = 4;

/** KEY=VALUE lines of the bundle's deploy.env (the installed layout: <root>/deploy.env, <root>/app/this file). */
function readDeployEnv() {
  const file = path.join(__dirname, '..', 'deploy.env');
  if (!fs.existsSync(file)) return {};
  const values = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (match) values[match[1]] = match[2];
  }
  return values;
}

const deployEnv = readDeployEnv();
/** A setting from the environment, else deploy.env; an error naming the key when neither has it. */
function setting(key) {
  const value = process.env[key] || deployEnv[key];
  if (!value) throw new Error(`ecosystem.config.js: ${key} is not set (the environment or the bundle's deploy.env must set it)`);
  return value;
}
/** A whole-number setting, decimal digits only. */
function wholeNumber(key, value) {
  if (!/^[0-9]{1,9}$/.test(value)) throw new Error(`ecosystem.config.js: ${key} must be a whole number of decimal digits`);
  return Number(value);
}

const serviceName = setting('SERVICE_NAME');
const logDir = setting('LOG_DIR');
const shutdownTimeoutMs = wholeNumber('SHUTDOWN_TIMEOUT_MS', setting('SHUTDOWN_TIMEOUT_MS'));
const startupTimeoutMs = wholeNumber('STARTUP_TIMEOUT_MS', setting('STARTUP_TIMEOUT_MS'));
// One worker per core, up to MAX_WORKERS; PM2_INSTANCES overrides (tests, the rehearsal).
const instances = process.env.PM2_INSTANCES
  ? wholeNumber('PM2_INSTANCES', process.env.PM2_INSTANCES)
  : Math.max(1, Math.min(os.availableParallelism(), MAX_WORKERS));
if (instances < 1) throw new Error('ecosystem.config.js: PM2_INSTANCES must be at least 1');

module.exports = {
  apps: [
    {
      name: serviceName,
      cwd: __dirname,
      script: 'dist/main.js',
      node_args: ['--enable-source-maps'],
      // pm2 reload replaces cluster workers one at a time.
      exec_mode: 'cluster',
      instances,
      // The service sends 'ready' only once config is valid and the port is
      // bound. pm2's default listen_timeout (3 s) would declare a worker ready
      // while it is still reading Parameter Store; use the service's own budget.
      wait_ready: true,
      listen_timeout: startupTimeoutMs,
      // pm2's default kill_timeout (1.6 s) SIGKILLs a worker mid-drain. Give the
      // service its whole shutdown deadline plus a margin, so its own deadline
      // (exit 1, logged) always fires before pm2's SIGKILL.
      kill_timeout: shutdownTimeoutMs + 2_000,
      // Crash loops back off instead of spinning.
      exp_backoff_restart_delay: 200,
      max_restarts: 20,
      min_uptime: 5_000,
      merge_logs: true,
      out_file: `${logDir}/${serviceName}.log`,
      error_file: `${logDir}/${serviceName}.log`,
      env: {
        NODE_ENV: 'production',
      },
    },
  ],
};
