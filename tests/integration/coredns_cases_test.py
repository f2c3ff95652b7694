"""CoreDNS's own tests, read as black-box cases (issue #19, acceptance 4).

Every file coredns_cases/<plugin>.yaml holds cases taken from a CoreDNS
v1.14.7 test: the plugin's *_test.go or CoreDNS's test/ directory. Each case
names its Go test in `from:` and is one of two kinds:

Config cases (from setup_test.go and the like): `directive:` is written into
`. {` ... `}` (or `corefile:` is used as it is) and `meshdns check --corefile`
must accept it (`valid: true`) or refuse it (`valid: false`), its message
containing `error:` when given (case-insensitive).

Behaviour cases: `corefile:` is served by `meshdns serve --corefile` on
loopback, and `steps:` run in order against it. A step is one of
  - ask: "NAME TYPE [CLASS]"   a DNS question (options: tcp, rd, cd, aa, do, edns
                               (payload size, or false for no OPT), opts (EDNS
                               options sent, ["CODE:HEX", "ecs:ADDR/BITS"]), timeout)
    expect:                    rcode; flags {aa: true, ...}; answer /
                               authority / additional: RR lines compared as
                               multisets (TTL `*` matches any, names without
                               case); answer_types / additional_types: RR types in wire
                               order (ADDR: A or AAAA);
                               owners: ordered owner names of the answer;
                               counts {answer: N, ...}; question "NAME TYPE"
                               (case kept); echo {key: value} against the
                               echo stand-in's TXT; ttl_max / ttl_min over all
                               RRs; edns {payload: N, do: bool, opts: TEXT (the
                               reply's options as the echo's opts= writes them)}
                               or edns: false;
                               no_reply: true
  - http: URL                  expect {status, body, contains: [regex], absent: [regex]}
  - log: [regex, ...]          each must appear in meshdns's output within 3 s
  - upstream: {NAME: N}        N questions for NAME reached the stand-ins so far
  - sleep: SECONDS
  - write: {FILE: TEXT}        (re)writes a file under {DIR}
  - signal: HUP
  - exits: CODE                meshdns must have ended (within 15 s) with CODE
One meshdns serves every case of a file with the same Corefile text, in file
order, so cases sharing a Corefile use names of their own.

Placeholders in Corefiles, URLs and files: {ADDR} and {PORT} (meshdns's own;
without {PORT} in the Corefile it is started with --listen {ADDR}:{PORT}),
{DIR} (a folder of the case's files, `files:`), and the stand-in upstreams
of casefakes.py, each ADDR:PORT: {UP} (authoritative for the file's
`zones:`, and first answering its `canned:` replies), {ECHO}, {SERVFAIL}, {REFUSED}, {NXDOMAIN} (no SOA), {SILENT},
{TRUNCATE} (TC over UDP, echo over TCP), {DOWN} (nothing listens). All are
on 127.0.0.0/8: stand-ins 127.78.F.*, meshdns 127.79.F.G, F the file's rank.

Marks:
  difference: ROW   a deliberate difference: ROW is the start of the CoreDNS
                    column of a row of ../shared/spec/coredns-semantics.md's
                    "differs on purpose" table (checked). The case still runs
                    and must still fail: if meshdns now does what CoreDNS
                    does, the case fails until the mark (or the row) goes.
  proposed_difference: WHY  a difference this work proposes as a new row of
                    that table (listed in its report); treated as `difference:`
                    until the row exists, then the mark becomes `difference:`.
  not_yet: REASON   a plugin or option meshdns does not run yet (reported,
                    not failed; one that passes anyway says so: a refused
                    config may pass only because the plugin is unknown).
  known_gap: WHAT   meshdns runs the plugin but gets this case wrong, and
                    the fix is open work (named in the issue's note). The
                    case must still fail: once meshdns gets it right, the
                    case fails until the mark goes, so no gap is forgotten.

Set CASES=substr[,substr] to run only cases whose plugin or `from` holds one
of them; `python3 coredns_cases_test.py -v` runs them all."""

import concurrent.futures
import glob
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import dns.edns
import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import yaml

