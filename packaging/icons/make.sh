#!/usr/bin/env bash
# Draws Kartika's icon (a chip card with a health cross) with ImageMagick: kartika.png for
# Linux's desktop entry, kartika.ico (16 to 256 pixels) for Windows. The results are kept
# in the repository; run this only to change them.
set -euo pipefail
cd "$(dirname "$0")"
convert -size 256x256 xc:none \
    -fill '#0F766E' -draw 'roundrectangle 10,44 246,212 26,26' \
    -fill '#E9C46A' -draw 'roundrectangle 34,92 94,148 9,9' \
    -stroke '#B08D2E' -strokewidth 3 -draw 'line 34,120 94,120' -draw 'line 64,92 64,148' \
    -stroke none -fill white \
    -draw 'roundrectangle 154,78 182,162 5,5' -draw 'roundrectangle 126,106 210,134 5,5' \
    kartika.png
convert kartika.png -define icon:auto-resize=256,64,48,32,16 kartika.ico
