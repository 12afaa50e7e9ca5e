/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Live migration of a LUN's store (Storage vMotion). While a migration
 * runs the LUN is a mirror device of its source (primary) and destination
 * (secondary) stores:
 *   - the datamover copies the source to the destination in one pass, in
 *     chunks (SVM_MIGRATE_CHUNK_BYTES), skipping the source's holes and the
 *     chunks host writes have already overwritten whole;
 *   - every host write that lands in a region already copied goes to both
 *     stores at once and completes when both have (the mirror driver); a
 *     write to a region not yet copied goes to the source, and the pass
 *     carries it; a write to the chunk being copied waits for that chunk;
 *   - reads come from the source;
 *   - when the pass ends the two stores are equal and stay so: writes are
 *     drained, the destination flushed, the LUN flipped to it, and the
 *     switch committed in LIO's configuration (the LUN's dev_config names
 *     the destination), then the source is deleted.
 * Crash safety: a record in the state directory (migrec.h) holds the phase,
 * a checkpoint of the pass and a write-intent bitmap of the regions with
 * mirrored writes in flight; a LUN reopened after a crash resumes its
 * migration from it, or finishes a switchover that was under way.
 * docs/migration.md.
 *
 * Threads: start/abort/status are called from the control channel's
 * thread (never tcmu-runner's main loop); the pass and the switchover run
 * on a thread of the migration's own.
 */
#ifndef SVM_MIGRATE_H
#define SVM_MIGRATE_H

#include "lun.h"
#include "../xcopy/mover.h"

#include <stdbool.h>
#include <stdint.h>

enum svm_migrate_phase {
	SVM_MIGRATE_IDLE,
	SVM_MIGRATE_COPYING,
	SVM_MIGRATE_SWITCHING,
	SVM_MIGRATE_DONE,
	SVM_MIGRATE_FAILED,
	SVM_MIGRATE_ABORTED,
};
/* "idle", "copying", ... as docs/control.md spells them. */
const char *svm_migrate_phase_name(enum svm_migrate_phase phase);

struct svm_migrate_args {
	const char *to;		   /* destination store path, absolute */
	enum svm_mover_kind mover; /* datamover tier of the pass */
	uint32_t rate_mibs;	   /* copy rate limit, MiB/s; 0: none */
	bool keep_source;	   /* do not delete the source after switchover */
};

struct svm_migrate_status {
	enum svm_migrate_phase phase;
	char source[4096], destination[4096]; /* "" when none */
	char mirror[64];		      /* "<P>-<S>-svmmirror" while it exists, else "" */
	uint64_t bytes_total, bytes_copied, bytes_skipped;
	uint64_t moved[SVM_MOVER_KINDS];
	enum svm_mover_kind mover;
	uint32_t rate_mibs;
	uint64_t reads, writes, mirrored_writes, waited_writes;
	bool resumed;
	uint64_t started;    /* seconds since the epoch; 0: never */
	uint64_t elapsed_ms; /* of the migration, so far or in all */
	uint64_t max_pause_ms;
	char error[512]; /* why it failed; "" otherwise */
};

#endif
