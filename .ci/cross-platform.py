#!/usr/bin/env python3
"""The Windows `sockarc` under Wine talking to the Linux one, on loopback.

usage: cross-platform.py LINUX_SOCKARC WINDOWS_SOCKARC_EXE

Both ways: `send` on one platform to `recv` on the other (the values of the
archive spec's tables), and a chat client on one platform to a chat server on
the other, with a client of the server's own platform reading what the first
one said. Every process is bounded in time and stopped; only 127.0.0.1 and
ports the system chooses are used. Wine's settings (WINEPREFIX, ...) come
from the environment. Exits 1 on the first difference.
"""
import os
import queue
import subprocess
import sys
import threading
import time

LINUX, WINDOWS = sys.argv[1], sys.argv[2]
WINE = os.environ.get("WINE", "/usr/lib/wine/wine64")
LIMIT = 60.0

# `send` values and the lines `recv` prints for them (spec section 2).
VALUES = ["u32:305419896", "i16:-2", "str:abc", "wstr:héllo", "count:70000", "bool:true"]
TYPES = ["u32", "i16", "str", "wstr", "count", "bool"]
EXPECTED = ["u32 305419896", "i16 -2", "str abc", "wstr héllo", "count 70000", "bool true"]


def command(platform, *args):
    if platform == "windows":
        return [WINE, WINDOWS, *args]
    return [LINUX, *args]


class Process:
    """A child whose stderr and stdout lines are read by threads into queues."""

    def __init__(self, argv, stdin=False):
        self.argv = argv
        self.child = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        self.out, self.err = queue.Queue(), queue.Queue()
        for stream, q in ((self.child.stdout, self.out), (self.child.stderr, self.err)):
            threading.Thread(target=self._pump, args=(stream, q), daemon=True).start()

    @staticmethod
    def _pump(stream, q):
        for line in stream:
            q.put(line.rstrip("\r\n"))
        q.put(None)

    def line(self, q, what, deadline):
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                fail(f"{' '.join(self.argv)}: no {what} within {LIMIT} s")
            try:
                line = q.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                fail(f"{' '.join(self.argv)}: ended before {what}")
            return line

    def port(self, deadline):
        """The port the child prints on stderr when the system chose it."""
        while True:
            line = self.line(self.err, "'listening on' on stderr", deadline)
            if "listening on " in line:
                return int(line.rsplit(":", 1)[1].split()[0])

    def stop(self):
        if self.child.poll() is None:
            self.child.kill()
        self.child.wait(timeout=LIMIT)


def fail(message):
    print("cross-platform: " + message, file=sys.stderr)
    sys.exit(1)


def send_to_recv(sender, receiver):
    deadline = time.monotonic() + LIMIT
    recv = Process(command(receiver, "recv", "--host", "127.0.0.1", "--port", "0", *TYPES))
    try:
        port = recv.port(deadline)
        sent = subprocess.run(
            command(sender, "send", "127.0.0.1", str(port), *VALUES),
            capture_output=True, timeout=LIMIT, text=True, encoding="utf-8",
        )
        if sent.returncode != 0:
            fail(f"{sender} send: {sent.stderr.strip()}")
        got = [recv.line(recv.out, f"line {i + 1}", deadline) for i in range(len(EXPECTED))]
        if got != EXPECTED:
            fail(f"{sender} send -> {receiver} recv: got {got}, expected {EXPECTED}")
    finally:
        recv.stop()
    print(f"send ({sender}) -> recv ({receiver}): {len(EXPECTED)} values identical")


def chat(server_platform, client_platform):
    deadline = time.monotonic() + LIMIT
    server = Process(command(server_platform, "chat-server", "--host", "127.0.0.1", "--port", "0"))
    clients = []
    try:
        port = str(server.port(deadline))
        reader = Process(
            command(server_platform, "chat", "--server", "127.0.0.1", "--port", port, "--handle", "reader"),
            stdin=True,
        )
        clients.append(reader)
        wanted = "reader: has just joined the discussion"
        while reader.line(reader.out, "its own join line", deadline) != wanted:
            pass
        talker = Process(
            command(client_platform, "chat", "--server", "127.0.0.1", "--port", port, "--handle", client_platform),
            stdin=True,
        )
        clients.append(talker)
        talker.child.stdin.write(f"hello from {client_platform}\n")
        talker.child.stdin.flush()
        wanted = f"{client_platform}: hello from {client_platform}"
        while reader.line(reader.out, f"the line {wanted!r}", deadline) != wanted:
            pass
    finally:
        for process in clients + [server]:
            process.stop()
    print(f"chat client ({client_platform}) -> chat server ({server_platform}): the line arrived")


send_to_recv("windows", "linux")
send_to_recv("linux", "windows")
chat("linux", "windows")
chat("windows", "linux")
