#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# embed.sh SYMBOL FILE: print a C file defining 'const char SYMBOL[]' with
# FILE's bytes, so a default zone can be compiled into a program.
set -eu
sym=$1
file=$2
echo "/* Generated from $(basename "$file") by tools/embed.sh; do not edit. */"
echo "const unsigned char $sym[] = {"
od -An -v -tu1 "$file" | awk '{ line = "\t"; for (i = 1; i <= NF; i++) line = line $i ", "; print line }'
printf "\t0\n"
echo "};"
