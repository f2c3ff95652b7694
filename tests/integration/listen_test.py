"""Several servers in one meshdns (CoreDNS's register.go: blocks grouped by
listen address) and the `bind` plugin, with real processes. Everything runs in
a network namespace the test creates (ListenTest re-runs this file under
`unshare --net`): an interface of its own (`nodelocaldns`) holds NodeLocal DNSCache's addresses, nsd
stand-ins answer on addresses of the namespace's loopback, and nothing leaves it.

Addresses inside the namespace:
  169.254.20.10, 10.96.0.10  interface `nodelocaldns`, as node-cache sets it up
  10.96.0.11                 nsd: cluster.local, 10.in-addr.arpa, ip6.arpa (kube-dns-upstream)
  10.96.0.12                 nsd: example.org (the node's resolv.conf nameserver)
"""

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

MESHDNS = os.environ.get("MESHDNS", os.path.join(os.path.dirname(__file__), "..", "..", "build", "meshdns"))
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
IN_NETNS = "MESHDNS_LISTEN_IN_NETNS"
NODE_LOCAL = ("169.254.20.10", "10.96.0.10")
KUBE_DNS_UPSTREAM = "10.96.0.11"
NODE_RESOLVER = "10.96.0.12"

CLUSTER_ZONES = {
    "cluster.local": """$ORIGIN cluster.local.
$TTL 300
@ IN SOA ns.cluster.local. hostmaster.cluster.local. 1 3600 600 86400 60
@ IN NS ns.cluster.local.
ns IN A 10.96.0.11
kube-dns.kube-system.svc IN A 10.96.0.10
web.default.svc IN A 10.100.1.7
""",
    "10.in-addr.arpa": """$ORIGIN 10.in-addr.arpa.
$TTL 300
@ IN SOA ns.cluster.local. hostmaster.cluster.local. 1 3600 600 86400 60
@ IN NS ns.cluster.local.
7.1.100 IN PTR web.default.svc.cluster.local.
""",
    "ip6.arpa": """$ORIGIN ip6.arpa.
$TTL 300
@ IN SOA ns.cluster.local. hostmaster.cluster.local. 1 3600 600 86400 60
@ IN NS ns.cluster.local.
1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f IN PTR web.default.svc.cluster.local.
""",
}
EXAMPLE_ZONE = {
    "example.org": """$ORIGIN example.org.
$TTL 300
@ IN SOA ns.example.org. hostmaster.example.org. 1 3600 600 86400 60
@ IN NS ns.example.org.
ns IN A 10.96.0.12
www IN A 192.0.2.53
""",
}
WEB_V6_PTR = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa."


def ask(addr, name, rdtype="A", *, port=53, tcp=False, timeout=2.0):
    q = dns.message.make_query(name, rdtype)
    if tcp:
        return dns.query.tcp(q, addr, port=port, timeout=timeout)
    return dns.query.udp(q, addr, port=port, timeout=timeout)


def rdata(reply):
    return sorted(rd.to_text() for rrset in reply.answer for rd in rrset)


def wait_udp(addr, port, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            ask(addr, "probe.invalid.", port=port, timeout=0.3)
            return True
        except Exception:
            time.sleep(0.05)
    return False


class ListenTest(unittest.TestCase):
    def test_in_a_network_namespace(self):
        cmd = ["unshare", "--net"] if os.geteuid() == 0 else ["unshare", "-rn"]
        r = subprocess.run(cmd + [sys.executable, "-m", "unittest", "-v", "listen_test.MultiPortTest",
                                  "listen_test.NodeLocalTest", "listen_test.RefusedTest"],
                           cwd=os.path.dirname(os.path.abspath(__file__)), env={**os.environ, IN_NETNS: "1"},
                           capture_output=True, text=True, timeout=240)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stderr, r"Ran \d+ tests")
        self.assertNotIn("skipped", r.stderr)


