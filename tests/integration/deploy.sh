#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The deployment files of doc/deploy/ and what 'make install' puts down:
#
#  1. every Kubernetes manifest goes through the real kubectl
#     (apply --dry-run=client, against the test API server of
#     k8s/apiserver.py for discovery): each object "created (dry run)";
#     the minidnsd.yaml of each ConfigMap, taken out by kubectl, passes
#     'minidnsd -t'
#  2. 'make install DESTDIR=...' from the build directory installs the
#     programs, the man pages, the example configuration (passing
#     'minidnsd -t', never over an existing minidnsd.yaml) and the systemd
#     unit (its ExecStart the installed minidnsd, the hardening asked for,
#     'systemd-analyze verify' clean when systemd-analyze exists);
#     'make uninstall' takes them away again
#  3. the Dockerfile: two bookworm-slim stages, a non-root user, the
#     ports, and runtime packages that exist in Debian 12 (apt-cache show);
#     it is not built (no container engine where the tests run)
#
# Ground rules as in k8s.sh, the harness of lib.sh: re-executes itself
# inside 'unshare -n', only 127.x addresses, every process stopped by saved
# PID, every wait bounded, temporary files (the DESTDIR install tree too) in
# one mktemp -d directory removed at exit.  Exit 77 (skip) when not root or
# when python3, kubectl or make is missing.  The build directory is
# $abs_top_builddir, else the current directory; MINIDNSD from the
# environment, else minidnsd there.
set -eu
. "$(dirname "$0")/lib.sh"
md_it_start deploy "$@"

DEPLOY=$srcdir/doc/deploy
APISERVER=$here/k8s/apiserver.py
MINIDNSD=${MINIDNSD:-$builddir/minidnsd}
MAKE=${MAKE:-make}
md_it_need python3 kubectl "$MAKE"
md_it_built "$MINIDNSD"
if [ ! -f "$builddir/Makefile" ]; then
	echo "ERROR: run from the build directory, after make"
	exit 99
fi

API_IP=127.61.0.1
API=http://$API_IP:8080

# show FILE: a failure's details, indented
show() { sed 's/^/    /' "$1"; }

# ---- 1. the Kubernetes manifests through kubectl -----------------------------

python3 "$APISERVER" --listen $API_IP --port 8080 --lifetime 120 \
    --ready-file "$T/api.ready" >"$T/api.log" 2>&1 &
PIDS="$PIDS $!"
if ! poll 10 test -s "$T/api.ready"; then
	echo "ERROR: the test API server did not start"
	cat "$T/api.log"
	exit 99
fi
md_it_kubeconfig "$T/kubeconfig" "$API"
K="kubectl --kubeconfig $T/kubeconfig --cache-dir $T/kcache --request-timeout=10s"
# What the kubelet sets for the "minidns" Service of kube-system in the
# environment of pods started after it: node-local.yaml forwards to it.
export MINIDNS_SERVICE_HOST=10.96.0.11
# ... and for the kube-dns Service, whose ClusterIP node-local.yaml binds.
export KUBE_DNS_SERVICE_HOST=10.96.0.10
echo "INFO: $(kubectl version --client 2>/dev/null | head -1)"

