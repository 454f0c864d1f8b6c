#!/usr/bin/env bash
# Builds the single binary dist/stratum-edge with `bun build --compile`; also tries `deno compile` and says why it cannot run here.
set -euo pipefail
cd "$(dirname "$0")"
BUN="${BUN:-node_modules/.bin/bun}"
DENO="${DENO:-node_modules/.bin/deno}"
if [ ! -x "$BUN" ]; then BUN="$(command -v bun || true)"; fi
if [ -z "$BUN" ]; then echo "compile.sh: bun not found (run npm ci first)" >&2; exit 1; fi
mkdir -p dist
# Profile-guided bytecode layout (Bun's --bytecode-order): the bytecode a relay run uses sits together
# at the front, so fewer pages of the binary are read at start. `bash compile.sh --record-order` records
# build/stratum-edge.order again (a run of the relay on the devnet with 100 bench miners submitting for
# 3 s); the file holds function hashes, not code, and an older profile still applies to newer code.
# --compile-jit-policy: start-up code (config schema, module set-up) stays in the interpreter; the
# relay calls normalJitPolicy() once listening. Measured (idle RSS, median of 5, store.shareLog off):
# 53.1 MB → 47.8 (policy 256) → 46.4 (plus the order profile).
ORDER=build/stratum-edge.order
# --bytecode (needs CJS output, so main.ts has no top-level await) halves start-up: measured
# spawn → listening socket 31 ms → 20 ms median on the build machines.
# Worker threads (ethash and scrypt verifiers, session threads, the share log writer) are further entry points (Bun bundles each separately into the binary).
build() {
  "$BUN" build --compile --minify --sourcemap --bytecode --compile-jit-policy=256 "$@" --format=cjs src/main.ts src/verify/ethash_worker.ts src/verify/scrypt_worker.ts src/threads/session_thread.ts src/store/share_log_worker.ts --outfile dist/stratum-edge
}
if [ "${1:-}" = "--record-order" ]; then
  build
  mkdir -p build
  tmp="$(mktemp -d)"
  BUN_BYTECODE_ORDER_OUT="$ORDER" dist/stratum-edge --set stratum.port=0 --set http.port=0 --set "dataDir=$tmp" \
    --set difficulty.min=1e-12 --set difficulty.initial=1e-12 --set difficulty.suggestFloor=1e-12 --set bans.enabled=false --set stratum.maxMessagesPerSecond=100000 >"$tmp/log" 2>&1 &
  pid=$!
  port=""
  for _ in $(seq 100); do port="$(sed -n 's/.*stratum listening .*port=\([0-9]*\).*/\1/p' "$tmp/log" | head -1)"; [ -n "$port" ] && break; sleep 0.05; done
  dist/stratum-edge bench --mode shares --connections 100 --seconds 3 --target "127.0.0.1:$port" 2>&1 | grep "valid shares/s" || echo "compile.sh: the recording run submitted no shares" >&2
  kill -TERM "$pid"; wait "$pid" || true
  rm -rf "$tmp"
  chmod 644 "$ORDER"
  echo "recorded $ORDER ($(wc -l <"$ORDER") functions)"
fi
if [ -f "$ORDER" ]; then build --bytecode-order="$ORDER"; else build; fi
echo "built dist/stratum-edge ($(du -h dist/stratum-edge | cut -f1))"

# deno compile embeds a `denort` runtime binary that Deno downloads on first use; offline
# (as on our build machines) it fails with a DNS error. Detect that and say so instead of failing.
if [ "${SKIP_DENO_COMPILE:-}" != "1" ] && [ -x "$DENO" ]; then
  if out="$("$DENO" compile --quiet --no-check --allow-net --allow-read --allow-write --allow-env --allow-sys \
      --output dist/stratum-edge-deno src/main.ts 2>&1)"; then
    echo "built dist/stratum-edge-deno"
  else
    case "$out" in
      *dns*|*"lookup address"*|*denort*|*download*|*"error sending request"*)
        echo "deno compile skipped: it needs the denort runtime binary, which cannot be downloaded on this machine (offline)." ;;
      *) echo "deno compile failed:"; echo "$out" | head -20 ;;
    esac
  fi
fi
