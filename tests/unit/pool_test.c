/* SPDX-License-Identifier: Apache-2.0 */
/* handler/pool.c: every job runs once, destroy drains, slow jobs get workers. */
#define _GNU_SOURCE
#include "test.h"
#include "../../handler/limits.h"
#include "../../handler/pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static unsigned ran, running, met, finished;

static void count_job(struct svm_pool_job *job)
{
	(void)job;
	pthread_mutex_lock(&lock);
	ran++;
	pthread_mutex_unlock(&lock);
}

/* Blocks until `want` jobs of this kind run at once (at most 5 s): a slow store. */
static unsigned want;

static void rendezvous_job(struct svm_pool_job *job)
{
	struct timespec ts;

	(void)job;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	pthread_mutex_lock(&lock);
	running++;
	pthread_cond_broadcast(&cond);
	while (running < want)
		if (pthread_cond_timedwait(&cond, &lock, &ts) == ETIMEDOUT)
			break;
	if (running >= want)
		met++;
	finished++;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

/* Wait (at most 10 s) until n rendezvous jobs finished, before destroy drains the rest. */
static void wait_finished(unsigned n)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&lock);
	while (finished < n)
		if (pthread_cond_timedwait(&cond, &lock, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&lock);
}

static void limits(void)
{
	struct svm_pool *p;

	CHECK_EQ(svm_pool_create(0, "t", &p), -EINVAL);
	CHECK_EQ(svm_pool_create(SVM_THREADS_MAX + 1, "t", &p), -EINVAL);
}

static void drain(void)
{
	static struct svm_pool_job jobs[5000];
	struct svm_pool_stats st;
	struct svm_pool *p;

	ran = 0;
	CHECK_EQ(svm_pool_create(4, "t", &p), 0);
	for (size_t i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++) {
		jobs[i].fn = count_job;
		svm_pool_submit(p, &jobs[i]);
	}
	svm_pool_get_stats(p, &st);
	CHECK_EQ(st.submitted, 5000);
	svm_pool_destroy(p); /* runs what is still queued */
	CHECK_EQ(ran, 5000);
}

/*
 * Submit njobs rendezvous jobs (each waits until `meet` run at once) to a
 * pool of nthreads, wait for them, destroy the pool.
 */
static void rendezvous(unsigned nthreads, unsigned njobs, unsigned meet)
{
	struct svm_pool_job jobs[16];
	struct svm_pool *p;

	CHECK(njobs <= sizeof(jobs) / sizeof(jobs[0]));
	running = met = finished = 0;
	want = meet;
	CHECK_EQ(svm_pool_create(nthreads, "t", &p), 0);
	for (unsigned i = 0; i < njobs && i < sizeof(jobs) / sizeof(jobs[0]); i++) {
		jobs[i].fn = rendezvous_job;
		svm_pool_submit(p, &jobs[i]);
	}
	wait_finished(njobs);
	svm_pool_destroy(p);
}

/* A burst of jobs that each block until all of them run: each needs its own worker. */
static void slow_burst(void)
{
	rendezvous(8, 8, 8);
	CHECK_EQ(met, 8);
}

/* Fewer workers than blocked jobs: they queue, nothing is lost or run twice. */
static void fewer_workers(void)
{
	rendezvous(2, 6, 2); /* the first two meet; later ones find running >= 2 at once */
	CHECK_EQ(running, 6);
	CHECK_EQ(met, 6);
}

void pool_test(void)
{
	limits();
	drain();
	slow_burst();
	fewer_workers();
}
