"""A mesh of real processes on loopback: authoritative stand-ins for each
cluster's kube-dns (Debian's nsd) and meshdns instances in front of them.

Used by the integration tests and by scripts/demo.sh. Every address is in
127.0.0.0/8; every process is started by this module and stopped by it.

Layout (cluster N = 1..3):
  kube-dns of cluster N     nsd      127.10.N.1:5300
  second kube-dns, cluster 2 nsd     127.10.2.11:5300 (differs only in whoami TXT)
  meshdns of cluster N      meshdns  127.10.N.2:30053
  second meshdns, cluster 2 meshdns  127.10.2.3:30053 (asks 127.10.2.11)
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.request

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MESHDNS = os.environ.get("MESHDNS", os.path.join(REPO, "build", "meshdns"))
NSD_PORT = 5300
MESH_PORT = 30053
BROKER = "my-cluster-broker-100"
SERVICE = "my-cluster-kafka-brokers"
NAMESPACE = "strimzi"


HEADLESS = "kafka-hl"


def pod_ip(n, k):
    return f"10.{n}.6.{k + 1}"


def pod_ip6(n, k):
    return f"fd00:{n}::6:{k + 1}"


def kube_dns_addr(n, second=False):
    return f"127.10.{n}.{11 if second else 1}"


def meshdns_addr(n, second=False):
    return f"127.10.{n}.{3 if second else 2}"


def broker_ip(n):
    return f"10.{n}.0.100"


def zone_text(n, whoami):
    """cluster.local as cluster n's kube-dns knows it: only its own records."""
    lines = [
        "$ORIGIN cluster.local.",
        "$TTL 5",
        "@ IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5",
        # nsd adds NS and glue to positive answers; their long TTL keeps
        # them from deciding the cache lifetime (the minimum over all records).
        "@ 3600 IN NS ns.dns.cluster.local.",
        f"ns.dns 3600 IN A {kube_dns_addr(n)}",
        f"{BROKER}.{SERVICE}.{NAMESPACE}.svc IN A {broker_ip(n)}",
        f"{SERVICE}.{NAMESPACE}.svc IN A {broker_ip(n)}",
        f"_kafka._tcp.{SERVICE}.{NAMESPACE}.svc IN SRV 0 100 9092 {BROKER}.{SERVICE}.{NAMESPACE}.svc",
        f"alias.{NAMESPACE}.svc IN CNAME {BROKER}.{SERVICE}.{NAMESPACE}.svc",
        f"only-in-cluster{n}.{NAMESPACE}.svc IN A 10.{n}.1.1",
        f"long-ttl.{NAMESPACE}.svc 3600 IN A 10.{n}.2.1",
        f"ttl20.{NAMESPACE}.svc 20 IN A 10.{n}.2.2",
        f"*.whoami.svc IN TXT \"{whoami}\"",
        f"*.wild.svc IN A 10.{n}.3.1",
    ]
    # A headless service with two pods per cluster (distinct pod names per
    # cluster, as in a Strimzi stretch cluster), with AAAA and SRV records.
    for k in (0, 1):
        pod = f"broker-{n}-{k}.{HEADLESS}.{NAMESPACE}.svc"
        lines += [f"{HEADLESS}.{NAMESPACE}.svc IN A {pod_ip(n, k)}", f"{pod} IN A {pod_ip(n, k)}",
                  f"{HEADLESS}.{NAMESPACE}.svc IN AAAA {pod_ip6(n, k)}",
                  f"_kafka._tcp.{HEADLESS}.{NAMESPACE}.svc IN SRV 0 50 9092 {pod}"]
    # A ClusterIP service that only clusters 1 and 2 run, and one without AAAA.
    if n in (1, 2):
        lines.append(f"web.{NAMESPACE}.svc IN A 10.{n}.7.1")
    lines.append(f"v4only.{NAMESPACE}.svc IN A 10.{n}.8.1")
    # 40 A records: 656 bytes as an answer, more than a 512-byte UDP reply holds.
    lines += [f"big.{NAMESPACE}.svc IN A 10.{n}.4.{i}" for i in range(1, 41)]
    # 100 A records: 1,6xx bytes, more than meshdns's 1232-byte EDNS buffer: nsd
    # truncates, and meshdns must ask again over TCP.
    lines += [f"huge.{NAMESPACE}.svc IN A 10.{n}.5.{i}" for i in range(1, 101)]
    return "\n".join(lines) + "\n"


