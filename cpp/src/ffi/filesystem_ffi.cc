// 2.10 filesystem and metrics: thin C shims over loon::fs::LoonFileSystem.
#include <arrow/io/interfaces.h>
#include <arrow/util/key_value_metadata.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/properties.h"
#include "common/status.h"
#include "fiu/fault.h"
#include "filesystem/fs.h"
#include "milvus-storage/ffi_c.h"
#include "milvus-storage/ffi_fiu.h"

namespace {

using loon::fs::LoonFileSystem;

struct FsHandle {
  std::shared_ptr<LoonFileSystem> fs;
};

struct FsWriter {
  std::shared_ptr<LoonFileSystem> fs;  // keeps the instance (and its metrics) alive
  std::shared_ptr<arrow::io::OutputStream> out;
};

struct FsReader {
  std::shared_ptr<LoonFileSystem> fs;
  std::shared_ptr<arrow::io::RandomAccessFile> file;
};

LoonFileSystem* FsOf(FileSystemHandle h) { return reinterpret_cast<FsHandle*>(h)->fs.get(); }

arrow::Result<std::shared_ptr<const arrow::KeyValueMetadata>> MetaFromC(const LoonFileSystemMeta* meta,
                                                                        uint32_t count) {
  if (count == 0) return std::shared_ptr<const arrow::KeyValueMetadata>();
  if (meta == nullptr) return loon::CodedError(loon::kInvalidArgs, "metadata count > 0 but NULL array");
  auto kv = std::make_shared<arrow::KeyValueMetadata>();
  for (uint32_t i = 0; i < count; ++i) {
    if (meta[i].key == nullptr || meta[i].value == nullptr) {
      return loon::CodedError(loon::kInvalidArgs, "metadata entry with NULL key or value");
    }
    kv->Append(meta[i].key, meta[i].value);
  }
  return std::shared_ptr<const arrow::KeyValueMetadata>(kv);
}

// Absent -> 12; optionally a directory -> 4.
arrow::Result<arrow::fs::FileInfo> StatExisting(LoonFileSystem* fs, const std::string& path, bool want_file) {
  ARROW_ASSIGN_OR_RAISE(auto info, fs->GetFileInfo(path));
  if (info.type() == arrow::fs::FileType::NotFound) {
    return loon::CodedError(loon::kFileNotFound, "path not found: '" + path + "'");
  }
  if (want_file && info.type() == arrow::fs::FileType::Directory) {
    return loon::CodedError(loon::kLogical, "path is a directory: '" + path + "'");
  }
  return info;
}

// Exactly nbytes at offset, else 4.
arrow::Status ReadExactly(arrow::io::RandomAccessFile* file, uint64_t offset, uint64_t nbytes, uint8_t* out) {
  ARROW_ASSIGN_OR_RAISE(int64_t got, file->ReadAt(static_cast<int64_t>(offset), static_cast<int64_t>(nbytes), out));
  if (static_cast<uint64_t>(got) != nbytes) {
    return loon::CodedError(loon::kLogical, "short read: wanted " + std::to_string(nbytes) + " bytes at offset " +
                                                std::to_string(offset) + ", got " + std::to_string(got));
  }
  return arrow::Status::OK();
}

// The whole file from its start with sequential reads (so the store's sequential-read path and its
// fault points serve loon_filesystem_read_file_all), else 4 when it ends early.
arrow::Status ReadAll(arrow::io::RandomAccessFile* file, uint64_t nbytes, uint8_t* out) {
  uint64_t done = 0;
  while (done < nbytes) {
    ARROW_ASSIGN_OR_RAISE(int64_t got, file->Read(static_cast<int64_t>(nbytes - done), out + done));
    if (got <= 0) break;
    done += static_cast<uint64_t>(got);
  }
  if (done != nbytes) {
    return loon::CodedError(loon::kLogical, "short read: wanted " + std::to_string(nbytes) + " bytes, got " +
                                                std::to_string(done));
  }
  return arrow::Status::OK();
}

int64_t MtimeNs(const arrow::fs::FileInfo& info) {
  auto mtime = info.mtime();
  if (mtime == arrow::fs::kNoTime) return 0;
  return std::chrono::duration_cast<std::chrono::nanoseconds>(mtime.time_since_epoch()).count();
}

}  // namespace

#define LOON_FS_HANDLE() LOON_REQUIRE_ARG(handle != 0, "filesystem handle is 0")
#define LOON_FS_PATH()                                                      \
  LOON_REQUIRE_ARG(path_ptr != nullptr && path_len > 0, "empty path");      \
  const std::string path(path_ptr, path_len)
