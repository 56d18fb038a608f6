#!/usr/bin/env bash
# ApplicationStop: stops the running service gracefully.
#
# CodeDeploy runs this script from the PREVIOUS revision, and skips it on an
# instance's first deployment. Guarantees: exits 0 when nothing is installed,
# and when the previous revision is broken (pm2 missing or failing), so a bad
# release can always be replaced by a good one; otherwise, when it exits, pm2
# no longer runs this service.
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

log "stopping ${SERVICE_NAME}: SIGINT, then the service drains within its shutdown deadline"
if pm2_run delete "${SERVICE_NAME}"; then
  # An empty saved list, so a reboot before ApplicationStart resurrects nothing stale.
  pm2_run save --force || log "warning: could not save the pm2 process list"
  log "stopped"
else
  log "warning: pm2 could not stop ${SERVICE_NAME}; ApplicationStart will reload it in place"
fi
