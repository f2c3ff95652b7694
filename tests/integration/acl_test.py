"""Access control (contract `acl`, like CoreDNS's acl plugin): clients the
ACL admits are answered, the others get REFUSED and are counted, over UDP and
TCP, IPv4 and IPv6. The default (private ranges and loopback only) needs a
client address outside them: that case runs in a network namespace the test
creates, where such addresses can sit on the namespace's own loopback."""

import os
import re
import subprocess
import sys
import textwrap
import unittest
import urllib.request

import dns.message
import dns.query
import dns.rcode

import meshlab

PORT = 30053
PROBE = "dns-version.clusterset.local."  # answered by meshdns itself: no upstream needed
IN_NETNS = "MESHDNS_ACL_IN_NETNS"


def ask(dest, source, tcp):
    q = dns.message.make_query(PROBE, "TXT")
    if tcp:
        return dns.query.tcp(q, dest, port=PORT, timeout=2, source=source)
    return dns.query.udp(q, dest, port=PORT, timeout=2, source=source)


def blocked(metrics_addr):
    text = urllib.request.urlopen(f"http://{metrics_addr}/metrics", timeout=2).read().decode()
    meshlab.check_metrics(text)
    m = re.search(r"^coredns_acl_blocked_requests_total\{[^}]*\} (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


class AclTestBase(unittest.TestCase):
    def serve(self, config, addr):
        mesh = meshlab.Mesh(threads=2)
        self.addCleanup(mesh.stop)
        mesh.start_meshdns("meshdns", config)
        self.assertTrue(meshlab.wait_for_udp_dns(addr, PORT), mesh.log("meshdns"))

    def check(self, cases, metrics_addr):
        """cases: (destination, source, admitted). Each is asked over UDP and TCP."""
        before = blocked(metrics_addr)
        refused = 0
        for dest, source, admitted in cases:
            for tcp in (False, True):
                with self.subTest(source=source, tcp=tcp):
                    r = ask(dest, source, tcp)
                    if admitted:
                        self.assertEqual(r.rcode(), dns.rcode.NOERROR)
                        self.assertTrue(r.answer, "an admitted client gets the answer")
                    else:
                        self.assertEqual(r.rcode(), dns.rcode.REFUSED)
                        self.assertFalse(r.answer)
                        refused += 1
        self.assertEqual(blocked(metrics_addr), before + refused, "every refusal is counted")


class ConfiguredAclTest(AclTestBase):
    def test_allow_and_deny_lists(self):
        self.serve(textwrap.dedent(f"""\
            cluster: cluster1
            listen: ["127.10.9.1:{PORT}", "[::1]:{PORT}"]
            clusters:
              cluster1:
                resolvers: ["127.10.9.9:5300"]
            acl:
              allow: ["127.10.9.0/24", "::1/128"]
              deny: ["127.10.9.66/32"]
            metrics: "127.10.9.1:9153"
            """), "127.10.9.1")
        self.check([
            ("127.10.9.1", "127.10.9.5", True),     # inside allow
            ("127.10.9.1", "127.10.9.66", False),   # inside allow, but denied: deny wins
            ("127.10.9.1", "127.0.0.1", False),     # loopback, but not in this allow list
            ("::1", "::1", True),
        ], "127.10.9.1:9153")


class DefaultAclTest(unittest.TestCase):
    def test_default_admits_private_ranges_and_loopback_only(self):
        # Runs DefaultAclInNamespace below inside a new network namespace.
        cmd = ["unshare", "--net"] if os.geteuid() == 0 else ["unshare", "-rn"]
        r = subprocess.run(cmd + [sys.executable, "-m", "unittest", "-v", "acl_test.DefaultAclInNamespace"],
                           cwd=os.path.dirname(os.path.abspath(__file__)), env={**os.environ, IN_NETNS: "1"},
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("Ran 1 test", r.stderr)
        self.assertNotIn("skipped", r.stderr)


@unittest.skipUnless(os.environ.get(IN_NETNS), "run by DefaultAclTest inside its own network namespace")
class DefaultAclInNamespace(AclTestBase):
    def test_default(self):
        for cmd in (["ip", "link", "set", "lo", "up"],
                    ["ip", "addr", "add", "198.51.100.7/32", "dev", "lo"],   # public (documentation range)
                    ["ip", "addr", "add", "10.20.30.40/32", "dev", "lo"],    # RFC 1918
                    ["ip", "-6", "addr", "add", "2001:db8::7/128", "dev", "lo", "nodad"],
                    ["ip", "-6", "addr", "add", "fd00::7/128", "dev", "lo", "nodad"]):  # unique local
            subprocess.run(cmd, check=True)
        # No `acl` key: the default applies.
        self.serve(textwrap.dedent(f"""\
            cluster: cluster1
            listen: ["127.0.0.1:{PORT}", "198.51.100.7:{PORT}", "10.20.30.40:{PORT}", "[::1]:{PORT}",
                     "[2001:db8::7]:{PORT}", "[fd00::7]:{PORT}"]
            clusters:
              cluster1:
                resolvers: ["127.0.0.1:5300"]
            metrics: "127.0.0.1:9153"
            """), "127.0.0.1")
        self.check([
            ("127.0.0.1", "127.0.0.1", True),
            ("10.20.30.40", "10.20.30.40", True),
            ("198.51.100.7", "198.51.100.7", False),
            ("::1", "::1", True),
            ("fd00::7", "fd00::7", True),
            ("2001:db8::7", "2001:db8::7", False),
        ], "127.0.0.1:9153")


if __name__ == "__main__":
    unittest.main()
