#!/usr/bin/env bash
# The whole suite (what README's test command and .ci/run run): typecheck, build dist/stratum-edge, bun test unit + e2e.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
if ! command -v bun >/dev/null; then echo "test/run.sh: bun not found: run 'npm ci' first" >&2; exit 1; fi
# The bitcoind-upstream tests mine against real Litecoin Core nodes (Debian's litecoind).
if ! command -v litecoind >/dev/null; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "== installing litecoind (Debian package) for the real-node tests"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq litecoind
  else
    echo "test/run.sh: litecoind is missing: install Debian's litecoind package (the real-node tests need it)" >&2
  fi
fi
# The Redis tests (store.redis: two relays sharing bans and streams) run a real redis-server (Debian's redis-server).
if ! command -v redis-server >/dev/null; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "== installing redis-server (Debian package) for the Redis tests"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server
  else
    echo "test/run.sh: redis-server is missing: install Debian's redis-server package (the Redis tests need it)" >&2
  fi
fi
# The dashboard test drives a real headless Chromium (Debian's chromium) through playwright-core.
if [ ! -x /usr/bin/chromium ] && [ -z "${CHROMIUM_PATH:-}" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "== installing chromium (Debian package) for the dashboard test"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
  else
    echo "test/run.sh: chromium is missing: install Debian's chromium package (the dashboard test needs it)" >&2
  fi
fi
# bench --mode baseline's eviction test reads the page cache with util-linux's fincore (Debian's util-linux-extra).
if ! command -v fincore >/dev/null; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "== installing util-linux-extra (Debian package: fincore) for the page-cache test"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq util-linux-extra
  else
    echo "test/run.sh: fincore is missing: install Debian's util-linux-extra package (the page-cache test checks less without it)" >&2
  fi
fi
echo "== typecheck (tsc --noEmit)"
tsc --noEmit -p .
echo "== build (compile.sh)"
bash compile.sh
echo "== bun test"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
bun test "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
pass="$(grep -Eo '^ *[0-9]+ pass$' "$log" | tail -1 | tr -dc 0-9)"
fail="$(grep -Eo '^ *[0-9]+ fail$' "$log" | tail -1 | tr -dc 0-9)"
# One plain closing line that any CI log reader understands.
echo "tests: ${pass:-0} passed, ${fail:-0} failed"
if [ "${pass:-0}" = "0" ]; then echo "test/run.sh: no test ran" >&2; exit 1; fi
exit "$status"
