"""Every Corefile of the real corpus (tests/config/corefiles/real/) that
`meshdns check` accepts, per its EXPECTED line (`loads`, or `loads-ignoring`
with --ignore-unsupported), is started with `meshdns serve --corefile` and
must answer a query. CorpusServeTest re-runs this file under `unshare --net`,
so port 53, the `bind` addresses the files name (NodeLocal DNSCache's
169.254.20.10 and 10.96.0.10, kubespray's 169.254.25.10 and fd00::a) and the
health and metrics ports are the namespace's own and nothing leaves it.

Each file is served as written except its `forward` targets, which are
swapped for one stand-in resolver on the namespace's loopback (UDP and TCP,
as force_tcp needs). The query goes to the `.` block if there is one (else
the first block), on its port and its first bound address; a block that
forwards `.` must answer with the stand-in's address, any other block must
just answer.
"""

import os
import re
import signal
import socket
import socketserver
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rrset

MESHDNS = os.environ.get("MESHDNS", os.path.join(os.path.dirname(__file__), "..", "..", "build", "meshdns"))
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CORPUS = os.path.join(REPO, "tests", "config", "corefiles", "real")
IN_NETNS = "MESHDNS_CORPUS_IN_NETNS"
STANDIN = ("127.0.0.53", 5399)
STANDIN_ANSWER = "192.0.2.1"
# Addresses the corpus binds, held by an interface of the namespace's own.
BIND_V4 = ("169.254.20.10", "10.96.0.10", "169.254.25.10")
BIND_V6 = ("fd00::a",)


def loadable():
    """(file, extra flags) for each EXPECTED line whose meshdns column loads."""
    out = []
    with open(os.path.join(CORPUS, "EXPECTED")) as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            name, _coredns, verdict = line.split(None, 2)
            verdict = verdict.strip()
            if verdict == "loads":
                out.append((name, []))
            elif verdict.startswith("loads-ignoring "):
                out.append((name, ["--ignore-unsupported"]))
    return out


def standin_reply(wire):
    q = dns.message.from_wire(wire)
    r = dns.message.make_response(q)
    if q.question and q.question[0].rdtype == dns.rdatatype.A:
        r.answer.append(dns.rrset.from_text(q.question[0].name, 30, "IN", "A", STANDIN_ANSWER))
    return r.to_wire()


