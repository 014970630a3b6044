#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# minidig +trace +html=FILE in a real browser: pages made from traces of
# the test hierarchy (hierarchy/: real NSD servers on 127.53.x.y, as in
# trace.sh) are loaded by Debian's chromium in headless mode, and the DOM
# it built is checked against the +json document of the same run: a lane
# for every server asked, an element for every step, an arrow for every
# query and reply, timeouts, TC -> TCP, lame servers and sub-lookups
# marked, the answer shown, the page's own script run, a step's +explain
# text in the panel when the page is opened on it.  A screenshot of
# the main page is kept as an artifact: tests/integration/trace-page.png
# in the build directory.
#
# Runs inside its own network namespace (lib.sh; only lo, so the page
# cannot reach anything), and the page must name no http(s) resource and
# carry a Content-Security-Policy that forbids every fetch.  Output:
# PASS/FAIL lines, then "N passed, N failed".
set -eu

md_it_pidns=yes
. "$(dirname "$0")/lib.sh"
md_it_start trace_html "$@"

H=$here/hierarchy
MINIDIG=${MINIDIG:-$PWD/minidig}
md_it_built "$MINIDIG"
command -v nsd >/dev/null || PATH=$PATH:/usr/sbin
md_it_need nsd python3 chromium

mkdir "$T/h" "$T/home"
md_it_cleanup_hook() {
	bash "$H/hierarchy.sh" stop "$T/h" >/dev/null 2>&1 || true
}
if ! bash "$H/hierarchy.sh" start "$T/h" >"$T/h.log" 2>&1; then
	cat "$T/h.log"
	fail "hierarchy did not start"
	summary
fi

# page NAME QNAME QTYPE: the trace as $T/NAME.html and, from the same
# run, its +json document as $T/NAME.json; the exit code in $T/NAME.rc.
page() {
	local rc=0
	"$MINIDIG" +trace +roothints="$H/root.hints" +time=1 +json \
	    +html="$T/$1.html" "$2" "$3" >"$T/$1.json" 2>"$T/$1.err" || rc=$?
	echo $rc >"$T/$1.rc"
}
# browse NAME [CHROMIUM-ARGS...]: chromium loads the page (at $FRAG, if
# set); the DOM it built in $T/NAME.dom.  Bounded; its profile and caches
# in $T.
browse() {
	local name=$1
	shift
	HOME=$T/home XDG_CONFIG_HOME=$T/home XDG_CACHE_HOME=$T/home \
	    timeout 60 chromium --headless=new --no-sandbox --disable-gpu \
	    --user-data-dir="$T/home/profile" --no-first-run \
	    --window-size=1400,1500 "$@" "file://$T/$name.html${FRAG:-}" \
	    >"$T/$name.dom" 2>"$T/$name.chromium.log"
}

# The checks of one page, in the DOM chromium dumped: every server and
# step of the +json document is there.  Extra checks by name.
cat >"$T/dom.py" <<'PY'
import json, re, sys
from html.parser import HTMLParser

doc = json.load(open(sys.argv[1]))
html = open(sys.argv[2]).read()
dom = open(sys.argv[3]).read()
extra = sys.argv[4:]


class Dom(HTMLParser):
    def __init__(self):
        super().__init__()
        self.els = []
        self.stack = []
        self.text = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        a["_tag"] = tag
        a["_i"] = len(self.els)
        a["_in"] = {e["_i"] for e in self.stack}
        self.els.append(a)
        if tag not in ("line", "polygon", "path", "rect", "meta", "br",
                       "input", "img", "link"):
            self.stack.append(a)

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i]["_tag"] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        for e in self.stack:
            if "id" in e:
                self.text[e["id"]] = self.text.get(e["id"], "") + data


d = Dom()
d.feed(dom)
errors = []


def want(ok, what):
    if not ok:
        errors.append(what)


body = [e for e in d.els if e["_tag"] == "body"]
want(body and body[0].get("data-script") == "ok",
     "the page's script did not run")
steps = doc["steps"]
servers = {s["server"] for s in steps
           if s.get("server") and s["event"] in ("send", "reply", "timeout")}
lanes = {e.get("data-server") for e in d.els
         if "lane" in e.get("class", "").split()}
want(servers and servers <= lanes,
     "servers without a lane: %s" % sorted(servers - lanes))
by_id = {}
for e in d.els:
    if "data-step-id" in e:
        by_id[int(e["data-step-id"])] = e
