#include "writer/writer.h"

#include <arrow/compute/api.h>
#include <arrow/io/buffered.h>
#include <arrow/io/interfaces.h>
#include <arrow/memory_pool.h>
#include <arrow/table.h>
#include <arrow/util/compression.h>
#include <arrow/util/key_value_metadata.h>
#include <arrow/util/secure_string.h>
#include <parquet/arrow/writer.h>
#include <parquet/encryption/encryption.h>
#include <parquet/exception.h>
#include <parquet/properties.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <random>
#include <thread>

#include "common/status.h"
#include "common/thread_pool.h"
#include "filesystem/fs.h"
#include "fiu/fault.h"
#include "reader/file_integrity.h"
#include "milvus-storage/ffi_fiu.h"

namespace loon {

namespace {

// Row groups hold about 1 MiB of in-memory data (as milvus-storage writes them); dictionary pages
// 1/16 of that. Wide groups get larger row groups so that a column chunk averages at least
// kMinColumnChunkBytes: every column chunk costs a compressor, a page index entry, statistics and,
// on reading, a decoder set-up. At 1 MiB, 500 float64 columns made 263-row groups (19,000 chunks
// of 2 KiB for 10k rows): ZSTD context creation alone was 22% of the write, and pyarrow took 3.8x
// the CPU to write that layout and 8x to read it as at one row group.
constexpr int64_t kRowGroupBytes = 1 << 20;
constexpr int64_t kMinColumnChunkBytes = 128 << 10;

// In-memory bytes per row group for a group of `num_columns` columns.
int64_t RowGroupBytes(int num_columns) {
  return std::max<int64_t>(kRowGroupBytes, static_cast<int64_t>(num_columns) * kMinColumnChunkBytes);
}
constexpr int64_t kOutputBufferBytes = 1 << 20;
constexpr int64_t kDataPageBytes = 16 << 10;
constexpr int64_t kDataPageRows = 512;
// Pages of wide groups (more than kRowGroupBytes / kMinColumnChunkBytes columns): a row read there
// decodes one page per column anyway, and each page costs a fixed ~15 us (a zstd context is
// created per page by Arrow's codec, plus header and checksum). Measured with pyarrow on 500
// float64 columns x 10k rows, one row group: scan CPU 197 ms at 16 KiB pages, 122 at 32 KiB,
// 115 at 1 MiB.
constexpr int64_t kWideDataPageBytes = 32 << 10;
// A column whose first row group's worth of values (at least this many) is >= 90% distinct is
// written without a dictionary.
constexpr int64_t kUniqueSampleRows = 256;
// Values a wide group's column is first judged on (SampleDictionaryColumns).
constexpr int64_t kWideSampleRows = 1024;

int64_t SizeOf(const arrow::ArrayData& d, int64_t off, int64_t len);

template <typename Offset>
int64_t VarBinarySize(const arrow::ArrayData& d, int64_t off, int64_t len) {
  int64_t total = (len + 1) * static_cast<int64_t>(sizeof(Offset));
  if (d.buffers.size() > 1 && d.buffers[1] && len > 0) {
    const auto* o = reinterpret_cast<const Offset*>(d.buffers[1]->data()) + off;
    total += static_cast<int64_t>(o[len] - o[0]);
  }
  return total;
}

template <typename Offset>
int64_t ListSize(const arrow::ArrayData& d, int64_t off, int64_t len) {
  int64_t total = (len + 1) * static_cast<int64_t>(sizeof(Offset));
  if (d.buffers.size() > 1 && d.buffers[1] && len > 0 && !d.child_data.empty()) {
    const auto* o = reinterpret_cast<const Offset*>(d.buffers[1]->data()) + off;
    const auto& child = *d.child_data[0];
    total += SizeOf(child, child.offset + o[0], static_cast<int64_t>(o[len] - o[0]));
  }
  return total;
}

// `off` is absolute (already includes d.offset).
int64_t SizeOf(const arrow::ArrayData& d, int64_t off, int64_t len) {
  if (len <= 0) return 0;
  int64_t total = 0;
  if (!d.buffers.empty() && d.buffers[0]) total += (len + 7) / 8;
  const arrow::DataType& type = *d.type;
  switch (type.id()) {
    case arrow::Type::NA:
      return 0;
    case arrow::Type::STRING:
    case arrow::Type::BINARY:
      return total + VarBinarySize<int32_t>(d, off, len);
    case arrow::Type::LARGE_STRING:
    case arrow::Type::LARGE_BINARY:
      return total + VarBinarySize<int64_t>(d, off, len);
    case arrow::Type::LIST:
    case arrow::Type::MAP:
      return total + ListSize<int32_t>(d, off, len);
    case arrow::Type::LARGE_LIST:
      return total + ListSize<int64_t>(d, off, len);
    case arrow::Type::FIXED_SIZE_LIST: {
      int64_t n = static_cast<const arrow::FixedSizeListType&>(type).list_size();
      const auto& child = *d.child_data[0];
      return total + SizeOf(child, child.offset + off * n, len * n);
    }
    case arrow::Type::STRUCT:
      for (const auto& child : d.child_data) total += SizeOf(*child, child->offset + (off - d.offset), len);
      return total;
    case arrow::Type::DICTIONARY: {
      const auto& dict_type = static_cast<const arrow::DictionaryType&>(type);
      total += len * dict_type.index_type()->byte_width();
      if (d.dictionary) total += SizeOf(*d.dictionary, d.dictionary->offset, d.dictionary->length);
      return total;
    }
    case arrow::Type::STRING_VIEW:
    case arrow::Type::BINARY_VIEW:
      total += len * 16;
      for (size_t i = 2; i < d.buffers.size(); ++i) {
        if (d.buffers[i]) total += d.buffers[i]->size() * len / std::max<int64_t>(1, d.length);
      }
      return total;
    default:
      break;
  }
  if (type.id() == arrow::Type::BOOL) return total + (len + 7) / 8;
  if (arrow::is_fixed_width(type.id())) {
    int bits = static_cast<const arrow::FixedWidthType&>(type).bit_width();
    return total + len * bits / 8;
  }
  // Unusual layouts (unions, run-end encoded): charge the buffers proportionally.
  int64_t bytes = 0;
  for (const auto& b : d.buffers) bytes += b ? b->size() : 0;
  for (const auto& c : d.child_data) bytes += SizeOf(*c, c->offset, c->length);
  return total + bytes * len / std::max<int64_t>(1, d.length);
}

arrow::Result<arrow::Compression::type> CodecOf(const std::string& name) {
  if (name == "uncompressed") return arrow::Compression::UNCOMPRESSED;
  if (name == "snappy") return arrow::Compression::SNAPPY;
  if (name == "gzip") return arrow::Compression::GZIP;
  // Parquet's LZ4 codec in Arrow C++ is written as LZ4_RAW.
  if (name == "lz4") return arrow::Compression::LZ4;
  if (name == "zstd") return arrow::Compression::ZSTD;
  if (name == "brotli") return arrow::Compression::BROTLI;
  return CodedError(kInvalidProperties, "unknown writer.compression '" + name + "'");
}

bool CodecHasLevels(arrow::Compression::type codec) {
  return codec == arrow::Compression::GZIP || codec == arrow::Compression::ZSTD ||
         codec == arrow::Compression::BROTLI;
}

// Forwards to the real stream and remembers the last 8 bytes written: the Parquet trailer
// (4-byte footer length + magic), which gives the footer size without reading the file back.
// From StartFooterCapture on it also keeps every byte written, so the footer's checksum is
// computed from the bytes that went to storage.
class TailTrackingStream : public arrow::io::OutputStream {
 public:
  explicit TailTrackingStream(std::shared_ptr<arrow::io::OutputStream> inner) : inner_(std::move(inner)) {}
  arrow::Status Close() override { return inner_->Close(); }
  arrow::Status Abort() override { return inner_->Abort(); }
  arrow::Result<int64_t> Tell() const override { return inner_->Tell(); }
  bool closed() const override { return inner_->closed(); }
  arrow::Status Flush() override { return inner_->Flush(); }
  arrow::Status Write(const void* data, int64_t nbytes) override {
    Remember(static_cast<const uint8_t*>(data), nbytes);
    return inner_->Write(data, nbytes);
  }
  arrow::Status Write(const std::shared_ptr<arrow::Buffer>& data) override {
    Remember(data->data(), data->size());
    return inner_->Write(data);
  }
  void StartFooterCapture() {
    capturing_ = true;
    captured_.clear();
  }
  // CRC32C of the footer (incl. trailer) captured since StartFooterCapture; nullopt if not all of
  // it was seen.
  std::optional<uint32_t> FooterCrc32c() const {
    int64_t footer = FooterSize();
    if (!capturing_ || footer > static_cast<int64_t>(captured_.size())) return std::nullopt;
    return Crc32c(captured_.data() + captured_.size() - footer, static_cast<size_t>(footer));
  }
  // Footer length including the 8-byte trailer.
  int64_t FooterSize() const {
    uint32_t len = 0;
    std::memcpy(&len, tail_, 4);  // little-endian on all supported platforms
    return static_cast<int64_t>(len) + 8;
  }

