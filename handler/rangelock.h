/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A range lock over a LUN's byte ranges, in two modes:
 *   - shared: every plain write (WRITE, WRITE SAME, UNMAP...) holds its
 *     range shared while it changes the store; shared holders never wait
 *     for one another;
 *   - exclusive: a read-modify-write that must be atomic against every
 *     write to its blocks (COMPARE AND WRITE, ORWRITE; later the migration
 *     datamover's copy of a chunk) holds its range exclusive.
 * A request conflicts with another when their ranges overlap and either is
 * exclusive. It is granted when no request queued before it (granted or
 * waiting) conflicts with it: conflicting requests are served in arrival
 * order, so a stream of writes cannot starve a COMPARE AND WRITE, while
 * requests that do not conflict never wait. Empty ranges never conflict.
 *
 * The caller provides the request's memory (struct svm_range, usually on
 * its stack); nothing is allocated per request. No tcmu dependency.
 */
#ifndef SVM_RANGELOCK_H
#define SVM_RANGELOCK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct svm_range {
	uint64_t off, end; /* [off, end) */
	bool excl;
	bool granted;
	struct svm_range *next, *prev; /* the lock's queue, in arrival order */
};

struct svm_rangelock {
	pthread_mutex_t mutex;
	pthread_cond_t cond;
	struct svm_range *head, *tail;
	unsigned waiters;
};

/* Set up / tear down (no request may be queued at destroy). Never fail. */
void svm_rangelock_init(struct svm_rangelock *rl);
void svm_rangelock_destroy(struct svm_rangelock *rl);

/* Queue r for [off, off + len) and wait until it is granted. Blocks. */
void svm_range_lock(struct svm_rangelock *rl, struct svm_range *r, uint64_t off, uint64_t len,
		    bool excl);
/* As svm_range_lock, but only if granted at once: true (held) or false (nothing queued). */
bool svm_range_trylock(struct svm_rangelock *rl, struct svm_range *r, uint64_t off, uint64_t len,
		       bool excl);
/* Release a granted r; wakes the requests it held up. Never blocks on I/O. */
void svm_range_unlock(struct svm_rangelock *rl, struct svm_range *r);

#endif
