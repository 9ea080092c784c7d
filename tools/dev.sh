#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The two commands of README's quick start, on a fresh Debian 12 machine (as root, or with sudo):
#   bash tools/dev.sh start   install dependencies, build, start the application
#   bash tools/dev.sh test    install dependencies, build, run the whole test suite
# Also: deps (the dependencies only: the same PACKAGES start and test install), build (dependencies + build only),
# sanitize (the chosen suites under ASan + UBSan, as test runs them), bench (run the benchmarks), fuzz SECONDS.
set -euo pipefail
cd "$(dirname "$0")/.."

MOCK_LLM_VERSION=0.1.29 # @dwmkerr/mock-llm, the third-party server of the CLI tests
OPENAI_NODE_VERSION=4.104.0 # the official OpenAI Node.js client, the client of the moa serve tests

PACKAGES=(cmake ninja-build g++ ccache pkg-config python3
          qt6-base-dev qt6-charts-dev qt6-svg-dev libqt6opengl6-dev libqt6sql6-sqlite qtkeychain-qt6-dev
          dpkg-dev fakeroot desktop-file-utils appstream
          gnome-keyring dbus libsecret-1-0
          libcurl4-openssl-dev nlohmann-json3-dev libsqlite3-dev libmicrohttpd-dev xvfb)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

