#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Run the already built libFuzzer harnesses (fuzz_query, fuzz_reply,
# fuzz_config, fuzz_zone_yaml, fuzz_zone_file, fuzz_k8s, fuzz_nsec,
# fuzz_dnssec) for a short, bounded time, the seconds split evenly between
# those built, each on a
# copy of its seed corpus tests/fuzz/corpus/NAME/ (the seeds in the source
# tree are never written to).  The fuzz build is separate: configure
# CC=clang --enable-fuzz in a build dir and make the harnesses there
# (`make tests/fuzz/fuzz_query ...`).
#
# usage: fuzz.sh BUILDDIR [SECONDS]     (default 30 s in all)
#   MD_FUZZ_ARTIFACTS=DIR keeps crash inputs there (default: a temp dir,
#   printed and kept when something was found).
# Exit: 0 no finding, 1 a fuzzer found a crash/leak/timeout, 2 usage.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$here/../.." && pwd)
if [ $# -lt 1 ]; then
	echo "usage: $0 BUILDDIR [SECONDS]" >&2
	exit 2
fi
secs=${2:-30}
# harness:corpus folder:largest input (messages; text files)
targets="fuzz_query:query:4096 fuzz_reply:reply:4096
	fuzz_config:config:8192 fuzz_zone_yaml:zone_yaml:8192
	fuzz_zone_file:zone_file:8192 fuzz_k8s:k8s:16384
	fuzz_nsec:nsec:4096
	fuzz_dnssec:dnssec:4096"
built=""
for t in $targets; do
	if [ -x "$1/tests/fuzz/${t%%:*}" ]; then
		built="$built $t"
	fi
done
if [ -z "$built" ]; then
	echo "$0: no fuzzer built in $1/tests/fuzz (configure CC=clang" \
	    "--enable-fuzz; make tests/fuzz/fuzz_query ...)" >&2
	exit 2
fi
n=$(echo $built | wc -w)
each=$((secs / n))
[ "$each" -gt 0 ] || each=1

work=$(mktemp -d "${TMPDIR:-/tmp}/minidns-fuzz.XXXXXX")
artifacts=${MD_FUZZ_ARTIFACTS:-$work/artifacts}
mkdir -p "$artifacts"
# The harnesses' own temporary files (fuzz_config's folder) go under
# $work/tmp: libFuzzer ends a timed run without running atexit handlers.
mkdir -p "$work/tmp"
trap 'rm -rf "$work"/corpus-* "$work/tmp"' EXIT

rc=0
for t in $built; do
	name=${t%%:*}
	rest=${t#*:}
	corpus=${rest%%:*}
	maxlen=${rest#*:}
	mkdir -p "$work/corpus-$name"
	cp "$srcdir/tests/fuzz/corpus/$corpus"/* "$work/corpus-$name/"
	echo "fuzz.sh: $name for $each s"
	TMPDIR=$work/tmp MD_FUZZ_ZONES=$srcdir/zones "$1/tests/fuzz/$name" \
	    -max_total_time="$each" -rss_limit_mb=1024 -timeout=10 \
	    -max_len="$maxlen" -print_final_stats=1 \
	    -artifact_prefix="$artifacts/$name-" "$work/corpus-$name" ||
	    rc=$?
done

if [ "$rc" != 0 ] || [ -n "$(ls "$artifacts")" ]; then
	echo "fuzz.sh: the fuzzer found something (exit $rc); inputs in" \
	    "$artifacts:"
	ls -l "$artifacts"
	exit 1
fi
[ -n "${MD_FUZZ_ARTIFACTS:-}" ] || rm -rf "$work"
names=$(for t in $built; do printf ' %s' "${t%%:*}"; done)
echo "fuzz.sh: ${secs} s ($each s each:$names) without a finding"
