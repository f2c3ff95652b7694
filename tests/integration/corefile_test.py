"""`meshdns serve --corefile` on the seed's three Corefiles (issue #6,
acceptance 2 and 3): each cluster's hand-edited Corefile, with the
`kubernetes` block replaced by a `forward` to that cluster's authoritative
stand-in (nsd) and the peers' NodePorts replaced by loopback addresses, runs
under meshdns and must pass the contract's nine-combination matrix. Then each
Corefile goes through `meshdns import`, and `serve --config` on the YAML must
give the same answers as `serve --corefile` on the original for a corpus of
more than 200 queries.

Addresses (cluster N): nsd 127.11.N.1:5300; meshdns --corefile
127.11.N.2:30053; meshdns --config (imported) 127.11.N.3:30053."""

import os
import re
import subprocess
import unittest

import dns.rcode

import meshlab
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
        ]
        for name, types in per_cluster:
            names += [(name, t) for t in types]
    names += [(f"{SERVICE}.{NAMESPACE}.svc.cluster.local.", "A"), ("nothing.svc.cluster.local.", "A")]
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
                path = os.path.join(mesh.dir, f"cluster{n}.Corefile")
                with open(path, "w") as f:
                    f.write(loopback_corefile(n))
                cls.corefiles[n] = path
                mesh._spawn(f"corefile{n}", [meshlab.MESHDNS, "serve", "--corefile", path, "--listen",
                                             f"{corefile_addr(n)}:{MESH_PORT}", "--threads", "1"])
            for n in (1, 2, 3):
                if not cls.wait(corefile_addr(n)):
                    raise RuntimeError(f"meshdns --corefile {n} did not start: {mesh.log(f'corefile{n}')}")
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

    def test_matrix_over_udp(self):
        failures = [(a, b, p) for a, b, p in meshlab.matrix(False, corefile_addr) if p]
        self.assertEqual(failures, [])

    def test_matrix_over_tcp(self):
        failures = [(a, b, p) for a, b, p in meshlab.matrix(True, corefile_addr) if p]
        self.assertEqual(failures, [])

    def test_import_then_serve_config_answers_as_serve_corefile(self):
        queries = corpus()
        self.assertGreaterEqual(len(queries), 200)
        for n in (1, 2, 3):
            with self.subTest(cluster=n):
                r = subprocess.run([meshlab.MESHDNS, "import", self.corefiles[n], "--cluster", f"cluster{n}"],
                                   capture_output=True, text=True)
                self.assertEqual(r.returncode, 0, r.stderr)
                yaml = re.sub(r"(?m)^(listen|metrics|health|ready):.*\n", "", r.stdout)
                yaml += f"listen: ['{imported_addr(n)}:{MESH_PORT}']\n"
                name = f"imported{n}"
                path = self.mesh.write_config(name, yaml)
                proc = self.mesh._spawn(name, [meshlab.MESHDNS, "serve", "--config", path, "--threads", "1"])
                try:
                    self.assertTrue(self.wait(imported_addr(n)), self.mesh.log(name))
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


if __name__ == "__main__":
    unittest.main()