deps() {
    local missing=()
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
    if [ ${#missing[@]} -gt 0 ]; then
        echo "== installing: ${missing[*]}"
        as_root apt-get update -qq
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
}

build() {
    deps
    cmake --preset default >/dev/null
    cmake --build --preset default
}

test_servers() {
    # Third-party test peers, pinned, installed by the test setup into the build tree (never
    # committed): mock-llm (a server) and the official OpenAI Node.js client.
    local dir=build/npm
    local want=("@dwmkerr/mock-llm@$MOCK_LLM_VERSION" "openai@$OPENAI_NODE_VERSION")
    local have=1
    grep -qs "\"version\": \"$MOCK_LLM_VERSION\"" "$dir/node_modules/@dwmkerr/mock-llm/package.json" || have=0
    grep -qs "\"version\": \"$OPENAI_NODE_VERSION\"" "$dir/node_modules/openai/package.json" || have=0
    if [ $have = 0 ]; then
        mkdir -p "$dir"
        echo '{"private": true}' > "$dir/package.json"
        (cd "$dir" && npm install --no-audit --no-fund --loglevel=error "${want[@]}")
    fi
}


# The core, serve and GUI suites again under ASan + UBSan (clang, the `sanitize` preset, ccache), so
# that a use after free or undefined behaviour fails CI. A chosen subset, to keep CI well under
# 30 min on 2 cores (README, Tests): the engine over HTTP, the exact numbers, moa serve, the
# lifetimes of window, server and experiment runner, and the main window and run view.
SANITIZE_TESTS=(tst_sse_parser tst_config tst_accounting tst_lc_formula tst_engine_http tst_exact_numbers
                tst_serve tst_lifetimes tst_main_window tst_run_view)
sanitize() {
    command -v clang++ >/dev/null || DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq clang libclang-rt-14-dev
    cmake --preset sanitize >/dev/null
    cmake --build --preset sanitize --target "${SANITIZE_TESTS[@]}"
    [ -e build-sanitize/npm ] || ln -s ../build/npm build-sanitize/npm # the third-party test peers
    local names
    names=$(IFS='|'; echo "${SANITIZE_TESTS[*]}")
    ctest --preset sanitize -R "^($names)\$"
}

# The libFuzzer targets (clang, ASan+UBSan) for SECONDS each, from the committed seed corpora (and
# the recorded provider streams and presets). A crash fails the run; its input goes into
# tests/fuzz/corpus/ and so becomes a regression test of the ordinary build. PRESET is `fuzz` (-O2,
# its own tree: for long runs) or `sanitize` (what `test` uses: the tree the sanitized suites were
# just built in, so CI compiles the core with clang once).
fuzz() {
    local secs="$1" preset="${2:-fuzz}"
    command -v clang++ >/dev/null || DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq clang libclang-rt-14-dev
    cmake --preset "$preset" >/dev/null
    cmake --build --preset "$preset" --target fuzz_sse fuzz_config fuzz_import fuzz_request fuzz_screen
    local dir="build-$preset"
    for t in sse config import request screen; do
        mkdir -p "$dir/corpus-$t"
        local extra=()
        [ "$t" = sse ] && [ -d ../shared/data/provider_streams/streams ] && extra=(../shared/data/provider_streams/streams)
        [ "$t" = config ] && extra=(resources/presets)
        echo "== fuzz_$t for $secs s"
        if ! "$dir/tests/fuzz/fuzz_$t" -max_total_time="$secs" -max_len=65536 -print_final_stats=1 -artifact_prefix="$dir/crash-$t-" \
            "$dir/corpus-$t" "tests/fuzz/corpus/$t" "${extra[@]}" >"$dir/fuzz-$t.log" 2>&1; then
            tail -n 60 "$dir/fuzz-$t.log"
            echo "fuzz_$t found a crash: the input is $dir/crash-$t-*; add it to tests/fuzz/corpus/$t"
            return 1
        fi
        grep -E "stat::number_of_executed_units|Done [0-9]+ runs" "$dir/fuzz-$t.log" || true
    done
}

case "${1:-}" in
start)
    build
    if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
        exec build/app/moa-workbench "${@:2}"
    fi
    # No display (a server, a container): the same engine from the terminal instead, a real MoA
    # run of the default preset on the offline demo provider (no keys, no network).
    echo "== no display (DISPLAY/WAYLAND_DISPLAY unset): running the offline demo in the terminal instead"
    exec build/app/moa run --config offline-demo \
        --prompt "${2:-What are the trade-offs of a mixture of agents compared with one large model?}"
    ;;
screenshots)
    build
    # Renders the main views to PNG for review (offscreen: no display needed).
    tmp=$(mktemp -d) # fresh settings and history, so the pictures show the default layout
    export QT_QPA_PLATFORM=offscreen MOA_HISTORY_DB="$tmp/history.sqlite" XDG_CONFIG_HOME="$tmp/config"
    q="How should a small team choose between one large model and a mixture of agents?"
    mkdir -p docs/screenshots
    # The window fits the screen it opens on; the pictures are taken at a fixed size.
    big=(--window-size 1400x900) small=(--window-size 1024x700)
    build/app/moa-workbench "${big[@]}" --preset moa-paper --screenshot docs/screenshots/editor.png
    # Its own history: the run it interrupts must not show as "cancelled" in the other pictures.
    MOA_HISTORY_DB="$tmp/in-progress.sqlite" build/app/moa-workbench "${big[@]}" --screenshot docs/screenshots/run-in-progress.png --prompt "$q" --screenshot-during 3500
    build/app/moa-workbench "${big[@]}" --screenshot docs/screenshots/finished-run.png --prompt "$q"
    build/app/moa-workbench "${big[@]}" --screenshot docs/screenshots/compare-answers.png --prompt "$q" --screenshot-answers
    # Provenance: the weighted graph, a clicked sentence's sources, the Layers walkthrough (two sizes).
    for size in 1400x900 1024x700; do
        sfx=$([ "$size" = 1024x700 ] && echo -1024 || true)
        build/app/moa-workbench --window-size $size --screenshot docs/screenshots/weighted-graph$sfx.png --prompt "$q" --screenshot-graph
        build/app/moa-workbench --window-size $size --screenshot docs/screenshots/provenance-highlight$sfx.png --prompt "$q" --screenshot-sentence 5
        build/app/moa-workbench --window-size $size --screenshot docs/screenshots/provenance-final$sfx.png --prompt "$q" --screenshot-sentence 5 --screenshot-in-final
        build/app/moa-workbench --window-size $size --screenshot docs/screenshots/walkthrough$sfx.png --prompt "$q" --screenshot-walkthrough 2
    done
    build/app/moa-workbench "${big[@]}" --preset moa-lite --raise-dock providers --screenshot docs/screenshots/providers.png
    build/app/moa-workbench "${big[@]}" --palette dark --screenshot docs/screenshots/finished-run-dark.png --prompt "$q"
    # The small screen (1024×700): the editor and a finished run.
    build/app/moa-workbench "${small[@]}" --preset moa-paper --screenshot docs/screenshots/small-editor.png
    build/app/moa-workbench "${small[@]}" --screenshot docs/screenshots/small-finished-run.png --prompt "$q"
    # An experiment against the local scripted server: results table and cost/quality chart.
    # The server stops when its stdin closes: the coproc's input pipe, closed at the end.
    coproc SERVER { exec python3 tests/servers/openai_server.py; }
    read -r _ port <&"${SERVER[0]}"
    exp=$(python3 tools/experiment_demo.py "$port" "$tmp/experiment")
    build/app/moa eval --experiment "$exp" --db "$tmp/experiments.sqlite" --quiet
    build/app/moa-workbench "${big[@]}" --experiment "$exp" --experiment-db "$tmp/experiments.sqlite" --screenshot docs/screenshots/experiment.png
    build/app/moa-workbench "${small[@]}" --experiment "$exp" --experiment-db "$tmp/experiments.sqlite" --screenshot docs/screenshots/experiment-1024.png
    build/app/moa-workbench "${big[@]}" --palette dark --experiment "$exp" --experiment-db "$tmp/experiments.sqlite" --screenshot docs/screenshots/experiment-dark.png
    build/app/moa chart --experiment "$exp" --db "$tmp/experiments.sqlite" --out docs/screenshots/cost-vs-lc.png
    # Staircase streaming with a quorum on the scripted server: the timeline's bar per step and the
    # cut straggler (a real HTTP run, with its paced answers).
    python3 - "$port" "$tmp/stairs.moa.json" <<'PY'
