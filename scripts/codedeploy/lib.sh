# shellcheck shell=bash
# Shared by every CodeDeploy lifecycle hook in this folder. Sourced, never run.
#
# Settings come from three places, first one wins:
#   1. the environment (tests and the local rehearsal override INSTALL_ROOT,
#      PM2_HOME, PORT... this way);
#   2. the instance's env file (INSTANCE_ENV_FILE, written by the instance's
#      user data: APP_ENV, AWS_REGION, CONFIG_SSM_PATH);
#   3. deploy.env at the root of this bundle (written by the packaging step).
# Each file may set only the keys listed for it below; any other line is
# ignored and said. Numbers are decimal digits, checked before any arithmetic
# uses them: bash evaluates `$(...)` inside an arithmetic expression.

# The keys each file may set. NODE_OPTIONS, PATH, VALIDATE_ATTEMPTS... are not
# among them: a file must never change what a hook (some run as root) executes.
readonly INSTANCE_ENV_KEYS=' APP_ENV AWS_REGION CONFIG_SSM_PATH PORT '
readonly DEPLOY_ENV_KEYS=' SERVICE_NAME PORT HEALTH_PATH INSTALL_ROOT LOG_DIR APP_USER INSTANCE_ENV_FILE SHUTDOWN_TIMEOUT_MS STARTUP_TIMEOUT_MS BUNDLE_VERSION BUNDLE_COMMIT BUNDLE_BUILT_AT '
# Whole numbers, wherever they come from (environment or file).
readonly NUMBER_KEYS='PORT SHUTDOWN_TIMEOUT_MS STARTUP_TIMEOUT_MS VALIDATE_ATTEMPTS PM2_INSTANCES CRASH_WATCH_SECONDS'
# Values a file may hold: what the packaging step writes (no quoting, no expansion).
readonly SAFE_VALUE='^[A-Za-z0-9_./:@+-]*$'

# Bounds for pm2 calls that do not start or stop workers (describe, jlist, save).
readonly PM2_CALL_TIMEOUT_SECONDS=30
# pm2's own overhead on top of its workers' timeouts: spawning its daemon, IPC.
# shellcheck disable=SC2034 # used by the hooks that source this file
readonly PM2_SPAWN_MARGIN_SECONDS=30
# Free space pm2 needs in its home (dump file, its log) and output capture needs in TMPDIR.
readonly PM2_HOME_MIN_FREE_KB=10240
readonly TMPDIR_MIN_FREE_KB=1024

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

