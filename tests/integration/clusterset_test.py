"""Contract rule 4 / KEP-1645 service names: `<svc>.<ns>.svc.clusterset.local`
answered by asking every cluster and merging by affinity, SRV targets that a
client can follow, partial failure, over UDP and TCP."""

import time
import unittest

import dns.flags
import dns.rcode
import dns.rdatatype

import meshlab
from meshlab import HEADLESS, MESH_PORT, NAMESPACE, meshdns_addr, pod_ip, pod_ip6, query
from fakes import FakeResolver

M1 = meshdns_addr(1)
ALL_PODS = {pod_ip(n, k) for n in (1, 2, 3) for k in (0, 1)}


def name(service):
    return f"{service}.{NAMESPACE}.svc.clusterset.local."


def rdata(r, rdtype):
    return {rd.to_text() for rrset in r.answer if rrset.rdtype == rdtype for rd in rrset}


class ClustersetServicesTest(meshlab.MeshTestCase):
    def start_instance(self, listen, extra, peers=None, n=3):
        config = meshlab.meshdns_config(n, f"{listen}:{MESH_PORT}", [f"{meshlab.kube_dns_addr(n)}:5300"],
                                        peers=peers, extra=extra)
        self.mesh.start_meshdns(f"meshdns-{listen}", config, wait_addr=listen)
        return listen

    def test_headless_service_is_the_union_of_every_cluster(self):
        for tcp in (False, True):
            r = query(M1, name(HEADLESS), tcp=tcp)
            self.assertEqual(r.rcode(), dns.rcode.NOERROR)
            self.assertTrue(r.flags & dns.flags.AA)
            self.assertEqual(rdata(r, dns.rdatatype.A), ALL_PODS, "tcp" if tcp else "udp")
            self.assertEqual({rrset.name.to_text() for rrset in r.answer}, {name(HEADLESS)})
            self.assertLessEqual(max(rrset.ttl for rrset in r.answer), 5)

    def test_aaaa_merged_too(self):
        r = query(M1, name(HEADLESS), "AAAA")
        self.assertEqual(rdata(r, dns.rdatatype.AAAA), {pod_ip6(n, k) for n in (1, 2, 3) for k in (0, 1)})

    def test_clusterip_service_in_two_of_three_clusters(self):
        r = query(meshdns_addr(3), name("web"), tcp=True)
        self.assertEqual(rdata(r, dns.rdatatype.A), {"10.1.7.1", "10.2.7.1"})

    def test_nodata_when_known_without_the_type_nxdomain_when_unknown(self):
        r = query(M1, name("v4only"), "AAAA")
        self.assertEqual(r.rcode(), dns.rcode.NOERROR)
        self.assertEqual(r.answer, [])
        self.assertTrue(any(rr.rdtype == dns.rdatatype.SOA for rr in r.authority))
        r = query(M1, name("no-such-service"))
        self.assertEqual(r.rcode(), dns.rcode.NXDOMAIN)
        self.assertTrue(any(rr.rdtype == dns.rdatatype.SOA for rr in r.authority))
        # <cluster>.<svc>.<ns> must not exist (KEP-1645).
        self.assertEqual(query(M1, f"cluster2.{HEADLESS}.{NAMESPACE}.svc.clusterset.local.").rcode(),
                         dns.rcode.NXDOMAIN)

    def test_local_and_remote_affinity_with_a_per_service_override(self):
        listen = self.start_instance(
            "127.10.3.6",
            "clusterset:\n  affinity: local\n  affinity_overrides:\n"
            f"    - {{service: '{HEADLESS}.*', affinity: remote}}\n")
        for tcp in (False, True):
            # local: cluster3's own answer when it has one ...
            self.assertEqual(rdata(query(listen, name("v4only"), tcp=tcp), dns.rdatatype.A), {"10.3.8.1"})
            # ... else everyone else's.
            self.assertEqual(rdata(query(listen, name("web"), tcp=tcp), dns.rdatatype.A), {"10.1.7.1", "10.2.7.1"})
            # remote (the override): never cluster3's pods.
            self.assertEqual(rdata(query(listen, name(HEADLESS), tcp=tcp), dns.rdatatype.A),
                             {pod_ip(n, k) for n in (1, 2) for k in (0, 1)})

    def test_a_dead_or_silent_cluster_is_left_out_within_the_budget(self):
        silent = FakeResolver("127.10.2.77", MESH_PORT, mode="silent")
        self.addCleanup(silent.close)
        for peers, listen in (({2: [f"127.10.2.99:{MESH_PORT}"]}, "127.10.3.7"),   # nothing listens
                              ({2: [f"127.10.2.77:{MESH_PORT}"]}, "127.10.3.8")):  # never answers
            self.start_instance(listen, "clusterset: {fanout_timeout: 300ms}\n", peers=peers)
            for i in range(3):
                started = time.time()
                r = query(listen, name(HEADLESS))
                self.assertLess(time.time() - started, 1.0, listen)
                self.assertEqual(r.rcode(), dns.rcode.NOERROR)
                self.assertEqual(rdata(r, dns.rdatatype.A), {pod_ip(n, k) for n in (1, 3) for k in (0, 1)})

    def test_srv_targets_lead_to_the_right_pods(self):
        r = query(M1, f"_kafka._tcp.{HEADLESS}.{NAMESPACE}.svc.clusterset.local.", "SRV", tcp=True)
        self.assertEqual(r.rcode(), dns.rcode.NOERROR)
        targets = {rd.target.to_text(): rd.port for rrset in r.answer for rd in rrset}
        expected = {f"broker-{n}-{k}.cluster{n}.{HEADLESS}.{NAMESPACE}.svc.clusterset.local.": (n, k)
                    for n in (1, 2, 3) for k in (0, 1)}
        self.assertEqual(set(targets), set(expected))
        self.assertEqual(set(targets.values()), {9092})
        for target, (n, k) in expected.items():
            a = query(meshdns_addr(2), target)
            self.assertEqual(rdata(a, dns.rdatatype.A), {pod_ip(n, k)}, target)


if __name__ == "__main__":
    unittest.main()
