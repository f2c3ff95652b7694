"""Stand-in resolvers on loopback whose behaviour a test controls: answer,
stay silent, answer late, answer NXDOMAIN, send garbage, or race forged
replies against the real one. Each records the questions it saw.

`python3 fakes.py serve ADDR PORT ADDRESS TTL` runs one FakeResolver in a
process of its own (FakeResolverProcess), printing each question it sees."""

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset


class FakeResolver:
    def __init__(self, addr, port=5300, *, address="192.0.2.1", ttl=30, mode="answer", delay=0.0, on_question=None,
                 overlap=False):
        self.addr, self.port = addr, port
        self.on_question = on_question  # called with each question's name, before any answer
        self.address = address      # what A questions are answered with
        self.ttl = ttl
        self.mode = mode            # answer | silent (a spy) | nxdomain | nodata | garbage | forge
        self.delay = delay          # seconds before answering
        self.overlap = overlap      # each late answer waits on its own, not behind the ones before it
        self.names = []
        self.questions = []         # (name, type, class) as asked, in dnspython's values
        self.seen = []              # (query ID, source port, DO bit, EDNS payload size)
        self.sock = None
        self._stop = threading.Event()
        self._thread = None
        self.start()

    # -- lifecycle -----------------------------------------------------------
    def start(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((self.addr, self.port))
        self.sock.settimeout(0.05)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def close(self):
        """Stops and releases the port: the kernel then answers ICMP port unreachable."""
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None
        self.sock.close()

    def count(self, name=None):
        return len([n for n in self.names if name is None or n.lower() == name.lower()])

    # -- behaviour -----------------------------------------------------------
    def _run(self):
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                q = dns.message.from_wire(data)
            except Exception:  # noqa: BLE001
                continue
            self.names.append(q.question[0].name.to_text())
            self.questions.append((self.names[-1], q.question[0].rdtype, q.question[0].rdclass))
            if self.on_question:
                self.on_question(self.names[-1])
            self.seen.append((q.id, peer[1], bool(q.ednsflags & dns.flags.DO), q.payload if q.edns >= 0 else None))
            if self.mode == "silent":
                continue
            if self.delay and self.overlap and self.mode == "answer":
                threading.Timer(self.delay, self._answer_late, args=(q, peer)).start()
                continue
            if self.delay:
                time.sleep(self.delay)
            if self.mode == "garbage":
                self.sock.sendto(bytes(random.getrandbits(8) for _ in range(40)), peer)
                wrong = self.reply(q)
                wrong.id = (q.id + 1) % 65536
                self.sock.sendto(wrong.to_wire(), peer)
                continue
            if self.mode == "forge":
                self._forge(q, peer)
                time.sleep(0.05)
            self.sock.sendto(self.reply(q).to_wire(), peer)

    def _answer_late(self, q, peer):
        try:
            self.sock.sendto(self.reply(q).to_wire(), peer)
        except OSError:
            pass  # closed meanwhile

    def reply(self, q, address=None):
        r = dns.message.make_response(q)
        name = q.question[0].name
        if self.mode == "nxdomain" or self.mode == "nodata":
            if self.mode == "nxdomain":
                r.set_rcode(dns.rcode.NXDOMAIN)
            r.authority.append(dns.rrset.from_text(
                "cluster.local.", 60, "IN", "SOA", "ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 3"))
        elif q.question[0].rdtype == dns.rdatatype.A:
            r.answer.append(dns.rrset.from_text(name, self.ttl, "IN", "A", address or self.address))
        return r

    def _forge(self, q, peer):
        """Three forgeries that must all be refused, each claiming 6.6.6.6."""
        forged = self.reply(q, address="6.6.6.6")
        wrong_id = self.reply(q, address="6.6.6.6")
        wrong_id.id = (q.id + 1) % 65536
        self.sock.sendto(wrong_id.to_wire(), peer)                      # wrong ID
        flipped = dns.message.make_query(q.question[0].name.to_text().swapcase(), "A")
        flipped.id = q.id
        wrong_question = self.reply(flipped, address="6.6.6.6")
        self.sock.sendto(wrong_question.to_wire(), peer)                # right ID, question in other case
        for other in ((self.addr, 0), ("127.66.0.1", 0)):               # right ID and question, wrong source
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.bind(other)
                s.sendto(forged.to_wire(), peer)



class FakeResolverProcess:
    """A FakeResolver answering A questions in a process of its own, so that
    freeze() (SIGSTOP) silences it with its socket still bound: the port is
    there and nothing answers, as with a blackholed NodePort, a firewall that
    drops or a node that hangs. thaw() (SIGCONT) brings it back, answering
    what queued up meanwhile first. `names` lists the questions it has seen."""

    def __init__(self, addr, port=5300, *, address="192.0.2.1", ttl=30):
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "serve", addr, str(port), address,
                                      str(ttl)], stdout=subprocess.PIPE, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError(f"stand-in resolver on {addr}:{port} did not start")
        self.names = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.names.append(line.strip())

    def freeze(self):
        """Returns once every thread of the process is stopped. kill() only wakes one
        thread to start the group stop; until it has run, the serving thread can
        still answer, and a query sent in that window would get through."""
        self.proc.send_signal(signal.SIGSTOP)
        tasks = f"/proc/{self.proc.pid}/task"
        for _ in range(500):  # 2 ms apart: 1 s at most
            if all(self._stopped(os.path.join(tasks, t)) for t in os.listdir(tasks)):
                return
            time.sleep(0.002)
        raise RuntimeError(f"stand-in resolver {self.proc.pid} did not stop")

    @staticmethod
    def _stopped(task):
        with open(os.path.join(task, "stat")) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "T"

    def thaw(self):
        self.proc.send_signal(signal.SIGCONT)

    def close(self):
        if self.proc.poll() is None:
            self.thaw()
            self.proc.terminate()
            self.proc.wait(timeout=5)
        self._reader.join(timeout=5)
        self.proc.stdout.close()


