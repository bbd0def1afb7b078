#!/usr/bin/env python3
"""bench/kubernetes/run.py — ramp against Argo Rollouts' own controller on a real Kubernetes
control plane (docs/performance.md, "Kubernetes: ramp vs Argo Rollouts").

One run starts a fresh test cluster (scripts/kube-cluster.sh, with the kube-apiserver audit log
on and a kwok Node big enough), then for each controller in turn — never two at once — in a
namespace of its own, with its own --instance-id and its own client certificate (so the audit
log tells its requests apart):

  1. baseline: the controller started with no Rollout; its RSS once settled;
  2. N Rollouts created (replicas 1, canary: setWeight 50, pause 10 s, no traffic routing),
     labelled with the controller's instance id; the controller started; time, CPU and API
     requests until every Rollout is Healthy;
  3. steady: once the cluster has gone quiet (nothing but Leases and Events written for
     --quiet-s, as the audit log shows: the kube-controller-manager may still be writing the
     ReplicaSets' and Pods' status after a fast sync), RSS (VmRSS of /proc/PID/status) and idle
     CPU and API requests over --idle-s seconds with nothing changing;
  4. a release: the image of M Rollouts changed at once (one merge patch each); per release:
     CPU-seconds, API requests, time from the patch to the canary ReplicaSet's creation (seen
     by a watch) and to the Rollout's Healthy on the new revision;
  5. growth (--grow, a fraction of N): that many more Rollouts created once the release is done
     and at rest; RSS before and after, at rest: the memory each added Rollout takes (the
     marginal cost, which excludes what a first Rollout brings once: code and libraries paged
     in, connections, allocator caches — the (idle − baseline) / N figure includes them);
  6. the controller stopped (SIGTERM, by pid) and its namespace deleted.

API requests are the audit log's requests (distinct auditIDs) of the controller's user whose
requestReceivedTimestamp falls in the window, read after the controller stopped (so its
watches are closed and logged). Prints a table of every metric side by side, with the ratio
ramp / Argo, and writes it with the raw numbers (JSON) to the output directory.

  bench/kubernetes/run.py --rollouts 1000 --release 100 [--out DIR] [--keep]

Needs: build/release's ramp (cmake --preset release; cmake --build build/release --target ramp),
the cluster's programs (scripts/kube-cluster.sh build) and Argo's controller
(scripts/argo-rollouts.sh build-controller). Python 3 standard library only.
"""