def meshdns_config(n, listen, own_resolvers, *, peers=None, timeout="500ms", extra=""):
    """Each instance also serves /metrics on its own address, which Mesh.stop checks."""
    peers = peers or {}
    clusters = []
    for c in (1, 2, 3):
        resolvers = own_resolvers if c == n else peers.get(c, [f"{meshdns_addr(c)}:{MESH_PORT}"])
        clusters.append(f"  cluster{c}:\n    resolvers: [{', '.join(repr(r) for r in resolvers)}]")
    return (
        f"cluster: cluster{n}\n"
        f"listen: ['{listen}']\n"
        "clusters:\n" + "\n".join(clusters) + "\n"
        f"forward:\n  timeout: {timeout}\n  health_check: 500ms\n"
        "cache:\n  max_ttl: 30s\n  min_ttl: 5s\n  denial_ttl: 5s\n"
        f"metrics: '{listen.rsplit(':', 1)[0]}:9153'\n"
        + extra
    )


def check_metrics(text):
    """A strict reading of a /metrics page: each family described
    (HELP, TYPE) once and before its samples, a family's lines together, and
    no series twice. Raises AssertionError naming the first problem; returns
    the samples as {(name, sorted labels): value}."""
    described, seen_families, series = set(), [], {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line:
            continue
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            kind, family = line.split(" ", 3)[1:3]
            assert (kind, family) not in described, f"line {n}: {kind} of {family} given twice"
            described.add((kind, family))
            if kind == "TYPE":
                assert family not in seen_families, f"line {n}: family {family} comes back after other families"
                seen_families.append(family)
            continue
        m = re.fullmatch(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)', line)
        assert m, f"line {n}: not a sample: {line!r}"
        name, labels = m.group(1), m.group(3) or ""
        pairs = re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', labels)
        assert ",".join(f'{k}="{v}"' for k, v in pairs) == labels, f"line {n}: labels do not parse: {line!r}"
        assert len({k for k, _ in pairs}) == len(pairs), f"line {n}: a label twice: {line!r}"
        family = next((f for f in (name, re.sub(r"_(bucket|sum|count)$", "", name)) if f in seen_families), None)
        assert family is not None, f"line {n}: {name} has no TYPE before it"
        assert family == seen_families[-1], f"line {n}: {name} is apart from the rest of its family {family}"
        key = (name, tuple(sorted(pairs)))
        assert key not in series, f"line {n}: series given twice: {line!r}"
        series[key] = float(m.group(4))
    # And as Prometheus's own tools read it (expfmt's parser plus its lint),
    # where Debian's prometheus package is installed (scripts/install-deps.sh).
    if shutil.which("promtool"):
        r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, f"promtool check metrics: {r.stdout}{r.stderr}"
    return series


def scrape(address):
    """/metrics at host:port, checked by check_metrics."""
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=5) as r:
        return check_metrics(r.read().decode())


def wait_for_udp_dns(addr, port, timeout=10.0):
    deadline = time.time() + timeout
    # Synthesised by meshdns itself (and refused by nsd): a probe that never leaves the process.
    q = dns.message.make_query("dns-version.clusterset.local.", "TXT")
    while time.time() < deadline:
        try:
            dns.query.udp(q, addr, port=port, timeout=0.3)
            return True
        except Exception:
            time.sleep(0.05)
    return False


