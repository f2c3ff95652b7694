"""A UDP socket on loopback that records every DNS question it receives and
never answers: a stand-in resolver that proves what meshdns sends where."""

import socket
import threading

import dns.message


class Spy:
    def __init__(self, addr, port):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((addr, port))
        self.sock.settimeout(0.1)
        self.names = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                data, _ = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                self.names.append(dns.message.from_wire(data).question[0].name.to_text())
            except Exception:  # noqa: BLE001 - record undecodable traffic too
                self.names.append("<undecodable>")

    def close(self):
        self._stop.set()
        self._thread.join()
        self.sock.close()


class SlowResolver(Spy):
    """Answers every A question with 192.0.2.1, after `delay` seconds."""

    def __init__(self, addr, port, delay):
        self.delay = delay
        super().__init__(addr, port)

    def _run(self):
        import time

        import dns.rrset

        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            q = dns.message.from_wire(data)
            self.names.append(q.question[0].name.to_text())
            time.sleep(self.delay)
            r = dns.message.make_response(q)
            r.answer.append(dns.rrset.from_text(q.question[0].name, 30, "IN", "A", "192.0.2.1"))
            self.sock.sendto(r.to_wire(), peer)
