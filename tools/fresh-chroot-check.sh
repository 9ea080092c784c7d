#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Proves that tools/dev.sh's package list is complete the way a new machine would: in a fresh
# `debootstrap --variant=minbase bookworm` root, `bash tools/dev.sh deps && cmake --preset default`
# must configure. A package already on the developer's or CI's machine cannot hide a miss here.
#   sudo bash tools/fresh-chroot-check.sh [CHROOT_DIR]     (default /tmp/moa-fresh-chroot)
# Needs root, debootstrap and Debian's archive (about 3 min for debootstrap, 5 min for deps on
# 2 cores). An existing CHROOT_DIR is reused only with MOA_CHROOT_REUSE=1 (it then is no longer
# fresh: use that only to iterate on the script itself).
set -euo pipefail
cd "$(dirname "$0")/.."
root="${1:-/tmp/moa-fresh-chroot}"
mirror="${MOA_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

[ "$(id -u)" = 0 ] || { echo "fresh-chroot-check: needs root (debootstrap, chroot)" >&2; exit 2; }
command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap

start=$(date +%s)
if [ -e "$root/etc/debian_version" ] && [ "${MOA_CHROOT_REUSE:-0}" = 1 ]; then
    echo "== reusing $root (not fresh)"
else
    [ -e "$root" ] && { echo "fresh-chroot-check: $root exists; remove it or set MOA_CHROOT_REUSE=1" >&2; exit 2; }
    echo "== debootstrap --variant=minbase bookworm $root"
    debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.debootstrap.log" 2>&1 ||
        { tail -n 30 "$root.debootstrap.log"; exit 1; }
fi
boot=$(date +%s)

# The source tree as committed plus uncommitted edits (not build/ or other untracked output).
rm -rf "$root/src" && mkdir -p "$root/src"
git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$root/src"
cp /etc/resolv.conf "$root/etc/resolv.conf"

mounted=()
cleanup() { for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -R "${mounted[$i]}" || true; done; }
trap cleanup EXIT
for m in proc sys dev; do
    mountpoint -q "$root/$m" || { mount --rbind "/$m" "$root/$m" && mount --make-rslave "$root/$m" && mounted+=("$root/$m"); }
done

echo "== in the chroot: bash tools/dev.sh deps && cmake --preset default"
status=0
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    bash -c 'cd /src && bash tools/dev.sh deps && cmake --preset default' || status=$?
end=$(date +%s)
echo "== debootstrap $((boot - start)) s, deps + configure $((end - boot)) s"
if [ $status = 0 ]; then
    echo "fresh-chroot-check: OK, a fresh Debian 12 configures with tools/dev.sh deps alone"
else
    echo "fresh-chroot-check: FAILED (exit $status): tools/dev.sh's PACKAGES misses what configure needs (see above)"
fi
exit $status
