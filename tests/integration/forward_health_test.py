"""forward's health checks as an upstream sees them (issue #19): real meshdns
--corefile on loopback with test-owned stand-in upstreams that record every
query they receive (name, type, RD bit, transport). Once a query times out
and max_fails takes the upstream out of rotation, meshdns probes it as the
Corefile's `health_check` says (CoreDNS forward: `<domain> IN NS`, RD unless
no_rec, over UDP, or TCP with force_tcp), and an answered probe brings it
back. /metrics carries coredns_build_info (CoreDNS plugin/metrics README).

Addresses: recorders 127.47.0.1 (UDP) and 127.47.0.3 (TCP), port 5300;
meshdns 127.47.0.2:30053, /metrics on 127.47.0.2:9153."""

import socket
import struct
import threading
import time
import unittest
import urllib.request

import dns.flags
import dns.message

import meshlab
from meshlab import MESH_PORT, query

UDP_UPSTREAM = "127.47.0.1"
TCP_UPSTREAM = "127.47.0.3"
MESHDNS = "127.47.0.2"
PORT = 5300

COREFILE = f""".:53 {{
    prometheus {MESHDNS}:9153
    forward . {UDP_UPSTREAM}:{PORT} {{
        max_fails 1
        health_check 200ms no_rec domain health.example.org
    }}
}}
tcp.example:53 {{
    forward . {TCP_UPSTREAM}:{PORT} {{
        force_tcp
        max_fails 1
    }}
}}
"""


class Recorder:
    """Listens on UDP and TCP; records (name, type, rd, proto) of every query; answers only when told."""

    def __init__(self, addr):
        self.addr, self.answer = addr, False
        self.seen, self.lock, self.stop = [], threading.Lock(), threading.Event()
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((addr, PORT))
        self.udp.settimeout(0.05)
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind((addr, PORT))
        self.tcp.listen(16)
        self.tcp.settimeout(0.05)
        self.threads = [threading.Thread(target=f, daemon=True) for f in (self._udp, self._tcp)]
        for t in self.threads:
            t.start()

    def close(self):
        self.stop.set()
        for t in self.threads:
            t.join()
        self.udp.close()
        self.tcp.close()

    def _record(self, wire, proto):
        q = dns.message.from_wire(wire)
        with self.lock:
            self.seen.append((q.question[0].name.to_text(), q.question[0].rdtype, bool(q.flags & dns.flags.RD), proto))
        return dns.message.make_response(q).to_wire() if self.answer else None

    def _udp(self):
        while not self.stop.is_set():
            try:
                data, peer = self.udp.recvfrom(65535)
            except (socket.timeout, OSError):
                continue
            reply = self._record(data, "udp")
            if reply:
                self.udp.sendto(reply, peer)

    def _tcp(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.tcp.accept()
            except (socket.timeout, OSError):
                continue
            threading.Thread(target=self._conn, args=(conn,), daemon=True).start()

    def _conn(self, conn):
        conn.settimeout(0.1)
        buf = b""
        deadline = time.time() + 10  # every loop bounded
        with conn:
            while not self.stop.is_set() and time.time() < deadline:
                try:
                    chunk = conn.recv(65535)
                except socket.timeout:
                    continue
                except OSError:
                    return
                if not chunk:
                    return
                buf += chunk
                while len(buf) >= 2 and len(buf) >= 2 + struct.unpack("!H", buf[:2])[0]:
                    n = struct.unpack("!H", buf[:2])[0]
                    reply = self._record(buf[2:2 + n], "tcp")
                    buf = buf[2 + n:]
                    if reply:
                        conn.sendall(struct.pack("!H", len(reply)) + reply)

    def probes(self, name):
        with self.lock:
            return [s for s in self.seen if s[0] == name and s[1] == 2]  # NS


def wait_for(condition, seconds=8.0):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


class ForwardHealthCheckTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.mesh = meshlab.Mesh(threads=1)
        cls.udp = Recorder(UDP_UPSTREAM)
        cls.tcp = Recorder(TCP_UPSTREAM)
        try:
            cls.proc, _ = cls.mesh.start_corefile("meshdns", COREFILE, MESHDNS, wait=False)
            if not wait_for(lambda: cls._answers()):
                raise RuntimeError(cls.mesh.log("meshdns"))
        except BaseException:
            cls.tearDownClass()
            raise

    @staticmethod
    def _answers():
        try:
            with urllib.request.urlopen(f"http://{MESHDNS}:9153/metrics", timeout=0.5):
                return True
        except OSError:
            return False

    @classmethod
    def tearDownClass(cls):
        cls.mesh.stop()
        cls.udp.close()
        cls.tcp.close()

    def _down_then_back(self, recorder, name, probe_name):
        """A silent upstream: the query fails, probes come; once it answers, a probe brings it back."""
        r = query(MESHDNS, name, port=MESH_PORT, timeout=6.0)
        self.assertEqual(r.rcode(), 2, "SERVFAIL: the only upstream is silent")
        self.assertTrue(wait_for(lambda: len(recorder.probes(probe_name)) >= 2), recorder.seen)
        recorder.answer = True
        self.assertTrue(wait_for(lambda: query(MESHDNS, "again." + name, port=MESH_PORT).rcode() == 0),
                        "an answered probe puts the upstream back in rotation")
        return recorder.probes(probe_name)

    def test_probe_asks_the_health_check_domain_without_rd_over_udp(self):
        probes = self._down_then_back(self.udp, "a.example.", "health.example.org.")
        self.assertEqual({(rd, proto) for _, _, rd, proto in probes}, {(False, "udp")}, probes)
        with self.udp.lock:
            self.assertFalse([s for s in self.udp.seen if s[0] == "." and s[1] == 2], "no probe asks the root")

    def test_force_tcp_probes_the_root_with_rd_over_tcp(self):
        probes = self._down_then_back(self.tcp, "a.tcp.example.", ".")
        self.assertEqual({(rd, proto) for _, _, rd, proto in probes}, {(True, "tcp")}, probes)

    def test_metrics_carry_coredns_build_info(self):
        meshlab.scrape(f"{MESHDNS}:9153")  # a page Prometheus accepts
        with urllib.request.urlopen(f"http://{MESHDNS}:9153/metrics", timeout=5) as r:
            page = r.read().decode()
        line = [l for l in page.splitlines() if l.startswith("coredns_build_info{")]
        self.assertEqual(len(line), 1, page[:500])
        self.assertRegex(line[0], r'^coredns_build_info\{version="[^"]+",revision="[^"]*",goversion="[^"]*"\} 1$')


if __name__ == "__main__":
    unittest.main()
