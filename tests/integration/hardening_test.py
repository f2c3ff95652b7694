"""Resource bounds (issue: hardening): TCP deadlines against
slowloris clients and clients that never read, connection floods past the
global and per-client caps, query floods past the in-flight limit, and
oversized messages. In each, a well-behaved client is answered throughout.
And least privilege: serving port 53 as nobody with one capability."""

import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import textwrap
import threading
import time
import unittest
import urllib.request

import dns.message
import dns.query
import dns.rcode

import meshlab
from fakes import FakeResolver

ADDR = "127.10.8.1"
PORT = 30053
METRICS = "127.10.8.1:9153"
OWN = "127.10.8.9"       # cluster1's resolver: answers
SILENT = "127.10.8.8"    # cluster2's resolver: never answers, so its queries stay in flight
IDLE = 1.0               # limits.tcp_idle, seconds

CONFIG = textwrap.dedent(f"""\
    cluster: cluster1
    listen: ["{ADDR}:{PORT}"]
    clusters:
      cluster1:
        resolvers: ["{OWN}:5300"]
      cluster2:
        resolvers: ["{SILENT}:5300"]
    forward:
      timeout: 2s
      max_fails: 1000
    limits:
      tcp_connections: 8
      tcp_connections_per_client: 4
      tcp_idle: {int(IDLE * 1000)}ms
      inflight: 20
    metrics: "{METRICS}"
    """)

CACHED = "web.cluster1.svc.cluster.local."
# The template's CNAME, chased to cluster1 (its answer is cached after the first time).
TEMPLATE = "web.cluster1.nginx.default.svc.clusterset.local."


def tcp_query(name, source="127.0.0.1", timeout=2.0):
    q = dns.message.make_query(name, "A")
    return dns.query.tcp(q, ADDR, port=PORT, timeout=timeout, source=source)


def udp_query(name, timeout=2.0):
    return dns.query.udp(dns.message.make_query(name, "A"), ADDR, port=PORT, timeout=timeout)


def framed(name, qid=1):
    q = dns.message.make_query(name, "A")
    q.id = qid
    wire = q.to_wire()
    return struct.pack("!H", len(wire)) + wire


def closed_by_server(sock, within):
    """True if the server closes `sock` within `within` seconds (EOF or reset)."""
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def metric(name, labels=""):
    text = urllib.request.urlopen(f"http://{METRICS}/metrics", timeout=2).read().decode()
    meshlab.check_metrics(text)
    m = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


class WellBehavedClient:
    """Asks for a cached name and the template's name until stopped, over UDP
    and (with `tcp`) TCP in turn; records every failure. Where a test fills
    every TCP slot on purpose, the client keeps to UDP."""

    def __init__(self, tcp):
        self.tcp = tcp
        self.failures = []
        self.answered = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        n = 0
        while not self._stop.is_set():
            name = CACHED if n % 2 == 0 else TEMPLATE
            use_tcp = self.tcp and n % 3 == 0
            try:
                r = tcp_query(name, source="127.0.0.1", timeout=1.0) if use_tcp else udp_query(name, timeout=1.0)
                if r.rcode() != dns.rcode.NOERROR or not r.answer:
                    self.failures.append(f"{name}: {dns.rcode.to_text(r.rcode())}")
                else:
                    self.answered += 1
            except Exception as e:  # noqa: BLE001
                self.failures.append(f"{name} ({'tcp' if use_tcp else 'udp'}): {e!r}")
            n += 1
            time.sleep(0.02)

    def stop(self):
        self._stop.set()
        self._thread.join()
        return self.failures


class BoundsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.own = FakeResolver(OWN, 5300)
        cls.silent = FakeResolver(SILENT, 5300, mode="silent")
        cls.mesh = meshlab.Mesh(threads=2)
        try:
            cls.mesh.start_meshdns("meshdns", CONFIG, wait_addr=ADDR, wait_port=PORT)
            for name in (CACHED, TEMPLATE):  # warm the cache
                r = udp_query(name)
                assert r.rcode() == dns.rcode.NOERROR and r.answer, r
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.mesh.stop()
        cls.own.close()
        cls.silent.close()

    def setUp(self):
        self.client = None
        self.sockets = []

    def tearDown(self):
        if self.client:
            self.client.stop()
        for s in self.sockets:
            s.close()
        self.wait_for_connections(0)  # the next test starts with every slot free

    def wait_for_connections(self, n, within=10.0):
        deadline = time.monotonic() + within
        while metric("meshdns_tcp_connections") != n:
            self.assertLess(time.monotonic(), deadline, f"the server still holds TCP connections (want {n})")
            time.sleep(0.05)

    def connect(self, source="127.0.0.1"):
        s = socket.create_connection((ADDR, PORT), timeout=2, source_address=(source, 0))
        self.sockets.append(s)
        return s

    def watch(self, tcp=True):
        self.client = WellBehavedClient(tcp)

    def assert_client_was_served(self):
        deadline = time.monotonic() + 5
        while self.client.answered < 5 and time.monotonic() < deadline:
            time.sleep(0.05)  # a short test still sees a few of its queries through
        failures = self.client.stop()
        self.assertEqual(failures, [], "the well-behaved client must be answered throughout")
        self.assertGreaterEqual(self.client.answered, 5)

    def test_slowloris_client_is_cut_off_after_tcp_idle(self):
        self.watch()
        timeouts = metric("meshdns_tcp_timeouts_total")
        slow = self.connect("127.0.0.5")
        message = framed(CACHED)
        started = time.monotonic()
        cut = None
        # One byte every 100 ms: always some traffic, never a whole query within tcp_idle.
        for byte in message:
            try:
                slow.send(bytes([byte]))
            except OSError:
                cut = time.monotonic() - started
                break
            if closed_by_server(slow, 0.1):
                cut = time.monotonic() - started
                break
        self.assertIsNotNone(cut, "the server never closed the trickling connection")
        self.assertGreaterEqual(cut, IDLE * 0.8)
        self.assertLess(cut, IDLE * 2.5, "bytes arriving must not extend the deadline")
        self.assertGreaterEqual(metric("meshdns_tcp_timeouts_total"), timeouts + 1)
        self.assert_client_was_served()

    def test_slowloris_flood_holds_slots_only_until_tcp_idle(self):
        self.watch(tcp=False)
        # Every slot taken by silent connections (4 per client, 8 in all).
        held = [self.connect(f"127.0.0.{6 + i // 4}") for i in range(8)]
        for s in held:
            s.send(b"\x00")  # half a length prefix, then nothing
        self.wait_for_connections(8)
        latecomer = self.connect("127.0.0.9")
        self.assertTrue(closed_by_server(latecomer, 1.0), "a ninth connection is over the global cap")
        self.assertTrue(all(closed_by_server(s, IDLE * 2.5) for s in held), "each held slot is freed after tcp_idle")
        r = tcp_query(CACHED, source="127.0.0.9")
        self.assertEqual(r.rcode(), dns.rcode.NOERROR, "the freed slots serve new clients")
        self.assert_client_was_served()

    def test_connection_flood_past_the_caps(self):
        self.watch(tcp=False)
        rejected_global = metric("meshdns_tcp_connections_rejected_total", '{limit="global"}')
        rejected_client = metric("meshdns_tcp_connections_rejected_total", '{limit="per_client"}')
        # One at a time, each answered before the next connects: with two
        # workers accepting, connections made together are taken in any order.
        def served_connection(source):
            s = self.connect(source)
            s.sendall(framed(CACHED))
            self.assertEqual(len(s.recv(2)), 2, "within the caps: served")
            return s

        first = [served_connection("127.0.0.2") for _ in range(4)]
        self.assertTrue(closed_by_server(self.connect("127.0.0.2"), 1.0), "a fifth connection from one client is closed")
        second = [served_connection("127.0.0.3") for _ in range(4)]
        flood = [self.connect(f"127.0.0.{4 + i}") for i in range(6)]
        self.assertTrue(all(closed_by_server(s, 1.0) for s in flood), "past the global cap every connection is closed")
        self.assertEqual(metric("meshdns_tcp_connections_rejected_total", '{limit="per_client"}'), rejected_client + 1)
        self.assertEqual(metric("meshdns_tcp_connections_rejected_total", '{limit="global"}'), rejected_global + 6)
        for s in first + second:
            s.close()
        self.wait_for_connections(0)
        self.assertEqual(tcp_query(CACHED, source="127.0.0.4").rcode(), dns.rcode.NOERROR, "closed slots come back")
        self.assert_client_was_served()

    def test_client_that_never_reads_is_cut_off(self):
        self.watch()
        timeouts = metric("meshdns_tcp_timeouts_total")
        greedy = self.connect("127.0.0.10")
        greedy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        # Cached queries until the server stops taking them: its replies fill
        # the client's window, then the server's send buffer; then the server
        # stops reading and our sends block.
        batch = b"".join(framed(CACHED, i) for i in range(200))
        greedy.settimeout(0.5)
        started = time.monotonic()
        while time.monotonic() - started < 20:
            try:
                greedy.sendall(batch)
            except OSError:  # blocked (timeout), or already cut off
                break
        # Never read: the server must give the slot up, tcp_idle after its
        # writes stall (it may still be working through our backlog first).
        deadline = time.monotonic() + IDLE * 10
        while metric("meshdns_tcp_timeouts_total") < timeouts + 1:
            self.assertLess(time.monotonic(), deadline, "a client that never reads must lose its connection")
            time.sleep(0.1)
        # And it has: reading now finds the replies that got through, then the end.
        greedy.settimeout(2)
        ended = False
        try:
            while greedy.recv(65536):
                pass
            ended = True
        except ConnectionResetError:
            ended = True
        self.assertTrue(ended)
        self.assert_client_was_served()

    def test_query_flood_past_the_inflight_limit(self):
        self.watch()
        overloaded = metric("meshdns_overloaded_total")
        flood = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(flood.close)
        flood.bind(("127.0.0.11", 0))
        total = 300
        rcodes = {}

        def collect():  # reads while the flood is sent, so no reply is lost to a full socket buffer
            flood.settimeout(1.0)
            try:
                while sum(rcodes.values()) < total:
                    r = dns.message.from_wire(flood.recv(4096))
                    rcodes[r.rcode()] = rcodes.get(r.rcode(), 0) + 1
            except socket.timeout:
                pass  # the ones in flight wait for the upstream timeout

        reader = threading.Thread(target=collect)
        reader.start()
        for i in range(total):
            q = dns.message.make_query(f"flood{i}.svc.cluster2.svc.cluster.local.", "A")
            q.id = i
            flood.sendto(q.to_wire(), (ADDR, PORT))
            if i % 25 == 24:
                time.sleep(0.01)  # a flood, but not one that overflows the kernel's socket buffers
        reader.join()
        refused = rcodes.get(dns.rcode.REFUSED, 0)
        self.assertGreaterEqual(refused, total - 20, f"beyond 20 in flight the rest is refused at once: {rcodes}")
        asked = {n for n in self.silent.names if n.startswith("flood")}
        self.assertLessEqual(len(asked), 20, "no more than the limit ever reaches the resolver")
        self.assertGreaterEqual(metric("meshdns_overloaded_total"), overloaded + refused)
        self.assert_client_was_served()

    def test_oversized_messages(self):
        self.watch()
        dropped = metric("meshdns_dropped_packets_total", '{reason="oversized"}')
        # The largest TCP message there is: refused after its length, the connection closed.
        big = self.connect("127.0.0.12")
        try:
            big.sendall(struct.pack("!H", 65535) + b"\x00" * 65535)
        except OSError:
            pass  # the server may close before all of it is sent
        self.assertTrue(closed_by_server(big, 1.0))
        # A length that promises more than ever comes: cut off at tcp_idle, not held.
        short = self.connect("127.0.0.12")
        short.sendall(struct.pack("!H", 4000) + framed(CACHED)[2:])
        self.assertTrue(closed_by_server(short, IDLE * 2.5))
        # A UDP datagram larger than any query is dropped unanswered.
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addCleanup(udp.close)
        udp.sendto(framed(CACHED)[2:] + b"\x00" * 8000, (ADDR, PORT))
        udp.settimeout(0.5)
        with self.assertRaises(socket.timeout):
            udp.recv(65535)
        time.sleep(0.1)
        self.assertEqual(metric("meshdns_dropped_packets_total", '{reason="oversized"}'), dropped + 2)
        self.assert_client_was_served()


