"""NMEA reader throughput on the real AMSA log, replicated k times.

Lines are repeated as they are (MMSIs and times repeat too), which is fine for
a decoder benchmark: pyais decodes each message anew. Each size runs in a fresh
process so peak RSS is per size.

    python bench/bench_nmea.py            # x1, x10, x25 (~1.1 M lines)
"""

from __future__ import annotations

import gzip
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("STSWATCH_SHARED_DATA", REPO.parent / "shared" / "data"))
SRC = SHARED / "nmea" / "amsa_risky_ais.txt.gz"
WORK = Path(tempfile.gettempdir()) / "stswatch-bench-nmea"


def run(k: int) -> None:
    from stswatch.pipeline.readers.nmea import NmeaStats, read_nmea

    path = WORK / f"amsa_x{k}.txt.gz"
    if not path.exists():
        data = gzip.decompress(SRC.read_bytes())
        with gzip.open(path, "wb", compresslevel=1) as fh:
            for _ in range(k):
                fh.write(data)
    st = NmeaStats()
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for _batch in read_nmea(path, default_time=datetime(2024, 1, 1, tzinfo=UTC), stats=st):
        pass
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"x{k:<3} lines={st.lines:>9,} messages={st.messages:>9,} {wall:6.2f}s "
        f"{st.messages / wall:>8,.0f} msgs/s  {st.messages / cpu:>8,.0f} msgs/cpu-s  "
        f"peak RSS {rss_mb:,.0f} MB",
        flush=True,
    )


def main() -> None:
    if len(sys.argv) > 1:
        run(int(sys.argv[1]))
        return
    if not SRC.exists():
        sys.exit(f"shared sample not found: {SRC}")
    WORK.mkdir(exist_ok=True)
    print(f"NMEA decode of {SRC.name} replicated k times (pyais), cpus={os.cpu_count()}")
    for k in (1, 10, 25):
        subprocess.run([sys.executable, __file__, str(k)], check=True)


if __name__ == "__main__":
    main()
