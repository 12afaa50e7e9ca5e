/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A LUN's worker pool: runs jobs that block on a store, off the thread that
 * reads the command ring. It is sized for the two kinds of store it meets:
 *
 *   - fast (writes land in the page cache): one awake worker drains the
 *     queue; waking a sleeping thread for every job would cost more than
 *     the job.
 *   - slow (a busy array, FUA on a device): when jobs wait and none has
 *     started for SVM_POOL_STALL_US, a monitor wakes as many sleeping
 *     workers as there are waiting jobs, up to the pool's size. A burst of
 *     slow commands thus runs concurrently within one stall period.
 *
 * No tcmu dependency. Setup returns -errno.
 */
#ifndef SVM_POOL_H
#define SVM_POOL_H

#include <stdint.h>

struct svm_pool;

/* Embed in the caller's own struct; fn runs once, on a worker thread. */
struct svm_pool_job {
	struct svm_pool_job *next; /* owned by the pool while queued */
	void (*fn)(struct svm_pool_job *job);
};

struct svm_pool_stats {
	uint64_t submitted, started;
	uint64_t wakeups;  /* sleeping workers woken, by submit or by the monitor */
	unsigned max_busy; /* most jobs ever running at once */
};

/* Start nthreads (>= 1) workers and the monitor. Returns 0 or -errno. Blocks briefly. */
int svm_pool_create(unsigned nthreads, const char *name, struct svm_pool **out);
/* Queue job; never blocks on I/O (takes the pool's mutex). */
void svm_pool_submit(struct svm_pool *p, struct svm_pool_job *job);
/* Run every queued job, wait for running ones, join the threads, free. Blocks. */
void svm_pool_destroy(struct svm_pool *p);
void svm_pool_get_stats(struct svm_pool *p, struct svm_pool_stats *out);

#endif
