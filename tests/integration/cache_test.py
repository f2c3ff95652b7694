"""CoreDNS's `cache` as a real Corefile uses it (issue #19): the current
kubeadm default Corefile, with its kubernetes block replaced by a forward of
cluster.local to a stand-in, served by `meshdns serve --corefile`.

Checked against CoreDNS's plugin/cache README and item.go: it loads without
--ignore-unsupported; a second identical question is answered from the cache
with AA set (CoreDNS sets AA on every cached answer) and a TTL counting down
from the `cache 30` cap; `disable success|denial cluster.local` keeps
cluster.local answers and denials out of the cache; `cache 3` caps every TTL
at 3 s although the default MINTTL is 5 (CoreDNS raises to MINTTL first and
caps last).

The stand-in is fakes.FakeResolver rather than nsd: nsd is authoritative and
sets AA itself, so with it the AA check could not fail; the fake also counts
the questions that reach it, which shows what the cache kept.

Addresses: stand-in 127.19.7.1:5300; meshdns 127.19.7.2:5353 (side services
on 127.19.7.2 too)."""

import os
import subprocess
import tempfile
import time
import unittest

import dns.flags
import dns.rcode

import meshlab
from fakes import FakeResolver

STAND_IN = "127.19.7.1"
STAND_IN_PORT = 5300
MESHDNS_ADDR = "127.19.7.2"
PORT = 5353

# kubernetes/kubernetes cmd/kubeadm/app/phases/addons/dns/manifests.go
# (CoreDNSConfigMap, commit 008b3652959ca58af8be3fb5b6ecfe9ae7638282),
# rendered with DNSDomain cluster.local.
KUBEADM_DEFAULT = """.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30 {
       disable success cluster.local
       disable denial cluster.local
    }
    loop
    reload
    loadbalance
}
"""


def on_loopback(text, cache_ttl="30"):
    """The kubeadm default with the kubernetes block forwarding cluster.local to the stand-in,
    everything else forwarded there too, and the side services on meshdns's own address."""
    start = text.index("    kubernetes cluster.local")
    end = text.index("}\n", start) + 2
    text = text[:start] + f"    forward cluster.local {STAND_IN}:{STAND_IN_PORT}\n" + text[end:]
    text = text.replace("forward . /etc/resolv.conf", f"forward . {STAND_IN}:{STAND_IN_PORT}")
    text = text.replace("health {", f"health {MESHDNS_ADDR}:8080 {{")
    text = text.replace("    ready\n", f"    ready {MESHDNS_ADDR}:8181\n")
    text = text.replace("prometheus :9153", f"prometheus {MESHDNS_ADDR}:9153")
    text = text.replace("cache 30 {", f"cache {cache_ttl} {{")
    assert "kubernetes" not in text and "resolv.conf" not in text
    return text


def ask(name, rdtype="A"):
    return meshlab.query(MESHDNS_ADDR, name, rdtype, port=PORT)


def ttls(reply):
    return [rrset.ttl for section in (reply.answer, reply.authority) for rrset in section]


class KubeadmCacheTest(unittest.TestCase):
    def setUp(self):
        self.stand_in = FakeResolver(STAND_IN, STAND_IN_PORT, address="192.0.2.7", ttl=60)
        self.mesh = meshlab.Mesh()

    def tearDown(self):
        self.mesh.stop()
        self.stand_in.close()

    def serve(self, text):
        path = os.path.join(self.mesh.dir, "check.Corefile")
        with open(path, "w") as f:
            f.write(text)
        r = subprocess.run([meshlab.MESHDNS, "check", "--corefile", path], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.mesh.start_corefile("kubeadm", text, MESHDNS_ADDR, PORT)

    def test_the_kubeadm_default_caches_with_aa_and_leaves_cluster_local_out(self):
        self.serve(on_loopback(KUBEADM_DEFAULT))
        name = "www.example.test."
        first = ask(name)
        self.assertEqual(first.rcode(), dns.rcode.NOERROR)
        self.assertEqual(first.answer[0][0].address, "192.0.2.7")
        self.assertFalse(first.flags & dns.flags.AA, "the first answer is the stand-in's, which has no AA")
        self.assertEqual(ttls(first), [30], "capped at cache 30")
        self.assertEqual(self.stand_in.count(name), 1)
        time.sleep(1.1)
        second = ask(name)
        self.assertEqual(self.stand_in.count(name), 1, "the second came from the cache")
        self.assertTrue(second.flags & dns.flags.AA, "CoreDNS sets AA on answers from its cache")
        self.assertEqual(second.answer[0][0].address, "192.0.2.7")
        self.assertLess(ttls(second)[0], 30, "the TTL counts down")

        # disable success cluster.local: every answer under it is asked again, and never gets AA.
        svc = "web.default.svc.cluster.local."
        for i in range(1, 4):
            r = ask(svc)
            self.assertEqual(r.rcode(), dns.rcode.NOERROR)
            self.assertFalse(r.flags & dns.flags.AA)
            self.assertEqual(self.stand_in.count(svc), i)
            self.assertEqual(ttls(r), [30], "not kept, but given the cache's TTL, as CoreDNS does")

        # disable denial cluster.local: NXDOMAIN under it is asked again; elsewhere it is kept.
        self.stand_in.mode = "nxdomain"
        gone, elsewhere = "gone.default.svc.cluster.local.", "gone.example.test."
        for _ in range(2):
            self.assertEqual(ask(gone).rcode(), dns.rcode.NXDOMAIN)
            self.assertEqual(ask(elsewhere).rcode(), dns.rcode.NXDOMAIN)
        self.assertEqual(self.stand_in.count(gone), 2)
        self.assertEqual(self.stand_in.count(elsewhere), 1)

    def test_cache_3_caps_every_ttl_at_3_seconds(self):
        self.serve(on_loopback(KUBEADM_DEFAULT, cache_ttl="3"))
        name = "short.example.test."
        first = ask(name)
        self.assertEqual(ttls(first), [3], "the cap wins over the 5 s floor")
        second = ask(name)
        self.assertTrue(second.flags & dns.flags.AA)
        self.assertLessEqual(ttls(second)[0], 3)
        self.assertEqual(self.stand_in.count(name), 1)
        time.sleep(3.2)
        ask(name)
        self.assertEqual(self.stand_in.count(name), 2, "the entry lived 3 s, not 5")
        # Denials too: cache 3 caps the denial TTL (1800 by default) as well.
        self.stand_in.mode = "nxdomain"
        denied = ask("nothing.example.test.")
        self.assertEqual(denied.rcode(), dns.rcode.NXDOMAIN)
        self.assertEqual(ttls(denied), [3])


if __name__ == "__main__":
    unittest.main()
