/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mirror device of a migration (migrate.h): a primary store (the
 * source, which serves reads) and a secondary store (the destination), the
 * pass's position, and the write-intent log.
 *
 * The LUN's bytes are cut into chunks (SVM_MIGRATE_CHUNK_BYTES). A chunk is
 * "copied" once the pass has moved past it (below the cursor), or once a
 * host write covered it whole (it then needs no copy). The write path,
 * called with its byte range held shared in the LUN's range lock:
 *   - a write that touches a copied chunk goes to both stores at once (the
 *     secondary on a worker of the mirror's pool, the primary on the
 *     caller's thread) and returns when both are done;
 *   - a write that covers a chunk not yet copied from end to end goes to
 *     both too, and marks that chunk copied;
 *   - any other write goes to the primary only: the pass will carry it.
 * The pass copies one chunk at a time holding it exclusive in the same
 * range lock, so a write to the chunk being copied waits for it, and a
 * chunk is never judged "not copied" by a write while the pass copies it.
 *
 * Write intent: before the first mirrored write to a region (a range of
 * chunks) goes out, the region is marked dirty in the migration record
 * (migrec.h) durably; svm_mirror_checkpoint clears the regions with no
 * mirrored write in flight once the secondary holds their data durably. A
 * LUN reopened after a crash hands the record's dirty regions back at
 * create: the pass copies them again before it goes on.
 *
 * A failure of the secondary (I/O error, ENOSPC...) "breaks" the mirror:
 * the host write still completes from the primary, later writes go to the
 * primary only, and svm_mirror_error says why; the migration then stops.
 * A failure of the primary fails the host command, as without a mirror.
 *
 * The copy (the pass, svm_mirror_sync) goes between the stores' fds through
 * a datamover (xcopy/mover.h) when both have one. When either has none (an
 * RBD store, store_rbd.h) it goes through the store API instead: each chunk
 * is cut into pieces of SVM_MIGRATE_STORE_PIECE_BYTES, and every piece is
 * read from the primary (svm_store_readv) into a buffer of its own and
 * written to the secondary (svm_store_writev) by a worker of the mirror's
 * pool, all the chunk's pieces at once, so several I/Os are in flight per
 * chunk (one synchronous round trip at a time is what makes RBD slow).
 * These bytes count under SVM_MOVER_BOUNCE, the buffer tier; a pass asked
 * for a pinned kernel or reflink mover on such a pair fails with
 * -EOPNOTSUPP (migrate.c refuses it at the start). The step's deadline
 * holds as for a datamover: no piece starts after it but the first.
 *
 * No tcmu dependency. Calls block on the stores unless said otherwise.
 */
#ifndef SVM_MIRROR_H
#define SVM_MIRROR_H

#include "migrec.h"
#include "rangelock.h"
#include "store.h"
#include "../xcopy/mover.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

struct svm_mirror;

struct svm_mirror_params {
	struct svm_store *primary, *secondary;
	struct svm_rangelock *lock; /* the LUN's: writes shared, the pass exclusive */
	uint64_t size;		    /* bytes the LUN holds */
	uint64_t cursor;	    /* the pass starts here (a chunk boundary; 0: the start) */
	struct svm_migrec *rec;	    /* write-intent log; NULL: none (tests) */
	const uint8_t *dirty;	    /* regions to copy again first (rec's bitmap), or NULL */
	uint64_t region;	    /* bytes per region, a multiple of the chunk size */
	uint32_t nregions;
};

struct svm_mirror_stats {
	uint64_t writes, mirrored_writes;
	uint64_t bytes_copied;	      /* by the pass */
	uint64_t bytes_skipped;	      /* holes of the source, chunks writes covered whole */
	uint64_t bytes_overwritten;   /* of bytes_skipped, the chunks writes covered whole */
	uint64_t moved[SVM_MOVER_KINDS]; /* bytes each datamover moved for the pass */
	uint64_t cursor;	      /* the pass has passed [0, cursor) */
};

/*
 * Whether a mirror of stores a and b copies through the store API (either
 * has no fd, or svm_mirror_force_store_copy) rather than a datamover. Pure.
 */
bool svm_mirror_store_copy(const struct svm_store *a, const struct svm_store *b);
/*
 * Test seam (tests/unit), never set by the handler: mirrors created while
 * it is true copy through the store API even between two files.
 */
extern bool svm_mirror_force_store_copy;

/* 0 and *out, or -errno with *reason. Starts the mirror's worker pool. */
int svm_mirror_create(const struct svm_mirror_params *p, struct svm_mirror **out, char **reason);
/* Stop the workers and free; the stores are the caller's. No write may be in flight. */
void svm_mirror_destroy(struct svm_mirror *m);

/*
 * The write path, [off, off + len) held shared in the lock. fua: stable
 * on both stores when it returns. Returns 0 or the primary's -errno.
 */
int svm_mirror_writev(struct svm_mirror *m, const struct iovec *iov, size_t cnt, uint64_t off,
		      size_t len, bool fua);
/*
 * As writev for a deallocation (zero false: discard) or a zeroing without
 * data transfer (zero true: write zeroes), [off, off + len) held shared.
 */
int svm_mirror_discard(struct svm_mirror *m, uint64_t off, uint64_t len, bool zero);
/*
 * [off, off + len) of the primary was just written by other means (an
 * EXTENDED COPY's datamover), held shared: copy it to the secondary too if
 * a write there goes to both. 0 (a secondary failure breaks the mirror).
 */
int svm_mirror_sync(struct svm_mirror *m, uint64_t off, uint64_t len, enum svm_mover_kind kind);
/* Whether a write to [off, off + len) would go to both stores now (held shared). Never blocks. */
bool svm_mirror_wants(struct svm_mirror *m, uint64_t off, uint64_t len);
/* Flush both stores. 0, or the primary's -errno (a secondary failure breaks the mirror). */
int svm_mirror_flush(struct svm_mirror *m);

/*
 * One step of the pass: copy again the next dirty region's chunk, or else
 * the chunk at the cursor, with the datamover kind (stops starting steps
 * after deadline_ns, 0: none). Returns 1 when the pass is over (every chunk
 * copied or skipped), 0 after a step, or -errno (the secondary failed: the
 * mirror is broken). Takes the chunk exclusive in the lock.
 */
int svm_mirror_step(struct svm_mirror *m, enum svm_mover_kind kind, uint64_t deadline_ns);

/*
 * Make what the pass copied and the mirrored writes durable on the
 * secondary, record the cursor in the migration record, and clear the
 * write intent of regions with nothing in flight. 0 or -errno.
 */
int svm_mirror_checkpoint(struct svm_mirror *m);

/* The error that broke the mirror (-errno), or 0. Never blocks. */
int svm_mirror_error(const struct svm_mirror *m);
/*
 * What failed when it broke, e.g. "a write to the destination" or "a flush
 * of the destination" (a static string), or NULL while it is whole. Never
 * blocks.
 */
const char *svm_mirror_error_what(const struct svm_mirror *m);
void svm_mirror_get_stats(const struct svm_mirror *m, struct svm_mirror_stats *out);

#endif
