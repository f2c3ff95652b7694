"""Contract rule 10: malformed UDP packets and junk TCP streams get FORMERR or
NOTIMP when a header can be read and are dropped otherwise, and the daemon
keeps answering everyone else. Every loop here is bounded."""

import errno
import random
import socket
import struct
import time
import unittest

import dns.flags
import dns.message
import dns.rcode
import dns.tsigkeyring

import meshlab
from meshlab import MESH_PORT, meshdns_addr, query

TARGET = meshdns_addr(1)


def header(qid=0x1234, flags=0x0100, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


def qname(*labels):
    return b"".join(bytes([len(l)]) + l for l in labels) + b"\x00"


QUESTION = qname(b"foo", b"example") + struct.pack("!HH", 1, 1)
# An EDNS0 OPT offering 1232 bytes, and a TSIG (RFC 8945 4.2: class ANY, TTL 0)
# whose RDATA does not matter to a server that holds no key.
OPT = b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00"
TSIG = qname(b"key") + struct.pack("!HHIH", 250, 255, 0, 26) + bytes(26)

# (description, packet, expected rcode or None for "dropped")
CASES = [
    ("empty datagram", b"", None),
    ("five bytes", b"\x12\x34\x01\x00\x00", None),
    ("a response", header(flags=0x8180) + QUESTION, None),
    ("no question", header(qd=0), dns.rcode.FORMERR),
    ("two questions", header(qd=2) + QUESTION + QUESTION, dns.rcode.FORMERR),
    ("question cut short", header() + qname(b"foo", b"example")[:-3], dns.rcode.FORMERR),
    ("no type and class", header() + qname(b"foo"), dns.rcode.FORMERR),
    ("pointer loop in question", header() + b"\xc0\x0c" + struct.pack("!HH", 1, 1), dns.rcode.FORMERR),
    ("pointer forward", header() + b"\x03foo\xc0\x20" + struct.pack("!HH", 1, 1), dns.rcode.FORMERR),
    ("label past the end", header() + b"\x3ffoo", dns.rcode.FORMERR),
    ("trailing garbage", header() + QUESTION + b"\xde\xad", dns.rcode.FORMERR),
    ("additional count without records", header(ar=3) + QUESTION, dns.rcode.FORMERR),
    ("two OPT records", header(ar=2) + QUESTION + (b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00") * 2,
     dns.rcode.FORMERR),
    ("opcode STATUS", header(flags=0x1100) + QUESTION, dns.rcode.NOTIMP),
    ("opcode UPDATE", header(flags=0x2800) + QUESTION, dns.rcode.NOTIMP),
    ("opcode 15", header(flags=0x7900) + QUESTION, dns.rcode.NOTIMP),
    ("AXFR over UDP", header() + qname(b"cluster", b"local") + struct.pack("!HH", 252, 1), dns.rcode.NOTIMP),
    ("EDNS version 1", header(ar=1) + QUESTION + b"\x00\x00\x29\x04\xd0\x00\x01\x00\x00\x00\x00", dns.rcode.BADVERS),
    ("TSIG before the last record", header(ar=2) + QUESTION + TSIG + OPT, dns.rcode.FORMERR),
]


def udp_exchange(packet, timeout=0.5):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(packet, (TARGET, MESH_PORT))
        try:
            return s.recv(65535)
        except socket.timeout:
            return None


def tcp_exchange(packet, timeout=2.0):
    with socket.create_connection((TARGET, MESH_PORT), timeout=timeout) as s:
        s.sendall(struct.pack("!H", len(packet)) + packet)
        length = struct.unpack("!H", s.recv(2, socket.MSG_WAITALL))[0]
        return s.recv(length, socket.MSG_WAITALL)


def rcode_of(reply):
    """The full rcode: header bits plus, with an OPT, its extended bits."""
    rcode = reply[3] & 0xF
    arcount = struct.unpack("!H", reply[10:12])[0]
    if arcount and len(reply) >= 11 and reply[-11:-8] == b"\x00\x00\x29":
        rcode |= reply[-6] << 4
    return rcode


class BadInputTest(meshlab.MeshTestCase):
    def assertStillServing(self):
        for tcp in (False, True):
            self.assertIsNone(meshlab.check_matrix_cell(2, 1, tcp))

    def test_each_malformed_packet_gets_the_right_answer(self):
        for what, packet, expected in CASES:
            with self.subTest(what):
                reply = udp_exchange(packet)
                if expected is None:
                    self.assertIsNone(reply, f"{what}: expected no reply")
                    continue
                self.assertIsNotNone(reply, f"{what}: expected a reply")
                self.assertEqual(reply[:2], packet[:2], "reply carries the query's ID")
                self.assertTrue(reply[2] & 0x80, "reply has QR set")
                self.assertEqual(rcode_of(reply), expected, what)
        self.assertStillServing()

    def test_signed_query_for_a_forwarded_name_is_refused_not_answered_unsigned(self):
        """meshdns holds no TSIG keys and writes the queries it forwards itself,
        so the signature could never reach the resolver (RFC 8945 5.5)."""
        name = f"{meshlab.BROKER}.{meshlab.SERVICE}.{meshlab.NAMESPACE}.svc.cluster.local."
        q = dns.message.make_query(name, "A")
        q.use_tsig(dns.tsigkeyring.from_text({"mesh-key.": "bWVzaGRucyB0ZXN0IGtleQ=="}), keyname="mesh-key.")
        signed = q.to_wire()
        self.assertEqual(query(TARGET, name).rcode(), dns.rcode.NOERROR, "unsigned, the name resolves")
        for tcp in (False, True):
            with self.subTest(tcp=tcp):
                reply = tcp_exchange(signed) if tcp else udp_exchange(signed)
                self.assertIsNotNone(reply)
                self.assertEqual(reply[3] & 0xF, dns.rcode.REFUSED)
                self.assertEqual(struct.unpack("!HH", reply[6:10]), (0, 0), "no answer records")

    def test_notimp_for_another_opcode_does_not_echo_cd_or_ad(self):
        for opcode in (2, 15):
            with self.subTest(opcode=opcode):
                flags = opcode << 11 | 0x0100 | 0x0010 | 0x0020  # RD, CD, AD
                reply = udp_exchange(header(flags=flags) + QUESTION)
                self.assertEqual(reply[3] & 0xF, dns.rcode.NOTIMP)
                self.assertEqual((reply[2] >> 3) & 0xF, opcode, "the opcode is echoed")
                self.assertFalse(reply[3] & 0x10, "CD is defined for QUERY only")
                self.assertFalse(reply[3] & 0x20, "AD is not echoed")
        q = dns.message.make_query(meshlab.clusterset_name(1), "A")
        q.flags |= dns.flags.CD
        self.assertTrue(udp_exchange(q.to_wire())[3] & 0x10, "a QUERY keeps its CD")

    def test_formerr_to_an_edns_query_carries_an_opt(self):
        """RFC 6891 7: a client that sent an OPT hears EDNS back, even in FORMERR."""
        cases = [
            ("no question", header(qd=0, ar=1) + OPT),
            ("two questions", header(qd=2, ar=1) + QUESTION + QUESTION + OPT),
            ("trailing garbage", header(ar=1) + QUESTION + OPT + b"\xde\xad"),
            ("opcode STATUS", header(flags=0x1100, ar=1) + QUESTION + OPT),
        ]
        for what, packet in cases:
            with self.subTest(what):
                reply = udp_exchange(packet)
                self.assertIsNotNone(reply)
                self.assertIn(reply[3] & 0xF, (dns.rcode.FORMERR, dns.rcode.NOTIMP))
                self.assertEqual(struct.unpack("!H", reply[10:12])[0], 1, "ARCOUNT")
                self.assertEqual(reply[-11:-8], b"\x00\x00\x29", "an OPT owned by the root")
                self.assertEqual(struct.unpack("!H", reply[-8:-6])[0], 1232, "announcing meshdns's UDP size")
        plain = udp_exchange(header(qd=0))
        self.assertEqual(len(plain), 12, "no OPT to a query without one")

    def test_udp_flood_of_garbage_then_still_serving(self):
        rng = random.Random(1645)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for i in range(3000):
                kind = i % 3
                if kind == 0:
                    packet = bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 120)))
                elif kind == 1:  # a plausible header with random counts and a random tail
                    packet = header(qid=i, flags=rng.getrandbits(16) & 0x7FFF, qd=rng.randrange(4),
                                    an=rng.randrange(3), ns=rng.randrange(3), ar=rng.randrange(3))
                    packet += bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 60)))
                else:  # a real case, mutated in one byte
                    packet = bytearray(CASES[rng.randrange(len(CASES))][1] or b"\x00" * 12)
                    if packet:
                        packet[rng.randrange(len(packet))] = rng.getrandbits(8)
                    packet = bytes(packet)
                s.sendto(packet, (TARGET, MESH_PORT))
        time.sleep(0.5)
        self.assertStillServing()

    def test_junk_tcp_streams_then_still_serving(self):
        rng = random.Random(7766)
        streams = [
            b"\xff\xff" + b"x" * 100,               # promises 64 KiB, sends 100 bytes, hangs up
            b"\x00",                                # half a length
            b"\x00\x00",                            # a zero-length message
            b"\x00\x05hello",                       # too short for a header
            struct.pack("!H", len(CASES[6][1])) + CASES[6][1],  # FORMERR-worthy, then more junk
            bytes(rng.getrandbits(8) for _ in range(500)),
        ]
        for stream in streams:
            with socket.create_connection((TARGET, MESH_PORT), timeout=2) as s:
                try:
                    s.sendall(stream)
                    s.shutdown(socket.SHUT_WR)
                    while s.recv(4096):
                        pass
                except (socket.timeout, ConnectionResetError, BrokenPipeError):
                    pass
                except OSError as e:  # reset before our shutdown: the length alone was too much
                    if e.errno != errno.ENOTCONN:
                        raise
        # A readable-but-bad message over TCP gets its FORMERR, framed.
        with socket.create_connection((TARGET, MESH_PORT), timeout=2) as s:
            packet = CASES[3][1]
            s.sendall(struct.pack("!H", len(packet)) + packet)
            length = struct.unpack("!H", s.recv(2))[0]
            reply = s.recv(length)
            self.assertEqual(reply[3] & 0xF, dns.rcode.FORMERR)
        self.assertStillServing()

    def test_pipelined_tcp_queries_on_one_connection(self):
        names = [meshlab.clusterset_name(a) for a in (1, 2, 3)]
        with socket.create_connection((TARGET, MESH_PORT), timeout=3) as s:
            wire = b""
            for i, name in enumerate(names):
                q = dns.message.make_query(name, "A")
                q.id = 100 + i
                w = q.to_wire()
                wire += struct.pack("!H", len(w)) + w
            s.sendall(wire)
            answered = set()
            for _ in names:  # in any order: each as soon as it is ready (contract rule 9)
                length = struct.unpack("!H", s.recv(2, socket.MSG_WAITALL))[0]
                reply = dns.message.from_wire(s.recv(length, socket.MSG_WAITALL))
                self.assertEqual(reply.rcode(), dns.rcode.NOERROR)
                self.assertEqual(reply.question[0].name.to_text(), names[reply.id - 100], "each reply is its query's")
                answered.add(reply.id)
            self.assertEqual(answered, {100, 101, 102})

if __name__ == "__main__":
    unittest.main()
