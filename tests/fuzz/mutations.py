"""Seeded mutations of manifests, Parquet footers, property maps, take indices and paths."""

from __future__ import annotations

import json
import random

from . import hostile

# ---- manifests ---------------------------------------------------------------------------------


def _hostile_schema(rng: random.Random, real: dict) -> dict | str:
    pick = rng.randrange(10)
    if pick == 0:
        return hostile.SELF_REFERENCING
    if pick == 1:  # recursion through a union or an array
        inner = rng.choice(
            [["null", "Manifest"], {"type": "array", "items": "Manifest"}, {"type": "map", "values": "Manifest"}]
        )
        return {"type": "record", "name": "Manifest", "fields": [{"name": "column_groups", "type": inner}]}
    if pick == 2:
        return {"type": "fixed", "name": "F", "size": rng.choice([-1, -(1 << 62), 1 << 40, 0, 1 << 21])}
    if pick == 3:  # deep nesting, as text (json.dumps recurses)
        levels = rng.choice([40, 200, 1500, 3000])
        nested = '{"type": "array", "items": ' * levels + '"string"' + "}" * levels
        return '{"type": "record", "name": "Manifest", "fields": [{"name": "column_groups", "type": ' + nested + "}]}"
    if pick == 4:
        items = rng.choice(["null", hostile.EMPTY_RECORD, {"type": "fixed", "name": "Z", "size": 0}])
        return hostile.empty_items_schema(items)
    if pick == 5:  # unknown or malformed types
        return rng.choice(
            ['{"type": "nonsense"}', '{"type": "record", "name": "M"}', "[]", '{"type": ["null"]}', "{" * 5000,
             '{"type": "enum", "name": "E", "symbols": []}', '"Manifest"']
        )
    # The real schema with one node changed.
    text = json.dumps(real)
    swaps = [('"long"', '"int"'), ('"string"', '"bytes"'), ('"array"', '"map"'), ('"items"', '"values"'),
             ('"string"', '"null"'), ('"record"', '"error"'), ('"long"', '"double"')]
    a, b = rng.choice(swaps)
    spots = [i for i in range(len(text)) if text.startswith(a, i)]
    if spots:
        i = rng.choice(spots)
        text = text[:i] + b + text[i + len(a):]
    return text


def _huge_body(rng: random.Random) -> bytes:
    big = rng.choice([1 << 62, -(1 << 62), (1 << 63) - 1, 1 << 31, 1 << 40, -1])
    body = hostile.avro_long(big)
    if big < 0:
        body += hostile.avro_long(rng.choice([0, 1 << 60, 5]))  # the block's byte size
    return body + bytes(rng.randrange(256) for _ in range(rng.randrange(0, 40)))


def mutate_manifest(rng: random.Random, raw: bytes, real_schema: dict, real_body: bytes) -> tuple[str, bytes]:
    pick = rng.random()
    if pick < 0.45:
        out = bytearray(raw)
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            at = rng.randrange(len(out))
            out[at] ^= 1 << rng.randrange(8)
        return "bitflip", bytes(out)
    if pick < 0.55:
        return "truncate", raw[: rng.randrange(len(raw))]
    if pick < 0.65:
        out = bytearray(raw)
        at = rng.randrange(len(out))
        run = bytes(rng.choice([0x00, 0xFF, 0x80, 0x7F, rng.randrange(256)]) for _ in range(rng.randint(1, 8)))
        out[at : at + len(run)] = run
        return "overwrite", bytes(out)
    if pick < 0.82:
        body = real_body if rng.random() < 0.5 else _huge_body(rng)
        return "hostile-schema", hostile.container(_hostile_schema(rng, real_schema), body)
    # The real schema, a body declaring absurd counts or lengths at its start or mid-way.
    if rng.random() < 0.5:
        body = _huge_body(rng)
    else:
        at = rng.randrange(len(real_body))
        body = real_body[:at] + _huge_body(rng)
    return "huge-count", hostile.container(real_schema, body)


# ---- Parquet footers -----------------------------------------------------------------------------


def mutate_footer(rng: random.Random, data: bytes) -> tuple[str, bytes]:
    start, end = hostile.footer_range(data)
    out = bytearray(data)
    pick = rng.random()
    if pick < 0.7:
        for _ in range(rng.choice([1, 1, 2])):
            at = rng.randrange(start, end - 8)
            out[at] ^= 1 << rng.randrange(8)
        return "footer-bitflip", bytes(out)
    if pick < 0.8:
        at = rng.randrange(end - 8, end)
        out[at] ^= 1 << rng.randrange(8)
        return "trailer-bitflip", bytes(out)
    if pick < 0.9:
        return "footer-truncate", bytes(out[: rng.randrange(start, end)])
    at = rng.randrange(start, end - 8)
    run = bytes(rng.choice([0x00, 0xFF, rng.randrange(256)]) for _ in range(rng.randint(2, 12)))
    out[at : at + len(run)] = run
    return "footer-overwrite", bytes(out[: len(data)])