 private:
  void Remember(const uint8_t* p, int64_t n) {
    if (capturing_ && n > 0) captured_.insert(captured_.end(), p, p + n);
    if (n >= 8) {
      std::memcpy(tail_, p + n - 8, 8);
    } else if (n > 0) {
      std::memmove(tail_, tail_ + n, 8 - n);
      std::memcpy(tail_ + 8 - n, p, n);
    }
  }
  std::shared_ptr<arrow::io::OutputStream> inner_;
  uint8_t tail_[8] = {0};
  bool capturing_ = false;
  std::vector<uint8_t> captured_;
};

struct BufferedBatch {
  std::shared_ptr<arrow::RecordBatch> batch;
  int64_t bytes;
};

struct GroupWriter {
  int index = 0;
  GroupSpec spec;
  int64_t row_group_bytes = kRowGroupBytes;  // in-memory bytes per row group (RowGroupBytes)
  std::vector<std::string> columns;
  std::shared_ptr<arrow::Schema> schema;
  std::vector<BufferedBatch> buffered;
  int64_t buffered_bytes = 0;

  // Current data file.
  std::string path;  // as reported in the column groups
  std::shared_ptr<TailTrackingStream> sink;
  std::unique_ptr<parquet::arrow::FileWriter> writer;
  int64_t file_bytes = 0;
  int64_t file_rows = 0;
  std::string row_group_meta;

