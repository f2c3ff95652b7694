#!/usr/bin/python3
"""Writes the fuzz targets' seed corpora into fuzz/corpus/<target>/.

Seeds are the shapes real traffic and real files have, so the fuzzer starts
from inputs that reach deep into each parser. Re-run after changing this file;
crashes found later are added to the same folders by hand (named crash-*),
where ctest's replay keeps them as regression tests.
"""
import pathlib
import shutil

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent


def fresh(target):
    d = HERE / "corpus" / target
    for seed in d.glob("seed-*"):
        seed.unlink()
    d.mkdir(parents=True, exist_ok=True)
    return d


def write(d, name, data):
    (d / f"seed-{name}").write_bytes(data if isinstance(data, bytes) else data.encode())


def query(name, rdtype, **kw):
    q = dns.message.make_query(name, rdtype, **kw)
    q.id = 4242
    return q


def reply(q, records, rcode=dns.rcode.NOERROR, authority=()):
    r = dns.message.make_response(q)
    r.set_rcode(rcode)
    for text in records:
        r.answer.append(dns.rrset.from_text(*text))
    for text in authority:
        r.authority.append(dns.rrset.from_text(*text))
    return r


SOA = ("svc.cluster.local.", 5, "IN", "SOA", "ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5")


def wire_seeds():
    d = fresh("wire")
    queries = {
        "a": query("www.example.com.", "A"),
        "aaaa-edns": query("Web.Cluster2.Nginx.Default.svc.cluster.local.", "AAAA", use_edns=0, payload=1232),
        "srv-do": query("_kafka._tcp.kafka.default.svc.cluster.local.", "SRV", want_dnssec=True),
        "txt-cookie": query("txt.example.org.", "TXT", use_edns=0,
                            options=[dns.edns.GenericOption(10, b"\x01\x02\x03\x04\x05\x06\x07\x08")]),
        "clusterset": query("web.cluster3.nginx.default.svc.clusterset.local.", "A"),
        "root-ns": query(".", "NS"),
        "any": query("example.com.", "ANY"),
        "axfr": query("example.com.", "AXFR"),
        "edns1": query("example.com.", "A", use_edns=1),
    }
    for name, q in queries.items():
        write(d, "query-" + name, q.to_wire())
    q = queries["a"]
    replies = {
        "cname-chain": reply(q, [("www.example.com.", 30, "IN", "CNAME", "web.example.com."),
                                 ("web.example.com.", 30, "IN", "A", "192.0.2.80", "192.0.2.81")]),
        "nxdomain": reply(q, [], dns.rcode.NXDOMAIN, [("example.com.", 300, "IN", "SOA",
                                                        "ns.example.com. h.example.com. 1 2 3 4 60")]),
        "srv": reply(queries["srv-do"], [("_kafka._tcp.kafka.default.svc.cluster.local.", 5, "IN", "SRV",
                                         "0 50 9092 kafka-0.kafka.default.svc.cluster.local.")]),
        "servfail": reply(q, [], dns.rcode.SERVFAIL),
        "txt": reply(queries["txt-cookie"], [("txt.example.org.", 60, "IN", "TXT", '"v=spf1 -all" "two"')]),
    }
    for name, r in replies.items():
        write(d, "reply-" + name, r.to_wire())
    write(d, "short-header", b"\x12\x34\x01")
    write(d, "pointer-loop", bytes.fromhex("123401000001000000000000c00c00010001"))


def rewrite_seeds():
    d = fresh("rewrite")
    q = query("web.nginx.default.svc.cluster.local.", "A", use_edns=0)
    write(d, "a", reply(q, [("web.nginx.default.svc.cluster.local.", 5, "IN", "A", "10.1.2.3")]).to_wire())
    write(d, "cname", reply(q, [("web.nginx.default.svc.cluster.local.", 5, "IN", "CNAME",
                                 "pod-1.nginx.default.svc.cluster.local."),
                                ("pod-1.nginx.default.svc.cluster.local.", 5, "IN", "A", "10.1.2.4")]).to_wire())
    srv = query("_http._tcp.nginx.default.svc.cluster.local.", "SRV")
    write(d, "srv", reply(srv, [("_http._tcp.nginx.default.svc.cluster.local.", 5, "IN", "SRV",
                                 "0 100 80 web-0.nginx.default.svc.cluster.local.",
                                 "0 100 80 web-1.nginx.default.svc.cluster.local.")]).to_wire())
    write(d, "nxdomain", reply(q, [], dns.rcode.NXDOMAIN, [SOA]).to_wire())
    mx = query("nginx.default.svc.cluster.local.", "MX")
    write(d, "mx-ns-ptr", reply(mx, [("nginx.default.svc.cluster.local.", 5, "IN", "MX",
                                      "10 mail.default.svc.cluster.local."),
                                     ("nginx.default.svc.cluster.local.", 5, "IN", "NS", "ns.svc.cluster.local."),
                                     ("nginx.default.svc.cluster.local.", 5, "IN", "PTR",
                                      "web.nginx.default.svc.cluster.local.")]).to_wire())
    outside = query("example.com.", "A")
    write(d, "outside", reply(outside, [("example.com.", 30, "IN", "A", "192.0.2.1")]).to_wire())


