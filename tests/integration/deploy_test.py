"""deploy/: `meshdns manifests` renders every values file of deploy/values/
into objects that pass the Kubernetes and prometheus-operator schemas
(tests/deploy/validate.js) and carry what the values and the mesh file say;
bad values files are refused with FILE:LINE:COL and exit 2; the image builds
without leftover apt caches and installs the libraries the binary links.
deploy_monitoring_test.py checks deploy/monitoring/."""

import glob
import ipaddress
import math
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import yaml

import meshlab

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VALUES = sorted(glob.glob(os.path.join(ROOT, "deploy", "values", "*", "*.values.yaml")))
VALIDATOR = os.path.join(ROOT, "tests", "deploy")

# Each platform's default service range, which a pinned ClusterIP must be in:
# kind and kubeadm's serviceSubnet 10.96.0.0/12 as kind sets it (/16); EKS's
# 10.100.0.0/16 (172.20.0.0/16 when the VPC is in 10.0.0.0/8, see its
# values file); KKP's default service CIDR; kubespray's kube_service_addresses.
SERVICE_RANGES = {
    "kind": "10.96.0.0/16",
    "eks": "10.100.0.0/16",
    "kkp": "10.240.16.0/20",
    "kubespray": "10.233.0.0/18",
}


def render(values_path):
    r = subprocess.run([meshlab.MESHDNS, "manifests", "--values", values_path], capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError(f"meshdns manifests --values {values_path}: {r.stderr}")
    return r.stdout, [d for d in yaml.safe_load_all(r.stdout) if d]


def port_of(address):
    return int(address.rsplit(":", 1)[1])


def millis(duration):
    """The Go-style durations the values and mesh files here use (500ms, 2s, 1m)."""
    total = 0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m)", duration):
        total += float(number) * {"ms": 1, "s": 1000, "m": 60000}[unit]
    return total


def load(path):
    with open(path) as f:
        return yaml.safe_load(f)