  std::vector<ColumnGroupFile> files;
  // Columns whose sampled cardinality would overflow the dictionary page in every row group.
  std::vector<std::string> plain_columns;

  ~GroupWriter() {
    // Destroyed without close: abort the stream so the Parquet writer cannot finish the file.
    if (sink && !sink->closed()) (void)sink->Abort();
    try {
      writer.reset();
    } catch (...) {
    }
  }
};

}  // namespace

int64_t EstimateMemorySize(const arrow::ArrayData& data) { return SizeOf(data, data.offset, data.length); }


int64_t EstimateMemorySize(const arrow::RecordBatch& batch) {
  int64_t total = 0;
  for (int i = 0; i < batch.num_columns(); ++i) total += EstimateMemorySize(*batch.column_data(i));
  return total;
}

std::string NewUuid4() {
  // random_device reads the kernel's CSPRNG on Linux.
  static thread_local std::random_device rd;
  uint8_t b[16];
  for (int i = 0; i < 16; i += 4) {
    uint32_t v = rd();
    std::memcpy(b + i, &v, 4);
  }
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(hex[b[i] >> 4]);
    out.push_back(hex[b[i] & 0x0f]);
  }
  return out;
}

static arrow::Status CheckWritableFormat(const std::string& format) {
  if (format != "parquet") {
    return arrow::Status::NotImplemented("column group format '", format,
                                         "' is not writable by this engine (only parquet)");
  }
  return arrow::Status::OK();
}

arrow::Result<std::vector<GroupSpec>> SplitColumns(const arrow::Schema& schema, const Properties& props,
                                                   const arrow::RecordBatch* sample) {
  const std::string policy = props.GetString("writer.policy");
  const std::string format = props.GetString("writer.format");
  std::vector<GroupSpec> groups;
  if (policy == "single" || policy.empty()) {
    GroupSpec g{{}, format};
    for (int i = 0; i < schema.num_fields(); ++i) g.fields.push_back(i);
    groups.push_back(std::move(g));
  } else if (policy == "schema_based") {
    auto patterns = props.GetList("writer.split.schema_based.patterns");
    auto formats = props.GetList("writer.split.schema_based.formats");
    if (!formats.empty() && formats.size() != patterns.size()) {
      return arrow::Status::Invalid("schema_based policy: ", formats.size(), " formats for ", patterns.size(),
                                    " patterns");
    }
    ARROW_ASSIGN_OR_RAISE(auto matcher, ColumnPatterns::Compile(patterns));
    groups.resize(patterns.size() + 1);
    for (size_t j = 0; j < patterns.size(); ++j) groups[j].format = formats.empty() ? format : formats[j];
    groups.back().format = format;
    for (int i = 0; i < schema.num_fields(); ++i) {
      groups[matcher.FirstMatch(schema.field(i)->name())].fields.push_back(i);
    }
  } else if (policy == "size_based") {
    if (sample == nullptr) return arrow::Status::Invalid("size_based policy needs a sample batch");
    const int64_t max_avg = props.GetInt("writer.split.size_based.max_avg_column_size");
    const int64_t max_cols = props.GetInt("writer.split.size_based.max_columns_in_group");
    const int64_t rows = std::max<int64_t>(1, sample->num_rows());
    GroupSpec current{{}, format};
    for (int i = 0; i < schema.num_fields(); ++i) {
      int64_t avg = EstimateMemorySize(*sample->column_data(i)) / rows;
      bool joins = avg < max_avg && static_cast<int64_t>(current.fields.size()) < max_cols;
      if (!joins && !current.fields.empty()) {
        groups.push_back(std::move(current));
        current = GroupSpec{{}, format};
      }
      current.fields.push_back(i);
    }
    groups.push_back(std::move(current));
  } else {
    return CodedError(kInvalidProperties, "unknown writer.policy '" + policy + "'");
  }
  groups.erase(std::remove_if(groups.begin(), groups.end(), [](const GroupSpec& g) { return g.fields.empty(); }),
               groups.end());
  for (const auto& g : groups) ARROW_RETURN_NOT_OK(CheckWritableFormat(g.format));
  return groups;
}

