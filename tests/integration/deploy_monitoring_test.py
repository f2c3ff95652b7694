"""deploy/monitoring/: the alert rules pass `promtool check rules`, each alert
has a `promtool test rules` file that passes and that fails once the alert's
expression can no longer fire; and every series the rules and the dashboard
name is one a running meshdns serves on /metrics, with the labels they use."""

import glob
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.request

import yaml
from prometheus_client.parser import text_string_to_metric_families

import meshlab
from fakes import FakeResolver
from meshlab import query

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MONITORING = os.path.join(ROOT, "deploy", "monitoring")
RULES = os.path.join(MONITORING, "meshdns-rules.yaml")
DASHBOARD = os.path.join(MONITORING, "meshdns-dashboard.json")
RULE_TESTS = sorted(glob.glob(os.path.join(MONITORING, "tests", "*.test.yaml")))

LISTEN = "127.34.0.1"
PORT = 30053
LOCAL = "127.34.0.2"   # the local cluster's kube-dns stand-in
PEER = "127.34.0.3"

# A metric selector: name{label="…", label=~"…"}.
SELECTOR = re.compile(r"\b((?:coredns|meshdns)_[a-z_]+)\b(?:\{([^}]*)\})?")


def alerts():
    with open(RULES) as f:
        return [r for g in yaml.safe_load(f)["groups"] for r in g["rules"] if "alert" in r]


def dashboard_exprs():
    with open(DASHBOARD) as f:
        dashboard = json.load(f)
    return [t["expr"] for p in dashboard["panels"] for t in p["targets"]]


def promtool(*args, cwd=None):
    return subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=120, cwd=cwd)


class RulesTest(unittest.TestCase):
    def setUp(self):
        self.assertIsNotNone(shutil.which("promtool"), "scripts/install-deps.sh installs prometheus")

    def test_promtool_accepts_the_rules(self):
        r = promtool("check", "rules", RULES)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(f"SUCCESS: {len(alerts())} rules found", r.stdout)

    def test_each_alert_has_unit_tests_that_pass(self):
        tested = set()
        for path in RULE_TESTS:
            with open(path) as f:
                tested |= set(re.findall(r"alertname: (\w+)", f.read()))
        self.assertEqual(tested, {a["alert"] for a in alerts()})
        r = promtool("test", "rules", *RULE_TESTS)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_the_unit_tests_fail_when_an_alert_cannot_fire(self):
        """Each alert's tests expect it to fire somewhere: with its expression
        replaced by one that never returns anything, they must fail."""
        for alert in alerts():
            with self.subTest(alert["alert"]), tempfile.TemporaryDirectory() as d:
                with open(RULES) as f:
                    rules = yaml.safe_load(f)
                for g in rules["groups"]:
                    for r in g["rules"]:
                        if r.get("alert") == alert["alert"]:
                            r["expr"] = "vector(1) == 0"
                with open(os.path.join(d, "meshdns-rules.yaml"), "w") as f:
                    yaml.safe_dump(rules, f)
                os.mkdir(os.path.join(d, "tests"))
                for path in RULE_TESTS:
                    shutil.copy(path, os.path.join(d, "tests"))
                r = promtool("test", "rules", *sorted(glob.glob(os.path.join(d, "tests", "*.test.yaml"))))
                self.assertNotEqual(r.returncode, 0, f"no test noticed that {alert['alert']} never fires")


class SeriesTest(unittest.TestCase):
    """The rules and the dashboard against a real meshdns's /metrics page."""

    @classmethod
    def setUpClass(cls):
        cls.resolvers = {"c1": FakeResolver(LOCAL), "c2": FakeResolver(PEER)}
        mesh = {"cluster": "c1", "listen": [f"{LISTEN}:{PORT}"], "metrics": f"{LISTEN}:9153",
                "clusters": {c: {"resolvers": [f"{r.addr}:{r.port}"]} for c, r in cls.resolvers.items()}}
        cls.meshdns = meshlab.SoloMeshdns(yaml.safe_dump(mesh), LISTEN, PORT, threads=1, prefix="meshdns-monitoring-")
        # Forwarded, then cached: the families whose samples appear only with traffic get some.
        for _ in range(2):
            for name in (f"a.{int(time.time())}.c1.svc.cluster.local", f"b.{int(time.time())}.c2.svc.cluster.local"):
                query(LISTEN, name, port=PORT)
        with urllib.request.urlopen(f"http://{LISTEN}:9153/metrics", timeout=5) as r:
            cls.page = r.read().decode()

    @classmethod
    def tearDownClass(cls):
        cls.meshdns.stop()
        for r in cls.resolvers.values():
            r.close()

    def served(self):
        """Sample names on the page (histograms' _bucket/_sum/_count included) -> their label names."""
        labels = {}
        for family in text_string_to_metric_families(self.page):
            names = [family.name]
            if family.type == "histogram":
                names = [family.name + s for s in ("_bucket", "_sum", "_count")]
            elif family.type == "counter":
                names = [family.name + "_total"]  # the parser drops the suffix from a counter's family name
            for n in names:
                labels.setdefault(n, set())
            for s in family.samples:
                labels.setdefault(s.name, set()).update(s.labels)
        return labels

    def check(self, exprs):
        served = self.served()
        seen = set()
        for expr in exprs:
            for name, selector in SELECTOR.findall(expr):
                seen.add(name)
                self.assertIn(name, served, f"{name} (in {expr!r}) is not on meshdns's /metrics page")
                for label in re.findall(r"(\w+)\s*[=!]~?", selector):
                    # `job` is Prometheus's own, added at scrape time.
                    if label != "job":
                        self.assertIn(label, served[name], f"{name} has no label {label} (in {expr!r})")
        return seen

    def test_the_rules_use_only_series_meshdns_serves(self):
        seen = self.check(a["expr"] for a in alerts())
        self.assertLessEqual({"meshdns_peer_up", "coredns_dns_responses_total", "meshdns_reloads_total"}, seen)

    def test_the_dashboard_uses_only_series_meshdns_serves(self):
        seen = self.check(dashboard_exprs())
        self.assertLessEqual({"meshdns_peer_up", "coredns_cache_hits_total", "meshdns_upstream_failures_total",
                              "coredns_dns_request_duration_seconds_bucket"}, seen)

    def test_the_check_catches_a_series_meshdns_does_not_serve(self):
        with self.assertRaises(AssertionError):
            self.check(['rate(coredns_dns_request_count_total{job=~"$job"}[5m])'])
        with self.assertRaises(AssertionError):
            self.check(['meshdns_peer_up{peer="x"}'])

    def test_the_dashboard_selects_by_job(self):
        with open(DASHBOARD) as f:
            dashboard = json.load(f)
        variables = {v["name"]: v for v in dashboard["templating"]["list"]}
        self.assertIn("job", variables)
        for expr in dashboard_exprs():
            for name, selector in SELECTOR.findall(expr):
                self.assertIn('job=~"$job"', selector, expr)


if __name__ == "__main__":
    unittest.main()
