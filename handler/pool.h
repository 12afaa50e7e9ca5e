/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A LUN's worker pool: runs jobs that block on a store (cache misses, FUA,
 * flushes...), off the thread that reads the command ring. A job is handed
 * to an awake worker that is free if there is one; otherwise one sleeping
 * worker is woken for it, up to the pool's size, so commands to a slow
 * store wait on it side by side. Commands that only touch the page cache
 * should not come here: a wake-up costs more than they do (handler/plugin.c).
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
	uint64_t wakeups;  /* sleeping workers woken */
	unsigned max_busy; /* most jobs ever running at once */
};

/* Start nthreads (>= 1) workers; returns once all sleep. 0 or -errno. Blocks briefly. */
int svm_pool_create(unsigned nthreads, const char *name, struct svm_pool **out);
/* Queue job; never blocks on I/O (takes the pool's mutex). */
void svm_pool_submit(struct svm_pool *p, struct svm_pool_job *job);
/* Run every queued job, wait for running ones, join the threads, free. Blocks. */
void svm_pool_destroy(struct svm_pool *p);
void svm_pool_get_stats(struct svm_pool *p, struct svm_pool_stats *out);

#endif