import json, sys
url = "http://127.0.0.1:%s/v1" % sys.argv[1]
def m(tag, words, ms):
    return {"provider": "local", "model": "ok?tag=%s&words=%d&delay_ms=%d" % (tag, words, ms)}
json.dump({"schema": "moa-workbench/config@1", "name": "Staircase, quorum 3 of 4",
           "providers": {"local": {"base_url": url}},
           "pipelining": {"mode": "staircase", "chunk_tokens": 16},
           "layers": [{"agents": [m("p1", 160, 9), m("p2", 160, 10), m("p3", 160, 11), m("straggler", 400, 20)], "quorum": 3},
                      {"agents": [m("aggregator", 200, 5)]}]}, open(sys.argv[2], "w"), indent=1)
PY
    for size in 1400x900 1024x700; do
        sfx=$([ "$size" = 1024x700 ] && echo -1024 || true)
        build/app/moa-workbench --window-size $size "$tmp/stairs.moa.json" --screenshot docs/screenshots/staircase-run$sfx.png --prompt "$q"
        # Mid-run: the aggregator's steps so far on the timeline, the one under way growing. Its
        # own history, as for run-in-progress.png.
        MOA_HISTORY_DB="$tmp/in-progress.sqlite" build/app/moa-workbench --window-size $size "$tmp/stairs.moa.json" \
            --screenshot docs/screenshots/staircase-live$sfx.png --prompt "$q" --screenshot-during 1200
    done
    server_in=${SERVER[1]}
    exec {server_in}>&-
    wait "$SERVER_PID" 2>/dev/null || true
    ;;
test)
    build
    # Fast (seconds): every system file the configure step used comes from PACKAGES or what
    # they pull in, so a fresh machine configures too (tools/check_deps.py names what is missing).
    python3 tools/check_deps.py build
    test_servers
    export MOA_REQUIRE_THIRD_PARTY_SERVER=1
    ctest --preset default
    sanitize
    # Then every fuzz target for a fixed budget (MOA_FUZZ_SECONDS, 30 s each by default), built in
    # the sanitize tree (its core is already compiled with the fuzzer's coverage hooks).
    fuzz "${MOA_FUZZ_SECONDS:-30}" sanitize
    ;;
deps)
    deps
    ;;
packages)
    echo "${PACKAGES[@]}"
    ;;
build)
    build
    ;;
bench)
    build
    export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
    for b in build/tests/bench/bench_*; do "$b"; done
    ;;
fuzz)
    deps
    fuzz "${2:-60}"
    ;;
sanitize)
    deps
    sanitize
    ;;
*)
    echo "usage: bash tools/dev.sh start|test|deps|build|bench|screenshots|sanitize|fuzz [SECONDS]" >&2
    exit 2
    ;;
esac