#define LOON_FFI_RETURN_NOT_OK(expr, fallback)                    \
  do {                                                            \
    ::arrow::Status _st = (expr);                                 \
    if (!_st.ok()) return ::loon::ToFFIResult(_st, (fallback));  \
  } while (0)
#define LOON_FFI_ASSIGN_OR_RETURN(lhs, rexpr, fallback)                       \
  auto&& _res_##lhs = (rexpr);                                                \
  if (!_res_##lhs.ok()) return ::loon::ToFFIResult(_res_##lhs.status(), (fallback)); \
  auto lhs = std::move(_res_##lhs).ValueUnsafe()

extern "C" {

LoonFFIResult loon_filesystem_get(const LoonProperties* properties, const char* path, uint32_t path_len,
                                  FileSystemHandle* out_handle) {
  LOON_FFI_GUARD({
    LOON_REQUIRE_ARG(properties != nullptr, "properties is NULL");
    LOON_REQUIRE_ARG(out_handle != nullptr, "out_handle is NULL");
    *out_handle = 0;
    LOON_FFI_ASSIGN_OR_RETURN(props, loon::Properties::FromC(properties), loon::kInvalidProperties);
    std::shared_ptr<LoonFileSystem> fs;
    std::string p = (path != nullptr && path_len > 0) ? std::string(path, path_len) : std::string();
    if (loon::fs::HasScheme(p)) {
      LOON_FFI_ASSIGN_OR_RETURN(resolved, loon::fs::Resolve(props, p), loon::kArrow);
      fs = loon::fs::AsLoon(resolved.fs);
    } else {
      LOON_FFI_ASSIGN_OR_RETURN(local, loon::fs::GetLoonFileSystem(props), loon::kArrow);
      fs = std::move(local);
    }
    *out_handle = reinterpret_cast<FileSystemHandle>(new FsHandle{std::move(fs)});
    return loon::FFISuccess();
  })
}

void loon_filesystem_destroy(FileSystemHandle handle) { delete reinterpret_cast<FsHandle*>(handle); }

void loon_close_filesystems() {
  try {
    loon::fs::ClearFileSystemCache();
  } catch (...) {
  }
}

LoonFFIResult loon_filesystem_open_writer(FileSystemHandle handle, const char* path_ptr, uint32_t path_len,
                                          const LoonFileSystemMeta* meta_array, uint32_t num_of_meta,
                                          bool conditional, FileSystemWriterHandle* out_handle) {
  LOON_FFI_GUARD({
    LOON_FS_HANDLE();
    LOON_FS_PATH();
    LOON_REQUIRE_ARG(out_handle != nullptr, "out_handle is NULL");
    *out_handle = 0;
    LOON_FFI_ASSIGN_OR_RETURN(meta, MetaFromC(meta_array, num_of_meta), loon::kArrow);
    auto* h = reinterpret_cast<FsHandle*>(handle);
    auto out = conditional ? h->fs->OpenOutputStreamCreateOnly(path, meta) : h->fs->OpenOutputStream(path, meta);
    if (!out.ok()) return loon::ToFFIResult(out.status(), loon::kArrow);
    *out_handle = reinterpret_cast<FileSystemWriterHandle>(new FsWriter{h->fs, *out});
    return loon::FFISuccess();
  })
}

LoonFFIResult loon_filesystem_writer_write(FileSystemWriterHandle handle, const uint8_t* data, uint64_t size) {
  LOON_FFI_GUARD({
    LOON_REQUIRE_ARG(handle != 0, "writer handle is 0");
    LOON_REQUIRE_ARG(data != nullptr && size > 0, "empty write");
    auto* w = reinterpret_cast<FsWriter*>(handle);
    return loon::ToFFIResult(w->out->Write(data, static_cast<int64_t>(size)), loon::kArrow);
  })
}

LoonFFIResult loon_filesystem_writer_flush(FileSystemWriterHandle handle) {
  LOON_FFI_GUARD({
    LOON_REQUIRE_ARG(handle != 0, "writer handle is 0");
    return loon::ToFFIResult(reinterpret_cast<FsWriter*>(handle)->out->Flush(), loon::kArrow);
  })
}

LoonFFIResult loon_filesystem_writer_close(FileSystemWriterHandle handle) {
  LOON_FFI_GUARD({
    LOON_REQUIRE_ARG(handle != 0, "writer handle is 0");
    return loon::ToFFIResult(reinterpret_cast<FsWriter*>(handle)->out->Close(), loon::kArrow);
  })
}

void loon_filesystem_writer_destroy(FileSystemWriterHandle handle) {
  // An unclosed stream is abandoned: the descriptor is released without further writes.
  delete reinterpret_cast<FsWriter*>(handle);
}

LoonFFIResult loon_filesystem_get_file_info(FileSystemHandle handle, const char* path_ptr, uint32_t path_len,
                                            uint64_t* out_size) {
  LOON_FFI_GUARD({
    LOON_FS_HANDLE();
    LOON_FS_PATH();
    LOON_REQUIRE_ARG(out_size != nullptr, "out_size is NULL");
    LOON_FFI_ASSIGN_OR_RETURN(info, StatExisting(FsOf(handle), path, true), loon::kArrow);
    *out_size = static_cast<uint64_t>(info.size());
    return loon::FFISuccess();
  })
}

LoonFFIResult loon_filesystem_read_file(FileSystemHandle handle, const char* path_ptr, uint32_t path_len,
                                        uint64_t offset, uint64_t nbytes, uint8_t* out_data) {
  LOON_FFI_GUARD({
    LOON_FS_HANDLE();
    LOON_FS_PATH();
    LOON_REQUIRE_ARG(nbytes > 0 && out_data != nullptr, "nothing to read into");
    LOON_FFI_ASSIGN_OR_RETURN(file, FsOf(handle)->OpenInputFile(path), loon::kArrow);
    arrow::Status st = ReadExactly(file.get(), offset, nbytes, out_data);
    (void)file->Close();
    return loon::ToFFIResult(st, loon::kArrow);
  })
}

LoonFFIResult loon_filesystem_open_reader(FileSystemHandle handle, const char* path_ptr, uint32_t path_len,
                                          uint64_t file_size, FileSystemReaderHandle* out_reader_ptr) {
  LOON_FFI_GUARD({
    LOON_FS_HANDLE();
    LOON_FS_PATH();
    LOON_REQUIRE_ARG(out_reader_ptr != nullptr, "out_reader_ptr is NULL");
    *out_reader_ptr = 0;
    auto* fs = FsOf(handle);
    arrow::Result<std::shared_ptr<arrow::io::RandomAccessFile>> file;
    if (file_size > 0) {
      // A known size saves the metadata lookup (and, as upstream, skips the open fault point).
      arrow::fs::FileInfo info(path, arrow::fs::FileType::File);
      info.set_size(static_cast<int64_t>(file_size));
      file = fs->OpenInputFile(info);
    } else {
      file = fs->OpenInputFile(path);
    }
    if (!file.ok()) return loon::ToFFIResult(file.status(), loon::kArrow);
    *out_reader_ptr = reinterpret_cast<FileSystemReaderHandle>(
        new FsReader{reinterpret_cast<FsHandle*>(handle)->fs, *file});
    return loon::FFISuccess();
  })
}

LoonFFIResult loon_filesystem_reader_readat(FileSystemReaderHandle handle, uint64_t offset, uint64_t nbytes,
                                            uint8_t* out_data) {
  LOON_FFI_GUARD({
    LOON_REQUIRE_ARG(handle != 0, "reader handle is 0");
    LOON_REQUIRE_ARG(nbytes > 0 && out_data != nullptr, "nothing to read into");
    auto* r = reinterpret_cast<FsReader*>(handle);
    return loon::ToFFIResult(ReadExactly(r->file.get(), offset, nbytes, out_data), loon::kArrow);
  })
}

LoonFFIResult loon_filesystem_reader_close(FileSystemReaderHandle handle) {
  LOON_FFI_GUARD({
    LOON_REQUIRE_ARG(handle != 0, "reader handle is 0");
    return loon::ToFFIResult(reinterpret_cast<FsReader*>(handle)->file->Close(), loon::kArrow);
  })
}

void loon_filesystem_reader_destroy(FileSystemReaderHandle handle) { delete reinterpret_cast<FsReader*>(handle); }

LoonFFIResult loon_filesystem_get_file_stats(FileSystemHandle handle, const char* path_ptr, uint32_t path_len,
                                             uint64_t* out_size, LoonFileSystemMeta** out_meta_array,
                                             uint32_t* out_meta_count) {
  LOON_FFI_GUARD({
    LOON_FS_HANDLE();
    LOON_FS_PATH();
    LOON_REQUIRE_ARG(out_size != nullptr, "out_size is NULL");
    if (out_meta_array != nullptr) *out_meta_array = nullptr;
    if (out_meta_count != nullptr) *out_meta_count = 0;
    auto* fs = FsOf(handle);
    LOON_FFI_ASSIGN_OR_RETURN(info, StatExisting(fs, path, true), loon::kArrow);
    // Reading metadata is an open by path (fs.open_input.fail applies) even if it is discarded.
    LOON_FFI_ASSIGN_OR_RETURN(meta, fs->ReadMetadata(path), loon::kArrow);
    *out_size = static_cast<uint64_t>(info.size());
    if (out_meta_array == nullptr || out_meta_count == nullptr) return loon::FFISuccess();
    if (!meta || meta->size() == 0) return loon::FFISuccess();  // never allocate for zero entries
    auto* arr = static_cast<LoonFileSystemMeta*>(std::calloc(meta->size(), sizeof(LoonFileSystemMeta)));
    if (arr == nullptr) return loon::MakeFFIError(loon::kMemory, "out of memory");
    for (int64_t i = 0; i < meta->size(); ++i) {
      arr[i].key = loon::MallocString(meta->key(i));
      arr[i].value = loon::MallocString(meta->value(i));
    }
    *out_meta_array = arr;
    *out_meta_count = static_cast<uint32_t>(meta->size());
    return loon::FFISuccess();
  })
}

void loon_filesystem_free_meta_array(LoonFileSystemMeta* meta_array, uint32_t meta_count) {
  if (meta_array == nullptr) return;
  for (uint32_t i = 0; i < meta_count; ++i) {
    std::free(meta_array[i].key);
    std::free(meta_array[i].value);
  }
  std::free(meta_array);
}

LoonFFIResult loon_filesystem_read_file_all(FileSystemHandle handle, const char* path_ptr, uint32_t path_len,
                                            uint8_t** out_data, uint64_t* out_size) {
  LOON_FFI_GUARD({
    LOON_FS_HANDLE();
    LOON_FS_PATH();
    LOON_REQUIRE_ARG(out_data != nullptr && out_size != nullptr, "output pointers are NULL");
    *out_data = nullptr;
    *out_size = 0;
    LOON_FFI_ASSIGN_OR_RETURN(file, FsOf(handle)->OpenInputFile(path), loon::kArrow);
    LOON_FFI_ASSIGN_OR_RETURN(size, file->GetSize(), loon::kArrow);
    auto* buf = static_cast<uint8_t*>(std::malloc(size > 0 ? static_cast<size_t>(size) : 1));
    if (buf == nullptr) return loon::MakeFFIError(loon::kMemory, "out of memory");
    if (size > 0) {
      arrow::Status st = ReadAll(file.get(), static_cast<uint64_t>(size), buf);
      if (!st.ok()) {
        std::free(buf);
        return loon::ToFFIResult(st, loon::kArrow);
      }
    }
    (void)file->Close();
    *out_data = buf;
    *out_size = static_cast<uint64_t>(size);
    return loon::FFISuccess();
  })
}

LoonFFIResult loon_filesystem_write_file(FileSystemHandle handle, const char* path_ptr, uint32_t path_len,
                                         const uint8_t* data, uint64_t data_size, const LoonFileSystemMeta* meta_array,
                                         uint32_t meta_count) {
  LOON_FFI_GUARD({
    LOON_FS_HANDLE();
    LOON_FS_PATH();
    LOON_REQUIRE_ARG(data_size == 0 || data != nullptr, "data is NULL");
    LOON_FFI_ASSIGN_OR_RETURN(meta, MetaFromC(meta_array, meta_count), loon::kArrow);
    LOON_FFI_ASSIGN_OR_RETURN(out, FsOf(handle)->OpenOutputStream(path, meta), loon::kArrow);
    if (data_size > 0) {
      arrow::Status st = out->Write(data, static_cast<int64_t>(data_size));
      if (!st.ok()) {
        (void)out->Close();
        return loon::ToFFIResult(st, loon::kArrow);
      }
    }
    return loon::ToFFIResult(out->Close(), loon::kArrow);
  })
}

LoonFFIResult loon_filesystem_delete_file(FileSystemHandle handle, const char* path_ptr, uint32_t path_len) {
  LOON_FFI_GUARD({
    LOON_FS_HANDLE();
    LOON_FS_PATH();
    auto* fs = FsOf(handle);
    LOON_FFI_ASSIGN_OR_RETURN(info, StatExisting(fs, path, true), loon::kArrow);
    (void)info;
    return loon::ToFFIResult(fs->DeleteFile(path), loon::kArrow);
  })
}

LoonFFIResult loon_filesystem_get_path_info(FileSystemHandle handle, const char* path_ptr, uint32_t path_len,
                                            bool* out_exists, bool* out_is_dir, int64_t* out_mtime_ns) {
  LOON_FFI_GUARD({
    LOON_FS_HANDLE();
    LOON_FS_PATH();
    LOON_REQUIRE_ARG(out_exists != nullptr, "out_exists is NULL");
    *out_exists = false;
    LOON_FFI_ASSIGN_OR_RETURN(info, StatExisting(FsOf(handle), path, false), loon::kArrow);
    *out_exists = true;
    if (out_is_dir != nullptr) *out_is_dir = info.type() == arrow::fs::FileType::Directory;
    if (out_mtime_ns != nullptr) *out_mtime_ns = MtimeNs(info);
    return loon::FFISuccess();
  })
}

LoonFFIResult loon_filesystem_create_dir(FileSystemHandle handle, const char* path_ptr, uint32_t path_len,
                                         bool recursive) {
  LOON_FFI_GUARD({
    LOON_FS_HANDLE();
    LOON_FS_PATH();
    return loon::ToFFIResult(FsOf(handle)->CreateDir(path, recursive), loon::kArrow);
  })
}

LoonFFIResult loon_filesystem_list_dir(FileSystemHandle handle, const char* path_ptr, uint32_t path_len,
                                       bool recursive, LoonFileInfoList* out_list) {
  LOON_FFI_GUARD({
    LOON_FS_HANDLE();
    LOON_FS_PATH();
    LOON_REQUIRE_ARG(out_list != nullptr, "out_list is NULL");
    out_list->entries = nullptr;
    out_list->count = 0;
    auto* fs = FsOf(handle);
    LOON_FFI_ASSIGN_OR_RETURN(info, StatExisting(fs, path, false), loon::kArrow);
    if (info.type() != arrow::fs::FileType::Directory) {
      return loon::MakeFFIError(loon::kLogical, "not a directory: '" + path + "'");
    }
    arrow::fs::FileSelector sel;
    sel.base_dir = path;
    sel.recursive = recursive;
    LOON_FFI_ASSIGN_OR_RETURN(entries, fs->GetFileInfo(sel), loon::kArrow);
    if (entries.empty()) return loon::FFISuccess();
    auto* arr = static_cast<LoonFileInfo*>(std::calloc(entries.size(), sizeof(LoonFileInfo)));
    if (arr == nullptr) return loon::MakeFFIError(loon::kMemory, "out of memory");
    for (size_t i = 0; i < entries.size(); ++i) {
      const auto& e = entries[i];
      bool is_dir = e.type() == arrow::fs::FileType::Directory;
      arr[i].path = loon::MallocString(e.path());
      arr[i].path_len = static_cast<uint32_t>(e.path().size());
      arr[i].is_dir = is_dir;
      arr[i].size = is_dir || e.size() < 0 ? 0 : static_cast<uint64_t>(e.size());
      arr[i].mtime_ns = MtimeNs(e);
    }
    out_list->entries = arr;
    out_list->count = static_cast<uint32_t>(entries.size());
    return loon::FFISuccess();
  })
}

void loon_filesystem_free_file_info_list(LoonFileInfoList* list) {
  if (list == nullptr) return;
  for (uint32_t i = 0; i < list->count && list->entries != nullptr; ++i) std::free(list->entries[i].path);
  std::free(list->entries);
  list->entries = nullptr;
  list->count = 0;
}

LoonFFIResult loon_filesystem_get_metrics(FileSystemHandle handle, LoonFilesystemMetricsSnapshot* out_metrics) {
  LOON_FFI_GUARD({
    LOON_FS_HANDLE();
    LOON_REQUIRE_ARG(out_metrics != nullptr, "out_metrics is NULL");
    FsOf(handle)->metrics().Snapshot(out_metrics);
    return loon::FFISuccess();
  })
}

LoonFFIResult loon_filesystem_reset_metrics(FileSystemHandle handle) {
  LOON_FFI_GUARD({
    LOON_FS_HANDLE();
    FsOf(handle)->metrics().Reset();
    return loon::FFISuccess();
  })
}

}  // extern "C"