from casefakes import ZoneServer, opts_text

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
MESHDNS = os.environ.get("MESHDNS", os.path.join(REPO, "build", "meshdns"))
CASES_DIR = os.path.join(HERE, "coredns_cases")
SEMANTICS = os.path.join(REPO, "..", "shared", "spec", "coredns-semantics.md")
UP_PORT = 5300
PORT = 1053
STAND_INS = {"UP": (1, "auth", {}), "ECHO": (2, "echo", {}), "SERVFAIL": (3, "rcode", {"rcode": "SERVFAIL"}),
             "REFUSED": (4, "rcode", {"rcode": "REFUSED"}), "NXDOMAIN": (5, "rcode", {"rcode": "NXDOMAIN"}),
             "SILENT": (6, "silent", {}), "TRUNCATE": (7, "truncate", {})}
DOWN_HOST = 8
FLAGS = {"qr": dns.flags.QR, "aa": dns.flags.AA, "tc": dns.flags.TC, "rd": dns.flags.RD, "ra": dns.flags.RA,
         "ad": dns.flags.AD, "cd": dns.flags.CD}
KNOWN_KEYS = {"from", "directive", "corefile", "valid", "error", "steps", "files", "difference", "not_yet",
              "note", "args", "proposed_difference", "known_gap"}


class CaseFailure(Exception):
    pass


def difference_rows():
    """The CoreDNS column of every row of the table of deliberate differences, or None without the file."""
    try:
        with open(SEMANTICS) as f:
            text = f.read()
    except OSError:
        return None
    start = text.index("## Where meshdns differs from CoreDNS on purpose")
    rows = []
    for line in text[start:].splitlines()[1:]:
        if line.startswith("## "):
            break
        if line.startswith("|") and not line.startswith("|---"):
            rows.append(line.split("|")[1].strip())
    return rows[1:]  # without the header


# -- loading ---------------------------------------------------------------------------------------


def load_files():
    files = []
    for path in sorted(glob.glob(os.path.join(CASES_DIR, "*.yaml"))):
        with open(path) as f:
            doc = yaml.safe_load(f)
        plugin = os.path.splitext(os.path.basename(path))[0]
        cases = doc.get("cases") or []
        for i, case in enumerate(cases):
            unknown = set(case) - KNOWN_KEYS
            assert not unknown, f"{path}: case {i} ({case.get('from')}): unknown keys {sorted(unknown)}"
            assert case.get("from"), f"{path}: case {i} has no from:"
            assert ("directive" in case) != ("corefile" in case), f"{path}: {case['from']}: directive or corefile"
            assert "valid" in case or "steps" in case, f"{path}: {case['from']}: neither valid: nor steps:"
        files.append({"plugin": plugin, "path": path, "zones": doc.get("zones") or {},
                      "canned": doc.get("canned") or {}, "cases": cases})
    return files


def selected(plugin, case):
    want = [w for w in os.environ.get("CASES", "").split(",") if w]
    return not want or any(w in plugin or w in case["from"] for w in want)


# -- one file's world ---------------------------------------------------------------------------


class World:
    """The stand-ins of one case file and the placeholders that name them."""

    def __init__(self, rank, zones, canned):
        self.rank = rank
        self.subst = {}
        self.servers = []
        try:
            for key, (host, mode, kw) in STAND_INS.items():
                addr = f"127.78.{rank}.{host}"
                extra = {"zones": zones, "canned": canned} if mode == "auth" else {}
                self.servers.append(ZoneServer(addr, UP_PORT, mode, **extra, **kw))
                self.subst[key] = f"{addr}:{UP_PORT}"
        except BaseException:
            self.stop()
            raise
        self.subst["DOWN"] = f"127.78.{rank}.{DOWN_HOST}:{UP_PORT}"

    def stop(self):
        for s in self.servers:
            s.stop()


def fill(text, subst):
    return re.sub(r"\{([A-Z_]+)\}", lambda m: subst.get(m.group(1), m.group(0)), text)


