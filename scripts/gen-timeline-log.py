#!/usr/bin/env python3
"""Writes a segment log (JSON lines, as `record` reads them) for the timeline's scale check.

    scripts/gen-timeline-log.py [--pushes N] [--streams K] [--seed S] OUT.jsonl

N pushes (default 100 000) spread over K stream keys (default 1 000, app `live`, streams
`s0000`...), each stream's pushes one after another: 2 to 40 minutes long, with gaps from
5 seconds (spliced) to 2 hours (new files). Deterministic for a seed; standard library only.
"""
import argparse
import json
import random


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pushes", type=int, default=100_000)
    ap.add_argument("--streams", type=int, default=1_000)
    ap.add_argument("--seed", type=int, default=18)
    ap.add_argument("out")
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    t0 = 1_764_072_000_000
    with open(a.out, "w") as out:
        for k in range(a.streams):
            t = t0 + rnd.randrange(0, 3_600_000)
            n = a.pushes // a.streams + (1 if k < a.pushes % a.streams else 0)
            for _ in range(n):
                length = rnd.randrange(120_000, 2_400_000)
                rec = {"app": "live", "stream": f"s{k:04}", "start": t, "end": t + length}
                out.write(json.dumps(rec, separators=(",", ":")) + "\n")
                t += length + rnd.choice([5_000, 60_000, 600_000, 7_200_000])


if __name__ == "__main__":
    main()
