#!/usr/bin/env bash
# AfterInstall: the new revision's files are in INSTALL_ROOT.
#
# Runs as root on AWS. Guarantees: the install is complete and is this bundle
# (not a half-copied or older one), and pm2 is registered with systemd so the
# service comes back after a reboot. Idempotent.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for file in dist/main.js build-info.json ecosystem.config.js node_modules/pm2/bin/pm2; do
  [[ -f "${APP_DIR}/${file}" ]] || die "the install is incomplete: ${APP_DIR}/${file} is missing"
done
installed_commit="$(node -p 'require(process.argv[1]).commit' "${APP_DIR}/build-info.json")"
[[ "${installed_commit}" == "${BUNDLE_COMMIT}" ]] ||
  die "installed build is ${installed_commit}, expected ${BUNDLE_COMMIT}: the install did not complete"

if [[ "$(id -u)" == 0 && -d /run/systemd/system ]] && id "${APP_USER}" >/dev/null 2>&1; then
  app_home="$(getent passwd "${APP_USER}" | cut -d: -f6)"
  # Writes pm2-<user>.service, which runs `pm2 resurrect` at boot; rerunning it is harmless.
  pm2_run startup systemd -u "${APP_USER}" --hp "${app_home}" || die "pm2 could not register with systemd"
  log "pm2 will restore ${SERVICE_NAME} at boot (pm2-${APP_USER}.service)"
else
  log "skipping pm2 boot registration: needs root and systemd (this is a local run)"
fi
log "installed ${SERVICE_NAME} ${BUNDLE_VERSION} (${BUNDLE_COMMIT})"