class LossyLink:
    """A UDP relay that drops and delays datagrams both ways, as tc netem
    would (this machine's kernel has no sch_netem): clients talk to `listen`,
    the relay talks to `target`. Seeded, so a run is repeatable."""

    def __init__(self, listen, target, *, loss=0.3, delay=0.2, seed=8767):
        import heapq
        import itertools

        self._heapq, self._seq = heapq, itertools.count()
        self.loss, self.delay = loss, delay
        self.rng = random.Random(seed)
        self.target = target
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind(listen)
        self.front.settimeout(0.01)
        self.back = {}            # client address -> socket towards the target
        self.queue = []           # (due, seq, socket, data, destination)
        self.cv = threading.Condition()
        self._stop = threading.Event()
        self.threads = [threading.Thread(target=self._pump, daemon=True),
                        threading.Thread(target=self._deliver, daemon=True)]
        for t in self.threads:
            t.start()

    def _schedule(self, sock, data, dest):
        if self.rng.random() < self.loss:
            return
        with self.cv:
            self._heapq.heappush(self.queue, (time.time() + self.delay, next(self._seq), sock, data, dest))
            self.cv.notify()

    def _pump(self):
        import select

        while not self._stop.is_set():
            socks = [self.front] + list(self.back.values())
            ready, _, _ = select.select(socks, [], [], 0.02)
            for s in ready:
                try:
                    data, peer = s.recvfrom(65535)
                except OSError:
                    continue
                if s is self.front:
                    back = self.back.get(peer)
                    if back is None:
                        back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                        back.bind((self.front.getsockname()[0], 0))
                        self.back[peer] = back
                        self._clients = getattr(self, "_clients", {})
                        self._clients[back] = peer
                    self._schedule(back, data, self.target)
                else:
                    self._schedule(self.front, data, self._clients[s])

    def _deliver(self):
        while not self._stop.is_set():
            with self.cv:
                while not self.queue and not self._stop.is_set():
                    self.cv.wait(0.05)
                if self._stop.is_set():
                    return
                due, _, sock, data, dest = self.queue[0]
                wait = due - time.time()
                if wait > 0:
                    self.cv.wait(wait)
                    continue
                self._heapq.heappop(self.queue)
            try:
                sock.sendto(data, dest)
            except OSError:
                pass

    def close(self):
        self._stop.set()
        with self.cv:
            self.cv.notify_all()
        for t in self.threads:
            t.join()
        self.front.close()
        for s in self.back.values():
            s.close()


class TruncatingResolver:
    """Answers every UDP query with an empty, truncated reply (TC set), and
    answers properly over TCP, several queries per connection. With
    drop_first_connection, the first TCP connection is closed after its first
    query arrives, unanswered: a connection that dies mid-query."""

    def __init__(self, addr, port=5300, *, address="192.0.2.7", drop_first_connection=False):
        import struct

        self._struct = struct
        self.address = address
        self.drop_first = drop_first_connection
        self.connections = 0
        self.tcp_queries = 0
        self.udp_queries = 0
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind((addr, port))
        self.udp.settimeout(0.05)
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind((addr, port))
        self.tcp.listen(16)
        self.tcp.settimeout(0.05)
        self._stop = threading.Event()
        self.threads = [threading.Thread(target=self._serve_udp, daemon=True),
                        threading.Thread(target=self._accept, daemon=True)]
        for t in self.threads:
            t.start()

    def _serve_udp(self):
        while not self._stop.is_set():
            try:
                data, peer = self.udp.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            self.udp_queries += 1
            r = dns.message.make_response(dns.message.from_wire(data))
            r.flags |= dns.flags.TC
            self.udp.sendto(r.to_wire(), peer)

    def _accept(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.tcp.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.connections += 1
            drop = self.drop_first and self.connections == 1
            threading.Thread(target=self._serve_tcp, args=(conn, drop), daemon=True).start()

    def _read_exact(self, conn, n):
        data = b""
        while len(data) < n and not self._stop.is_set():
            try:
                chunk = conn.recv(n - len(data))
            except socket.timeout:
                continue
            if not chunk:
                return None
            data += chunk
        return data if len(data) == n else None

    def _serve_tcp(self, conn, drop):
        conn.settimeout(0.1)
        with conn:
            while not self._stop.is_set():
                head = self._read_exact(conn, 2)
                if head is None:
                    return
                body = self._read_exact(conn, self._struct.unpack("!H", head)[0])
                if body is None:
                    return
                self.tcp_queries += 1
                if drop:
                    return  # dies mid-query
                q = dns.message.from_wire(body)
                r = dns.message.make_response(q)
                r.answer.append(dns.rrset.from_text(q.question[0].name, 30, "IN", "A", self.address))
                wire = r.to_wire()
                conn.sendall(self._struct.pack("!H", len(wire)) + wire)

    def close(self):
        self._stop.set()
        for t in self.threads:
            t.join()
        self.udp.close()
        self.tcp.close()


if __name__ == "__main__" and len(sys.argv) == 6 and sys.argv[1] == "serve":
    _addr, _port, _address, _ttl = sys.argv[2:]
    FakeResolver(_addr, int(_port), address=_address, ttl=int(_ttl), on_question=lambda name: print(name, flush=True))
    print("ready", flush=True)
    threading.Event().wait()  # until SIGTERM
