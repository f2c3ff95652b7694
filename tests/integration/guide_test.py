"""deploy/README.md: every command of every fenced `sh` block is run,
rendered or checked, and the test fails on any it cannot classify.

- `build/meshdns ...` runs from the repository root with $MESHDNS and must
  exit 0; `build/meshdns manifests ... | kubectl ... apply -f -` runs the
  meshdns part and passes its output through tests/deploy/validate.js.
- Commands that need a live cluster, a cloud account or a container runtime
  (LIVE_ONLY) cannot run here: their program must be in LIVE_ONLY, every
  repository file they name must exist, and every `dig` must ask for a name
  the mesh serves (`.svc.clusterset.local`, or `.<cluster>.svc.cluster.local`
  for a cluster of the mesh files).
- The files those commands create or apply (deploy/platforms/) are parsed
  and checked: kind configs, Cilium values, Kubernetes objects (validate.js),
  EKS's CoreDNS add-on Corefile and kubespray's group_vars against what
  `meshdns corefile` prints.
- `yaml` blocks render (the values reference) or check (a mesh fragment)
  with meshdns; `text` blocks are prose laid out, whose deploy/ entries exist."""

import glob
import ipaddress
import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import unittest

import yaml

import meshlab

ROOT = meshlab.REPO
GUIDE = os.path.join(ROOT, "deploy", "README.md")
PLATFORMS = os.path.join(ROOT, "deploy", "platforms")
VALIDATOR = os.path.join(ROOT, "tests", "deploy")

# Programs the guide's commands use that cannot run in this repository's test
# environment: no Kubernetes cluster, no cloud account, no container runtime,
# no network beyond loopback. For these the test checks the files they name
# and the names `dig` asks for, not what they do.
LIVE_ONLY = {"kubectl", "kind", "helm", "cilium", "aws", "docker", "dig"}

def read(path):
    with open(path) as f:
        return f.read()


MESH_CLUSTERS = sorted({c for m in glob.glob(os.path.join(ROOT, "deploy", "values", "*", "*.mesh.yaml"))
                        for c in yaml.safe_load(read(m))["clusters"]})


def blocks():
    """[(language, text)] of every fenced block, indented ones (in lists) included."""
    guide = read(GUIDE)
    found = re.findall(r"(?ms)^( *)```(\S*)\n(.*?)^\1```$", guide)
    return [(lang, re.sub(rf"(?m)^{indent}", "", text)) for indent, lang, text in found]


def commands(text):
    """Each command of a sh block: continuation lines joined, comments dropped."""
    out = []
    for line in text.replace("\\\n", " ").splitlines():
        words = shlex.split(line, comments=True)
        if words:
            out.append(words)
    return out


def run_meshdns(words):
    assert words[0] in ("meshdns", "build/meshdns"), words
    return subprocess.run([meshlab.MESHDNS, *words[1:]], capture_output=True, text=True, cwd=ROOT, timeout=60)


def validate(stream):
    r = subprocess.run(["node", "validate.js"], input=stream, capture_output=True, text=True, cwd=VALIDATOR,
                       timeout=120)
    return r.returncode, r.stdout + r.stderr


def repo_paths(words):
    """Repository files a command names: words under a top-level directory of the repository,
    or file:// arguments. build/meshdns is the binary under test, not a file to commit."""
    tops = {d for d in os.listdir(ROOT) if os.path.isdir(os.path.join(ROOT, d)) and not d.startswith(".")}
    paths = []
    for w in words:
        w = w.removeprefix("file://")
        if "/" in w and w.split("/", 1)[0] in tops and w != "build/meshdns":
            paths.append(w)
    return paths


