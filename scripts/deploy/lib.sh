# shellcheck shell=bash
# Shared by every CodeDeploy lifecycle hook in this folder. Sourced, never run.
#
# Settings come from three places, first one wins:
#   1. the environment (tests and the local rehearsal override INSTALL_ROOT,
#      PM2_HOME, PORT... this way);
#   2. the instance's env file (INSTANCE_ENV_FILE, written by the instance's
#      user data: APP_ENV, AWS_REGION, CONFIG_SSM_PATH);
#   3. deploy.env at the root of this bundle (written by the packaging step).

HOOK_BUNDLE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly HOOK_BUNDLE_ROOT
HOOK_NAME="$(basename "${0}" .sh)"
readonly HOOK_NAME

log() {
  printf '%s [%s] %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${HOOK_NAME}" "$*" >&2
}

die() {
  log "ERROR: $*"
  exit 1
}

# Exports KEY=VALUE lines from a file, skipping keys already set.
load_env_file() {
  local file="$1" line key value
  [[ -f "${file}" ]] || return 0
  while IFS= read -r line || [[ -n "${line}" ]]; do
    [[ "${line}" =~ ^[[:space:]]*(#|$) ]] && continue
    [[ "${line}" =~ ^([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || die "malformed line in ${file}: ${line%%=*}"
    key="${BASH_REMATCH[1]}"
    value="${BASH_REMATCH[2]}"
    if [[ -z "${!key+set}" ]]; then
      export "${key}=${value}"
    fi
  done <"${file}"
}

# The instance env file's path itself comes from deploy.env (or the environment).
INSTANCE_ENV_FILE="${INSTANCE_ENV_FILE:-$(sed -n 's/^INSTANCE_ENV_FILE=//p' "${HOOK_BUNDLE_ROOT}/deploy.env" 2>/dev/null)}"
load_env_file "${INSTANCE_ENV_FILE}"
load_env_file "${HOOK_BUNDLE_ROOT}/deploy.env"

: "${SERVICE_NAME:?SERVICE_NAME is not set: deploy.env is missing from the bundle}"
: "${INSTALL_ROOT:?INSTALL_ROOT is not set}"
: "${PORT:?PORT is not set}"
export SERVICE_NAME INSTALL_ROOT PORT

APP_DIR="${INSTALL_ROOT}/app"
readonly APP_DIR
# Plain pm2 output in CodeDeploy's scripts.log: no banner, no colour codes.
export PM2_DISCRETE_MODE=true FORCE_COLOR=0

# pm2 ships in the bundle: no global install, no internet at deploy time.
pm2_installed() {
  [[ -f "${APP_DIR}/node_modules/pm2/bin/pm2" ]]
}

# Runs the installed pm2. stdin is closed and output goes through a file, not a
# pipe: pm2 may spawn its daemon, which must not inherit this hook's stdout, or
# CodeDeploy would wait for it forever.
pm2_run() {
  local out status=0
  out="$(mktemp)"
  node "${APP_DIR}/node_modules/pm2/bin/pm2" "$@" --no-color </dev/null >"${out}" 2>&1 || status=$?
  sed 's/^/  pm2: /' "${out}" >&2
  rm -f "${out}"
  return "${status}"
}

# True when pm2 manages a process of this name.
pm2_has_app() {
  node "${APP_DIR}/node_modules/pm2/bin/pm2" describe "${SERVICE_NAME}" </dev/null >/dev/null 2>&1
}
