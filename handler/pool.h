/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A worker pool: runs jobs that block on a store (cache misses, FUA,
 * flushes...), off the thread that reads the command ring. One pool serves
 * many queues (one per LUN), so the number of threads is the pool's, not a
 * multiple of the LUN count. Queues take turns (round robin), and one queue
 * runs at most its max_busy jobs at once, so a LUN whose store hangs holds
 * at most that many workers and the others keep theirs.
 *
 * A job is handed to an awake worker that is free if there is one;
 * otherwise one sleeping worker is woken for it, so jobs that wait on a
 * slow store wait side by side. Commands that only touch the page cache
 * should not come here: a wake-up costs more than they do (handler/plugin.c).
 *
 * No tcmu dependency. Setup returns -errno.
 */
#ifndef SVM_POOL_H
#define SVM_POOL_H

#include <stdint.h>

struct svm_pool;
struct svm_pool_queue;

/* Embed in the caller's own struct; fn runs once, on a worker thread. */
struct svm_pool_job {
	struct svm_pool_job *next; /* owned by the pool while queued */
	void (*fn)(struct svm_pool_job *job);
};

struct svm_pool_stats {
	uint64_t submitted, started;
	uint64_t wakeups;  /* sleeping workers woken (pool-wide only; 0 for a queue) */
	unsigned max_busy; /* most jobs ever running at once */
};

/* Start nthreads (>= 1, <= SVM_THREADS_MAX) workers; returns once all sleep. 0 or -errno. Blocks briefly. */
int svm_pool_create(unsigned nthreads, const char *name, struct svm_pool **out);
/* Join the threads and free. Every queue must be closed first. Blocks. */
void svm_pool_destroy(struct svm_pool *p);
void svm_pool_get_stats(struct svm_pool *p, struct svm_pool_stats *out);

/*
 * A new queue of p whose jobs run at most max_busy at once (1 to the
 * pool's size; larger is taken as the pool's size). 0 or -errno. Never blocks.
 */
int svm_pool_queue_open(struct svm_pool *p, unsigned max_busy, struct svm_pool_queue **out);
/* Queue job; never blocks on I/O (takes the pool's mutex). Not after close has begun. */
void svm_pool_submit(struct svm_pool_queue *q, struct svm_pool_job *job);
/* Run every job still queued, wait for the running ones, free q. Blocks. */
void svm_pool_queue_close(struct svm_pool_queue *q);
void svm_pool_queue_get_stats(struct svm_pool_queue *q, struct svm_pool_stats *out);

#endif
