"""Contract rule 9 (v2): queries pipelined on one TCP connection are worked on
concurrently and each is answered as soon as it is ready (RFC 7766 §6.2.1.1),
so a fast query is not held up behind a slow one; a connection works on at
most 16 queries at once, and one whose client has stopped sending is still
answered before it is closed. Every wait here is bounded."""

import socket
import struct
import textwrap
import time
import unittest

import dns.message
import dns.rcode

import meshlab
from fakes import FakeResolver

ADDR = "127.10.12.1"
PORT = 30053
FAST = "127.10.12.9"     # cluster1's resolver: answers at once
SLOW = "127.10.12.8"     # cluster2's resolver: answers each query 2 s late
SLOW_DELAY = 2.0
IDLE = 1.0               # limits.tcp_idle, seconds: shorter than the slow resolver takes
MAX_PIPELINED = 16       # queries one connection works on at once (server/tcp_connection.h)

CONFIG = textwrap.dedent(f"""\
    cluster: cluster1
    listen: ["{ADDR}:{PORT}"]
    clusters:
      cluster1:
        resolvers: ["{FAST}:5300"]
      cluster2:
        resolvers: ["{SLOW}:5300"]
    forward:
      timeout: 5s
      max_fails: 1000
    limits:
      tcp_idle: {int(IDLE * 1000)}ms
    """)


def framed(name, qid):
    q = dns.message.make_query(name, "A")
    q.id = qid
    wire = q.to_wire()
    return struct.pack("!H", len(wire)) + wire


def read_reply(sock):
    head = sock.recv(2, socket.MSG_WAITALL)
    if len(head) < 2:
        return None
    body = sock.recv(struct.unpack("!H", head)[0], socket.MSG_WAITALL)
    return dns.message.from_wire(body)


class TcpPipelineTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fast = FakeResolver(FAST, 5300, address="192.0.2.9")
        cls.slow = FakeResolver(SLOW, 5300, address="192.0.2.8", delay=SLOW_DELAY, overlap=True)
        try:
            cls.meshdns = meshlab.SoloMeshdns(CONFIG, ADDR, PORT, threads=1)
        except BaseException:
            cls.fast.close()
            cls.slow.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.meshdns.stop()
        cls.fast.close()
        cls.slow.close()

    def connect(self):
        s = socket.create_connection((ADDR, PORT), timeout=SLOW_DELAY * 3)
        self.addCleanup(s.close)
        return s

    def pipeline(self, sock, queries):
        """Sends `queries` ((name, id) pairs) in one write; returns each reply
        with the seconds it took to arrive, in the order they came."""
        started = time.monotonic()
        sock.sendall(b"".join(framed(name, qid) for name, qid in queries))
        replies = []
        for _ in queries:
            r = read_reply(sock)
            self.assertIsNotNone(r, "the connection ended before every query was answered")
            replies.append((r, time.monotonic() - started))
        return replies

    def test_fast_reply_overtakes_a_slow_one(self):
        s = self.connect()
        replies = self.pipeline(s, [("overtaken.cluster2.svc.cluster.local.", 1),
                                    ("overtaking.cluster1.svc.cluster.local.", 2)])
        (first, first_at), (second, second_at) = replies
        self.assertEqual(first.id, 2, "the fast query is answered first")
        self.assertLess(first_at, 0.1, "without waiting for the slow one")
        self.assertEqual(first.answer[0][0].address, "192.0.2.9")
        self.assertEqual(second.id, 1)
        self.assertEqual(second.rcode(), dns.rcode.NOERROR)
        self.assertEqual(second.answer[0][0].address, "192.0.2.8")
        self.assertGreater(second_at, SLOW_DELAY * 0.9)

    def test_sixteen_queries_at_once_and_no_more(self):
        # One below the bound: the query behind them is read and answered at once.
        below = [(f"below{i}.cluster2.svc.cluster.local.", 100 + i) for i in range(MAX_PIPELINED - 1)]
        replies = self.pipeline(self.connect(), below + [("below.cluster1.svc.cluster.local.", 99)])
        self.assertEqual(replies[0][0].id, 99)
        self.assertLess(replies[0][1], 0.1)
        # At the bound: it is read only once a slow one has been answered.
        at = [(f"at{i}.cluster2.svc.cluster.local.", 200 + i) for i in range(MAX_PIPELINED)]
        replies = self.pipeline(self.connect(), at + [("at.cluster1.svc.cluster.local.", 199)])
        arrived = {r.id: at for r, at in replies}
        self.assertEqual(set(arrived), {199} | {qid for _, qid in at}, "every query is answered")
        self.assertGreater(arrived[199], SLOW_DELAY * 0.9, "the 17th waits for room")
        self.assertTrue(all(r.rcode() == dns.rcode.NOERROR for r, _ in replies))

    def test_client_done_sending_is_answered_then_closed(self):
        s = self.connect()
        s.sendall(framed("halfclosed.cluster2.svc.cluster.local.", 7))
        s.shutdown(socket.SHUT_WR)
        r = read_reply(s)
        self.assertIsNotNone(r, "queries in flight are answered after the client stops sending")
        self.assertEqual((r.id, r.rcode()), (7, dns.rcode.NOERROR))
        self.assertEqual(s.recv(1), b"", "then the server closes")

    def test_idle_clock_runs_only_while_nothing_is_owed(self):
        s = self.connect()
        # A slow query, then the first byte of another that never comes whole.
        s.sendall(framed("owed.cluster2.svc.cluster.local.", 8) + b"\x00")
        r = read_reply(s)
        self.assertIsNotNone(r, "resolving is meshdns's time, not the client's idling")
        self.assertEqual(r.id, 8)
        s.settimeout(IDLE * 2.5)
        try:
            self.assertEqual(s.recv(1), b"", "once nothing is owed, the stalled client is cut off after tcp_idle")
        except ConnectionResetError:
            pass


if __name__ == "__main__":
    unittest.main()
