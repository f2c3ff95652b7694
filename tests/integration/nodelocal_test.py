"""Node-local DNS caches (kubespray's nodelocaldns, KKP's and upstream's
node-local-dns) forward only cluster.local and the reverse zones to kube-dns,
so the mesh's names need blocks of their own there. This takes the real
node-local Corefiles of tests/config/corefiles/ (each names its source at
its top), appends what `meshdns corefile --node-local` prints, and checks
the result the way meshdns reads Corefiles; then it serves the combined
kubespray Corefile with `meshdns serve --corefile` in the node-local cache's
place, in front of the loopback mesh, and asks it for the mesh's names.

`check` reads the bind lines as meshdns serves them (listen_test.py serves
upstream's Corefile on its own addresses in a network namespace); serving
here, on loopback in front of the mesh, drops them for --listen's address.

Addresses: the node-local stand-in 127.12.1.1:5353; the mesh of meshlab.Mesh."""

import os
import re
import subprocess
import tempfile
import unittest

import yaml

import meshlab
from meshlab import BROKER, MESH_PORT, NAMESPACE, NSD_PORT, SERVICE, query

CORPUS = os.path.join(meshlab.REPO, "tests", "config", "corefiles")
NODE_LOCAL = "127.12.1.1"
NODE_LOCAL_PORT = 5353
MESH_ZONES = ["clusterset.local", "cluster1.svc.cluster.local", "cluster2.svc.cluster.local",
              "cluster3.svc.cluster.local"]


def read(name):
    with open(os.path.join(CORPUS, name)) as f:
        return f.read()


