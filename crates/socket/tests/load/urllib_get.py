"""GET one URL many times from many threads with Python's urllib, as a user
would; prints "ok N failed M" and each distinct failure, exits 1 on any failure.

usage: python3 urllib_get.py URL REQUESTS THREADS [BODY]
"""
import collections
import sys
import threading
import urllib.request

url, total, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
expected = sys.argv[4].encode() if len(sys.argv) > 4 else None
lock = threading.Lock()
counts = collections.Counter()
next_request = [0]


def worker():
    while True:
        with lock:
            if next_request[0] >= total:
                return
            next_request[0] += 1
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                body = response.read()
            outcome = "ok" if expected is None or body == expected else "wrong body %r" % body[:40]
        except Exception as e:  # every failure is counted and shown, none is fatal
            outcome = repr(e)
        with lock:
            counts[outcome] += 1


pool = [threading.Thread(target=worker) for _ in range(threads)]
for t in pool:
    t.start()
for t in pool:
    t.join()
failed = total - counts["ok"]
print("ok %d failed %d" % (counts["ok"], failed))
for outcome, n in counts.items():
    if outcome != "ok":
        print("%6d  %s" % (n, outcome))
sys.exit(1 if failed else 0)
