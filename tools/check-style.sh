#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# check-style.sh [SRCDIR]: the style checks of `make check-style`:
#  1. clang-format (the tree's .clang-format) leaves every C file unchanged;
#  2. no banned function is called (see ../shared/STYLE.md);
#  3. no module includes the public header of a higher layer
#     (util 0 < wire 1 < zone/cache/k8s 2 < resolve/net/k8sio 3 < server 4
#     < daemon/tools 5; see doc/architecture.md).
set -u
top=${1:-.}
cd "$top" || exit 2
fail=0

files=$(find src include tools tests -name '*.[ch]' ! -name 'sample_zone.c' | sort)

# 1. formatting
if command -v clang-format >/dev/null 2>&1; then
	for f in $files; do
		if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
			echo "check-style: $f: not formatted (run: clang-format -i $f)"
			fail=1
		fi
	done
else
	echo "check-style: clang-format not installed (Debian package clang-format)"
	fail=1
fi

# 2. banned functions
banned='\b(atoi|atol|sprintf|vsprintf|strcpy|strcat|strtok|gets|rand|srand|random|srandom)[[:space:]]*\('
if grep -nE "$banned" $files | grep -v 'check-style: allow'; then
	echo "check-style: banned function used (see ../shared/STYLE.md)"
	fail=1
fi

# 3. layering: a module includes only headers of its own or lower layers,
#    public headers (include/minidns/) included; every header is in the
#    table; resolve/ and net/ never include each other; and no include
#    cycle between modules (4.).
layer_of_header() {
	case "$1" in
	util.h | hashtab.h | yaml_doc.h | upstream.h) echo 0 ;;
	wire.h | ldns_bridge.h) echo 1 ;;
	zone.h | cache.h | k8s.h) echo 2 ;;
	resolve.h | dnssec.h | net.h | k8s_watch.h | dnssec_nsec.h) echo 3 ;;
	config.h | server.h | metrics.h | ratelimit.h | control.h | driver.h) echo 4 ;;
	*) echo 9 ;;
	esac
}
layer_of_dir() {
	case "$1" in
	util) echo 0 ;;
	wire) echo 1 ;;
	zone | cache | k8s) echo 2 ;;
	resolve | net | k8sio) echo 3 ;;
	server) echo 4 ;;
	daemon) echo 5 ;;
	*) echo 9 ;;
	esac
}
# The public header a source file belongs to: its own name's, else its
# name's prefix's (zone_load.c: zone.h), else its folder's.
owner_of() {
	local f=$1 dir base pre
	case "$f" in
	include/minidns/*) basename "$f"; return ;;
	esac
	dir=$(echo "$f" | cut -d/ -f2)
	base=$(basename "$f" | sed 's/\.[ch]$//; s/-internal$//')
	pre=$(echo "$base" | sed 's/[_-].*//')
	if [ -f "include/minidns/$base.h" ]; then
		echo "$base.h"
	elif [ -f "include/minidns/$pre.h" ]; then
		echo "$pre.h"
	else
		case "$dir" in
		k8sio) echo k8s_watch.h ;;
		daemon) echo minidnsd ;;
		*) echo "$dir.h" ;;
		esac
	fi
}
edges=""
for f in $(find src include -name '*.[ch]' ! -name 'sample_zone.c' | sort); do
	case "$f" in
	include/*)
		dir=include
		mine=$(layer_of_header "$(basename "$f")")
		if [ "$mine" = 9 ]; then
			echo "check-style: $f: not in the layer table of tools/check-style.sh"
			fail=1
		fi ;;
	*)
		dir=$(echo "$f" | cut -d/ -f2)
		mine=$(layer_of_dir "$dir") ;;
	esac
	owner=$(owner_of "$f")
	for h in $(sed -n 's/^#include "minidns\/\([a-z0-9_]*\.h\)".*/\1/p' "$f"); do
		theirs=$(layer_of_header "$h")
		if [ "$theirs" = 9 ]; then
			echo "check-style: $f includes minidns/$h, which is not in the layer table"
			fail=1
		elif [ "$theirs" -gt "$mine" ]; then
			echo "check-style: $f (layer $mine) includes minidns/$h (layer $theirs)"
			fail=1
		fi
		# The engine does no I/O: resolve/ and net/ never include each other.
		case "$dir:$h" in
		resolve:net.h | net:resolve.h)
			echo "check-style: $f includes minidns/$h across resolve/net"
			fail=1 ;;
		esac
		case "$owner:$(basename "$f"):$h" in
		resolve.h:*:net.h | net.h:*:resolve.h)
			echo "check-style: $f includes minidns/$h across resolve/net"
			fail=1 ;;
		esac
		[ "$h" = "$owner" ] || edges="$edges$owner $h
"
	done
done

# 4. no include cycle: module A's files include B's header and B's files
#    A's (tsort finds the loop).
loops=$(printf '%s' "$edges" | tsort 2>&1 >/dev/null || true)
if [ -n "$loops" ]; then
	echo "check-style: include cycle between modules:"
	echo "$loops" | sed 's/^tsort: /  /'
	fail=1
fi

if [ "$fail" -eq 0 ]; then
	echo "check-style: OK ($(echo "$files" | wc -l) files)"
fi
exit "$fail"