class ManifestsTest(unittest.TestCase):
    def test_a_values_file_per_platform(self):
        platforms = {os.path.basename(os.path.dirname(v)) for v in VALUES}
        self.assertEqual(platforms, set(SERVICE_RANGES))
        kind = [os.path.basename(v) for v in VALUES if "/kind/" in v]
        self.assertEqual(kind, [f"cluster{n}.values.yaml" for n in (1, 2, 3)], "deploy/README.md's three clusters")

    def test_every_values_file_renders_what_its_cluster_needs(self):
        for path in VALUES:
            platform = os.path.basename(os.path.dirname(path))
            with self.subTest(os.path.relpath(path, ROOT)):
                values = load(path)
                mesh = load(os.path.join(os.path.dirname(path), values["mesh"]))
                text, objects = render(path)
                self.check_objects(values, mesh, objects, text, ipaddress.ip_network(SERVICE_RANGES[platform]))

    def check_objects(self, values, mesh, objects, text, service_range):
        namespace = values.get("namespace", "meshdns")
        by_kind = {}
        for o in objects:
            by_kind.setdefault(o["kind"], []).append(o)
            if o["kind"] != "Namespace":
                self.assertEqual(o["metadata"]["namespace"], namespace, o["metadata"]["name"])
        monitoring = values.get("monitoring", {})
        expected = ["ConfigMap", "DaemonSet", "Namespace", "PodDisruptionBudget", "Service", "ServiceAccount"]
        expected += ["PodMonitor"] if monitoring.get("podMonitor") else []
        expected += ["PrometheusRule"] if monitoring.get("rules") else []
        self.assertEqual(sorted(by_kind), sorted(expected))
        self.assertEqual(len(by_kind["ConfigMap"]), 2 if monitoring.get("dashboard") else 1)
        self.assertEqual(by_kind["Namespace"][0]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
                         "restricted")

        # The embedded mesh file: the one named, with the values' ACL, accepted by meshdns.
        config_map = next(c for c in by_kind["ConfigMap"] if c["metadata"]["name"] == "meshdns-config")
        embedded_text = config_map["data"]["mesh.yaml"]
        embedded = yaml.safe_load(embedded_text)
        self.assertEqual(embedded["cluster"], values["cluster"])
        self.assertEqual(embedded["clusters"], mesh["clusters"])
        acl = values.get("acl", {})
        for key in ("allow", "deny"):
            self.assertEqual(embedded.get("acl", {}).get(key), acl.get(key, mesh.get("acl", {}).get(key)), key)
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
            f.write(embedded_text)
            f.flush()
            r = subprocess.run([meshlab.MESHDNS, "check", "--config", f.name], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)

        ds = by_kind["DaemonSet"][0]
        self.assertEqual(ds["spec"]["updateStrategy"]["rollingUpdate"], {"maxSurge": 1, "maxUnavailable": 0})
        pod = ds["spec"]["template"]["spec"]
        c = pod["containers"][0]
        self.assertEqual(c["image"], values["image"])
        self.assertEqual(pod["volumes"][0]["configMap"]["name"], "meshdns-config")
        self.assertEqual(pod["tolerations"], values.get("tolerations", [{"operator": "Exists"}]))
        self.assertEqual(pod.get("priorityClassName"), values.get("priorityClassName", "system-node-critical"))
        lameduck = values.get("lameduck", "5s")
        self.assertEqual(c["args"], ["serve", "--config", "/etc/meshdns/mesh.yaml", "--lameduck", lameduck])
        self.assertIn({"name": "MESHDNS_CLUSTER", "value": values["cluster"]}, c["env"])
        pre_stop = values.get("preStopSleep", "2s")
        self.assertEqual(c["lifecycle"]["preStop"]["exec"]["command"], ["/bin/sleep", str(int(millis(pre_stop) / 1000))])
        timeout = mesh.get("forward", {}).get("timeout", "2s")
        self.assertEqual(pod["terminationGracePeriodSeconds"],
                         math.ceil((millis(pre_stop) + millis(lameduck) + millis(timeout)) / 1000) + 2,
                         "preStop + lameduck + one forward timeout + 2s")
        self.assertEqual(c["livenessProbe"]["httpGet"], {"path": "/health", "port": port_of(mesh["health"])})
        self.assertEqual(c["readinessProbe"]["httpGet"], {"path": "/ready", "port": port_of(mesh["ready"])})
        listen = port_of(mesh["listen"][0])
        ports = {(p["name"], p["containerPort"], p["protocol"]) for p in c["ports"]}
        self.assertLessEqual({("dns-udp", listen, "UDP"), ("dns-tcp", listen, "TCP"),
                              ("metrics", port_of(mesh["metrics"]), "TCP")}, ports)
        resources = values.get("resources", {})
        self.assertEqual(c["resources"]["requests"], resources.get("requests", {"cpu": "100m", "memory": "64Mi"}))
        self.assertEqual(c["resources"]["limits"], resources.get("limits", {"memory": "256Mi"}))

        sc, psc = c["securityContext"], pod["securityContext"]
        self.assertEqual(psc, {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532,
                               "seccompProfile": {"type": "RuntimeDefault"}})
        self.assertEqual(sc, {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                              "capabilities": {"drop": ["ALL"]}})
        self.assertFalse(pod["automountServiceAccountToken"])
        self.assertFalse(by_kind["ServiceAccount"][0]["automountServiceAccountToken"])

        services = {s["metadata"]["name"]: s["spec"] for s in by_kind["Service"]}
        node_port = services["meshdns-nodeport"]
        self.assertEqual(node_port["type"], "NodePort")
        self.assertEqual(node_port["externalTrafficPolicy"], "Local")
        want_node_port = values.get("service", {}).get("nodePort", 30053)
        self.assertEqual({(p["nodePort"], p["protocol"], p["targetPort"]) for p in node_port["ports"]},
                         {(want_node_port, "UDP", listen), (want_node_port, "TCP", listen)})
        cluster_ip = services["meshdns"]
        self.assertEqual(cluster_ip["type"], "ClusterIP")
        self.assertEqual(cluster_ip["clusterIP"], values["service"]["clusterIP"])
        self.assertIn(ipaddress.ip_address(cluster_ip["clusterIP"]), service_range)
        local = next(r for name, c in mesh["clusters"].items() if name == mesh["cluster"] for r in c["resolvers"])
        self.assertIn(ipaddress.ip_address(local.rsplit(":", 1)[0]), service_range, "kube-dns is in the same range")
        self.assertEqual({(p["port"], p["protocol"], p["targetPort"]) for p in cluster_ip["ports"]},
                         {(53, "UDP", listen), (53, "TCP", listen)})
        self.assertEqual(by_kind["PodDisruptionBudget"][0]["spec"]["maxUnavailable"], 1)

        # The CoreDNS block for this Service is one meshdns reads as a Corefile.
        with tempfile.TemporaryDirectory() as d:
            mesh_path, stanza_path = os.path.join(d, "mesh.yaml"), os.path.join(d, "Corefile")
            with open(mesh_path, "w") as f:
                f.write(embedded_text)
            r = subprocess.run([meshlab.MESHDNS, "corefile", "--config", mesh_path, "--to", cluster_ip["clusterIP"]],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(f"forward . {cluster_ip['clusterIP']}:53", r.stdout)
            with open(stanza_path, "w") as f:
                f.write(r.stdout)
            r = subprocess.run([meshlab.MESHDNS, "check", "--corefile", stanza_path], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)

        if monitoring.get("podMonitor"):
            pm = by_kind["PodMonitor"][0]
            self.assertEqual(pm["spec"]["podMetricsEndpoints"], [{"port": "metrics", "path": "/metrics"}])
            self.assertEqual(pm["spec"]["selector"]["matchLabels"], ds["spec"]["selector"]["matchLabels"])
            self.assertLessEqual(monitoring.get("labels", {}).items(), pm["metadata"]["labels"].items())
        if monitoring.get("rules"):
            rule = by_kind["PrometheusRule"][0]
            self.assertEqual(rule["spec"], load(os.path.join(ROOT, "deploy", "monitoring", "meshdns-rules.yaml")))
            self.assertLessEqual(monitoring.get("labels", {}).items(), rule["metadata"]["labels"].items())
        if monitoring.get("dashboard"):
            dashboard = next(c for c in by_kind["ConfigMap"] if c["metadata"]["name"] == "meshdns-dashboard")
            self.assertEqual(dashboard["metadata"]["labels"]["grafana_dashboard"], "1", "a string, as labels must be")
            with open(os.path.join(ROOT, "deploy", "monitoring", "meshdns-dashboard.json")) as f:
                self.assertEqual(dashboard["data"]["meshdns.json"], f.read())

    def test_every_object_passes_the_kubernetes_schemas(self):
        node = shutil.which("node")
        self.assertIsNotNone(node, "scripts/install-deps.sh installs nodejs")
        self.assertTrue(os.path.isdir(os.path.join(VALIDATOR, "node_modules")),
                        "scripts/install-deps.sh runs npm ci in tests/deploy")
        for path in VALUES:
            with self.subTest(os.path.relpath(path, ROOT)):
                text, objects = render(path)
                r = subprocess.run([node, "validate.js"], input=text, capture_output=True, text=True, cwd=VALIDATOR,
                                   timeout=120)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                self.assertEqual(len(re.findall(r"(?m)^ok ", r.stdout)), len(objects), r.stdout)

    def test_the_rendered_container_runs_the_daemon_it_describes(self):
        """The DaemonSet's command, with its ConfigMap as the file and every
        address moved to loopback, starts meshdns; SIGTERM then runs the
        lameduck the manifest asks for and exits 0."""
        _, objects = render(os.path.join(ROOT, "deploy", "values", "kind", "cluster1.values.yaml"))
        ds = next(o for o in objects if o["kind"] == "DaemonSet")
        config = next(o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "meshdns-config")
        c = ds["spec"]["template"]["spec"]["containers"][0]
        host = "127.34.0.1"
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "mesh.yaml")
            # Every address on loopback: the listeners on `host`, the
            # resolvers (kube-dns, the peers' nodes) on one nothing answers
            # at, so the probes it sends never leave this machine.
            text = config["data"]["mesh.yaml"].replace("0.0.0.0:", f"{host}:")
            text = re.sub(r"\b(?!127\.)\d+\.\d+\.\d+\.\d+:\d+\b", "127.34.0.9:5300", text)
            self.assertNotRegex(text, r"\b(?!127\.)\d+\.\d+\.\d+\.\d+:\d+")
            with open(path, "w") as f:
                f.write(text)
            args = [path if a == c["volumeMounts"][0]["mountPath"] + "/mesh.yaml" else a for a in c["args"]]
            self.assertIn(path, args, c["args"])
            env = dict(os.environ, **{e["name"]: e["value"] for e in c.get("env", [])})
            proc = subprocess.Popen([meshlab.MESHDNS, *args, "--threads", "1"], env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            try:
                health = c["livenessProbe"]["httpGet"]
                url = f"http://{host}:{health['port']}{health['path']}"

                def status():
                    try:
                        with urllib.request.urlopen(url, timeout=1) as r:
                            return r.status
                    except urllib.error.HTTPError as e:
                        return e.code
                    except OSError:
                        return None

                deadline = time.monotonic() + 10
                while status() != 200 and proc.poll() is None and time.monotonic() < deadline:
                    time.sleep(0.05)
                self.assertEqual(status(), 200, proc.stdout.read() if proc.poll() is not None else "")
                started = time.monotonic()
                proc.terminate()
                deadline = time.monotonic() + 1
                while status() != 503 and time.monotonic() < deadline:
                    time.sleep(0.02)
                self.assertEqual(status(), 503, "in lameduck")
                self.assertEqual(proc.wait(timeout=ds["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]), 0)
                lameduck = millis(c["args"][c["args"].index("--lameduck") + 1]) / 1000
                self.assertGreaterEqual(time.monotonic() - started, lameduck)
            finally:
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
                proc.stdout.close()

    def test_the_validator_refuses_what_the_api_server_would(self):
        broken = ("apiVersion: v1\nkind: Service\nmetadata: {name: x}\n"
                  "spec: {type: Nodeport, ports: [{port: 53, protocol: UDP}]}\n"
                  "---\napiVersion: example.com/v1\nkind: Unknown\nmetadata: {name: y}\n")
        r = subprocess.run(["node", "validate.js"], input=broken, capture_output=True, text=True, cwd=VALIDATOR,
                           timeout=120)
        self.assertEqual(r.returncode, 1)
        self.assertIn("invalid v1 Service x: data/spec/type", r.stdout)
        self.assertIn("unknown kind: example.com/v1 Unknown y", r.stdout)


class BadValuesTest(unittest.TestCase):
    MESH = ("cluster: c1\nlisten: ['0.0.0.0:5353']\nclusters: {c1: {resolvers: ['10.96.0.10:53']}}\n"
            "health: '0.0.0.0:8080'\nready: '0.0.0.0:8181'\n")

    def refuse(self, values_text):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "mesh.yaml"), "w") as f:
                f.write(self.MESH)
            path = os.path.join(d, "values.yaml")
            with open(path, "w") as f:
                f.write(values_text)
            r = subprocess.run([meshlab.MESHDNS, "manifests", "--values", path], capture_output=True, text=True)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertEqual(r.stdout, "", "nothing to apply")
            return r.stderr.replace(path, "VALUES")

    def test_mistakes_are_refused_with_their_position(self):
        ok = "cluster: c1\nimage: meshdns:0.1.0\nmesh: mesh.yaml\n"
        self.assertRegex(self.refuse(ok + "imagePullPolcy: Always\n"),
                         r"^VALUES:4:1: unknown key 'imagePullPolcy' in the values \(known: ")
        self.assertEqual(self.refuse(ok + "service: {clusterIP: 10.96.0.256}\n"),
                         "VALUES:4:22: service.clusterIP: '10.96.0.256' is not an IPv4 or IPv6 address "
                         "(leave it empty for the API server to pick one)\n")
        self.assertEqual(self.refuse(ok + "service:\n  nodePort: 32768\n"),
                         "VALUES:5:13: service.nodePort: 32768 is outside the NodePort range 30000-32767\n")
        self.assertEqual(self.refuse("cluster: c1\nmesh: mesh.yaml\n"),
                         "VALUES:1:1: missing required key 'image' (repository:tag)\n")
        self.assertRegex(self.refuse(ok.replace("mesh.yaml", "absent.yaml")), r"^VALUES:3:7: mesh: cannot read ")
        self.assertRegex(self.refuse(ok + "namespace: kube-system\n"),
                         r"^VALUES:4:12: namespace: kube-system is shared; meshdns needs one of its own")

    def test_a_probe_or_scrape_address_on_loopback_is_refused(self):
        self.MESH = self.MESH.replace("health: '0.0.0.0:8080'", "health: '127.0.0.1:8080'")
        self.assertRegex(self.refuse("cluster: c1\nimage: meshdns:0.1.0\nmesh: mesh.yaml\n"),
                         r"^VALUES:3:7: mesh: \S*mesh.yaml's health is 127.0.0.1:8080, which nothing outside the pod")

    def test_usage(self):
        r = subprocess.run([meshlab.MESHDNS, "manifests"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("manifests needs --values FILE", r.stderr)
        self.assertIn("meshdns manifests --values FILE", r.stderr)


class ImageTest(unittest.TestCase):
    DOCKERFILE = os.path.join(ROOT, "deploy", "Dockerfile")

    def setUp(self):
        with open(self.DOCKERFILE) as f:
            self.dockerfile = f.read()

    def test_every_stage_that_runs_apt_leaves_no_cache(self):
        stages = re.split(r"(?m)^FROM ", self.dockerfile)[1:]
        self.assertEqual(len(stages), 2)
        for stage in stages:
            # RUN instructions with their continued lines.
            for run in re.findall(r"(?ms)^RUN (.*?)(?<!\\)$", stage):
                if "apt-get install" in run:
                    self.assertIn("apt-get clean", run, stage.splitlines()[0])
                    self.assertIn("rm -rf /var/lib/apt/lists/*", run, stage.splitlines()[0])

    def test_the_build_context_leaves_out_build_trees(self):
        with open(os.path.join(ROOT, ".dockerignore")) as f:
            ignored = set(f.read().split())
        self.assertLessEqual({"build/", "build-sanitize/", "build-tsan/", "build-fuzz/", ".git/",
                              "tests/deploy/node_modules/"}, ignored)

    def test_the_image_installs_the_libraries_the_binary_links(self):
        runtime = self.dockerfile.split("FROM debian:12-slim", 1)[1]
        libs = subprocess.run(["ldd", meshlab.MESHDNS], capture_output=True, text=True, check=True).stdout
        needed = set()
        for path in re.findall(r"=> (/\S+)", libs):
            owner = subprocess.run(["dpkg", "-S", os.path.realpath(path)], capture_output=True, text=True)
            if owner.returncode != 0:
                owner = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
            package = owner.stdout.split(":", 1)[0]
            # The C/C++ runtime and OpenSSL (ldns's dependency) come with the base image or with ldns;
            # sanitizer runtimes only appear in a sanitizer build of the tests.
            if package and package not in {"libc6", "libstdc++6", "libgcc-s1", "libssl3"} and \
                    not re.match(r"lib(a|ub|t|l)san\d", package):
                needed.add(package)
        self.assertTrue(needed)
        for package in needed:
            self.assertIn(package, runtime, f"{package} is linked but not installed in the runtime image")

    @unittest.skipUnless(os.environ.get("MESHDNS_IMAGE_TEST") == "1",
                         "slow (debootstrap, then a build in the image): set MESHDNS_IMAGE_TEST=1, as root")
    def test_the_image_builds_carries_no_apt_cache_and_renders_manifests(self):
        tag = "localhost/meshdns:deploy-test"
        subprocess.run(["bash", os.path.join(ROOT, "scripts", "image.sh"), tag], check=True, timeout=3600)
        run = ["podman", "run", "--rm", "--runtime", "runc", "--ulimit", "nofile=16384:16384", "--ulimit",
               "nproc=8192:8192", "--network=none"]
        # No downloaded package and no package list left in the runtime image
        # (asked as root: apt's partial/ folder is closed to others).
        leftovers = subprocess.run(
            [*run, "--user", "0", "--entrypoint", "/bin/sh", tag, "-c",
             "find /var/cache/apt /var/lib/apt/lists -type f ! -name lock"],
            capture_output=True, text=True, timeout=120, check=True).stdout
        self.assertEqual(leftovers, "")

        def size(image):
            return int(subprocess.run(["podman", "image", "inspect", "--format", "{{.Size}}", image],
                                      capture_output=True, text=True, check=True).stdout)

        added = size(tag) - size("docker.io/library/debian:12-slim")
        self.assertLess(added, 40 * 1024 * 1024, "four libraries and meshdns on top of debian:12-slim")
        values = os.path.join("/values", "kind", "cluster1.values.yaml")
        r = subprocess.run([*run, "-v", f"{os.path.join(ROOT, 'deploy', 'values')}:/values:ro", tag, "manifests",
                            "--values", values], capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("kind: DaemonSet", r.stdout)


class SystemdUnitTest(unittest.TestCase):
    UNIT = os.path.join(ROOT, "deploy", "systemd", "meshdns.service")

    def setUp(self):
        with open(self.UNIT) as f:
            self.text = f.read()

    def test_runs_unprivileged_with_only_the_bind_capability(self):
        self.assertRegex(self.text, r"(?m)^DynamicUser=yes$")
        self.assertRegex(self.text, r"(?m)^AmbientCapabilities=CAP_NET_BIND_SERVICE$")
        self.assertRegex(self.text, r"(?m)^CapabilityBoundingSet=CAP_NET_BIND_SERVICE$")
        self.assertRegex(self.text, r"(?m)^NoNewPrivileges=yes$")
        self.assertRegex(self.text, r"(?m)^ProtectSystem=strict$", "no file writes anywhere")
        self.assertRegex(self.text, r"(?m)^ExecStart=/usr/local/bin/meshdns serve --config /etc/meshdns/mesh.yaml$")

    def test_systemd_accepts_the_unit(self):
        if shutil.which("systemd-analyze") is None:
            self.skipTest("systemd-analyze is not installed")
        with tempfile.TemporaryDirectory() as d:
            unit = os.path.join(d, "meshdns.service")
            with open(unit, "w") as f:
                f.write(self.text.replace("/usr/local/bin/meshdns", os.path.abspath(meshlab.MESHDNS)))
            r = subprocess.run(["systemd-analyze", "verify", unit], capture_output=True, text=True, cwd=d)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
