#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ briefly: a smoke test for CI (the
# targets build, the seeds and a few thousand mutations of them do not
# crash), not a fuzzing campaign (docs/security.md, "Fuzzing", gives the
# long runs and how to repeat them).
#
# Needs a nightly toolchain (rustup's `nightly`, as on CI machines); installs
# cargo-fuzz itself when missing (`cargo install`, pinned version, from
# crates.io). Without nightly it prints SKIPPED and exits 0: nothing else
# can run libFuzzer.
#
# Every target `cargo fuzz list` shows runs, so a new target (the gateway's
# proxy_path, reserved in fuzz/Cargo.toml) needs no change here; each is
# seeded from fuzz/seeds/<target>/ and keeps what it finds in
# fuzz/corpus/<target>/ (git-ignored).
#
# Settings (environment):
#   FUZZ_SMOKE_RUNS     executions per target (default 20000)
#   FUZZ_SMOKE_SECONDS  at most this long per target (default 10)
#   FUZZ_TARGETS        space-separated subset (default: all)
#   FUZZ_SANITIZER      cargo fuzz --sanitizer (default address)
#
# A crash fails the script (exit 1) and leaves the input in
# fuzz/artifacts/<target>/; reproduce it with
#   cargo +nightly fuzz run <target> fuzz/artifacts/<target>/<file>
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_FUZZ_VERSION=0.13.2
runs=${FUZZ_SMOKE_RUNS:-20000}
seconds=${FUZZ_SMOKE_SECONDS:-10}
sanitizer=${FUZZ_SANITIZER:-address}

if ! command -v rustup >/dev/null 2>&1 || ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz smoke SKIPPED: no nightly toolchain (cargo +nightly --version fails); libFuzzer needs nightly"
    exit 0
fi

bash scripts/install-tool.sh cargo-fuzz "$CARGO_FUZZ_VERSION"

targets=${FUZZ_TARGETS:-$(cargo +nightly fuzz list)}
if [ -z "$targets" ]; then
    echo "fuzz smoke: no targets found" >&2
    exit 1
fi

echo "== cargo fuzz build (sanitizer: $sanitizer)"
cargo +nightly fuzz build --sanitizer "$sanitizer" --debug-assertions

for t in $targets; do
    echo "== fuzz $t: at most $runs runs or $seconds s"
    mkdir -p "fuzz/corpus/$t"
    seeds=()
    [ -d "fuzz/seeds/$t" ] && seeds=("fuzz/seeds/$t")
    log="$(mktemp)"
    if ! cargo +nightly fuzz run --sanitizer "$sanitizer" --debug-assertions "$t" \
        "fuzz/corpus/$t" "${seeds[@]}" -- \
        -runs="$runs" -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1; then
        tail -n 60 "$log" >&2
        rm -f "$log"
        echo "fuzz $t FAILED; the input is in fuzz/artifacts/$t/" >&2
        exit 1
    fi
    # libFuzzer's closing lines: "Done N runs in S second(s)" and the stats.
    grep -E '^(Done |stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
    rm -f "$log"
done
echo "fuzz smoke: $(echo $targets | wc -w) targets passed"
