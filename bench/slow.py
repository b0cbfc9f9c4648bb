"""Hostile and ordinary traffic for the benchmarks, in one asyncio loop.

    python3 bench/slow.py slow HOST PORT N SECONDS
        N connections that send a request's head a byte every half second, for SECONDS; each
        one the server closes is opened again. Prints how many were open at the end, how many
        times the server closed one, and how long one lasted at most.

    python3 bench/soak.py drives the soak with the same pieces (see bench/soak).
"""

import asyncio
import sys
import time

HEAD = b"GET / HTTP/1.1\r\nHost: bench\r\nX-Slow: "


class SlowClients:
    """Keeps `n` slow connections open until `stop` is set."""

    def __init__(self, host, port, n, interval=0.5):
        self.host, self.port, self.n, self.interval = host, port, n, interval
        self.open = 0
        self.closed_by_server = 0
        self.longest = 0.0
        self.failed_connects = 0

    async def one(self, stop):
        while not stop.is_set():
            try:
                reader, writer = await asyncio.open_connection(self.host, self.port)
            except OSError:
                self.failed_connects += 1
                await asyncio.sleep(1)
                continue
            self.open += 1
            opened = time.monotonic()
            try:
                writer.write(HEAD)
                while not stop.is_set():
                    await writer.drain()
                    # The server closing shows as EOF on the reading side.
                    try:
                        data = await asyncio.wait_for(reader.read(1024), self.interval)
                        if not data:
                            break
                    except asyncio.TimeoutError:
                        pass
                    writer.write(b"a")
            except OSError:
                pass
            finally:
                self.open -= 1
                self.longest = max(self.longest, time.monotonic() - opened)
                if not stop.is_set():
                    self.closed_by_server += 1
                writer.close()

    async def run(self, stop):
        # Opened over a second, as real clients arrive, not in one burst the kernel's
        # backlog would have to hold.
        tasks = []
        for _ in range(self.n):
            tasks.append(asyncio.create_task(self.one(stop)))
            await asyncio.sleep(1 / self.n)
        await asyncio.gather(*tasks)


async def slow_main(host, port, n, seconds):
    stop = asyncio.Event()
    clients = SlowClients(host, port, n)
    runner = asyncio.create_task(clients.run(stop))
    await asyncio.sleep(seconds)
    at_end = clients.open
    stop.set()
    await runner
    print(at_end, clients.closed_by_server, f"{clients.longest:.1f}", clients.failed_connects)


if __name__ == "__main__":
    if sys.argv[1] == "slow":
        host, port, n, seconds = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
        asyncio.run(slow_main(host, port, n, seconds))
    else:
        sys.exit(f"unknown mode {sys.argv[1]}")
