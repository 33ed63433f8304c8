#!/usr/bin/env python3
"""Writes the conformance corpus: small valid and invalid files for every rule of
spec/oembeddings.md, and manifest.json listing each file with the exact rule ids a validator
must raise, in full and in metadata-only mode.

    .venv/bin/python spec/conformance/generate.py          # rewrites valid/, invalid/, manifest.json
    .venv/bin/python spec/conformance/generate.py --out D  # writes them under D instead

Files are written with pyarrow alone (no oembeddings code), statistics keys computed here the
way go-embeddingsdb writes them, so that each file breaks exactly the rules it is meant to.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent  # where the corpus goes; --out changes it
CREATED = 1_776_070_800  # 2026-04-13T09:00:00Z
DATE = "20260601"

STRING = pa.string()
VECTOR = pa.list_(pa.field("element", pa.float32(), nullable=False))
ATTRIBUTES = pa.map_(pa.field("key", STRING, nullable=False), pa.field("value", STRING, nullable=False))


def unit(*values: float) -> list[float]:
    norm = math.sqrt(sum(v * v for v in values))
    return [v / norm for v in values]


def attributes(i: int, **changes) -> dict[str, str]:
    a = {
        "type": "image",
        "preview": f"https://static.sfomuseum.org/media/{i}_z.jpg",
        "subject_url": f"https://collection.sfomuseum.org/objects/{i}/",
        "subject_title": f"Postcard {i}",
        "subject_creditline": "",
        "provider_name": "SFO Museum",
        "provider_url": "https://www.sfomuseum.org/",
    }
    for k, v in changes.items():
        if v is None:
            a.pop(k, None)
        else:
            a[k] = v
    return a


def records(n: int = 3, model: str = "clip", provider: str = "sfomuseum") -> list[dict]:
    vectors = [unit(1, 2, 3, 4), unit(4, 3, 2, 1), unit(1, -1, 1, -1), unit(2, 0, 1, 0)]
    return [
        {
            "provider": provider,
            "depiction_id": str(1527858923 + i),
            "subject_id": str(1511924931 + i),
            "model": model,
            "embeddings": vectors[i % len(vectors)],
            "created": CREATED + i,
            "attributes": attributes(i),
        }
        for i in range(n)
    ]


def go_statistics(rows: list[dict]) -> dict[str, str]:
    """The go-embeddingsdb footer keys: first-seen order, first vector's length."""
    models: list[str] = []
    providers: list[str] = []
    dims: dict[str, int] = {}
    model_providers: dict[str, list[str]] = {}
    provider_models: dict[str, list[str]] = {}
    for r in rows:
        m, p = r["model"], r["provider"]
        if m not in models:
            models.append(m)
            dims[m] = len(r["embeddings"] or [])
        if p not in providers:
            providers.append(p)
        model_providers.setdefault(m, [])
        provider_models.setdefault(p, [])
        if p not in model_providers[m]:
            model_providers[m].append(p)
        if m not in provider_models[p]:
            provider_models[p].append(m)
    kv = {"embeddingsdb:models": ";".join(models), "embeddingsdb:providers": ";".join(providers)}
    for m in models:
        kv[f"embeddingsdb:model:{m}:dimensions"] = str(dims[m])
        kv[f"embeddingsdb:model:{m}:providers"] = ";".join(model_providers[m])
    for p in providers:
        kv[f"embeddingsdb:provider:{p}:models"] = ";".join(provider_models[p])
    return kv


def go_schema(nullable: bool = False) -> pa.Schema:
    vector = pa.list_(pa.field("element", pa.float32(), nullable=nullable))
    attrs = pa.map_(pa.field("key", STRING, nullable=False), pa.field("value", STRING, nullable=nullable))
    return pa.schema(
        [
            pa.field("provider", STRING, nullable=nullable),
            pa.field("depiction_id", STRING, nullable=nullable),
            pa.field("subject_id", STRING, nullable=nullable),
            pa.field("model", STRING, nullable=nullable),
            pa.field("embeddings", vector, nullable=nullable),
            pa.field("created", pa.int64(), nullable=nullable),
            pa.field("attributes", attrs, nullable=nullable),
        ]
    )


def table(rows: list[dict], nullable: bool = False) -> pa.Table:
    columns = {name: [r[name] for r in rows] for name in go_schema().names}
    columns["attributes"] = [None if r["attributes"] is None else list(r["attributes"].items()) for r in rows]
    return pa.table(columns, schema=go_schema(nullable))