for s in steps:
    e = by_id.get(s["id"])
    if e is None:
        errors.append("step %d (%s) is not in the page" % (s["id"],
                                                          s["event"]))
        continue
    want(e.get("data-event") == s["event"],
         "step %d: %s, not %s" % (s["id"], e.get("data-event"), s["event"]))
    kids = [k for k in d.els if e["_i"] in k["_in"]]
    if s["event"] in ("send", "reply", "timeout"):
        shafts = [k for k in kids if "shaft" in k.get("class", "")]
        want(len(shafts) == 1 and e.get("data-server") == s["server"],
             "step %d: no arrow to its server" % s["id"])
    want(any(k["_tag"] == "title" for k in kids),
         "step %d: no tooltip" % s["id"])
    if s.get("parent"):
        want(int(e.get("data-depth", 0)) > 0,
             "step %d: a sub-lookup step not nested" % s["id"])
# the answer and the rcode, as the document has them
want(d.text.get("rcode", "").strip() == doc["result"]["rcode"],
     "rcode %r" % d.text.get("rcode"))
for rr in doc["result"].get("answer", []):
    want(rr in d.text.get("answer", ""), "answer record %r missing" % rr)
# nothing from the network: no http(s) or protocol-relative resources
want(not re.search(r"""(src|href|action)\s*=\s*["']?\s*(https?:|//)""", html,
                   re.I), "the page names an external resource")
want(not re.search(r"url\(|@import", html, re.I), "CSS loads something")
want("default-src 'none'" in html, "no Content-Security-Policy")


def steps_of(event, cls=None):
    return [s for s in steps if s["event"] == event and
            (cls is None or s.get("class") == cls)]


for x in extra:
    if x == "subquery":
        sub = steps_of("subquery")
        want(sub, "no sub-lookup in the trace")
        for s in sub:
            want(any(t.get("parent") == s["id"] for t in steps),
                 "sub-lookup %d has no steps" % s["id"])
        want(any(e["_tag"] == "rect" and "band" in e.get("class", "")
                 for e in d.els), "no band for the sub-lookup")
    elif x == "cname":
        for s in steps_of("reply", "cname"):
            want("cname" in by_id[s["id"]].get("class", "").split(),
                 "CNAME reply %d not marked" % s["id"])
        want(steps_of("reply", "cname"), "no CNAME in the trace")
    elif x == "tc":
        tc = steps_of("reply", "truncated")
        want(tc and all("tc" in s.get("flags", []) for s in tc),
             "no truncated reply with the TC flag")
        want(any("tcretry" in by_id[s["id"]].get("class", "")
                 for s in steps_of("tcp-retry")), "TC -> TCP not marked")
        want(any("tcp" in by_id[s["id"]].get("class", "").split()
                 for s in steps_of("send") if s["transport"] == "tcp"),
             "the TCP query is not marked")
    elif x == "timeout":
        to = steps_of("timeout")
        want(to, "no timeout in the trace")
        for s in to:
            e = by_id[s["id"]]
            want(any("dashed" in k.get("class", "") for k in d.els
                     if e["_i"] in k["_in"]),
                 "timeout %d not dashed" % s["id"])
            want(any(l.get("data-server") == s["server"] and
                     "silent" in l.get("class", "") for l in d.els),
                 "the silent server's lane is not marked")
    elif x == "lame":
        bad = [s for s in steps_of("reply")
               if s["class"] in ("lame", "refused")]
        want(bad, "no lame or refusing server in the trace")
        for s in bad:
            want("bad" in by_id[s["id"]].get("class", "").split(),
                 "reply %d not marked" % s["id"])
            want(any(l.get("data-server") == s["server"] and
                     "lame" in l.get("class", "").split() for l in d.els),
                 "the lame server's lane is not marked")
    else:
        errors.append("unknown check " + x)
for e in errors[:15]:
    print(e)
print("%d servers, %d steps" % (len(servers), len(steps)))
sys.exit(1 if errors else 0)
PY

# check_page NAME [CHECK...]: load, then check its DOM.
check_page() {
	local name=$1 n
	shift
	if ! browse "$name" --dump-dom || [ ! -s "$T/$name.dom" ]; then
		fail "$name: chromium loads the page" "$T/$name.chromium.log"
		return
	fi
	if python3 "$T/dom.py" "$T/$name.json" "$T/$name.html" \
	    "$T/$name.dom" "$@" >"$T/$name.check" 2>&1; then
		n=$(tail -n 1 "$T/$name.check")
		pass "$name: every server and step is in the DOM, ${*:-}($n)"
	else
		fail "$name: the DOM" "$T/$name.check"
	fi
}

