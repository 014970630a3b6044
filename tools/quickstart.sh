#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# quickstart.sh run|test|deps|build|bench-deps - the README's two commands.
#
#   bench-deps  what tools/bench.sh and tools/profile-hotpath.sh add
#               (dnsperf, valgrind) to the test packages
#
#   run   install what is missing, build, and start minidnsd in the
#         foreground on its embedded defaults (extra arguments go to it)
#   test  install what is missing, build, and run the whole test suite:
#         style checks, unit/fuzz-corpus/integration tests, the same
#         suite under ASan+UBSan, a short libFuzzer run of every
#         harness, make distcheck
#
# Needs root for apt-get (Debian 12) and for the integration tests, which
# run inside a private network namespace (unshare -n).
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
jobs=$(nproc 2>/dev/null || echo 2)

# Debian packages: what building and running needs, and what the tests
# add: the real peers they talk to (dig, kdig, NSD, Unbound) and tools.
build_packages="build-essential autoconf automake pkg-config libevent-dev
	libldns-dev libssl-dev libyaml-dev libjansson-dev libidn2-dev
	bind9-dnsutils"
test_packages="libcmocka-dev clang clang-format knot-dnsutils iproute2 iptables
	ldnsutils python3 util-linux nsd unbound openssl prometheus chromium"
# ldnsutils: ldns-keygen and ldns-signzone sign the DNSSEC zones that
# tests/integration/dig_compare.sh, nslookup_compare.sh and dnssec.sh
# use (minidig and mininslookup against dig and nslookup; pass-through).
# prometheus: promtool and a real Prometheus for tests/integration/
# metrics.sh (19 MB download, 96 MB installed, about 10 s to install).
# chromium: headless, loads minidig's +trace +html pages in
# tests/integration/trace_html.sh (122 MB download, 414 MB installed).
# tools/bench.sh, tools/profile-hotpath.sh: the load generator, callgrind.
bench_packages="dnsperf valgrind"
# kubectl (the test API server is proven real by it): Debian's package,
# unless a kubectl is already there.
if ! command -v kubectl >/dev/null 2>&1; then
	test_packages="$test_packages kubernetes-client"
fi

missing_of() {
	for p in "$@"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q "ok installed"; then
			printf ' %s' "$p"
		fi
	done
}

deps() {
	# shellcheck disable=SC2086
	missing=$(missing_of $build_packages $1)
	if [ -n "$missing" ]; then
		echo "quickstart: installing:$missing"
		if [ "$(id -u)" -ne 0 ]; then
			echo "quickstart: run as root to install packages" >&2
			exit 1
		fi
		DEBIAN_FRONTEND=noninteractive apt-get update -q
		# shellcheck disable=SC2086
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		    --no-install-recommends $missing
		# NSD and Unbound are test peers, started by the tests on
		# their own addresses; their Debian services would take port
		# 53 from minidnsd.  Prometheus too is started by its test
		# only.  Stop the ones this run installed.
		for svc in nsd unbound prometheus; do
			case " $missing " in
			*" $svc "*)
				if [ -d /run/systemd/system ]; then
					systemctl disable --now "$svc" \
					    >/dev/null 2>&1 || true
				fi
				;;
			esac
		done
	fi
}

# Builds live out of tree: build/ (the one you run), build-asan/ and
# build-fuzz/ (the test command's extra builds).
build() {
	if [ ! -x configure ] || [ configure.ac -nt configure ]; then
		autoreconf -fi
	fi
	mkdir -p build
	if [ ! -f build/Makefile ]; then
		(cd build && ../configure --enable-werror)
	fi
	make -C build -j"$jobs"
}

test_all() {
	make -C build check-style
	make -C build -j"$jobs" check
	# The same suite under AddressSanitizer and UBSan, out of tree.
	rm -rf build-asan
	mkdir build-asan
	(cd build-asan &&
	    ../configure --enable-asan --enable-ubsan --enable-debug \
		--enable-werror CC=gcc >/dev/null &&
	    make -j"$jobs" >/dev/null &&
	    ASAN_OPTIONS=detect_leaks=1 make -j"$jobs" check)
	# A short coverage-guided run of every harness (libFuzzer): the
	# query path, upstream replies, the configuration, both zone
	# readers, the Kubernetes objects; 14 s each.
	rm -rf build-fuzz
	mkdir build-fuzz
	(cd build-fuzz &&
	    ../configure --enable-fuzz CC=clang >/dev/null &&
	    make -j"$jobs" tests/fuzz/fuzz_query tests/fuzz/fuzz_reply \
		tests/fuzz/fuzz_config tests/fuzz/fuzz_zone_yaml \
		tests/fuzz/fuzz_zone_file tests/fuzz/fuzz_k8s \
		tests/fuzz/fuzz_nsec tests/fuzz/fuzz_dnssec >/dev/null &&
	    sh ../tests/fuzz/fuzz.sh . 84)
	make -C build -j"$jobs" distcheck
	echo "quickstart: all tests passed"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
deps) deps "$test_packages" ;;
bench-deps) deps "$test_packages $bench_packages" ;;
build) deps ""; build ;;
run)
	deps ""
	build
	echo "quickstart: starting minidnsd on 127.0.0.1:53 and [::1]:53" \
	    "(Ctrl-C stops it)"
	exec build/minidnsd -f "$@"
	;;
test)
	deps "$test_packages"
	build
	test_all
	;;
*)
	echo "usage: $0 run|test|deps|build|bench-deps" >&2
	exit 2
	;;
esac