import argparse
import concurrent.futures
import datetime
import http.client
import json
import os
import shlex
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INSTANCE_LABEL = "argo-rollouts.argoproj.io/controller-instance-id"
ROLLOUTS = "/apis/argoproj.io/v1alpha1/namespaces/{ns}/rollouts"
REPLICASETS = "/apis/apps/v1/namespaces/{ns}/replicasets"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(*args):
    print(time.strftime("%H:%M:%S"), *args, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the API server, as one user (a client certificate) --------------------------------------


class Api:
    """HTTPS client of the API server with a client certificate; one connection per thread."""

    def __init__(self, server, ca, cert, key):
        host_port = server.removeprefix("https://")
        self.host, port = host_port.rsplit(":", 1)
        self.port = int(port)
        self.ctx = ssl.create_default_context(cafile=ca)
        self.ctx.load_cert_chain(cert, key)
        self.local = threading.local()

    def conn(self, timeout=60):
        return http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=timeout)

    def request(self, method, path, body=None, content_type="application/json"):
        """Returns (status, decoded JSON or None); retries once on a dropped connection. A body
        that is not JSON (the API server's plain-text "404 page not found" for a path it does
        not serve yet, e.g. a CRD not yet established) decodes to None."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": content_type, "Accept": "application/json"}
        for attempt in range(2):
            c = getattr(self.local, "c", None)
            if c is None:
                c = self.local.c = self.conn()
            try:
                c.request(method, path, body=data, headers=headers)
                r = c.getresponse()
                raw = r.read()
                try:
                    return r.status, (json.loads(raw) if raw else None)
                except ValueError:
                    return r.status, None
            except (http.client.HTTPException, OSError):
                self.local.c = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def must(self, method, path, body=None, content_type="application/json", ok=(200, 201)):
        status, out = self.request(method, path, body, content_type)
        if status not in ok:
            raise RuntimeError(f"{method} {path}: HTTP {status}: {json.dumps(out)[:400]}")
        return out


class Watch(threading.Thread):
    """Lists then watches a collection, calling on_event(type, object, wall time) for each
    object listed (as ADDED) and each watch event; re-watches from the last resourceVersion
    when the server ends the stream, lists again after an ERROR (410 Gone)."""

    def __init__(self, api, path, on_event):
        super().__init__(daemon=True)
        self.api, self.path, self.on_event = api, path, on_event
        self.stopping = threading.Event()
        self.synced = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            try:
                out = self.api.must("GET", self.path)
                now = time.time()
                for item in out.get("items", []):
                    self.on_event("ADDED", item, now)
                rv = out["metadata"]["resourceVersion"]
                self.synced.set()
                while not self.stopping.is_set():
                    rv = self.stream(rv)
                    if rv is None:
                        break  # ERROR: list again
            except (RuntimeError, OSError, http.client.HTTPException, ValueError) as e:
                if not self.stopping.is_set():
                    log("watch", self.path, "failed:", e, "- again in 1 s")
                    time.sleep(1)

    def stream(self, rv):
        c = self.api.conn(timeout=3700)
        try:
            c.request("GET", f"{self.path}?watch=1&allowWatchBookmarks=true"
                      f"&resourceVersion={rv}&timeoutSeconds=3600")
            r = c.getresponse()
            if r.status != 200:
                raise RuntimeError(f"watch {self.path}: HTTP {r.status}")
            while not self.stopping.is_set():
                line = r.readline()
                if not line:
                    return rv
                ev = json.loads(line)
                if ev["type"] == "ERROR":
                    return None
                rv = ev["object"]["metadata"]["resourceVersion"]
                if ev["type"] != "BOOKMARK":
                    self.on_event(ev["type"], ev["object"], time.time())
            return rv
        finally:
            c.close()

    def stop(self):
        self.stopping.set()


# --- the test cluster ------------------------------------------------------------------------


def pem_user(pki, name, out_dir):
    """A client certificate for user NAME in group system:masters, signed by the cluster CA."""
    key, crt, csr = (os.path.join(out_dir, f"{name}.{x}") for x in ("key", "crt", "csr"))
    run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-out", key])
    run(["openssl", "req", "-new", "-key", key, "-subj", f"/O=system:masters/CN={name}",
         "-out", csr])
    ext = os.path.join(out_dir, f"{name}.ext")
    with open(ext, "w") as f:
        f.write("keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n")
    run(["openssl", "x509", "-req", "-in", csr, "-CA", f"{pki}/ca.crt", "-CAkey", f"{pki}/ca.key",
         "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", crt])
    return crt, key


def kubeconfig(path, server, ca, crt, key, namespace):
    with open(path, "w") as f:
        f.write(f"""apiVersion: v1
kind: Config
clusters:
- name: bench
  cluster: {{server: {server}, certificate-authority: {ca}}}
users:
- name: bench
  user: {{client-certificate: {crt}, client-key: {key}}}
contexts:
- name: bench
  context: {{cluster: bench, user: bench, namespace: {namespace}}}
