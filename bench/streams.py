"""Opens N live event streams on one article, then posts a reply and times its arrival on
every stream. Prints one line of JSON: how many opened, how long that took, and the
arrival times (ms after the post was sent) at the 50th and 99th percentiles and the slowest.

  streams.py HOST PORT ARTICLE_ID ARTICLE_PATH N PID
(PID: the server's, whose resident memory is read before and after the streams open.)
"""
import asyncio
import json
import sys
import time
import urllib.parse
import urllib.request

host, port, article, path, count, pid = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6]


def rss_mb():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def stream(opened, posted_at, arrivals, failures):
    try:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(f"GET /api/v1/articles/{article}/events HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n".encode())
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 200 " not in head.split(b"\r\n", 1)[0]:
            failures.append(head.split(b"\r\n", 1)[0].decode())
            opened.release()
            return
        opened.release()
        buffer = b""
        while b"event: reply.posted" not in buffer:
            chunk = await reader.read(65536)
            if not chunk:
                failures.append("closed")
                return
            buffer = buffer[-64:] + chunk
        arrivals.append(time.monotonic() - posted_at[0])
        writer.close()
    except Exception as e:  # noqa: BLE001 - counted, the run goes on
        failures.append(repr(e))
        opened.release()


def post_reply():
    base = f"http://{host}:{port}"
    token = json.load(urllib.request.urlopen(f"{base}/api/v1/token?article={article}"))["token"]
    body = json.dumps({"comment": "To every stream.", "name": "Bench", "email": "bench@example.com", "token": token}).encode()
    request = urllib.request.Request(f"{base}/api/v1/articles/{article}/replies", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 201, answer.status


async def main():
    before = rss_mb()
    opened = asyncio.Semaphore(0)
    posted_at = [0.0]
    arrivals, failures = [], []
    started = time.monotonic()
    tasks = []
    for i in range(count):
        tasks.append(asyncio.create_task(stream(opened, posted_at, arrivals, failures)))
        if i % 200 == 199:
            await asyncio.sleep(0.01)
    for _ in range(count):
        await opened.acquire()
    open_seconds = time.monotonic() - started
    await asyncio.sleep(2)
    after = rss_mb()
    loop = asyncio.get_running_loop()
    posted_at[0] = time.monotonic()
    await loop.run_in_executor(None, post_reply)
    await asyncio.wait(tasks, timeout=30)
    arrivals.sort()
    pick = lambda q: round(arrivals[min(len(arrivals) - 1, int(q * len(arrivals)))] * 1000, 1) if arrivals else None
    print(json.dumps({
        "streams": count - len(failures), "failures": failures[:5], "failed": len(failures),
        "open_seconds": round(open_seconds, 2), "rss_before_mb": round(before, 1), "rss_open_mb": round(after, 1),
        "received": len(arrivals), "p50_ms": pick(0.5), "p99_ms": pick(0.99), "max_ms": pick(1.0),
    }))


asyncio.run(main())
