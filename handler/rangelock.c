/* SPDX-License-Identifier: Apache-2.0 */
#include "rangelock.h"

#include <stddef.h>

void svm_rangelock_init(struct svm_rangelock *rl)
{
	pthread_mutex_init(&rl->mutex, NULL);
	pthread_cond_init(&rl->cond, NULL);
	rl->head = rl->tail = NULL;
	rl->waiters = 0;
}

void svm_rangelock_destroy(struct svm_rangelock *rl)
{
	pthread_cond_destroy(&rl->cond);
	pthread_mutex_destroy(&rl->mutex);
}

static bool conflict(const struct svm_range *a, const struct svm_range *b)
{
	return (a->excl || b->excl) && a->off < a->end && b->off < b->end && a->off < b->end &&
	       b->off < a->end;
}

/* Whether r may be granted: nothing queued before it conflicts. Under the mutex. */
static bool grantable(const struct svm_range *r)
{
	for (const struct svm_range *p = r->prev; p; p = p->prev)
		if (conflict(p, r))
			return false;
	return true;
}

static void enqueue(struct svm_rangelock *rl, struct svm_range *r, uint64_t off, uint64_t len,
		    bool excl)
{
	r->off = off;
	r->end = off + len < off ? UINT64_MAX : off + len;
	r->excl = excl;
	r->granted = false;
	r->next = NULL;
	r->prev = rl->tail;
	if (rl->tail)
		rl->tail->next = r;
	else
		rl->head = r;
	rl->tail = r;
}

static void dequeue(struct svm_rangelock *rl, struct svm_range *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		rl->head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		rl->tail = r->prev;
}

void svm_range_lock(struct svm_rangelock *rl, struct svm_range *r, uint64_t off, uint64_t len,
		    bool excl)
{
	pthread_mutex_lock(&rl->mutex);
	enqueue(rl, r, off, len, excl);
	if (!grantable(r)) {
		rl->waiters++;
		do
			pthread_cond_wait(&rl->cond, &rl->mutex);
		while (!grantable(r));
		rl->waiters--;
	}
	r->granted = true;
	pthread_mutex_unlock(&rl->mutex);
}

bool svm_range_trylock(struct svm_rangelock *rl, struct svm_range *r, uint64_t off, uint64_t len,
		       bool excl)
{
	bool ok;

	pthread_mutex_lock(&rl->mutex);
	enqueue(rl, r, off, len, excl);
	ok = grantable(r);
	if (ok)
		r->granted = true;
	else
		dequeue(rl, r); /* it was last: nobody can have been waiting behind it */
	pthread_mutex_unlock(&rl->mutex);
	return ok;
}

void svm_range_unlock(struct svm_rangelock *rl, struct svm_range *r)
{
	pthread_mutex_lock(&rl->mutex);
	dequeue(rl, r);
	if (rl->waiters)
		pthread_cond_broadcast(&rl->cond);
	pthread_mutex_unlock(&rl->mutex);
}
