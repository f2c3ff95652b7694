"""A pod's life as Kubernetes sees it, with real meshdns processes on
127.33.0.0/16: /ready waits for the local cluster's resolver and fails again
while it is silent; SIGTERM with a lameduck fails /health at once, answers on
for the lameduck, then exits 0; and a rolling restart on the same port (new
instance starting, old one in lameduck, then gone) loses no query."""

import os
import signal
import socket
import subprocess
import tempfile
import textwrap
import threading
import time
import unittest
import urllib.error
import urllib.request

import dns.exception
import dns.message

import meshlab
from fakes import FakeResolver
from meshlab import query

LISTEN = "127.33.0.1"
PORT = 30053
LOCAL = "127.33.0.2"     # the local cluster's kube-dns stand-in
LOCAL_B = "127.33.0.3"   # the one the new instance of a rolling restart asks
SILENT = "127.33.0.5"    # cluster c2's, which never answers


def get(path, port, host=LISTEN):
    try:
        with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=2) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


class Instance:
    """One meshdns (on LISTEN:PORT unless told) whose local cluster is `local`."""

    def __init__(self, workdir, name, local, *, lameduck="0s", http_host=LISTEN, listen=f"{LISTEN}:{PORT}"):
        self.name, self.http_host = name, http_host
        path = os.path.join(workdir, f"{name}.yaml")
        with open(path, "w") as f:
            f.write(textwrap.dedent(f"""\
                cluster: c1
                listen: ['{listen}']
                clusters:
                  c1: {{resolvers: ['{local}:5300']}}
                  c2: {{resolvers: ['{SILENT}:5300']}}
                forward: {{timeout: 1s, health_check: 200ms}}
                cache: {{max_ttl: 1s, min_ttl: 0s}}
                lameduck: {lameduck}
                metrics: '{http_host}:9153'
                health: '{http_host}:8080'
                ready: '{http_host}:8181'
                """))
        self.log_path = os.path.join(workdir, f"{name}.log")
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen([meshlab.MESHDNS, "serve", "--config", path, "--threads", "2"],
                                         stdout=log, stderr=subprocess.STDOUT)
        if not wait_for(lambda: self.get("/health", 8080)[0] == 200, 10):
            self.stop()
            raise RuntimeError(f"{name} did not start: {self.log()}")

    def get(self, path, port):
        try:
            return get(path, port, self.http_host)
        except OSError as e:
            return 0, str(e)

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        try:
            if self.proc.poll() is None:
                meshlab.scrape(f"{self.http_host}:9153")
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()


class ReadinessTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="meshdns-lifecycle-")
        self.local = None

    def tearDown(self):
        if self.local:
            self.local.close()

    def test_ready_only_while_a_local_resolver_answers(self):
        meshdns = Instance(self.dir, "ready", LOCAL)  # nothing listens on LOCAL yet
        try:
            self.assertEqual(meshdns.get("/health", 8080)[0], 200, "alive all along")
            time.sleep(1.5)  # a few probe rounds, every one unanswered
            status, body = meshdns.get("/ready", 8181)
            self.assertEqual(status, 503, "the local resolver has never answered")
            self.assertIn(f"{LOCAL}:5300", body)

            self.local = FakeResolver(LOCAL)
            self.assertTrue(wait_for(lambda: meshdns.get("/ready", 8181)[0] == 200, 5), meshdns.get("/ready", 8181))

            self.local.mode = "silent"  # bound but mute: no port-unreachable to notice, no query to fail
            self.assertTrue(wait_for(lambda: meshdns.get("/ready", 8181)[0] == 503, 8), "silent resolver, still ready")
            self.assertIn("last answered", meshdns.get("/ready", 8181)[1])

            self.local.mode = "answer"
            self.assertTrue(wait_for(lambda: meshdns.get("/ready", 8181)[0] == 200, 5))
            meshlab.scrape(f"{LISTEN}:9153")
        finally:
            meshdns.stop()


class LameduckTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="meshdns-lameduck-")
        self.local = FakeResolver(LOCAL)
        self.local_b = None

    def tearDown(self):
        self.local.close()
        if self.local_b:
            self.local_b.close()

    def test_sigterm_fails_health_at_once_answers_for_the_lameduck_then_exits_0(self):
        meshdns = Instance(self.dir, "lameduck", LOCAL, lameduck="2s")
        try:
            self.assertTrue(wait_for(lambda: meshdns.get("/ready", 8181)[0] == 200, 5))
            stopped_at = time.monotonic()
            meshdns.proc.send_signal(signal.SIGTERM)
            self.assertTrue(wait_for(lambda: meshdns.get("/health", 8080)[0] == 503, 0.5), "/health still passes")
            self.assertEqual(meshdns.get("/ready", 8181)[0], 503)
            answered = []
            for i in range(100):  # bounded: the lameduck is 2 s, each round at least 50 ms
                if meshdns.proc.poll() is not None:
                    break
                try:
                    r = query(LISTEN, f"ld{i}.c1.svc.cluster.local", port=PORT, timeout=1)
                    answered.append((time.monotonic() - stopped_at, r.rcode()))
                except dns.exception.Timeout:
                    if meshdns.proc.poll() is None:
                        self.fail(f"query {i} unanswered during the lameduck")
                time.sleep(0.05)
            self.assertEqual(meshdns.proc.wait(timeout=10), 0, meshdns.log())
            lasted = time.monotonic() - stopped_at
            self.assertTrue(all(rcode == 0 for _, rcode in answered))
            self.assertGreater(answered[-1][0], 1.7, "answers went on for the whole lameduck")
            self.assertGreaterEqual(lasted, 2.0)
            self.assertLess(lasted, 5.0)
            self.assertIn("lameduck", meshdns.log())
        finally:
            meshdns.stop()

    def test_a_second_signal_stops_at_once(self):
        meshdns = Instance(self.dir, "twice", LOCAL, lameduck="30s")
        try:
            meshdns.proc.send_signal(signal.SIGTERM)
            self.assertTrue(wait_for(lambda: meshdns.get("/health", 8080)[0] == 503, 0.5))
            meshdns.proc.send_signal(signal.SIGINT)
            self.assertEqual(meshdns.proc.wait(timeout=5), 0, meshdns.log())
        finally:
            meshdns.stop()

    def test_rolling_restart_on_the_same_port_loses_no_query(self):
        self.rolling_restart(LISTEN, PORT)

    def test_rolling_restart_on_a_wildcard_address(self):
        # A wildcard listener, as in a pod, is handed over too. (On loopback
        # the replies' source is 127.0.0.1 either way, so this does not show
        # that IP_PKTINFO lets the route pick it; that needs a namespace with
        # another interface.)
        self.rolling_restart("0.0.0.0", 30153, ask="127.0.0.1")

    def rolling_restart(self, listen, port, ask=None):
        """The old instance in lameduck, the new one bound beside it
        (SO_REUSEPORT), then the old one finishing what it has in flight and
        gone: clients asking all along, each query once from a fresh source
        port, never go unanswered."""
        ask_at = ask or listen
        self.local_b = FakeResolver(LOCAL_B, address="192.0.2.2")
        silent = FakeResolver(SILENT, mode="silent")
        self.addCleanup(silent.close)
        old = Instance(self.dir, "old", LOCAL, lameduck="1s", listen=f"{listen}:{port}")
        new = None
        failures, answers, answered_at = [], {"192.0.2.1": 0, "192.0.2.2": 0}, []
        stop = threading.Event()

        def ask(lane):
            # Bounded: 30 s at most, and the test sets `stop` once the old
            # instance is gone and the new one has answered a while.
            deadline = time.monotonic() + 30
            for i in range(100000):
                if stop.is_set() or time.monotonic() > deadline:
                    return
                name = f"r{i}.{lane}.c1.svc.cluster.local"
                try:
                    r = query(ask_at, name, port=port, timeout=2)
                    if r.rcode() != 0 or not r.answer:
                        failures.append((name, f"rcode {r.rcode()}"))
                    else:
                        answers[r.answer[0][0].address] += 1
                        answered_at.append((time.monotonic(), r.answer[0][0].address))
                except dns.exception.Timeout:
                    failures.append((name, "no answer"))
                time.sleep(0.002)

        clients = [threading.Thread(target=ask, args=(f"l{k}",)) for k in range(3)]
        try:
            for client in clients:
                client.start()
            time.sleep(0.5)
            new = Instance(self.dir, "new", LOCAL_B, http_host="127.33.0.4", listen=f"{listen}:{port}")
            time.sleep(0.5)
            stopped_at = time.monotonic()
            old.proc.send_signal(signal.SIGTERM)
            time.sleep(0.7)
            # Questions for the silent cluster from two dozen source ports:
            # some reach the old instance, which then waits for them after its
            # lameduck, as it would for any slow resolver.
            for i in range(24):
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    s.sendto(dns.message.make_query(f"slow{i}.c2.svc.cluster.local", "A").to_wire(), (ask_at, port))
            self.assertEqual(old.proc.wait(timeout=10), 0, old.log())
            gone_at = time.monotonic()
            lingered = gone_at - stopped_at
            time.sleep(0.5)
        finally:
            stop.set()
            for client in clients:
                client.join(timeout=10)
            old.stop()
            if new:
                new.stop()
        self.assertGreater(lingered, 1.5, "the old instance had queries in flight after its lameduck")
        self.assertEqual(failures, [], f"old: {old.log()}\nnew: {new.log() if new else ''}")
        self.assertTrue(any(stopped_at < t and a == "192.0.2.1" for t, a in answered_at),
                        "the old instance answered in its lameduck")
        self.assertTrue(any(t > gone_at and a == "192.0.2.2" for t, a in answered_at),
                        "the clients were still asking, and the new instance answering, once the old one was gone")

if __name__ == "__main__":
    unittest.main()
