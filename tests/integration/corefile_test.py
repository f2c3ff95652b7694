"""`meshdns serve --corefile` on the seed's three Corefiles (issue #6,
acceptance 2 and 3): each cluster's hand-edited Corefile, with the
`kubernetes` block replaced by a `forward` to that cluster's authoritative
stand-in (nsd) and the peers' NodePorts replaced by loopback addresses, runs
under meshdns and must pass the contract's nine-combination matrix. Then each
Corefile goes through `meshdns import`, and `serve --config` on the YAML must
give the same answers as `serve --corefile` on the original for a corpus of
more than 250 queries: both compile into one program (issue #17).

Addresses (cluster N): nsd 127.11.N.1:5300; meshdns --corefile
127.11.N.2:30053; meshdns --config (imported) 127.11.N.3:30053."""

import concurrent.futures
import os
import re
import signal
import socket
import subprocess
import time
import unittest
import urllib.request

import dns.edns
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype

import meshlab
from fakes import FakeResolver, TruncatingResolver
from meshlab import BROKER, HEADLESS, MESH_PORT, NAMESPACE, NSD_PORT, SERVICE, query

SEEDS = os.path.join(meshlab.REPO, "tests", "config", "corefiles")


def nsd_addr(n):
    return f"127.11.{n}.1"


def corefile_addr(n):
    return f"127.11.{n}.2"


def imported_addr(n):
    return f"127.11.{n}.3"


def loopback_corefile(n):
    """Seed Corefile of cluster n with loopback addresses and no kubernetes plugin."""
    with open(os.path.join(SEEDS, f"seed-cluster{n}.Corefile")) as f:
        text = f.read()
    # The kubernetes block (its own braces nest no further) becomes a forward
    # of the cluster's zone to its stand-in kube-dns.
    text, count = re.subn(r"kubernetes cluster\.local[^{]*\{[^}]*\}",
                          f"forward cluster.local {nsd_addr(n)}:{NSD_PORT}", text)
    assert count == 1, "the seed's kubernetes block"
    # Names outside the mesh never leave loopback.
    text = text.replace("forward . /etc/resolv.conf", f"forward . {nsd_addr(n)}:{NSD_PORT}")
    # Each peer's two NodePort addresses 172.18.0.<p>2/<p>3 are its meshdns.
    text = re.sub(r"172\.18\.0\.(\d)[23]:30053", lambda m: f"{corefile_addr(int(m.group(1)))}:{MESH_PORT}", text)
    # Side services on this instance's own address.
    me = corefile_addr(n)
    text = re.sub(r"\bhealth \{", f"health {me}:8080 {{", text)
    text = re.sub(r"^(\s*)ready$", rf"\1ready {me}:8181", text, flags=re.M)
    text = text.replace("prometheus :9153", f"prometheus {me}:9153")
    assert "172.18." not in text and "resolv.conf" not in text
    return text


