"""Makes the two small stand-ins for the Met's files that the README's Met example converts:

- ``examples/data/met-mobileclip.parquet``: the columns of the Met's embeddings on Hugging
  Face (``objectID`` int64, ``embedding`` list of float32, ``model``, ``dim``), three objects
  with 512-dimensional unit vectors;
- ``examples/data/met-objects.parquet``: fields of the Met's collection API for the same
  objects (``objectID``, ``title``, ``creditLine``, ``primaryImageSmall``).

Only the column names are the Met's: the vectors are pseudo-random and the titles, credit
lines and image URLs say they are examples. Deterministic (Python's ``random`` with a fixed
seed), so running it again writes the same values:

    .venv/bin/python examples/python/met_inputs.py [OUTPUT_DIR]
"""

from __future__ import annotations

import math
import random
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

DIMENSIONS = 512
MODEL = "mobileclip"
# Object ids chosen to look like the Met's (six digits); they name no real object here.
OBJECT_IDS = [900001, 900002, 900003]


def unit_vector(rng: random.Random) -> list[float]:
    v = [rng.gauss(0.0, 1.0) for _ in range(DIMENSIONS)]
    norm = math.sqrt(sum(x * x for x in v))
    return [x / norm for x in v]


def embeddings() -> pa.Table:
    rng = random.Random(20260413)
    return pa.table({
        "objectID": pa.array(OBJECT_IDS, pa.int64()),
        "embedding": pa.array([unit_vector(rng) for _ in OBJECT_IDS], pa.list_(pa.float32())),
        "model": pa.array([MODEL] * len(OBJECT_IDS), pa.string()),
        "dim": pa.array([DIMENSIONS] * len(OBJECT_IDS), pa.int64()),
    })


def objects() -> pa.Table:
    return pa.table({
        "objectID": pa.array(OBJECT_IDS, pa.int64()),
        "title": [f"Example object {i} (not a Met object)" for i in range(1, len(OBJECT_IDS) + 1)],
        "creditLine": ["Example credit line"] * len(OBJECT_IDS),
        "primaryImageSmall": [f"https://example.org/met-example/{i}.jpg" for i in OBJECT_IDS],
    })


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "data"
    pq.write_table(embeddings(), out / "met-mobileclip.parquet")
    pq.write_table(objects(), out / "met-objects.parquet")
    print(f"wrote {out / 'met-mobileclip.parquet'} and {out / 'met-objects.parquet'}")


if __name__ == "__main__":
    main()