class Mesh:
    """Starts and stops the processes; usable as a context manager."""

    def __init__(self, workdir=None, threads=2):
        self.own_dir = workdir is None
        self.dir = workdir or tempfile.mkdtemp(prefix="meshlab-")
        self.procs = []
        self.metrics = {}  # process name -> its /metrics address, checked before it stops
        self.threads = threads

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def _spawn(self, name, argv):
        with open(os.path.join(self.dir, f"{name}.log"), "w") as log:
            proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append((name, proc))
        return proc

    def start_nsd(self, name, addr, zone):
        d = os.path.join(self.dir, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "cluster.local.zone"), "w") as f:
            f.write(zone)
        conf = os.path.join(d, "nsd.conf")
        with open(conf, "w") as f:
            f.write(
                "server:\n"
                f"  ip-address: {addr}@{NSD_PORT}\n"
                f"  port: {NSD_PORT}\n"
                '  username: ""\n'
                '  chroot: ""\n'
                f"  zonesdir: {d}\n"
                '  database: ""\n'
                f"  zonelistfile: {d}/zone.list\n"
                f"  pidfile: {d}/nsd.pid\n"
                f"  xfrdfile: {d}/xfrd.state\n"
                f"  xfrdir: {d}\n"
                "  server-count: 1\n"
                "  verbosity: 0\n"
                "  hide-version: yes\n"
                "remote-control:\n"
                "  control-enable: no\n"
                "zone:\n"
                "  name: cluster.local\n"
                "  zonefile: cluster.local.zone\n"
            )
        self._spawn(name, ["nsd", "-d", "-c", conf])
        return addr

    def write_config(self, name, text):
        path = os.path.join(self.dir, f"{name}.yaml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def start_meshdns(self, name, config_text, wait_addr=None, wait_port=MESH_PORT):
        path = self.write_config(name, config_text)
        if m := re.search(r"""(?m)^metrics:\s*['"]?([^'"\s#]+)""", config_text):
            self.metrics[name] = m.group(1)
        proc = self._spawn(name, [MESHDNS, "serve", "--config", path, "--threads", str(self.threads)])
        if wait_addr and not wait_for_udp_dns(wait_addr, wait_port):
            raise RuntimeError(f"{name} did not start: {self.log(name)}")
        return proc

    def start_corefile(self, name, text, addr, port=MESH_PORT, *, extra=(), wait=True):
        """meshdns serve --corefile on `text` at addr:port; waits for it to answer unless told not to."""
        path = os.path.join(self.dir, f"{name}.Corefile")
        with open(path, "w") as f:
            f.write(text)
        proc = self._spawn(name, [MESHDNS, "serve", "--corefile", path, *extra, "--listen", f"{addr}:{port}",
                                  "--threads", "1"])
        if m := re.search(r"(?m)^\s*prometheus(?:\s+(\S*):(\d+))?\s*$", text):
            host = m.group(1) if m.group(1) not in (None, "", "0.0.0.0") else addr
            self.metrics[name] = f"{'127.0.0.1' if host == 'localhost' else host}:{m.group(2) or 9153}"
        if wait and not wait_for_udp_dns(addr, port):
            raise RuntimeError(f"{name} did not start: {self.log(name)}")
        return proc, path

    def log(self, name):
        try:
            with open(os.path.join(self.dir, f"{name}.log")) as f:
                return f.read()
        except OSError:
            return ""

    def start(self):
        for n in (1, 2, 3):
            self.start_nsd(f"kube-dns{n}", kube_dns_addr(n), zone_text(n, f"kube-dns{n}"))
        self.start_nsd("kube-dns2b", kube_dns_addr(2, second=True), zone_text(2, "kube-dns2b"))
        for n in (1, 2, 3):
            if not wait_for_udp_dns(kube_dns_addr(n), NSD_PORT):
                raise RuntimeError(f"nsd for cluster{n} did not start: {self.log(f'kube-dns{n}')}")
        if not wait_for_udp_dns(kube_dns_addr(2, True), NSD_PORT):
            raise RuntimeError("second nsd for cluster2 did not start")
        peers = {2: [f"{meshdns_addr(2)}:{MESH_PORT}", f"{meshdns_addr(2, True)}:{MESH_PORT}"]}
        for n in (1, 2, 3):
            self.start_meshdns(
                f"meshdns{n}",
                meshdns_config(n, f"{meshdns_addr(n)}:{MESH_PORT}", [f"{kube_dns_addr(n)}:{NSD_PORT}"], peers=peers),
            )
        self.start_meshdns(
            "meshdns2b",
            meshdns_config(2, f"{meshdns_addr(2, True)}:{MESH_PORT}", [f"{kube_dns_addr(2, True)}:{NSD_PORT}"],
                           peers=peers),
        )
        for n in (1, 2, 3):
            if not wait_for_udp_dns(meshdns_addr(n), MESH_PORT):
                raise RuntimeError(f"meshdns for cluster{n} did not start: {self.log(f'meshdns{n}')}")
        if not wait_for_udp_dns(meshdns_addr(2, True), MESH_PORT):
            raise RuntimeError(f"second meshdns for cluster2 did not start: {self.log('meshdns2b')}")

    def stop(self):
        # Every configuration a test started must give a page Prometheus accepts.
        problems = []
        for name, proc in self.procs:
            if name in self.metrics and proc.poll() is None:
                try:
                    scrape(self.metrics[name])
                except Exception as e:  # noqa: BLE001 - reported after every process is stopped
                    problems.append(f"{name} /metrics at {self.metrics[name]}: {e!r}")
        self.metrics = {}
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for name, proc in self.procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.procs = []
        if self.own_dir and not os.environ.get("MESHLAB_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)
        if problems:
            raise AssertionError("; ".join(problems))


class SoloMeshdns:
    """One `meshdns serve` on a configuration text, started and waited for on
    construction (its log in a temporary folder), ended by stop()."""

    def __init__(self, config_text, addr, port, *, threads=2, prefix="meshdns-solo-"):
        self.dir = tempfile.mkdtemp(prefix=prefix)
        path = os.path.join(self.dir, "mesh.yaml")
        with open(path, "w") as f:
            f.write(config_text)
        self.log = open(os.path.join(self.dir, "log"), "w")
        self.proc = subprocess.Popen([MESHDNS, "serve", "--config", path, "--threads", str(threads)],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        if not wait_for_udp_dns(addr, port):
            self.stop()
            raise RuntimeError(f"meshdns did not start on {addr}:{port}")

        m = re.search(r"""(?m)^metrics:\s*['"]?([^'"\s#]+)""", config_text)
        self.metrics = m.group(1) if m else None

    def stop(self):
        problem = None
        if self.metrics and self.proc.poll() is None:
            try:
                scrape(self.metrics)  # every configuration a test starts gives a page Prometheus accepts
            except Exception as e:  # noqa: BLE001 - raised once the process is stopped
                problem = e
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        if problem:
            raise AssertionError(f"/metrics at {self.metrics}: {problem!r}")


class MeshTestCase(unittest.TestCase):
    """A test class sharing one loopback mesh across its tests."""

    @classmethod
    def setUpClass(cls):
        cls.mesh = Mesh()
        cls.mesh.start()

    @classmethod
    def tearDownClass(cls):
        cls.mesh.stop()


def query(addr, name, rdtype="A", *, port=MESH_PORT, tcp=False, edns=True, timeout=3.0, payload=1232):
    q = dns.message.make_query(name, rdtype, use_edns=0 if edns else False, payload=payload)
    if tcp:
        return dns.query.tcp(q, addr, port=port, timeout=timeout)
    return dns.query.udp(q, addr, port=port, timeout=timeout, ignore_trailing=False)


def clusterset_name(a):
    return f"{BROKER}.cluster{a}.{SERVICE}.{NAMESPACE}.svc.clusterset.local."


def cname_target(a):
    return f"{BROKER}.{SERVICE}.{NAMESPACE}.cluster{a}.svc.cluster.local."


def check_matrix_cell(a, b, tcp, addr=meshdns_addr, port=MESH_PORT):
    """Asks cluster b's meshdns for cluster a's broker; returns a problem or None."""
    try:
        r = query(addr(b), clusterset_name(a), tcp=tcp, port=port)
    except Exception as e:  # noqa: BLE001 - any failure is a failed cell
        return f"no reply: {e}"
    if r.rcode() != dns.rcode.NOERROR:
        return f"rcode {dns.rcode.to_text(r.rcode())}"
    cnames = [rr for rr in r.answer if rr.rdtype == dns.rdatatype.CNAME]
    addrs = [rr for rr in r.answer if rr.rdtype == dns.rdatatype.A]
    if len(cnames) != 1 or cnames[0].name.to_text() != clusterset_name(a) or \
            cnames[0][0].target.to_text() != cname_target(a):
        return f"wrong CNAME: {[rr.to_text() for rr in r.answer]}"
    if len(addrs) != 1 or addrs[0].name.to_text() != cname_target(a) or \
            [rd.address for rd in addrs[0]] != [broker_ip(a)]:
        return f"wrong A: {[rr.to_text() for rr in r.answer]}"
    return None


def matrix(tcp=False, addr=meshdns_addr, port=MESH_PORT):
    """The contract's nine combinations; returns [(a, b, problem-or-None)]."""
    return [(a, b, check_matrix_cell(a, b, tcp, addr, port)) for b in (1, 2, 3) for a in (1, 2, 3)]