struct Writer::Impl {
  std::string base_path;
  std::shared_ptr<arrow::Schema> schema;
  Properties props;
  arrow::Compression::type codec = arrow::Compression::ZSTD;
  int compression_level = 3;
  bool dictionary = true;
  int64_t buffer_size = 0;
  uint64_t rolling_size = 0;
  bool encrypt = false;
  std::string enc_key, enc_meta;
  parquet::ParquetCipher::type cipher = parquet::ParquetCipher::AES_GCM_V1;

  bool closed = false;
  bool groups_ready = false;
  bool dir_created = false;
  std::vector<std::unique_ptr<GroupWriter>> groups;
  int64_t buffered_bytes = 0;

  std::shared_ptr<parquet::WriterProperties> MakeWriterProperties(const GroupWriter& g) const {
    parquet::WriterProperties::Builder b;
    b.compression(codec);
    // CRC32 of every page (Parquet page checksums): readers detect bit rot inside data pages.
    b.enable_page_checksum();
    if (compression_level >= 0 && CodecHasLevels(codec)) b.compression_level(compression_level);
    b.max_row_group_length(std::numeric_limits<int64_t>::max());
    // Small data pages for point reads: a take decodes only the pages holding its rows (found
    // through the offset index, which Arrow writes by default), so a 512-byte vector costs a
    // 16 KiB page rather than its whole ~1 MiB column chunk. Measured on 300k rows of
    // id/vector(128 x f32)/name at zstd 3: take(100) 296 ms CPU with 1 MiB pages, 41 ms with
    // 64 KiB, 16 ms with 16 KiB; scan CPU within noise. Narrow columns of a 1 MiB row group
    // stay one or two pages.
    b.data_pagesize(g.row_group_bytes > kRowGroupBytes ? kWideDataPageBytes : kDataPageBytes);
    // ... and at most kDataPageRows rows a page, so that a point read of a narrow column (an
    // 8-byte id, a short string) decodes 512 values rather than a 16 KiB page of ~2,000 ids or
    // ~1,300 names. 1M rows of id/vector/name, zstd 3 (CPU per call, 2-3 interleaved runs):
    // take(10) 3.1 -> 1.6-2.0 ms, take(100) 15.7-20.8 -> 10.1-18.1 ms, take(1000) 120-136 ->
    // 103-116 ms; id-only and name-only scans unchanged within noise; file +0.06%. Wide groups
    // (bigger row groups, scan-bound) keep whole pages.
    if (g.row_group_bytes <= kRowGroupBytes) b.max_rows_per_page(kDataPageRows);
    b.enable_write_page_index();
    if (dictionary) {
      b.enable_dictionary();
    } else {
      b.disable_dictionary();
    }
    b.dictionary_pagesize_limit(kRowGroupBytes / 16);
    for (const auto& name : g.plain_columns) b.disable_dictionary(name);
    for (const auto& field : g.schema->fields()) {
      switch (field->type()->id()) {
        case arrow::Type::FIXED_SIZE_BINARY:
          b.compression(field->name(), arrow::Compression::UNCOMPRESSED);
          // Without codec options of its own the column inherits the global compression level,
          // and Arrow refuses a level for the uncompressed codec: every close failed (code 3).
          b.codec_options(field->name(), std::make_shared<arrow::util::CodecOptions>());
          b.disable_statistics(field->name());
          break;
        case arrow::Type::BINARY:
        case arrow::Type::LARGE_BINARY:
        case arrow::Type::BINARY_VIEW:
          b.disable_statistics(field->name());
          break;
        default:
          break;
      }
    }
    if (encrypt) {
      parquet::FileEncryptionProperties::Builder eb{arrow::util::SecureString(std::string(enc_key))};
      eb.algorithm(cipher)->footer_key_metadata(enc_meta);
      b.encryption(eb.build());
    }
    return b.build();
  }

