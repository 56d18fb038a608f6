#!/usr/bin/env bash
# AfterInstall: the new revision's files are in INSTALL_ROOT.
#
# Runs as root on AWS. Guarantees: the install is complete and is this bundle
# (not a half-copied or older one); as root, the install root is root's and
# nothing in it is writable by others; the boot service that restores pm2's
# process list (as the app user) and the log rotation are in place.
# Runs nothing from the install root and follows no link in it: the service
# user must never get code run as root. Idempotent.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Where the boot service and the log rotation go (tests point it at a temporary root).
readonly SYSTEM_ROOT="${SYSTEM_ROOT:-/}"
readonly UNIT_NAME="pm2-${APP_USER:-app}.service"
LOG_DIR="${LOG_DIR:?LOG_DIR is not set}"

for file in dist/main.js build-info.json ecosystem.config.js node_modules/pm2/bin/pm2; do
  [[ -f "${APP_DIR}/${file}" ]] || die "the install is incomplete: ${APP_DIR}/${file} is missing"
done

if [[ "$(id -u)" == 0 ]]; then
  offender="$(first_not_root_only "${INSTALL_ROOT}")"
  [[ -z "${offender}" ]] || die "${offender} is not root's, or is writable by others: the appspec permissions must leave the install root to root"
fi

# build-info.json is data: parsed, never loaded as a module, and never through a link.
# shellcheck disable=SC2016 # JavaScript, not shell expansions.
installed_commit="$(node -e '
  const fs = require("node:fs");
  const [appDir, file] = process.argv.slice(1);
  const fail = (why) => { console.error(why); process.exit(1); };
  try {
    for (const p of [appDir, file]) if (fs.lstatSync(p).isSymbolicLink()) fail(`${p} is a symbolic link: refusing to follow it`);
    const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    const stat = fs.fstatSync(fd);
    if (!stat.isFile() || stat.size > 65536) fail(`${file} is not a small regular file`);
    if (process.getuid() === 0 && stat.uid !== 0) fail(`${file} is not root'"'"'s`);
    let info;
    try { info = JSON.parse(fs.readFileSync(fd, "utf8")); } catch { fail(`${file} is not JSON`); }
    if (typeof info?.commit !== "string" || !/^[A-Za-z0-9_.-]+$/.test(info.commit)) fail(`${file} has no valid commit`);
    console.log(info.commit);
  } catch (error) {
    fail(`${file}: ${error.code ?? error.message}`);
  }
' "${APP_DIR}" "${APP_DIR}/build-info.json" </dev/null 2>&1)" || die "could not read the installed build's commit: ${installed_commit}"
[[ "${installed_commit}" == "${BUNDLE_COMMIT}" ]] ||
  die "installed build is ${installed_commit}, expected ${BUNDLE_COMMIT}: the install did not complete"

# Writes <file> with stdin's content, atomically, root's, mode 0644.
write_root_file() {
  local file="$1" tmp
  install -d -o root -g root -m 0755 "$(dirname "${file}")"
  tmp="$(mktemp "${file}.XXXXXX")"
  cat >"${tmp}"
  chmod 0644 "${tmp}"
  mv -f -- "${tmp}" "${file}"
}

if [[ "$(id -u)" != 0 ]] || ! id "${APP_USER:-}" >/dev/null 2>&1 ||
  [[ ! -d /run/systemd/system && "${SYSTEM_ROOT}" == / ]]; then
  log "skipping the boot service and log rotation: they need root, systemd and the ${APP_USER:-app} user (this is a local run)"
  log "installed ${SERVICE_NAME} ${BUNDLE_VERSION} (${BUNDLE_COMMIT})"
  exit 0
fi

app_home="$(getent passwd "${APP_USER}" | cut -d: -f6)"
app_group="$(id -gn "${APP_USER}")"
pm2_cli="$(command -v node) ${APP_DIR}/node_modules/pm2/bin/pm2"
# What `pm2 startup systemd` would write, written by root instead of running pm2
# as root: systemd starts pm2 as the app user, which restores the saved list.
write_root_file "${SYSTEM_ROOT%/}/etc/systemd/system/${UNIT_NAME}" <<UNIT
# Written by ${SERVICE_NAME}'s AfterInstall hook. Restores pm2's saved process list at boot.
[Unit]
Description=pm2 process list of ${APP_USER} (${SERVICE_NAME})
After=network-online.target
Wants=network-online.target

[Service]
Type=forking
User=${APP_USER}
Group=${app_group}
Environment=PM2_HOME=${app_home}/.pm2
PIDFile=${app_home}/.pm2/pm2.pid
LimitNOFILE=65536
Restart=on-failure
ExecStart=${pm2_cli} resurrect
ExecReload=${pm2_cli} reload all
ExecStop=${pm2_cli} kill

[Install]
WantedBy=multi-user.target
UNIT

# logrotate (the distribution's) as root with `su`: it opens the app user's
# files as that user. copytruncate: pm2 keeps the log open and is never signalled.
write_root_file "${SYSTEM_ROOT%/}/etc/logrotate.d/${SERVICE_NAME}" <<ROTATE
# Written by ${SERVICE_NAME}'s AfterInstall hook.
${LOG_DIR}/*.log {
    su ${APP_USER} ${app_group}
    daily
    maxsize 100M
    rotate 7
    missingok
    notifempty
    compress
    delaycompress
    copytruncate
}
ROTATE
# The distribution's timer runs logrotate daily; hourly makes maxsize bite on a busy day.
write_root_file "${SYSTEM_ROOT%/}/etc/systemd/system/logrotate.timer.d/${SERVICE_NAME}.conf" <<'TIMER'
[Timer]
OnCalendar=
OnCalendar=hourly
TIMER

if [[ -d /run/systemd/system && "${SYSTEM_ROOT}" == / ]]; then
  systemctl daemon-reload
  systemctl enable "${UNIT_NAME}" logrotate.timer || die "systemd could not enable ${UNIT_NAME}"
fi
log "pm2 will restore ${SERVICE_NAME} at boot (${UNIT_NAME}); ${LOG_DIR} rotates hourly above 100 MB, daily otherwise"
log "installed ${SERVICE_NAME} ${BUNDLE_VERSION} (${BUNDLE_COMMIT})"
