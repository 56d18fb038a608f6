#!/usr/bin/env bash
# ValidateService: proves the new revision is the one serving, before traffic.
#
# Runs as the app user, before the instance takes traffic, so it checks
# 127.0.0.1 and not the load balancer. Succeeds only when /health answers 200
# with status "ok" AND the commit of this bundle: the old process could still
# be answering. Bounded retries; on failure prints the tail of pm2's log and
# the service's, then the last answer, then the cause: CodeDeploy keeps the end.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

readonly ATTEMPTS="${VALIDATE_ATTEMPTS:-30}"
readonly INTERVAL_SECONDS="${VALIDATE_INTERVAL_SECONDS:-2}"
readonly URL="http://127.0.0.1:${PORT}${HEALTH_PATH}"

# Prints one line describing the answer; exit 0 only for the expected build.
probe() {
  # The ${} below are JavaScript template literals, not shell expansions.
  # shellcheck disable=SC2016
  node -e '
    const [url, commit] = process.argv.slice(1);
    fetch(url, { signal: AbortSignal.timeout(2000) }).then(async (res) => {
      const text = await res.text();
      let body;
      try { body = JSON.parse(text); } catch { body = undefined; }
      console.log(`HTTP ${res.status} ${text.slice(0, 300)}`);
      process.exit(res.status === 200 && body?.status === "ok" && body?.commit === commit ? 0 : 2);
    }, (error) => {
      console.log(`no answer (${error.cause?.code ?? error.name})`);
      process.exit(3);
    });
  ' "${URL}" "${BUNDLE_COMMIT}"
}

last=""
for ((attempt = 1; attempt <= ATTEMPTS; attempt++)); do
  if last="$(probe)"; then
    log "healthy on attempt ${attempt}: ${last}"
    exit 0
  fi
  sleep "${INTERVAL_SECONDS}"
done

# CodeDeploy shows only the last ~2 KB of a failed script's output: context
# first, then the last answer, and the cause on the very last line.
show_logs
log "last answer: ${last}"
die "${URL} did not report commit ${BUNDLE_COMMIT} after ${ATTEMPTS} attempts"