def corpus():
    """(name, type) pairs: every kind of name the mesh answers, in mixed case."""
    names = []
    for a in (1, 2, 3):
        c = f"cluster{a}.svc.cluster.local."
        per_cluster = [
            (f"{BROKER}.{SERVICE}.{NAMESPACE}.{c}", ("A", "AAAA", "TXT", "CNAME", "SRV")),
            (f"{SERVICE}.{NAMESPACE}.{c}", ("A", "AAAA", "SRV")),
            (f"_kafka._tcp.{SERVICE}.{NAMESPACE}.{c}", ("SRV", "A")),
            (f"alias.{NAMESPACE}.{c}", ("A", "CNAME", "TXT", "AAAA")),
            (f"only-in-cluster{a}.{NAMESPACE}.{c}", ("A",)),
            (f"only-in-cluster{a % 3 + 1}.{NAMESPACE}.{c}", ("A",)),  # NXDOMAIN: another cluster's name
            (f"nothing-here.{NAMESPACE}.{c}", ("A", "TXT")),
            (f"long-ttl.{NAMESPACE}.{c}", ("A",)),
            (f"x.whoami.{c}", ("TXT",)),
            (f"anything.wild.{c}", ("A", "AAAA")),
            (f"{HEADLESS}.{NAMESPACE}.{c}", ("A", "AAAA")),
            (f"_kafka._tcp.{HEADLESS}.{NAMESPACE}.{c}", ("SRV",)),
            (f"broker-{a}-0.{HEADLESS}.{NAMESPACE}.{c}", ("A", "AAAA")),
            (f"v4only.{NAMESPACE}.{c}", ("AAAA",)),
            (meshlab.clusterset_name(a), ("A", "AAAA", "TXT", "SRV", "CNAME")),
            (f"broker-{a}-1.cluster{a}.{HEADLESS}.{NAMESPACE}.svc.clusterset.local.", ("A", "AAAA")),
            (f"no-such-pod.cluster{a}.{SERVICE}.{NAMESPACE}.svc.clusterset.local.", ("A",)),
            # NODATA and NXDOMAIN from a peer, renamed back with their SOA.
            (f"{BROKER}.{SERVICE}.{NAMESPACE}.{c}", ("MX", "PTR")),
            (f"_kafka._udp.{SERVICE}.{NAMESPACE}.{c}", ("SRV",)),
        ]
        for name, types in per_cluster:
            names += [(name, t) for t in types]
    names += [(f"{SERVICE}.{NAMESPACE}.svc.cluster.local.", "A"), ("nothing.svc.cluster.local.", "A")]
    # Contract rules 3 and 4, which hold in --corefile mode too: a cluster
    # outside the mesh, MCS service names merged over the clusters, the schema
    # version, and the rest of the clusterset zone.
    names += [(f"{BROKER}.cluster9.{SERVICE}.{NAMESPACE}.svc.clusterset.local.", "A"),
              ("x.cluster9.svc.cluster.local.", "A"),
              (f"{SERVICE}.{NAMESPACE}.svc.clusterset.local.", "A"),
              (f"{HEADLESS}.{NAMESPACE}.svc.clusterset.local.", "A"),
              (f"{HEADLESS}.{NAMESPACE}.svc.clusterset.local.", "AAAA"),
              (f"_kafka._tcp.{HEADLESS}.{NAMESPACE}.svc.clusterset.local.", "SRV"),
              (f"web.{NAMESPACE}.svc.clusterset.local.", "A"),
              ("dns-version.clusterset.local.", "TXT"),
              ("dns-version.clusterset.local.", "A"),
              (f"cluster2.{SERVICE}.{NAMESPACE}.svc.clusterset.local.", "A"),
              ("nothing.clusterset.local.", "A"),
              # The apex and the names that exist without records (v2 rule 4).
              ("clusterset.local.", "SOA"),
              ("clusterset.local.", "NS"),
              ("clusterset.local.", "A"),
              ("svc.clusterset.local.", "A"),
              ("ns.dns.clusterset.local.", "AAAA"),
              (f"{NAMESPACE}.svc.clusterset.local.", "A"),
              ("no-such-namespace.svc.clusterset.local.", "A")]
    out = []
    for i, (name, rdtype) in enumerate(names):
        out.append((name, rdtype))
        # The same question in mixed case: every other letter upper case.
        mixed = "".join(ch.upper() if (j + i) % 2 else ch for j, ch in enumerate(name))
        out.append((mixed, rdtype))
    return out


def summary(r):
    """What must agree: rcode and the records of answer and authority, without TTLs, names lower-cased."""
    def records(section):
        rows = set()
        for rrset in section:
            for rd in rrset:
                rows.add((rrset.name.to_text().lower(), rrset.rdtype, rd.to_text().lower()))
        return sorted(rows)
    return dns.rcode.to_text(r.rcode()), records(r.answer), records(r.authority)


class CorefileMeshTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.mesh = meshlab.Mesh(threads=1)
        mesh = cls.mesh
        try:
            for n in (1, 2, 3):
                mesh.start_nsd(f"kube-dns{n}", nsd_addr(n), meshlab.zone_text(n, f"kube-dns{n}"))
            for n in (1, 2, 3):
                if not meshlab.wait_for_udp_dns(nsd_addr(n), NSD_PORT):
                    raise RuntimeError(f"nsd {n} did not start: {mesh.log(f'kube-dns{n}')}")
            cls.corefiles = {}
            for n in (1, 2, 3):
                # Peers may still be starting: answers come once all three are up.
                _, cls.corefiles[n] = mesh.start_corefile(f"cluster{n}", loopback_corefile(n), corefile_addr(n),
                                                          wait=False)
            for n in (1, 2, 3):
                if not cls.wait(corefile_addr(n)):
                    raise RuntimeError(f"meshdns --corefile {n} did not start: {mesh.log(f'cluster{n}')}")
        except BaseException:
            mesh.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.mesh.stop()

    @staticmethod
    def wait(addr):
        # The seed's Corefiles synthesise nothing a probe could ask without a
        # peer, so wait for any reply at all (REFUSED or an answer).
        return meshlab.wait_for_udp_dns(addr, MESH_PORT)

    def test_check_accepts_the_loopback_corefiles(self):
        for n, path in self.corefiles.items():
            r = subprocess.run([meshlab.MESHDNS, "check", "--corefile", path], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)

    def test_the_seeds_health_ready_and_prometheus_serve_their_pages(self):
        me = corefile_addr(2)
        query(me, meshlab.clusterset_name(1))
        pages = {}
        for port, path in ((8080, "/health"), (8181, "/ready"), (9153, "/metrics")):
            with urllib.request.urlopen(f"http://{me}:{port}{path}", timeout=5) as r:
                pages[path] = (r.status, r.read().decode())
        self.assertEqual(pages["/health"], (200, "OK\n"))
        self.assertEqual(pages["/ready"], (200, "OK\n"))
        self.assertEqual(pages["/metrics"][0], 200)
        meshlab.check_metrics(pages["/metrics"][1])
        self.assertIn('coredns_dns_requests_total{', pages["/metrics"][1])
        self.assertIn('meshdns_peer_up{cluster="cluster1.svc.cluster.local",resolver="127.11.1.2:30053"} 1',
                      pages["/metrics"][1], "each forward's resolvers, named by their block")

    def test_matrix_over_udp(self):
        failures = [(a, b, p) for a, b, p in meshlab.matrix(False, corefile_addr) if p]
        self.assertEqual(failures, [])

    def test_matrix_over_tcp(self):
        failures = [(a, b, p) for a, b, p in meshlab.matrix(True, corefile_addr) if p]
        self.assertEqual(failures, [])

    def test_the_clusterset_zone_has_its_apex_and_namespaces(self):
        """v2 rule 4 in --corefile mode: the fan-out for a namespace crosses the peers' Corefiles."""
        me = corefile_addr(1)
        soa = query(me, "clusterset.local.", "SOA")
        self.assertEqual((soa.rcode(), [rr.rdtype for rr in soa.answer]), (dns.rcode.NOERROR, [dns.rdatatype.SOA]))
        for qname, rcode in ((f"{NAMESPACE}.svc.clusterset.local.", dns.rcode.NOERROR),
                             ("svc.clusterset.local.", dns.rcode.NOERROR),
                             ("no-such-namespace.svc.clusterset.local.", dns.rcode.NXDOMAIN)):
            r = query(me, qname, tcp=True)
            self.assertEqual((r.rcode(), r.answer), (rcode, []), qname)
            self.assertEqual([(rr.name.to_text(), rr.rdtype) for rr in r.authority],
                             [("clusterset.local.", dns.rdatatype.SOA)], qname)

    def test_udp_replies_stop_at_1232_bytes_without_bufsize(self):
        """serve --corefile caps UDP replies as serve --config does (contract rule 9, v2)."""
        name = f"huge.{meshlab.NAMESPACE}.cluster1.svc.cluster.local."
        q = dns.message.make_query(name, "A", use_edns=0, payload=4096)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(3)
            s.sendto(q.to_wire(), (corefile_addr(2), MESH_PORT))
            wire = s.recv(65535)
        self.assertLessEqual(len(wire), 1232)
        self.assertTrue(dns.message.from_wire(wire).flags & dns.flags.TC)
        whole = query(corefile_addr(2), name, tcp=True)
        self.assertEqual(len(whole.answer[0]), 100)

    def start_imported(self, n):
        """meshdns --config on `import` of cluster n's Corefile; returns (process, YAML path, YAML)."""
        r = subprocess.run([meshlab.MESHDNS, "import", self.corefiles[n], "--cluster", f"cluster{n}"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        yaml = re.sub(r"(?m)^(listen|metrics|health|ready):.*\n", "", r.stdout)
        yaml += f"listen: ['{imported_addr(n)}:{MESH_PORT}']\n"
        name = f"imported{n}"
        path = self.mesh.write_config(name, yaml)
        proc = self.mesh._spawn(name, [meshlab.MESHDNS, "serve", "--config", path, "--threads", "1"])
        self.assertTrue(self.wait(imported_addr(n)), self.mesh.log(name))
        return proc, path, yaml

    def test_import_then_serve_config_answers_as_serve_corefile(self):
        queries = corpus()
        self.assertGreaterEqual(len(queries), 250)
        for n in (1, 2, 3):
            with self.subTest(cluster=n):
                proc, _, yaml = self.start_imported(n)
                try:
                    differences = []
                    for qname, rdtype in queries:
                        want = summary(query(corefile_addr(n), qname, rdtype))
                        got = summary(query(imported_addr(n), qname, rdtype))
                        if want != got:
                            differences.append((qname, rdtype, want, got))
                    self.assertEqual(differences, [], f"imported YAML:\n{yaml}")
                finally:
                    proc.terminate()
                    proc.wait(timeout=10)

    def test_the_generated_stanza_served_as_kube_dns_hands_the_mesh_to_meshdns(self):
        """`meshdns corefile` output pasted into a kube-dns Corefile, served
        by meshdns --corefile in CoreDNS's place: the mesh's names reach the
        meshdns of the YAML, the cluster's own names stay with kube-dns."""
        proc, path, _ = self.start_imported(1)
        kube_dns = None
        try:
            r = subprocess.run([meshlab.MESHDNS, "corefile", "--config", path], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(f"forward . {imported_addr(1)}:{MESH_PORT}", r.stdout)
            addr = "127.11.1.4"
            kube_dns, corefile = self.mesh.start_corefile(
                "kube-dns", f".:53 {{\n    errors\n    forward cluster.local {nsd_addr(1)}:{NSD_PORT}\n    cache 30\n}}\n"
                + r.stdout, addr)
            checked = subprocess.run([meshlab.MESHDNS, "check", "--corefile", corefile], capture_output=True, text=True)
            self.assertEqual(checked.returncode, 0, checked.stderr)
            problems = [(a, meshlab.check_matrix_cell(a, 1, tcp, lambda b: addr)) for a in (1, 2, 3)
                        for tcp in (False, True)]
            self.assertEqual([p for p in problems if p[1]], [])
            own = query(addr, f"{BROKER}.{SERVICE}.{NAMESPACE}.svc.cluster.local.")
            self.assertEqual([rd.address for rd in own.answer[0]], [meshlab.broker_ip(1)])
        finally:
            for p in (kube_dns, proc):
                if p:
                    p.terminate()
                    p.wait(timeout=10)


DIRECTIVES_NSD = "127.11.9.1"
DIRECTIVES = "127.11.9.2"
SLOW = "127.11.9.6"       # answers after half a second
TCP_ONLY = "127.11.9.7"   # answers UDP with TC only
BROKER_A = f"{BROKER}.{SERVICE}.{NAMESPACE}.svc.cluster.local."

# Written in an order CoreDNS would not run them in: the chain must still run
# rewrite, cache, template, hosts, forward. The invalid, example and lb.example
# blocks hold the examples of CoreDNS's template and loadbalance READMEs
# (v1.14.7: "Resolve .invalid as NXDOMAIN", "Resolve hexadecimal ip pattern
# using parseInt", "Subnet Prioritization"), in blocks of their own instead of
# beside a forward to 8.8.8.8.
DIRECTIVES_COREFILE = f"""\
example.org {{
    log
    forward . {DIRECTIVES_NSD}:{NSD_PORT}
    hosts {{
        10.0.0.1 web.example.org
        fallthrough
    }}
    template IN TXT example.org {{
        match ^(?P<x>[a-z]+)\\.example\\.org\\.$
        answer "{{{{ .Name }}}} 30 IN TXT {{{{ .Group.x }}}}"
        fallthrough
    }}
    rewrite name exact alias.example.org web.example.org
    cache 20
}}
cluster.local {{
    rewrite ttl suffix .svc.cluster.local 100-200
    forward . {DIRECTIVES_NSD}:{NSD_PORT} {{
        max_concurrent 100
    }}
}}
{HEADLESS}.strimzi.svc.cluster.local {{
    loadbalance
    cache 30
    rewrite ttl exact {HEADLESS}.strimzi.svc.cluster.local 100-
    forward . {DIRECTIVES_NSD}:{NSD_PORT}
}}
slow.example {{
    forward . {SLOW}:{NSD_PORT} {{
        max_concurrent 1
    }}
}}
tcp.example {{
    forward . {TCP_ONLY}:{NSD_PORT} {{
        force_tcp
    }}
}}
invalid {{
    template ANY ANY invalid {{
      rcode NXDOMAIN
      authority "invalid. 60 {{{{ .Class }}}} SOA ns.invalid. hostmaster.invalid. (1 60 60 60 60)"
      ederror 21 "Blocked according to RFC2606"
    }}
}}
example {{
    template IN A example {{
      match "^ip0a(?P<b>[a-f0-9]{{2}})(?P<c>[a-f0-9]{{2}})(?P<d>[a-f0-9]{{2}})[.]example[.]$"
      answer "{{{{ .Name }}}} 60 IN A 10.{{{{ parseInt .Group.b 16 8 }}}}.{{{{ parseInt .Group.c 16 8 }}}}.{{{{ parseInt .Group.d 16 8 }}}}"
      fallthrough
    }}
}}
lb.example {{
    loadbalance round_robin {{
        prefer 10.9.20.0/24 192.168.1.0/24
    }}
    hosts {{
        10.9.30.1 www.lb.example
        10.9.20.5 www.lb.example
        192.168.1.2 www.lb.example
        10.9.20.3 www.lb.example
    }}
}}
clusterset.local {{
    template IN ANY clusterset.local {{
        match "^(?P<host>[a-z0-9-]+)\\.cluster1\\.(?P<svc>[a-z0-9-]+)\\.(?P<ns>[a-z0-9-]+)\\.svc\\.clusterset\\.local\\.$"
        answer "{{{{ .Name }}}} 60 IN CNAME {{{{ .Group.host }}}}.{{{{ .Group.svc }}}}.{{{{ .Group.ns }}}}.svc.cluster.local"
        fallthrough
    }}
    template IN ANY clusterset.local {{
        rcode NXDOMAIN
        authority "clusterset.local. 60 IN SOA ns.dns.clusterset.local. hostmaster.clusterset.local. 1 7200 1800 86400 60"
    }}
}}
"""


REWRITE_UPSTREAM = "127.11.9.10"   # answers A questions with 192.0.2.10
REWRITE_NXDOMAIN = "127.11.9.11"   # answers NXDOMAIN to everything
REWRITE = "127.11.9.12"
# rewrite type, class and rcode (CoreDNS's plugin/rewrite README): what the
# resolver is asked, and what the client gets back.
REWRITE_COREFILE = f"""\
types.example {{
    rewrite type AAAA A
    rewrite class CH IN
    forward . {REWRITE_UPSTREAM}:{NSD_PORT}
}}
gone.example {{
    rewrite rcode suffix .gone.example. NXDOMAIN NOERROR
    forward . {REWRITE_NXDOMAIN}:{NSD_PORT}
}}
nothing.example {{
    errors
    rewrite continue rcode exact a.nothing.example SERVFAIL NXDOMAIN
    rewrite name exact a.nothing.example b.nothing.example
}}
"""


class CorefileRewriteKindsTest(unittest.TestCase):
    """rewrite type, class and rcode end to end: the question the resolver
    sees, and the reply the client gets."""

    @classmethod
    def setUpClass(cls):
        cls.mesh = meshlab.Mesh(threads=1)
        cls.upstream = FakeResolver(REWRITE_UPSTREAM, NSD_PORT, address="192.0.2.10")
        cls.nxdomain = FakeResolver(REWRITE_NXDOMAIN, NSD_PORT, mode="nxdomain")
        try:
            cls.proc, cls.path = cls.mesh.start_corefile("meshdns-rewrite", REWRITE_COREFILE, REWRITE)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.mesh.stop()
        cls.upstream.close()
        cls.nxdomain.close()

    def test_type_rule_asks_the_resolver_the_new_type_and_gives_back_the_clients_question(self):
        r = query(REWRITE, "www.types.example.", "AAAA")
        self.assertEqual(self.upstream.questions[-1],
                         ("www.types.example.", dns.rdatatype.A, dns.rdataclass.IN))
        self.assertEqual(r.rcode(), dns.rcode.NOERROR)
        self.assertEqual([(q.name.to_text(), q.rdtype) for q in r.question],
                         [("www.types.example.", dns.rdatatype.AAAA)])
        # As in CoreDNS, the resolver's records come as they are: A records.
        self.assertEqual([(rr.rdtype, [rd.address for rd in rr]) for rr in r.answer],
                         [(dns.rdatatype.A, ["192.0.2.10"])])
        # Another type is asked as it is.
        query(REWRITE, "www.types.example.", "TXT")
        self.assertEqual(self.upstream.questions[-1],
                         ("www.types.example.", dns.rdatatype.TXT, dns.rdataclass.IN))

    def test_class_rule_asks_the_resolver_in_the_new_class(self):
        q = dns.message.make_query("ch.types.example.", "TXT", rdclass=dns.rdataclass.CH, use_edns=0)
        r = dns.query.udp(q, REWRITE, port=MESH_PORT, timeout=3)
        self.assertEqual(self.upstream.questions[-1],
                         ("ch.types.example.", dns.rdatatype.TXT, dns.rdataclass.IN))
        self.assertEqual(r.rcode(), dns.rcode.NOERROR)
        self.assertEqual([(q.name.to_text(), q.rdclass) for q in r.question],
                         [("ch.types.example.", dns.rdataclass.CH)])

    def test_rcode_rule_rewrites_the_resolvers_rcode_for_matching_names(self):
        r = query(REWRITE, "x.gone.example.")
        self.assertEqual(r.rcode(), dns.rcode.NOERROR)
        self.assertEqual([rr.rdtype for rr in r.authority], [dns.rdatatype.SOA], "the records stay")
        self.assertEqual(query(REWRITE, "gone.example.").rcode(), dns.rcode.NXDOMAIN, "the suffix has a dot first")

    def test_rcode_rule_rewrites_a_failure_nothing_answered(self):
        # No plugin after rewrite: CoreDNS's SERVFAIL, which the rule turns into NXDOMAIN.
        r = query(REWRITE, "a.nothing.example.")
        self.assertEqual(r.rcode(), dns.rcode.NXDOMAIN)
        self.assertEqual([q.name.to_text() for q in r.question], ["a.nothing.example."])
        self.assertEqual(query(REWRITE, "c.nothing.example.").rcode(), dns.rcode.SERVFAIL)
        # errors still logs why, with the NOERROR CoreDNS's rewrite returns to it.
        deadline = time.time() + 5
        while "plugin/errors: 0 a.nothing.example." not in self.mesh.log("meshdns-rewrite") and time.time() < deadline:
            time.sleep(0.05)
        self.assertIn("plugin/errors: 0 a.nothing.example. A: no plugin answered", self.mesh.log("meshdns-rewrite"))


def ask(name, rdtype="A", tcp=False):
    return query(DIRECTIVES, name, rdtype, tcp=tcp)


class CorefileDirectivesTest(unittest.TestCase):
    """One meshdns --corefile exercising the directives beyond the seed's."""

    @classmethod
    def setUpClass(cls):
        cls.mesh = meshlab.Mesh(threads=1)
        cls.slow = FakeResolver(SLOW, NSD_PORT, address="192.0.2.66", delay=0.5)
        cls.tcp_only = TruncatingResolver(TCP_ONLY, NSD_PORT, address="192.0.2.77")
        try:
            cls.mesh.start_nsd("kube-dns", DIRECTIVES_NSD, meshlab.zone_text(1, "kube-dns"))
            if not meshlab.wait_for_udp_dns(DIRECTIVES_NSD, NSD_PORT):
                raise RuntimeError(cls.mesh.log("kube-dns"))
            cls.proc, cls.path = cls.mesh.start_corefile("meshdns", DIRECTIVES_COREFILE, DIRECTIVES)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.mesh.stop()
        cls.slow.close()
        cls.tcp_only.close()

    def test_loadbalance_rotates_cached_answers_and_rewrite_ttl_bounds_them(self):
        name = f"{HEADLESS}.{NAMESPACE}.svc.cluster.local."
        orders = []
        for _ in range(4):
            r = ask(name)
            self.assertEqual(sorted(rd.address for rd in r.answer[0]), [meshlab.pod_ip(1, 0), meshlab.pod_ip(1, 1)])
            self.assertEqual(r.answer[0].ttl, 100, "nsd's 5, cached, still raised by rewrite ttl")
            orders.append([rd.address for rd in r.answer[0]])
        self.assertGreater(len({tuple(o) for o in orders}), 1, f"every answer in one order: {orders}")

    def test_max_concurrent_refuses_beyond_the_limit_and_frees_its_slot(self):
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            first = pool.submit(ask, "a.slow.example.")
            deadline = time.time() + 5
            while self.slow.count("a.slow.example.") == 0 and time.time() < deadline:
                time.sleep(0.01)  # until the first is waiting on the slow resolver
            second = ask("b.slow.example.")
            self.assertEqual(second.rcode(), dns.rcode.REFUSED)
            self.assertEqual([rd.address for rd in first.result().answer[0]], ["192.0.2.66"])
        # The slot came back: the next query is sent on, not refused.
        self.assertNotEqual(ask("c.slow.example.").rcode(), dns.rcode.REFUSED)
        self.assertGreaterEqual(self.slow.count("c.slow.example."), 1)

    def test_force_tcp_asks_over_tcp_only(self):
        r = ask("x.tcp.example.")
        self.assertEqual([rd.address for rd in r.answer[0]], ["192.0.2.77"])
        self.assertEqual(self.tcp_only.udp_queries, 0)
        self.assertGreaterEqual(self.tcp_only.tcp_queries, 1)

    def test_rewrite_runs_before_hosts_and_maps_the_answer_back(self):
        r = ask("Alias.Example.org.")
        self.assertEqual(r.rcode(), dns.rcode.NOERROR)
        self.assertTrue(r.flags & dns.flags.AA)
        self.assertEqual([(rr.name.to_text().lower(), [rd.address for rd in rr]) for rr in r.answer],
                         [("alias.example.org.", ["10.0.0.1"])])

    def test_template_runs_before_hosts_and_type_mismatches_pass_on(self):
        r = ask("web.example.org.", "TXT")
        self.assertEqual([rr.to_text() for rr in r.answer], ['web.example.org. 20 IN TXT "web"'])
        r = ask("web.example.org.", "A")
        self.assertEqual([rd.address for rd in r.answer[0]], ["10.0.0.1"])

    def test_hosts_falls_through_to_forward(self):
        r = ask("nothing.example.org.", "A")
        self.assertEqual(r.rcode(), dns.rcode.REFUSED, "nsd is not authoritative for example.org")

    def test_block_cache_sets_one_ttl_and_counts_down(self):
        first = ask("counted.example.org.", "TXT")
        self.assertEqual(first.answer[0].ttl, 20, "the template's 30 capped by `cache 20`")
        time.sleep(1.2)
        second = ask("counted.example.org.", "TXT")
        self.assertLess(second.answer[0].ttl, 20)

    def test_block_without_cache_keeps_upstream_ttls_and_rewrite_ttl_clamps_them(self):
        r = ask(BROKER_A)
        self.assertEqual([rd.address for rd in r.answer[0]], [meshlab.broker_ip(1)])
        self.assertEqual(r.answer[0].ttl, 100, "nsd's 5 raised to the rule's minimum")
        time.sleep(1.1)
        self.assertEqual(ask(BROKER_A).answer[0].ttl, 100, "nothing cached, nothing counted down")

    def test_template_cname_is_chased_through_another_block(self):
        r = ask(f"{BROKER}.cluster1.{SERVICE}.{NAMESPACE}.svc.clusterset.local.", tcp=True)
        self.assertEqual(r.rcode(), dns.rcode.NOERROR)
        types = [rr.rdtype for rr in r.answer]
        self.assertEqual(types, [dns.rdatatype.CNAME, dns.rdatatype.A])
        self.assertEqual(r.answer[0][0].target.to_text(), BROKER_A)
        self.assertEqual([rd.address for rd in r.answer[1]], [meshlab.broker_ip(1)])

    def test_template_fallthrough_reaches_the_next_template(self):
        r = ask(f"{BROKER}.cluster2.{SERVICE}.{NAMESPACE}.svc.clusterset.local.")
        self.assertEqual(r.rcode(), dns.rcode.NXDOMAIN)
        self.assertEqual([rr.rdtype for rr in r.authority], [dns.rdatatype.SOA])

    def test_template_ederror_readme_example(self):
        # NXDOMAIN, the dummy SOA with its 60 s, and EDE 21 with its text...
        r = ask("host.example.invalid.")
        self.assertEqual(r.rcode(), dns.rcode.NXDOMAIN)
        self.assertTrue(r.flags & dns.flags.AA)
        self.assertEqual([rr.to_text() for rr in r.authority],
                         ["invalid. 60 IN SOA ns.invalid. hostmaster.invalid. 1 60 60 60 60"])
        ede = [o for o in r.options if isinstance(o, dns.edns.EDEOption)]
        self.assertEqual([(o.code, o.text) for o in ede], [(21, "Blocked according to RFC2606")])
        # ...but no OPT at all for a client that sent none (RFC 6891 7).
        plain = query(DIRECTIVES, "host.example.invalid.", "AAAA", edns=False)
        self.assertEqual(plain.rcode(), dns.rcode.NXDOMAIN)
        self.assertEqual(plain.edns, -1)

    def test_template_parseint_readme_example(self):
        # "ip-10-123-123.example. can instead be expressed as ip0a7b7b7b.example."
        r = ask("ip0a7b7b7b.example.")
        self.assertEqual([rr.to_text() for rr in r.answer], ["ip0a7b7b7b.example. 60 IN A 10.123.123.123"])
        r = ask("IP0A5F0C09.example.")
        self.assertEqual([rd.address for rd in r.answer[0]], ["10.95.12.9"])

    def test_loadbalance_prefer_readme_example(self):
        orders = set()
        for _ in range(8):
            r = ask("www.lb.example.")
            order = [rd.address for rr in r.answer for rd in rr]
            self.assertEqual(sorted(order), ["10.9.20.3", "10.9.20.5", "10.9.30.1", "192.168.1.2"])
            self.assertEqual(sorted(order[:2]), ["10.9.20.3", "10.9.20.5"], f"10.9.20.0/24 first: {order}")
            self.assertEqual(order[2], "192.168.1.2", f"then 192.168.1.0/24: {order}")
            orders.add(tuple(order))
        self.assertGreater(len(orders), 1, "still round robin within the preferred subnet")

    def test_a_name_in_no_block_is_refused(self):
        self.assertEqual(ask("example.com.").rcode(), dns.rcode.REFUSED)

    def test_log_writes_coredns_query_lines(self):
        ask("logged.example.org.", "TXT")
        deadline = time.time() + 5
        while time.time() < deadline and "logged.example.org." not in self.mesh.log("meshdns"):
            time.sleep(0.1)
        self.assertIn('"TXT IN logged.example.org. udp', self.mesh.log("meshdns"))

    def test_zz_reload_keeps_the_old_corefile_when_the_new_one_is_bad(self):
        # Named to run last: it changes the running Corefile.
        with open(self.path, "w") as f:
            f.write(DIRECTIVES_COREFILE.replace("cache 20", "cache 20 {\n        success\n    }"))
        self.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        self.assertIn("reload rejected", self.mesh.log("meshdns"))
        self.assertEqual([rd.address for rd in ask("alias.example.org.").answer[0]], ["10.0.0.1"])
        with open(self.path, "w") as f:
            f.write(DIRECTIVES_COREFILE.replace("10.0.0.1 web.example.org", "10.0.0.2 web.example.org"))
        self.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 5
        addresses = []
        while time.time() < deadline:
            addresses = [rd.address for rd in ask("web.example.org.").answer[0]]
            if addresses == ["10.0.0.2"]:
                break
            time.sleep(0.1)
        self.assertEqual(addresses, ["10.0.0.2"])


class CorefileServeRefusalTest(unittest.TestCase):
    def test_unsupported_directives_stop_serve_unless_ignored(self):
        mesh = meshlab.Mesh()
        try:
            text = ".:53 {\n    errors\n    kubernetes cluster.local\n    forward . 127.11.9.1:5300\n}\n"
            proc, path = mesh.start_corefile("refused", text, "127.11.9.3", wait=False)
            self.assertEqual(proc.wait(timeout=10), 2)
            self.assertIn(f"{path}:3:5: directive kubernetes is not supported", mesh.log("refused"))
            proc, path = mesh.start_corefile("meshdns", text, "127.11.9.3", extra=["--ignore-unsupported"])
            self.assertIn(f"[WARN] {path}:3:5: directive kubernetes is not supported", mesh.log("meshdns"))
            self.assertIsNone(proc.poll())
        finally:
            mesh.stop()

    def test_loop_stops_a_server_that_forwards_to_itself(self):
        mesh = meshlab.Mesh()
        try:
            proc, _ = mesh.start_corefile("looped", ".:53 {\n    loop\n    forward . 127.11.9.8:30053\n}\n",
                                          "127.11.9.8", wait=False)
            self.assertEqual(proc.wait(timeout=20), 1, mesh.log("looped"))
            self.assertIn("loop detected", mesh.log("looped"))
            # The same with a resolver that is not itself: the probe is answered once and serving goes on.
            nsd = FakeResolver("127.11.9.9", NSD_PORT, mode="nxdomain")
            try:
                proc, _ = mesh.start_corefile("fine", ".:53 {\n    loop\n    forward . 127.11.9.9:5300\n}\n",
                                              "127.11.9.8", wait=False)
                deadline = time.time() + 10
                while time.time() < deadline and nsd.count() == 0:
                    time.sleep(0.05)
                self.assertEqual(nsd.count(), 1, "the probe went out once")
                time.sleep(0.5)
                self.assertIsNone(proc.poll(), mesh.log("fine"))
            finally:
                nsd.close()
        finally:
            mesh.stop()


if __name__ == "__main__":
    unittest.main()
