/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "pool.h"
#include "limits.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

struct svm_pool {
	pthread_mutex_t lock;
	pthread_cond_t work_cond;  /* sleeping workers */
	pthread_cond_t ready_cond; /* svm_pool_create, until every worker sleeps */
	struct svm_pool_job *head, **tail;
	unsigned nthreads, queued;
	unsigned idle;	 /* workers inside the sleep loop */
	unsigned tokens; /* of those, how many were told to wake */
	unsigned busy;	 /* jobs running */
	bool stopping;
	struct svm_pool_stats st;
	unsigned started_threads;
	pthread_t threads[];
};

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

void svm_pool_submit(struct svm_pool *p, struct svm_pool_job *job)
{
	unsigned free_awake;

	job->next = NULL;
	pthread_mutex_lock(&p->lock);
	*p->tail = job;
	p->tail = &job->next;
	p->queued++;
	p->st.submitted++;
	/* Awake workers not running a job, or woken and on their way: each takes one. */
	free_awake = p->nthreads - p->idle - p->busy + p->tokens;
	if (p->queued > free_awake && p->idle > p->tokens) {
		p->tokens++;
		p->st.wakeups++;
		pthread_cond_signal(&p->work_cond);
	}
	pthread_mutex_unlock(&p->lock);
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
	p->tail = &p->head;
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