class Instance:
    """One `meshdns serve --corefile` for a group of cases sharing a Corefile."""

    def __init__(self, corefile, subst, files, args, world):
        self.world = world
        self.dir = tempfile.mkdtemp(prefix="coredns-case-")
        self.subst = dict(subst, DIR=self.dir)
        for name, text in (files or {}).items():
            with open(os.path.join(self.dir, name), "w") as f:
                f.write(fill(text, self.subst))
        self.corefile = os.path.join(self.dir, "Corefile")
        text = fill(corefile, self.subst)
        with open(self.corefile, "w") as f:
            f.write(text)
        argv = [MESHDNS, "serve", "--corefile", self.corefile, "--threads", "1", *(fill(a, self.subst) for a in args or [])]
        if "{PORT}" not in corefile:
            argv += ["--listen", f"{self.subst['ADDR']}:{self.subst['PORT']}"]
        self.log_path = os.path.join(self.dir, "log")
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.up = self._wait()

    def _wait(self):
        """Until meshdns accepts TCP on its address (no DNS question is sent: cases count them)."""
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return False
            with socket.socket() as s:
                s.settimeout(0.2)
                try:
                    s.connect((self.subst["ADDR"], int(self.subst["PORT"])))
                    return True
                except OSError:
                    time.sleep(0.05)
        return False

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        subprocess.run(["rm", "-rf", self.dir], check=False)


# -- checks ---------------------------------------------------------------------------------------


def rr_key(text):
    """(name, ttl or None, class, type, rdata) of one RR line."""
    m = re.match(r"\s*(\S+)\s+(\*|\d+)\s+(\S+)\s+(\S+)\s*(.*?)\s*$", text)
    if not m:
        raise CaseFailure(f"expected RR line does not parse: {text!r}")
    name, ttl, cls, rtype, rdata = m.groups()
    rrset = dns.rrset.from_text(name, 0, cls, rtype, rdata)
    return (rrset.name.to_text().lower(), None if ttl == "*" else int(ttl), cls.upper(), rtype.upper(),
            rrset[0].to_text().lower())


def reply_keys(section):
    out = []
    for rrset in section:
        for rd in rrset:
            out.append((rrset.name.to_text().lower(), rrset.ttl, dns.rdataclass.to_text(rrset.rdclass),
                        dns.rdatatype.to_text(rrset.rdtype), rd.to_text().lower()))
    return out


def same_records(want_lines, got):
    want = [rr_key(w) for w in want_lines]
    left = list(got)
    for w in want:
        for g in left:
            if g[0] == w[0] and g[2:] == w[2:] and (w[1] is None or w[1] == g[1]):
                left.remove(g)
                break
        else:
            return False
    return not left


def fmt(keys):
    return [f"{n} {t} {c} {ty} {rd}" for n, t, c, ty, rd in keys]


def echo_fields(reply):
    for rrset in reply.answer:
        if rrset.rdtype == dns.rdatatype.TXT:
            text = b"".join(rrset[0].strings).decode()
            if text.startswith("q="):
                fields = dict(p.split("=", 1) for p in text.split() if "=" in p)
                fields["transport"] = text.split()[-2]
                return fields
    raise CaseFailure(f"no echo TXT in the answer: {fmt(reply_keys(reply.answer))}")


def check_reply(r, expect):
    problems = []
    if "rcode" in expect and dns.rcode.to_text(r.rcode()) != expect["rcode"]:
        problems.append(f"rcode {dns.rcode.to_text(r.rcode())}, want {expect['rcode']}")
    for flag, want in (expect.get("flags") or {}).items():
        if bool(r.flags & FLAGS[flag]) != want:
            problems.append(f"flag {flag} is {not want}")
    for section in ("answer", "authority", "additional"):
        if section in expect:
            got = reply_keys(getattr(r, section))
            if not same_records(expect[section] or [], got):
                problems.append(f"{section} {fmt(got)}, want {expect[section]}")
    for section, n in (expect.get("counts") or {}).items():
        got = sum(len(rrset) for rrset in getattr(r, section))
        if got != n:
            problems.append(f"{section} has {got} records, want {n}")
    for section in ("answer", "additional"):
        if f"{section}_types" in expect:
            want = expect[f"{section}_types"]
            got = [k[3] for k in reply_keys(getattr(r, section))]
            if len(got) != len(want) or any(w != g and not (w == "ADDR" and g in ("A", "AAAA"))
                                            for w, g in zip(want, got)):
                problems.append(f"{section} types {got} (wire order), want {want}")
    if "owners" in expect:
        got = [rrset.name.to_text().lower() for rrset in r.answer for _ in rrset]
        if got != [o.lower() for o in expect["owners"]]:
            problems.append(f"answer owners {got}, want {expect['owners']}")
    if "question" in expect:
        got = f"{r.question[0].name.to_text()} {dns.rdatatype.to_text(r.question[0].rdtype)}" if r.question else ""
        if got != expect["question"]:
            problems.append(f"question {got!r}, want {expect['question']!r}")
    if "echo" in expect:
        fields = echo_fields(r)
        for k, v in expect["echo"].items():
            if str(fields.get(k)) != str(v):
                problems.append(f"upstream saw {k}={fields.get(k)}, want {v}")
    ttls = [rrset.ttl for s in (r.answer, r.authority, r.additional) for rrset in s]
    if ("ttl_max" in expect or "ttl_min" in expect) and not ttls:
        problems.append("no records whose TTLs to check")
    if "ttl_max" in expect and any(t > expect["ttl_max"] for t in ttls):
        problems.append(f"TTLs {ttls} above {expect['ttl_max']}")
    if "ttl_min" in expect and any(t < expect["ttl_min"] for t in ttls):
        problems.append(f"TTLs {ttls} below {expect['ttl_min']}")
    if "edns" in expect:
        e = expect["edns"]
        if e is False:
            if r.edns >= 0:
                problems.append("reply has an OPT record")
        elif r.edns < 0:
            problems.append("reply has no OPT record")
        else:
            if "payload" in e and r.payload != e["payload"]:
                problems.append(f"OPT payload {r.payload}, want {e['payload']}")
            if "do" in e and bool(r.ednsflags & dns.flags.DO) != e["do"]:
                problems.append(f"OPT DO is {not e['do']}")
            if "opts" in e and opts_text(r) != e["opts"]:
                problems.append(f"OPT options {opts_text(r)}, want {e['opts']}")
    if problems:
        raise CaseFailure("; ".join(problems))


