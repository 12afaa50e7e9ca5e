/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "uring.h"
#include "limits.h"
#include "log.h"

#include <errno.h>
#include <limits.h>
#include <liburing.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

size_t svm_uring_fault_short;
int svm_uring_fault_again;

/* Completions taken off the ring per pass of the completion thread. */
#define REAP_BATCH 64

struct svm_uring {
	struct io_uring ring;
	pthread_mutex_t lock; /* the submission queue */
	pthread_t thread;
	unsigned entries;
	unsigned inflight;	   /* atomic: operations accepted and not yet done */
	bool stopping;		   /* atomic: svm_uring_destroy has begun */
	struct svm_uring_stats st; /* submitted, max_inflight under lock; the rest atomic */
};

/*
 * The iovec for bytes [from, from + n) of op's iov, in op->rest (op->iov
 * itself when that is all of it). 0 or -ENOMEM.
 */
static int window(struct svm_uring_op *op, size_t from, size_t n, const struct iovec **iov,
		  unsigned *cnt)
{
	unsigned i = 0, k = 0;

	free(op->rest);
	op->rest = NULL;
	if (!from && n == op->len) {
		*iov = op->iov;
		*cnt = op->iov_cnt;
		return 0;
	}
	op->rest = malloc(op->iov_cnt * sizeof(*op->rest));
	if (!op->rest)
		return -ENOMEM;
	for (; i < op->iov_cnt && from >= op->iov[i].iov_len; i++)
		from -= op->iov[i].iov_len;
	for (; i < op->iov_cnt && n; i++) {
		size_t take = op->iov[i].iov_len - from;

		if (take > n)
			take = n;
		op->rest[k].iov_base = (char *)op->iov[i].iov_base + from;
		op->rest[k++].iov_len = take;
		n -= take;
		from = 0;
	}
	*iov = op->rest;
	*cnt = k;
	return 0;
}

/*
 * Queue the next piece of op (from op->moved) and enter the kernel; under
 * u->lock. 0, or -errno with nothing queued.
 */
static int submit_piece(struct svm_uring *u, struct svm_uring_op *op)
{
	struct io_uring_sqe *sqe;
	const struct iovec *iov = NULL;
	unsigned cnt = 0;
	size_t n = op->len - op->moved;
	int ret;

	if (op->kind != SVM_URING_FSYNC) {
		if (svm_uring_fault_short && n > svm_uring_fault_short)
			n = svm_uring_fault_short;
		ret = window(op, op->moved, n, &iov, &cnt);
		if (ret)
			return ret;
	}
	sqe = io_uring_get_sqe(&u->ring);
	if (!sqe)
		return -EBUSY;
	op->piece = n;
	switch (op->kind) {
	case SVM_URING_READ:
		io_uring_prep_readv(sqe, op->fd, iov, cnt, op->off + op->moved);
		break;
	case SVM_URING_WRITE:
		io_uring_prep_writev2(sqe, op->fd, iov, cnt, op->off + op->moved,
				      op->dsync ? RWF_DSYNC : 0);
		break;
	case SVM_URING_FSYNC:
		io_uring_prep_fsync(sqe, op->fd, IORING_FSYNC_DATASYNC);
		break;
	}
	io_uring_sqe_set_data(sqe, op);
	/*
	 * The entry is in the queue now: it goes to the kernel with this enter
	 * or, should that fail for want of memory, with the next one.
	 */
	for (int tries = 0; tries < 1000; tries++) {
		ret = io_uring_submit(&u->ring);
		if (ret >= 0 || (ret != -EINTR && ret != -EAGAIN && ret != -EBUSY))
			break;
		usleep(100);
	}
	if (ret < 0)
		svm_log(SVM_LOG_ERR, "io_uring_enter: %s (the operation stays queued)",
			strerror(-ret));
	return 0;
}

static void finish(struct svm_uring *u, struct svm_uring_op *op, int ret)
{
	free(op->rest);
	op->rest = NULL;
	__atomic_add_fetch(&u->st.completed, 1, __ATOMIC_RELAXED);
	op->done(op, ret);
	/* after done: destroy must not free the ring under a done that submits */
	__atomic_sub_fetch(&u->inflight, 1, __ATOMIC_ACQ_REL);
}

/* One completion of op's piece in flight, res as the kernel gave it. Engine thread. */
static void complete(struct svm_uring *u, struct svm_uring_op *op, int res)
{
	int ret;

	if (svm_uring_fault_again && res >= 0)
		res = -EAGAIN;
	if (res < 0) {
		/*
		 * Interrupted, out of resources, or cancelled (the kernel cancels
		 * what a thread submitted when it exits): nothing to say of how
		 * far it got.
		 */
		finish(u, op, res == -EINTR || res == -EAGAIN || res == -ECANCELED ? -EAGAIN : res);
		return;
	}
	if (op->kind == SVM_URING_FSYNC) {
		finish(u, op, 0);
		return;
	}
	if (res == 0 && op->piece) {
		finish(u, op, -EIO); /* end of file: the store shrank under us */
		return;
	}
	op->moved += (size_t)res;
	if (op->moved >= op->len) {
		finish(u, op, 0);
		return;
	}
	/* short: continue where it ended */
	pthread_mutex_lock(&u->lock);
	ret = submit_piece(u, op);
	pthread_mutex_unlock(&u->lock);
	if (ret) {
		finish(u, op, -EAGAIN);
		return;
	}
	__atomic_add_fetch(&u->st.resubmitted, 1, __ATOMIC_RELAXED);
}