current-context: bench
""")


def run(argv, **kw):
    return subprocess.run(argv, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, **kw).stdout


# --- a controller process --------------------------------------------------------------------


class Proc:
    """A controller started in its own session, output in LOG; stopped by its pid."""

    def __init__(self, argv, logfile, env=None, group=False):
        self.group = group  # stop the whole session (a wrapper such as heaptrack and its child)
        self.logfile = logfile
        self.f = open(logfile, "w")
        self.p = subprocess.Popen(argv, stdout=self.f, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, start_new_session=True, env=env)
        self.pid = self.p.pid

    def alive(self):
        return self.p.poll() is None

    def rss_kib(self):
        return self.status_field("VmRSS")

    def rss_anon_kib(self):
        """Anonymous memory (heap, stacks): VmRSS without the binary's and libraries' pages."""
        return self.status_field("RssAnon")

    def rss_median_kib(self, seconds):
        samples = []
        for _ in range(seconds):
            samples.append(self.rss_kib())
            time.sleep(1)
        return statistics.median(samples)

    def hwm_kib(self):
        return self.status_field("VmHWM")

    def status_field(self, name):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
        raise RuntimeError(f"no {name} for pid {self.pid}")

    def cpu_s(self):
        """utime + stime of the process (all its threads), in seconds."""
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def threads(self):
        return self.status_field("Threads")

    def stop(self):
        if self.p.poll() is None:
            if self.group:
                os.killpg(self.pid, signal.SIGTERM)
            else:
                self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(30)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.f.close()
        return self.p.returncode

    def log_tail(self, n=30):
        with open(self.logfile, errors="replace") as f:
            return "".join(f.readlines()[-n:])


def wait_until(what, cond, timeout, proc=None, every=0.5):
    end = time.time() + timeout
    while True:
        if cond():
            return
        if proc is not None and not proc.alive():
            raise RuntimeError(f"{what}: the controller exited:\n{proc.log_tail()}")
        if time.time() > end:
            raise RuntimeError(f"{what}: not after {timeout} s")
        time.sleep(every)


# --- the objects -----------------------------------------------------------------------------


def rollout(name, ns, instance, image):
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": name, "namespace": ns, "labels": {INSTANCE_LABEL: instance}},
        "spec": {
            "replicas": 1,
            "revisionHistoryLimit": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": image}]},
            },
            "strategy": {"canary": {"steps": [{"setWeight": 50},
                                              {"pause": {"duration": "10s"}}]}},
        },
    }


class State:
    """What the watches saw: each Rollout's latest status, the ReplicaSets' first sighting."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rollouts = {}  # name -> (phase, stableRS, currentPodHash)
        self.healthy_at = {}  # name -> {hash: first time Healthy with stableRS == hash}
        self.rs_seen = {}  # (rollout name, image) -> first time a ReplicaSet was seen

    def on_rollout(self, kind, obj, t):
        name = obj["metadata"]["name"]
        st = obj.get("status") or {}
        with self.lock:
            if kind == "DELETED":
                self.rollouts.pop(name, None)
                return
            v = (st.get("phase"), st.get("stableRS"), st.get("currentPodHash"))
            self.rollouts[name] = v
            if v[0] == "Healthy" and v[1] and v[1] == v[2]:
                self.healthy_at.setdefault(name, {}).setdefault(v[1], t)

    def on_replicaset(self, kind, obj, t):
        if kind != "ADDED":
            return
        owners = obj["metadata"].get("ownerReferences") or []
        name = owners[0]["name"] if owners else obj["metadata"]["name"].rsplit("-", 1)[0]
        image = obj["spec"]["template"]["spec"]["containers"][0]["image"]
        with self.lock:
            self.rs_seen.setdefault((name, image), t)

    def healthy(self, names):
        with self.lock:
            return sum(1 for n in names
                       if (v := self.rollouts.get(n)) and v[0] == "Healthy" and v[1]
                       and v[1] == v[2])

    def stable(self, name):
        with self.lock:
            return self.rollouts[name][1]

    def finished(self, name, old_hash):
        """When NAME was first Healthy on a revision other than old_hash, or None."""
        with self.lock:
            times = [t for h, t in self.healthy_at.get(name, {}).items() if h != old_hash]
            return min(times) if times else None


# --- the audit log ---------------------------------------------------------------------------