def template_seeds():
    d = fresh("template")
    contract = (r"(?P<host>[a-zA-Z0-9-]+)\.(?P<cluster>[a-zA-Z0-9-]+)\.(?P<service>[a-zA-Z0-9-]+)"
                r"\.(?P<ns>[a-zA-Z0-9-]+)\.svc\.clusterset\.local\.$")
    cname = ("{{ .Name }} 60 IN CNAME {{ .Group.host }}.{{ .Group.service }}.{{ .Group.ns }}."
             "{{ .Group.cluster }}.svc.cluster.local")
    write(d, "contract", "\n".join([contract, "web.cluster2.nginx.default.svc.clusterset.local.", cname]))
    write(d, "numbered", "\n".join([r"^(\w+)\.(\w+)\.example\.$", "a.b.example.",
                                    "{{ .Name }} 5 {{ .Class }} TXT \"{{ index .Match 1 }} {{ .Type }} {{ .Zone }}\""]))
    write(d, "two-answers", "\n".join([r"^ip-(?P<a>\d+)-(?P<b>\d+)\.example\.$", "ip-10-1.example.",
                                       "{{ .Name }} 60 IN A 10.0.{{ .Group.a }}.{{ .Group.b }}",
                                       "{{ .Name }} 60 IN TXT \"{{ .Group.a }}\""]))


def yaml_seeds():
    d = fresh("yaml")
    for overlay in sorted((REPO / "deploy" / "overlays").glob("*/mesh.yaml")):
        shutil.copyfile(overlay, d / f"seed-deploy-{overlay.parent.name}.yaml")
    full = """cluster: cluster1
domain: cluster.local
clusterset_domain: clusterset.local
listen: ["127.0.0.1:5300", "[::1]:5300"]
clusters:
  cluster1: { resolvers: ["127.0.0.11:53"] }
  cluster2: { resolvers: ["127.0.0.12:53", "127.0.0.13:53"], policy: sequential }
upstream: ["127.0.0.11"]
forward: { policy: random, timeout: 2s, health_check: 500ms, max_fails: 2, expire: 10s }
cache: { max_ttl: 30s, min_ttl: 5s, denial_ttl: 5s, capacity: 1000, serve_stale: 1m }
templates:
  - match: '(?P<host>[a-z]+)\\.(?P<cluster>[a-z0-9]+)\\.svc\\.clusterset\\.local\\.$'
    answer: '{{ .Name }} 60 IN CNAME {{ .Group.host }}.{{ .Group.cluster }}.svc.cluster.local'
clusterset: { services: true, affinity: local, fanout_timeout: 1s, ttl: 5s }
acl: { allow: ["127.0.0.0/8", "::1/128"], deny: ["127.0.0.66/32"] }
limits: { tcp_connections: 10, tcp_connections_per_client: 2, tcp_idle: 1s, inflight: 5, udp_reply_size: 1400 }
metrics: "127.0.0.1:9153"
log: { level: debug, queries: true }
"""
    write(d, "full.yaml", full)
    write(d, "errors.yaml", "cluster: nowhere\nclusters:\n  bad_label!: { resolvers: [] }\nforward: { timeout: 2 parsecs }\n")


KUBEADM = """.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
"""

MESH = r""".:53 {
    errors
    forward . 192.0.2.53 192.0.2.54:5353 {
        max_concurrent 1000
    }
    cache 30
}
cluster2.svc.cluster.local:53 {
    errors
    cache 10
    rewrite stop {
        name substring cluster2.svc.cluster.local svc.cluster.local
        answer auto
    }
    forward . 172.18.0.5:30053 172.18.0.6:30053 {
        expire 10s
        policy round_robin
    }
}
cluster3.svc.cluster.local:53 {
    cache 10
    rewrite stop name suffix cluster3.svc.cluster.local svc.cluster.local answer auto
    forward . 172.18.0.9:30053 {
        expire 10s
    }
}
clusterset.local:53 {
    template IN ANY clusterset.local {
        match "^(?P<host>[a-zA-Z0-9-]+)\.(?P<cluster>[a-zA-Z0-9-]+)\.(?P<svc>[a-zA-Z0-9-]+)\.(?P<ns>[a-zA-Z0-9-]+)\.svc\.clusterset\.local\.$"
        answer "{{ .Name }} 60 IN CNAME {{ .Group.host }}.{{ .Group.svc }}.{{ .Group.ns }}.{{ .Group.cluster }}.svc.cluster.local"
    }
}
"""


def corefile_seeds():
    d = fresh("corefile")
    write(d, "kubeadm", KUBEADM)
    write(d, "mesh", MESH)
    write(d, "snippets-env-imports", """(common) {
    cache 10
    errors
}
dns://cluster2.svc.cluster.local:5300 cluster3.svc.cluster.local.,
  example.org,example.com {
    import common
    import extra/*.conf
    forward . {$UPSTREAM} {$UNSET:127.0.0.1}
    log "{remote} \\"quoted\\"" # comment
}
import missing.conf
""")
    write(d, "broken", ".:53 {\n  forward . \"unterminated\n  cache {\n}\n}\n")


if __name__ == "__main__":
    wire_seeds()
    rewrite_seeds()
    template_seeds()
    yaml_seeds()
    corefile_seeds()