manifests=$(ls "$DEPLOY"/*.yaml)
[ -n "$manifests" ] || fail "no manifests in $DEPLOY"
for f in $manifests; do
	m=doc/deploy/$(basename "$f")
	# the objects in the file: "kind/name" lines, lowercase kind
	python3 - "$f" >"$T/want" <<'EOF' || fail "$m: not valid YAML"
import sys
try:
    import yaml
except ImportError:          # count the top-level kinds instead
    n = sum(1 for l in open(sys.argv[1]) if l.startswith("kind:"))
    print("\n".join("?" for _ in range(n)))
    sys.exit(0)
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d is None:
        continue
    assert d.get("apiVersion") and d.get("metadata", {}).get("name"), d
    print("%s/%s" % (d["kind"].lower(), d["metadata"]["name"]))
EOF
	n=$(grep -c . "$T/want" || true)
	if $K apply --dry-run=client --validate=false -f "$f" >"$T/k.out" 2>&1; then
		got=$(grep -c ' \(created\|configured\) (dry run)$' "$T/k.out" || true)
		missing=""
		while read -r obj; do
			[ "$obj" = "?" ] && continue
			# kind[.group]/name created (dry run)
			name=${obj#*/}
			re="^${obj%%/*}(\.[a-z0-9.-]+)?/${name//./\\.}"
			grep -Eq "$re (created|configured) \(dry run\)\$" \
			    "$T/k.out" || missing="$missing $obj"
		done <"$T/want"
		if [ "$n" -gt 0 ] && [ "$got" = "$n" ] && [ -z "$missing" ]; then
			pass "$m: kubectl apply --dry-run=client: $n objects"
		else
			fail "$m: kubectl dry run: $got of $n objects${missing:+, missing:$missing}"
			show "$T/k.out"
		fi
	else
		fail "$m: kubectl apply --dry-run=client failed"
		show "$T/k.out"
	fi
	# the ConfigMap's minidnsd.yaml, as kubectl reads it
	if $K create --dry-run=client --validate=false -f "$f" -o \
	    go-template='{{if eq .kind "ConfigMap"}}{{index .data "minidnsd.yaml"}}{{end}}' \
	    >"$T/cm.yaml" 2>"$T/k.err" && [ -s "$T/cm.yaml" ]; then
		if "$MINIDNSD" -t -c "$T/cm.yaml" >"$T/t.out" 2>&1; then
			pass "$m: its ConfigMap's minidnsd.yaml passes minidnsd -t"
		else
			fail "$m: minidnsd -t on its ConfigMap's minidnsd.yaml"
			show "$T/t.out"
		fi
		# the minidnsd container's args (after the image's ENTRYPOINT
		# "minidnsd -f"), the configuration path pointed at that file
		if $K create --dry-run=client --validate=false -f "$f" -o \
		    go-template='{{if .spec}}{{if .spec.template}}{{range .spec.template.spec.containers}}{{if eq .name "minidnsd"}}{{range .args}}{{.}}{{"\n"}}{{end}}{{end}}{{end}}{{end}}{{end}}' \
		    >"$T/args" 2>"$T/k.err" && [ -s "$T/args" ]; then
			mapfile -t args <"$T/args"
			args=("${args[@]/#\/etc\/minidns\/minidnsd.yaml/$T/cm.yaml}")
			if "$MINIDNSD" -f "${args[@]}" -t >"$T/t.out" 2>&1; then
				pass "$m: minidnsd -f $(tr '\n' ' ' <"$T/args")-t"
			else
				fail "$m: minidnsd -t with the container's args"
				show "$T/t.out"
			fi
		else
			fail "$m: no minidnsd container args"
			show "$T/k.err"
		fi
	else
		fail "$m: no ConfigMap with minidnsd.yaml"
		show "$T/k.err"
	fi