def meshdns_cli(*args):
    r = subprocess.run([meshlab.MESHDNS, *args], capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr


def blocks(text):
    """{keys: body} of each server block of a Corefile, comments dropped; braces counted, so the
    upstream file's indented closing braces and nested option blocks end nothing early."""
    out, keys, body, depth = {}, None, [], 0
    for line in re.sub(r"(?m)^\s*#.*\n", "", text).splitlines():
        if depth == 0 and line.rstrip().endswith("{"):
            keys, body, depth = line.rstrip()[:-1].strip(), [], 1
            continue
        depth += line.count("{") - line.count("}")
        if depth == 0:
            out[keys] = "\n".join(body) + "\n"
        else:
            body.append(line)
    return out


class NodeLocalTest(meshlab.MeshTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.config = cls.mesh.write_config(
            "cluster1-mesh", meshlab.meshdns_config(1, "0.0.0.0:5353", [f"{meshlab.kube_dns_addr(1)}:{NSD_PORT}"]))

    def emitted(self, node_local, to=f"{meshlab.meshdns_addr(1)}:{MESH_PORT}"):
        code, out, err = meshdns_cli("corefile", "--config", self.config, "--to", to, "--node-local", node_local)
        self.assertEqual(code, 0, err)
        return out

    def check(self, text):
        """`meshdns check --corefile --ignore-unsupported` on text; returns its stderr."""
        with tempfile.NamedTemporaryFile("w", suffix=".Corefile", dir=self.mesh.dir, delete=False) as f:
            # The build machine's resolv.conf may name no server at all.
            f.write(text.replace("/etc/resolv.conf", f"{meshlab.kube_dns_addr(1)}:{NSD_PORT}"))
        code, _, err = meshdns_cli("check", "--corefile", f.name, "--ignore-unsupported")
        self.assertEqual(code, 0, err)
        return err

    def test_the_blocks_join_each_real_node_local_corefile(self):
        for name, bind in (("kubespray-nodelocaldns.Corefile", "169.254.25.10"),
                           ("node-local-dns-upstream.Corefile", "169.254.20.10,10.96.0.10")):
            with self.subTest(corefile=name):
                base = read(name)
                added = self.emitted(bind, to="10.233.0.53")
                combined = base + added
                warnings = self.check(combined)
                # meshdns runs every directive, bind included: nothing is left out.
                self.assertNotRegex(warnings, r"is not supported|skipped", warnings)
                got = blocks(combined)
                self.assertEqual(len(got), len(blocks(base)) + 1, "one block added, none changed")
                mesh_key = " ".join(f"{z}:53" for z in MESH_ZONES)
                self.assertIn(mesh_key, got)
                body = got[mesh_key]
                self.assertIn(f"\n    bind {bind.replace(',', ' ')}\n", "\n" + body)
                self.assertRegex(body, r"forward \. 10\.233\.0\.53:53 \{\n\s+force_tcp\n")
                # The cache and prometheus lines are the base file's own cluster.local ones.
                cluster_local = got["cluster.local:53"]
                for line in ("success 9984 30", "denial 9984 5", "prometheus :9253", "reload", "loop", "errors"):
                    self.assertIn(line, cluster_local)
                    self.assertIn(line, body)

    def test_kubespray_variables_render_into_the_block_kubespray_writes(self):
        """tests/config/corefiles/kubespray-nodelocaldns-mesh.Corefile is
        kubespray's template rendered with the variables `--format kubespray`
        prints for this mesh (see its header): the zones and nameserver that
        block holds must be the ones the command prints today."""
        code, out, err = meshdns_cli("corefile", "--config", self.config, "--to", "10.233.0.53", "--format",
                                     "kubespray")
        self.assertEqual(code, 0, err)
        variables = yaml.safe_load(out)
        entry = variables["nodelocaldns_external_zones"][0]
        self.assertEqual(entry["zones"], MESH_ZONES)
        self.assertEqual(variables["coredns_external_zones"][0]["zones"], MESH_ZONES)
        rendered = read("kubespray-nodelocaldns-mesh.Corefile")
        self.check(rendered)
        body = blocks(rendered)[" ".join(entry["zones"])]
        self.assertIn(f"forward . {' '.join(entry['nameservers'])}\n", body)
        self.assertIn(f"cache {entry['cache']}\n", body)
        self.assertIn("bind 169.254.25.10\n", body)
        code, _, err = meshdns_cli("corefile", "--config", self.config, "--format", "kubespray", "--node-local",
                                   "169.254.25.10")
        self.assertEqual(code, 2, "kubespray binds nodelocaldns_ip itself")

    def test_the_guides_commands_run(self):
        """Every `meshdns corefile` command of deploy/README.md's node-local
        section, as written there (the --node-local list given inline too)."""
        with open(os.path.join(meshlab.REPO, "deploy", "README.md")) as f:
            guide = f.read()
        section = guide[guide.index("## Node-local DNS caches"):guide.index("What is checked here")]
        commands = re.findall(r"(?m)^build/meshdns (corefile .*)$", section)
        self.assertEqual(len(commands), 2, section)
        inline = re.search(r"`(--node-local [^`]+)`", section).group(1)
        commands.append(commands[0].replace("--node-local 169.254.20.10", inline))
        for command in commands:
            with self.subTest(command=command):
                r = subprocess.run([meshlab.MESHDNS, *command.split()], capture_output=True, text=True,
                                   cwd=meshlab.REPO)
                self.assertEqual(r.returncode, 0, r.stderr)
                for zone in MESH_ZONES:
                    self.assertIn(zone, r.stdout)
                if "--node-local" in command:
                    flag = command.split("--node-local ")[1].split()[0]
                    self.assertIn(f"\n    bind {flag.replace(',', ' ')}\n", r.stdout)
                    self.check(read("node-local-dns-upstream.Corefile") + r.stdout)
                else:
                    self.assertEqual(sorted(yaml.safe_load(r.stdout)),
                                     ["coredns_external_zones", "nodelocaldns_external_zones"])

    def test_served_as_the_node_local_cache_it_resolves_the_mesh(self):
        """The kubespray Corefile plus the emitted block, served on loopback
        in the cache's place: kube-dns and the node's resolvers become
        cluster1's nsd, the block forwards to cluster1's meshdns."""
        text = read("kubespray-nodelocaldns.Corefile") + self.emitted("169.254.25.10")
        text = re.sub(r"(?m)^#.*\n", "", text)
        text = re.sub(r"(?m)^\s*bind .*\n", "", text)
        text = text.replace("10.233.0.3", f"{meshlab.kube_dns_addr(1)}:{NSD_PORT}")
        text = text.replace("/etc/resolv.conf", f"{meshlab.kube_dns_addr(1)}:{NSD_PORT}")
        text = text.replace("169.254.25.10:9254", f"{NODE_LOCAL}:9254")
        text = text.replace("prometheus :9253", f"prometheus {NODE_LOCAL}:9253")
        self.assertNotIn("169.254.", text)
        proc, _ = self.mesh.start_corefile("node-local", text, NODE_LOCAL, port=NODE_LOCAL_PORT)
        try:
            for tcp in (False, True):
                for a in (1, 2, 3):
                    problem = meshlab.check_matrix_cell(a, 1, tcp, lambda b: NODE_LOCAL, port=NODE_LOCAL_PORT)
                    self.assertIsNone(problem, f"cluster{a}'s broker over {'TCP' if tcp else 'UDP'}")
            own = query(NODE_LOCAL, f"{BROKER}.{SERVICE}.{NAMESPACE}.svc.cluster.local.", port=NODE_LOCAL_PORT)
            self.assertEqual([rd.address for rd in own.answer[0]], [meshlab.broker_ip(1)], "cluster.local stays")
            peer = query(NODE_LOCAL, f"{BROKER}.{SERVICE}.{NAMESPACE}.cluster3.svc.cluster.local.", port=NODE_LOCAL_PORT)
            self.assertEqual([rd.address for rd in peer.answer[0]], [meshlab.broker_ip(3)])
        finally:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    unittest.main()
