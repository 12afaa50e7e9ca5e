/* SPDX-License-Identifier: Apache-2.0 */
/*
 * handler/pool.c: every job runs once, closing a queue drains it, slow jobs
 * get workers, queues take turns, one queue never holds more than its share,
 * and the threads are the pool's whatever the number of queues.
 */
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
static unsigned now_running, peak; /* rendezvous jobs running at once, and the most */

static void count_job(struct svm_pool_job *job)
{
	(void)job;
	pthread_mutex_lock(&lock);
	ran++;
	pthread_mutex_unlock(&lock);
}

/* Blocks until `want` jobs of this kind run at once (at most want_ms): a slow store. */
static unsigned want, want_ms = 5000;

static void rendezvous_job(struct svm_pool_job *job)
{
	struct timespec ts;

	(void)job;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += (long)(want_ms % 1000) * 1000000;
	ts.tv_sec += want_ms / 1000 + ts.tv_nsec / 1000000000;
	ts.tv_nsec %= 1000000000;
	pthread_mutex_lock(&lock);
	running++;
	if (++now_running > peak)
		peak = now_running;
	pthread_cond_broadcast(&cond);
	while (running < want)
		if (pthread_cond_timedwait(&cond, &lock, &ts) == ETIMEDOUT)
			break;
	if (running >= want)
		met++;
	now_running--;
	finished++;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

/* Wait (at most 10 s) until *counter reaches n. */
static bool wait_for(unsigned *counter, unsigned n)
{
	struct timespec ts;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&lock);
	while (*counter < n)
		if (pthread_cond_timedwait(&cond, &lock, &ts) == ETIMEDOUT)
			break;
	ok = *counter >= n;
	pthread_mutex_unlock(&lock);
	return ok;
}

static void limits(void)
{
	struct svm_pool_queue *q;
	struct svm_pool *p;

	CHECK_EQ(svm_pool_create(0, "t", &p), -EINVAL);
	CHECK_EQ(svm_pool_create(SVM_THREADS_MAX + 1, "t", &p), -EINVAL);
	CHECK_EQ(svm_pool_create(2, "t", &p), 0);
	CHECK_EQ(svm_pool_queue_open(p, 0, &q), -EINVAL);
	svm_pool_destroy(p);
}

static void drain(void)
{
	static struct svm_pool_job jobs[5000];
	struct svm_pool_stats st;
	struct svm_pool_queue *q;
	struct svm_pool *p;

	ran = 0;
	CHECK_EQ(svm_pool_create(4, "t", &p), 0);
	CHECK_EQ(svm_pool_queue_open(p, 4, &q), 0);
	for (size_t i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++) {
		jobs[i].fn = count_job;
		svm_pool_submit(q, &jobs[i]);
	}
	svm_pool_queue_get_stats(q, &st);
	CHECK_EQ(st.submitted, 5000);
	svm_pool_queue_close(q); /* runs what is still queued */
	CHECK_EQ(ran, 5000);
	svm_pool_get_stats(p, &st);
	CHECK_EQ(st.started, 5000);
	svm_pool_destroy(p);
}

/*
 * Submit njobs rendezvous jobs (each waits until `meet` run at once) to a
 * queue of max_busy on a pool of nthreads, wait for them, close, destroy.
 */
static void rendezvous(unsigned nthreads, unsigned max_busy, unsigned njobs, unsigned meet)
{
	struct svm_pool_job jobs[16];
	struct svm_pool_queue *q;
	struct svm_pool *p;

	CHECK(njobs <= sizeof(jobs) / sizeof(jobs[0]));
	running = met = finished = now_running = peak = 0;
	want = meet;
	CHECK_EQ(svm_pool_create(nthreads, "t", &p), 0);
	CHECK_EQ(svm_pool_queue_open(p, max_busy, &q), 0);
	for (unsigned i = 0; i < njobs && i < sizeof(jobs) / sizeof(jobs[0]); i++) {
		jobs[i].fn = rendezvous_job;
		svm_pool_submit(q, &jobs[i]);
	}
	CHECK(wait_for(&finished, njobs));
	svm_pool_queue_close(q);
	svm_pool_destroy(p);
}

/* A burst of jobs that each block until all of them run: each needs its own worker. */
static void slow_burst(void)
{
	rendezvous(8, 8, 8, 8);
	CHECK_EQ(met, 8);
}

/* Fewer workers than blocked jobs: they queue, nothing is lost or run twice. */
static void fewer_workers(void)
{
	rendezvous(2, 2, 6, 2); /* the first two meet; later ones find running >= 2 at once */
	CHECK_EQ(running, 6);
	CHECK_EQ(met, 6);
}

/* A queue's share: with 8 workers, a queue of max_busy 3 never runs 4 at once. */
static void share_caps(void)
{
	want_ms = 200;
	rendezvous(8, 3, 6, 6); /* the first three wait for six, time out; then the next three */
	want_ms = 5000;
	CHECK_EQ(peak, 3);
	CHECK_EQ(finished, 6);
	rendezvous(8, 16, 8, 8); /* a share above the pool's size is the pool's size */
	CHECK_EQ(peak, 8);
	CHECK_EQ(met, 8);
}

/* ---- a LUN whose store hangs, beside one that works ---------------------------------- */

static bool gate_open;
static unsigned gated, gated_done;