def write(path: Path, t: pa.Table, statistics: dict[str, str] | None, hint: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if statistics is not None:
        t = t.replace_schema_metadata(statistics)
    # store_schema=False writes no ARROW:schema key, as go-embeddingsdb; pyarrow then also drops
    # schema metadata, so the statistics go in through the writer's key/value metadata.
    with pq.ParquetWriter(path, t.schema, store_schema=hint, compression="zstd") as w:
        w.write_table(t)
        if statistics is not None and not hint:
            w.add_key_value_metadata(statistics)


CASES: list[dict] = []


def case(directory: str, name: str, expect: list[str], metadata_only: list[str], description: str, make,
         options: dict | None = None) -> None:
    path = HERE / directory / name
    make(path)
    entry = {
        "file": f"{directory}/{name}",
        "expect": sorted(expect),
        "metadata_only_expect": sorted(metadata_only),
        "description": description,
    }
    if options:
        entry["options"] = options
    CASES.append(entry)


def hub_cases() -> None:
    """The checks of the `hub` target (validate --target hub), which only that target raises."""
    case("invalid", conventional("oe501"), ["OE501"], ["OE501"],
         "the Go layout's MAP attributes, validated for the Hugging Face Hub", standard(records()),
         options={"target": "hub"})

    def key_value_list(path: Path) -> None:
        rows = records()
        t = table(rows)
        entry = pa.struct([pa.field("key", pa.string(), nullable=False), pa.field("value", pa.string(), nullable=False)])
        kv = pa.array([[{"key": k, "value": v} for k, v in r["attributes"].items()] for r in rows],
                      pa.list_(pa.field("key_value", entry, nullable=False)))
        write(path, t.set_column(6, pa.field("attributes", kv.type, nullable=False), kv), go_statistics(rows))

    case("invalid", conventional("oe502"), ["OE502"], ["OE502"],
         "attributes as key/value structs, but a row group over the limit (lowered to 100 bytes here)",
         key_value_list, options={"target": "hub", "hub_max_row_group_bytes": 100})


def conventional(source: str, dims: int = 4, model: str = "clip") -> str:
    return f"sfomuseum-{source}-{dims}-{model}-{DATE}.parquet"


def standard(rows: list[dict], *, stats: bool = True, nullable: bool = False):
    return lambda path: write(path, table(rows, nullable), go_statistics(rows) if stats else None)


def with_rows(change) -> list[dict]:
    rows = records()
    change(rows)
    return rows


def main() -> None:
    global HERE
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, help="directory to write the corpus to (default: next to this script)")
    args = ap.parse_args()
    if args.out:
        HERE = args.out.resolve()
        HERE.mkdir(parents=True, exist_ok=True)
    for d in ("valid", "invalid"):
        shutil.rmtree(HERE / d, ignore_errors=True)

    # ---- valid files -------------------------------------------------------------------
    case("valid", conventional("conformance"), [], [], "the go-embeddingsdb layout with statistics", standard(records()))

    def fixed(path: Path) -> None:
        rows = records()
        t = table(rows)
        flat = pa.array([v for r in rows for v in r["embeddings"]], pa.float32())
        vectors = pa.FixedSizeListArray.from_arrays(flat, 4)
        write(path, t.set_column(4, "embeddings", vectors), go_statistics(rows), hint=True)

    case("valid", conventional("fixed"), [], [], "FixedSizeList vectors with the ARROW:schema hint", fixed)

    def compatible(path: Path) -> None:
        rows = records()
        t = table(rows)
        t = t.set_column(4, "embeddings", pa.array([[float(v) for v in r["embeddings"]] for r in rows], pa.large_list(pa.float32())))
        t = t.set_column(6, "attributes", pa.array([json.dumps(r["attributes"]) for r in rows]))
        t = t.append_column("note", pa.array(["extra"] * len(rows)))
        order = ["note", "attributes", "created", "embeddings", "model", "subject_id", "depiction_id", "provider"]
        write(path, t.select(order), go_statistics(rows))

    case("valid", conventional("compatible"), [], [], "large_list vectors, JSON attributes, other column order, an extra column", compatible)

    def text_model(path: Path) -> None:
        rows = records(model="dinov2")
        for i, r in enumerate(rows):
            r["embeddings"] = [float(i + 1)] * 4  # not unit-norm: dinov2 is not a normalising model
            r["attributes"] = attributes(i, type="text", preview="A postcard of the terminal")
        write(path, table(rows), go_statistics(rows))

    case("valid", conventional("text", model="dinov2"), [], [], "text attributes; a model not known to normalise", text_model)

    # ---- file and schema -------------------------------------------------------------------
    def not_parquet(path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("provider,depiction_id,model\nsfomuseum,1,clip\n")

    case("invalid", "oe001-not-parquet.parquet", ["OE001"], ["OE001"], "a CSV file named .parquet", not_parquet)

    def truncated(path: Path) -> None:
        standard(records())(path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])

    case("invalid", "oe002-truncated.parquet", ["OE002"], ["OE002"], "the first half of a valid file", truncated)

    def unreadable(path: Path) -> None:
        standard(records())(path)
        meta = pq.read_metadata(path)
        col = meta.row_group(0).column(4)
        start = col.dictionary_page_offset or col.data_page_offset
        data = bytearray(path.read_bytes())
        data[start : start + 16] = b"\xff" * 16  # destroys the vector column's first page header
        path.write_bytes(bytes(data))

    case("invalid", conventional("oe003"), ["OE003"], [], "a data page header overwritten; the footer is intact", unreadable)

    rows = records()
    case("invalid", "oe004-missing-column.parquet", ["OE004"], ["OE004"], "no created column",
         lambda p: write(p, table(rows).drop_columns(["created"]), None))
    case("invalid", "oe005-column-type.parquet", ["OE005"], ["OE005"], "embeddings stored as strings",
         lambda p: write(p, table(rows).set_column(4, "embeddings", pa.array(["1,2,3,4"] * 3)), None))

    def duplicate_column(path: Path) -> None:
        t = table(records())
        t = pa.Table.from_arrays(t.columns + [t.column("model")], names=t.column_names + ["model"])
        write(path, t, None)

    case("invalid", "oe006-duplicate-column.parquet", ["OE006"], ["OE006"], "two columns named model", duplicate_column)

    # ---- records and vectors -------------------------------------------------------------
    def set_field(i: int, field: str, value):
        return with_rows(lambda rows: rows[i].__setitem__(field, value))

    case("invalid", conventional("oe101"), ["OE101"], [], "an empty provider", standard(set_field(1, "provider", "")))
    case("invalid", conventional("oe102"), ["OE102"], [], "an empty depiction_id", standard(set_field(1, "depiction_id", "")))
    case("invalid", conventional("oe103"), ["OE103"], [], "an empty subject_id", standard(set_field(1, "subject_id", "")))
    case("invalid", conventional("oe104"), ["OE104", "OE406"], ["OE406"],
         "an empty model (so the file also holds two models)", standard(set_field(1, "model", "")))
    case("invalid", conventional("oe105"), ["OE105"], [], "a null created",
         standard(set_field(1, "created", None), nullable=True))

    def invalid_utf8(path: Path) -> None:
        rows = records()
        t = table(rows).set_column(2, "subject_id", pa.array([b"1511924931", b"15119\xff24932", b"1511924933"], pa.binary()))
        write(path, t, go_statistics(rows))

    case("invalid", conventional("oe106"), ["OE106"], [], "a subject_id that is not UTF-8 (binary column)", invalid_utf8)

    def invalid_json(path: Path) -> None:
        rows = records()
        texts = [json.dumps(r["attributes"]) for r in rows]
        texts[2] = "{not json"
        write(path, table(rows).set_column(6, "attributes", pa.array(texts)), go_statistics(rows))

    case("invalid", conventional("oe107"), ["OE107"], [], "JSON attributes that do not parse", invalid_json)
    case("invalid", conventional("oe110"), ["OE110"], [], "an empty vector", standard(set_field(2, "embeddings", [])))
    case("invalid", conventional("oe111"), ["OE111"], [], "a vector of 3 where the model's first has 4",
         standard(set_field(2, "embeddings", unit(1, 1, 1))))
    case("invalid", conventional("oe112"), ["OE112"], [], "a NaN element",
         standard(set_field(1, "embeddings", [0.5, float("nan"), 0.5, 0.5])))
    case("invalid", conventional("oe113"), ["OE113"], [], "an all-zero vector", standard(set_field(1, "embeddings", [0.0] * 4)))
    case("invalid", conventional("oe114"), ["OE114"], [], "a clip vector of norm 2",
         standard(set_field(1, "embeddings", [2 * v for v in unit(1, 2, 3, 4)])))

    def narrowed(path: Path) -> None:
        rows = records()
        t = table(rows).set_column(4, "embeddings", pa.array([[v + 1e-12 for v in r["embeddings"]] for r in rows], pa.list_(pa.float64())))
        write(path, t, go_statistics(rows))

    case("invalid", conventional("oe115"), ["OE115"], [], "float64 elements that float32 cannot hold exactly", narrowed)
    case("invalid", conventional("oe120"), ["OE120"], [], "two records with the same provider, depiction_id and model",
         standard(set_field(2, "depiction_id", "1527858923")))
    case("invalid", conventional("oe130"), ["OE130"], [], "created is 0", standard(set_field(0, "created", 0)))
    case("invalid", conventional("oe131"), ["OE131", "OE405"], [],
         "created in the year 2200 (so the name is also dated before the newest record)",
         standard(set_field(1, "created", 7_258_118_400)))

    # ---- attributes -------------------------------------------------------------------------
    case("invalid", conventional("oe200"), ["OE200"], [], "a record without attributes", standard(set_field(1, "attributes", {})))
    case("invalid", conventional("oe201"), ["OE201"], [], "subject_title missing", standard(set_field(1, "attributes", attributes(1, subject_title=None))))
    case("invalid", conventional("oe202"), ["OE202"], [], "type is video", standard(set_field(1, "attributes", attributes(1, type="video"))))
    case("invalid", conventional("oe203"), ["OE203"], [], "provider_name is empty", standard(set_field(1, "attributes", attributes(1, provider_name=""))))
    case("invalid", conventional("oe204"), ["OE204"], [], "subject_url is not a URI",
         standard(set_field(1, "attributes", attributes(1, subject_url="collection.sfomuseum.org/objects/1"))))
    case("invalid", conventional("oe205"), ["OE205"], [], "an image preview that is not a URI",
         standard(set_field(1, "attributes", attributes(1, preview="a postcard of the terminal"))))

    # ---- statistics --------------------------------------------------------------------------
    def damaged_hint(path: Path) -> None:
        rows = records()
        # What a damaged footer value looks like: base64 that decodes to no Arrow IPC message.
        write(path, table(rows), {**go_statistics(rows), "ARROW:schema": "/////w=="})

    case("invalid", conventional("oe007"), ["OE007"], ["OE007"], "a damaged ARROW:schema footer value (the Parquet schema suffices)", damaged_hint)
    case("invalid", conventional("oe301"), ["OE301"], ["OE301"], "no statistics in the footer", standard(records(), stats=False))

    def wrong_statistics(path: Path) -> None:
        rows = records()
        stats = go_statistics(rows)
        stats["embeddingsdb:model:clip:dimensions"] = "8"
        write(path, table(rows), stats)

    # Metadata-only validation trusts the footer, so there the name looks wrong instead.
    case("invalid", conventional("oe302"), ["OE302"], ["OE402"], "dimensions statistic says 8, the vectors have 4", wrong_statistics)

    def contradictory_statistics(path: Path) -> None:
        rows = records()
        stats = go_statistics(rows)
        stats["embeddingsdb:model:gone:dimensions"] = "4"
        write(path, table(rows), stats)

    case("invalid", conventional("oe303"), ["OE302", "OE303"], ["OE303"],
         "a statistics key about a model the models list does not name", contradictory_statistics)
    case("invalid", conventional("oe304", model="clip-v2"), ["OE304"], [], "a model named clip:v2",
         standard(records(model="clip:v2")))

    # ---- naming --------------------------------------------------------------------------------
    case("invalid", "oe401-not-conventional.parquet", ["OE401"], ["OE401"], "a name outside the convention", standard(records()))
    case("invalid", conventional("oe402", dims=8), ["OE402"], ["OE402"], "the name says 8 dimensions, the vectors have 4", standard(records()))
    case("invalid", f"sfomuseum-oe403-4-clip-20260230.parquet", ["OE403"], ["OE403"], "the name is dated February 30", standard(records()))
    case("invalid", conventional("oe404", model="siglip"), ["OE404"], ["OE404"], "the name says siglip, the records clip", standard(records()))
    case("invalid", "sfomuseum-oe405-4-clip-20200101.parquet", ["OE405"], [], "the name is dated before the records were made", standard(records()))

    def two_models(path: Path) -> None:
        rows = records(4)
        rows[3]["model"] = "siglip"
        write(path, table(rows), go_statistics(rows))

    case("invalid", conventional("oe406"), ["OE406"], ["OE406"], "two models in a conventionally named file", two_models)

    # The name's dimensions hold for every vector of the file, whatever the models.
    case("invalid", conventional("oe402-models", dims=8), ["OE402", "OE406"], ["OE402", "OE406"],
         "two models, both with 4 dimensions; the name says 8", two_models)

    def two_models_two_sizes(path: Path) -> None:
        rows = records(4)
        rows[3]["model"] = "siglip"
        rows[3]["embeddings"] = unit(1, 2, 3, 4, 5, 6, 7, 8)
        write(path, table(rows), go_statistics(rows))

    case("invalid", conventional("oe402-sizes"), ["OE402", "OE406"], ["OE402", "OE406"],
         "the name says 4 dimensions, as clip has, but siglip has 8", two_models_two_sizes)

    hub_cases()

    manifest = {
        "spec_version": "0.1",
        "description": "Each file must raise exactly the rule ids listed, in full validation "
        "(expect) and in metadata-only validation (metadata_only_expect), with the validation "
        "options a case names (options: target, hub_max_row_group_bytes). Severities do not matter "
        "here; a rule id raised once or many times counts once.",
        "cases": CASES,
    }
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {len(CASES)} cases to {HERE}")


if __name__ == "__main__":
    main()
