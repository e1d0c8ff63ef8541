#!/usr/bin/env bash
# Instructions per getUser call, SDK vs raw reqwest + serde_json vs raw bytes,
# counted by valgrind's callgrind on the client thread only.
#
#   benches/callgrind.sh            # 50 and 350 calls per mode
#   SHORT=100 LONG=1100 benches/callgrind.sh
#
# Each mode runs twice (SHORT and LONG calls after a 20-call warm-up); the
# difference divided by LONG - SHORT is the cost of one call, without
# start-up. The driver is the `client` bench binary itself
# (`--callgrind-drive MODE N`), with its loopback server on a second thread;
# --separate-threads=yes keeps the server's instructions out of the count.
set -euo pipefail

SHORT=${SHORT:-50}
LONG=${LONG:-350}
cd "$(dirname "$0")/.."

command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }

exe=$(cargo bench --bench client --no-run --message-format=json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
[ -x "$exe" ] || { echo "cannot find the bench binary" >&2; exit 1; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

totals() { # mode calls -> instructions of the main thread
    valgrind --tool=callgrind --separate-threads=yes \
        --callgrind-out-file="$out/cg.$1.$2" "$exe" --callgrind-drive "$1" "$2" \
        >/dev/null 2>&1
    sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$out/cg.$1.$2-01"
}

declare -A per_call
for mode in sdk raw raw_no_retry_layer raw_bytes; do
    short=$(totals "$mode" "$SHORT")
    long=$(totals "$mode" "$LONG")
    per_call[$mode]=$(( (long - short) / (LONG - SHORT) ))
    echo "$mode: ${per_call[$mode]} instructions per call"
done
awk -v s="${per_call[sdk]}" -v r="${per_call[raw]}" -v n="${per_call[raw_no_retry_layer]}" \
    -v b="${per_call[raw_bytes]}" 'BEGIN {
    printf "RATIO get_user instructions per call sdk/raw = %.3f (target <= 1.05)\n", s / r
    printf "RATIO get_user instructions per call sdk/raw_no_retry_layer = %.3f (target <= 1.05)\n", s / n
    printf "SDK overhead %d instructions per call; decoding the user %d\n", s - r, r - b
}'