def parse_time(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def read_audit(path, user, offset):
    """The requests of USER in the audit log from byte OFFSET on: {auditID: (time, verb,
    resource, code)} (one entry per request; a watch's two stages are one request)."""
    reqs = {}
    needle = f'"username":"{user}"'
    with open(path, "rb") as f:
        f.seek(offset)
        for raw in f:
            line = raw.decode(errors="replace")
            if needle not in line:
                continue
            ev = json.loads(line)
            if ev.get("user", {}).get("username") != user:
                continue
            ref = ev.get("objectRef") or {}
            resource = ref.get("resource", ev.get("requestURI", "?").split("?")[0])
            if ref.get("subresource"):
                resource += "/" + ref["subresource"]
            code = (ev.get("responseStatus") or {}).get("code")
            prev = reqs.get(ev["auditID"])
            if prev is None or (code is not None and ev.get("stage") == "ResponseComplete"):
                reqs[ev["auditID"]] = (parse_time(ev["requestReceivedTimestamp"]), ev["verb"],
                                       resource, code)
    return reqs


def wait_quiet(path, offset, quiet_s, timeout):
    """Waits until the cluster has written nothing but Leases and Events for QUIET_S seconds (the
    audit log's mutating requests from byte OFFSET on, of every user), so that an idle window
    measures the controller and not the kube-controller-manager's backlog of ReplicaSet and Pod
    status writes after a fast sync. Returns the seconds waited, or None at TIMEOUT."""
    t0 = time.time()
    last_write = t0
    pos = offset
    while time.time() - t0 < timeout:
        with open(path, "rb") as f:
            f.seek(pos)
            for raw in f:
                if not raw.endswith(b"\n"):
                    break  # a line still being written: read it next time
                pos += len(raw)
                if b'"stage":"ResponseComplete"' not in raw:
                    continue
                ev = json.loads(raw)
                if ev.get("verb") not in ("create", "update", "patch", "delete",
                                          "deletecollection"):
                    continue
                if (ev.get("objectRef") or {}).get("resource") in ("leases", "events"):
                    continue
                last_write = max(last_write, parse_time(ev["requestReceivedTimestamp"]))
        if time.time() - last_write >= quiet_s:
            return time.time() - t0
        time.sleep(1)
    return None


def in_window(reqs, t0, t1):
    return [r for r in reqs.values() if t0 <= r[0] < t1]


def breakdown(reqs):
    counts = {}
    for _, verb, resource, code in reqs:
        key = f"{verb} {resource}" + ("" if code is None or code < 300 else f" ({code})")
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def pct(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


# --- one controller's run --------------------------------------------------------------------


class Controller:
    """How to start one of the two controllers on the cluster."""

    def __init__(self, key, label, argv_fn, ready_fn, env=None, group=False):
        self.key, self.label, self.argv_fn, self.ready_fn, self.env = (key, label, argv_fn,
                                                                       ready_fn, env)
        self.group = group  # stopped as a process group (run under a wrapper)


def bench_controller(c, args, admin, cluster, out_dir, audit_log):
    ns = f"bench-{c.key}"
    instance = f"bench-{c.key}"
    user = f"bench-{c.key}"
    res = {"controller": c.label, "rollouts": args.rollouts, "release": args.release}
    d = os.path.join(out_dir, c.key)
    os.makedirs(d, exist_ok=True)
    crt, key = pem_user(cluster["pki"], user, d)
    kc = os.path.join(d, "kubeconfig")
    kubeconfig(kc, cluster["server"], cluster["ca"], crt, key, ns)
    admin.must("POST", "/api/v1/namespaces",
               {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    wait_until("default ServiceAccount", lambda: admin.request(
        "GET", f"/api/v1/namespaces/{ns}/serviceaccounts/default")[0] == 200, 60)
    audit_start = os.path.getsize(audit_log)

    # 1. baseline: no Rollout.
    log(c.label, "baseline: started with no Rollout")
    p = Proc(c.argv_fn(kc, ns, instance, d, "baseline"), os.path.join(d, "baseline.log"), c.env,
             c.group)
    try:
        c.ready_fn(p, d)
        time.sleep(args.settle_s)
        res["rss_baseline_kib"] = p.rss_kib()
        res["rss_anon_baseline_kib"] = p.rss_anon_kib()
    finally:
        p.stop()

    # 2. N Rollouts, then the controller.
    state = State()
    watches = [Watch(admin, ROLLOUTS.format(ns=ns), state.on_rollout),
               Watch(admin, REPLICASETS.format(ns=ns), state.on_replicaset)]
    for w in watches:
        w.start()
    for w in watches:
        if not w.synced.wait(60):
            raise RuntimeError("the watches did not start")
    names = [f"r-{i:05d}" for i in range(args.rollouts)]

    def create(batch):
        log(c.label, f"creating {len(batch)} Rollouts")
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            list(ex.map(lambda n: admin.must("POST", ROLLOUTS.format(ns=ns),
                                             rollout(n, ns, instance, "example.com/app:v1")),
                        batch))

    t0 = time.time()
    create(names)
    res["create_s"] = time.time() - t0
    log(c.label, f"created in {res['create_s']:.1f} s; starting the controller")
    t_start = time.time()
    p = Proc(c.argv_fn(kc, ns, instance, d, "run"), os.path.join(d, "run.log"), c.env, c.group)
    try:
        last = [0, time.time()]

        def all_healthy(batch):
            n = state.healthy(batch)
            if n != last[0]:
                last[:] = [n, time.time()]
            elif time.time() - last[1] > 30:
                log(c.label, f"{n}/{len(batch)} Healthy")
                last[1] = time.time()
            return n == len(batch)

        wait_until("every Rollout Healthy", lambda: all_healthy(names), args.timeout_s, p,
                   every=1)
        t_healthy = time.time()
        res["sync_s"] = t_healthy - t_start
        res["sync_cpu_s"] = p.cpu_s()
        log(c.label, f"all {len(names)} Healthy after {res['sync_s']:.1f} s, "
            f"{res['sync_cpu_s']:.1f} CPU-s")

        # 3. steady: settle, wait for the cluster to go quiet, then idle.
        time.sleep(args.settle_s)
        waited = wait_quiet(audit_log, audit_start, args.quiet_s, args.quiet_timeout_s)
        res["quiet_wait_s"] = waited
        log(c.label, "cluster quiet" if waited is not None else
            f"cluster still writing after {args.quiet_timeout_s} s; measuring idle anyway")
        cpu0, t_idle0 = p.cpu_s(), time.time()
        rss = []
        while time.time() - t_idle0 < args.idle_s:
            rss.append(p.rss_kib())
            time.sleep(1)
        t_idle1 = time.time()
        res["idle_s"] = t_idle1 - t_idle0
        res["idle_cpu_s"] = p.cpu_s() - cpu0
        res["rss_kib"] = statistics.median(rss)
        res["rss_max_kib"] = max(rss)
        res["rss_anon_kib"] = p.rss_anon_kib()
        res["threads"] = p.threads()
        log(c.label, f"idle {res['idle_s']:.0f} s: {res['idle_cpu_s']:.2f} CPU-s, "
            f"RSS {res['rss_kib'] / 1024:.1f} MiB")

        # 4. a release of M Rollouts.
        released = names[:args.release]
        old = {n: state.stable(n) for n in released}
        patch = {"spec": {"template": {"spec": {"containers": [
            {"name": "app", "image": "example.com/app:v2"}]}}}}
        patched = {}
        cpu0 = p.cpu_s()
        t_rel0 = time.time()

        def do_patch(n):
            admin.must("PATCH", ROLLOUTS.format(ns=ns) + "/" + n, patch,
                       "application/merge-patch+json")
            patched[n] = time.time()

        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            list(ex.map(do_patch, released))
        log(c.label, f"released {len(released)} in {time.time() - t_rel0:.2f} s")
        wait_until("the release finished",
                   lambda: all(state.finished(n, old[n]) for n in released),
                   args.timeout_s, p, every=0.5)
        t_rel1 = time.time()
        res["release_cpu_s"] = p.cpu_s() - cpu0
        res["release_s"] = t_rel1 - t_rel0
        to_rs, to_done = [], []
        with state.lock:
            for n in released:
                seen = state.rs_seen.get((n, "example.com/app:v2"))
                if seen is not None:
                    to_rs.append(seen - patched[n])
        for n in released:
            to_done.append(state.finished(n, old[n]) - patched[n])
        res["to_canary_rs_s"] = to_rs
        res["to_healthy_s"] = to_done
        # Wait a little so the last writes of the release are in its window.
        time.sleep(args.tail_s)
        t_rel1 += args.tail_s
        res["rss_after_release_kib"] = p.rss_kib()
        res["hwm_kib"] = p.hwm_kib()
        log(c.label, f"release done in {res['release_s']:.1f} s, "
            f"{res['release_cpu_s']:.2f} CPU-s")

        # 5. growth: more Rollouts, RSS at rest before and after.
        extra = [f"r-{i:05d}" for i in
                 range(args.rollouts, args.rollouts + int(args.rollouts * args.grow))]
        if extra:
            time.sleep(args.settle_s)
            res["rss_before_growth_kib"] = p.rss_median_kib(10)
            create(extra)
            last[:] = [0, time.time()]
            wait_until("the added Rollouts Healthy", lambda: all_healthy(extra),
                       args.timeout_s, p, every=1)
            time.sleep(args.settle_s)
            res["rss_grown_kib"] = p.rss_median_kib(10)
            res["grown"] = len(extra)
            log(c.label, f"{len(extra)} more: RSS {res['rss_before_growth_kib'] / 1024:.1f} → "
                f"{res['rss_grown_kib'] / 1024:.1f} MiB")
    finally:
        code = p.stop()
        for w in watches:
            w.stop()
    res["exit_code"] = code
    time.sleep(2)  # the audit log's last events (the watches closed by the stop)
    reqs = read_audit(audit_log, user, audit_start)
    sync = in_window(reqs, t_start, t_healthy)
    idle = in_window(reqs, t_idle0, t_idle1)
    rel = in_window(reqs, t_rel0, t_rel1)
    res["sync_requests"] = len(sync)
    res["idle_requests"] = len(idle)
    res["release_requests"] = len(rel)
    res["release_requests_breakdown"] = breakdown(rel)
    res["sync_requests_breakdown"] = breakdown(sync)
    res["idle_requests_breakdown"] = breakdown(idle)
    res["release_window_s"] = t_rel1 - t_rel0

    # 6. clean up.
    log(c.label, "deleting its namespace")
    admin.request("DELETE", f"/api/v1/namespaces/{ns}")
    return res


# --- the two controllers ---------------------------------------------------------------------


def client_flags(args):
    """--qps and --burst for either controller (both take Argo's flags); none: their defaults."""
    flags = []
    if args.qps is not None:
        flags += ["--qps", str(args.qps)]
    if args.burst is not None:
        flags += ["--burst", str(args.burst)]
    return flags


def ramp_controller(args):
    ramp = args.ramp
    audit_key = None

    def argv(kc, ns, instance, d, phase):
        nonlocal audit_key
        if audit_key is None:
            audit_key = os.path.join(d, "audit.key")
            run([ramp, "audit", "keygen", "--out", audit_key])
        data = os.path.join(d, f"data-{phase}")
        os.makedirs(data, exist_ok=True)
        return args.ramp_prefix + [
            ramp, "serve", "--data", data, "--store", "store.kubernetes", "--platform",
            "platform.kubernetes", "--kubeconfig", kc, "--namespace", ns, "--instance-id",
            instance, "--audit-key", audit_key, "--listen", "127.0.0.1:0"] + client_flags(args) + \
            args.ramp_args

    def ready(p, d):
        wait_until("ramp serve ready",
                   lambda: "ramp serve: ready" in open(p.logfile, errors="replace").read(), 120,
                   p)

    return Controller("ramp", "ramp", argv, ready, group=bool(args.ramp_prefix))


def argo_controller(args):
    ports = {}

    def argv(kc, ns, instance, d, phase):
        ports["healthz"], ports["metrics"] = free_port(), free_port()
        return [args.argo, "--kubeconfig", kc, "--namespaced", "--instance-id", instance,
                "--leader-elect=false", "--healthzPort", str(ports["healthz"]),
                "--metricsPort", str(ports["metrics"])] + client_flags(args)

    def ready(p, d):
        def ok():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{ports['healthz']}/healthz",
                                            timeout=2) as r:
                    return r.status == 200
            except OSError:
                return False

        wait_until("Argo's /healthz", ok, 120, p)

    env = dict(os.environ)
    env.pop("POD_NAMESPACE", None)
    return Controller("argo", f"Argo Rollouts {args.argo_version}", argv, ready, env)


# --- the table -------------------------------------------------------------------------------


def table(results, args):
    keys = [r["key"] for r in results]
    by = {r["key"]: r for r in results}

    def mib(k):
        return lambda r: r[k] / 1024

    def per_rollout_kib(r):
        return (r["rss_kib"] - r["rss_baseline_kib"]) / r["rollouts"]

    def anon_per_rollout_kib(r):
        return (r["rss_anon_kib"] - r["rss_anon_baseline_kib"]) / r["rollouts"]

    def per_added_rollout_kib(r):
        return (r["rss_grown_kib"] - r["rss_before_growth_kib"]) / r["grown"]

    rows = [
        ("RSS with no Rollout (MiB)", mib("rss_baseline_kib"), "{:.1f}"),
        (f"RSS with {args.rollouts:,} Rollouts, idle (MiB, median)", mib("rss_kib"), "{:.1f}"),
        ("RSS per Rollout (KiB, (idle − baseline) / N)", per_rollout_kib, "{:.1f}"),
        ("  of it anonymous (KiB, RssAnon)", anon_per_rollout_kib, "{:.1f}"),
        (f"RSS per added Rollout (KiB, {int(args.rollouts * args.grow):,} more, at rest)",
         per_added_rollout_kib, "{:.1f}"),
        ("peak RSS (VmHWM, MiB)", mib("hwm_kib"), "{:.1f}"),
        ("start with N Rollouts until all Healthy (s)", lambda r: r["sync_s"], "{:.1f}"),
        ("  CPU-s of that", lambda r: r["sync_cpu_s"], "{:.1f}"),
        ("  API requests per Rollout", lambda r: r["sync_requests"] / r["rollouts"], "{:.2f}"),
        (f"idle CPU over {args.idle_s} s (CPU-s)", lambda r: r["idle_cpu_s"], "{:.2f}"),
        ("idle CPU (% of a core)", lambda r: 100 * r["idle_cpu_s"] / r["idle_s"], "{:.2f}"),
        (f"idle API requests over {args.idle_s} s", lambda r: r["idle_requests"], "{:d}"),
        ("waited for a quiet cluster before it (s)",
         lambda r: r.get("quiet_wait_s") if r.get("quiet_wait_s") is not None else float("nan"),
         "{:.0f}"),
        ("CPU-s per release", lambda r: r["release_cpu_s"] / r["release"], "{:.3f}"),
        ("API requests per release", lambda r: r["release_requests"] / r["release"], "{:.1f}"),
        ("spec change → canary ReplicaSet, median (s)",
         lambda r: statistics.median(r["to_canary_rs_s"]), "{:.3f}"),
        ("spec change → canary ReplicaSet, p95 (s)", lambda r: pct(r["to_canary_rs_s"], 95),
         "{:.3f}"),
        ("spec change → Healthy, median (s)", lambda r: statistics.median(r["to_healthy_s"]),
         "{:.1f}"),
        ("spec change → Healthy, p95 (s)", lambda r: pct(r["to_healthy_s"], 95), "{:.1f}"),
        (f"all {args.release} releases done (s)", lambda r: r["release_s"], "{:.1f}"),
    ]
    head = ["metric"] + [by[k]["controller"] for k in keys]
    if len(keys) == 2:
        head.append(f"{by[keys[0]]['controller']} / {by[keys[1]]['controller']}")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for title, fn, fmt in rows:
        vals = []
        for k in keys:
            try:
                vals.append(fn(by[k]))
            except (KeyError, ZeroDivisionError, statistics.StatisticsError):
                vals.append(None)
        cells = [fmt.format(v) if v is not None else "—" for v in vals]
        if len(keys) == 2:
            a, b = vals
            cells.append(f"{a / b:.2f}" if a is not None and b not in (None, 0) else "—")
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rollouts", type=int, default=1000, help="N Rollouts per controller")
    ap.add_argument("--release", type=int, default=100, help="M Rollouts released at once")
    ap.add_argument("--idle-s", type=int, default=60, help="idle window (s)")
    ap.add_argument("--settle-s", type=int, default=20, help="wait before measuring RSS (s)")
    ap.add_argument("--quiet-s", type=int, default=10,
                    help="before the idle window, wait until the cluster has written nothing "
                         "but Leases and Events for this long (s)")
    ap.add_argument("--quiet-timeout-s", type=int, default=300,
                    help="give up waiting for a quiet cluster after this long (s)")
    ap.add_argument("--tail-s", type=int, default=5, help="release window after done (s)")
    ap.add_argument("--grow", type=float, default=0.5,
                    help="then this fraction of N more Rollouts, for the marginal RSS (0: none)")
    ap.add_argument("--timeout-s", type=int, default=3600, help="limit of each wait (s)")
    ap.add_argument("--controllers", default="ramp,argo", help="in this order, one at a time")
    ap.add_argument("--qps", type=float, help="both controllers' --qps (default: theirs, 40)")
    ap.add_argument("--burst", type=int, help="both controllers' --burst (default: theirs, 80)")
    ap.add_argument("--control-plane-qps", type=int,
                    help="the controller-manager's and scheduler's requests/s (burst twice): "
                    "for 10,000 Pods (default: theirs, 20 and 50)")
    ap.add_argument("--ramp", default=os.path.join(ROOT, "build/release/ramp"))
    ap.add_argument("--ramp-prefix", default="", help="run ramp under this command, e.g. "
                    "'heaptrack -o /tmp/heap' to see where its memory goes (its RSS and CPU "
                    "figures are then the wrapper's: ignore them)")
    ap.add_argument("--ramp-args", default="",
                    help="more flags of `ramp serve`, e.g. '--workers 10' (say so with the table)")
    ap.add_argument("--argo", help="rollouts-controller (default: argo-rollouts.sh's build)")
    ap.add_argument("--out", help="keep logs, results.json and table.md here (default: a "
                    "temporary directory, removed unless --keep)")
    ap.add_argument("--keep", action="store_true", help="keep the cluster directory")
    args = ap.parse_args()
    args.ramp_prefix = shlex.split(args.ramp_prefix)
    args.ramp_args = shlex.split(args.ramp_args)

    if not os.access(args.ramp, os.X_OK):
        sys.exit(f"run.py: no ramp at {args.ramp} (cmake --preset release && cmake --build "
                 "build/release --target ramp)")
    if args.argo is None:
        args.argo = run([os.path.join(ROOT, "scripts/argo-rollouts.sh"),
                         "build-controller"]).strip().splitlines()[-1]
    args.argo_version = run([args.argo, "--version"]).strip().splitlines()[-1]

    out_dir = args.out or tempfile.mkdtemp(prefix="ramp-bench-kube-")
    os.makedirs(out_dir, exist_ok=True)
    cdir = os.path.join(out_dir, "cluster")
    audit_log = os.path.join(out_dir, "audit.log")
    env = dict(os.environ, RAMP_KUBE_AUDIT_LOG=audit_log,
               RAMP_KUBE_NODE_PODS=str(
                   int(2 * args.rollouts * (1 + args.grow)) + args.release + 200))
    if args.control_plane_qps is not None:
        env["RAMP_KUBE_CONTROL_PLANE_QPS"] = str(args.control_plane_qps)
    script = os.path.join(ROOT, "scripts/kube-cluster.sh")
    log("starting the cluster in", cdir)
    started = False

    def stop_cluster(*_):
        if started:
            subprocess.run([script, "stop", cdir], check=False)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results = []
    try:
        started = True
        subprocess.run([script, "start", cdir], check=True, env=env)
        server = [ln.split("=", 1)[1] for ln in open(os.path.join(cdir, "env"))
                  if ln.startswith("export RAMP_KUBE_APISERVER=")][0].strip()
        pki = os.path.join(cdir, "pki")
        cluster = {"server": server, "pki": pki, "ca": f"{pki}/ca.crt"}
        admin = Api(server, f"{pki}/ca.crt", f"{pki}/admin.crt", f"{pki}/admin.key")
        kube_bin = [ln.split("=", 1)[1] for ln in open(os.path.join(cdir, "env"))
                    if ln.startswith("export RAMP_KUBE_BIN=")][0].strip()
        run([os.path.join(kube_bin, "kubectl"), "--kubeconfig", os.path.join(cdir, "kubeconfig"),
             "apply", "--server-side", "-f", os.path.join(ROOT, "deploy/crds")])
        wait_until("the Rollout CRD served", lambda: admin.request(
            "GET", "/apis/argoproj.io/v1alpha1/rollouts")[0] == 200, 60)
        makers = {"ramp": ramp_controller, "argo": argo_controller}
        for key in args.controllers.split(","):
            c = makers[key](args)
            r = bench_controller(c, args, admin, cluster, out_dir, audit_log)
            r["key"] = key
            results.append(r)
            with open(os.path.join(out_dir, "results.json"), "w") as f:
                json.dump(results, f, indent=1)
            with open(os.path.join(out_dir, "table.md"), "w") as f:
                f.write(table(results, args) + "\n")  # so far; rewritten after each controller
    finally:
        stop_cluster()
    t = table(results, args)
    print(t)
    with open(os.path.join(out_dir, "table.md"), "w") as f:
        f.write(t + "\n")
    for r in results:
        print(f"\n{r['controller']}: API requests of the release ({r['release']} Rollouts, "
              f"{r['release_window_s']:.0f} s):")
        for k, v in r["release_requests_breakdown"].items():
            print(f"  {v:6d}  {k}")
        print(f"{r['controller']}: idle requests: {r['idle_requests_breakdown']}")
    log("results in", out_dir)


if __name__ == "__main__":
    main()