def ask(step, subst):
    parts = step["ask"].split()
    name, rtype = parts[0], parts[1] if len(parts) > 1 else "A"
    rclass = parts[2] if len(parts) > 2 else "IN"
    edns = step.get("edns", 1232)
    options = []
    for o in step.get("opts") or []:
        kind, value = o.split(":", 1)
        if kind == "ecs":
            address, bits = value.split("/")
            options.append(dns.edns.ECSOption(address, int(bits)))
        else:
            options.append(dns.edns.GenericOption(int(kind), bytes.fromhex(value)))
    q = dns.message.make_query(name, rtype, rclass, use_edns=False if edns is False else 0,
                               payload=edns or 512, want_dnssec=bool(step.get("do")), options=options or None)
    if step.get("rd") is False:
        q.flags &= ~dns.flags.RD
    if step.get("cd"):
        q.flags |= dns.flags.CD
    if step.get("aa"):
        q.flags |= dns.flags.AA
    addr, port = subst["ADDR"], int(subst["PORT"])
    timeout = step.get("timeout", 3)
    try:
        if step.get("tcp"):
            return dns.query.tcp(q, addr, port=port, timeout=timeout, one_rr_per_rrset=True)
        return dns.query.udp(q, addr, port=port, timeout=timeout, one_rr_per_rrset=True)
    except dns.exception.Timeout:
        return None