static void *reaper(void *arg)
{
	struct svm_uring *u = arg;
	struct svm_uring_op *ops[REAP_BATCH];
	int res[REAP_BATCH];

	for (;;) {
		struct io_uring_cqe *cqe;
		unsigned head, n = 0;
		int ret = io_uring_wait_cqe(&u->ring, &cqe);

		if (ret == -EINTR || ret == -EAGAIN)
			continue;
		if (ret < 0) {
			svm_log(SVM_LOG_ERR, "io_uring wait: %s", strerror(-ret));
			usleep(1000);
			continue;
		}
		io_uring_for_each_cqe(&u->ring, head, cqe)
		{
			ops[n] = io_uring_cqe_get_data(cqe);
			res[n] = cqe->res;
			if (++n == REAP_BATCH)
				break;
		}
		io_uring_cq_advance(&u->ring, n);
		__atomic_add_fetch(&u->st.reaps, 1, __ATOMIC_RELAXED);
		for (unsigned i = 0; i < n; i++)
			if (ops[i]) /* NULL: destroy's wake-up */
				complete(u, ops[i], res[i]);
		if (__atomic_load_n(&u->stopping, __ATOMIC_ACQUIRE) &&
		    !__atomic_load_n(&u->inflight, __ATOMIC_ACQUIRE))
			break;
	}
	return NULL;
}

int svm_uring_create(unsigned entries, const char *name, struct svm_uring **out)
{
	struct svm_uring *u = calloc(1, sizeof(*u));
	char tname[16];
	int ret;

	if (!u)
		return -ENOMEM;
	ret = io_uring_queue_init(entries, &u->ring, 0);
	if (ret)
		goto free_engine;
	u->entries = entries;
	/*
	 * io-wq runs the writes and flushes that cannot complete inline (an
	 * RWF_DSYNC write, an fsync) on "bounded" workers, by default at most
	 * 4 per CPU for each submitting thread: 8 on 2 CPUs, half the pool's 16
	 * (tests/e2e/t_io.sh measured 26 FUA writes/s on a 100 ms store with
	 * that, against 73 on the pool). Allow as many as a LUN's pool has
	 * threads (each tcmu-runner command thread has its own io-wq); best
	 * effort (the kernel may refuse, the default then stands).
	 */
	{
		/* bounded, unbounded (0: unchanged) */
		unsigned limits[2] = {SVM_URING_WQ_WORKERS, 0};

		io_uring_register_iowq_max_workers(&u->ring, limits);
	}
	pthread_mutex_init(&u->lock, NULL);
	ret = -pthread_create(&u->thread, NULL, reaper, u);
	if (ret)
		goto exit_ring;
	snprintf(tname, sizeof(tname), "svmu-%s", name ? name : "");
	pthread_setname_np(u->thread, tname); /* cosmetic */
	*out = u;
	return 0;

exit_ring:
	pthread_mutex_destroy(&u->lock);
	io_uring_queue_exit(&u->ring);
free_engine:
	free(u);
	return ret;
}

int svm_uring_submit(struct svm_uring *u, struct svm_uring_op *op)
{
	unsigned n;
	int ret;

	if (op->kind != SVM_URING_FSYNC && (!op->len || op->iov_cnt > IOV_MAX))
		return -EINVAL;
	op->moved = op->piece = 0;
	op->rest = NULL;
	pthread_mutex_lock(&u->lock);
	n = __atomic_load_n(&u->inflight, __ATOMIC_ACQUIRE);
	if (n >= u->entries) {
		pthread_mutex_unlock(&u->lock);
		return -EBUSY; /* the completion queue could overflow */
	}
	/* counted first: its completion may come before submit_piece returns */
	__atomic_add_fetch(&u->inflight, 1, __ATOMIC_ACQ_REL);
	ret = submit_piece(u, op);
	if (ret) {
		__atomic_sub_fetch(&u->inflight, 1, __ATOMIC_ACQ_REL);
		free(op->rest);
		op->rest = NULL;
	} else {
		u->st.submitted++;
		if (n + 1 > u->st.max_inflight)
			u->st.max_inflight = n + 1;
	}
	pthread_mutex_unlock(&u->lock);
	return ret;
}

void svm_uring_destroy(struct svm_uring *u)
{
	struct io_uring_sqe *sqe;

	if (!u)
		return;
	pthread_mutex_lock(&u->lock);
	__atomic_store_n(&u->stopping, true, __ATOMIC_RELEASE);
	/* a completion to wake the thread: it stops once nothing is in flight */
	while (!(sqe = io_uring_get_sqe(&u->ring))) {
		io_uring_submit(&u->ring);
		usleep(100);
	}
	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data(sqe, NULL);
	while (io_uring_submit(&u->ring) < 0)
		usleep(100);
	pthread_mutex_unlock(&u->lock);
	pthread_join(u->thread, NULL);
	io_uring_queue_exit(&u->ring);
	pthread_mutex_destroy(&u->lock);
	free(u);
}

void svm_uring_get_stats(struct svm_uring *u, struct svm_uring_stats *out)
{
	pthread_mutex_lock(&u->lock);
	*out = u->st;
	pthread_mutex_unlock(&u->lock);
	out->completed = __atomic_load_n(&u->st.completed, __ATOMIC_RELAXED);
	out->resubmitted = __atomic_load_n(&u->st.resubmitted, __ATOMIC_RELAXED);
	out->reaps = __atomic_load_n(&u->st.reaps, __ATOMIC_RELAXED);
}
