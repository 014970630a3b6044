#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A test Kubernetes API server: list and watch as the real one does them.

Enough of the API for a DNS source and for kubectl (get, get -w, create,
delete):

  /api/v1/services                      /api/v1/namespaces/NS/services
  /apis/discovery.k8s.io/v1/endpointslices  (+ /namespaces/NS/...)
  /api/v1/namespaces                    /api/v1/pods  (+ namespaced)
  /api /api/v1 /apis /apis/discovery.k8s.io /apis/discovery.k8s.io/v1
  discovery only (kubectl apply --dry-run=client of the deployment
  manifests, tests/integration/deploy.sh): configmaps, serviceaccounts,
  secrets in v1; apps/v1, rbac.authorization.k8s.io/v1, policy/v1 (their
  objects are never stored: GET answers 404 NotFound)
  /version                              (/openapi/* answer 404: kubectl
                                        get copes; kubectl create needs
                                        --validate=false)

  GET collection         LIST: kind XxxList, metadata.resourceVersion;
                         ?limit=N pages it: metadata.continue (an opaque
                         token: the list's resourceVersion and the last
                         key) and remainingItemCount while more remain;
                         a token older than the retained events (after
                         /_test/compact) -> 410 Expired, as the real one
  GET ?watch=1|true      WATCH: chunked JSON lines {"type", "object"} of
                         the events after resourceVersion (none or "0":
                         ADDED for every current object first);
                         allowWatchBookmarks -> BOOKMARK events every
                         --bookmark-interval s; timeoutSeconds ends the
                         stream; a resourceVersion older than the
                         retained events -> ERROR 410 Expired, stream ends
  GET/PUT/DELETE item    read, replace, delete one object
  POST collection        create (kubectl create -f)

EndpointSlices stored get the endpoints.kubernetes.io/last-change-trigger-
time annotation the EndpointSlice controller writes (the time of the
change, RFC 3339 with microseconds), unless the client wrote its own.

One global resourceVersion counts every change.  The last --window events
are retained.  Bearer tokens are checked against --token-file (one token a
line, re-read on every request: the test rotates tokens by rewriting it);
else 401 with a Status body.  HTTPS with --cert/--key, else plain HTTP.

Test control (no auth; the server listens on a 127.x address only):
  POST /_test/apply     {"op": "add|update|delete", "kind": K, "object": O}
                        or a list of those; {"op": "raw", "line": "..."
                        [, "kind": K]} writes that line as is into the open
                        watch streams (of kind K, or all)
  POST /_test/compact   drop every retained event and move the revision
                        on: a watch from any earlier resourceVersion gets
                        410 ({"close": true}: and end the open watch
                        streams in the same step)
  POST /_test/close-watches  end every open watch stream (clients rewatch)
  POST /_test/freeze    {"on": true|false}: the watch streams open now
                        stay open and send nothing more (no event, no
                        bookmark, no end) until the client goes: a frozen
                        server, or a dead path to it; later requests are
                        served.  {"on": false} lets them end
  POST /_test/expire-continue  {"count": N}: the next N list pages asked
                        with a continue token answer 410 Expired
  POST /_test/shutdown  exit
  GET  /_test/state     resourceVersion, retained window, open watches,
                        410s sent, requests seen per "METHOD path" (WATCH
                        for watches; for the test's asserts)

--state FILE keeps the objects and resourceVersion across restarts (the
restarted server retains no events: older watches get 410, as after a real
apiserver restart); --apply FILE applies a JSON list of operations at
start.  --lifetime bounds how long the server lives.

Client mode for the test script (no curl needed):
  apiserver.py ctl URL [--cafile CA] PATH [JSON]
"""

import argparse
import base64
import copy
import datetime
import json
import os
import signal
import ssl
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# ---- the resources ---------------------------------------------------------

# kind -> (group prefix, version, resource, namespaced, short names)
KINDS = {
    "Namespace": ("", "v1", "namespaces", False, ["ns"]),
    "Service": ("", "v1", "services", True, ["svc"]),
    "Pod": ("", "v1", "pods", True, ["po"]),
    "EndpointSlice": ("discovery.k8s.io", "v1", "endpointslices", True, []),
}
RESOURCE_KIND = {v[2]: k for k, v in KINDS.items()}

# Resources that are only announced (discovery), for kubectl's REST mapping
# when it dry-runs manifests: group/version -> [(kind, resource,
# namespaced, short names)].  Nothing of these kinds is stored.
DISCOVERY_ONLY = {
    "v1": [("ConfigMap", "configmaps", True, ["cm"]),
           ("ServiceAccount", "serviceaccounts", True, ["sa"]),
           ("Secret", "secrets", True, [])],
    "apps/v1": [("DaemonSet", "daemonsets", True, ["ds"]),
                ("Deployment", "deployments", True, ["deploy"]),
                ("ReplicaSet", "replicasets", True, ["rs"]),
                ("StatefulSet", "statefulsets", True, ["sts"])],
    "rbac.authorization.k8s.io/v1": [
        ("ClusterRole", "clusterroles", False, []),
        ("ClusterRoleBinding", "clusterrolebindings", False, []),
        ("Role", "roles", True, []),
        ("RoleBinding", "rolebindings", True, [])],
    "policy/v1": [("PodDisruptionBudget", "poddisruptionbudgets", True,
                   ["pdb"])],
}


def api_version(kind):
    group, version = KINDS[kind][0], KINDS[kind][1]
    return group + "/" + version if group else version


def status(code, reason, message, details=None):
    st = {"kind": "Status", "apiVersion": "v1", "metadata": {},
          "status": "Failure" if code >= 300 else "Success",
          "message": message, "reason": reason, "code": code}
    if details:
        st["details"] = details
    return st


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


TRIGGER = "endpoints.kubernetes.io/last-change-trigger-time"


def now_iso_nano():
    # RFC 3339 with a fraction, as the controller writes it
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")


def age(obj):
    try:
        t = datetime.datetime.strptime(
            obj["metadata"]["creationTimestamp"], "%Y-%m-%dT%H:%M:%SZ"
        ).replace(tzinfo=datetime.timezone.utc)
        s = int((datetime.datetime.now(datetime.timezone.utc) - t)
                .total_seconds())
    except (KeyError, ValueError):
        return "<unknown>"
    return "%ds" % s if s < 120 else "%dm" % (s // 60)


def ports_str(ports):
    return ",".join("%s/%s" % (p.get("port"), p.get("protocol", "TCP"))
                    for p in ports or []) or "<none>"


# Server-side printing (what kubectl get asks for: Accept ...;as=Table):
# kind -> [(column, type, cell function)]
COLUMNS = {
    "Service": [
        ("Type", "string", lambda o: o["spec"].get("type", "ClusterIP")),
        ("Cluster-IP", "string",
         lambda o: o["spec"].get("clusterIP", "<none>")),
        ("External-IP", "string",
         lambda o: o["spec"].get("externalName", "<none>")),
        ("Port(s)", "string", lambda o: ports_str(o["spec"].get("ports"))),
    ],
    "EndpointSlice": [
        ("AddressType", "string", lambda o: o.get("addressType", "")),
        ("Ports", "string",
         lambda o: ",".join(str(p.get("port")) for p in o.get("ports") or [])
         or "<unset>"),
        ("Endpoints", "string",
         lambda o: ",".join(a for e in o.get("endpoints") or []
                            for a in e.get("addresses", [])) or "<unset>"),
    ],
    "Namespace": [("Status", "string", lambda o: "Active")],
    "Pod": [
        ("Status", "string",
         lambda o: o.get("status", {}).get("phase", "Running")),
        ("IP", "string", lambda o: o.get("status", {}).get("podIP", "")),
    ],
}


def table(kind, objs, rv, with_columns=True):
    cols = COLUMNS[kind]
    t = {"kind": "Table", "apiVersion": "meta.k8s.io/v1",
         "metadata": {"resourceVersion": str(rv)}, "rows": []}
    if with_columns:
        t["columnDefinitions"] = (
            [{"name": "Name", "type": "string", "format": "name",
              "description": "Name", "priority": 0}] +
            [{"name": c, "type": ty, "format": "", "description": c,
              "priority": 0} for c, ty, _ in cols] +
            [{"name": "Age", "type": "string", "format": "",
              "description": "Age", "priority": 0}])
    for o in objs:
        t["rows"].append({
            "cells": [o["metadata"]["name"]] + [f(o) for _, _, f in cols] +
                     [age(o)],
            "object": {"kind": "PartialObjectMetadata",
                       "apiVersion": "meta.k8s.io/v1",
                       "metadata": o["metadata"]}})
    return t


TABLE_CTYPE = "application/json;as=Table;v=v1;g=meta.k8s.io"


# ---- the store: objects, resourceVersion, retained events -------------------

class Store:
    def __init__(self, window, state_file):
        self.cond = threading.Condition()
        self.rv = 0
        self.objects = {k: {} for k in KINDS}   # kind -> {(ns, name): obj}
        self.events = []        # (rv, kind, type, obj), oldest first
        self.oldest = 0         # watches from rv >= oldest can be served
        self.window = window
        self.state_file = state_file
        self.raw = []           # (kind or None, line) injected lines
        self.close_gen = 0      # bumped by /_test/close-watches
        self.freeze_gen = 0     # bumped by /_test/freeze on
        self.frozen = 0         # watch streams frozen now
        self.freeze_on = False
        self.expire_continue = 0  # continue pages still to answer 410
        self.pages = 0          # list pages served with a continue token
        self.open_watches = 0
        self.expired = 0        # 410 Expired sent
        self.seen = {}          # "METHOD path" -> count
        self.next_ip = 1
        if state_file and os.path.exists(state_file):
            with open(state_file) as f:
                st = json.load(f)
            self.rv = st["rv"]
            for kind, objs in st["objects"].items():
                for o in objs:
                    m = o["metadata"]
                    self.objects[kind][(m.get("namespace", ""),
                                        m["name"])] = o
        # A (re)started server retains no events.
        self.oldest = self.rv

    def save(self):
        if not self.state_file:
            return
        tmp = self.state_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"rv": self.rv,
                       "objects": {k: list(v.values())
                                   for k, v in self.objects.items()}}, f)
        os.replace(tmp, self.state_file)

    def _default_service(self, obj):
        # the defaults the real API server fills in: type, port protocol,
        # an allocated clusterIP, clusterIPs
        spec = obj.setdefault("spec", {})
        spec.setdefault("type", "ClusterIP")
        for p in spec.get("ports") or []:
            if isinstance(p, dict):
                p.setdefault("protocol", "TCP")
        if spec.get("type") == "ExternalName" or "clusterIP" in spec:
            if "clusterIP" in spec and "clusterIPs" not in spec:
                spec["clusterIPs"] = [spec["clusterIP"]]
            return
        spec["clusterIP"] = "10.96.200.%d" % self.next_ip
        spec["clusterIPs"] = [spec["clusterIP"]]
        self.next_ip = self.next_ip % 250 + 1

    def _trigger_time(self, obj, cur):
        # what the EndpointSlice controller writes on the slices it
        # manages: when the change that made this version happened (the
        # start of a DNS programming latency).  Now, unless the client
        # set one of its own (not merely sent back the stored one).
        ann = obj["metadata"].setdefault("annotations", {})
        old = ((cur or {}).get("metadata", {}).get("annotations") or
               {}).get(TRIGGER)
        if TRIGGER not in ann or ann[TRIGGER] == old:
            ann[TRIGGER] = now_iso_nano()

    def apply(self, op, kind, obj):
        """add|update|delete one object; returns (http code, object)."""
        if kind not in KINDS:
            return 400, status(400, "BadRequest", "unknown kind %r" % kind)
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        name = meta.get("name")
        if not name:
            return 422, status(422, "Invalid", "metadata.name: Required")
        if KINDS[kind][3]:
            meta.setdefault("namespace", "default")
        else:
            meta.pop("namespace", None)
        key = (meta.get("namespace", ""), name)
        with self.cond:
            cur = self.objects[kind].get(key)
            if op == "add" and cur is not None:
                return 409, status(409, "AlreadyExists",
                                   '%s "%s" already exists'
                                   % (KINDS[kind][2], name))
            if op in ("update", "delete") and cur is None:
                return 404, status(404, "NotFound", '%s "%s" not found'
                                   % (KINDS[kind][2], name))
            self.rv += 1
            if op == "delete":
                obj = copy.deepcopy(cur)
                obj["metadata"]["resourceVersion"] = str(self.rv)
                del self.objects[kind][key]
                etype = "DELETED"
            else:
                obj["kind"] = kind
                obj["apiVersion"] = api_version(kind)
                if cur is not None:
                    meta["uid"] = cur["metadata"]["uid"]
                    meta["creationTimestamp"] = \
                        cur["metadata"]["creationTimestamp"]
                else:
                    meta.setdefault("uid", str(uuid.uuid4()))
                    meta.setdefault("creationTimestamp", now_iso())
                meta["resourceVersion"] = str(self.rv)
                if kind == "Service":
                    self._default_service(obj)
                if kind == "EndpointSlice":
                    self._trigger_time(obj, cur)
                self.objects[kind][key] = obj
                etype = "ADDED" if cur is None else "MODIFIED"
            self.events.append((self.rv, kind, etype, obj))
            if len(self.events) > self.window:
                drop = len(self.events) - self.window
                self.oldest = self.events[drop - 1][0]
                del self.events[:drop]
            self.save()
            self.cond.notify_all()
        return (201 if etype == "ADDED" else 200), obj

    def compact(self, close=False):
        # Like an etcd compaction after another write: the revision moves
        # on and every earlier resourceVersion is too old to watch from
        # (a relist then returns the new one, which can be watched).
        with self.cond:
            self.rv += 1
            self.events = []
            self.oldest = self.rv
            if close:           # in the same step: no bookmark between
                self.close_gen += 1
            self.save()
            self.cond.notify_all()
            self.cond.notify_all()

    def inject_raw(self, kind, line):
        with self.cond:
            self.raw.append((kind, line))
            self.cond.notify_all()

    def close_watches(self):
        with self.cond:
            self.close_gen += 1
            self.cond.notify_all()

    def list(self, kind, ns, limit=0, cont=""):
        """The list (a page of it with limit); None: the continue token
        has expired (410)."""
        after = None
        with self.cond:
            rv = self.rv
            if cont:
                self.pages += 1
                try:
                    tok = json.loads(base64.b64decode(cont).decode())
                    rv, after = int(tok["rv"]), tuple(tok["after"])
                except (ValueError, KeyError, TypeError):
                    return None
                if self.expire_continue > 0 or rv < self.oldest:
                    self.expire_continue = max(0, self.expire_continue - 1)
                    self.expired += 1
                    return None
            keys = [k for k in sorted(self.objects[kind])
                    if (ns is None or k[0] == ns) and
                    (after is None or k > after)]
            more = 0
            if limit > 0 and len(keys) > limit:
                more = len(keys) - limit
                keys = keys[:limit]
            items = [copy.deepcopy(self.objects[kind][k]) for k in keys]
        for o in items:             # list items carry no kind/apiVersion
            o.pop("kind", None)
            o.pop("apiVersion", None)
        meta = {"resourceVersion": str(rv)}
        if more:
            meta["continue"] = base64.b64encode(json.dumps(
                {"rv": rv, "after": list(keys[-1])}).encode()).decode()
            meta["remainingItemCount"] = more
        return {"kind": kind + "List", "apiVersion": api_version(kind),
                "metadata": meta, "items": items}


# ---- HTTP -------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "test-apiserver/1"

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("apiserver: %s %s\n" % (self.address_string(),
                                                    fmt % args))

    def setup(self):
        super().setup()
        # TLS handshake here, in the connection's thread, not in accept()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.settimeout(10)
            self.connection.do_handshake()
            self.connection.settimeout(None)

    # -- replies

    def reply(self, code, body, ctype="application/json"):
        data = (json.dumps(body) if not isinstance(body, (bytes, str))
                else body)
        if isinstance(data, str):
            data = data.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def chunk(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    # -- request plumbing

    def wants_table(self):
        accept = self.headers.get("Accept", "")
        first = accept.split(",")[0].replace(" ", "")
        return "as=Table" in first and "g=meta.k8s.io" in first

    def body_json(self):
        return json.loads(self.body.decode() or "null")

    def authorized(self):
        auth = self.headers.get("Authorization", "")
        if not self.server.token_file:
            return True
        try:
            with open(self.server.token_file) as f:
                tokens = {t.strip() for t in f if t.strip()}
        except OSError:
            tokens = set()
        return auth.startswith("Bearer ") and auth[7:].strip() in tokens

    def route(self, method):
        # read the body whatever the method (kubectl's DELETE has one)
        n = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(n) if n > 0 else b""
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        path = url.path.rstrip("/") or "/"
        store = self.server.store
        with store.cond:
            k = ("WATCH" if method == "GET" and
                 q.get("watch") in ("1", "true") else method) + " " + path
            store.seen[k] = store.seen.get(k, 0) + 1
        if path.startswith("/_test/"):
            return self.control(method, path)
        if path in ("/healthz", "/readyz", "/livez"):
            return self.reply(200, "ok", "text/plain")
        if not self.authorized():
            return self.reply(401, status(401, "Unauthorized",
                                          "Unauthorized"))
        if method == "GET" and path in DISCOVERY:
            return self.reply(200, DISCOVERY[path])
        res = parse_resource_path(path)
        if res is None:
            return self.reply(404, status(404, "NotFound",
                                          "the server could not find the "
                                          "requested resource"))
        kind, ns, name = res
        if method == "GET" and name is None:
            if q.get("watch") in ("1", "true"):
                return self.watch(kind, ns, q)
            try:
                limit = int(q.get("limit") or 0)
            except ValueError:
                limit = 0
            lst = store.list(kind, ns, limit, q.get("continue", ""))
            if lst is None:
                return self.reply(410, status(
                    410, "Expired", "The provided continue parameter is "
                    "too old to display a consistent list result. You "
                    "can start a new list without the continue parameter."))
            if self.wants_table():
                t = table(kind, lst["items"],
                          lst["metadata"]["resourceVersion"])
                t["metadata"].update(
                    (k, v) for k, v in lst["metadata"].items()
                    if k in ("continue", "remainingItemCount"))
                return self.reply(200, t, TABLE_CTYPE)
            return self.reply(200, lst)
        if method == "GET":
            with store.cond:
                obj = store.objects[kind].get((ns or "", name))
                obj = copy.deepcopy(obj)
            if obj is None:
                return self.reply(404, status(
                    404, "NotFound", '%s "%s" not found'
                    % (KINDS[kind][2], name),
                    {"name": name, "kind": KINDS[kind][2]}))
            return self.reply(200, obj)
        if method in ("POST", "PUT"):
            try:
                obj = self.body_json()
            except ValueError as e:
                return self.reply(400, status(400, "BadRequest", str(e)))
            if not isinstance(obj, dict) or obj.get("kind", kind) != kind:
                return self.reply(400, status(400, "BadRequest",
                                              "not a " + kind))
            if ns is not None:
                obj.setdefault("metadata", {})["namespace"] = ns
            if method == "PUT":
                obj.setdefault("metadata", {})["name"] = name
            if q.get("dryRun"):
                return self.reply(201, obj)
            code, out = store.apply("add" if method == "POST" else "update",
                                    kind, obj)
            return self.reply(code, out)
        if method == "DELETE" and name is not None:
            code, out = store.apply(
                "delete", kind,
                {"metadata": {"name": name, "namespace": ns or ""}})
            return self.reply(code, out)
        return self.reply(405, status(405, "MethodNotAllowed",
                                      "the server does not allow this "
                                      "method on the requested resource"))

    def watch(self, kind, ns, q):
        store = self.server.store
        bookmarks = q.get("allowWatchBookmarks") in ("1", "true")
        timeout = float(q.get("timeoutSeconds") or
                        self.server.watch_timeout)
        deadline = time.monotonic() + timeout
        rv_param = q.get("resourceVersion", "")
        self.send_response(200)
        as_table = self.wants_table()
        self.send_header("Content-Type",
                         TABLE_CTYPE if as_table else "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.close_connection = True

        columns_sent = [False]

        def send(etype, obj):
            if as_table and etype in ("ADDED", "MODIFIED", "DELETED"):
                obj = table(kind, [obj], obj["metadata"]["resourceVersion"],
                            not columns_sent[0])
                columns_sent[0] = True
            self.chunk(json.dumps({"type": etype, "object": obj}) + "\n")

        with store.cond:
            store.open_watches += 1
            gen = store.close_gen
            fgen = store.freeze_gen
            raw_seen = len(store.raw)
            if rv_param in ("", "0"):
                # Start with the current state, as the real server does.
                initial = [o for (ons, _), o in
                           sorted(store.objects[kind].items())
                           if ns is None or ons == ns]
                last = store.rv
                expired = False
            else:
                try:
                    last = int(rv_param)
                except ValueError:
                    last = -1
                initial = []
                expired = last < store.oldest
        try:
            if expired:
                with store.cond:
                    store.expired += 1
                send("ERROR", status(410, "Expired",
                                     "too old resource version: %s (%d)"
                                     % (rv_param, store.oldest)))
                return self.chunk(b"")
            for o in initial:
                send("ADDED", o)
            next_bookmark = time.monotonic() + self.server.bookmark_interval
            while True:
                out = []
                with store.cond:
                    if store.freeze_gen != fgen:
                        # Frozen: the connection stays, nothing is sent,
                        # not even the end, until the client goes away
                        # (noticed by a write after the thaw) or the thaw
                        # of /_test/freeze {"on": false}.
                        store.frozen += 1
                        try:
                            while store.freeze_gen != fgen and \
                                    store.freeze_on:
                                store.cond.wait(1.0)
                        finally:
                            store.frozen -= 1
                        return
                    while True:
                        now = time.monotonic()
                        if store.close_gen != gen or now >= deadline or \
                                store.freeze_gen != fgen:
                            break
                        news = [e for e in store.events if e[0] > last]
                        raws = store.raw[raw_seen:]
                        if news or raws:
                            break
                        if bookmarks and now >= next_bookmark:
                            break
                        wake = deadline
                        if bookmarks:
                            wake = min(wake, next_bookmark)
                        store.cond.wait(max(0.01, wake - now))
                    if store.freeze_gen != fgen:
                        continue
                    if store.close_gen != gen or \
                            time.monotonic() >= deadline:
                        break
                    for ev_rv, ev_kind, etype, obj in news:
                        last = ev_rv
                        if ev_kind != kind:
                            continue
                        ons = obj["metadata"].get("namespace", "")
                        if ns is not None and ons != ns:
                            continue
                        out.append((etype, obj))
                    for rkind, line in raws:
                        if rkind is None or rkind == kind:
                            out.append(("RAW", line))
                    raw_seen = len(store.raw)
                    bm_rv = store.rv
                for etype, obj in out:
                    if etype == "RAW":
                        self.chunk(obj if obj.endswith("\n")
                                   else obj + "\n")
                    else:
                        send(etype, obj)
                    if etype == "ERROR":
                        return self.chunk(b"")
                if bookmarks and time.monotonic() >= next_bookmark:
                    send("BOOKMARK", {
                        "kind": kind, "apiVersion": api_version(kind),
                        "metadata": {"resourceVersion": str(max(last,
                                                                bm_rv))}})
                    last = max(last, bm_rv)
                    next_bookmark = (time.monotonic() +
                                     self.server.bookmark_interval)
            self.chunk(b"")             # end of stream: 0-length chunk
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError,
                OSError):
            pass
        finally:
            with store.cond:
                store.open_watches -= 1

    def control(self, method, path):
        store = self.server.store
        if method == "GET" and path == "/_test/state":
            with store.cond:
                return self.reply(200, {
                    "resourceVersion": store.rv, "oldest": store.oldest,
                    "events": len(store.events),
                    "openWatches": store.open_watches,
                    "expired": store.expired,
                    "frozen": store.frozen, "continuePages": store.pages,
                    "seen": store.seen,
                    "counts": {k: len(v) for k, v in store.objects.items()}})
        if method != "POST":
            return self.reply(405, status(405, "MethodNotAllowed", path))
        try:
            body = self.body_json()
        except ValueError as e:
            return self.reply(400, status(400, "BadRequest", str(e)))
        if path == "/_test/apply":
            results = []
            for op in (body if isinstance(body, list) else [body]):
                if op.get("op") == "raw":
                    store.inject_raw(op.get("kind"), op["line"])
                    results.append({"code": 200})
                    continue
                code, out = store.apply(op["op"], op["kind"], op["object"])
                results.append({"code": code,
                                "resourceVersion": store.rv})
            bad = [r for r in results if r["code"] >= 300]
            return self.reply(400 if bad else 200, results)
        if path == "/_test/compact":
            store.compact(isinstance(body, dict) and bool(body.get("close")))
            return self.reply(200, {"oldest": store.oldest})
        if path == "/_test/close-watches":
            store.close_watches()
            return self.reply(200, {})
        if path == "/_test/freeze":
            with store.cond:
                store.freeze_on = bool(isinstance(body, dict) and
                                       body.get("on", True))
                if store.freeze_on:
                    store.freeze_gen += 1
                store.cond.notify_all()
            return self.reply(200, {"frozen": store.frozen})
        if path == "/_test/expire-continue":
            with store.cond:
                store.expire_continue = int(body.get("count", 1))
            return self.reply(200, {})
        if path == "/_test/shutdown":
            self.reply(200, {})
            self.wfile.flush()
            os._exit(0)
        return self.reply(404, status(404, "NotFound", path))

    def do_GET(self):
        self.route("GET")

    def do_HEAD(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_PUT(self):
        self.route("PUT")

    def do_DELETE(self):
        self.route("DELETE")

    def do_PATCH(self):
        self.route("PATCH")


def parse_resource_path(path):
    """-> (kind, namespace or None, name or None), or None."""
    parts = path.strip("/").split("/")
    if parts[:2] == ["api", "v1"]:
        rest = parts[2:]
        group = ""
    elif parts[:3] == ["apis", "discovery.k8s.io", "v1"]:
        rest = parts[3:]
        group = "discovery.k8s.io"
    else:
        return None
    ns = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        ns, rest = rest[1], rest[2:]
    if not rest or len(rest) > 2:
        if ns is not None and not rest:     # GET /api/v1/namespaces/NS
            return ("Namespace", None, ns) if group == "" else None
        return None
    kind = RESOURCE_KIND.get(rest[0])
    if kind is None or KINDS[kind][0] != group:
        return None
    if ns is not None and not KINDS[kind][3]:
        return None
    return kind, ns, (rest[1] if len(rest) == 2 else None)


def resource_list(group_version, kinds):
    res = []
    entries = [(kind,) + tuple(KINDS[kind][2:]) for kind in kinds]
    entries += DISCOVERY_ONLY.get(group_version, [])
    for kind, plural, namespaced, short in entries:
        r = {"name": plural, "singularName": kind.lower(),
             "namespaced": namespaced, "kind": kind,
             "verbs": ["create", "delete", "get", "list", "update",
                       "watch"]}
        if short:
            r["shortNames"] = short
        res.append(r)
    return {"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": group_version, "resources": res}


def api_group(name, versions):
    gvs = [{"groupVersion": name + "/" + v, "version": v} for v in versions]
    return {"kind": "APIGroup", "apiVersion": "v1", "name": name,
            "versions": gvs, "preferredVersion": gvs[0]}


# group -> versions, every group the server announces
GROUPS = {"discovery.k8s.io": ["v1"]}
for _gv in DISCOVERY_ONLY:
    if "/" in _gv:
        _g, _v = _gv.split("/")
        GROUPS.setdefault(_g, [])
        if _v not in GROUPS[_g]:
            GROUPS[_g].append(_v)


DISCOVERY = {
    "/version": {"major": "1", "minor": "30", "gitVersion": "v1.30.0-test",
                 "gitCommit": "0" * 40, "gitTreeState": "clean",
                 "buildDate": "2024-01-01T00:00:00Z", "goVersion": "go1.22",
                 "compiler": "gc", "platform": "linux/amd64"},
    "/api": {"kind": "APIVersions", "versions": ["v1"],
             "serverAddressByClientCIDRs": [
                 {"clientCIDR": "0.0.0.0/0", "serverAddress": ""}]},
    "/api/v1": resource_list("v1", ["Namespace", "Service", "Pod"]),
    "/apis": {"kind": "APIGroupList", "apiVersion": "v1",
              "groups": [{k: v for k, v in api_group(g, vs).items()
                          if k not in ("kind", "apiVersion")}
                         for g, vs in GROUPS.items()]},
}
for _g, _vs in GROUPS.items():
    DISCOVERY["/apis/" + _g] = api_group(_g, _vs)
    for _v in _vs:
        DISCOVERY["/apis/%s/%s" % (_g, _v)] = resource_list(
            _g + "/" + _v, [k for k, v in KINDS.items()
                            if v[0] == _g and v[1] == _v])


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


# ---- command line -----------------------------------------------------------

def serve(args):
    srv = Server((args.listen, args.port), Handler)
    srv.store = Store(args.window, args.state)
    srv.token_file = args.token_file
    srv.bookmark_interval = args.bookmark_interval
    srv.watch_timeout = args.watch_timeout
    srv.verbose = args.verbose
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True,
                                     do_handshake_on_connect=False)
    if args.apply:
        with open(args.apply) as f:
            for op in json.load(f):
                code, out = srv.store.apply(op["op"], op["kind"],
                                            op["object"])
                if code >= 300:
                    sys.exit("apiserver: --apply: %s" % out["message"])
    # bounded lifetime; SIGTERM ends at once
    threading.Timer(args.lifetime, lambda: os._exit(3)).start()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    if args.ready_file:
        with open(args.ready_file, "w") as f:
            f.write("%d\n" % os.getpid())
    srv.serve_forever()


def ctl(argv):
    p = argparse.ArgumentParser(prog="apiserver.py ctl")
    p.add_argument("url")
    p.add_argument("path")
    p.add_argument("body", nargs="?")
    p.add_argument("--cafile")
    a = p.parse_args(argv)
    ctx = ssl.create_default_context(cafile=a.cafile) if a.cafile else None
    data = a.body.encode() if a.body is not None else (
        b"{}" if a.path != "/_test/state" else None)
    req = urllib.request.Request(a.url + a.path, data=data,
                                 headers={"Content-Type":
                                          "application/json"})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            sys.stdout.write(r.read().decode() + "\n")
    except urllib.error.HTTPError as e:
        sys.stdout.write(e.read().decode() + "\n")
        sys.exit(1)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "ctl":
        return ctl(sys.argv[2:])
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--listen", required=True,
                   help="127.x.y.z address to listen on")
    p.add_argument("--port", type=int, default=6443)
    p.add_argument("--cert", help="server certificate (PEM): HTTPS")
    p.add_argument("--key", help="its key (PEM)")
    p.add_argument("--token-file",
                   help="accepted bearer tokens, one a line (re-read)")
    p.add_argument("--window", type=int, default=1000,
                   help="events retained for watches (default 1000)")
    p.add_argument("--bookmark-interval", type=float, default=2.0)
    p.add_argument("--watch-timeout", type=float, default=300.0,
                   help="watch length without timeoutSeconds")
    p.add_argument("--state", help="objects kept across restarts")
    p.add_argument("--apply", help="JSON list of operations at start")
    p.add_argument("--lifetime", type=float, default=120.0)
    p.add_argument("--ready-file", help="written once listening")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args()
    if not args.listen.startswith("127."):
        sys.exit("apiserver: --listen must be a 127.x address")
    if bool(args.cert) != bool(args.key):
        sys.exit("apiserver: --cert and --key go together")
    serve(args)


if __name__ == "__main__":
    main()
