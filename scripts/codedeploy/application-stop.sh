#!/usr/bin/env bash
# ApplicationStop: stops the running service gracefully.
#
# CodeDeploy runs this script from the PREVIOUS revision, and skips it on an
# instance's first deployment. Guarantees: exits 0 when nothing is installed,
# and when the previous revision is broken (pm2 missing or failing), so a bad
# release can always be replaced by a good one; otherwise, when it exits, pm2
# no longer runs this service, or the script has said that it still does.
# pm2's saved list is always rewritten, or the failure said. Bounded.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if ! pm2_installed; then
  log "nothing installed at ${APP_DIR}: nothing to stop"
  exit 0
fi
if ! pm2_has_app; then
  log "pm2 runs no ${SERVICE_NAME} process: nothing to stop"
  exit 0
fi
read -r workers _ <<<"$(pm2_state || echo 1)"
if ! read_pm2_settings; then
  # A broken previous revision must not block the next one: bound by the contract's shutdown timeout.
  PM2_WORKERS="${workers}" PM2_KILL_MS=$((${SHUTDOWN_TIMEOUT_MS:-10000} + 2000))
fi
# pm2 stops the workers within kill_timeout each.
readonly STOP_TIMEOUT_SECONDS=$(((workers > PM2_WORKERS ? workers : PM2_WORKERS) * PM2_KILL_MS / 1000 + PM2_SPAWN_MARGIN_SECONDS))

log "stopping ${SERVICE_NAME}: SIGINT, then the service drains within its shutdown deadline"
status=0
pm2_run "${STOP_TIMEOUT_SECONDS}" delete "${SERVICE_NAME}" || status=$?
if pm2_has_app; then
  log "warning: pm2 could not stop ${SERVICE_NAME} (exit ${status}); ApplicationStart will reload it in place"
elif ((status != 0)); then
  log "stopped (pm2 delete exited ${status}, yet pm2 runs no ${SERVICE_NAME} process)"
else
  log "stopped"
fi
# An empty saved list, so a reboot before ApplicationStart resurrects nothing stale.
pm2_run "${PM2_CALL_TIMEOUT_SECONDS}" save --force ||
  log "WARNING: pm2 save failed: the saved list still names ${SERVICE_NAME}, and a reboot before the next ApplicationStart would start it again"
