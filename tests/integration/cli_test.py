"""The command line (contract section 2): check's file:line:col errors and
exit status, version, usage errors, graceful SIGTERM, SIGHUP and on-disk
reloads that keep the old configuration when the new one is bad, and the
embedded default."""

import os
import signal
import socket
import subprocess
import tempfile
import textwrap
import threading
import time
import unittest

import dns.message
import dns.rcode

import meshlab
from meshlab import MESHDNS, query
from fakes import FakeResolver

GOOD = textwrap.dedent("""\
    cluster: cluster1
    listen: ["127.10.7.1:30053"]
    clusters:
      cluster1:
        resolvers: ["127.10.7.9:5300"]
      cluster2:
        resolvers: ["127.10.7.8:5300", "127.10.7.7"]
    forward:
      timeout: 300ms
    """)

# (name, config text, expected "line:col" of the first error, words in the message)
BAD = [
    ("unknown top-level key", GOOD + "colour: blue\n", "10:1", "unknown key 'colour'"),
    ("unknown nested key", GOOD.replace("timeout: 300ms", "timeout: 300ms\n  retries: 3"), "10:3",
     "unknown key 'retries'"),
    ("cluster not in clusters", GOOD.replace("cluster: cluster1", "cluster: cluster9"), "1:10",
     "not listed under clusters"),
    ("cluster name not a label", GOOD.replace("  cluster2:", "  bad_name!:"), "6:3", "not a DNS label"),
    ("empty resolver list", GOOD.replace('["127.10.7.9:5300"]', "[]"), "5:16", "empty"),
    ("bad regex", GOOD + "templates:\n  - match: '(unclosed'\n    answer: '{{ .Name }} 60 IN A 1.2.3.4'\n",
     "11:12", "bad regex"),
    ("template group missing", GOOD + "templates:\n  - match: '^(?P<host>[a-z]+)\\.clusterset\\.local\\.$'\n"
     "    answer: '{{ .Name }} 60 IN CNAME {{ .Group.cluster }}.example.'\n", "12:13", "does not define"),
    ("bad duration", GOOD.replace("300ms", "three seconds"), "9:12", "not a duration"),
    ("bad address", GOOD.replace('"127.10.7.7"', '"127.10.7.300"'), "7:36", "not an IP address"),
    ("bad port", GOOD.replace('127.10.7.8:5300', '127.10.7.8:99999'), "7:17", "bad port"),
    ("YAML syntax", GOOD + "cache: [unclosed\n", "", ""),
]


def run(*args, timeout=10):
    return subprocess.run([MESHDNS, *args], capture_output=True, text=True, timeout=timeout)


class CheckTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="meshdns-cli-")

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_good_config_passes(self):
        r = run("check", "--config", self.write("good.yaml", GOOD))
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_each_bad_config_names_file_line_column(self):
        for name, text, position, words in BAD:
            with self.subTest(name):
                path = self.write(name.replace(" ", "_") + ".yaml", text)
                r = run("check", "--config", path)
                self.assertEqual(r.returncode, 2, r.stderr)
                first = r.stderr.splitlines()[0]
                self.assertTrue(first.startswith(f"{path}:{position}"), first)
                self.assertIn(words, first)

    def test_every_problem_is_reported(self):
        text = GOOD.replace("300ms", "soon").replace("cluster: cluster1", "cluster: cluster9") + "colour: blue\n"
        r = run("check", "--config", self.write("many.yaml", text))
        self.assertEqual(r.returncode, 2)
        self.assertEqual(len(r.stderr.splitlines()), 3, r.stderr)

    def test_missing_file(self):
        r = run("check", "--config", os.path.join(self.dir, "nope.yaml"))
        self.assertEqual(r.returncode, 2)

    def test_serve_refuses_a_bad_config(self):
        r = run("serve", "--config", self.write("bad.yaml", BAD[0][1]))
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown key 'colour'", r.stderr)

    def test_check_corefile_reports_syntax_and_unsupported_directives(self):
        good = self.write("Corefile", ".:53 {\n  errors\n  forward . 127.10.7.9:5300\n  cache 30\n}\n")
        r = run("check", "--corefile", good)
        self.assertEqual(r.returncode, 0, r.stderr)
        broken = self.write("Broken", ".:53 {\n  forward . 127.10.7.9\n")
        r = run("check", "--corefile", broken)
        self.assertEqual(r.returncode, 2)
        self.assertTrue(r.stderr.startswith(f"{broken}:1:6: this {{ is never closed"), r.stderr)
        k8s = self.write("K8s", ".:53 {\n  kubernetes cluster.local\n  forward . 127.10.7.9\n}\n")
        r = run("check", "--corefile", k8s)
        self.assertEqual(r.returncode, 2)
        self.assertIn(f"{k8s}:2:3: directive kubernetes is not supported", r.stderr)
        self.assertIn("kube-dns", r.stderr)
        r = run("check", "--corefile", k8s, "--ignore-unsupported")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("warning: directive kubernetes", r.stderr)
        options = self.write("Options", ".:53 {\n  forward . 127.10.7.9 {\n    policy fastest\n  }\n  cache 30 {\n"
                                        "    prefetch 2 1m 95%\n  }\n}\n")
        r = run("check", "--corefile", options)
        self.assertEqual(r.returncode, 2)
        self.assertIn(f"{options}:3:12: policy: 'fastest' is not random, round_robin or sequential", r.stderr)
        self.assertIn(f"{options}:6:19: prefetch percentage", r.stderr, "every mistake, not just the first")

    def test_import_prints_yaml_that_check_accepts(self):
        corefile = self.write("Corefile", textwrap.dedent("""\
            .:53 {
                kubernetes cluster.local
                forward . 127.10.7.53
            }
            cluster2.svc.cluster.local:53 {
                rewrite stop {
                    name substring cluster2.svc.cluster.local svc.cluster.local
                    answer auto
                }
                forward . 127.10.7.8:30053
            }
            """))
        r = run("import", corefile)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"{corefile}:2:5: warning: kubernetes", r.stderr)
        self.assertRegex(r.stdout, r"(?m)^cluster: '?cluster1'?$")
        checked = run("check", "--config", self.write("imported.yaml", r.stdout))
        self.assertEqual(checked.returncode, 0, checked.stderr + r.stdout)
        r = run("import", corefile, "--cluster", "cluster2")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"(?m)^cluster: '?cluster2'?$")
        self.assertEqual(run("import").returncode, 2)
        self.assertEqual(run("import", os.path.join(self.dir, "missing")).returncode, 2)

    def test_corefile_prints_a_stanza_check_accepts(self):
        config = self.write("good.yaml", GOOD)
        r = run("corefile", "--config", config)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("forward . 127.10.7.1:30053", r.stdout)
        self.assertIn("cluster2.svc.cluster.local:53", r.stdout)
        checked = run("check", "--corefile", self.write("stanza", r.stdout))
        self.assertEqual(checked.returncode, 0, checked.stderr + r.stdout)
        r = run("corefile", "--config", config, "--to", "10.96.100.53")
        self.assertIn("forward . 10.96.100.53:53", r.stdout)
        self.assertEqual(run("corefile").returncode, 2)

    def test_usage_errors_exit_2(self):
        for args in ([], ["frobnicate"], ["serve", "--threads", "zero"], ["check"], ["serve", "--bogus", "1"]):
            with self.subTest(args):
                self.assertEqual(run(*args).returncode, 2)

    def test_version_names_the_libraries(self):
        r = run("version")
        self.assertEqual(r.returncode, 0)
        for lib in ("meshdns", "ldns", "boost", "re2", "yaml-cpp", "abseil"):
            self.assertIn(lib, r.stdout)