  // Small row groups restart dictionary encoding each time; for a column whose distinct values
  // in one row group's worth of rows already exceed the dictionary page limit, Parquet would
  // fall back to plain in every row group after paying for the hashing. Such columns are
  // written plain from the start (decided once, from the first batch).
  arrow::Status SampleDictionaryColumns(const arrow::RecordBatch& sample, GroupWriter* g) {
    static std::once_flag once;
    std::call_once(once, [] { (void)arrow::compute::Initialize(); });
    const int64_t limit = kRowGroupBytes / 16;  // the dictionary page limit
    int64_t group_bytes = 0;
    for (int f : g->spec.fields) group_bytes += EstimateMemorySize(*sample.column_data(f));
    int64_t rows = sample.num_rows();
    int64_t rg_rows = group_bytes > 0 ? std::min<int64_t>(rows, std::max<int64_t>(1, g->row_group_bytes * rows / group_bytes))
                                      : rows;
    for (int f : g->spec.fields) {
      auto type = schema->field(f)->type();
      std::shared_ptr<arrow::Array> column = sample.column(f)->Slice(0, rg_rows);
      std::string path = schema->field(f)->name();
      // Lists of scalars: judge the leaf values (Parquet path <name>.list.element).
      if (type->id() == arrow::Type::FIXED_SIZE_LIST || type->id() == arrow::Type::LIST ||
          type->id() == arrow::Type::LARGE_LIST) {
        auto flat = column->type_id() == arrow::Type::FIXED_SIZE_LIST
                        ? std::static_pointer_cast<arrow::FixedSizeListArray>(column)->Flatten()
                        : column->type_id() == arrow::Type::LIST
                              ? std::static_pointer_cast<arrow::ListArray>(column)->Flatten()
                              : std::static_pointer_cast<arrow::LargeListArray>(column)->Flatten();
        if (!flat.ok()) continue;
        column = *flat;
        type = column->type();
        path += ".list.element";
      }
      if (!(arrow::is_primitive(type->id()) || arrow::is_base_binary_like(type->id())) ||
          type->id() == arrow::Type::BOOL) {
        continue;
      }
      int64_t bytes = EstimateMemorySize(*column->data());
      int64_t valid = std::max<int64_t>(1, column->length() - column->null_count());
      // Only a sample bigger than the limit can prove anything.
      if (bytes <= limit) {
        // ... except that nearly all values are distinct (ids, names, random floats): the
        // dictionary then holds the plain values again, plus indices, and a point read must decode
        // the whole dictionary page for one value.
        if (valid < kUniqueSampleRows) continue;
        auto distinct = arrow::compute::CallFunction("count_distinct", {column});
        if (!distinct.ok()) continue;
        int64_t n = std::static_pointer_cast<arrow::Int64Scalar>(distinct->scalar())->value;
        if (n * 10 >= valid * 9) g->plain_columns.push_back(path);
        continue;
      }
      // Distinct values of a prefix are a lower bound: when a prefix already exceeds the limit the
      // answer is that of the whole sample (plain), at a fraction of the hashing (a 1 MiB sample
      // of random floats took ~10 ms, 3% of writing a 58 MB vector table).
      auto exceeds = [&](const std::shared_ptr<arrow::Array>& values) -> std::optional<bool> {
        auto distinct = arrow::compute::CallFunction("count_distinct", {values});
        if (!distinct.ok()) return std::nullopt;
        int64_t n = std::static_pointer_cast<arrow::Int64Scalar>(distinct->scalar())->value;
        return n * bytes / valid > limit;
      };
      // In wide groups that hashing is paid per column (500 columns of 10k float64: ~40% of the
      // write's CPU). There a prefix of kWideSampleRows values that is >= 90% distinct decides
      // plain on its own, as for small samples above; only a column with repeats in its prefix
      // (which the dictionary may serve) is hashed as a whole.
      if (g->row_group_bytes > kRowGroupBytes && column->length() > kWideSampleRows) {
        auto head = column->Slice(0, kWideSampleRows);
        int64_t head_valid = head->length() - head->null_count();
        auto distinct = arrow::compute::CallFunction("count_distinct", {head});
        if (head_valid >= kUniqueSampleRows && distinct.ok() &&
            std::static_pointer_cast<arrow::Int64Scalar>(distinct->scalar())->value * 10 >= head_valid * 9) {
          g->plain_columns.push_back(path);
          continue;
        }
      }
      int64_t prefix = 2 * limit * valid / bytes + 1;
      std::optional<bool> plain;
      if (prefix < column->length()) plain = exceeds(column->Slice(0, prefix));
      if (!plain.value_or(false)) plain = exceeds(column);
      if (plain.value_or(false)) g->plain_columns.push_back(path);
    }
    return arrow::Status::OK();
  }

