/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "pool.h"
#include "limits.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

struct svm_pool_queue {
	struct svm_pool *p;
	struct svm_pool_job *head, **tail;
	unsigned queued, busy, max_busy;
	bool listed;				 /* on the pool's ready list */
	struct svm_pool_queue *ready_next, *ready_prev;
	bool closing;
	pthread_cond_t drained_cond; /* close, until nothing is queued or running */
	struct svm_pool_stats st;
};

struct svm_pool {
	pthread_mutex_t lock; /* everything here and in the queues */
	pthread_cond_t work_cond;  /* sleeping workers */
	pthread_cond_t ready_cond; /* svm_pool_create, until every worker sleeps */
	/* Queues with a job that may start now, in the order they take turns. */
	struct svm_pool_queue *ready_head, *ready_tail;
	unsigned ready_jobs; /* jobs that may start now, over all queues */
	unsigned nthreads;
	unsigned idle;	 /* workers inside the sleep loop */
	unsigned tokens; /* of those, how many were told to wake */
	unsigned busy;	 /* jobs running */
	bool stopping;
	struct svm_pool_stats st;
	unsigned started_threads;
	pthread_t threads[];
};

/* Jobs of q that may start now: queued ones, up to its free share. */
static unsigned startable(const struct svm_pool_queue *q)
{
	unsigned room = q->max_busy - q->busy;

	return q->queued < room ? q->queued : room;
}

static void ready_unlink(struct svm_pool *p, struct svm_pool_queue *q)
{
	*(q->ready_prev ? &q->ready_prev->ready_next : &p->ready_head) = q->ready_next;
	*(q->ready_next ? &q->ready_next->ready_prev : &p->ready_tail) = q->ready_prev;
	q->ready_next = q->ready_prev = NULL;
	q->listed = false;
}

static void ready_append(struct svm_pool *p, struct svm_pool_queue *q)
{
	q->ready_next = NULL;
	q->ready_prev = p->ready_tail;
	*(p->ready_tail ? &p->ready_tail->ready_next : &p->ready_head) = q;
	p->ready_tail = q;
	q->listed = true;
}

/* After q changed: keep ready_jobs and the ready list right. before: startable(q) before. */
static void requeue(struct svm_pool *p, struct svm_pool_queue *q, unsigned before)
{
	unsigned after = startable(q);

	p->ready_jobs = p->ready_jobs - before + after;
	if (after && !q->listed)
		ready_append(p, q);
	else if (!after && q->listed)
		ready_unlink(p, q);
}

/* Take the next job, from the queue whose turn it is (then it goes last). Pool locked. */
static struct svm_pool_job *take(struct svm_pool *p, struct svm_pool_queue **qp)
{
	struct svm_pool_queue *q = p->ready_head;
	unsigned before = startable(q);
	struct svm_pool_job *job = q->head;

	q->head = job->next;
	if (!q->head)
		q->tail = &q->head;
	q->queued--;
	q->st.started++;
	if (++q->busy > q->st.max_busy)
		q->st.max_busy = q->busy;
	ready_unlink(p, q); /* round robin: it goes to the end, if it still has work */
	p->ready_jobs -= before;
	requeue(p, q, 0);
	*qp = q;
	return job;
}

static void *worker(void *arg)
{
	struct svm_pool *p = arg;
	struct svm_pool_queue *q;
	struct svm_pool_job *job;
	unsigned before;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->ready_jobs && !p->stopping) {
			if (++p->idle == p->nthreads)
				pthread_cond_signal(&p->ready_cond);
			while (!p->tokens && !p->stopping)
				pthread_cond_wait(&p->work_cond, &p->lock);
			if (p->tokens)
				p->tokens--;
			p->idle--;
		}
		if (!p->ready_jobs)
			break; /* stopping, nothing left */
		job = take(p, &q);
		p->st.started++;
		if (++p->busy > p->st.max_busy)
			p->st.max_busy = p->busy;
		pthread_mutex_unlock(&p->lock);
		job->fn(job);
		pthread_mutex_lock(&p->lock);
		p->busy--;
		before = startable(q);
		q->busy--;
		requeue(p, q, before);
		if (q->closing && !q->queued && !q->busy)
			pthread_cond_broadcast(&q->drained_cond); /* q may be freed once we unlock */
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