# 1. The lab's teaching example: CNAMEs across three zones and a glueless
#    delegation (a sub-lookup), and its screenshot.
page cname www.example.com A
# +json's links: ids in order, each sub-lookup step's parent the step that
# opened it, each reply tied to the query it answers (same server), the
# reply's header flags, and the final answer: the whole CNAME chain.
cat >"$T/links.py" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
steps = d["steps"]
by = {s["id"]: s for s in steps}
assert [s["id"] for s in steps] == list(range(1, len(steps) + 1))
for s in steps:
    if s["depth"] == 0:
        assert s["parent"] is None, s
    else:
        p = by[s["parent"]]
        assert p["event"] == "subquery" and p["depth"] == s["depth"] - 1, s
        assert p["server_name"] == [t for t in steps
                                    if t.get("parent") == p["id"]][0]["qname"]
    if s["event"] in ("reply", "timeout"):
        q = by[s["reply_to"]]
        assert q["event"] == "send" and q["server"] == s["server"], s
        assert q["id"] < s["id"] and q["qname"] == s["qname"], s
    if s["event"] == "reply":
        assert "qr" in s["flags"], s
        assert ("aa" in s["flags"]) == (s["class"] in ("answer", "cname")), s
assert {s["phase"] for s in steps} == {"priming", "query"}
assert d["result"]["answer"] == [
    "www.example.com. 3600 IN CNAME www.example.net.",
    "www.example.net. 3600 IN CNAME web.example.org.",
    "web.example.org. 3600 IN A 192.0.2.80"], d["result"]
PY
check_log "cname: minidig exits 0, nothing on stderr (exit $(cat "$T/cname.rc"))" \
    "$T/cname.err" sh -c "[ \$(cat '$T/cname.rc') = 0 ] && [ ! -s '$T/cname.err' ]"
check_log "+json: ids, parent links, reply_to, flags, the final answer" \
    "$T/cname.json" python3 "$T/links.py" "$T/cname.json"
check_page cname subquery cname
if browse cname --screenshot="$T/cname.png" &&
    python3 - "$T/cname.png" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
# a PNG as large as the window asked for, with something in it
assert b[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", b[16:24])
assert (w, h) == (1400, 1500), (w, h)
assert len(b) > 20000, len(b)
PY
then
	mkdir -p "$builddir/tests/integration"
	cp "$T/cname.png" "$builddir/tests/integration/trace-page.png"
	pass "screenshot: kept as tests/integration/trace-page.png ($(wc -c <"$T/cname.png") bytes)"
else
	fail "screenshot" "$T/cname.chromium.log"
fi

# The panel: the page opened on a step (#step=N, the path a click takes)
# shows that step's +explain text, here the first CNAME reply's.
cname_id=$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print([s["id"] for s in d["steps"] if s.get("class") == "cname"][0])' \
    "$T/cname.json" 2>/dev/null || echo 0)
cp "$T/cname.html" "$T/panel.html"
if FRAG="#step=$cname_id" browse panel --dump-dom &&
    python3 - "$T/cname.json" "$T/panel.dom" "$cname_id" <<'PY'
import json, sys
from html.parser import HTMLParser
d = json.load(open(sys.argv[1]))
step = [s for s in d["steps"] if s["id"] == int(sys.argv[3])][0]


class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.cur, self.text, self.sel = None, {}, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id") in ("panel-head", "panel-text"):
            self.cur = a["id"]
            self.text[self.cur] = ""
        if "sel" in a.get("class", "").split():
            self.sel.append(a.get("data-step-id"))

    def handle_endtag(self, tag):
        self.cur = None

    def handle_data(self, data):
        if self.cur:
            self.text[self.cur] += data


p = P()
p.feed(open(sys.argv[2]).read())
assert p.sel == [str(step["id"])], p.sel
assert p.text["panel-head"].startswith("Step %d: reply" % step["id"]), p.text
assert "is an alias (CNAME)" in step["explain"], step
assert p.text["panel-text"] == step["explain"], p.text
PY
then
	pass "panel: step $cname_id's +explain text shown and the step marked"
else
	fail "panel: step $cname_id's +explain text" "$T/panel.chromium.log"
fi

# 2. TC -> TCP.
page tc big.example.com TXT
check_page tc tc

# 3. A silent server and a refusing one: the server choice is random among
#    equals, so ask (a bounded number of times) until the bad server was
#    asked.
for _ in 1 2 3 4 5 6 7 8 9 10; do
	page timeout www.timeout.com A
	grep -q '"event": "timeout"' "$T/timeout.json" && break
done
check_page timeout timeout
for _ in 1 2 3 4 5 6 7 8 9 10; do
	page lame www.refused.com A
	grep -q '"class": "refused"' "$T/lame.json" && break
done
check_page lame lame

# 4. A file that cannot be written: minidig says which, and fails.
rc=0
"$MINIDIG" +trace +roothints="$H/root.hints" +time=1 \
    +html="$T/no/such/dir/x.html" example.com A >"$T/bad.out" 2>&1 || rc=$?
check "+html to a missing directory: the file named, exit 10 (got $rc)" \
    sh -c "[ $rc = 10 ] && grep -q 'minidig: $T/no/such/dir/x.html: No such file' '$T/bad.out'"

summary
