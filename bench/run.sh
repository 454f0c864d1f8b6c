#!/usr/bin/env bash
# Builds dist/stratum-edge and runs the full benchmark set against it (start, shares at 1k and 10k, idle RSS, fan-out); prints figures and a final JSON line.
set -euo pipefail
cd "$(dirname "$0")/.."
SKIP_DENO_COMPILE="${SKIP_DENO_COMPILE:-1}" bash compile.sh
# The relay and the load generator each hold up to 10k sockets; stay under the hard limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# `all` = start (5 spawns) + shares (1,000 and 10,000 connections) + idle (10,000) + fanout (10,000).
exec dist/stratum-edge bench --mode all --binary dist/stratum-edge "$@"