if __name__ == "__main__":
    unittest.main()


class LeastPrivilegeTest(unittest.TestCase):
    """meshdns serves port 53 as an unprivileged user holding only
    CAP_NET_BIND_SERVICE (as a systemd unit with AmbientCapabilities runs it),
    from a configuration it can only read."""

    def test_serves_port_53_as_nobody_with_only_net_bind_service(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to drop to another user")
        d = tempfile.mkdtemp(prefix="meshdns-priv-")
        self.addCleanup(shutil.rmtree, d, ignore_errors=True)
        path = os.path.join(d, "mesh.yaml")
        with open(path, "w") as f:
            f.write(textwrap.dedent("""\
                cluster: cluster1
                listen: ["127.10.8.53:53"]
                clusters:
                  cluster1:
                    resolvers: ["127.10.8.9:5300"]
                """))
        os.chmod(path, 0o444)
        os.chmod(d, 0o755)
        # A copy nobody may run, wherever the build tree is (a clone under /root is not).
        binary = shutil.copy(os.environ["MESHDNS"], os.path.join(d, "meshdns"))
        os.chmod(binary, 0o555)
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--no-new-privs",
               "--inh-caps=-all,+net_bind_service", "--ambient-caps=-all,+net_bind_service",
               "--bounding-set=-all,+net_bind_service",
               binary, "serve", "--config", path, "--threads", "2"]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.addCleanup(lambda: (proc.poll() is None and proc.kill(), proc.wait()))
        served = meshlab.wait_for_udp_dns("127.10.8.53", 53)
        if not served:
            proc.kill()
            self.fail(proc.communicate()[0])
        with open(f"/proc/{proc.pid}/status") as f:
            status = f.read()
        self.assertRegex(status, r"Uid:\s+65534\s+65534\s+65534\s+65534")
        self.assertRegex(status, r"CapEff:\s+0000000000000400", "CAP_NET_BIND_SERVICE alone")
        q = dns.message.make_query("dns-version.clusterset.local.", "TXT")
        self.assertEqual(dns.query.tcp(q, "127.10.8.53", port=53, timeout=2).rcode(), dns.rcode.NOERROR)
