"""CoreDNS's local, any, chaos, whoami, acl and view plugins, rewrite edns0 and
cname, and its server-level REFUSED cases, as `meshdns serve --corefile` runs
them (issue #19), checked against what each plugin's README (and code, for the
exact records) says it returns: CoreDNS v1.14.7's
plugin/{local,any,chaos,whoami,acl,rewrite,view}/README.md and core/dnsserver/server.go.

Addresses: stand-in resolver 127.19.9.1:5300 (fakes.FakeResolver, which
counts the questions that reach it), the echo stand-in 127.19.9.3:5300
(casefakes.ZoneServer, whose TXT tells the EDNS options it was sent), the CDN
stand-in 127.19.9.6:5300 (casefakes.ZoneServer with the replies of the rewrite
README's cname example), a slow resolver 127.19.9.7:5300 and a silent one
127.19.9.8:5300 (fakes.FakeResolver); meshdns 127.19.9.2:5353 (prometheus on
127.19.9.2:9153) and 127.19.9.4:5353 for a server without chaos or forward;
clients ask from 127.19.9.10 (allowed), .11 (blocked), .12 (filtered) and
.13 (dropped), all on loopback. The view server: meshdns 127.19.9.6:5353
(prometheus on 127.19.9.6:9153), asked from 127.19.9.20, .21 and .22."""

import os
import re
import socket
import subprocess
import time
import unittest
import urllib.request

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype

import meshlab
from casefakes import ZoneServer, opts_text
from fakes import FakeResolver

STAND_IN = "127.19.9.1"
ECHO = "127.19.9.3"
CDN = "127.19.9.6"
SLOW, SILENT = "127.19.9.7", "127.19.9.8"  # a resolver that answers after 0.5 s, one that never does
STAND_IN_PORT = 5300
MESHDNS_ADDR = "127.19.9.2"
BARE_ADDR = "127.19.9.4"
CHAOS_ADDR = "127.19.9.5"
PORT = 5353
ALLOWED, BLOCKED, FILTERED, DROPPED = "127.19.9.10", "127.19.9.11", "127.19.9.12", "127.19.9.13"

COREFILE = f""".:{PORT} {{
    local
    any
    chaos e2e-version Bob Alice
    acl {{
        allow net {ALLOWED}
        block net {BLOCKED}
        filter net {FILTERED}
        drop net {DROPPED}
    }}
    prometheus {MESHDNS_ADDR}:9153
    cache 60
    forward . {STAND_IN}:{STAND_IN_PORT}
}}
whoami.test:{PORT} {{
    whoami
}}
acl.example.test:{PORT} {{
    acl acl.example.test {{
        block type AAAA net 127.19.9.0/24
    }}
    forward . {STAND_IN}:{STAND_IN_PORT}
}}
empty.test:{PORT} {{
    health {MESHDNS_ADDR}:8080
}}
edns.test:{PORT} {{
    rewrite continue edns0 local set 0xffee {{client_ip}}
    rewrite continue edns0 local set 0xffef {{server_ip}}
    rewrite continue edns0 local set 0xfff0 {{client_port}}
    rewrite continue edns0 subnet set 24 56
    rewrite edns0 local unset 0xfde9
    cache 60
    forward . {ECHO}:{STAND_IN_PORT}
}}
my-app.com:{PORT} {{
    rewrite cname regex (.*).cdn.example.net. {{1}}.other.cdn.com.
    cache 300
    forward . {CDN}:{STAND_IN_PORT}
}}
other.cdn.com:{PORT} {{
    cache 300
    forward . {CDN}:{STAND_IN_PORT}
}}
my-slow.com:{PORT} {{
    rewrite cname regex (.*).cdn.example.net. {{1}}.slow.cdn.com.
    forward . {CDN}:{STAND_IN_PORT}
}}
slow.cdn.com:{PORT} {{
    forward . {SLOW}:{STAND_IN_PORT}
}}
my-silent.com:{PORT} {{
    rewrite cname regex (.*).cdn.example.net. {{1}}.silent.cdn.com.
    forward . {CDN}:{STAND_IN_PORT}
}}
silent.cdn.com:{PORT} {{
    forward . {SILENT}:{STAND_IN_PORT}
}}
"""
# plugin/rewrite/README.md "CNAME Field Rewrites": what the CDN answers.
CDN_REPLIES = {
    "my-app.com. A": {"answer": ["my-app.com. 200 IN CNAME my-app.example.",
                                 "my-app.example. 200 IN CNAME my-app.com.cdn.example.net.",
                                 "my-app.com.cdn.example.net. 300 IN A 20.2.0.1",
                                 "my-app.com.cdn.example.net. 300 IN A 20.2.0.2"]},
    "my-app.com.other.cdn.com. A": {"answer": ["my-app.com.other.cdn.com. 100 IN A 30.3.1.2"]},
    "my-slow.com. A": {"answer": ["my-slow.com. 200 IN CNAME my-slow.com.cdn.example.net.",
                                  "my-slow.com.cdn.example.net. 300 IN A 20.2.0.1"]},
    "my-silent.com. A": {"answer": ["my-silent.com. 200 IN CNAME my-silent.com.cdn.example.net.",
                                    "my-silent.com.cdn.example.net. 300 IN A 20.2.0.1"]},
}