class LifecycleTest(unittest.TestCase):
    ADDR = "127.10.7.1"

    def start(self, config_text):
        self.dir = tempfile.mkdtemp(prefix="meshdns-life-")
        self.path = os.path.join(self.dir, "mesh.yaml")
        with open(self.path, "w") as f:
            f.write(config_text)
        self.log = open(os.path.join(self.dir, "log"), "w+")
        self.proc = subprocess.Popen([MESHDNS, "serve", "--config", self.path, "--threads", "2"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.addCleanup(self.stop)
        self.assertTrue(meshlab.wait_for_udp_dns(self.ADDR, 30053), self.read_log())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()

    def read_log(self):
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()

    def template_ttl(self):
        r = query(self.ADDR, "h.cluster2.s.n.svc.clusterset.local.", "CNAME", timeout=2)
        return r.answer[0].ttl

    def config_with_ttl(self, ttl):
        return GOOD + ("templates:\n  - match: '^(?P<host>[a-z0-9-]+)\\.(?P<cluster>[a-z0-9-]+)\\.(?P<svc>[a-z0-9-]+)"
                       "\\.(?P<ns>[a-z0-9-]+)\\.svc\\.clusterset\\.local\\.$'\n"
                       f"    answer: '{{{{ .Name }}}} {ttl} IN CNAME {{{{ .Group.host }}}}.example.'\n"
                       "cache:\n  max_ttl: 60s\n  min_ttl: 1s\n")

    def test_sigterm_exits_zero(self):
        self.start(GOOD)
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(timeout=10), 0)

    def test_sigterm_answers_queries_in_flight(self):
        slow = FakeResolver("127.10.7.8", 5300, delay=0.8)
        self.addCleanup(slow.close)
        self.start(GOOD.replace("300ms", "2s"))
        result = {}

        def ask():
            try:
                result["reply"] = query(self.ADDR, "x.cluster2.svc.cluster.local.", timeout=5)
            except Exception as e:  # noqa: BLE001
                result["error"] = e

        asker = threading.Thread(target=ask)
        asker.start()
        # Signal only once the query waits on the slow resolver (a sanitizer
        # build may take longer than any fixed sleep to forward it).
        deadline = time.time() + 5
        while slow.count("x.svc.cluster.local.") == 0 and time.time() < deadline:
            time.sleep(0.02)
        self.assertEqual(slow.count("x.svc.cluster.local."), 1, "the query reached the resolver")
        self.proc.send_signal(signal.SIGTERM)
        asker.join()
        self.assertEqual(self.proc.wait(timeout=10), 0)
        self.assertIn("reply", result, result.get("error"))
        self.assertEqual(result["reply"].answer[0][0].address, "192.0.2.1")

    def test_sighup_reload_and_bad_reload_keeps_old_config(self):
        self.start(self.config_with_ttl(7))
        self.assertEqual(self.template_ttl(), 7)
        with open(self.path, "w") as f:
            f.write(self.config_with_ttl(9).replace("clusters:", "clusters:\n  nonsense: 1\n  x:"))
        self.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        self.assertIsNone(self.proc.poll(), "a bad reload must not stop the daemon")
        self.assertEqual(self.template_ttl(), 7, "the old configuration keeps serving")
        self.assertIn("reload rejected", self.read_log())
        self.assertRegex(self.read_log(), r"mesh\.yaml:\d+:\d+:")
        with open(self.path, "w") as f:
            f.write(self.config_with_ttl(11))
        self.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 3
        while time.time() < deadline and self.template_ttl() != 11:
            time.sleep(0.1)
        self.assertEqual(self.template_ttl(), 11)

    def test_reloads_lose_no_query_and_keep_the_cache(self):
        resolver = FakeResolver("127.10.7.9", 5300)  # cluster1's
        self.addCleanup(resolver.close)
        # The path is a symlink into a data directory, swapped whole, as the kubelet updates a ConfigMap.
        self.dir = tempfile.mkdtemp(prefix="meshdns-life-")
        self.path = os.path.join(self.dir, "mesh.yaml")
        generation = [0]

        def publish(text):
            generation[0] += 1
            data = os.path.join(self.dir, f"..data{generation[0]}")
            os.mkdir(data)
            with open(os.path.join(data, "mesh.yaml"), "w") as f:
                f.write(text)
            link = self.path + ".tmp"
            os.symlink(os.path.join(data, "mesh.yaml"), link)
            os.replace(link, self.path)

        publish(self.config_with_ttl(7))
        self.log = open(os.path.join(self.dir, "log"), "w+")
        self.proc = subprocess.Popen([MESHDNS, "serve", "--config", self.path, "--threads", "2"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.addCleanup(self.stop)
        self.assertTrue(meshlab.wait_for_udp_dns(self.ADDR, 30053), self.read_log())
        self.assertEqual(query(self.ADDR, "keep.cluster1.svc.cluster.local.").rcode(), dns.rcode.NOERROR)
        self.assertEqual(resolver.count("keep.svc.cluster.local."), 1)

        failures, answered = [], [0]
        stop = threading.Event()

        def loop():  # bounded: ends when told, or after 20 s whatever happens
            deadline = time.time() + 20
            i = 0
            while not stop.is_set() and time.time() < deadline:
                name = "keep.cluster1.svc.cluster.local." if i % 2 else f"u{i}.cluster1.svc.cluster.local."
                try:
                    r = query(self.ADDR, name, timeout=2)
                    if r.rcode() != dns.rcode.NOERROR or not r.answer:
                        failures.append((name, dns.rcode.to_text(r.rcode())))
                    answered[0] += 1
                except Exception as e:  # noqa: BLE001
                    failures.append((name, repr(e)))
                i += 1

        asker = threading.Thread(target=loop)
        asker.start()
        try:
            time.sleep(0.4)
            self.proc.send_signal(signal.SIGHUP)
            time.sleep(0.4)
            publish(self.config_with_ttl(13))  # picked up by the file watch
            deadline = time.time() + 5
            while time.time() < deadline and self.template_ttl() != 13:
                time.sleep(0.1)
            self.assertEqual(self.template_ttl(), 13)
            publish(self.config_with_ttl(17).replace("clusters:", "clusters:\n  nonsense: 1\n  x:"))
            deadline = time.time() + 5
            while time.time() < deadline and "reload rejected" not in self.read_log():
                time.sleep(0.1)
            time.sleep(0.3)
        finally:
            stop.set()
            asker.join()
        self.assertIn("reload rejected", self.read_log())
        self.assertIn(self.template_ttl(), range(9, 14), "13 counting down in the cache: the bad file (17) is not applied")
        self.assertEqual(failures, [])
        self.assertGreater(answered[0], 50)
        self.assertEqual(resolver.count("keep.svc.cluster.local."), 1,
                         "cluster1 is still in the mesh: its cached answer survived the reloads")

    def test_query_log_in_coredns_format(self):
        resolver = FakeResolver("127.10.7.9", 5300)
        self.addCleanup(resolver.close)
        self.start(GOOD + "log: {level: info, queries: true}\n")
        query(self.ADDR, "Web.Cluster1.svc.cluster.local.")
        query(self.ADDR, "web.cluster1.svc.cluster.local.")  # from the cache: logged the same way
        query(self.ADDR, "web.cluster1.svc.cluster.local.", "AAAA", tcp=True)
        time.sleep(0.2)
        lines = [l for l in self.read_log().splitlines() if '"A IN' in l or '"AAAA IN' in l]
        self.assertEqual(len(lines), 3, self.read_log())
        udp = r'127\.0\.0\.1:\d+ - \d+ "A IN web\.cluster1\.svc\.cluster\.local\. udp \d+ false 1232" NOERROR qr(,[a-z]+)* \d+ \d+(\.\d+)?s$'
        for line in lines[:2]:
            self.assertRegex(line, udp)
        self.assertRegex(lines[2], r'"AAAA IN web\.cluster1\.svc\.cluster\.local\. tcp \d+ false 65535" NOERROR ')

    def test_tcp_connections_are_capped_per_client(self):
        resolver = FakeResolver("127.10.7.9", 5300)
        self.addCleanup(resolver.close)
        self.start(GOOD + "limits: {tcp_connections_per_client: 3}\n")

        def connect(source):
            s = socket.create_connection((self.ADDR, 30053), timeout=2, source_address=(source, 0))
            self.addCleanup(s.close)
            return s

        def served(s):
            wire = dns.message.make_query("web.cluster1.svc.cluster.local.", "A").to_wire()
            try:
                s.sendall(len(wire).to_bytes(2, "big") + wire)
                return len(s.recv(2)) == 2
            except OSError:
                return False

        held = [connect("127.0.0.1") for _ in range(3)]
        self.assertTrue(all(served(s) for s in held))
        self.assertFalse(served(connect("127.0.0.1")), "a fourth connection from the same client is closed")
        self.assertTrue(served(connect("127.0.0.2")), "another client is still served")
        held[0].close()
        time.sleep(0.2)  # the server notices the close and frees the slot
        self.assertTrue(served(connect("127.0.0.1")))

    def test_file_change_is_picked_up_without_a_signal(self):
        self.start(self.config_with_ttl(7))
        self.assertEqual(self.template_ttl(), 7)
        with open(self.path + ".new", "w") as f:
            f.write(self.config_with_ttl(13))
        os.replace(self.path + ".new", self.path)  # how a ConfigMap update lands
        deadline = time.time() + 5
        while time.time() < deadline and self.template_ttl() != 13:
            time.sleep(0.2)
        self.assertEqual(self.template_ttl(), 13)


class EmbeddedDefaultTest(unittest.TestCase):
    def test_serves_on_127_0_0_1_5353_without_a_file(self):
        with tempfile.TemporaryFile("w+") as log:
            proc = subprocess.Popen([MESHDNS, "serve", "--threads", "1"], stdout=log, stderr=subprocess.STDOUT)
            try:
                self.assertTrue(meshlab.wait_for_udp_dns("127.0.0.1", 5353))
                # Answered locally (clusterset zone): nothing leaves the machine.
                r = query("127.0.0.1", "dns-version.clusterset.local.", "TXT", port=5353)
                self.assertEqual(r.rcode(), dns.rcode.NOERROR)
                self.assertEqual(r.answer[0][0].strings, (b"1.0.0",))
            finally:
                proc.send_signal(signal.SIGTERM)
                self.assertEqual(proc.wait(timeout=10), 0)


if __name__ == "__main__":
    unittest.main()
