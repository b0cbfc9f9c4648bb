"""The soak's traffic, open loop, for a given time (run by bench/soak):

- readers at READ_RATE requests a second, each due at its time whether or not the server kept
  up (latency counted from when it was due): articles, the front page, listings, feeds, and
  junk (unknown query strings, percent-encoded and unknown paths, search);
- replies through the form at a twentieth of that (5% of the traffic), each from its own
  forwarded address, all acknowledged ones checked in the database at the end;
- 200 slow clients sending a request's head a byte every half second;
- each minute a burst of 40 wrong passwords at once for one staff account from one address.

Every minute it notes the server's resident memory and the readers' latency; it prints a
JSON report.

    python3 bench/soak.py HOST PORT SECONDS PID DATABASE PATHS_FILE STAFF_EMAIL
"""

import asyncio
import json
import os
import random
import re
import sqlite3
import sys
import time
import urllib.parse

from slow import SlowClients

READ_RATE = int(os.environ.get("READ_RATE", "200"))
SLOW = int(os.environ.get("SLOW", "200"))
CONNECTIONS = 16


class Connection:
    def __init__(self, host, port):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def request(self, method, path, headers=None, body=b"", compressed=True):
        """(status, headers, body); opens the connection again when the server closed it."""
        for attempt in range(2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            lines = [f"{method} {path} HTTP/1.1", "Host: bench"]
            if compressed:
                lines.append("Accept-Encoding: br, gzip")
            lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
            if body:
                lines.append(f"Content-Length: {len(body)}")
            try:
                self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
                await self.writer.drain()
                return await self.response()
            except (OSError, asyncio.IncompleteReadError, ConnectionError):
                self.close()
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    async def response(self):
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        headers = {}
        for line in header_lines:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            body = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                body += chunk[:-2]
        else:
            body = b""
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, body

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class Pool:
    def __init__(self, host, port, n):
        self.free = asyncio.Queue()
        for _ in range(n):
            self.free.put_nowait(Connection(host, port))

    async def request(self, *args, **kwargs):
        conn = await self.free.get()
        try:
            return await conn.request(*args, **kwargs)
        except Exception:
            conn.close()
            raise
        finally:
            self.free.put_nowait(conn)


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


class Soak:
    def __init__(self, host, port, seconds, pid, database, paths, staff_email):
        self.host, self.port, self.seconds, self.pid = host, port, seconds, pid
        self.database, self.paths, self.staff_email = database, paths, staff_email
        self.readers = Pool(host, port, CONNECTIONS)
        self.posters = Pool(host, port, 4)
        self.statuses = {"read": {}, "junk": {}, "reply": {}, "sign-in": {}}
        self.errors = {"read": 0, "junk": 0, "reply": 0, "sign-in": 0}
        self.latencies = []  # (minute, seconds) of reads
        self.rss = []  # (second, MB)
        self.acknowledged = 0
        self.tokens = {}

    def count(self, kind, status):
        self.statuses[kind][status] = self.statuses[kind].get(status, 0) + 1

    def rss_mb(self):
        for line in open(f"/proc/{self.pid}/status"):
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def junk_path(self, n):
        article = random.choice(self.paths)
        return random.choice([
            f"/robots.txt?junk={n}",
            f"/?utm_source=soak{n}",
            f"{article}?replytocom={n}",
            f"{article}?replies={n}&x={n}",
            "/" + urllib.parse.quote(article[1:], safe="").replace("%2F", "/").replace("2", "%32", 1),
            f"/no/such/page/{n}/",
            f"/search?q=soak+{n}",
            f"/tag/no-such-tag-{n}/",
        ])

    def read_path(self):
        r = random.random()
        if r < 0.75:
            return random.choice(self.paths)
        return random.choice(["/", "/page/2/", "/feed.atom", "/sitemap.xml", "/news-sitemap.xml"])

    async def one_read(self, due, n, started):
        junk = n % 10 == 0
        kind = "junk" if junk else "read"
        path = self.junk_path(n) if junk else self.read_path()
        try:
            status, _, _ = await self.readers.request("GET", path)
            self.count(kind, status)
        except Exception:
            self.errors[kind] += 1
            return
        if not junk:
            self.latencies.append((int((due - started) // 60), time.monotonic() - due))

    async def one_reply(self, n):
        path = random.choice(list(self.tokens))
        form = urllib.parse.urlencode({
            "comment": f"A soak reply number {n}, at {time.time():.3f}.",
            "name": "Soak Reader", "email": f"reader{n % 500}@example.com", "website": "",
            "parent": "", "token": self.tokens[path],
        }).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "X-Forwarded-For": f"10.{n // 62500 % 256}.{n // 250 % 250}.{n % 250 + 1}"}
        try:
            status, _, _ = await self.posters.request("POST", path, headers, form)
            self.count("reply", status)
            if status == 303:
                self.acknowledged += 1
        except Exception:
            self.errors["reply"] += 1

    async def sign_in_burst(self, burst):
        conn = Connection(self.host, self.port)
        _, headers, body = await conn.request("GET", "/admin/login")
        conn.close()
        token = re.search(rb'name="login_token" value="([^"]+)"', body).group(1).decode()
        cookie = headers["set-cookie"].split(";")[0]
        form = urllib.parse.urlencode({"email": self.staff_email, "password": "wrong" * 4,
                                       "login_token": token, "next": ""}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie,
                   "X-Forwarded-For": f"192.0.2.{burst % 250 + 1}"}

        async def one():
            c = Connection(self.host, self.port)
            try:
                status, _, _ = await c.request("POST", "/admin/login", headers, form)
                self.count("sign-in", status)
            except Exception:
                self.errors["sign-in"] += 1
            finally:
                c.close()

        await asyncio.gather(*(one() for _ in range(40)))

    async def fetch_tokens(self):
        """Each article's form token, from its page (as a reader's browser has it)."""
        conn = Connection(self.host, self.port)
        for path in random.sample(self.paths, min(20, len(self.paths))):
            _, _, body = await conn.request("GET", path, compressed=False)
            token = re.search(rb'name="token" value="([^"]+)"', body)
            if token:
                self.tokens[path] = token.group(1).decode()
        conn.close()

    def stored_replies(self):
        db = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True)
        return db.execute("SELECT COUNT(*) FROM comments").fetchone()[0]

    async def run(self):
        await self.fetch_tokens()
        assert self.tokens, "no form token found on the article pages"
        before = self.stored_replies()
        stop = asyncio.Event()
        slow = SlowClients(self.host, self.port, SLOW)
        slow_task = asyncio.create_task(slow.run(stop))
        started = time.monotonic()
        tasks, n, replies, bursts = set(), 0, 0, 0
        next_rss = started
        while (now := time.monotonic()) < started + self.seconds:
            if now >= next_rss:
                self.rss.append((round(now - started), self.rss_mb()))
                next_rss += 10
            if now >= started + 30 + 60 * bursts:
                tasks.add(asyncio.create_task(self.sign_in_burst(bursts)))
                bursts += 1
            due = started + n / READ_RATE
            if due > now:
                await asyncio.sleep(due - now)
            tasks.add(asyncio.create_task(self.one_read(due, n, started)))
            if n % 19 == 0:
                replies += 1
                tasks.add(asyncio.create_task(self.one_reply(replies)))
            n += 1
            done = {t for t in tasks if t.done()}
            tasks -= done
        await asyncio.gather(*tasks)
        slow_open = slow.open
        stop.set()
        await slow_task
        self.rss.append((round(time.monotonic() - started), self.rss_mb()))
        stored = self.stored_replies() - before
        minutes = {}
        for minute, seconds in self.latencies:
            minutes.setdefault(minute, []).append(seconds)
        return {
            "seconds": self.seconds, "read_rate": READ_RATE, "slow_clients": SLOW,
            "statuses": self.statuses, "errors": self.errors,
            "replies_acknowledged": self.acknowledged, "replies_stored": stored,
            "sign_in_bursts": bursts,
            "slow": {"open_at_end": slow_open, "closed_by_server": slow.closed_by_server,
                     "longest_seconds": round(slow.longest, 1)},
            "read_latency_ms": {str(m): {"p50": round(percentile(v, 0.5) * 1000, 2),
                                         "p99": round(percentile(v, 0.99) * 1000, 2),
                                         "count": len(v)} for m, v in sorted(minutes.items())},
            "rss_mb": self.rss,
        }


if __name__ == "__main__":
    host, port, seconds, pid, database, paths_file, staff = sys.argv[1:8]
    paths = [p for p in open(paths_file).read().split() if p]
    report = asyncio.run(Soak(host, int(port), float(seconds), pid, database, paths, staff).run())
    print(json.dumps(report))
