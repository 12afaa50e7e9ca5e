/* SPDX-License-Identifier: Apache-2.0 */
/* The range lock: which requests conflict, who waits, and in what order they are granted. */
#define _GNU_SOURCE
#include "test.h"
#include "../../handler/rangelock.h"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

static struct svm_rangelock rl;

/* Whether a request for [off, off + len) would be granted now (and leave nothing held). */
static bool free_now(uint64_t off, uint64_t len, bool excl)
{
	struct svm_range r;

	if (!svm_range_trylock(&rl, &r, off, len, excl))
		return false;
	svm_range_unlock(&rl, &r);
	return true;
}

struct waiter {
	pthread_t t;
	uint64_t off, len;
	bool excl;
	struct svm_range r;
	int granted_at; /* order of grant, 0 = not yet */
};

static int grant_seq;
static pthread_mutex_t seq_lock = PTHREAD_MUTEX_INITIALIZER;

static void *wait_for(void *arg)
{
	struct waiter *w = arg;

	svm_range_lock(&rl, &w->r, w->off, w->len, w->excl);
	pthread_mutex_lock(&seq_lock);
	w->granted_at = ++grant_seq;
	pthread_mutex_unlock(&seq_lock);
	return NULL;
}

static int granted_at(struct waiter *w)
{
	int v;

	pthread_mutex_lock(&seq_lock);
	v = w->granted_at;
	pthread_mutex_unlock(&seq_lock);
	return v;
}

static unsigned waiting(void)
{
	unsigned n;

	pthread_mutex_lock(&rl.mutex);
	n = rl.waiters;
	pthread_mutex_unlock(&rl.mutex);
	return n;
}

/*
 * Start a waiter and return once it is queued: waiting in the lock, or
 * granted (the tests need each queued before the next; a sleep alone is
 * not enough on a loaded machine).
 */
static void start(struct waiter *w, uint64_t off, uint64_t len, bool excl)
{
	unsigned before = waiting();

	w->off = off;
	w->len = len;
	w->excl = excl;
	w->granted_at = 0;
	CHECK_EQ(pthread_create(&w->t, NULL, wait_for, w), 0);
	for (int i = 0; i < 100000 && waiting() == before && !granted_at(w); i++)
		usleep(100);
}

void rangelock_test(void)
{
	struct svm_range a, b, c;

	svm_rangelock_init(&rl);

	/* shared ranges never wait for one another, overlapping or not */
	svm_range_lock(&rl, &a, 0, 4096, false);
	svm_range_lock(&rl, &b, 0, 4096, false);
	CHECK(free_now(1024, 100, false));
	/* exclusive conflicts with an overlapping shared range: nested, overlapping the edge */
	CHECK(!free_now(1024, 100, true));
	CHECK(!free_now(4095, 10, true));
	CHECK(!free_now(0, UINT64_MAX, true));
	/* adjacent ranges do not overlap */
	CHECK(free_now(4096, 4096, true));
	CHECK(free_now(8192, 1, true));
	/* an empty range conflicts with nothing */
	CHECK(free_now(100, 0, true));
	svm_range_unlock(&rl, &a);
	CHECK(!free_now(0, 1, true)); /* b still holds it */
	svm_range_unlock(&rl, &b);
	CHECK(free_now(0, 4096, true));

	/* exclusive: any overlap conflicts, shared or exclusive; nested inside or around */
	svm_range_lock(&rl, &a, 1000, 1000, true);
	CHECK(!free_now(1500, 10, false));
	CHECK(!free_now(0, 8192, false));
	CHECK(!free_now(1999, 1, true));
	CHECK(free_now(2000, 10, false));
	CHECK(free_now(0, 1000, true));
	/* a range reaching the end of the address space */
	CHECK(!free_now(1500, UINT64_MAX, false));
	svm_range_unlock(&rl, &a);

	/*
	 * Waiting and order. Shared a holds [0, 4096). An exclusive CAW for
	 * [0, 512) waits. A later shared write to [0, 512) must wait behind it
	 * (no starvation), a later shared write elsewhere must not.
	 */
	struct waiter caw, late, other;

	svm_range_lock(&rl, &a, 0, 4096, false);
	start(&caw, 0, 512, true);
	CHECK_EQ(granted_at(&caw), 0);
	start(&late, 256, 512, false);
	CHECK_EQ(granted_at(&late), 0);
	CHECK(!free_now(300, 1, false)); /* behind the queued CAW too */
	start(&other, 65536, 512, false);
	pthread_join(other.t, NULL);
	CHECK_EQ(granted_at(&other), 1);
	svm_range_unlock(&rl, &other.r);
	/* releasing a grants the CAW, and only the CAW */
	svm_range_unlock(&rl, &a);
	pthread_join(caw.t, NULL);
	CHECK_EQ(granted_at(&caw), 2);
	usleep(50000);
	CHECK_EQ(granted_at(&late), 0);
	svm_range_unlock(&rl, &caw.r);
	pthread_join(late.t, NULL);
	CHECK_EQ(granted_at(&late), 3);
	svm_range_unlock(&rl, &late.r);

	/* trylock leaves nothing behind when it fails */
	svm_range_lock(&rl, &a, 0, 10, true);
	CHECK(!svm_range_trylock(&rl, &b, 5, 10, false));
	CHECK(svm_range_trylock(&rl, &c, 10, 10, false));
	svm_range_unlock(&rl, &c);
	svm_range_unlock(&rl, &a);
	CHECK(rl.head == NULL && rl.tail == NULL && rl.waiters == 0);
	svm_rangelock_destroy(&rl);
}
