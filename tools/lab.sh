#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# lab.sh [COMMAND [ARG...]]: a private DNS lab for learning and trying
# things.  Inside a network namespace of its own (nothing can leave the
# machine) it starts the test hierarchy of tests/integration/hierarchy
# (two root servers, com., net., org., arpa. and zones below them, served
# by NSD on 127.53.x.y) and minidnsd on 127.53.9.2 resolving from those
# roots, runs COMMAND (default: an interactive shell), then stops it all.
#
#   tools/lab.sh dig @127.53.9.2 www.example.com
#   tools/lab.sh build/minidig @127.53.9.2 www.example.com
#   tools/lab.sh build/minidig +trace +explain www.example.com
#   tools/lab.sh              # a shell: try queries, read $LAB/minidnsd.log
#
# Needs root (network namespaces) and NSD (Debian package nsd).
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${MD_LAB_INSIDE:-}" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "lab.sh: needs root for a private network namespace" >&2
		exit 1
	fi
	export MD_LAB_INSIDE=1
	exec unshare -n "$0" "$@"
fi
ip link set lo up

minidnsd=""
for m in "$top/build/minidnsd" "$top/minidnsd"; do
	if [ -x "$m" ]; then
		minidnsd=$m
		break
	fi
done
if [ -z "$minidnsd" ]; then
	echo "lab.sh: build minidnsd first (tools/quickstart.sh build)" >&2
	exit 1
fi

LAB=$(mktemp -d "${TMPDIR:-/tmp}/minidns-lab.XXXXXX")
export LAB
# minidig +trace in the lab starts from the lab's roots.
export MINIDIG_ROOTHINTS="$top/tests/integration/hierarchy/root.hints"
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	MD_IT_NETNS=1 bash "$top/tests/integration/hierarchy/hierarchy.sh" \
	    stop "$LAB/h" >/dev/null 2>&1 || true
	rm -rf "$LAB"
}
trap cleanup EXIT

mkdir "$LAB/h"
MD_IT_NETNS=1 bash "$top/tests/integration/hierarchy/hierarchy.sh" \
    start "$LAB/h" >"$LAB/hierarchy.log" 2>&1 || {
	cat "$LAB/hierarchy.log" >&2
	exit 1
}
"$minidnsd" -f --listen 127.53.9.2 \
    --root-hints "$top/tests/integration/hierarchy/root.hints" \
    --allow-private-upstreams --trace . >"$LAB/minidnsd.log" 2>&1 &
pid=$!
# Wait (at most 5 s) until it answers.
for _ in $(seq 50); do
	if dig @127.53.9.2 +time=1 +tries=1 example.com >/dev/null 2>&1; then
		break
	fi
	sleep 0.1
done
echo "lab.sh: hierarchy up; minidnsd resolving on 127.53.9.2" \
    "(log: \$LAB/minidnsd.log)" >&2
if [ $# -eq 0 ]; then
	PS1='[dns lab] \w# ' bash --norc -i || true
else
	"$@"
fi
