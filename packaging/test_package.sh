#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the Debian package from a finished build tree, unpacks it into a scratch root (no
# installation on this machine) and runs the programs from there.
#   packaging/test_package.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
id=io.github.moa_workbench.MoaWorkbench
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cpack --config "$build/CPackConfig.cmake" -B "$scratch/out" >"$scratch/cpack.log" 2>&1 ||
    { cat "$scratch/cpack.log"; fail "cpack could not build the package"; }
deb=$(ls "$scratch"/out/moa-workbench_*.deb)
echo "built $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB)"

# Control data: Depends computed by dpkg-shlibdeps from the binaries' libraries.
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
for lib in libc6 libcurl4 libsqlite3-0 libqt6core6 libqt6widgets6 libqt6charts6 libqt6svg6; do
    grep -q "$lib" <<<"$depends" || fail "Depends lacks $lib"
done

root="$scratch/root"
dpkg-deb -x "$deb" "$root"
for f in usr/bin/moa usr/bin/moa-workbench \
         usr/share/moa-workbench/presets/offline-demo.moa.json usr/share/moa-workbench/catalog/models.json \
         usr/share/moa-workbench/templates/aggregate_and_synthesize.txt \
         usr/share/applications/$id.desktop usr/share/metainfo/$id.metainfo.xml \
         usr/share/mime/packages/$id.xml usr/share/icons/hicolor/scalable/apps/$id.svg \
         usr/share/icons/hicolor/48x48/apps/$id.png usr/share/icons/hicolor/256x256/apps/$id.png; do
    [ -e "$root/$f" ] || fail "the package lacks /$f"
done
if dpkg-deb -c "$deb" | grep -qE '\.(a|h|cpp)$|/tests?/'; then fail "the package holds build or test files"; fi

# Desktop entry and AppStream metadata, validated as installed.
desktop-file-validate "$root/usr/share/applications/$id.desktop" || fail "desktop-file-validate"
appstreamcli validate --no-net "$root/usr/share/metainfo/$id.metainfo.xml" || fail "appstreamcli validate"
grep -q "^Icon=$id$" "$root/usr/share/applications/$id.desktop" || fail "Icon is not the app id"

# The programs, run from the scratch root with a scratch home (nothing of this machine's).
export HOME="$scratch/home" XDG_DATA_HOME="$scratch/home/data" XDG_CONFIG_HOME="$scratch/home/config"
unset MOA_RESOURCES_DIR MOA_HISTORY_DB MOA_EXPERIMENT_DB
mkdir -p "$HOME"
v=$("$root/usr/bin/moa" --version) || fail "moa --version"
echo "moa --version: $v"
grep -q "0\.[0-9]" <<<"$v" || fail "moa --version printed no version"
out=$("$root/usr/bin/moa" run --config offline-demo --prompt "Name three uses of a mixture of agents.") ||
    fail "moa run of the offline demo preset"
[ -n "$out" ] || fail "moa run printed no answer"
echo "moa run (offline demo): $(wc -c <<<"$out") bytes of answer"
[ -s "$XDG_DATA_HOME/moa-workbench/history.sqlite" ] || fail "the run was not recorded in the scratch history"
"$root/usr/bin/moa" history | grep -q "Offline demo" || fail "moa history list does not show the run"
QT_QPA_PLATFORM=offscreen "$root/usr/bin/moa-workbench" --version >/dev/null || fail "moa-workbench --version"
echo "package ok"
