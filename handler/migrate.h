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
#include <stddef.h>
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
	const char *to;		   /* destination: an absolute path, or rbd/<pool>/<image> */
	enum svm_mover_kind mover; /* datamover tier of the pass */
	uint32_t rate_mibs;	   /* copy rate limit, MiB/s; 0: none */
	bool keep_source;	   /* do not delete the source after switchover */
};

struct svm_migrate_status {
	enum svm_migrate_phase phase;
	char source[4096], destination[4096]; /* "" when none */
	char mirror[64];		      /* "<P>-<S>-svmmirror" while it exists, else "" */
	uint64_t bytes_total, bytes_copied, bytes_skipped;
	uint64_t bytes_overwritten; /* of bytes_skipped: chunks host writes covered whole */
	uint64_t moved[SVM_MOVER_KINDS];
	enum svm_mover_kind mover;
	uint32_t rate_mibs;
	uint64_t reads, writes, mirrored_writes, waited_writes;
	bool resumed;
	bool switched;	     /* the LUN serves the destination (source: no longer the LUN's) */
	uint64_t started;    /* seconds since the epoch; 0: never */
	uint64_t elapsed_ms; /* of the migration, so far or in all */
	uint64_t max_pause_ms;
	char error[512]; /* why it failed; "" otherwise */
};

/* What a migration needs from the plugin. */
struct svm_migrate_hooks {
	/*
	 * Record the switchover in LIO's configuration: make the LUN's
	 * dev_config name store to. Runs on the migration's thread (never
	 * tcmu-runner's main loop, whose reconfig the write reaches). 0, or
	 * -errno with *reason malloc'd.
	 */
	int (*commit)(void *arg, const char *to, char **reason);
	void *arg;
	const char *svmlog; /* the SVM log file (svmlog.h); NULL: the default */
	const char *name;   /* the LUN's name, for the handler's own log */
	/* the cluster of the LUN's RBD stores, source or destination (conf=, id=; NULL: default) */
	const char *rbd_conf, *rbd_id;
};

struct svm_migration;

/*
 * Before a LUN opens on store path: the store it must open. That is path,
 * unless a migration of path switched over and a crash came before LIO's
 * configuration said so: then its destination. Also the destination when
 * path is absent and the state directory says a finished migration moved it
 * there and deleted it (an old saveconfig naming the source), following a
 * chain of such moves. Fills out (len bytes).
 * 0, or -errno with *reason (a record that cannot be read: the LUN must
 * not open, it might serve stale data). Blocks briefly.
 */
int svm_migration_store_to_open(const char *path, char *out, size_t len, char **reason);

/*
 * Start migrating lun to args->to: refuses (nothing changed) a path that
 * is not absolute or whose directory does not exist, a destination that is
 * the source, exists and is not empty, or is a device too small, a store
 * already in a migration; then creates the destination (sparse, the LUN's
 * size) held exclusively, writes the record, attaches the mirror device and
 * starts the pass on a thread. 0 and *out, or -errno with *reason. Blocks
 * briefly (creates, opens, fsyncs).
 *
 * Either side may be an RBD store, rbd/<pool>/<image> (store_rbd.h), on the
 * cluster of hooks->rbd_conf / rbd_id. An RBD destination is created with
 * layering,exclusive-lock,object-map,fast-diff at the LUN's size if it is
 * missing; an existing one is refused (-EEXIST) if it holds allocated data,
 * and resized to the LUN's size if it is empty and smaller. It is held with
 * RBD's exclusive lock for the migration's life: -EBUSY, naming the lock's
 * owner, when another client holds it. Such a pair copies through the store
 * API (mirror.h): a pinned kernel or reflink mover is refused (-EOPNOTSUPP).
 * After the switchover an RBD source is removed (rbd_remove) unless
 * keep_source; an abort or failure removes an RBD destination unless kept.
 */
int svm_migration_start(struct svm_lun *lun, const struct svm_migrate_args *args,
			const struct svm_migrate_hooks *hooks, struct svm_migration **out,
			char **reason);
/*
 * After a LUN opened (on the store svm_migration_store_to_open gave):
 * pick up a migration its record says was under way. *out NULL when there
 * is none; otherwise it resumes the pass from its checkpoint (copying
 * again the regions with writes in flight at the crash), or finishes a
 * switchover (commit, source deleted). 0, or -errno with *reason.
 */
int svm_migration_reopen(struct svm_lun *lun, const struct svm_migrate_hooks *hooks,
			 struct svm_migration **out, char **reason);

/*
 * Abort: the pass stops, the source stays authoritative, the mirror is
 * taken away, the destination removed (kept with keep_dest), the record
 * removed. Blocks until the thread has stopped. 0; -EBUSY once the
 * switchover has begun (the destination is authoritative then: it can no
 * longer be undone); -EALREADY if the migration has ended (done, failed,
 * aborted); -EIO if the switchover won the race (the migration is done).
 */
int svm_migration_abort(struct svm_migration *m, bool keep_dest);
/*
 * The LUN closes (tcmu-runner stops, or removes it): stop the pass at a
 * checkpoint and keep the record, to resume at the next open; or, ended,
 * just free. Blocks until the thread has stopped.
 */
void svm_migration_stop(struct svm_migration *m);
/* Whether it still runs (copying or switching). Never blocks. */
bool svm_migration_running(const struct svm_migration *m);
void svm_migration_status(struct svm_migration *m, struct svm_migrate_status *out);

#endif
