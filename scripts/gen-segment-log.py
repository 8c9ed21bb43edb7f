#!/usr/bin/env python3
"""Writes a segment log (JSON Lines, as `record` reads them) for the rules at an operator's scale.

    scripts/gen-segment-log.py [--pushes N] [--streams K] [--seed S] [--shuffle] OUT.jsonl

N pushes (default 1 000 000) over K stream keys (default 10 000; app `live`, streams
`s00000`...). Each stream's pushes follow one another: 2 to 40 minutes long, with gaps from
5 seconds (spliced) to 2 hours (new files), and one push in 50 runs past the 6-hour slice.
By default the log is grouped by stream key (every key's lines together, keys in order);
`--shuffle` writes the same lines in a random order, as an ingest's log interleaves its
streams. Deterministic for a seed; standard library only.
"""
import argparse
import json
import random


def pushes(a, rnd):
    t0 = 1_764_072_000_000
    for k in range(a.streams):
        t = t0 + rnd.randrange(0, 3_600_000)
        n = a.pushes // a.streams + (1 if k < a.pushes % a.streams else 0)
        for _ in range(n):
            if rnd.randrange(50) == 0:
                length = rnd.randrange(6 * 3_600_000, 14 * 3_600_000)
            else:
                length = rnd.randrange(120_000, 2_400_000)
            yield {"app": "live", "stream": f"s{k:05}", "start": t, "end": t + length}
            t += length + rnd.choice([5_000, 60_000, 600_000, 7_200_000])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pushes", type=int, default=1_000_000)
    ap.add_argument("--streams", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=18)
    ap.add_argument("--shuffle", action="store_true")
    ap.add_argument("out")
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    lines = (json.dumps(p, separators=(",", ":")) + "\n" for p in pushes(a, rnd))
    with open(a.out, "w") as out:
        if a.shuffle:
            lines = list(lines)
            random.Random(a.seed + 1).shuffle(lines)
        out.writelines(lines)


if __name__ == "__main__":
    main()
