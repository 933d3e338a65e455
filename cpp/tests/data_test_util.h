// Helpers shared by the writer/reader/chunk-reader tests: Arrow data in C++, C-ABI round trips.
#pragma once

#include <arrow/api.h>
#include <arrow/c/bridge.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "test_util.h"

// Owns a LoonProperties built through the ABI.
struct Props {
  LoonProperties p{nullptr, 0};
  explicit Props(const std::map<std::string, std::string>& kv) {
    std::vector<const char*> keys, values;
    for (const auto& [k, v] : kv) {
      keys.push_back(k.c_str());
      values.push_back(v.c_str());
    }
    if (!kv.empty()) CHECK_OK(loon_properties_create(keys.data(), values.data(), keys.size(), &p));
  }
  ~Props() { loon_properties_free(&p); }
  const LoonProperties* get() const { return &p; }
};

inline std::string TestRoot(const char* name) {
  std::string root = std::filesystem::absolute(std::string("data_root_") + name).string();
  std::filesystem::remove_all(root);
  return root;
}

inline std::map<std::string, std::string> With(std::map<std::string, std::string> base,
                                               const std::map<std::string, std::string>& extra) {
  for (const auto& [k, v] : extra) base[k] = v;
  return base;
}

// id int64 (0..n-1 + offset), name string, value double (id*0.5, null every 7th), vec fixed_size_list<float,4>
inline std::shared_ptr<arrow::Schema> TestSchema() {
  return arrow::schema({arrow::field("id", arrow::int64()), arrow::field("name", arrow::utf8()),
                        arrow::field("value", arrow::float64()),
                        arrow::field("vec", arrow::fixed_size_list(arrow::float32(), 4))});
}

inline std::shared_ptr<arrow::RecordBatch> TestBatch(int64_t offset, int64_t n) {
  arrow::Int64Builder ids;
  arrow::StringBuilder names;
  arrow::DoubleBuilder values;
  auto vb = std::make_shared<arrow::FloatBuilder>();
  arrow::FixedSizeListBuilder vecs(arrow::default_memory_pool(), vb, 4);
  for (int64_t i = offset; i < offset + n; ++i) {
    (void)ids.Append(i);
    (void)names.Append("name_" + std::to_string(i));
    if (i % 7 == 0) {
      (void)values.AppendNull();
    } else {
      (void)values.Append(i * 0.5);
    }
    (void)vecs.Append();
    for (int k = 0; k < 4; ++k) (void)vb->Append(static_cast<float>(i + k));
  }
  std::shared_ptr<arrow::Array> a, b, c, d;
  (void)ids.Finish(&a);
  (void)names.Finish(&b);
  (void)values.Finish(&c);
  (void)vecs.Finish(&d);
  return arrow::RecordBatch::Make(TestSchema(), n, {a, b, c, d});
}

inline LoonWriterHandle NewWriter(const std::string& base, const std::shared_ptr<arrow::Schema>& schema,
                                  const Props& props, int expect = 0) {
  struct ArrowSchema cs;
  (void)arrow::ExportSchema(*schema, &cs);
  LoonWriterHandle w = 0;
  CheckCode(loon_writer_new(base.c_str(), &cs, props.get(), &w), expect, "loon_writer_new", __FILE__, __LINE__);
  if (cs.release) cs.release(&cs);
  return w;
}

inline int WriteBatch(LoonWriterHandle w, const std::shared_ptr<arrow::RecordBatch>& batch) {
  struct ArrowArray ca;
  (void)arrow::ExportRecordBatch(*batch, &ca);
  LoonFFIResult r = loon_writer_write(w, &ca);
  if (ca.release) ca.release(&ca);
  int code = r.err_code;
  if (code != 0) std::fprintf(stderr, "write: %s\n", r.message);
  loon_ffi_free_result(&r);
  return code;
}

inline LoonColumnGroups* CloseWriter(LoonWriterHandle w) {
  LoonColumnGroups* groups = nullptr;
  CHECK_OK(loon_writer_close(w, nullptr, nullptr, 0, &groups));
  loon_writer_destroy(w);
  return groups;
}

// Writes `batches` and returns the closed groups.
inline LoonColumnGroups* WriteAll(const std::string& base, const Props& props,
                                  const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches) {
  LoonWriterHandle w = NewWriter(base, TestSchema(), props);
  for (const auto& b : batches) CHECK_EQ(WriteBatch(w, b), 0);
  return CloseWriter(w);
}

inline LoonReaderHandle NewReader(const LoonColumnGroups* groups, const std::shared_ptr<arrow::Schema>& schema,
                                  const Props& props, const std::vector<std::string>& projection = {}) {
  struct ArrowSchema cs;
  (void)arrow::ExportSchema(*schema, &cs);
  std::vector<const char*> names;
  for (const auto& n : projection) names.push_back(n.c_str());
  LoonReaderHandle r = 0;
  CHECK_OK(loon_reader_new(groups, &cs, names.empty() ? nullptr : names.data(), names.size(), props.get(), &r));
  if (cs.release) cs.release(&cs);
  return r;
}

// Scans through the C stream; returns the batches (nullptr table on error, code in *code).
inline std::vector<std::shared_ptr<arrow::RecordBatch>> Scan(LoonReaderHandle r, const char* predicate, int* code,
                                                             std::shared_ptr<arrow::Schema>* schema = nullptr) {
  struct ArrowArrayStream stream;
  LoonFFIResult res = loon_get_record_batch_reader(r, predicate, &stream);
  *code = res.err_code;
  loon_ffi_free_result(&res);
  std::vector<std::shared_ptr<arrow::RecordBatch>> out;
  if (*code != 0) return out;
  auto reader = arrow::ImportRecordBatchReader(&stream);
  if (!reader.ok()) {
    *code = -1;
    return out;
  }
  if (schema) *schema = (*reader)->schema();
  while (true) {
    auto next = (*reader)->Next();
    if (!next.ok()) {
      *code = -2;
      return out;
    }
    if (!*next) break;
    out.push_back(*next);
  }
  return out;
}

inline std::shared_ptr<arrow::Table> ToTable(const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches,
                                             const std::shared_ptr<arrow::Schema>& schema) {
  return arrow::Table::FromRecordBatches(schema, batches).ValueOrDie()->CombineChunks().ValueOrDie();
}

inline int64_t TotalRows(const std::vector<std::shared_ptr<arrow::RecordBatch>>& batches) {
  int64_t n = 0;
  for (const auto& b : batches) n += b->num_rows();
  return n;
}
