#!/usr/bin/env bash
# ApplicationStart: runs the new revision under pm2.
#
# Runs as the app user. Starts the service, or reloads it one worker at a time
# when it is already running (e.g. ApplicationStop could not stop it), watches
# the workers for a short window and fails at once if they crash-loop, then
# saves pm2's process list so a reboot restores it. Every pm2 call is bounded:
# startOrReload by its workers' own timeouts (see app/ecosystem.config.js).
# Success or failure is judged by what pm2 runs, not by pm2's exit code alone.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# How long the new workers are watched, and how many restarts in that window are a crash loop.
readonly CRASH_WATCH_SECONDS="${CRASH_WATCH_SECONDS:-10}"
readonly CRASH_LOOP_RESTARTS=3

pm2_installed || die "pm2 is missing from ${APP_DIR}: the install is incomplete"
require_pm2_home_space
mkdir -p "${LOG_DIR}"
export NODE_ENV=production LOG_DIR SHUTDOWN_TIMEOUT_MS STARTUP_TIMEOUT_MS
# Without APP_ENV the service would take itself for a laptop and boot on
# defaults; the instance's env file (user data) always names the environment.
[[ -n "${APP_ENV:-}" ]] || die "APP_ENV is not set: ${INSTANCE_ENV_FILE} must name the environment (user data writes it)"
export APP_ENV
read_pm2_settings || die "pm2's settings could not be derived from ${APP_DIR}/ecosystem.config.js"
# A reload replaces the workers one at a time, each within listen_timeout + kill_timeout.
readonly START_TIMEOUT_SECONDS=$((PM2_WORKERS * (PM2_LISTEN_MS + PM2_KILL_MS) / 1000 + PM2_SPAWN_MARGIN_SECONDS))

log "starting ${SERVICE_NAME} ${BUNDLE_VERSION} (${BUNDLE_COMMIT}) on port ${PORT}, environment ${APP_ENV}, ${PM2_WORKERS} workers"
status=0
pm2_run "${START_TIMEOUT_SECONDS}" startOrReload "${APP_DIR}/ecosystem.config.js" --update-env || status=$?
read -r workers online restarts errored <<<"$(pm2_state || echo '0 0 0 0')"
if ((status != 0)); then
  if ((workers > 0 && online == workers)); then
    log "warning: pm2 startOrReload exited ${status}, yet ${online} of ${workers} workers are online: carrying on"
  else
    show_logs
    die "pm2 could not start ${SERVICE_NAME} (exit ${status}; ${online} of ${workers} workers online)"
  fi
fi

# Restarts counted from here: a reload's own replacements are already in the baseline.
baseline="${restarts}"
deadline=$((SECONDS + CRASH_WATCH_SECONDS))
while ((SECONDS < deadline)); do
  sleep 1
  read -r workers online restarts errored <<<"$(pm2_state || echo "${workers} ${online} ${restarts} ${errored}")"
  if ((restarts - baseline >= CRASH_LOOP_RESTARTS || errored > 0)); then
    show_logs
    die "${SERVICE_NAME}'s workers are crash-looping: $((restarts - baseline)) restarts within ${CRASH_WATCH_SECONDS} s of starting, ${errored} stopped by pm2 (see the log lines above)"
  fi
done
log "${online} of ${workers} workers online, $((restarts - baseline)) restarts in ${CRASH_WATCH_SECONDS} s"

pm2_run "${PM2_CALL_TIMEOUT_SECONDS}" save --force ||
  log "WARNING: pm2 save failed: a reboot would not restore ${SERVICE_NAME} until the next deployment"
log "started; ValidateService checks that it answers"
