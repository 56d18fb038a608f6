// The pm2 process file. The ApplicationStart hook runs
// `pm2 startOrReload app/ecosystem.config.js` with the environment it builds
// from the bundle's deploy.env and the instance's env file; every value here
// is derived from that environment, so nothing is hard-coded twice.
const env = process.env;

const shutdownTimeoutMs = Number(env.SHUTDOWN_TIMEOUT_MS || 10_000);
const startupTimeoutMs = Number(env.STARTUP_TIMEOUT_MS || 30_000);

module.exports = {
  apps: [
    {
      name: env.SERVICE_NAME || 'conveyor-api',
      cwd: __dirname,
      script: 'dist/main.js',
      node_args: ['--enable-source-maps'],
      // One worker per core, and pm2 reload replaces them one at a time.
      exec_mode: 'cluster',
      instances: env.PM2_INSTANCES || 'max',
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
      out_file: `${env.LOG_DIR || '.'}/${env.SERVICE_NAME || 'conveyor-api'}.log`,
      error_file: `${env.LOG_DIR || '.'}/${env.SERVICE_NAME || 'conveyor-api'}.log`,
      env: {
        NODE_ENV: 'production',
      },
    },
  ],
};