def load_all(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


class GuideCommandsTest(unittest.TestCase):
    def setUp(self):
        self.blocks = blocks()

    def sh_commands(self):
        return [c for lang, text in self.blocks if lang == "sh" for c in commands(text)]

    def test_every_block_has_a_known_language(self):
        self.assertGreater(len(self.blocks), 10)
        for lang, text in self.blocks:
            self.assertIn(lang, ("sh", "yaml", "text"), text[:200])

    def test_every_command_is_classified_and_checked(self):
        checked = {"meshdns": 0, "manifests": 0, "live": 0, "dig": 0}
        for words in self.sh_commands():
            line = shlex.join(words)
            with self.subTest(line):
                self.assertNotIn(";", words, "one command per line")
                self.assertNotIn("&&", words, "one command per line")
                self.assertFalse([w for w in words if w != "|" and re.match(r"[<>|&;]|\d>", w)],
                                 "no redirections, background jobs or glued operators")
                for path in repo_paths(words):
                    self.assertTrue(os.path.exists(os.path.join(ROOT, path)), f"{path} is not in the repository")
                if words[0] in ("meshdns", "build/meshdns"):
                    self.check_meshdns(words)
                    checked["manifests" if "|" in words else "meshdns"] += 1
                elif words[0] in LIVE_ONLY:
                    self.assertNotIn("|", words, "a pipe between live-only commands is not checked")
                    self.assertNotIn(">", words)
                    checked["live"] += 1
                else:
                    self.fail(f"cannot classify: {line}")
                if "dig" in words:
                    self.check_dig(words[words.index("dig") + 1:])
                    checked["dig"] += 1
        self.assertTrue(all(checked.values()), checked)

    def check_meshdns(self, words):
        if "|" in words:
            bar = words.index("|")
            meshdns, consumer = words[:bar], words[bar + 1:]
            self.assertEqual(meshdns[1], "manifests", "only manifests is piped")
            self.assertEqual(consumer[0], "kubectl")
            self.assertEqual(consumer[-3:], ["apply", "-f", "-"])
            self.assertNotIn("|", consumer)
        else:
            meshdns = words
            self.assertFalse({">", ">>", "<"} & set(words), "no redirections")
        r = run_meshdns(meshdns)
        self.assertEqual(r.returncode, 0, r.stderr)
        if "|" in words:
            code, report = validate(r.stdout)
            self.assertEqual(code, 0, report)
            self.assertEqual(len(re.findall(r"(?m)^ok ", report)),
                             len([d for d in yaml.safe_load_all(r.stdout) if d]), report)

    def check_dig(self, args):
        names = [a for a in args if not a.startswith(("+", "@", "-")) and "." in a
                 and not re.fullmatch(r"[\d.]+", a)]
        ports = [a for a, b in zip(args, args[1:]) if a == "-p"]
        self.assertEqual(len(names), 1, args)
        name = names[0].rstrip(".")
        ok = name.endswith(".svc.clusterset.local") or any(
            name.endswith(f".{c}.svc.cluster.local") for c in MESH_CLUSTERS)
        self.assertTrue(ok, f"{name} is not a name the mesh serves")
        if ports:
            self.assertEqual(args[args.index("-p") + 1], "30053", "the NodePort")

    def test_every_platform_has_a_walkthrough_that_ends_in_dig(self):
        guide = read(GUIDE)
        for heading in ("## kind: three multi-node clusters", "## EKS", "## KKP", "## kubespray"):
            with self.subTest(heading):
                start = guide.index(heading)
                section = guide[start:guide.index("\n## ", start + 1)]
                self.assertRegex(section, r"build/meshdns manifests --values deploy/values/\S+ \| kubectl")
                self.assertRegex(section, r"exec \S+ -- dig ")

    def test_every_platform_file_is_named_by_the_guide(self):
        named = {p for words in self.sh_commands() for p in repo_paths(words)}
        guide = read(GUIDE)
        for path in glob.glob(os.path.join(PLATFORMS, "**", "*.*"), recursive=True):
            rel = os.path.relpath(path, ROOT)
            with self.subTest(rel):
                self.assertTrue(rel in named or f"`{rel}`" in guide, f"{rel} is not used by the guide")

    def test_yaml_blocks(self):
        with open(os.path.join(ROOT, "deploy", "values", "kind", "cluster1.mesh.yaml")) as f:
            mesh = yaml.safe_load(f)
        yaml_blocks = [text for lang, text in self.blocks if lang == "yaml"]
        self.assertEqual(len(yaml_blocks), 2)
        for text in yaml_blocks:
            doc = yaml.safe_load(text)
            with tempfile.TemporaryDirectory() as d:
                if "image" in doc:
                    # The values reference: every key it shows is one the generator accepts.
                    with open(os.path.join(d, "cluster1.mesh.yaml"), "w") as f:
                        yaml.safe_dump(mesh, f)
                    path = os.path.join(d, "values.yaml")
                    with open(path, "w") as f:
                        f.write(text)
                    r = subprocess.run([meshlab.MESHDNS, "manifests", "--values", path], capture_output=True,
                                       text=True)
                else:
                    # A mesh file fragment: merged into cluster1's mesh file, it checks.
                    path = os.path.join(d, "mesh.yaml")
                    with open(path, "w") as f:
                        yaml.safe_dump({**mesh, **doc}, f)
                    r = subprocess.run([meshlab.MESHDNS, "check", "--config", path], capture_output=True, text=True)
                self.assertEqual(r.returncode, 0, r.stderr)

    def test_text_blocks_name_what_exists(self):
        for lang, text in self.blocks:
            if lang != "text":
                continue
            top = text.split()[0].rstrip("/")
            for entry in re.findall(r"(?m)^  (\S+)", text):
                entry = re.sub(r"<[^>]+>/?$", "", entry)
                with self.subTest(entry):
                    self.assertTrue(os.path.exists(os.path.join(ROOT, top, entry)), entry)


class PlatformFilesTest(unittest.TestCase):
    def test_kind_clusters(self):
        configs = sorted(glob.glob(os.path.join(PLATFORMS, "kind", "*.kind.yaml")))
        self.assertEqual([os.path.basename(c) for c in configs], [f"cluster{n}.kind.yaml" for n in (1, 2, 3)])
        pod_ranges = []
        for path in configs:
            with self.subTest(os.path.basename(path)):
                (c,) = load_all(path)
                self.assertEqual(c["apiVersion"], "kind.x-k8s.io/v1alpha4")
                self.assertEqual(c["kind"], "Cluster")
                name = os.path.basename(path).split(".")[0]
                self.assertEqual(c["name"], name, "context kind-<name>, which the guide's commands use")
                self.assertGreater(len(c["nodes"]), 1)
                self.assertEqual(sum(n["role"] == "control-plane" for n in c["nodes"]), 1)
                self.assertTrue(c["networking"]["disableDefaultCNI"], "Cilium is the CNI")
                # The pinned ClusterIP and kube-dns of the values and mesh files are in the service range.
                values = load_all(os.path.join(ROOT, "deploy", "values", "kind", f"{name}.values.yaml"))[0]
                service = ipaddress.ip_network(c["networking"]["serviceSubnet"])
                self.assertIn(ipaddress.ip_address(values["service"]["clusterIP"]), service)
                self.assertIn(ipaddress.ip_address("10.96.0.10"), service, "kind's kube-dns")
                pod_ranges.append(ipaddress.ip_network(c["networking"]["podSubnet"]))
                self.assertFalse(pod_ranges[-1].overlaps(service))
        for i, a in enumerate(pod_ranges):
            for b in pod_ranges[i + 1:]:
                self.assertFalse(a.overlaps(b), "ClusterMesh routes pod addresses: ranges must be distinct")

    def test_cilium_values(self):
        ids = {}
        for n in (1, 2, 3):
            (v,) = load_all(os.path.join(PLATFORMS, "kind", f"cilium-cluster{n}.yaml"))
            self.assertEqual(v["cluster"]["name"], f"cluster{n}")
            self.assertTrue(1 <= v["cluster"]["id"] <= 255)
            ids[v["cluster"]["name"]] = v["cluster"]["id"]
        self.assertEqual(len(set(ids.values())), 3, "distinct cluster.id")

    def test_kubernetes_objects_pass_the_schemas(self):
        self.assertIsNotNone(shutil.which("node"), "scripts/install-deps.sh installs nodejs")
        for rel in ("dnsutils.yaml", "demo.yaml", "kkp/dnsutils-meshdns.yaml"):
            with self.subTest(rel):
                with open(os.path.join(PLATFORMS, rel)) as f:
                    stream = f.read()
                code, report = validate(stream)
                self.assertEqual(code, 0, report)
                self.assertEqual(len(re.findall(r"(?m)^ok ", report)), len([d for d in yaml.safe_load_all(stream) if d]))

    def test_demo_has_the_services_the_guide_asks_for(self):
        objects = load_all(os.path.join(PLATFORMS, "demo.yaml"))
        services = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Service"}
        self.assertEqual(set(services), {"echo", "echo-headless"})
        self.assertEqual(services["echo-headless"]["spec"]["clusterIP"], "None")
        self.assertIn("http", [p["name"] for p in services["echo-headless"]["spec"]["ports"]], "_http._tcp SRV")
        self.assertTrue(all(o["metadata"].get("namespace", "demo") == "demo" for o in objects))

    def test_kkp_pod_asks_meshdns_with_the_cluster_search_list(self):
        (pod,) = load_all(os.path.join(PLATFORMS, "kkp", "dnsutils-meshdns.yaml"))
        values = load_all(os.path.join(ROOT, "deploy", "values", "kkp", "cluster1.values.yaml"))[0]
        spec = pod["spec"]
        self.assertEqual(spec["dnsPolicy"], "None")
        self.assertEqual(spec["dnsConfig"]["nameservers"], [values["service"]["clusterIP"]])
        namespace = pod["metadata"]["namespace"]
        self.assertEqual(spec["dnsConfig"]["searches"],
                         [f"{namespace}.svc.cluster.local", "svc.cluster.local", "cluster.local"])
        # meshdns answers the pod's other names through the mesh file's upstream: the cluster's kube-dns.
        mesh = load_all(os.path.join(ROOT, "deploy", "values", "kkp", values["mesh"]))[0]
        self.assertEqual(mesh["upstream"], mesh["clusters"][mesh["cluster"]]["resolvers"])

    def test_eks_addon_corefile_carries_the_printed_block(self):
        with open(os.path.join(PLATFORMS, "eks", "coredns-addon.json")) as f:
            values = json.load(f)
        self.assertEqual(list(values), ["corefile"])
        corefile = values["corefile"]
        r = run_meshdns(["meshdns", "corefile", "--config", "deploy/values/eks/cluster1.mesh.yaml",
                         "--to", "10.100.0.53"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(corefile.endswith(r.stdout), "the printed block, unchanged, after the .:53 block")
        self.assertIn("kubernetes cluster.local in-addr.arpa ip6.arpa", corefile)
        with tempfile.NamedTemporaryFile("w", suffix=".Corefile") as f:
            # The test machine's resolv.conf may name no server at all.
            f.write(corefile.replace("/etc/resolv.conf", "127.0.0.1:53"))
            f.flush()
            r = subprocess.run([meshlab.MESHDNS, "check", "--corefile", f.name, "--ignore-unsupported"],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)

    def test_kubespray_group_vars_are_what_meshdns_prints(self):
        (group_vars,) = load_all(os.path.join(PLATFORMS, "kubespray", "k8s_cluster-meshdns.yml"))
        r = run_meshdns(["meshdns", "corefile", "--config", "deploy/values/kubespray/cluster1.mesh.yaml",
                         "--to", "10.233.0.53", "--format", "kubespray"])
        self.assertEqual(r.returncode, 0, r.stderr)
        printed = yaml.safe_load(r.stdout)
        for key in ("coredns_external_zones", "nodelocaldns_external_zones"):
            self.assertEqual(group_vars[key], printed[key])
        self.assertEqual(group_vars["kube_network_plugin"], "cilium")
        self.assertEqual(group_vars["cilium_cluster_name"], "cluster1")


if __name__ == "__main__":
    unittest.main()