def run_step(step, inst):
    subst = inst.subst
    if "sleep" in step:
        time.sleep(step["sleep"])
    elif "ask" in step:
        expect = step.get("expect") or {}
        r = ask(step, subst)
        if r is None:
            if not expect.get("no_reply"):
                raise CaseFailure(f"{step['ask']}: no reply")
            return
        if expect.get("no_reply"):
            raise CaseFailure(f"{step['ask']}: a reply ({dns.rcode.to_text(r.rcode())}), want none")
        try:
            check_reply(r, expect)
        except CaseFailure as e:
            raise CaseFailure(f"{step['ask']}{' tcp' if step.get('tcp') else ''}: {e}") from None
    elif "http" in step:
        expect = step.get("expect") or {}
        url = fill(step["http"], subst)
        try:
            with urllib.request.urlopen(url, timeout=3) as resp:
                status, body = resp.status, resp.read().decode(errors="replace")
        except urllib.error.HTTPError as e:
            status, body = e.code, e.read().decode(errors="replace")
        except OSError as e:
            raise CaseFailure(f"{url}: {e}") from None
        if "status" in expect and status != expect["status"]:
            raise CaseFailure(f"{url}: status {status}, want {expect['status']}")
        if "body" in expect and body.strip() != expect["body"]:
            raise CaseFailure(f"{url}: body {body[:200]!r}, want {expect['body']!r}")
        for rx in expect.get("contains") or []:
            if not re.search(fill(rx, subst), body, re.M):
                raise CaseFailure(f"{url}: no line matches {rx!r}")
        for rx in expect.get("absent") or []:
            if re.search(fill(rx, subst), body, re.M):
                raise CaseFailure(f"{url}: a line matches {rx!r}")
    elif "log" in step:
        deadline = time.time() + 3
        for rx in step["log"]:
            rx = fill(rx, subst)
            while not re.search(rx, inst.log(), re.M):
                if time.time() > deadline:
                    raise CaseFailure(f"log has no line matching {rx!r}; log: {inst.log()[-600:]!r}")
                time.sleep(0.05)
        for rx in step.get("absent") or []:
            if re.search(fill(rx, subst), inst.log(), re.M):
                raise CaseFailure(f"log matches {rx!r}")
    elif "upstream" in step:
        # How many questions for each name reached the stand-ins ({UP} and {ECHO}) so far.
        for name, want in step["upstream"].items():
            got = sum(srv.counts.get(name.lower(), 0) for srv in inst.world.servers)
            if got != want:
                raise CaseFailure(f"the upstream was asked {name} {got} times, want {want}")
    elif "write" in step:
        for name, text in step["write"].items():
            with open(os.path.join(subst["DIR"], name), "w") as f:
                f.write(fill(text, subst))
    elif "signal" in step:
        inst.proc.send_signal(getattr(signal, "SIG" + step["signal"]))
    elif "exits" in step:
        try:
            code = inst.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            raise CaseFailure("meshdns still runs") from None
        if code != step["exits"]:
            raise CaseFailure(f"meshdns exited {code}, want {step['exits']}")
    else:
        raise CaseFailure(f"unknown step {step}")


def run_config_case(case, subst):
    text = case["corefile"] if "corefile" in case else f". {{\n{case['directive']}\n}}\n"
    with tempfile.TemporaryDirectory(prefix="coredns-check-") as d:
        local = dict(subst, DIR=d)
        for name, body in (case.get("files") or {}).items():
            with open(os.path.join(d, name), "w") as f:
                f.write(fill(body, local))
        path = os.path.join(d, "Corefile")
        with open(path, "w") as f:
            f.write(fill(text, local))
        r = subprocess.run([MESHDNS, "check", "--corefile", path, *(case.get("args") or [])],
                           capture_output=True, text=True, timeout=20)
    out = (r.stdout + r.stderr).strip()
    if r.returncode not in (0, 2):
        raise CaseFailure(f"check exited {r.returncode}: {out[:300]}")
    if case["valid"] and r.returncode != 0:
        raise CaseFailure(f"refused: {out[:300]}")
    if not case["valid"]:
        if r.returncode == 0:
            raise CaseFailure("accepted, CoreDNS refuses it")
        if case.get("error") and case["error"].lower() not in out.lower():
            raise CaseFailure(f"refused, but the message does not mention {case['error']!r}: {out[:300]}")


def run_group(cases, subst, world):
    """Runs the cases of one Corefile against one meshdns; returns [(case, None | problem)]."""
    first = cases[0]
    inst = Instance(first["corefile"], subst, first.get("files"), first.get("args"), world)
    results = []
    try:
        if not inst.up:
            problem = f"meshdns did not start: {inst.log()[-500:]}"
            exits_expected = all(any("exits" in s for s in c["steps"]) for c in cases)
            for c in cases:
                if exits_expected:
                    try:
                        for step in c["steps"]:
                            run_step(step, inst)
                        results.append((c, None))
                    except CaseFailure as e:
                        results.append((c, str(e)))
                else:
                    results.append((c, problem))
            return results
        for c in cases:
            try:
                for step in c["steps"]:
                    run_step(step, inst)
                results.append((c, None))
            except CaseFailure as e:
                results.append((c, str(e)))
            except Exception as e:  # noqa: BLE001 - a broken step is this case's failure
                results.append((c, f"{type(e).__name__}: {e}"))
    finally:
        inst.stop()
    return results


