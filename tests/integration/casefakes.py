"""Upstream stand-ins for the black-box CoreDNS cases (coredns_cases_test.py),
each on UDP and TCP of one loopback address and port:

- ZoneServer("auth", zones): authoritative for the zones given as zone-file
  text, with AA set: the answer, a CNAME followed inside the zone, a
  wildcard, NODATA or NXDOMAIN with the SOA, REFUSED outside its zones. A
  name with a TXT "rcode=NAME" record gets that rcode and nothing else, which
  lets a zone hold SERVFAIL or REFUSED names. `canned` replies, keyed
  "NAME TYPE" (or "NAME *"), come first: each written out whole (_canned).
- ZoneServer("echo"): answers what a case's question names (ZoneServer._echo):
  A 192.0.2.N / AAAA 2001:db8::N, N being how often the name was asked (so
  a case tells a cache hit from a new upstream question), or for other types
  a TXT telling what arrived: the name as received (case kept), type, class,
  RD, CD, DO, the EDNS payload size and options, the transport and N; a
  first label such as `nxdomain-x` or `ttl3-servfail-y` scripts the reply.
- ZoneServer("rcode", rcode=...): every question gets that rcode, no records.
- ZoneServer("silent"): reads and never answers.
- ZoneServer("truncate"): over UDP an empty reply with TC, over TCP the echo.

Every socket is on 127.0.0.0/8; stop() closes them and joins the threads."""

import socket
import socketserver
import threading

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zone


def opts_text(q):
    """A message's EDNS options as the echo TXT's opts= field writes them:
    CODE:HEX, an ECS option as ecs:ADDRESS/BITS, comma-separated, or '-'."""
    parts = []
    for o in q.options:
        if o.otype == dns.edns.ECS:
            parts.append(f"ecs:{o.address}/{o.srclen}")
        else:
            parts.append(f"{int(o.otype)}:{o.to_wire().hex()}")
    return ",".join(parts) or "-"