class NamespaceCase(unittest.TestCase):
    """Sets the namespace up once (lo, the dummy interface, the nsd stand-ins)."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="meshdns-listen-")
        cls.procs = []
        if subprocess.run(["ip", "link", "show", "nodelocaldns"], capture_output=True).returncode != 0:
            for cmd in (["ip", "link", "set", "lo", "up"],
                        # node-cache makes a dummy interface; this kernel may lack the
                        # dummy driver, and one end of a veth pair serves as well.
                        ["ip", "link", "add", "nodelocaldns", "type", "veth", "peer", "name", "nodelocalpeer"],
                        ["ip", "link", "set", "nodelocalpeer", "up"],
                        ["ip", "link", "set", "nodelocaldns", "up"],
                        *[["ip", "addr", "add", f"{a}/32", "dev", "nodelocaldns"] for a in NODE_LOCAL],
                        ["ip", "addr", "add", f"{KUBE_DNS_UPSTREAM}/32", "dev", "lo"],
                        ["ip", "addr", "add", f"{NODE_RESOLVER}/32", "dev", "lo"]):
                subprocess.run(cmd, check=True)
        cls.start_nsd("kube-dns-upstream", KUBE_DNS_UPSTREAM, CLUSTER_ZONES)
        cls.start_nsd("node-resolver", NODE_RESOLVER, EXAMPLE_ZONE)
        for addr in (KUBE_DNS_UPSTREAM, NODE_RESOLVER):
            assert wait_udp(addr, 53), f"nsd on {addr} did not start"

    @classmethod
    def tearDownClass(cls):
        for proc in cls.procs:
            proc.terminate()
        for proc in cls.procs:
            proc.wait(timeout=10)

    @classmethod
    def spawn(cls, name, argv):
        with open(os.path.join(cls.dir, f"{name}.log"), "w") as log:
            proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        cls.procs.append(proc)
        return proc

    @classmethod
    def log(cls, name):
        with open(os.path.join(cls.dir, f"{name}.log")) as f:
            return f.read()

    @classmethod
    def start_nsd(cls, name, addr, zones):
        d = os.path.join(cls.dir, name)
        os.makedirs(d, exist_ok=True)
        conf = [f"server:\n  ip-address: {addr}\n  port: 53\n  username: \"\"\n  chroot: \"\"\n  zonesdir: {d}\n"
                f"  database: \"\"\n  zonelistfile: {d}/zone.list\n  pidfile: {d}/nsd.pid\n"
                f"  xfrdfile: {d}/xfrd.state\n  xfrdir: {d}\n  server-count: 1\n  verbosity: 0\n"
                "remote-control:\n  control-enable: no\n"]
        for zone, text in zones.items():
            with open(os.path.join(d, f"{zone}.zone"), "w") as f:
                f.write(text)
            conf.append(f"zone:\n  name: {zone}\n  zonefile: {zone}.zone\n")
        with open(os.path.join(d, "nsd.conf"), "w") as f:
            f.write("".join(conf))
        cls.spawn(name, ["nsd", "-d", "-c", os.path.join(d, "nsd.conf")])

    @classmethod
    def serve(cls, name, text, wait=None, extra=()):
        path = os.path.join(cls.dir, f"{name}.Corefile")
        with open(path, "w") as f:
            f.write(text)
        proc = cls.spawn(name, [MESHDNS, "serve", "--corefile", path, "--threads", "2", *extra])
        if wait and not wait_udp(*wait):
            raise AssertionError(f"{name} did not start: {cls.log(name)}")
        return proc, path


@unittest.skipUnless(os.environ.get(IN_NETNS), "run by ListenTest inside its own network namespace")
class MultiPortTest(NamespaceCase):
    """One Corefile, two ports: the same zone answers differently on each."""

    COREFILE = """\