class StandinUdp(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        try:
            sock.sendto(standin_reply(data), self.client_address)
        except Exception:  # noqa: BLE001 - a probe it cannot parse gets no answer
            pass


class StandinTcp(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.settimeout(5)
        try:
            while True:
                head = self.request.recv(2, socket.MSG_WAITALL)
                if len(head) < 2:
                    return
                (n,) = struct.unpack("!H", head)
                reply = standin_reply(self.request.recv(n, socket.MSG_WAITALL))
                self.request.sendall(struct.pack("!H", len(reply)) + reply)
        except (OSError, Exception):  # noqa: BLE001 - connection closed or garbage
            return


class ThreadedUdp(socketserver.ThreadingMixIn, socketserver.UDPServer):
    daemon_threads = True


class ThreadedTcp(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def rewrite_forwards(text):
    """Each `forward FROM TO...` line forwards to the stand-in instead; options stay."""
    out = []
    for line in text.splitlines(keepends=True):
        m = re.match(r"^(\s*forward\s+\S+)\s+([^{#\n]*?)(\s*(\{.*|#.*)?)$", line.rstrip("\n"))
        if m and m.group(2).strip():
            line = f"{m.group(1)} {STANDIN[0]}:{STANDIN[1]}{m.group(3)}\n"
        out.append(line)
    return "".join(out)


def blocks(text):
    """(keys, body lines at any depth) of each top-level server block, comments stripped."""
    out, depth, keys, body = [], 0, None, []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if depth == 0 and line.endswith("{"):
            keys, body = line[:-1].split(), []
        elif depth >= 1 and line != "}":
            body.append(line)
        depth += line.count("{") - line.count("}")
        if depth == 0 and keys is not None:
            out.append((keys, body))
            keys = None
    return out


def target(text):
    """(address, port, zone, forwards) the probe goes to."""
    found = blocks(text)
    chosen = next((b for b in found if any(k.split(":")[0].rstrip(".") in ("", ".") or k.startswith(".:") for k in b[0])),
                  found[0])
    keys, body = chosen
    key = re.sub(r"^dns://", "", keys[0])
    zone, _, port = key.rpartition(":") if re.search(r":\d+$", key) else (key, "", "53")
    zone = zone.rstrip(".")
    address = "127.0.0.1"
    excluded = set()
    for i, line in enumerate(body):
        words = line.split()
        if words[0] == "except" and i > 0:
            excluded.update(words[1:])
    for line in body:
        words = line.split()
        if words[0] == "bind":
            candidates = []
            for w in words[1:]:
                if w == "{":
                    break
                candidates += ["127.0.0.1", "::1"] if w == "lo" else [w]
            candidates = [c for c in candidates if c not in excluded]
            if candidates:
                address = candidates[0]
            break
    forwards = any(re.match(r"^forward\s+\.\s", line) for line in body)
    return address, int(port), zone, forwards


class CorpusServeTest(unittest.TestCase):
    def test_in_a_network_namespace(self):
        cmd = ["unshare", "--net"] if os.geteuid() == 0 else ["unshare", "-rn"]
        r = subprocess.run(cmd + [sys.executable, "-m", "unittest", "-v", "corefile_corpus_test.ServeEachTest"],
                           cwd=os.path.dirname(os.path.abspath(__file__)), env={**os.environ, IN_NETNS: "1"},
                           capture_output=True, text=True, timeout=150)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stderr, r"Ran 1 test")
        self.assertNotIn("skipped", r.stderr)


@unittest.skipUnless(os.environ.get(IN_NETNS), "run by CorpusServeTest inside its own network namespace")
class ServeEachTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="meshdns-corpus-")
        for cmd in (["ip", "link", "set", "lo", "up"],
                    # a veth end holds the bind addresses (the dummy driver may be missing)
                    ["ip", "link", "add", "corpus0", "type", "veth", "peer", "name", "corpus1"],
                    ["ip", "link", "set", "corpus1", "up"],
                    ["ip", "link", "set", "corpus0", "up"],
                    *[["ip", "addr", "add", f"{a}/32", "dev", "corpus0"] for a in BIND_V4],
                    *[["ip", "-6", "addr", "add", f"{a}/128", "dev", "corpus0", "nodad"] for a in BIND_V6],
                    ["ip", "addr", "add", f"{STANDIN[0]}/32", "dev", "lo"]):
            subprocess.run(cmd, check=True)
        cls.udp = ThreadedUdp(STANDIN, StandinUdp)
        cls.tcp = ThreadedTcp(STANDIN, StandinTcp)
        for server in (cls.udp, cls.tcp):
            threading.Thread(target=server.serve_forever, daemon=True).start()

    @classmethod
    def tearDownClass(cls):
        for server in (cls.udp, cls.tcp):
            server.shutdown()
            server.server_close()

    def serve_and_ask(self, name, flags):
        with open(os.path.join(CORPUS, name)) as f:
            text = rewrite_forwards(f.read())
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        address, port, zone, forwards = target(text)
        qname = "corpus-probe." + (zone + "." if zone else "")
        log_path = path + ".log"
        with open(log_path, "w") as log:
            proc = subprocess.Popen([MESHDNS, "serve", "--corefile", path, "--threads", "1", *flags],
                                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        reply, deadline = None, time.time() + 5
        try:
            while reply is None and time.time() < deadline and proc.poll() is None:
                try:
                    reply = dns.query.udp(dns.message.make_query(qname, "A"), address, port=port, timeout=0.3)
                except (dns.exception.Timeout, OSError):
                    time.sleep(0.05)
        finally:
            # The second signal ends a `health { lameduck }` at once.
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                time.sleep(0.1)
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = proc.wait()
        with open(log_path) as f:
            log = f.read()
        where = f"{name}: {qname} A to {address}:{port}"
        if reply is None:
            return f"{where}: no answer within 5 s (exit {code})\n{log}"
        if forwards:
            got = sorted(rd.to_text() for rrset in reply.answer for rd in rrset)
            if reply.rcode() != dns.rcode.NOERROR or got != [STANDIN_ANSWER]:
                return f"{where}: {dns.rcode.to_text(reply.rcode())} {got}, want the stand-in's {STANDIN_ANSWER}\n{log}"
        if code != 0:
            return f"{where}: exit {code} after SIGTERM\n{log}"
        return None

    def test_each_loadable_file_answers(self):
        files = loadable()
        self.assertGreaterEqual(len(files), 30, "EXPECTED lists fewer loadable files than it did")
        failures = [f for f in (self.serve_and_ask(name, flags) for name, flags in files) if f]
        self.assertEqual(failures, [], "\n\n".join(failures))


if __name__ == "__main__":
    unittest.main()
