import pyarrow as pa
import pyarrow.parquet as pq

from loon.suite import parquet_meta


def test_codecs_and_dictionary(tmp_path):
    table = pa.table({"s": ["a", "b"] * 100, "i": list(range(200))})
    pq.write_table(table, tmp_path / "z.parquet", compression="zstd", use_dictionary=True)
    pq.write_table(table, tmp_path / "n.parquet", compression="none", use_dictionary=False)
    assert parquet_meta.codecs(tmp_path / "z.parquet") == {"ZSTD"}
    assert parquet_meta.codecs(tmp_path / "n.parquet") == {"UNCOMPRESSED"}
    assert parquet_meta.uses_dictionary(tmp_path / "z.parquet")
    assert not parquet_meta.uses_dictionary(tmp_path / "n.parquet")
    assert parquet_meta.total_size([tmp_path / "z.parquet"]) > 0


def test_key_retriever_records_metadata():
    seen = []
    get = parquet_meta.key_retriever({b"m": b"k" * 16}, seen)
    assert get(b"m") == b"k" * 16 and get(b"x") is None and seen == [b"m", b"x"]


def test_generators():
    wide = parquet_meta.wide_table(3, 600)
    assert wide.num_columns == 600 and wide.column("c0599").to_pylist() == [599, 1199, 1799]
    nested = parquet_meta.nested_table(10)
    assert nested.num_rows == 10 and nested.column("deep").to_pylist()[0] is None
