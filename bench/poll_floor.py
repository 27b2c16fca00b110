"""The floor for bench/poll.py: a bare aiohttp + feedparser conditional-GET client.

No safety rules, no database, no stories: ETags in a dict, parse on the event loop, new
entry ids into a set. Runs against its own farm (same feeds, same churn) so the bot's
bench and this one see identical traffic. Usage: python bench/poll_floor.py FEEDS CYCLES
Prints one JSON line: per-cycle wall and CPU seconds, peak RSS.
"""

from __future__ import annotations

import asyncio
import io
import json
import sys
import time
from pathlib import Path

import aiohttp
import feedparser
from feedfarm import free_port, next_cycle, start_farm


class BareClient:
    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session
        self.etags: dict[str, str] = {}
        self.seen: set[str] = set()
        self.gate = asyncio.Semaphore(200)

    async def poll(self, url: str) -> int:
        headers = {"If-None-Match": self.etags[url]} if url in self.etags else {}
        async with self.gate, self.session.get(url, headers=headers) as response:
            if response.status == 304:
                return 0
            body = await response.read()
            if "etag" in response.headers:
                self.etags[url] = response.headers["etag"]
        parsed = feedparser.parse(io.BytesIO(body))
        new = {str(e.get("id") or e.get("link")) for e in parsed.entries} - self.seen
        self.seen |= new
        return len(new)


async def run(feeds: int, cycles: int, port: int) -> list[dict[str, float]]:
    urls = [f"http://127.0.0.1:{port}/feed/{n}.xml" for n in range(feeds)]
    figures = []
    connector = aiohttp.TCPConnector(limit=200)
    async with aiohttp.ClientSession(connector=connector) as session:
        client = BareClient(session)
        for _ in range(cycles):
            wall, cpu = time.perf_counter(), time.process_time()
            new = sum(await asyncio.gather(*(client.poll(u) for u in urls)))
            figures.append(
                {
                    "wall_s": round(time.perf_counter() - wall, 3),
                    "cpu_s": round(time.process_time() - cpu, 3),
                    "new_items": new,
                }
            )
            await asyncio.to_thread(next_cycle, port)
    return figures


def main() -> None:
    feeds, cycles = int(sys.argv[1]), int(sys.argv[2])
    port = free_port()
    farm = start_farm(port)
    try:
        figures = asyncio.run(run(feeds, cycles, port))
    finally:
        farm.terminate()
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec from the parent bench.
    status = Path("/proc/self/status").read_text().splitlines()
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
    print(json.dumps({"floor": "aiohttp+feedparser", "cycles": figures, "peak_rss_mb": peak}))


if __name__ == "__main__":
    main()