# ---- property maps -----------------------------------------------------------------------------

NUMBERS = ["0", "1", "-1", "7", "1024", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
           "18446744073709551616", "1e3", " 5", "5 ", "", "0x10", "٣", "nan", "2147483648", "4294967296"]
BOOLS = ["true", "false", "TRUE", "1", "0", "yes", "", "maybe"]
PATTERNS = ["id", "id|i32", "f.*", "(x*)*y", "(a)\\1", "a(?=b)", "[", "(", ")", "a{2,1}", "a{100000}", "x" * 5000,
            "(" * 80 + ")" * 80, "s|b", "\\d+", "[^a-z]*", "(?:u8|f32)", ".*", "(((a|b)*)*)*c", "\\u00e9", "\\", "*"]
KEYS = {
    "writer.policy": ["single", "schema_based", "size_based", "bogus", ""],
    "writer.format": ["parquet", "vortex", "lance-table", "csv", ""],
    "writer.split.schema_based.patterns": None,  # generated lists
    "writer.split.schema_based.formats": ["parquet", "parquet,parquet", "vortex", "x,y,z", ""],
    "writer.split.size_based.max_avg_column_size": NUMBERS,
    "writer.split.size_based.max_columns_in_group": NUMBERS,
    "writer.buffer_size": NUMBERS,
    "writer.file_rolling.size": NUMBERS,
    "writer.compression": ["uncompressed", "snappy", "gzip", "lz4", "zstd", "brotli", "zip", ""],
    "writer.compression_level": NUMBERS + ["22", "-131072", "100"],
    "writer.enable_dictionary": BOOLS,
    "writer.enc.enable": BOOLS,
    "writer.enc.key": ["0123456789abcdef", "short", "", "k" * 32],
    "writer.enc.meta": ["", "meta", "m" * 1000],
    "writer.enc.algorithm": ["AES_GCM_V1", "AES_GCM_CTR_V1", "ROT13"],
    "reader.record_batch_max_rows": NUMBERS,
    "reader.record_batch_max_size": NUMBERS,
    "reader.logical_chunk_rows": NUMBERS,
    "reader.parquet.prebuffer.hole_size_limit": NUMBERS,
    "reader.parquet.prebuffer.range_size_limit": NUMBERS,
    "fs.log_level": ["fatal", "trace", "loud"],
    "fs.use_crc32c_checksum": BOOLS,
}


def random_properties(rng: random.Random) -> dict[str, str]:
    props: dict[str, str] = {}
    for key in rng.sample(sorted(KEYS), rng.randint(1, 6)):
        values = KEYS[key]
        if values is None:
            props[key] = ",".join(rng.choice(PATTERNS) for _ in range(rng.randint(1, 3)))
        else:
            props[key] = rng.choice(values)
    if rng.random() < 0.3:  # unknown keys are ignored or refused, never a crash
        props[rng.choice(["writer.nope", "x", "", "reader.", "é", "writer.policy.extra"])] = rng.choice(NUMBERS)
    if rng.random() < 0.3 and "writer.policy" not in props:
        props["writer.policy"] = "schema_based"
    return props


# ---- take indices and paths ----------------------------------------------------------------------


def random_indices(rng: random.Random, rows: int) -> tuple[list[int], bool]:
    """Indices and whether all are valid."""
    n = rng.choice([1, 2, 5, 50, 300, 2000])
    indices = [rng.randrange(rows) for _ in range(n)]
    if rng.random() < 0.3:
        indices.sort()
    if rng.random() < 0.35:
        bad = rng.choice([-1, rows, rows + 1, 1 << 62, -(1 << 63), (1 << 63) - 1, -rows])
        indices[rng.randrange(n)] = bad
        return indices, False
    return indices, True


def random_path(rng: random.Random) -> str:
    parts = ["..", ".", "", "ds", "_metadata", "manifest-1.avro", "outside-sentinel", "%2e%2e", "a" * 300,
             "\u00e9", "nul\x00byte", "~", "*", "?", "con", "/", "\\..\\"]
    path = "/".join(rng.choice(parts) for _ in range(rng.randint(1, 8)))
    pick = rng.random()
    if pick < 0.15:
        path = "/" + path
    elif pick < 0.25:
        path = "../" * rng.randint(1, 6) + "outside-sentinel"
    elif pick < 0.3:
        path = "x" * rng.choice([4096, 70000])
    elif pick < 0.35:
        path = "file:///etc/hostname"
    return path
