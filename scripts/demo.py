"""Starts the loopback mesh of tests/integration/meshlab.py and shows, with
dig, what each cluster's meshdns answers for every cluster's Kafka broker."""

import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
import meshlab  # noqa: E402


def dig(server, name, tcp, rdtype="A"):
    argv = ["dig", f"@{server}", "-p", str(meshlab.MESH_PORT), name, rdtype, "+noall", "+answer", "+time=2",
            "+tries=1"]
    if tcp:
        argv.append("+tcp")
    return subprocess.run(argv, capture_output=True, text=True).stdout.strip()


def main():
    check_only = "--check" in sys.argv[1:]
    with meshlab.Mesh(workdir=None) as mesh:
        print("meshdns demo: three clusters on loopback")
        for n in (1, 2, 3):
            print(f"  cluster{n}: kube-dns (nsd) {meshlab.kube_dns_addr(n)}:{meshlab.NSD_PORT}, "
                  f"meshdns {meshlab.meshdns_addr(n)}:{meshlab.MESH_PORT}")
        print(f"  cluster2 has a second meshdns at {meshlab.meshdns_addr(2, True)}:{meshlab.MESH_PORT}")
        print(f"  configs and logs: {mesh.dir}\n")
        failed = 0
        for b in (1, 2, 3):
            for a in (1, 2, 3):
                name = meshlab.clusterset_name(a)
                print(f"$ dig @{meshlab.meshdns_addr(b)} -p {meshlab.MESH_PORT} {name} A +noall +answer")
                print(dig(meshlab.meshdns_addr(b), name, tcp=False))
                for tcp in (False, True):
                    problem = meshlab.check_matrix_cell(a, b, tcp)
                    verdict = "ok" if problem is None else f"FAIL: {problem}"
                    print(f"  cluster{b} asking for cluster{a} over {'TCP' if tcp else 'UDP'}: {verdict}")
                    failed += problem is not None
                print()
        print(f"{18 - failed}/18 checks passed (9 combinations, UDP and TCP)")

        # MCS-API service names: every cluster asked, the answers merged.
        service = f"{meshlab.HEADLESS}.{meshlab.NAMESPACE}.svc.clusterset.local."
        for rdtype, name in (("A", service), ("SRV", f"_kafka._tcp.{service}")):
            print(f"\n$ dig @{meshlab.meshdns_addr(1)} -p {meshlab.MESH_PORT} {name} {rdtype} +noall +answer")
            print(dig(meshlab.meshdns_addr(1), name, tcp=False, rdtype=rdtype))
        pods = {meshlab.pod_ip(n, k) for n in (1, 2, 3) for k in (0, 1)}
        got = set(dig(meshlab.meshdns_addr(1), service, tcp=False).split()[4::5])
        merged_ok = got == pods
        print(f"  headless service {service}: {'ok' if merged_ok else 'FAIL'}: pods of all three clusters")
        failed += not merged_ok
        if check_only:
            return 1 if failed else 0
        print("\nThe mesh keeps serving; try the dig commands above. Ctrl-C stops it.")
        stop = []
        signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
        try:
            while not stop:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        return 0


if __name__ == "__main__":
    sys.exit(main())
