"""/metrics, /health and /ready (contract section 5) on a meshdns whose
local cluster is a stand-in resolver the test controls, all on 127.32.0.0/16:
counters move by exactly the traffic sent, the page parses as Prometheus
text, and readiness follows the local cluster's resolvers."""

import socket
import textwrap
import time
import unittest
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

import meshlab
from fakes import FakeResolver
from meshlab import query

LISTEN = "127.32.0.1"
PORT = 30053
LOCAL = "127.32.0.2"   # the local cluster's kube-dns stand-in
PEER = "127.32.0.3"    # cluster c2's


def get(path, port):
    try:
        with urllib.request.urlopen(f"http://{LISTEN}:{port}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def scrape():
    status, text = get("/metrics", 9153)
    assert status == 200, text
    meshlab.check_metrics(text)
    samples = {}
    for family in text_string_to_metric_families(text):  # raises on anything that is not the format
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples, name, **labels):
    """Sum of the samples named `name` whose labels include `labels`."""
    return sum(v for (n, ls), v in samples.items()
               if n == name and all(dict(ls).get(k) == str(w) for k, w in labels.items()))


class EndpointsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.local = FakeResolver(LOCAL)
        cls.peer = FakeResolver(PEER)
        cls.meshdns = meshlab.SoloMeshdns(textwrap.dedent(f"""\
                cluster: c1
                listen: ['{LISTEN}:{PORT}']
                clusters:
                  c1: {{resolvers: ['{LOCAL}:5300']}}
                  c2: {{resolvers: ['{PEER}:5300']}}
                forward: {{timeout: 300ms, health_check: 200ms, max_fails: 1}}
                metrics: '{LISTEN}:9153'
                health: '{LISTEN}:8080'
                ready: '{LISTEN}:8181'
                """), LISTEN, PORT, prefix="meshdns-endpoints-")

    @classmethod
    def tearDownClass(cls):
        cls.meshdns.stop()
        cls.local.close()
        cls.peer.close()

    def test_counters_move_by_the_traffic_sent(self):
        before = scrape()
        names = [f"m{i}.{int(time.time() * 1000)}.c1.svc.cluster.local" for i in range(5)]
        for name in names:
            self.assertEqual(query(LISTEN, name, port=PORT).rcode(), 0)
        for name in names:  # the same again: cache hits
            self.assertEqual(query(LISTEN, name, port=PORT).rcode(), 0)
        for i in range(3):
            query(LISTEN, f"t{i}.{int(time.time() * 1000)}.c2.svc.cluster.local", "AAAA", port=PORT, tcp=True)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for _ in range(2):
                s.sendto(b"\x12", (LISTEN, PORT))  # not DNS: dropped
        query(LISTEN, "after-garbage.c1.svc.cluster.local", port=PORT)  # also makes sure the garbage was read
        after = scrape()

        def delta(name, **labels):
            return value(after, name, **labels) - value(before, name, **labels)

        self.assertEqual(delta("coredns_dns_requests_total", proto="udp", family=1, type="A"), 11)
        self.assertEqual(delta("coredns_dns_requests_total", proto="tcp", family=1, type="AAAA"), 3)
        self.assertEqual(delta("coredns_dns_responses_total", rcode="NOERROR"), 14)
        self.assertEqual(delta("coredns_dns_request_duration_seconds_count"), 14)
        self.assertEqual(delta("coredns_dns_request_size_bytes_count", proto="tcp"), 3)
        self.assertEqual(delta("coredns_dns_response_size_bytes_count", proto="udp"), 11)
        self.assertEqual(delta("coredns_cache_requests_total"), 14)
        self.assertEqual(delta("coredns_cache_hits_total"), 5)
        self.assertEqual(delta("coredns_cache_misses_total"), 9)
        self.assertEqual(delta("coredns_forward_requests_total", to=f"{LOCAL}:5300"), 6)
        self.assertEqual(delta("coredns_forward_requests_total", to=f"{PEER}:5300"), 3)
        self.assertEqual(delta("coredns_forward_responses_total", to=f"{LOCAL}:5300", rcode="NOERROR"), 6)
        self.assertEqual(delta("coredns_proxy_request_duration_seconds_count", proxy_name="forward",
                               to=f"{LOCAL}:5300", rcode="NOERROR"), 6)
        self.assertEqual(delta("coredns_forward_request_duration_seconds_count", to=f"{PEER}:5300"), 3)
        self.assertEqual(delta("meshdns_dropped_packets_total", reason="malformed"), 2)
        self.assertGreaterEqual(value(after, "coredns_cache_entries"), 6)  # the A answers (AAAA: NODATA without SOA)
        self.assertEqual(value(after, "meshdns_peer_up", cluster="c2", resolver=f"{PEER}:5300"), 1)

    def test_health_while_the_event_loops_turn(self):
        self.assertEqual(get("/health", 8080), (200, "OK\n"))
        self.assertEqual(get("/metrics", 8080)[0], 404, "each address serves only its own paths")

    def test_ready_follows_the_local_clusters_resolvers(self):
        self.assertEqual(get("/ready", 8181), (200, "OK\n"))
        self.local.close()  # port unreachable: the one local resolver fails and is marked down
        try:
            query(LISTEN, f"down.{int(time.time() * 1000)}.c1.svc.cluster.local", port=PORT)
            status, body = get("/ready", 8181)
            self.assertEqual(status, 503)
            self.assertIn("c1", body)
            self.assertEqual(value(scrape(), "meshdns_peer_up", cluster="c1"), 0)
        finally:
            self.local.start()
        deadline = time.time() + 5  # the health probe brings it back within a few intervals
        while time.time() < deadline and get("/ready", 8181)[0] != 200:
            time.sleep(0.1)
        self.assertEqual(get("/ready", 8181), (200, "OK\n"))


if __name__ == "__main__":
    unittest.main()
