#!/usr/bin/env bash
# CodeBuild pre_build: the dependency audit gate (buildspec.yml).
#
# Fails on any high or critical advisory (npm audit --audit-level=high) and on
# any package whose registry signature or provenance does not verify (npm audit
# signatures). If the registry cannot be asked at all (an offline mirror, a
# proxy that refuses the audit endpoint), that is a failure too, unless
# AUDIT_IF_UNREACHABLE=warn: the local rehearsal sets it, loudly, for
# registries that serve no audits. The gate never passes silently.
set -euo pipefail

readonly MODE="${AUDIT_IF_UNREACHABLE:-fail}"
# One quick retry: a transient blip is retried, an unreachable registry is reported in seconds, not minutes.
readonly RETRY=(--fetch-retries=1 --fetch-retry-mintimeout=1000 --fetch-retry-maxtimeout=5000)
report="$(mktemp)"
trap 'rm -f "${report}"' EXIT

log() {
  printf '%s [audit] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2
}

unreachable() {
  if [[ "${MODE}" == "warn" ]]; then
    log "WARNING: $1 could not reach the registry; AUDIT_IF_UNREACHABLE=warn lets the build go on. CodeBuild fails here."
  else
    log "$1 could not reach the registry. Fix registry access, or set AUDIT_IF_UNREACHABLE=warn to accept the risk."
    exit 1
  fi
}

if npm audit "${RETRY[@]}" --audit-level=high --json >"${report}" 2>/dev/null; then
  log "npm audit: no high or critical advisories"
elif node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); process.exit(r.metadata && r.metadata.vulnerabilities ? 0 : 1)' "${report}" 2>/dev/null; then
  npm audit --audit-level=high || true
  log "npm audit: high or critical advisories found (above); update or replace those packages"
  exit 1
else
  unreachable "npm audit"
fi

if npm audit signatures "${RETRY[@]}" >"${report}" 2>&1; then
  log "npm audit signatures: $(grep -m1 -i 'verified' "${report}" || echo 'verified')"
elif grep -qiE '(invalid|missing).*(signature|attestation)' "${report}"; then
  cat "${report}" >&2
  log "npm audit signatures: some packages failed verification (above)"
  exit 1
else
  unreachable "npm audit signatures"
fi
