#!/usr/bin/env bash
# ApplicationStart: runs the new revision under pm2.
#
# Runs as the app user. Starts the service, or reloads it one worker at a time
# when it is already running (e.g. ApplicationStop could not stop it), then
# saves pm2's process list so a reboot restores it. pm2's readiness timeouts
# come from the service's own (see app/ecosystem.config.js).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

pm2_installed || die "pm2 is missing from ${APP_DIR}: the install is incomplete"
mkdir -p "${LOG_DIR}"
export NODE_ENV=production LOG_DIR SHUTDOWN_TIMEOUT_MS STARTUP_TIMEOUT_MS
export APP_ENV="${APP_ENV:-local}"

log "starting ${SERVICE_NAME} ${BUNDLE_VERSION} (${BUNDLE_COMMIT}) on port ${PORT}, environment ${APP_ENV}"
pm2_run startOrReload "${APP_DIR}/ecosystem.config.js" --update-env ||
  die "pm2 could not start ${SERVICE_NAME}; see ${LOG_DIR}/${SERVICE_NAME}.log"
pm2_run save --force || log "warning: could not save the pm2 process list; a reboot will not restore the service"
log "started; ValidateService checks that it answers"