.:1053 {
    cache 30
    forward . 10.96.0.12
}
example.org:1054 {
    cache 30
    template IN A example.org {
        answer "{{ .Name }} 60 IN A 10.0.0.2"
    }
}
"""

    def test_each_port_dispatches_among_its_own_blocks(self):
        proc, path = self.serve("multiport", self.COREFILE, wait=("127.0.0.1", 1053))
        try:
            for round in range(2):  # the second round is answered from the cache
                for tcp in (False, True):
                    self.assertEqual(rdata(ask("127.0.0.1", "www.example.org.", port=1053, tcp=tcp)),
                                     ["192.0.2.53"], f"port 1053 forwards (round {round})")
                    self.assertEqual(rdata(ask("127.0.0.1", "www.example.org.", port=1054, tcp=tcp)),
                                     ["10.0.0.2"], f"port 1054 answers from its template (round {round})")
            refused = ask("127.0.0.1", "www.example.com.", port=1054)
            self.assertEqual(refused.rcode(), dns.rcode.REFUSED, "no block of port 1054 holds example.com")

            # A reload that moves a listener is refused; the old configuration keeps serving.
            with open(path, "w") as f:
                f.write(self.COREFILE.replace("example.org:1054", "example.org:1055"))
            proc.send_signal(signal.SIGHUP)
            deadline = time.time() + 5
            while "reload rejected" not in self.log("multiport") and time.time() < deadline:
                time.sleep(0.05)
            self.assertIn("listen addresses or their servers changed", self.log("multiport"))
            self.assertEqual(rdata(ask("127.0.0.1", "www.example.org.", port=1054)), ["10.0.0.2"])
            with self.assertRaises(Exception):
                ask("127.0.0.1", "www.example.org.", port=1055, timeout=0.5)

            # One that keeps the listeners is taken.
            with open(path, "w") as f:
                f.write(self.COREFILE.replace("10.0.0.2", "10.0.0.9"))
            proc.send_signal(signal.SIGHUP)
            deadline = time.time() + 5
            while "configuration reloaded" not in self.log("multiport") and time.time() < deadline:
                time.sleep(0.05)
            self.assertEqual(rdata(ask("127.0.0.1", "www.example.org.", port=1054)), ["10.0.0.9"])
            self.assertEqual(rdata(ask("127.0.0.1", "www.example.org.", port=1053)), ["192.0.2.53"])
        finally:
            proc.terminate()
            self.assertEqual(proc.wait(timeout=10), 0, self.log("multiport"))

    def test_listen_flag_cannot_stand_for_several_servers(self):
        path = os.path.join(self.dir, "flag.Corefile")
        with open(path, "w") as f:
            f.write(self.COREFILE)
        r = subprocess.run([MESHDNS, "serve", "--corefile", path, "--listen", "127.0.0.1:1060"],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("--listen can only replace the address of a Corefile that has one", r.stderr)


@unittest.skipUnless(os.environ.get(IN_NETNS), "run by ListenTest inside its own network namespace")
class NodeLocalTest(NamespaceCase):
    """NodeLocal DNSCache's Corefile (tests/config/corefiles/node-local-dns-upstream.Corefile,
    from kubernetes/kubernetes cluster/addons/dns/nodelocaldns/nodelocaldns.yaml) served as
    written, bind lines included; only /etc/resolv.conf is swapped for a file naming the
    namespace's own resolver."""

    def test_both_addresses_answer_for_every_block(self):
        with open(os.path.join(REPO, "tests", "config", "corefiles", "node-local-dns-upstream.Corefile")) as f:
            text = f.read()
        resolv = os.path.join(self.dir, "resolv.conf")
        with open(resolv, "w") as f:
            f.write(f"nameserver {NODE_RESOLVER}\n")
        self.assertEqual(text.count("bind 169.254.20.10 10.96.0.10"), 4)
        text = text.replace("/etc/resolv.conf", resolv)
        proc, _ = self.serve("nodelocal", text, wait=(NODE_LOCAL[0], 53))
        try:
            self.assertTrue(wait_udp(NODE_LOCAL[1], 53))
            for addr in NODE_LOCAL:
                for tcp in (False, True):
                    where = f"{addr} over {'TCP' if tcp else 'UDP'}"
                    self.assertEqual(rdata(ask(addr, "web.default.svc.cluster.local.", tcp=tcp)), ["10.100.1.7"], where)
                    self.assertEqual(rdata(ask(addr, "7.1.100.10.in-addr.arpa.", "PTR", tcp=tcp)),
                                     ["web.default.svc.cluster.local."], where)
                    self.assertEqual(rdata(ask(addr, WEB_V6_PTR, "PTR", tcp=tcp)),
                                     ["web.default.svc.cluster.local."], where)
                    self.assertEqual(rdata(ask(addr, "www.example.org.", tcp=tcp)), ["192.0.2.53"], where)
            # bind is honoured: nothing listens on the other addresses of port 53.
            with self.assertRaises(Exception):
                ask("127.0.0.1", "web.default.svc.cluster.local.", timeout=0.5)
            with self.assertRaises(ConnectionRefusedError):
                ask("127.0.0.1", "web.default.svc.cluster.local.", tcp=True, timeout=0.5)
            # The side services its blocks declare.
            health = urllib.request.urlopen(f"http://{NODE_LOCAL[0]}:8080/health", timeout=2)
            self.assertEqual(health.status, 200)
            metrics = urllib.request.urlopen(f"http://{NODE_LOCAL[1]}:9253/metrics", timeout=2).read().decode()
            self.assertRegex(metrics, r"(?m)^coredns_dns_requests_total\{")
        finally:
            proc.terminate()
            self.assertEqual(proc.wait(timeout=10), 0, self.log("nodelocal"))


@unittest.skipUnless(os.environ.get(IN_NETNS), "run by ListenTest inside its own network namespace")
class RefusedTest(NamespaceCase):
    """What meshdns cannot honour is refused with its position, never widened."""

    def run_meshdns(self, *args, corefile):
        path = os.path.join(self.dir, "refused.Corefile")
        with open(path, "w") as f:
            f.write(corefile)
        return subprocess.run([MESHDNS, *args, "--corefile", path], capture_output=True, text=True, timeout=10), path

    def test_an_unknown_interface_is_refused_by_check_and_serve(self):
        corefile = ".:1070 {\n    bind eth9\n    forward . 10.96.0.12\n}\n"
        for args in (["check"], ["check", "--ignore-unsupported"], ["serve"]):
            with self.subTest(args=args):
                r, path = self.run_meshdns(*args, corefile=corefile)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(f"{path}:2:10: bind: 'eth9' is not an IP address or the name of an interface",
                              r.stderr)

    def test_an_address_not_on_this_machine_fails_to_start_naming_the_bind(self):
        r, path = self.run_meshdns("serve", corefile=".:1071 {\n    bind 192.0.2.99\n    forward . 10.96.0.12\n}\n")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(f"{path}:2:10: cannot listen on udp 192.0.2.99:1071", r.stdout + r.stderr)

    def test_an_interface_name_binds_its_addresses(self):
        proc, _ = self.serve("byname", ".:1072 {\n    bind nodelocaldns {\n        except 10.96.0.10\n    }\n"
                                       "    forward . 10.96.0.12\n}\n", wait=(NODE_LOCAL[0], 1072))
        try:
            self.assertEqual(rdata(ask(NODE_LOCAL[0], "www.example.org.", port=1072)), ["192.0.2.53"])
            with self.assertRaises(Exception):
                ask(NODE_LOCAL[1], "www.example.org.", port=1072, timeout=0.5)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    unittest.main()