# Exports the allowed KEY=VALUE lines of a file, skipping keys already set.
# Usage: load_env_file <file> <allowed keys, space-separated and space-padded>
load_env_file() {
  local file="$1" allowed="$2" line key value
  [[ -f "${file}" ]] || return 0
  while IFS= read -r line || [[ -n "${line}" ]]; do
    [[ "${line}" =~ ^[[:space:]]*(#|$) ]] && continue
    [[ "${line}" =~ ^([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || die "malformed line in ${file}: ${line%%=*}"
    key="${BASH_REMATCH[1]}"
    value="${BASH_REMATCH[2]}"
    if [[ "${allowed}" != *" ${key} "* ]]; then
      log "ignoring ${key} in ${file}: not a setting this file may hold"
      continue
    fi
    [[ "${value}" =~ ${SAFE_VALUE} ]] || die "${key} in ${file} has characters a setting may not hold (letters, digits and _ . / : @ + - only)"
    if [[ -z "${!key+set}" ]]; then
      export "${key}=${value}"
    fi
  done <"${file}"
}

# Dies unless every number setting that is set is decimal digits.
check_numbers() {
  local key
  for key in ${NUMBER_KEYS}; do
    [[ -z "${!key+set}" || "${!key}" =~ ^[0-9]{1,9}$ ]] || die "${key} must be a whole number of decimal digits"
  done
  [[ -z "${VALIDATE_INTERVAL_SECONDS+set}" || "${VALIDATE_INTERVAL_SECONDS}" =~ ^[0-9]{1,4}(\.[0-9]{1,3})?$ ]] ||
    die "VALIDATE_INTERVAL_SECONDS must be a decimal number of seconds"
}

# The instance env file's path itself comes from deploy.env (or the environment).
INSTANCE_ENV_FILE="${INSTANCE_ENV_FILE:-$(sed -n 's/^INSTANCE_ENV_FILE=//p' "${HOOK_BUNDLE_ROOT}/deploy.env" 2>/dev/null)}"
load_env_file "${INSTANCE_ENV_FILE}" "${INSTANCE_ENV_KEYS}"
load_env_file "${HOOK_BUNDLE_ROOT}/deploy.env" "${DEPLOY_ENV_KEYS}"
check_numbers

: "${SERVICE_NAME:?SERVICE_NAME is not set: deploy.env is missing from the bundle}"
: "${INSTALL_ROOT:?INSTALL_ROOT is not set}"
: "${PORT:?PORT is not set}"
export SERVICE_NAME INSTALL_ROOT PORT

APP_DIR="${INSTALL_ROOT}/app"
readonly APP_DIR
PM2_HOME_DIR="${PM2_HOME:-${HOME}/.pm2}"
readonly PM2_HOME_DIR
# Plain pm2 output in CodeDeploy's scripts.log: no banner, no colour codes.
export PM2_DISCRETE_MODE=true FORCE_COLOR=0

# Free KB on the filesystem holding <path>, or its nearest existing ancestor
# (a mount point counts as its own filesystem, not its parent's).
free_kb() {
  local dir="$1"
  while [[ ! -e "${dir}" && "${dir}" != / ]]; do dir="$(dirname "${dir}")"; done
  df -Pk -- "${dir}" | awk 'NR == 2 { print $4 }'
}

# Prints the first entry under <dir> (itself included) that is not root's, or that
# a non-root user could write: other-writable, or group-writable for a group
# other than root's. Links are judged by owner only; none is followed.
first_not_root_only() {
  find -P "$1" \( ! -uid 0 -o \( ! -type l \( -perm -0002 -o \( ! -gid 0 -perm -0020 \) \) \) \) -print -quit
}

# pm2 ships in the bundle: no global install, no internet at deploy time.
pm2_installed() {
  [[ -f "${APP_DIR}/node_modules/pm2/bin/pm2" ]]
}

# Dies when pm2's home has no room: pm2's client would wait for a daemon that
# cannot start there until the event times out.
require_pm2_home_space() {
  local free
  free="$(free_kb "${PM2_HOME_DIR}")"
  ((free >= PM2_HOME_MIN_FREE_KB)) ||
    die "pm2's home ${PM2_HOME_DIR} has ${free} KB free, pm2 needs ${PM2_HOME_MIN_FREE_KB} KB: free space on that disk"
}

# Runs the installed pm2 within <seconds>. Usage: pm2_run <seconds> <pm2 args...>
# stdin is closed and output goes through a file, not a pipe: pm2 may spawn its
# daemon, which must not inherit this hook's stdout, or CodeDeploy would wait for
# it forever. With no room in TMPDIR the output is dropped (and said), so a full
# TMPDIR cannot fail a pm2 command that worked: callers judge by pm2's state.
pm2_run() {
  local seconds="$1" out="" status=0 tmp="${TMPDIR:-/tmp}"
  shift
  if (($(free_kb "${tmp}") >= TMPDIR_MIN_FREE_KB)); then
    out="$(mktemp 2>/dev/null)" || out=""
  fi
  [[ -n "${out}" ]] || log "warning: ${tmp} (TMPDIR) has no room: pm2 $1's output is not shown"
  timeout --kill-after=5 "${seconds}" node "${APP_DIR}/node_modules/pm2/bin/pm2" "$@" --no-color \
    </dev/null >"${out:-/dev/null}" 2>&1 || status=$?
  if [[ -n "${out}" ]]; then
    sed 's/^/  pm2: /' "${out}" >&2
    rm -f "${out}"
  fi
  if ((status == 124 || status == 137)); then
    log "pm2 $1 did not finish within ${seconds} s and was stopped"
  fi
  return "${status}"
}

# Prints "<workers> <online> <restarts> <errored>" for this service, from pm2's
# process list (read, never printed: it holds the workers' environment).
pm2_state() {
  # shellcheck disable=SC2016 # JavaScript, not shell expansions.
  timeout --kill-after=5 "${PM2_CALL_TIMEOUT_SECONDS}" node "${APP_DIR}/node_modules/pm2/bin/pm2" jlist </dev/null 2>/dev/null |
    node -e '
      const name = process.argv[1];
      let text = "";
      process.stdin.on("data", (chunk) => (text += chunk));
      process.stdin.on("end", () => {
        let list;
        try { list = JSON.parse(text.slice(text.indexOf("["))); } catch { process.exit(1); }
        const mine = list.filter((p) => p.name === name);
        const count = (status) => mine.filter((p) => p.pm2_env?.status === status).length;
        const restarts = mine.reduce((sum, p) => sum + (p.pm2_env?.restart_time ?? 0), 0);
        console.log(`${mine.length} ${count("online")} ${restarts} ${count("errored")}`);
      });
    ' "${SERVICE_NAME}"
}

# True when pm2 manages a process of this name.
pm2_has_app() {
  timeout --kill-after=5 "${PM2_CALL_TIMEOUT_SECONDS}" \
    node "${APP_DIR}/node_modules/pm2/bin/pm2" describe "${SERVICE_NAME}" </dev/null >/dev/null 2>&1
}

# Sets PM2_WORKERS, PM2_LISTEN_MS and PM2_KILL_MS from the pm2 process file, the
# one place that derives them (worker count from the CPU count, capped; timeouts
# from the service's own), so each pm2 call is bounded by its real worst case.
# Runs as the app user only: it loads the process file. Returns 1, said, when
# the file cannot be read or gives no whole numbers.
read_pm2_settings() {
  local settings
  settings="$(node -e '
    const app = require(process.argv[1]).apps[0];
    console.log(app.instances, app.listen_timeout, app.kill_timeout);
  ' "${APP_DIR}/ecosystem.config.js" </dev/null)" || {
    log "${APP_DIR}/ecosystem.config.js could not be read (see above)"
    return 1
  }
  read -r PM2_WORKERS PM2_LISTEN_MS PM2_KILL_MS <<<"${settings}"
  [[ "${PM2_WORKERS}" =~ ^[0-9]+$ && "${PM2_LISTEN_MS}" =~ ^[0-9]+$ && "${PM2_KILL_MS}" =~ ^[0-9]+$ ]] || {
    log "${APP_DIR}/ecosystem.config.js must give whole numbers for instances, listen_timeout and kill_timeout"
    return 1
  }
}

# Prints the last lines of pm2's own log (a worker that crashes while loading
# never reaches its own log; pm2's shows the restarts), then of the service's:
# the service's own words come closest to the cause, which callers print last.
show_logs() {
  local file lines
  for file in "${PM2_HOME_DIR}/pm2.log" "${LOG_DIR:-}/${SERVICE_NAME}.log"; do
    if [[ -f "${file}" ]]; then
      lines=15
      [[ "${file}" == "${PM2_HOME_DIR}/pm2.log" ]] && lines=8
      log "last lines of ${file}:"
      tail -n "${lines}" -- "${file}" | cut -c 1-1000 >&2
    fi
  done
}