  arrow::Status InitGroups(const arrow::RecordBatch& sample) {
    LOON_RETURN_ON_FAULT(loon_fiukey_writer_init_column_group_writers_fail);
    ARROW_ASSIGN_OR_RAISE(auto specs, SplitColumns(*schema, props, &sample));
    std::vector<std::unique_ptr<GroupWriter>> made;
    for (size_t i = 0; i < specs.size(); ++i) {
      auto g = std::make_unique<GroupWriter>();
      g->index = static_cast<int>(i);
      g->spec = specs[i];
      arrow::FieldVector fields;
      for (int f : g->spec.fields) {
        fields.push_back(schema->field(f));
        g->columns.push_back(schema->field(f)->name());
      }
      g->schema = arrow::schema(fields);
      g->row_group_bytes = RowGroupBytes(static_cast<int>(fields.size()));
      if (dictionary) ARROW_RETURN_NOT_OK(SampleDictionaryColumns(sample, g.get()));
      made.push_back(std::move(g));
    }
    groups = std::move(made);
    groups_ready = true;
    return arrow::Status::OK();
  }

  arrow::Status OpenFile(GroupWriter& g) {
    g.path = fs::JoinPath(base_path, "_data/" + std::to_string(g.index) + "_" + NewUuid4() + ".parquet");
    ARROW_ASSIGN_OR_RAISE(auto resolved, fs::Resolve(props, g.path));
    if (!dir_created) {
      auto slash = resolved.path.rfind('/');
      if (slash != std::string::npos) ARROW_RETURN_NOT_OK(resolved.fs->CreateDir(resolved.path.substr(0, slash)));
      dir_created = true;
    }
    ARROW_ASSIGN_OR_RAISE(auto raw, resolved.fs->OpenOutputStream(resolved.path));
    ARROW_ASSIGN_OR_RAISE(auto buffered, arrow::io::BufferedOutputStream::Create(
                                             kOutputBufferBytes, arrow::default_memory_pool(), raw));
    g.sink = std::make_shared<TailTrackingStream>(buffered);
    auto arrow_props = parquet::ArrowWriterProperties::Builder().store_schema()->build();
    std::shared_ptr<parquet::WriterProperties> writer_props;
    PARQUET_CATCH_NOT_OK(writer_props = MakeWriterProperties(g));
    auto opened = parquet::arrow::FileWriter::Open(*g.schema, arrow::default_memory_pool(), g.sink, writer_props,
                                                   arrow_props);
    if (!opened.ok()) {
      (void)g.sink->Abort();
      g.sink.reset();
      return opened.status();
    }
    g.writer = std::move(opened).ValueUnsafe();
    g.file_bytes = 0;
    g.file_rows = 0;
    g.row_group_meta.clear();
    return arrow::Status::OK();
  }

  arrow::Status CloseFile(GroupWriter& g) {
    if (!g.writer) return arrow::Status::OK();
    auto kv = arrow::key_value_metadata({"row_group_metadata", "storage_version"},
                                        {g.row_group_meta, "1.0.0"});
    ARROW_RETURN_NOT_OK(g.writer->AddKeyValueMetadata(kv));
    g.sink->StartFooterCapture();
    ARROW_RETURN_NOT_OK(g.writer->Close());
    ARROW_ASSIGN_OR_RAISE(int64_t size, g.sink->Tell());
    ARROW_RETURN_NOT_OK(g.sink->Close());
    if (g.file_rows > 0) {
      ColumnGroupFile f;
      f.path = g.path;
      f.start_index = 0;
      f.end_index = g.file_rows;
      f.properties["file_size"] = std::to_string(size);
      f.properties["footer_size"] = std::to_string(g.sink->FooterSize());
      if (auto crc = g.sink->FooterCrc32c()) f.properties[kFooterCrcProperty] = FormatCrc32c(*crc);
      g.files.push_back(std::move(f));
    }
    g.writer.reset();
    g.sink.reset();
    return arrow::Status::OK();
  }

  arrow::Status WriteRowGroup(GroupWriter& g, std::vector<std::shared_ptr<arrow::RecordBatch>>& pieces,
                              int64_t rows, int64_t bytes) {
    ARROW_ASSIGN_OR_RAISE(auto table, arrow::Table::FromRecordBatches(g.schema, pieces));
    ARROW_RETURN_NOT_OK(g.writer->WriteTable(*table, std::max<int64_t>(1, rows)));
    if (!g.row_group_meta.empty()) g.row_group_meta.push_back(';');
    g.row_group_meta += std::to_string(bytes) + "|" + std::to_string(rows) + "|" + std::to_string(g.file_rows);
    g.file_rows += rows;
    g.file_bytes += bytes;
    pieces.clear();
    return arrow::Status::OK();
  }