class ZoneServer:
    def __init__(self, addr, port, mode, *, zones=None, canned=None, rcode="SERVFAIL"):
        self.addr, self.port, self.mode = addr, port, mode
        self.canned = {k.lower(): v for k, v in (canned or {}).items()}
        self.rcode = dns.rcode.from_text(rcode)
        self.zones = {}
        for origin, text in (zones or {}).items():
            z = dns.zone.from_text(text, origin=origin, relativize=False, check_origin=True)
            self.zones[z.origin] = z
        self.counts = {}
        self.lock = threading.Lock()
        server = self

        class Udp(socketserver.BaseRequestHandler):
            def handle(self):
                data, sock = self.request
                reply = server.handle(data, "udp")
                if reply is not None:
                    sock.sendto(reply, self.client_address)

        class Tcp(socketserver.BaseRequestHandler):
            def handle(self):
                self.request.settimeout(5)
                try:
                    while True:
                        head = self._read(2)
                        if not head:
                            return
                        data = self._read(int.from_bytes(head, "big"))
                        reply = server.handle(data, "tcp")
                        if reply is None:
                            return
                        self.request.sendall(len(reply).to_bytes(2, "big") + reply)
                except OSError:
                    return

            def _read(self, n):
                buf = b""
                while len(buf) < n:
                    chunk = self.request.recv(n - len(buf))
                    if not chunk:
                        return b""
                    buf += chunk
                return buf

        socketserver.ThreadingUDPServer.allow_reuse_address = True
        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.udp = socketserver.ThreadingUDPServer((addr, port), Udp)
        self.tcp = socketserver.ThreadingTCPServer((addr, port), Tcp)
        self.udp.daemon_threads = self.tcp.daemon_threads = True
        self.threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
                        for s in (self.udp, self.tcp)]
        for t in self.threads:
            t.start()

    def stop(self):
        for s in (self.udp, self.tcp):
            s.shutdown()
            s.server_close()
        for t in self.threads:
            t.join(timeout=5)

    # -- answers ---------------------------------------------------------------
    def handle(self, data, transport):
        try:
            q = dns.message.from_wire(data)
        except Exception:  # noqa: BLE001 - garbage gets no answer
            return None
        if not q.question:
            return None
        question = q.question[0]
        with self.lock:
            key = question.name.to_text().lower()
            self.counts[key] = self.counts.get(key, 0) + 1
            count = self.counts[key]
        mode = self.mode
        if mode == "silent":
            return None
        if mode == "truncate":
            if transport == "udp":
                r = dns.message.make_response(q)
                r.flags |= dns.flags.TC
                return r.to_wire()
            mode = "echo"
        if mode == "rcode":
            r = dns.message.make_response(q)
            r.set_rcode(self.rcode)
            return r.to_wire()
        if mode == "echo":
            return self._echo(q, question, transport, count)
        return self._authoritative(q, transport)

    def _echo(self, q, question, transport, count):
        """The echo stand-in: the question's first label, split on '-', may
        script the reply (nxdomain, nxnosoa, nodata, servfail, refused,
        notimp, formerr, tc, ttlN, ad, cname); otherwise an A is answered
        192.0.2.N, an AAAA 2001:db8::N (N = how often this name was asked)
        and any other type with the echo TXT."""
        r = dns.message.make_response(q)
        r.flags |= dns.flags.RA
        words = question.name.labels[0].decode().lower().split("-") if question.name.labels else []
        ttl = next((int(w[3:]) for w in words if w.startswith("ttl") and w[3:].isdigit()), 30)
        parent = question.name.parent() if len(question.name) > 1 else question.name
        soa = dns.rrset.from_text(parent, 60, "IN", "SOA", f"ns.{parent} hostmaster.{parent} {count} 7200 1800 86400 60")
        if "ad" in words:
            r.flags |= dns.flags.AD
        for word, rcode in (("servfail", "SERVFAIL"), ("refused", "REFUSED"), ("notimp", "NOTIMP"),
                            ("formerr", "FORMERR"), ("nxnosoa", "NXDOMAIN")):
            if word in words:
                r.set_rcode(dns.rcode.from_text(rcode))
                return r.to_wire()
        if "tc" in words and transport == "udp":
            r.flags |= dns.flags.TC
            return r.to_wire()
        if "nxdomain" in words or "nodata" in words:
            if "nxdomain" in words:
                r.set_rcode(dns.rcode.NXDOMAIN)
            r.authority.append(soa)
            return r.to_wire()
        if "cname" in words:
            r.answer.append(dns.rrset.from_text(question.name, ttl, "IN", "CNAME", f"target{count}.example.net."))
            return r.to_wire()
        if question.rdtype == dns.rdatatype.A:
            r.answer.append(dns.rrset.from_text(question.name, ttl, question.rdclass, "A", f"192.0.2.{min(count, 254)}"))
        elif question.rdtype == dns.rdatatype.AAAA:
            r.answer.append(dns.rrset.from_text(question.name, ttl, question.rdclass, "AAAA", f"2001:db8::{count:x}"))
        else:
            text = (f"q={question.name.to_text()} t={dns.rdatatype.to_text(question.rdtype)} "
                    f"c={dns.rdataclass.to_text(question.rdclass)} rd={int(bool(q.flags & dns.flags.RD))} "
                    f"cd={int(bool(q.flags & dns.flags.CD))} do={int(bool(q.ednsflags & dns.flags.DO))} "
                    f"edns={q.payload if q.edns >= 0 else '-'} opts={opts_text(q) if q.edns >= 0 else '-'} "
                    f"{transport} n={count}")
            r.answer.append(dns.rrset.from_text(question.name, ttl, question.rdclass, "TXT", f'"{text}"'))
        return r.to_wire(max_size=65535)

    def _canned(self, q, spec, count):
        """A reply written out in the case file: rcode, flags, sections (RR lines, {N} = how often
        this name was asked), a question other than the one asked (`question: NAME TYPE`), and
        `edns: false` for a reply without OPT."""
        r = dns.message.make_response(q)
        r.flags &= ~dns.flags.AA
        r.set_rcode(dns.rcode.from_text(spec.get("rcode", "NOERROR")))
        flag_bits = {"aa": dns.flags.AA, "ra": dns.flags.RA, "ad": dns.flags.AD, "tc": dns.flags.TC,
                     "cd": dns.flags.CD, "qr": dns.flags.QR}
        for f in spec.get("flags", ["qr", "aa"]):
            r.flags |= flag_bits[f]
        if "qr" not in spec.get("flags", ["qr"]):
            r.flags &= ~dns.flags.QR
        for section in ("answer", "authority", "additional"):
            for line in spec.get(section) or []:
                name, ttl, cls, rtype, rdata = line.replace("{N}", str(count)).split(None, 4)
                getattr(r, section).append(dns.rrset.from_text(name, int(ttl), cls, rtype, rdata))
        if spec.get("edns") is False:  # a reply without OPT, whatever the query had
            r.use_edns(False)
        if "question" in spec:
            name, rtype = spec["question"].split()
            r.question = [dns.rrset.RRset(dns.name.from_text(name), dns.rdataclass.IN, dns.rdatatype.from_text(rtype))]
        return r.to_wire()

    def _authoritative(self, q, transport):
        question = q.question[0]
        for key in (f"{question.name.to_text().lower()} {dns.rdatatype.to_text(question.rdtype)}".lower(),
                    f"{question.name.to_text().lower()} *"):
            if key in self.canned:
                with self.lock:
                    count = self.counts[question.name.to_text().lower()]
                return self._canned(q, self.canned[key], count)
        r = dns.message.make_response(q)
        qname = question.name
        zone = None
        for origin, z in self.zones.items():
            if qname.is_subdomain(origin) and (zone is None or len(origin) > len(zone.origin)):
                zone = z
        if zone is None or question.rdclass != dns.rdataclass.IN:
            r.set_rcode(dns.rcode.REFUSED)
            return r.to_wire()
        r.flags |= dns.flags.AA
        soa = zone.find_rrset(zone.origin, dns.rdatatype.SOA)
        name = qname
        for _ in range(9):  # a CNAME chain inside the zone, bounded
            node = zone.get_node(name)
            wildcard = False
            if node is None:
                node = self._wildcard(zone, name)
                wildcard = node is not None
            if node is not None:
                special = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.TXT)
                if special and any(b"rcode=" in s for rd in special for s in rd.strings):
                    rcode = [s for rd in special for s in rd.strings if s.startswith(b"rcode=")][0]
                    r.set_rcode(dns.rcode.from_text(rcode[6:].decode()))
                    r.flags &= ~dns.flags.AA
                    return r.to_wire()
            if node is None:
                if not any(n.is_subdomain(name) for n in zone.nodes):
                    r.set_rcode(dns.rcode.NXDOMAIN)
                r.authority.append(soa)
                return r.to_wire()
            if question.rdtype == dns.rdatatype.ANY:
                sets = list(node.rdatasets)
            else:
                sets = [rs for rs in node.rdatasets if rs.rdtype == question.rdtype]
            if sets:
                for rs in sets:
                    r.answer.append(dns.rrset.from_rdata_list(qname if wildcard and name == qname else name,
                                                              rs.ttl, list(rs)))
                return self._fit(r, q, transport)
            cname = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.CNAME)
            if cname is None:
                r.authority.append(soa)
                return r.to_wire()
            r.answer.append(dns.rrset.from_rdata_list(name, cname.ttl, list(cname)))
            name = cname[0].target
            if not name.is_subdomain(zone.origin):
                return r.to_wire()
        return r.to_wire()

    @staticmethod
    def _wildcard(zone, name):
        parent = name
        while parent != zone.origin and len(parent) > 1:
            parent = parent.parent()
            node = zone.get_node(dns.name.Name((b"*",) + parent.labels))
            if node is not None:
                return node
        return None

    @staticmethod
    def _fit(r, q, transport):
        if transport == "tcp":
            return r.to_wire(max_size=65535)
        size = max(q.payload if q.edns >= 0 else 512, 512)
        try:
            return r.to_wire(max_size=size)
        except dns.exception.TooBig:
            t = dns.message.make_response(q)
            t.flags |= dns.flags.TC | dns.flags.AA
            return t.to_wire()


def free_port(addr):
    """A port free on addr for both UDP and TCP at the time of asking."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind((addr, 0))
            port = u.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                try:
                    t.bind((addr, port))
                except OSError:
                    continue
            return port
    raise RuntimeError(f"no free port on {addr}")