def plan(rank, f, world):
    """The work of one file: [(kind, cases, substitutions)], config cases one by one, behaviour cases by Corefile."""
    cases = [c for c in f["cases"] if selected(f["plugin"], c)]
    subst = dict(world.subst, PORT=str(PORT))
    work = [("check", [c], dict(subst, ADDR=f"127.79.{rank}.1"), world) for c in cases if "valid" in c]
    groups = {}
    for c in cases:
        if "steps" in c:
            key = (c["corefile"], yaml.safe_dump(c.get("files")), tuple(c.get("args") or ()))
            groups.setdefault(key, []).append(c)
    assert len(groups) < 250, f"{f['path']}: too many Corefiles for one address range"
    for g, group in enumerate(groups.values(), start=1):
        work.append(("serve", group, dict(subst, ADDR=f"127.79.{rank}.{g}"), world))
    return cases, work


def run_work(item):
    kind, cases, subst, world = item
    if kind == "serve":
        return run_group(cases, subst, world)
    try:
        run_config_case(cases[0], subst)
        return [(cases[0], None)]
    except CaseFailure as e:
        return [(cases[0], str(e))]


def run_all(files):
    """[(file, [(case, problem or None)] in file order)]; every file's stand-ins up while its cases run."""
    worlds, plans = [], []
    try:
        for rank, f in enumerate(files, start=1):
            if not any(selected(f["plugin"], c) for c in f["cases"]):
                plans.append(([], []))
                continue
            worlds.append(World(rank, f["zones"], f["canned"]))
            plans.append(plan(rank, f, worlds[-1]))
        work = [item for _, items in plans for item in items]
        # Serve groups first (they wait on the network and sleep), checks fill the gaps.
        work.sort(key=lambda item: item[0] != "serve")
        results = {}
        with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
            for done in pool.map(run_work, work):
                for case, problem in done:
                    results[id(case)] = problem
    finally:
        for w in worlds:
            w.stop()
    return [(f, [(c, results[id(c)]) for c in cases]) for f, (cases, _) in zip(files, plans)]


def verdict(case, problem):
    """(word, counts as failure)."""
    if case.get("not_yet"):
        return ("NOT_YET (passes)" if problem is None else "NOT_YET"), False
    if case.get("difference") or case.get("proposed_difference"):
        if problem is None:
            return "FAIL (marked as a difference but behaves as CoreDNS)", True
        return "DIFFERENCE", False
    if case.get("known_gap"):
        if problem is None:
            return "FAIL (marked as a known gap but passes: take the mark off)", True
        return "GAP", False
    return ("PASS", False) if problem is None else ("FAIL", True)


class CoreDNSCasesTest(unittest.TestCase):
    maxDiff = None

    def test_cases(self):
        files = load_files()
        rows = difference_rows()
        for f in files:
            for c in f["cases"]:
                if c.get("difference") and rows is not None:
                    self.assertTrue(any(r.startswith(c["difference"]) for r in rows),
                                    f"{c['from']}: no row of coredns-semantics.md starts {c['difference']!r}")
        started = time.time()
        tally, failures = {}, []
        for f, results in run_all(files):
            for case, problem in results:
                word, failed = verdict(case, problem)
                key = word.split()[0]
                per = tally.setdefault(f["plugin"], {})
                per[key] = per.get(key, 0) + 1
                line = f"{word:<10} {f['plugin']:<12} {case['from']}"
                if problem and (failed or os.environ.get("CASES_VERBOSE")):
                    line += f"\n           {problem}"
                if case.get("not_yet") and problem:
                    line += f"  [{case['not_yet']}]"
                if case.get("known_gap"):
                    line += f"  [gap: {case['known_gap']}]"
                print(line, flush=True)
                if failed:
                    failures.append(f"{f['plugin']}: {case['from']}: {problem or 'passes, though marked as a difference or a known gap'}")
        print(f"\n{'plugin':<12} " + " ".join(f"{k:>10}" for k in ("PASS", "FAIL", "NOT_YET", "GAP", "DIFFERENCE")))
        for plugin, per in tally.items():
            print(f"{plugin:<12} " + " ".join(f"{per.get(k, 0):>10}" for k in ("PASS", "FAIL", "NOT_YET", "GAP", "DIFFERENCE")))
        total = {k: sum(p.get(k, 0) for p in tally.values()) for k in ("PASS", "FAIL", "NOT_YET", "GAP", "DIFFERENCE")}
        print(f"cases: {total['PASS']} pass, {total['FAIL']} fail, {total['NOT_YET']} not yet, {total['GAP']} known gaps, "
              f"{total['DIFFERENCE']} deliberate differences, in {time.time() - started:.0f} s", flush=True)
        self.assertEqual(failures, [])


if __name__ == "__main__":
    unittest.main()