# A server whose blocks have neither chaos nor forward: classes other than IN are REFUSED.
BARE_COREFILE = f""".:{PORT} {{
    whoami
}}
"""
# chaos without a VERSION: meshdns names itself.
CHAOS_COREFILE = f""".:{PORT} {{
    chaos
}}
"""


VIEW_ADDR = "127.19.9.6"
VIEW_ONE, VIEW_TWO, VIEW_OTHER = "127.19.9.20", "127.19.9.21", "127.19.9.22"
# view's README example (CIDR split DNS), with the clients' addresses, a view
# by type and name, and a cache in two blocks of the same zone.
VIEW_COREFILE = f""".:{PORT} {{
    view example1 {{
        expr incidr(client_ip(), '{VIEW_ONE}/32')
    }}
    hosts {{
        1.1.1.1 test
        fallthrough
    }}
    cache 60
    forward . {STAND_IN}:{STAND_IN_PORT}
}}
.:{PORT} {{
    view example2 {{
        expr incidr(client_ip(), '{VIEW_TWO}/32')
    }}
    hosts {{
        2.2.2.2 test
    }}
}}
.:{PORT} {{
    view by-type {{
        expr type() in ['TXT', 'MX'] && (name() endsWith '.split.test.' || name() matches '^txt\\\\.')
    }}
    hosts {{
        4.4.4.4 typed.split.test
    }}
}}
.:{PORT} {{
    prometheus {VIEW_ADDR}:9153
    hosts {{
        3.3.3.3 test
        fallthrough
    }}
    cache 60
    forward . {STAND_IN}:{STAND_IN_PORT}
}}
"""


def ask(name, rdtype="A", *, rdclass="IN", source=ALLOWED, addr=MESHDNS_ADDR, tcp=False, edns=True, timeout=2.0):
    q = dns.message.make_query(name, rdtype, rdclass, use_edns=0 if edns else False, payload=1232)
    if tcp:
        return dns.query.tcp(q, addr, port=PORT, timeout=timeout, source=source)
    return dns.query.udp(q, addr, port=PORT, timeout=timeout, source=source)


def texts(section):
    return sorted(f"{rrset.name} {rrset.ttl} {dns.rdataclass.to_text(rrset.rdclass)} "
                  f"{dns.rdatatype.to_text(rrset.rdtype)} {rd.to_text()}" for rrset in section for rd in rrset)


def ede(reply):
    return [o.code for o in reply.options if isinstance(o, dns.edns.EDEOption)]


class PluginsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stand_in = FakeResolver(STAND_IN, STAND_IN_PORT, address="192.0.2.7", ttl=60)
        cls.echo = ZoneServer(ECHO, STAND_IN_PORT, "echo")
        cls.cdn = ZoneServer(CDN, STAND_IN_PORT, "auth", canned=CDN_REPLIES)
        cls.slow = FakeResolver(SLOW, STAND_IN_PORT, address="192.0.2.70", ttl=60, delay=0.5, overlap=True)
        cls.silent = FakeResolver(SILENT, STAND_IN_PORT, mode="silent")  # bound, never answers
        cls.mesh = meshlab.Mesh()
        for name, text in (("plugins", COREFILE), ("bare", BARE_COREFILE), ("chaos", CHAOS_COREFILE),
                           ("view", VIEW_COREFILE)):
            path = os.path.join(cls.mesh.dir, f"check-{name}.Corefile")
            with open(path, "w") as f:
                f.write(text)
            r = subprocess.run([meshlab.MESHDNS, "check", "--corefile", path], capture_output=True, text=True)
            assert r.returncode == 0, r.stderr
        cls.mesh.start_corefile("plugins", COREFILE, MESHDNS_ADDR, PORT)
        cls.mesh.start_corefile("bare", BARE_COREFILE, BARE_ADDR, PORT)
        cls.mesh.start_corefile("chaos", CHAOS_COREFILE, CHAOS_ADDR, PORT)
        cls.mesh.start_corefile("view", VIEW_COREFILE, VIEW_ADDR, PORT)

    @classmethod
    def tearDownClass(cls):
        cls.mesh.stop()
        cls.stand_in.close()
        cls.echo.stop()
        cls.cdn.stop()
        cls.slow.close()
        cls.silent.close()

    # -- chaos: CH TXT, TTL 0, no AA ------------------------------------------------
    def test_chaos_answers_version_authors_and_hostname(self):
        v = ask("version.bind.", "TXT", rdclass="CH")
        self.assertEqual(v.rcode(), dns.rcode.NOERROR)
        self.assertFalse(v.flags & dns.flags.AA)
        self.assertEqual(texts(v.answer), ['version.bind. 0 CH TXT "e2e-version"'])
        self.assertEqual(texts(ask("VERSION.SERVER.", "TXT", rdclass="CH").answer),
                         ['VERSION.SERVER. 0 CH TXT "e2e-version"'])
        self.assertEqual(texts(ask("authors.bind.", "TXT", rdclass="CH").answer),
                         ['authors.bind. 0 CH TXT "Alice"', 'authors.bind. 0 CH TXT "Bob"'])
        host = socket.gethostname()[:255]
        self.assertEqual(texts(ask("hostname.bind.", "TXT", rdclass="CH").answer), [f'hostname.bind. 0 CH TXT "{host}"'])
        self.assertEqual(texts(ask("id.server.", "TXT", rdclass="CH").answer), [f'id.server. 0 CH TXT "{host}"'])
        self.assertEqual(self.stand_in.count("version.bind."), 0)

    def test_chaos_without_a_version_names_meshdns(self):
        version = subprocess.run([meshlab.MESHDNS, "version"], capture_output=True, text=True).stdout
        m = re.match(r"meshdns (\S+)", version)
        self.assertIsNotNone(m, version)
        r = ask("version.bind.", "TXT", rdclass="CH", addr=CHAOS_ADDR)
        self.assertEqual(texts(r.answer), [f'version.bind. 0 CH TXT "meshdns-{m.group(1)}"'])
        authors = ask("authors.bind.", "TXT", rdclass="CH", addr=CHAOS_ADDR)
        self.assertEqual(authors.rcode(), dns.rcode.NOERROR)
        self.assertEqual(authors.answer, [], "meshdns lists no authors unless the Corefile names them")
        self.assertEqual(ask("example.org.", "A", addr=CHAOS_ADDR).rcode(), dns.rcode.SERVFAIL,
                         "a chain nobody answers in: SERVFAIL, not REFUSED")

    # -- any: RFC 8482 -------------------------------------------------------------------
    def test_any_gets_the_rfc_8482_hinfo(self):
        r = ask("www.example.test.", "ANY")
        self.assertEqual(r.rcode(), dns.rcode.NOERROR)
        self.assertEqual(texts(r.answer), ['www.example.test. 8482 IN HINFO "ANY obsoleted" "See RFC 8482"'])
        self.assertEqual(self.stand_in.count("www.example.test."), 0, "nothing is forwarded")

    # -- local ---------------------------------------------------------------------------
    def test_local_answers_localhost_and_the_loopback_reverse_zones(self):
        r = ask("localhost.", "A")
        self.assertEqual(texts(r.answer), ["localhost. 604800 IN A 127.0.0.1"])
        self.assertFalse(r.flags & dns.flags.AA)
        self.assertEqual(texts(ask("localhost.", "AAAA").answer), ["localhost. 604800 IN AAAA ::1"])
        self.assertEqual(texts(ask("app.localhost.", "AAAA").answer), ["app.localhost. 604800 IN AAAA ::1"])
        self.assertEqual(texts(ask("localhost.example.test.", "A").answer),
                         ["localhost.example.test. 604800 IN A 127.0.0.1"], "localhost_prefix is on by default")
        self.assertEqual(texts(ask("1.0.0.127.in-addr.arpa.", "PTR").answer),
                         ["1.0.0.127.in-addr.arpa. 604800 IN PTR localhost."])
        nx = ask("5.0.0.127.in-addr.arpa.", "PTR")
        self.assertEqual(nx.rcode(), dns.rcode.NXDOMAIN)
        self.assertEqual(texts(nx.authority),
                         ["127.in-addr.arpa. 604800 IN SOA localhost. root.localhost. 1 0 0 0 604800"])
        nodata = ask("0.in-addr.arpa.", "A")
        self.assertEqual(nodata.rcode(), dns.rcode.NOERROR)
        self.assertEqual(nodata.answer, [])
        for name in ("localhost.", "app.localhost.", "localhost.example.test.", "5.0.0.127.in-addr.arpa."):
            self.assertEqual(self.stand_in.count(name), 0, f"{name} never leaves")

    # -- whoami --------------------------------------------------------------------------
    def test_whoami_reports_the_clients_address_port_and_transport_never_cached(self):
        ports = set()
        for tcp in (False, True, False):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.bind((ALLOWED, 0))
                port = s.getsockname()[1]
            q = dns.message.make_query("Whoami.test.", "A")
            if tcp:
                r = dns.query.tcp(q, MESHDNS_ADDR, port=PORT, timeout=2, source=ALLOWED, source_port=port)
            else:
                r = dns.query.udp(q, MESHDNS_ADDR, port=PORT, timeout=2, source=ALLOWED, source_port=port)
            self.assertEqual(r.rcode(), dns.rcode.NOERROR)
            self.assertTrue(r.flags & dns.flags.AA)
            self.assertEqual(r.answer, [])
            proto = "tcp" if tcp else "udp"
            self.assertEqual(texts(r.additional), sorted([f"Whoami.test. 0 IN A {ALLOWED}",
                                                          f"_{proto}.Whoami.test. 0 IN SRV 0 0 {port} ."]))
            ports.add(port)
        self.assertEqual(len(ports), 3, "each answer carries its own client's port: nothing was cached")

    # -- rewrite edns0 ---------------------------------------------------------------------
    def test_rewrite_edns0_edits_the_options_the_resolver_is_sent(self):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((ALLOWED, 0))
            port = s.getsockname()[1]
        cookie = dns.edns.GenericOption(10, bytes.fromhex("0102030405060708"))
        unset = dns.edns.GenericOption(0xfde9, b"gone")
        q = dns.message.make_query("opts.edns.test.", "TXT", use_edns=0, payload=1232, options=[cookie, unset])
        r = dns.query.udp(q, MESHDNS_ADDR, port=PORT, timeout=2, source=ALLOWED, source_port=port)
        self.assertEqual(r.rcode(), dns.rcode.NOERROR)
        fields = dict(p.split("=", 1) for p in b"".join(r.answer[0][0].strings).decode().split() if "=" in p)
        # The client's cookie passes on, 0xfde9 is unset, then the four rules' options in order:
        # {client_ip}, {server_ip} (the listener's address), {client_port}, and ECS for the client's /24.
        self.assertEqual(fields["opts"], ",".join([
            "10:0102030405060708",
            "65518:" + socket.inet_aton(ALLOWED).hex(),
            "65519:" + socket.inet_aton(MESHDNS_ADDR).hex(),
            "65520:" + port.to_bytes(2, "big").hex(),
            "ecs:127.19.9.0/24"]))
        self.assertEqual(fields["n"], "1")
        # The client's reply carries none of them (meshdns writes its OPT itself).
        self.assertGreaterEqual(r.edns, 0)
        self.assertEqual(opts_text(r), "-")
        # The cache keys on the question alone, as CoreDNS's: another client gets the first one's answer
        # (the upstream is not asked again), ECS and all.
        other = dns.query.udp(dns.message.make_query("opts.edns.test.", "TXT"), MESHDNS_ADDR, port=PORT,
                              timeout=2, source=FILTERED)
        self.assertEqual(texts(other.answer)[0].split('"')[1], b"".join(r.answer[0][0].strings).decode())

    # -- rewrite cname ---------------------------------------------------------------------
    def test_rewrite_cname_sends_the_chain_to_the_new_target(self):
        # The README's example: the chain is kept up to the CNAME whose target the regex matches,
        # that target becomes my-app.com.other.cdn.com., and the rest is its lookup's answer,
        # which goes through the server again (the other.cdn.com block here).
        r = ask("my-app.com.")
        self.assertEqual(r.rcode(), dns.rcode.NOERROR)
        self.assertFalse(r.flags & dns.flags.TC)
        self.assertEqual([(rrset.name.to_text(), dns.rdatatype.to_text(rrset.rdtype)) for rrset in r.answer],
                         [("my-app.com.", "CNAME"), ("my-app.example.", "CNAME"), ("my-app.com.other.cdn.com.", "A")])
        self.assertEqual(texts(r.answer), sorted([
            "my-app.com. 100 IN CNAME my-app.example.",
            "my-app.example. 100 IN CNAME my-app.com.other.cdn.com.",
            "my-app.com.other.cdn.com. 100 IN A 30.3.1.2"]))
        self.assertEqual(self.cdn.counts.get("my-app.com.other.cdn.com."), 1)
        self.assertNotIn("my-app.com.cdn.example.net.", self.cdn.counts, "the old target is never asked")
        # Cached under the client's question, for no longer than the lookup's answer: a second
        # client gets the same answer and neither name is asked again.
        again = ask("my-app.com.", source=FILTERED)
        self.assertEqual(sorted(t.split(" ", 2)[2] for t in texts(again.answer)),
                         sorted(t.split(" ", 2)[2] for t in texts(r.answer)))
        self.assertTrue(all(rrset.ttl <= 100 for rrset in again.answer))
        self.assertEqual(self.cdn.counts.get("my-app.com."), 1)
        self.assertEqual(self.cdn.counts.get("my-app.com.other.cdn.com."), 1)

    def test_rewrite_cname_waits_for_a_slow_lookup_and_gives_up_on_a_silent_one(self):
        started = time.time()
        r = ask("my-slow.com.", timeout=5)
        self.assertEqual(texts(r.answer), sorted([
            "my-slow.com. 200 IN CNAME my-slow.com.slow.cdn.com.",
            "my-slow.com.slow.cdn.com. 60 IN A 192.0.2.70"]), "the slow lookup's answer spliced in, each record with its own TTL (no cache)")
        self.assertGreaterEqual(time.time() - started, 0.5)
        started = time.time()
        r = ask("my-silent.com.", timeout=6)
        took = time.time() - started
        # A lookup nothing answers fails the question (a proposed difference: CoreDNS keeps the cut chain).
        self.assertEqual(r.rcode(), dns.rcode.SERVFAIL)
        self.assertLess(took, 4.0, "within the query budget, not the client's patience")
        self.assertIn("my-silent.com.silent.cdn.com.", self.silent.names)
        self.assertEqual(ask("whoami.test.").rcode(), dns.rcode.NOERROR, "the server answers on")

    # -- acl -----------------------------------------------------------------------------
    def test_acl_blocks_filters_and_drops_before_the_cache(self):
        name = "cached.example.test."
        first = ask(name, source=ALLOWED)
        self.assertEqual([rd.address for rrset in first.answer for rd in rrset], ["192.0.2.7"])
        self.assertTrue(ask(name, source=ALLOWED).flags & dns.flags.AA, "the second answer is the cache's")

        blocked = ask(name, source=BLOCKED)
        self.assertEqual(blocked.rcode(), dns.rcode.REFUSED, "a blocked client never gets the cached answer")
        self.assertEqual(blocked.answer, [])
        self.assertEqual(ede(blocked), [15], "EDE Blocked")
        plain = ask(name, source=BLOCKED, edns=False)
        self.assertEqual(plain.rcode(), dns.rcode.REFUSED)
        self.assertEqual(plain.edns, -1, "no OPT to a query without one")
        self.assertEqual(ask(name, source=BLOCKED, tcp=True).rcode(), dns.rcode.REFUSED)

        filtered = ask(name, source=FILTERED)
        self.assertEqual(filtered.rcode(), dns.rcode.NOERROR)
        self.assertEqual(filtered.answer, [])
        self.assertEqual(ede(filtered), [17], "EDE Filtered")

        with self.assertRaises(dns.exception.Timeout):
            ask(name, source=DROPPED, timeout=0.5)
        self.assertEqual(self.stand_in.count(name), 1, "only the first allowed question was forwarded")

        # local, any and chaos come before acl in CoreDNS's plugin order.
        self.assertEqual(texts(ask("version.bind.", "TXT", rdclass="CH", source=BLOCKED).answer),
                         ['version.bind. 0 CH TXT "e2e-version"'])
        self.assertEqual(texts(ask("localhost.", "A", source=BLOCKED).answer), ["localhost. 604800 IN A 127.0.0.1"])

        samples = meshlab.scrape(f"{MESHDNS_ADDR}:9153")  # also checks the page's format
        for family in ("blocked", "filtered", "dropped", "allowed"):
            values = [v for (name, _), v in samples.items() if name == f"coredns_acl_{family}_requests_total"]
            self.assertEqual(len(values), 1, family)
            self.assertGreaterEqual(values[0], 1, family)

    def test_acl_drop_over_tcp_answers_nothing_and_keeps_the_connection(self):
        q = dns.message.make_query("kept.example.test.", "A").to_wire()
        with socket.create_connection((MESHDNS_ADDR, PORT), timeout=0.5, source_address=(DROPPED, 0)) as s:
            s.sendall(len(q).to_bytes(2, "big") + q)
            with self.assertRaises(socket.timeout, msg="no reply, and no close either (as CoreDNS)"):
                s.recv(2)

    def test_an_acl_for_a_zone_and_a_type(self):
        self.assertEqual(ask("www.acl.example.test.", "A", source=ALLOWED).rcode(), dns.rcode.NOERROR)
        blocked = ask("www.acl.example.test.", "AAAA", source=ALLOWED)
        self.assertEqual(blocked.rcode(), dns.rcode.REFUSED)
        self.assertEqual(ede(blocked), [15])

    # -- server.go: REFUSED without plugins, and for other classes ----------------------------
    def test_a_block_without_plugins_is_refused(self):
        r = ask("www.empty.test.", "A")
        self.assertEqual(r.rcode(), dns.rcode.REFUSED)
        self.assertEqual(self.stand_in.count("www.empty.test."), 0)

    def test_other_classes_are_refused_without_chaos_or_forward(self):
        for rdclass in ("CH", "HS"):
            r = ask("whoami.example.", "TXT", rdclass=rdclass, addr=BARE_ADDR)
            self.assertEqual(r.rcode(), dns.rcode.REFUSED, rdclass)
        self.assertEqual(ask("whoami.example.", "A", addr=BARE_ADDR).rcode(), dns.rcode.NOERROR)


    # -- view: the first block (in file order) whose view holds takes the query --------
    def test_view_splits_by_client_address(self):
        for tcp in (False, True):
            # `cache 60` caps the TTL of the blocks that have it.
            for source, want in ((VIEW_ONE, "60 IN A 1.1.1.1"), (VIEW_TWO, "3600 IN A 2.2.2.2"),
                                 (VIEW_OTHER, "60 IN A 3.3.3.3")):
                r = ask("test.", "A", source=source, addr=VIEW_ADDR, tcp=tcp)
                self.assertEqual(texts(r.answer), [f"test. {want}"], (source, tcp))

    def test_view_splits_by_client_address_for_dig(self):
        # A real client: dig's -b picks the source address the view judges.
        for source, want in ((VIEW_ONE, "1.1.1.1"), (VIEW_TWO, "2.2.2.2"), (VIEW_OTHER, "3.3.3.3")):
            for transport in ("+notcp", "+tcp"):
                out = subprocess.run(["dig", f"@{VIEW_ADDR}", "-p", str(PORT), "-b", source, transport, "+short",
                                      "+time=2", "+tries=1", "test.", "A"],
                                     capture_output=True, text=True, timeout=10)
                self.assertEqual(out.stdout.split(), [want], (source, transport, out.stderr))

    def test_view_by_type_and_name(self):
        r = ask("typed.split.test.", "MX", source=VIEW_OTHER, addr=VIEW_ADDR)
        self.assertEqual((r.rcode(), r.answer), (dns.rcode.NOERROR, []), "the by-type block: NODATA from its hosts")
        before = self.stand_in.count("typed.split.test.")
        r = ask("typed.split.test.", "A", source=VIEW_OTHER, addr=VIEW_ADDR)
        self.assertEqual(texts(r.answer), ["typed.split.test. 60 IN A 192.0.2.7"], "A is not in the view: forwarded")
        self.assertEqual(self.stand_in.count("typed.split.test."), before + 1)
        r = ask("txt.example.", "TXT", source=VIEW_OTHER, addr=VIEW_ADDR)
        # hosts without fallthrough answers SERVFAIL for a name it does not hold (its README).
        self.assertEqual((r.rcode(), r.answer), (dns.rcode.SERVFAIL, []), "matches '^txt\\.': the by-type block")

    def test_each_view_keeps_its_own_cache_entries(self):
        name = "cached.view.example."
        self.assertEqual(ask(name, source=VIEW_ONE, addr=VIEW_ADDR).rcode(), dns.rcode.NOERROR)
        self.assertEqual(ask(name, source=VIEW_ONE, addr=VIEW_ADDR).rcode(), dns.rcode.NOERROR)
        self.assertEqual(self.stand_in.count(name), 1, "the second answer is example1's cache")
        self.assertEqual(ask(name, source=VIEW_OTHER, addr=VIEW_ADDR).rcode(), dns.rcode.NOERROR)
        self.assertEqual(self.stand_in.count(name), 2, "the catch-all block has a cache of its own")
        r = ask(name, source=VIEW_TWO, addr=VIEW_ADDR)
        self.assertEqual(r.rcode(), dns.rcode.SERVFAIL, "example2 has only hosts, without fallthrough: never a cached answer")

    def test_view_label_on_the_request_metrics(self):
        ask("metrics.test.", "A", source=VIEW_TWO, addr=VIEW_ADDR)
        with urllib.request.urlopen(f"http://{VIEW_ADDR}:9153/metrics", timeout=5) as resp:
            page = resp.read().decode()
        self.assertRegex(page, r'coredns_dns_requests_total\{server="[^"]*",zone="\.",view="example2",proto="udp",'
                               r'family="1",type="A"\} [1-9]')
        self.assertRegex(page, r'coredns_dns_responses_total\{server="[^"]*",zone="\.",view="example2",rcode="SERVFAIL"')
        self.assertRegex(page, r'coredns_plugin_enabled\{server="[^"]*",zone="\.",view="by-type",name="view"\} 1')


if __name__ == "__main__":
    unittest.main()