static void gated_job(struct svm_pool_job *job)
{
	(void)job;
	pthread_mutex_lock(&lock);
	gated++;
	pthread_cond_broadcast(&cond);
	while (!gate_open)
		pthread_cond_wait(&cond, &lock);
	gated_done++;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

static void open_gate(void)
{
	pthread_mutex_lock(&lock);
	gate_open = true;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

static void count_signal_job(struct svm_pool_job *job)
{
	(void)job;
	pthread_mutex_lock(&lock);
	ran++;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

static void hung_queue(void)
{
	static struct svm_pool_job stuck[10], fine[100];
	struct svm_pool_stats st;
	struct svm_pool_queue *a, *b;
	struct svm_pool *p;

	gate_open = false;
	gated = gated_done = ran = 0;
	CHECK_EQ(svm_pool_create(4, "t", &p), 0);
	CHECK_EQ(svm_pool_queue_open(p, 2, &a), 0);
	CHECK_EQ(svm_pool_queue_open(p, 2, &b), 0);
	for (unsigned i = 0; i < 10; i++) {
		stuck[i].fn = gated_job;
		svm_pool_submit(a, &stuck[i]);
	}
	CHECK(wait_for(&gated, 2));
	for (unsigned i = 0; i < 100; i++) {
		fine[i].fn = count_signal_job;
		svm_pool_submit(b, &fine[i]);
	}
	/* b's jobs all run while a's store still hangs with its share of workers */
	CHECK(wait_for(&ran, 100));
	pthread_mutex_lock(&lock);
	CHECK_EQ(gated, 2);
	CHECK_EQ(gated_done, 0);
	pthread_mutex_unlock(&lock);
	svm_pool_queue_get_stats(a, &st);
	CHECK_EQ(st.max_busy, 2);
	open_gate(); /* before closing: if b's jobs were stuck behind a's, close would hang */
	svm_pool_queue_close(b);
	svm_pool_queue_close(a); /* the 8 still queued run now */
	CHECK_EQ(gated_done, 10);
	svm_pool_destroy(p);
}

/* ---- queues take turns ---------------------------------------------------------------- */

static char order[64];
static unsigned norder;

struct tagged_job {
	struct svm_pool_job job;
	char tag;
};

static void tagged_run(struct svm_pool_job *job)
{
	pthread_mutex_lock(&lock);
	if (norder < sizeof(order) - 1)
		order[norder++] = ((struct tagged_job *)job)->tag;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

static bool gate2_open;

static void gated2_job(struct svm_pool_job *job)
{
	(void)job;
	pthread_mutex_lock(&lock);
	gated++;
	pthread_cond_broadcast(&cond);
	while (!gate2_open)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
}

/*
 * Two workers, both held; then 20 jobs of queue a and 2 of b (shares of 2).
 * One worker is let go: alone, it must alternate, so b's jobs run within the
 * first four although a's share would let it take a's jobs one after another.
 */
static void round_robin(void)
{
	static struct tagged_job ja[20], jb[2];
	struct svm_pool_job hold = {.fn = gated_job}, hold2 = {.fn = gated2_job};
	struct svm_pool_queue *a, *b, *c;
	struct svm_pool *p;
	const char *first_b;

	gate_open = gate2_open = false;
	gated = gated_done = norder = 0;
	memset(order, 0, sizeof(order));
	CHECK_EQ(svm_pool_create(2, "t", &p), 0);
	CHECK_EQ(svm_pool_queue_open(p, 2, &a), 0);
	CHECK_EQ(svm_pool_queue_open(p, 2, &b), 0);
	CHECK_EQ(svm_pool_queue_open(p, 2, &c), 0);
	svm_pool_submit(c, &hold);
	svm_pool_submit(c, &hold2);
	CHECK(wait_for(&gated, 2));
	for (unsigned i = 0; i < 20; i++) {
		ja[i] = (struct tagged_job){.job.fn = tagged_run, .tag = 'a'};
		svm_pool_submit(a, &ja[i].job);
	}
	for (unsigned i = 0; i < 2; i++) {
		jb[i] = (struct tagged_job){.job.fn = tagged_run, .tag = 'b'};
		svm_pool_submit(b, &jb[i].job);
	}
	open_gate();
	CHECK(wait_for(&norder, 22));
	first_b = strchr(order, 'b');
	CHECK(first_b && first_b - order <= 1);
	CHECK(strrchr(order, 'b') - order <= 3);
	pthread_mutex_lock(&lock);
	gate2_open = true;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	svm_pool_queue_close(a);
	svm_pool_queue_close(b);
	svm_pool_queue_close(c);
	svm_pool_destroy(p);
}

/* ---- 64 queues, the pool's threads ---------------------------------------------------- */

static pthread_t seen[SVM_THREADS_MAX];
static unsigned nseen;

static void who_job(struct svm_pool_job *job)
{
	pthread_t me = pthread_self();
	unsigned i;

	(void)job;
	pthread_mutex_lock(&lock);
	for (i = 0; i < nseen && !pthread_equal(seen[i], me); i++)
		;
	if (i == nseen && nseen < SVM_THREADS_MAX)
		seen[nseen++] = me;
	ran++;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

static void many_queues(void)
{
	static struct svm_pool_job jobs[64][20];
	struct svm_pool_queue *q[64];
	struct svm_pool *p;

	nseen = ran = 0;
	CHECK_EQ(svm_pool_create(4, "t", &p), 0);
	for (unsigned i = 0; i < 64; i++)
		CHECK_EQ(svm_pool_queue_open(p, 16, &q[i]), 0);
	for (unsigned j = 0; j < 20; j++)
		for (unsigned i = 0; i < 64; i++) {
			jobs[i][j].fn = who_job;
			svm_pool_submit(q[i], &jobs[i][j]);
		}
	CHECK(wait_for(&ran, 64 * 20));
	for (unsigned i = 0; i < 64; i++)
		svm_pool_queue_close(q[i]);
	CHECK(nseen >= 1 && nseen <= 4);
	svm_pool_destroy(p);
}

void pool_test(void)
{
	limits();
	drain();
	slow_burst();
	fewer_workers();
	share_caps();
	hung_queue();
	round_robin();
	many_queues();
}
