/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "pool.h"
#include "limits.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct svm_pool {
	pthread_mutex_t lock;
	pthread_cond_t work_cond; /* sleeping workers */
	pthread_cond_t mon_cond;  /* the monitor, while the pool is quiet */
	pthread_cond_t ready_cond; /* svm_pool_create, until every worker sleeps */
	struct svm_pool_job *head, **tail;
	unsigned nthreads, queued;
	unsigned idle;	 /* workers inside the sleep loop */
	unsigned tokens; /* of those, how many were told to wake */
	unsigned busy;	 /* jobs running */
	bool mon_quiet, stopping;
	struct svm_pool_stats st;
	pthread_t monitor;
	unsigned started_threads;
	pthread_t threads[];
};

/* Caller holds the lock. Wake up to n sleeping workers that were not woken yet. */
static void wake(struct svm_pool *p, unsigned n)
{
	while (n-- && p->idle > p->tokens) {
		p->tokens++;
		p->st.wakeups++;
		pthread_cond_signal(&p->work_cond);
	}
}

static void *worker(void *arg)
{
	struct svm_pool *p = arg;
	struct svm_pool_job *job;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->head && !p->stopping) {
			if (++p->idle == p->nthreads)
				pthread_cond_signal(&p->ready_cond);
			while (!p->tokens && !p->stopping)
				pthread_cond_wait(&p->work_cond, &p->lock);
			if (p->tokens)
				p->tokens--;
			p->idle--;
		}
		job = p->head;
		if (!job)
			break; /* stopping, queue drained */
		p->head = job->next;
		if (!p->head)
			p->tail = &p->head;
		p->queued--;
		p->st.started++;
		if (++p->busy > p->st.max_busy)
			p->st.max_busy = p->busy;
		pthread_mutex_unlock(&p->lock);
		job->fn(job);
		pthread_mutex_lock(&p->lock);
		p->busy--;
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static void deadline_after_us(struct timespec *ts, long us)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_nsec += us * 1000;
	ts->tv_sec += ts->tv_nsec / 1000000000;
	ts->tv_nsec %= 1000000000;
}

/*
 * Ticks every SVM_POOL_STALL_US while the pool has work; sleeps untimed once
 * a tick finds it quiet. A tick that finds jobs waiting and none started
 * since the previous tick wakes one sleeping worker per waiting job.
 */
static void *monitor(void *arg)
{
	struct svm_pool *p = arg;
	uint64_t last_started;
	struct timespec ts;

	pthread_mutex_lock(&p->lock);
	last_started = p->st.started;
	while (!p->stopping) {
		if (!p->queued && !p->busy) {
			p->mon_quiet = true;
			pthread_cond_wait(&p->mon_cond, &p->lock);
			p->mon_quiet = false;
			last_started = p->st.started;
			continue;
		}
		deadline_after_us(&ts, SVM_POOL_STALL_US);
		while (!p->stopping && pthread_cond_timedwait(&p->mon_cond, &p->lock, &ts) != ETIMEDOUT)
			;
		if (p->queued && p->st.started == last_started)
			wake(p, p->queued);
		last_started = p->st.started;
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

void svm_pool_submit(struct svm_pool *p, struct svm_pool_job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&p->lock);
	*p->tail = job;
	p->tail = &job->next;
	p->queued++;
	p->st.submitted++;
	/* Every worker asleep and none told to wake: someone must take the job. */
	if (p->idle == p->nthreads && !p->tokens)
		wake(p, 1);
	if (p->mon_quiet)
		pthread_cond_signal(&p->mon_cond);
	pthread_mutex_unlock(&p->lock);
}

static void stop_and_join(struct svm_pool *p, bool monitor_started)
{
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->work_cond);
	pthread_cond_broadcast(&p->mon_cond);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->started_threads; i++)
		pthread_join(p->threads[i], NULL);
	if (monitor_started)
		pthread_join(p->monitor, NULL);
}

static void name_thread(pthread_t t, const char *name, const char *role)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "svm%s-%s", role, name ? name : "");
	pthread_setname_np(t, buf); /* cosmetic: failure ignored */
}

int svm_pool_create(unsigned nthreads, const char *name, struct svm_pool **out)
{
	struct svm_pool *p;
	pthread_condattr_t ca;
	int ret;

	if (!nthreads || nthreads > SVM_THREADS_MAX)
		return -EINVAL;
	p = calloc(1, sizeof(*p) + nthreads * sizeof(p->threads[0]));
	if (!p)
		return -ENOMEM;
	p->nthreads = nthreads;
	p->tail = &p->head;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work_cond, NULL);
	pthread_cond_init(&p->ready_cond, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->mon_cond, &ca);
	pthread_condattr_destroy(&ca);

	for (; p->started_threads < nthreads; p->started_threads++) {
		ret = -pthread_create(&p->threads[p->started_threads], NULL, worker, p);
		if (ret)
			goto stop_threads;
		name_thread(p->threads[p->started_threads], name, "w");
	}
	ret = -pthread_create(&p->monitor, NULL, monitor, p);
	if (ret)
		goto stop_threads;
	name_thread(p->monitor, name, "m");
	/* Start from a known state: all asleep, so the first job wakes one. */
	pthread_mutex_lock(&p->lock);
	while (p->idle < p->nthreads)
		pthread_cond_wait(&p->ready_cond, &p->lock);
	pthread_mutex_unlock(&p->lock);
	*out = p;
	return 0;

stop_threads:
	stop_and_join(p, false);
	pthread_cond_destroy(&p->mon_cond);
	pthread_cond_destroy(&p->work_cond);
	pthread_cond_destroy(&p->ready_cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
	return ret;
}

void svm_pool_destroy(struct svm_pool *p)
{
	if (!p)
		return;
	stop_and_join(p, true);
	pthread_cond_destroy(&p->mon_cond);
	pthread_cond_destroy(&p->work_cond);
	pthread_cond_destroy(&p->ready_cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

void svm_pool_get_stats(struct svm_pool *p, struct svm_pool_stats *out)
{
	pthread_mutex_lock(&p->lock);
	*out = p->st;
	pthread_mutex_unlock(&p->lock);
}
