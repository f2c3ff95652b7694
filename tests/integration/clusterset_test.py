"""Contract rule 4 / KEP-1645 service names: `<svc>.<ns>.svc.clusterset.local`
answered by asking every cluster and merging by affinity, SRV targets that a
client can follow, partial failure, over UDP and TCP; the zone's apex and the
names that exist without records (NODATA, never NXDOMAIN: RFC 8020)."""

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


ZONE = "clusterset.local."
SOA_TEXT = f"ns.dns.{ZONE} hostmaster.{ZONE} 1 7200 1800 86400 5"


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

    def assert_denial(self, r, rcode, why):
        """rcode, no records, and the zone's SOA owned by its apex (negative-cacheable)."""
        self.assertEqual(dns.rcode.to_text(r.rcode()), dns.rcode.to_text(rcode), why)
        self.assertTrue(r.flags & dns.flags.AA, why)
        self.assertEqual(r.answer, [], why)
        self.assertEqual([(rr.name.to_text(), rr.rdtype, rr[0].to_text()) for rr in r.authority],
                         [(ZONE, dns.rdatatype.SOA, SOA_TEXT)], why)

    def test_the_apex_answers_its_soa_and_ns(self):
        for tcp in (False, True):
            r = query(M1, "ClusterSet.Local.", "SOA", tcp=tcp)
            self.assertEqual(r.rcode(), dns.rcode.NOERROR)
            self.assertTrue(r.flags & dns.flags.AA)
            self.assertEqual(r.question[0].name.to_text(), "ClusterSet.Local.", "the client's case")
            self.assertEqual([(rr.name.to_text().lower(), rr.rdtype) for rr in r.answer], [(ZONE, dns.rdatatype.SOA)])
            self.assertEqual({t.lower() for t in rdata(r, dns.rdatatype.SOA)}, {SOA_TEXT})
            r = query(M1, ZONE, "NS", tcp=tcp)
            self.assertEqual(r.rcode(), dns.rcode.NOERROR)
            self.assertEqual(rdata(r, dns.rdatatype.NS), {f"ns.dns.{ZONE}"})
            self.assert_denial(query(M1, ZONE, "A", tcp=tcp), dns.rcode.NOERROR, "apex A")

    def test_names_with_descendants_are_nodata_and_what_is_below_still_answers(self):
        for tcp in (False, True):
            for qname, rdtype in ((f"svc.{ZONE}", "A"), (f"{NAMESPACE}.svc.{ZONE}", "A"),
                                  (f"{NAMESPACE}.svc.{ZONE}", "AAAA"), (f"ns.dns.{ZONE}", "A")):
                self.assert_denial(query(M1, qname, rdtype, tcp=tcp), dns.rcode.NOERROR, f"{qname} {rdtype}")
            self.assertEqual(rdata(query(M1, name("web"), tcp=tcp), dns.rdatatype.A), {"10.1.7.1", "10.2.7.1"})

    def test_unknown_namespaces_services_and_cluster_labels_are_nxdomain(self):
        for tcp in (False, True):
            for qname in (f"no-such-namespace.svc.{ZONE}", name("no-such-service"),
                          f"cluster2.{HEADLESS}.{NAMESPACE}.svc.{ZONE}", f"nothing.{ZONE}"):
                self.assert_denial(query(M1, qname, tcp=tcp), dns.rcode.NXDOMAIN, qname)
        r = query(M1, f"dns-version.{ZONE}", "TXT")
        self.assertEqual(rdata(r, dns.rdatatype.TXT), {'"1.0.0"'})

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