done
# the node-local cache and the cluster DNS are both there
for want in "daemonset.apps/minidns-node-local" "deployment.apps/minidns"; do
	if cat "$DEPLOY"/*.yaml >"$T/all.yaml" &&
	    $K apply --dry-run=client --validate=false -f "$T/all.yaml" 2>&1 |
	    grep -q "^$want created (dry run)$"; then
		pass "manifests: $want"
	else
		fail "manifests: no $want"
	fi
done
# The cluster DNS as the cluster knows CoreDNS: k8s-app: kube-dns on the
# pods (NetworkPolicies, node-local-dns and the conformance tests select
# on it) and the Service, pods insecure, IPv6 too.
f=$DEPLOY/cluster-dns.yaml
$K create --dry-run=client --validate=false -f "$f" -o \
    go-template='{{.kind}} {{index .metadata.labels "k8s-app"}}{{if .spec}}{{if .spec.template}} pod:{{index .spec.template.metadata.labels "k8s-app"}}{{end}}{{end}}{{"\n"}}' \
    >"$T/labels" 2>"$T/k.err" || true
check "cluster-dns.yaml: the Deployment's pods carry k8s-app: kube-dns" \
    grep -q '^Deployment kube-dns pod:kube-dns$' "$T/labels"
check "cluster-dns.yaml: the Service carries k8s-app: kube-dns" \
    grep -q '^Service kube-dns$' "$T/labels"
check "cluster-dns.yaml: pods: insecure, and [::]:53 beside 0.0.0.0:53" \
    sh -c "grep -q 'pods: insecure' '$f' && grep -q '\"\\[::\\]:53\"' '$f'"

# node-local.yaml reaches the cluster DNS by its Service's name: without
# the kubelet's variable, -t says which one is missing, and where.
f=$DEPLOY/node-local.yaml
$K create --dry-run=client --validate=false -f "$f" -o \
    go-template='{{if eq .kind "ConfigMap"}}{{index .data "minidnsd.yaml"}}{{end}}' \
    >"$T/nl.yaml" 2>"$T/k.err" || true
env -u MINIDNS_SERVICE_HOST "$MINIDNSD" -t -c "$T/nl.yaml" >"$T/t.out" 2>&1 || true
check "node-local.yaml: the upstream by Service name (\${MINIDNS_SERVICE_HOST}: $(head -c 160 "$T/t.out"))" \
    grep -q 'nl.yaml:[0-9]*: \${MINIDNS_SERVICE_HOST}: not set in the environment' "$T/t.out"
# ... and answers on the link-local address and on the kube-dns ClusterIP,
# with node-local-dns's iptables rules (netfilter.sh runs them).
check "node-local.yaml: listens on 169.254.20.10 and \${KUBE_DNS_SERVICE_HOST}, on its own interface, setup-iptables: yes" \
    sh -c "grep -q '^ *- 169.254.20.10:53' '$T/nl.yaml' &&
	grep -q '^ *- \"\\\${KUBE_DNS_SERVICE_HOST}:53\"' '$T/nl.yaml' &&
	grep -q '^ *setup-iptables: yes' '$T/nl.yaml' &&
	grep -q '^ *setup-interface: minidns0' '$T/nl.yaml'"
env -u KUBE_DNS_SERVICE_HOST "$MINIDNSD" -t -c "$T/nl.yaml" >"$T/t.out" 2>&1 || true
check "node-local.yaml: without the kube-dns Service's variable, -t names it ($(head -c 160 "$T/t.out"))" \
    grep -q 'nl.yaml:[0-9]*: \${KUBE_DNS_SERVICE_HOST}: not set in the environment' "$T/t.out"
$K create --dry-run=client --validate=false -f "$f" -o \
    go-template='{{if .spec}}{{if .spec.template}}{{range .spec.template.spec.containers}}{{.name}} {{.securityContext.capabilities.add}}{{"\n"}}{{end}}{{end}}{{end}}' \
    2>/dev/null | grep . >"$T/caps" || true
check "node-local.yaml: minidnsd gets NET_ADMIN for its rules ($(tr '\n' ';' <"$T/caps"))" \
    grep -q '^minidnsd .*NET_ADMIN' "$T/caps"

# what kubectl sent for: discovery of the API groups the manifests use
for path in /apis/apps/v1 /apis/rbac.authorization.k8s.io/v1 \
    /apis/policy/v1 /api/v1; do
	if python3 "$APISERVER" ctl $API /_test/state |
	    grep -q "\"GET $path\""; then
		pass "kubectl used the test API server's discovery: $path"
	else
		fail "kubectl did not ask for $path"
	fi
done

# ---- 2. make install -------------------------------------------------------------

INST=$T/inst
if $MAKE -C "$builddir" install DESTDIR="$INST" >"$T/install.log" 2>&1; then
	pass "make install DESTDIR=..."
else
	fail "make install DESTDIR=..."
	tail -30 "$T/install.log" | show /dev/stdin
fi
# installed PATTERN LABEL: one file under $INST matching the find -path
installed() {
	find "$INST" -path "$1" \( -type f -o -type l \) | head -1
}
for p in "*/sbin/minidnsd" "*/bin/minidig" "*/bin/mininslookup" \
    "*/man8/minidnsd.8" "*/man5/minidnsd.conf.5" "*/man1/minidig.1" \
    "*/man1/mininslookup.1" "*/minidns/minidnsd.yaml.example" \
    "*/lib/systemd/system/minidnsd.service"; do
	f=$(installed "$p")
	if [ -n "$f" ]; then
		pass "installed ${f#"$INST"}"
	else
		fail "not installed: $p"
	fi
done
SBIN=$(installed "*/sbin/minidnsd")
UNIT=$(installed "*/lib/systemd/system/minidnsd.service")
EXAMPLE=$(installed "*/minidns/minidnsd.yaml.example")

if [ -n "$SBIN" ] && [ -x "$SBIN" ] &&
    "$SBIN" --version >"$T/v.out" 2>&1; then
	pass "the installed minidnsd runs: $(head -1 "$T/v.out")"
else
	fail "the installed minidnsd does not run"
fi
if [ -n "$EXAMPLE" ]; then
	if "$MINIDNSD" -t -c "$EXAMPLE" >"$T/t.out" 2>&1; then
		pass "the example configuration passes minidnsd -t"
	else
		fail "minidnsd -t on the example configuration"
		show "$T/t.out"
	fi
	# a second install leaves an administrator's minidnsd.yaml alone
	conf=$(dirname "$EXAMPLE")/minidnsd.yaml
	echo "# mine" >"$conf"
	if $MAKE -C "$builddir" install DESTDIR="$INST" >"$T/install2.log" 2>&1 &&
	    [ "$(cat "$conf")" = "# mine" ]; then
		pass "make install keeps an existing minidnsd.yaml"
	else
		fail "make install changed minidnsd.yaml"
	fi
	rm -f "$conf"
