/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An io_uring engine (liburing): one ring and one completion thread per
 * process, shared by every LUN. A caller on any thread submits an operation
 * (a read, a write, an fdatasync) with one io_uring_enter and returns at
 * once; the engine's thread reaps completions in batches and calls each
 * operation's done callback exactly once. No thread is woken to *start* an
 * operation, and the completion thread wakes once per batch of completions,
 * not once per command. A short read or write is continued where it ended
 * (resubmitted from the completion thread), never reported short.
 *
 * No tcmu dependency; the caller does the LUN's accounting (lun.h,
 * svm_lun_async_begin/end) and maps errors to sense. docs/tuning.md.
 */
#ifndef SVM_URING_H
#define SVM_URING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct svm_uring;

enum svm_uring_kind {
	SVM_URING_READ,
	SVM_URING_WRITE,
	SVM_URING_FSYNC, /* fdatasync of fd; iov, off and len unused */
};

/* Embed in the caller's own struct (the engine never allocates one). */
struct svm_uring_op {
	/* the caller's, set before svm_uring_submit */
	enum svm_uring_kind kind;
	int fd;
	const struct iovec *iov; /* holds exactly len bytes; at most IOV_MAX entries */
	unsigned iov_cnt;
	uint64_t off;
	size_t len;
	bool dsync; /* a write: RWF_DSYNC (stable when done) */
	/*
	 * Called once, on the engine's thread, with 0 (all len bytes moved, or
	 * the fdatasync done) or -errno: -EIO for a read that hit the end of the
	 * file, -EAGAIN when the engine could not finish the operation and knows
	 * nothing of how far it got (the caller may redo all of it elsewhere),
	 * the kernel's -errno otherwise (-EOPNOTSUPP: RWF_DSYNC unsupported).
	 * Must not block on I/O: every completion waits behind it. May submit.
	 */
	void (*done)(struct svm_uring_op *op, int ret);
	/* the engine's own */
	size_t moved;	    /* bytes done so far */
	size_t piece;	    /* bytes asked for by the submission in flight */
	struct iovec *rest; /* the window in flight when it is not iov itself (malloc'd) */
};

struct svm_uring_stats {
	uint64_t submitted;   /* operations accepted by svm_uring_submit */
	uint64_t completed;   /* done callbacks made */
	uint64_t resubmitted; /* continuations of short transfers */
	uint64_t reaps;	      /* completion-thread wake-ups that found completions */
	unsigned max_inflight;
};

/*
 * Set up a ring of entries slots (at most that many operations in flight)
 * and start its completion thread, named name. 0, or -errno (-ENOSYS,
 * -EPERM: no io_uring in this kernel or sandbox). Blocks briefly.
 */
int svm_uring_create(unsigned entries, const char *name, struct svm_uring **out);
/*
 * Start op. 0: op->done will be called exactly once, later, on the engine's
 * thread (possibly before this returns). The kernel ties the operation to
 * the calling thread: should that thread exit first, the operation may be
 * cancelled (done gets -EAGAIN). -EBUSY (the ring is full) or
 * -errno: nothing was started and done is never called. Never blocks on
 * I/O: takes the submission lock for one io_uring_enter.
 */
int svm_uring_submit(struct svm_uring *u, struct svm_uring_op *op);
/* Wait for every operation in flight, stop the thread, free. No submit may race it. Blocks. */
void svm_uring_destroy(struct svm_uring *u);
/* Counters since create. Never blocks on I/O. */
void svm_uring_get_stats(struct svm_uring *u, struct svm_uring_stats *out);

/*
 * Fault-injection seam for the unit tests, never set by the handler: when
 * non-zero, each read or write is submitted for at most this many bytes, so
 * every longer one completes short and is continued by the engine.
 */
extern size_t svm_uring_fault_short;
/*
 * When non-zero, every operation is reported -EAGAIN once its first piece
 * completed (a write has then reached the file, in part or whole): the
 * caller's fallback runs.
 */
extern int svm_uring_fault_again;

#endif
