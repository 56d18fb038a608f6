#!/usr/bin/env bash
# BeforeInstall: prepares the instance for the new revision's files.
#
# Runs as root on AWS (as the current user in the local rehearsal).
# Guarantees: Node.js is installed and recent enough, the log directory exists
# and belongs to the app user, the install root's parent exists, and the disk
# has room for the revision. Idempotent.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly MIN_NODE_MAJOR=20
# The unpacked revision plus headroom for logs; checked before CodeDeploy copies.
readonly MIN_FREE_KB=$((3 * $(du -sk "${HOOK_BUNDLE_ROOT}" | cut -f1)))

command -v node >/dev/null || die "node is not installed: the instance's user data installs Node.js (see infra/)"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
((node_major >= MIN_NODE_MAJOR)) || die "node $(node --version) is too old: this service needs ${MIN_NODE_MAJOR} or newer"

mkdir -p "${LOG_DIR}" "$(dirname "${INSTALL_ROOT}")"
if [[ "$(id -u)" == 0 ]] && id "${APP_USER}" >/dev/null 2>&1; then
  chown "${APP_USER}:" "${LOG_DIR}"
fi

free_kb="$(df -Pk "$(dirname "${INSTALL_ROOT}")" | awk 'NR == 2 { print $4 }')"
if ((free_kb < MIN_FREE_KB)); then
  die "only ${free_kb} KB free under $(dirname "${INSTALL_ROOT}"); the revision needs ${MIN_FREE_KB} KB"
fi
log "ready to install: node $(node --version), ${free_kb} KB free, logs in ${LOG_DIR}"