fi

if [ -n "$UNIT" ]; then
	# ExecStart: the installed program (DESTDIR taken off), in the foreground
	exec_start=$(sed -n 's/^ExecStart=//p' "$UNIT")
	bin=${exec_start%% *}
	if [ "$INST$bin" = "$SBIN" ] && [ "$bin" != "${bin#/}" ] &&
	    case " $exec_start " in *" -f "*) true ;; *) false ;; esac; then
		pass "unit: ExecStart=$exec_start"
	else
		fail "unit: ExecStart '$exec_start' is not ${SBIN#"$INST"} -f"
	fi
	# its options are minidnsd's (an unknown one exits 2); -t checks the
	# control socket's folder, which systemd makes (RuntimeDirectory=):
	# made here the same way, on a /run of a private mount namespace
	rtdir=$(sed -n 's/^RuntimeDirectory=//p' "$UNIT")
	# shellcheck disable=SC2086 # the unit's words, as systemd splits them
	if unshare -m sh -c 'mount -t tmpfs tmpfs /run &&
	    { [ -z "$1" ] || mkdir -p "/run/$1"; } && shift && exec "$@"' \
	    sh "$rtdir" "$SBIN" ${exec_start#"$bin"} -t >"$T/t.out" 2>&1; then
		pass "unit: minidnsd takes ExecStart's options (-t)"
	else
		fail "unit: minidnsd${exec_start#"$bin"} -t"
		show "$T/t.out"
	fi
	if grep -q '@[a-z]*@' "$UNIT"; then
		fail "unit: unsubstituted @variables@"
	else
		pass "unit: every @variable@ substituted"
	fi
	missing=""
	# shellcheck disable=SC2016 # $MAINPID is literal in the unit
	for d in "Type=simple" 'ExecReload=/bin/kill -HUP $MAINPID' \
	    "Restart=on-failure" "AmbientCapabilities=CAP_NET_BIND_SERVICE" \
	    "NoNewPrivileges=yes" "ProtectSystem=strict" "ProtectHome=yes" \
	    "PrivateTmp=yes" "PrivateDevices=yes" \
	    "ProtectKernelTunables=yes" "ProtectKernelModules=yes" \
	    "ProtectKernelLogs=yes" "ProtectControlGroups=yes" \
	    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" \
	    "RestrictNamespaces=yes" "LockPersonality=yes" \
	    "MemoryDenyWriteExecute=yes" "SystemCallArchitectures=native" \
	    "RuntimeDirectory=minidns" "ConfigurationDirectory=minidns" \
	    "WantedBy=multi-user.target"; do
		grep -qxF "$d" "$UNIT" || missing="$missing [$d]"
	done
	if grep -qx "DynamicUser=yes" "$UNIT" || grep -qx "User=minidns" "$UNIT"; then
		:
	else
		missing="$missing [DynamicUser=yes or User=minidns]"
	fi
	if [ -z "$missing" ]; then
		pass "unit: service settings and hardening"
	else
		fail "unit: missing$missing"
	fi
	if command -v systemd-analyze >/dev/null; then
		# verify wants ExecStart's program to exist: a copy of the unit
		# pointing into DESTDIR
		mkdir -p "$T/unit"
		sed "s|^ExecStart=$bin|ExecStart=$SBIN|" "$UNIT" \
		    >"$T/unit/minidnsd.service"
		if SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no \
		    "$T/unit/minidnsd.service" >"$T/verify.out" 2>&1 &&
		    ! grep -v "^$" "$T/verify.out" | grep -q .; then
			pass "unit: systemd-analyze verify is clean"
		else
			fail "unit: systemd-analyze verify"
			show "$T/verify.out"
		fi
		if systemd-analyze security --offline=yes \
		    "$T/unit/minidnsd.service" >"$T/sec.out" 2>&1; then
			echo "INFO: systemd-analyze security:" \
			    "$(grep -i 'overall exposure' "$T/sec.out" | sed 's/.*: //')"
		fi
	else
		skip "systemd-analyze is not installed: the unit is not verified"
	fi
fi

if $MAKE -C "$builddir" uninstall DESTDIR="$INST" >"$T/uninstall.log" 2>&1 &&
    [ -z "$(find "$INST" -type f)" ]; then
	pass "make uninstall removes every installed file"
