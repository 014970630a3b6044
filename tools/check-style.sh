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

# 3. layering: a module includes only headers of its own or lower layers
layer_of_header() {
	case "$1" in
	util.h | hashtab.h | yaml_doc.h) echo 0 ;;
	wire.h | ldns_bridge.h) echo 1 ;;
	zone.h | cache.h | k8s.h) echo 2 ;;
	resolve.h | net.h | k8s_watch.h) echo 3 ;;
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
for f in $(find src -name '*.[ch]' | sort); do
	dir=$(echo "$f" | cut -d/ -f2)
	mine=$(layer_of_dir "$dir")
	for h in $(sed -n 's/^#include "minidns\/\([a-z0-9_]*\.h\)".*/\1/p' "$f"); do
		theirs=$(layer_of_header "$h")
		if [ "$theirs" -gt "$mine" ]; then
			echo "check-style: $f (layer $mine) includes minidns/$h (layer $theirs)"
			fail=1
		fi
		# The engine does no I/O: resolve/ and net/ never include each other.
		case "$dir:$h" in
		resolve:net.h | net:resolve.h)
			echo "check-style: $f includes minidns/$h across resolve/net"
			fail=1 ;;
		esac
	done
done

if [ "$fail" -eq 0 ]; then
	echo "check-style: OK ($(echo "$files" | wc -l) files)"
fi
exit "$fail"
