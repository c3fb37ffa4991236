#!/usr/bin/env bash
# Resident memory of the console watching 20 clusters x 250 jobs (5,000 jobs) on a simulated
# fleet, read from /proc after it has polled for a while. Needs tmux.
#   scripts/bench-rss.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
cargo build --release --quiet --example fake_fleet --bin flinkdeck
work=$(mktemp -d)
./target/release/examples/fake_fleet 20 250 > "$work/flags" &
fleet=$!
trap 'kill $fleet 2>/dev/null; tmux kill-session -t flinkdeck-rss 2>/dev/null; sleep 0.5; rm -rf "$work"' EXIT
for _ in $(seq 50); do [ -s "$work/flags" ] && break; sleep 0.1; done
tmux new-session -d -s flinkdeck-rss -x 200 -y 50 \
  "FLINKDECK_CONFIG_DIR=$work/config FLINKDECK_DATA_DIR=$work/data ./target/release/flinkdeck $(cat "$work/flags")"
sleep "$seconds"
# The console itself, not the shell tmux starts it with.
pid=$(pgrep -f "^\./target/release/flinkdeck --cluster session-00" | head -n1)
jobs=$(tmux capture-pane -p -t flinkdeck-rss | head -n1)
echo "after ${seconds}s: ${jobs}"
grep -E 'VmRSS|VmHWM' "/proc/$pid/status"