void svm_pool_submit(struct svm_pool_queue *q, struct svm_pool_job *job)
{
	struct svm_pool *p = q->p;
	unsigned free_awake, before;

	job->next = NULL;
	pthread_mutex_lock(&p->lock);
	before = startable(q);
	*q->tail = job;
	q->tail = &job->next;
	q->queued++;
	q->st.submitted++;
	p->st.submitted++;
	requeue(p, q, before);
	/* Awake workers not running a job, or woken and on their way: each takes one. */
	free_awake = p->nthreads - p->idle - p->busy + p->tokens;
	if (p->ready_jobs > free_awake && p->idle > p->tokens) {
		p->tokens++;
		p->st.wakeups++;
		pthread_cond_signal(&p->work_cond);
	}
	pthread_mutex_unlock(&p->lock);
}

int svm_pool_queue_open(struct svm_pool *p, unsigned max_busy, struct svm_pool_queue **out)
{
	struct svm_pool_queue *q;

	if (!max_busy)
		return -EINVAL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->p = p;
	q->tail = &q->head;
	q->max_busy = max_busy < p->nthreads ? max_busy : p->nthreads;
	pthread_cond_init(&q->drained_cond, NULL);
	*out = q;
	return 0;
}

void svm_pool_queue_close(struct svm_pool_queue *q)
{
	struct svm_pool *p;

	if (!q)
		return;
	p = q->p;
	pthread_mutex_lock(&p->lock);
	q->closing = true;
	while (q->queued || q->busy)
		pthread_cond_wait(&q->drained_cond, &p->lock);
	pthread_mutex_unlock(&p->lock);
	pthread_cond_destroy(&q->drained_cond);
	free(q);
}

void svm_pool_queue_get_stats(struct svm_pool_queue *q, struct svm_pool_stats *out)
{
	pthread_mutex_lock(&q->p->lock);
	*out = q->st;
	pthread_mutex_unlock(&q->p->lock);
}

static void stop_and_join(struct svm_pool *p)
{
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->work_cond);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->started_threads; i++)
		pthread_join(p->threads[i], NULL);
}

static void free_pool(struct svm_pool *p)
{
	pthread_cond_destroy(&p->ready_cond);
	pthread_cond_destroy(&p->work_cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

int svm_pool_create(unsigned nthreads, const char *name, struct svm_pool **out)
{
	struct svm_pool *p;
	char tname[16];
	int ret;

	if (!nthreads || nthreads > SVM_THREADS_MAX)
		return -EINVAL;
	p = calloc(1, sizeof(*p) + nthreads * sizeof(p->threads[0]));
	if (!p)
		return -ENOMEM;
	p->nthreads = nthreads;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work_cond, NULL);
	pthread_cond_init(&p->ready_cond, NULL);

	snprintf(tname, sizeof(tname), "svmw-%s", name ? name : "");
	for (; p->started_threads < nthreads; p->started_threads++) {
		ret = -pthread_create(&p->threads[p->started_threads], NULL, worker, p);
		if (ret)
			goto stop_threads;
		pthread_setname_np(p->threads[p->started_threads], tname); /* cosmetic */
	}
	/* Start from a known state: every worker asleep. */
	pthread_mutex_lock(&p->lock);
	while (p->idle < p->nthreads)
		pthread_cond_wait(&p->ready_cond, &p->lock);
	pthread_mutex_unlock(&p->lock);
	*out = p;
	return 0;

stop_threads:
	stop_and_join(p);
	free_pool(p);
	return ret;
}

void svm_pool_destroy(struct svm_pool *p)
{
	if (!p)
		return;
	stop_and_join(p);
	free_pool(p);
}

void svm_pool_get_stats(struct svm_pool *p, struct svm_pool_stats *out)
{
	pthread_mutex_lock(&p->lock);
	*out = p->st;
	pthread_mutex_unlock(&p->lock);
}
