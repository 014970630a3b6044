#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Run an already built libFuzzer harness for a short, bounded time on a
# copy of the seed corpus (the seeds in the source tree are never written
# to).  The fuzz build is separate: configure CC=clang --enable-fuzz in a
# build dir and `make tests/fuzz/fuzz_query` there.
#
# usage: fuzz.sh BUILDDIR [SECONDS]     (default 30 s)
#   MD_FUZZ_ARTIFACTS=DIR keeps crash inputs there (default: a temp dir,
#   printed and kept when something was found).
# Exit: 0 no finding, 1 the fuzzer found a crash/leak/timeout, 2 usage.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
srcdir=$(cd "$here/../.." && pwd)
if [ $# -lt 1 ]; then
	echo "usage: $0 BUILDDIR [SECONDS]" >&2
	exit 2
fi
fuzzer=$1/tests/fuzz/fuzz_query
secs=${2:-30}
if [ ! -x "$fuzzer" ]; then
	echo "$0: $fuzzer not built (configure CC=clang --enable-fuzz;" \
	    "make tests/fuzz/fuzz_query)" >&2
	exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/minidns-fuzz.XXXXXX")
artifacts=${MD_FUZZ_ARTIFACTS:-$work/artifacts}
mkdir -p "$work/corpus" "$artifacts"
trap 'rm -rf "$work/corpus"' EXIT
cp "$srcdir"/tests/fuzz/corpus/* "$work/corpus/"

rc=0
MD_FUZZ_ZONES=$srcdir/zones "$fuzzer" -max_total_time="$secs" \
    -rss_limit_mb=1024 -timeout=10 -max_len=4096 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$work/corpus" || rc=$?

if [ "$rc" != 0 ] || [ -n "$(ls "$artifacts")" ]; then
	echo "fuzz.sh: the fuzzer found something (exit $rc); inputs in" \
	    "$artifacts:"
	ls -l "$artifacts"
	exit 1
fi
[ -n "${MD_FUZZ_ARTIFACTS:-}" ] || rm -rf "$work"
echo "fuzz.sh: ${secs} s without a finding"
