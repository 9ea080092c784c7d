#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Regenerates the PNG icons from the SVG (Debian: librsvg2-bin). The PNGs are committed so a
# build needs no SVG renderer.
set -euo pipefail
cd "$(dirname "$0")"
id=io.github.moa_workbench.MoaWorkbench
for s in 16 24 32 48 64 128 256 512; do
    mkdir -p "png/${s}"
    rsvg-convert -w "$s" -h "$s" "$id.svg" -o "png/${s}/$id.png"
done
