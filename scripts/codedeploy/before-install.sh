#!/usr/bin/env bash
# BeforeInstall: prepares the instance for the new revision's files.
#
# Runs as root on AWS (as the current user in the local rehearsal).
# Guarantees: Node.js is installed and recent enough; the log directory exists
# and belongs to the app user; the install root exists, is root's, and holds
# nothing the app user could have written (an install root from a release that
# let the app user own it is emptied, so Install copies a clean tree); the
# install root's own filesystem has room for the revision. Idempotent.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly MIN_NODE_MAJOR=20
# The unpacked revision plus headroom for logs; checked before CodeDeploy copies.
readonly MIN_FREE_KB=$((3 * $(du -sk "${HOOK_BUNDLE_ROOT}" | cut -f1)))
LOG_DIR="${LOG_DIR:?LOG_DIR is not set}"

command -v node >/dev/null || die "node is not installed: the instance's user data installs Node.js (see infra/)"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
((node_major >= MIN_NODE_MAJOR)) || die "node $(node --version) is too old: this service needs ${MIN_NODE_MAJOR} or newer"

# Both paths sit in root-owned parents (/var/log, /opt), so neither can be a link the app user planted.
[[ ! -L "${LOG_DIR}" ]] || die "${LOG_DIR} is a symbolic link: the log directory must be a directory"
[[ ! -L "${INSTALL_ROOT}" ]] || die "${INSTALL_ROOT} is a symbolic link: the install root must be a directory"
if [[ "$(id -u)" == 0 ]]; then
  if id "${APP_USER:-}" >/dev/null 2>&1; then
    install -d -o "${APP_USER}" -g "$(id -gn "${APP_USER}")" -m 0750 "${LOG_DIR}"
  else
    install -d -m 0755 "${LOG_DIR}"
  fi
  # Anything in the install root not root's, or writable by others, may have been planted by the app user.
  if [[ ! -d "${INSTALL_ROOT}" ]]; then
    install -d -o root -g root -m 0755 "${INSTALL_ROOT}"
  elif [[ -n "$(first_not_root_only "${INSTALL_ROOT}")" ]]; then
    log "${INSTALL_ROOT} holds files the app user could change: emptying it so Install copies a clean tree"
    find -P "${INSTALL_ROOT}" -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +
    chown root:root "${INSTALL_ROOT}"
    chmod 0755 "${INSTALL_ROOT}"
  fi
else
  mkdir -p "${LOG_DIR}" "$(dirname "${INSTALL_ROOT}")"
fi

# The install root may be a filesystem of its own: measure it, not its parent.
free="$(free_kb "${INSTALL_ROOT}")"
if ((free < MIN_FREE_KB)); then
  die "only ${free} KB free for ${INSTALL_ROOT}; the revision needs ${MIN_FREE_KB} KB"
fi
log "ready to install: node $(node --version), ${free} KB free for ${INSTALL_ROOT}, logs in ${LOG_DIR}"
