// Manifest versions on storage and the commit protocol.
//
// COMMIT PROTOCOL (README "Storage layout and the commit protocol"; stronger than upstream locally)
//   Layout: <base>/_metadata/manifest-<v>.avro, v = 1, 2, ... (decimal, no padding). The latest
//   version is the largest v among names matching exactly "manifest-<digits>.avro"; no
//   _metadata directory means version 0 (the empty pre-history manifest).
//   1. The committer computes L = latest, resolves its edits against it (transaction.h) and
//      serializes the complete manifest for version L+1 in memory.
//   2. Local storage: the bytes go to a uniquely named temp file in _metadata
//      (".manifest-<L+1>.avro.<uuid4>.tmp", which never matches the version pattern), are
//      flushed and fsync'ed, then published create-only with link(temp, manifest-<L+1>.avro)
//      (renameat2(RENAME_NOREPLACE) where hard links are unsupported). link() is atomic and
//      fails with EEXIST if the name exists, across threads and processes alike. The temp file
//      is unlinked in every case and the directory fsync'ed after a successful publish.
//   3. EEXIST means another committer won version L+1: the attempt reports kAwsConflict and the
//      transaction re-reads latest and retries (bounded by its retry budget), else code 111.
//   4. Object stores publish with one conditional request (S3 If-None-Match: *, GCS
//      ifGenerationMatch=0, Azure If-None-Match: *, Aliyun/Tencent forbid-overwrite; Huawei OBS
//      has none and is refused) via LoonFileSystem::PutIfAbsent (filesystem/conditional_put.h);
//      an object appears only complete and the store refuses an existing key, so the guarantees hold.
//   Consequences: readers never observe a partial manifest-<v>.avro; two committers can never
//   both publish v; a failed commit (fault, crash, full disk) leaves at most an orphan temp file
//   (never read), no version file. There are no locks and no "latest" pointer on storage; a
//   process remembers the latest version it saw only as the start of the next probe (below), and
//   caches parsed versions keyed on their size and modification time.
#pragma once

#include <arrow/result.h>

#include <cstdint>
#include <memory>
#include <string>

#include "filesystem/fs.h"
#include "manifest/manifest.h"

namespace loon::manifest {

std::string MetadataDir(const std::string& base);
std::string ManifestPath(const std::string& base, int64_t version);
// Version number of a file name "manifest-<digits>.avro", or -1.
int64_t ParseManifestFileName(const std::string& file_name);

// Largest committed version under `base` (0 if none). `base` is a path inside `fs`.
// The first look-up of a dataset in this process lists _metadata once; later ones start from the
// version found last time, check that it still exists and probe upward (manifest-<v+1>.avro,
// ...) until a version is missing, so the cost does not grow with the length of the history.
// A cached version that has disappeared falls back to listing.
arrow::Result<int64_t> LatestVersion(fs::LoonFileSystem* fs, const std::string& base);

// Reads and parses one manifest file (paths returned in full form against `display_base`).
// Missing -> ENOENT-derived error (code 12 at the boundary); damaged -> IOError naming the file.
// With `use_cache`, parsed versions are shared through the process's metadata cache, keyed on
// the path, size and modification time (common/metadata_cache.h) and the display base.
// The result is shared and immutable (the cache hands the same object to every reader).
arrow::Result<std::shared_ptr<const Manifest>> ReadManifestFile(fs::LoonFileSystem* fs, const std::string& path,
                                                                const std::string& display_base,
                                                                bool use_cache = true);

// Publishes `m` (full form) as version `version` with a create-only write. Losing the race gives
// CodedError(kAwsConflict). With `use_cache`, the published version goes into the metadata cache
// as ReadManifestFile would have put it there, so the next commit does not parse it again.
arrow::Status WriteVersion(fs::LoonFileSystem* fs, const std::string& base, const std::string& display_base,
                           int64_t version, std::shared_ptr<const Manifest> m, bool use_cache = true);

}  // namespace loon::manifest
