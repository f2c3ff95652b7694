"""deploy/: every kustomize overlay renders with kubectl, and the rendered
objects are what a cluster needs: the mesh file passes `meshdns check`, the
probes point at the ports the file configures, the NodePort is 30053 on UDP
and TCP with the local traffic policy, and the pod runs unprivileged. The
Dockerfile's runtime packages are the ones the binary links against."""

import glob
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import yaml

import meshlab

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OVERLAYS = sorted(glob.glob(os.path.join(ROOT, "deploy", "overlays", "*")))


def render(overlay):
    r = subprocess.run(["kubectl", "kustomize", overlay], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError(f"kubectl kustomize {overlay}: {r.stderr}")
    return [d for d in yaml.safe_load_all(r.stdout) if d]


def port_of(address):
    return int(address.rsplit(":", 1)[1])


class DeployTest(unittest.TestCase):
    def test_there_is_an_overlay_per_cluster(self):
        self.assertEqual([os.path.basename(o) for o in OVERLAYS], ["cluster1", "cluster2", "cluster3"])
        self.assertIsNotNone(shutil.which("kubectl"), "scripts/install-deps.sh installs kubernetes-client")

    def test_every_overlay_renders_what_a_cluster_needs(self):
        for overlay in OVERLAYS:
            name = os.path.basename(overlay)
            with self.subTest(name):
                objects = render(overlay)
                by_kind = {}
                for o in objects:
                    by_kind.setdefault(o["kind"], []).append(o)
                    if o["kind"] != "Namespace":
                        self.assertEqual(o["metadata"].get("namespace"), "meshdns", o["metadata"]["name"])
                self.assertEqual(sorted(by_kind), ["ConfigMap", "DaemonSet", "Namespace", "PodDisruptionBudget",
                                                   "Service", "ServiceAccount"])

                # The mesh file is the overlay's, and meshdns accepts it.
                config_map = by_kind["ConfigMap"][0]
                text = config_map["data"]["mesh.yaml"]
                mesh = yaml.safe_load(text)
                self.assertEqual(mesh["cluster"], name)
                with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
                    f.write(text)
                    f.flush()
                    r = subprocess.run([meshlab.MESHDNS, "check", "--config", f.name], capture_output=True, text=True)
                    self.assertEqual(r.returncode, 0, r.stderr)
                listen = port_of(mesh["listen"][0])

                ds = by_kind["DaemonSet"][0]
                pod = ds["spec"]["template"]["spec"]
                c = pod["containers"][0]
                self.assertEqual(pod["volumes"][0]["configMap"]["name"], config_map["metadata"]["name"],
                                 "the pod mounts the generated (hash-suffixed) ConfigMap")
                self.assertEqual(c["livenessProbe"]["httpGet"], {"path": "/health", "port": port_of(mesh["health"])})
                self.assertEqual(c["readinessProbe"]["httpGet"], {"path": "/ready", "port": port_of(mesh["ready"])})
                ports = {(p["containerPort"], p["protocol"]) for p in c["ports"]}
                self.assertLessEqual({(listen, "UDP"), (listen, "TCP"), (port_of(mesh["metrics"]), "TCP")}, ports)
                self.assertIn("--config", c["args"])

                sc, psc = c["securityContext"], pod["securityContext"]
                self.assertTrue(psc["runAsNonRoot"])
                self.assertNotEqual(psc["runAsUser"], 0)
                self.assertTrue(sc["readOnlyRootFilesystem"])
                self.assertFalse(sc["allowPrivilegeEscalation"])
                self.assertEqual(sc["capabilities"]["drop"], ["ALL"])
                self.assertFalse(sc["capabilities"].get("add"), "listening on an unprivileged port needs none")
                self.assertIn("memory", c["resources"]["limits"])
                self.assertFalse(pod["automountServiceAccountToken"])

                services = {s["metadata"]["name"]: s["spec"] for s in by_kind["Service"]}
                node_port = services["meshdns-nodeport"]
                self.assertEqual(node_port["type"], "NodePort")
                self.assertEqual(node_port["externalTrafficPolicy"], "Local")
                self.assertEqual({(p["nodePort"], p["protocol"], p["targetPort"]) for p in node_port["ports"]},
                                 {(30053, "UDP", listen), (30053, "TCP", listen)})
                cluster_ip = services["meshdns"]
                self.assertEqual(cluster_ip.get("type", "ClusterIP"), "ClusterIP")
                self.assertLessEqual({(53, "UDP", listen), (53, "TCP", listen)},
                                     {(p["port"], p["protocol"], p["targetPort"]) for p in cluster_ip["ports"]})
                self.assertEqual(by_kind["PodDisruptionBudget"][0]["spec"]["maxUnavailable"], 1)

                # The CoreDNS block shipped with the overlay is what `meshdns corefile` prints for
                # this mesh file and this Service address, and meshdns reads it as a Corefile.
                stanza_path = os.path.join(overlay, "coredns-stanza.conf")
                with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
                    f.write(text)
                    f.flush()
                    r = subprocess.run([meshlab.MESHDNS, "corefile", "--config", f.name, "--to",
                                        cluster_ip["clusterIP"]], capture_output=True, text=True)
                self.assertEqual(r.returncode, 0, r.stderr)
                with open(stanza_path) as f:
                    self.assertEqual(f.read(), r.stdout, "regenerate with meshdns corefile (see deploy/README.md)")
                r = subprocess.run([meshlab.MESHDNS, "check", "--corefile", stanza_path], capture_output=True, text=True)
                self.assertEqual(r.returncode, 0, r.stderr)

    def test_the_image_installs_the_libraries_the_binary_links(self):
        with open(os.path.join(ROOT, "deploy", "Dockerfile")) as f:
            dockerfile = f.read()
        runtime = dockerfile.split("FROM debian:12-slim", 1)[1]
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


if __name__ == "__main__":
    unittest.main()


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
