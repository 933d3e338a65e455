/* Every fault point of the engine, in one place.
 *
 * Each point is exported as a `const char* loon_fiukey_<symbol>` pointer object (README "Fault points").
 * Arm one with loon_fiu_enable(name, strlen(name), n): n == 0 fails every evaluation until
 * disarmed, n == 1 fails the next evaluation only, n > 1 fails the next n evaluations.
 *
 * Upstream points (README "Fault points") and where this engine evaluates them:
 *   writer.write.fail            start of loon_writer_write                      -> 3
 *   writer.flush.fail            start of an explicit loon_writer_flush          -> 3
 *   writer.close.fail            start of loon_writer_close (retry possible)     -> 3
 *   column_group.write.fail      each per-group batch write in loon_writer_write -> 3
 *   column_group.read.fail       chunk reads, take, scan batches                 -> 3
 *   take_rows.fail               row extraction in loon_take                     -> 3
 *   chunk_reader.read.fail       start of loon_get_chunk                         -> 8
 *   reader.open.fail             start of loon_reader_new                        -> 8
 *   memory_size_estimation.fail  Vortex/Lance estimates (no effect on Parquet)   -> 3
 *   manifest.commit.fail         start of loon_transaction_commit                -> 4
 *   manifest.read.fail           loon_transaction_begin loading a version > 0    -> 3
 *   manifest.write.fail          just before the manifest file is written        -> 4
 *   fs.open_output.fail          every output-stream open                        -> 3 (4 in commit)
 *                                (data files: at the first write of a group / after a roll)
 *   fs.open_input.fail           random-access opens by path                     -> 3
 *   s3fs.*                       S3 backend points (armable; fire only on S3)    -> 3
 *   sleep.before.commit.manifest commit sleeps 5 s before writing the manifest
 * Points of this engine only:
 *   fs.write.fail                every data-file or manifest byte write          -> 3 (4 in commit)
 *   writer.init_column_group_writers.fail  first write creating group writers    -> 3
 *   commit.before_manifest.fail  after data files exist, before manifest publish -> 4
 *   fs.short_write.fail          a data-file write stores only half its bytes    -> 3
 */
#ifndef LOON_FFI_FIU_H
#define LOON_FFI_FIU_H

#ifdef __cplusplus
extern "C" {
#endif

#define LOON_FAULT_POINTS(X)                                                  \
  X(writer_write_fail, "writer.write.fail")                                   \
  X(writer_flush_fail, "writer.flush.fail")                                   \
  X(writer_close_fail, "writer.close.fail")                                   \
  X(column_group_write_fail, "column_group.write.fail")                       \
  X(column_group_read_fail, "column_group.read.fail")                         \
  X(take_rows_fail, "take_rows.fail")                                         \
  X(chunk_reader_read_fail, "chunk_reader.read.fail")                         \
  X(reader_open_fail, "reader.open.fail")                                     \
  X(memory_size_estimation_fail, "memory_size_estimation.fail")               \
  X(manifest_commit_fail, "manifest.commit.fail")                             \
  X(manifest_read_fail, "manifest.read.fail")                                 \
  X(manifest_write_fail, "manifest.write.fail")                               \
  X(fs_open_output_fail, "fs.open_output.fail")                               \
  X(fs_open_input_fail, "fs.open_input.fail")                                 \
  X(s3fs_create_upload_fail, "s3fs.create_upload.fail")                       \
  X(s3fs_part_upload_fail, "s3fs.part_upload.fail")                           \
  X(s3fs_complete_upload_fail, "s3fs.complete_upload.fail")                   \
  X(s3fs_writer_write_fail, "s3fs.writer.write.fail")                         \
  X(s3fs_writer_flush_fail, "s3fs.writer.flush.fail")                         \
  X(s3fs_writer_close_fail, "s3fs.writer.close.fail")                         \
  X(s3fs_read_fail, "s3fs.reader.read.fail")                                  \
  X(s3fs_readat_fail, "s3fs.reader.readat.fail")                              \
  X(s3fs_reader_read_fail, "s3fs.reader.read.fail")                           \
  X(s3fs_reader_readat_fail, "s3fs.reader.readat.fail")                       \
  X(sleep_before_commit_manifest, "sleep.before.commit.manifest")             \
  X(fs_write_fail, "fs.write.fail")                                           \
  X(writer_init_column_group_writers_fail, "writer.init_column_group_writers.fail") \
  X(commit_before_manifest_fail, "commit.before_manifest.fail")               \
  X(fs_short_write_fail, "fs.short_write.fail")

#define LOON_DECLARE_FAULT_KEY(sym, str) \
  __attribute__((visibility("default"))) extern const char* loon_fiukey_##sym;
LOON_FAULT_POINTS(LOON_DECLARE_FAULT_KEY)
#undef LOON_DECLARE_FAULT_KEY

#ifdef __cplusplus
}
#endif

#endif /* LOON_FFI_FIU_H */
