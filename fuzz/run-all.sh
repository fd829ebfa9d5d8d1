#!/usr/bin/env bash
# Seeds the corpora and runs every fuzz target for SECONDS each (default 60).
# usage: fuzz/run-all.sh [SECONDS]      (from anywhere; needs cargo-fuzz)
# On stable Rust, RUSTC_BOOTSTRAP=1 lets cargo-fuzz use the sanitizer flags;
# fuzz/target keeps that build apart from the main one. Fails on any crash,
# leak, time-out or out-of-memory, leaving the input in fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
export RUSTC_BOOTSTRAP=1
targets=(load_mixed read_message_chunks resume_after_timeout store_load_roundtrip chat_message layout_round_trip)
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  cp -n seeds/* "corpus/$target/" 2>/dev/null || true
  cp -n ../../shared/mfc-samples/* "corpus/$target/" 2>/dev/null || true
  rm -f "corpus/$target/README.md"
done
for target in "${targets[@]}"; do
  echo "== $target (${seconds}s)"
  cargo fuzz run "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 2>&1 \
    | grep -E "^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed|stat::peak|==[0-9]+==|SUMMARY|Done )" || true
  # cargo fuzz exits non-zero on a finding; the pipeline above hides it.
  if compgen -G "artifacts/$target/*" >/dev/null; then
    echo "fuzz: $target found a problem: $(ls artifacts/$target)" >&2
    exit 1
  fi
done