else
	fail "make uninstall left: $(find "$INST" -type f | sed "s|^$INST||" | tr '\n' ' ')"
fi

# ---- 3. the Dockerfile -------------------------------------------------------------

DF=$DEPLOY/Dockerfile
if [ "$(grep -c '^FROM debian:bookworm-slim\( AS [a-z]*\)\?$' "$DF")" = 2 ] &&
    [ "$(grep -c '^FROM ' "$DF")" = 2 ]; then
	pass "Dockerfile: two stages, both debian:bookworm-slim"
else
	fail "Dockerfile: FROM lines: $(grep '^FROM' "$DF" | tr '\n' ' ')"
fi
user=$(sed -n 's/^USER //p' "$DF" | tail -1)
if [ -n "$user" ] && [ "${user%%:*}" != 0 ] && [ "${user%%:*}" != root ]; then
	pass "Dockerfile: runs as USER $user"
else
	fail "Dockerfile: no non-root USER"
fi
expose=$(sed -n 's/^EXPOSE //p' "$DF")
missing=""
for p in 53/udp 53/tcp 9153 8080 8181; do
	case " $expose " in *" $p "*) ;; *) missing="$missing $p" ;; esac
done
if [ -z "$missing" ]; then
	pass "Dockerfile: EXPOSE $expose"
else
	fail "Dockerfile: not exposed:$missing"
fi
if grep -q '^ENTRYPOINT \["[^"]*/minidnsd", "-f"\]' "$DF" &&
    grep -q 'make install DESTDIR=/out' "$DF"; then
	pass "Dockerfile: make install DESTDIR=/out, ENTRYPOINT minidnsd -f"
else
	fail "Dockerfile: ENTRYPOINT or make install"
fi
# the packages of each stage's apt-get install (continuation lines joined)
# stage_packages N: the packages of the Nth FROM's stage
stage_packages() {
	awk -v want="$1" '/^FROM /{n++} n==want' "$DF" |
	    sed -e ':a' -e '/\\$/{N;s/\\\n//;ba' -e '}' |
	    sed -n 's/.*apt-get install[^&]*--no-install-recommends\([^&]*\)&&.*/\1/p'
}
if ! command -v apt-cache >/dev/null; then
	skip "apt-cache is not installed: Dockerfile packages not checked"
elif ! apt-cache show libc6 >/dev/null 2>&1; then
	skip "no apt package lists (apt-get update): Dockerfile packages not checked"
else
	for stage in 1 2; do
		pkgs=$(stage_packages $stage)
		missing=""
		for pkg in $pkgs; do
			apt-cache show "$pkg" >/dev/null 2>&1 ||
			    missing="$missing $pkg"
		done
		what=$([ $stage = 1 ] && echo build || echo runtime)
		if [ -n "$pkgs" ] && [ -z "$missing" ]; then
			pass "Dockerfile: $what packages exist: $(echo "$pkgs" | xargs)"
		else
			fail "Dockerfile: $what packages unknown to apt-cache:${missing:- (none found)}"
		fi
	done
	# the runtime stage has every shared library minidnsd links with:
	# each library's Debian package among the runtime packages
	rt=" $(stage_packages 2 | tr -s ' \t' '  ') "
	missing=""
	# a sanitizer build (CI's ASan/UBSan pass) links the sanitizer
	# runtimes and, through them, libstdc++; the image is built without
	# sanitizers, so those are not asked of it.  libgcc-s1 comes with libc6.
	sanitized=no
	ldd "$MINIDNSD" | grep -q 'libasan\|libubsan' && sanitized=yes
	for lib in $(ldd "$MINIDNSD" | awk '/=> \//{print $3}'); do
		pkg=$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null |
		    sed -n '1s/:.*//p')
		[ -z "$pkg" ] && pkg=$(dpkg -S "$lib" 2>/dev/null | sed -n '1s/:.*//p')
		case "$pkg" in
		"" | libc6 | libgcc-s1) continue ;;
		libasan* | libubsan* | libstdc++6)
			[ $sanitized = yes ] && continue ;;
		esac
		case "$rt" in *" $pkg "*) ;; *) missing="$missing $pkg" ;; esac
	done
	if [ -z "$missing" ]; then
		pass "Dockerfile: the runtime stage has every library minidnsd links"
	else
		fail "Dockerfile: runtime stage lacks:$missing"
	fi
fi
echo "INFO: the image itself is not built here (no container engine)"

summary