  // Writes everything buffered for `g` as row groups of ~g.row_group_bytes, then rolls the file if
  // it is full.
  arrow::Status FlushGroup(GroupWriter& g) {
    if (!g.buffered.empty()) {
      if (!g.writer) ARROW_RETURN_NOT_OK(OpenFile(g));
      std::vector<std::shared_ptr<arrow::RecordBatch>> pieces;
      int64_t piece_rows = 0;
      int64_t piece_bytes = 0;
      for (auto& item : g.buffered) {
        const int64_t rows = item.batch->num_rows();
        const double per_row = static_cast<double>(item.bytes) / static_cast<double>(rows);
        int64_t offset = 0;
        while (offset < rows) {
          int64_t room = g.row_group_bytes - piece_bytes;
          int64_t take = rows - offset;
          if (per_row > 0 && static_cast<double>(take) * per_row > static_cast<double>(room)) {
            take = std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(room) / per_row));
          }
          // Slices share the buffers: no copy on the way to the Parquet encoder.
          pieces.push_back(take == rows ? item.batch : item.batch->Slice(offset, take));
          int64_t take_bytes = offset == 0 && take == rows ? item.bytes
                                                           : static_cast<int64_t>(static_cast<double>(take) * per_row);
          piece_rows += take;
          piece_bytes += take_bytes;
          offset += take;
          if (piece_bytes >= g.row_group_bytes) {
            ARROW_RETURN_NOT_OK(WriteRowGroup(g, pieces, piece_rows, piece_bytes));
            piece_rows = piece_bytes = 0;
          }
        }
      }
      if (!pieces.empty()) ARROW_RETURN_NOT_OK(WriteRowGroup(g, pieces, piece_rows, piece_bytes));
      g.buffered.clear();
      g.buffered_bytes = 0;
    }
    if (g.writer && static_cast<uint64_t>(g.file_bytes) >= rolling_size) ARROW_RETURN_NOT_OK(CloseFile(g));
    return arrow::Status::OK();
  }

  void RecountBuffered() {
    buffered_bytes = 0;
    for (auto& g : groups) buffered_bytes += g->buffered_bytes;
  }

  arrow::Status FlushAll() {
    size_t hw = std::max<unsigned>(1, std::thread::hardware_concurrency());
    // Groups write distinct files, so they can be encoded concurrently.
    auto st = ParallelFor(groups.size(), std::min(hw, groups.size()),
                          [&](size_t i) { return FlushGroup(*groups[i]); });
    RecountBuffered();
    return st;
  }
};

Writer::Writer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Writer::~Writer() = default;

const std::shared_ptr<arrow::Schema>& Writer::schema() const { return impl_->schema; }

arrow::Status ValidateWriterProperties(const Properties& props) {
  if (!props.GetBool("writer.enc.enable")) return arrow::Status::OK();
  size_t n = props.GetString("writer.enc.key").size();
  if (n != 16 && n != 24 && n != 32) {
    return CodedError(kInvalidProperties, "writer.enc.key must be 16, 24 or 32 bytes, got " + std::to_string(n));
  }
  std::string algo = props.GetString("writer.enc.algorithm");
  if (algo != "AES_GCM_V1" && algo != "AES_GCM_CTR_V1") {
    return CodedError(kInvalidProperties, "unknown writer.enc.algorithm '" + algo + "'");
  }
  return arrow::Status::OK();
}

arrow::Result<std::unique_ptr<Writer>> Writer::Make(std::string base_path, std::shared_ptr<arrow::Schema> schema,
                                                    Properties props) {
  // Columns are addressed by name everywhere (groups, projections, manifests): names must be unique.
  for (int i = 0; i < schema->num_fields(); ++i) {
    if (schema->GetFieldIndex(schema->field(i)->name()) < 0) {
      return arrow::Status::Invalid("duplicate column name '", schema->field(i)->name(), "' in the writer schema");
    }
  }
  auto impl = std::make_unique<Impl>();
  impl->base_path = std::move(base_path);
  impl->schema = std::move(schema);
  ARROW_ASSIGN_OR_RAISE(impl->codec, CodecOf(props.GetString("writer.compression")));
  impl->compression_level = static_cast<int>(props.GetInt("writer.compression_level"));
  impl->dictionary = props.GetBool("writer.enable_dictionary");
  impl->buffer_size = props.GetInt("writer.buffer_size");
  impl->rolling_size = props.GetUInt("writer.file_rolling.size");
  impl->encrypt = props.GetBool("writer.enc.enable");
  ARROW_RETURN_NOT_OK(ValidateWriterProperties(props));
  if (impl->encrypt) {
    impl->enc_key = props.GetString("writer.enc.key");
    impl->enc_meta = props.GetString("writer.enc.meta");
    impl->cipher = props.GetString("writer.enc.algorithm") == "AES_GCM_CTR_V1" ? parquet::ParquetCipher::AES_GCM_CTR_V1
                                                                               : parquet::ParquetCipher::AES_GCM_V1;
  }
  impl->props = std::move(props);
  // Validate the policy now (size_based needs data, so only its format is checked here).
  if (impl->props.GetString("writer.policy") == "size_based") {
    ARROW_RETURN_NOT_OK(CheckWritableFormat(impl->props.GetString("writer.format")));
  } else {
    ARROW_RETURN_NOT_OK(SplitColumns(*impl->schema, impl->props, nullptr).status());
  }
  return std::unique_ptr<Writer>(new Writer(std::move(impl)));
}

arrow::Status Writer::Write(const std::shared_ptr<arrow::RecordBatch>& batch) {
  Impl& w = *impl_;
  LOON_RETURN_ON_FAULT(loon_fiukey_writer_write_fail);
  if (w.closed) return arrow::Status::Invalid("writer is closed");
  if (!batch->schema()->Equals(*w.schema, /*check_metadata=*/false)) {
    return arrow::Status::TypeError("record batch schema ", batch->schema()->ToString(),
                                    " does not match the writer schema ", w.schema->ToString());
  }
  if (batch->num_rows() == 0) return arrow::Status::OK();
  if (!w.groups_ready) ARROW_RETURN_NOT_OK(w.InitGroups(*batch));
  // Split and check every group before buffering anything, so all groups keep the same rows.
  std::vector<BufferedBatch> parts;
  parts.reserve(w.groups.size());
  for (auto& g : w.groups) {
    LOON_RETURN_ON_FAULT(loon_fiukey_column_group_write_fail);
    ARROW_ASSIGN_OR_RAISE(auto part, batch->SelectColumns(g->spec.fields));
    int64_t bytes = EstimateMemorySize(*part);
    parts.push_back({std::move(part), bytes});
  }
  // A group's data file is opened by the first write that brings it rows (and, after a roll, by
  // the next such write), as milvus-storage does: a storage failure to create the file (permission,
  // missing bucket, fs.open_output.fail) is reported by this write, not by a later flush or close.
  // Opened before anything is buffered, so a failed write leaves every group's rows unchanged and
  // can be retried; a group opened before a later group failed keeps its (still empty) file.
  for (auto& g : w.groups) {
    if (!g->writer) ARROW_RETURN_NOT_OK(w.OpenFile(*g));
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    w.groups[i]->buffered_bytes += parts[i].bytes;
    w.buffered_bytes += parts[i].bytes;
    w.groups[i]->buffered.push_back(std::move(parts[i]));
  }
  // Buffer pressure: flush the largest groups first until we are below the limit.
  while (w.buffered_bytes >= w.buffer_size && w.buffered_bytes > 0) {
    GroupWriter* largest = nullptr;
    for (auto& g : w.groups) {
      if (g->buffered_bytes > 0 && (!largest || g->buffered_bytes > largest->buffered_bytes)) largest = g.get();
    }
    if (!largest) break;
    auto st = w.FlushGroup(*largest);
    w.RecountBuffered();
    ARROW_RETURN_NOT_OK(st);
  }
  return arrow::Status::OK();
}

arrow::Status Writer::Flush() {
  LOON_RETURN_ON_FAULT(loon_fiukey_writer_flush_fail);
  if (impl_->closed) return arrow::Status::Invalid("writer is closed");
  return impl_->FlushAll();
}

arrow::Result<ColumnGroupList> Writer::Close() {
  Impl& w = *impl_;
  LOON_RETURN_ON_FAULT(loon_fiukey_writer_close_fail);
  if (w.closed) return arrow::Status::Invalid("writer is already closed");
  ARROW_RETURN_NOT_OK(w.FlushAll());
  for (auto& g : w.groups) ARROW_RETURN_NOT_OK(w.CloseFile(*g));
  ColumnGroupList out;
  for (auto& g : w.groups) {
    if (g->files.empty()) continue;
    ColumnGroup cg;
    cg.columns = g->columns;
    cg.format = g->spec.format;
    cg.files = g->files;
    out.push_back(std::move(cg));
  }
  w.closed = true;
  return out;
}

}  // namespace loon
