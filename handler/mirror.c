/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "mirror.h"
#include "cfg.h"
#include "limits.h"
#include "log.h"
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

bool svm_mirror_force_store_copy;

struct svm_mirror {
	struct svm_store *pri, *sec;
	struct svm_rangelock *lock;
	struct svm_pool *pool; /* secondary writes: its own threads, never the LUNs' */
	struct svm_pool_queue *queue;
	uint64_t size, chunk, nchunks;
	bool via_store;	 /* copies go through svm_store_readv/writev (a store has no fd) */
	uint64_t cursor; /* atomic: the pass has passed [0, cursor) */
	uint8_t *done;	 /* atomic per chunk: covered whole by a write ahead of the cursor */
	int error;	 /* atomic: the secondary's failure, -errno */
	const char *broken; /* atomic: what failed then (a static string), set before error */

	/* write intent, under bm_lock */
	pthread_mutex_t bm_lock;
	struct svm_migrec *rec;
	uint64_t region;
	uint32_t nregions;
	uint8_t *dirty;	   /* as in the record */
	uint8_t *redo;	   /* dirty at create: to copy again before the pass goes on */
	uint32_t *flying;  /* mirrored writes in flight per region */
	uint32_t redo_at;  /* pass: the region being copied again */
	uint64_t redo_off; /* pass: next byte of it */

	/* atomic counters */
	uint64_t writes, mirrored, copied, skipped, overwritten, moved[SVM_MOVER_KINDS];
};

static uint64_t ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void add(uint64_t *p, uint64_t v)
{
	__atomic_add_fetch(p, v, __ATOMIC_RELAXED);
}

/* The mirror's maps, its lock and itself (not the pool). */
static void free_maps(struct svm_mirror *m)
{
	free(m->done);
	free(m->dirty);
	free(m->redo);
	free(m->flying);
	pthread_mutex_destroy(&m->bm_lock);
	free(m);
}

int svm_mirror_create(const struct svm_mirror_params *p, struct svm_mirror **out, char **reason)
{
	struct svm_mirror *m;
	int ret;

	m = calloc(1, sizeof(*m));
	if (!m)
		return svm_reason(reason, -ENOMEM, "out of memory");
	m->via_store = svm_mirror_store_copy(p->primary, p->secondary);
	m->pri = p->primary;
	m->sec = p->secondary;
	m->lock = p->lock;
	m->size = p->size;
	m->chunk = SVM_MIGRATE_CHUNK_BYTES;
	m->nchunks = (p->size + m->chunk - 1) / m->chunk;
	m->cursor = p->cursor < p->size ? p->cursor - p->cursor % m->chunk : p->size;
	m->rec = p->rec;
	m->region = p->region;
	m->nregions = p->nregions;
	pthread_mutex_init(&m->bm_lock, NULL);
	ret = -ENOMEM;
	m->done = calloc(m->nchunks ? m->nchunks : 1, 1);
	m->dirty = calloc(m->nregions ? m->nregions : 1, 1);
	m->redo = calloc(m->nregions ? m->nregions : 1, 1);
	m->flying = calloc(m->nregions ? m->nregions : 1, sizeof(*m->flying));
	if (!m->done || !m->dirty || !m->redo || !m->flying)
		goto free_mirror;
	if (p->dirty) {
		memcpy(m->dirty, p->dirty, m->nregions);
		memcpy(m->redo, p->dirty, m->nregions);
	}
	m->redo_off = UINT64_MAX;
	ret = svm_pool_create(SVM_MIGRATE_MIRROR_THREADS, "mirror", &m->pool);
	if (ret)
		goto free_mirror;
	ret = svm_pool_queue_open(m->pool, SVM_MIGRATE_MIRROR_THREADS, &m->queue);
	if (ret)
		goto destroy_pool;
	*out = m;
	return 0;

destroy_pool:
	svm_pool_destroy(m->pool);
free_mirror:
	free_maps(m);
	return svm_reason(reason, ret, "cannot set up the mirror: %s", strerror(-ret));
}

void svm_mirror_destroy(struct svm_mirror *m)
{
	if (!m)
		return;
	svm_pool_queue_close(m->queue);
	svm_pool_destroy(m->pool);
	free_maps(m);
}

int svm_mirror_error(const struct svm_mirror *m)
{
	return __atomic_load_n(&m->error, __ATOMIC_ACQUIRE);
}

const char *svm_mirror_error_what(const struct svm_mirror *m)
{
	return svm_mirror_error(m) ? __atomic_load_n(&m->broken, __ATOMIC_ACQUIRE) : NULL;
}

static void break_mirror(struct svm_mirror *m, int err, const char *what)
{
	const char *none_what = NULL;
	int none = 0;

	/* the first failure's account wins, as its error does; written before the error is */
	__atomic_compare_exchange_n(&m->broken, &none_what, what, false, __ATOMIC_ACQ_REL,
				    __ATOMIC_ACQUIRE);
	if (__atomic_compare_exchange_n(&m->error, &none, err, false, __ATOMIC_ACQ_REL,
					__ATOMIC_ACQUIRE))
		svm_log(SVM_LOG_ERR, "mirror of %s onto %s broken: %s failed: %s",
			svm_store_path(m->pri), svm_store_path(m->sec), what, strerror(-err));
}

static bool copied(const struct svm_mirror *m, uint64_t c)
{
	return c * m->chunk < ld(&m->cursor) || __atomic_load_n(&m->done[c], __ATOMIC_ACQUIRE);
}

/*
 * Whether a write to [off, off + len) goes to both stores; *first / *last
 * (may be NULL) get the chunks it covers whole that the pass has not
 * copied (first > last: none).
 */
static bool decide(const struct svm_mirror *m, uint64_t off, uint64_t len, uint64_t *first,
		   uint64_t *last)
{
	uint64_t c0, c1, f = UINT64_MAX, l = 0;
	bool both = false;

	if (!len || svm_mirror_error(m))
		return false;
	c0 = off / m->chunk;
	c1 = (off + len - 1) / m->chunk;
	for (uint64_t c = c0; c <= c1 && c < m->nchunks; c++) {
		uint64_t cs = c * m->chunk, ce = cs + m->chunk < m->size ? cs + m->chunk : m->size;

		if (copied(m, c)) {
			both = true;
		} else if (off <= cs && off + len >= ce) {
			both = true;
			f = f == UINT64_MAX ? c : f;
			l = c;
		}
	}
	if (first) {
		*first = f;
		*last = f == UINT64_MAX ? 0 : l;
	}
	return both;
}

bool svm_mirror_wants(struct svm_mirror *m, uint64_t off, uint64_t len)
{
	return decide(m, off, len, NULL, NULL);
}

/* Mark the regions of [off, off + len) dirty (durably when newly) and in flight. */
static int intent_begin(struct svm_mirror *m, uint64_t off, uint64_t len)
{
	uint32_t r0 = off / m->region, r1 = (off + len - 1) / m->region;
	int ret = 0;

	if (!m->rec)
		return 0;
	pthread_mutex_lock(&m->bm_lock);
	for (uint32_t r = r0; r <= r1 && r < m->nregions; r++) {
		m->flying[r]++;
		if (!m->dirty[r] && !ret) {
			ret = svm_migrec_mark(m->rec, r, true);
			if (!ret)
				m->dirty[r] = 1;
		}
	}
	pthread_mutex_unlock(&m->bm_lock);
	return ret;
}

static void intent_end(struct svm_mirror *m, uint64_t off, uint64_t len)
{
	uint32_t r0 = off / m->region, r1 = (off + len - 1) / m->region;

	if (!m->rec)
		return;
	pthread_mutex_lock(&m->bm_lock);
	for (uint32_t r = r0; r <= r1 && r < m->nregions; r++)
		m->flying[r]--;
	pthread_mutex_unlock(&m->bm_lock);
}

/* One write to the secondary, on a worker of the mirror's pool. */
struct sec_job {
	struct svm_pool_job job;
	struct svm_mirror *m;
	const struct iovec *iov;
	size_t cnt;
	uint64_t off, len;
	bool fua;
	char kind; /* 'w' write, 'd' discard, 'z' zeroes */
	int ret;
	bool finished;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static void sec_run(struct svm_pool_job *job)
{
	struct sec_job *j = (struct sec_job *)job;
	struct svm_store *sec = j->m->sec;
	int ret;

	switch (j->kind) {
	case 'd':
		ret = svm_store_discard(sec, j->off, j->len);
		/* a destination that cannot deallocate gets zeroes: it must read as the source */
		if (ret == -EOPNOTSUPP)
			ret = svm_store_write_zeroes(sec, j->off, j->len);
		break;
	case 'z':
		ret = svm_store_write_zeroes(sec, j->off, j->len);
		break;
	default:
		ret = svm_store_writev(sec, j->iov, j->cnt, j->off, j->len, j->fua);
		break;
	}
	pthread_mutex_lock(&j->lock);
	j->ret = ret;
	j->finished = true;
	pthread_cond_signal(&j->cond);
	pthread_mutex_unlock(&j->lock);
}

/*
 * Run prim() on the primary while the secondary does j's operation on a
 * worker; wait for both. Returns the primary's result; the secondary's
 * failure breaks the mirror.
 */
static int both(struct svm_mirror *m, struct sec_job *j, int (*prim)(struct sec_job *j),
		uint64_t first, uint64_t last)
{
	int ret, err;

	j->m = m;
	j->job.fn = sec_run;
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->cond, NULL);
	err = intent_begin(m, j->off, j->len);
	if (err) {
		intent_end(m, j->off, j->len);
		break_mirror(m, err, "recording the write intent");
		ret = prim(j);
		goto destroy_job;
	}
	svm_pool_submit(m->queue, &j->job);
	ret = prim(j);
	pthread_mutex_lock(&j->lock);
	while (!j->finished)
		pthread_cond_wait(&j->cond, &j->lock);
	pthread_mutex_unlock(&j->lock);
	intent_end(m, j->off, j->len);
	if (j->ret) {
		break_mirror(m, j->ret, "a write to the destination");
	} else if (!ret) {
		for (uint64_t c = first; c <= last && first != UINT64_MAX; c++)
			__atomic_store_n(&m->done[c], 1, __ATOMIC_RELEASE);
	}
	add(&m->mirrored, 1);
destroy_job:
	pthread_cond_destroy(&j->cond);
	pthread_mutex_destroy(&j->lock);
	return ret;
}

static int prim_write(struct sec_job *j)
{
	return svm_store_writev(j->m->pri, j->iov, j->cnt, j->off, j->len, j->fua);
}

static int prim_discard(struct sec_job *j)
{
	return j->kind == 'z' ? svm_store_write_zeroes(j->m->pri, j->off, j->len)
			      : svm_store_discard(j->m->pri, j->off, j->len);
}

int svm_mirror_writev(struct svm_mirror *m, const struct iovec *iov, size_t cnt, uint64_t off,
		      size_t len, bool fua)
{
	struct sec_job j = {.iov = iov, .cnt = cnt, .off = off, .len = len, .fua = fua, .kind = 'w'};
	uint64_t first, last;

	add(&m->writes, 1);
	if (!decide(m, off, len, &first, &last))
		return svm_store_writev(m->pri, iov, cnt, off, len, fua);
	j.m = m;
	return both(m, &j, prim_write, first, last);
}

int svm_mirror_discard(struct svm_mirror *m, uint64_t off, uint64_t len, bool zero)
{
	struct sec_job j = {.off = off, .len = len, .kind = zero ? 'z' : 'd'};
	uint64_t first, last;

	add(&m->writes, 1);
	j.m = m;
	if (!decide(m, off, len, &first, &last))
		return prim_discard(&j);
	/* a primary that cannot do it gets no mirror either: the caller falls back */
	return both(m, &j, prim_discard, first, last);
}

bool svm_mirror_store_copy(const struct svm_store *a, const struct svm_store *b)
{
	return svm_mirror_force_store_copy || svm_store_fd(a) < 0 || svm_store_fd(b) < 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * A copy through the store API: [off, off + len) cut into pieces of
 * SVM_MIGRATE_STORE_PIECE_BYTES, each read from the primary into a buffer
 * of its own and written to the secondary by a worker of the mirror's pool,
 * all pieces at once; the caller waits for the last.
 */
struct store_copy {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned left;	  /* pieces not finished */
	int ret;	  /* the first failure, -errno */
	const char *what; /* and what failed */
	uint64_t moved;	  /* bytes written */
};

struct piece_job {
	struct svm_pool_job job;
	struct svm_mirror *m;
	struct store_copy *sc;
	uint64_t off, len;
};

static void piece_run(struct svm_pool_job *job)
{
	struct piece_job *pj = (struct piece_job *)job;
	struct store_copy *sc = pj->sc;
	const char *what = NULL;
	struct iovec iov = {.iov_len = pj->len};
	int ret = -ENOMEM;

	iov.iov_base = aligned_alloc(4096, (pj->len + 4095) / 4096 * 4096);
	if (!iov.iov_base) {
		what = "the datamover's copy";
		goto done;
	}
	ret = svm_store_readv(pj->m->pri, &iov, 1, pj->off, pj->len);
	if (ret) {
		what = "a read of the source";
		goto free_buf;
	}
	ret = svm_store_writev(pj->m->sec, &iov, 1, pj->off, pj->len, false);
	if (ret)
		what = "a write to the destination";
free_buf:
	free(iov.iov_base);
done:
	pthread_mutex_lock(&sc->lock);
	if (ret && !sc->ret) {
		sc->ret = ret;
		sc->what = what;
	}
	if (!ret)
		sc->moved += pj->len;
	if (--sc->left == 0)
		pthread_cond_signal(&sc->cond);
	pthread_mutex_unlock(&sc->lock);
}

/*
 * Copy [off, off + len) from the primary to the secondary through the store
 * API, SVM_MIGRATE_CHUNK_BYTES / SVM_MIGRATE_STORE_PIECE_BYTES pieces in
 * flight; no piece starts after deadline_ns (0: none) but the first.
 * Counts under SVM_MOVER_BOUNCE. 0, or -errno with *what.
 */
static int store_copy(struct svm_mirror *m, uint64_t off, uint64_t len, uint64_t deadline_ns,
		      const char **what)
{
	enum { NPIECES = SVM_MIGRATE_CHUNK_BYTES / SVM_MIGRATE_STORE_PIECE_BYTES };
	struct piece_job jobs[NPIECES];
	struct store_copy sc = {.ret = 0};
	uint64_t at = off;
	int ret = 0;

	pthread_mutex_init(&sc.lock, NULL);
	pthread_cond_init(&sc.cond, NULL);
	while (at < off + len && !ret) {
		unsigned n = 0;

		/* a batch of up to NPIECES pieces, all in flight, then the next */
		pthread_mutex_lock(&sc.lock);
		for (; n < NPIECES && at < off + len; n++) {
			if (deadline_ns && (at > off) && now_ns() >= deadline_ns)
				break;
			jobs[n] =
			    (struct piece_job){.job.fn = piece_run, .m = m, .sc = &sc, .off = at};
			jobs[n].len = off + len - at < SVM_MIGRATE_STORE_PIECE_BYTES
					  ? off + len - at
					  : SVM_MIGRATE_STORE_PIECE_BYTES;
			at += jobs[n].len;
			sc.left++;
		}
		pthread_mutex_unlock(&sc.lock);
		for (unsigned i = 0; i < n; i++)
			svm_pool_submit(m->queue, &jobs[i].job);
		pthread_mutex_lock(&sc.lock);
		while (sc.left)
			pthread_cond_wait(&sc.cond, &sc.lock);
		ret = sc.ret;
		pthread_mutex_unlock(&sc.lock);
		if (!ret && !n)
			ret = -ETIMEDOUT;
	}
	pthread_cond_destroy(&sc.cond);
	pthread_mutex_destroy(&sc.lock);
	add(&m->moved[SVM_MOVER_BOUNCE], sc.moved);
	if (ret)
		*what = sc.what ? sc.what : "the datamover's copy (deadline)";
	return ret;
}

int svm_mirror_sync(struct svm_mirror *m, uint64_t off, uint64_t len, enum svm_mover_kind kind)
{
	struct svm_mover_req req = {.want = kind,
				    .src_fd = svm_store_fd(m->pri),
				    .src_off = off,
				    .dst_fd = svm_store_fd(m->sec),
				    .dst_off = off,
				    .len = len};
	uint64_t first, last;
	int ret;

	add(&m->writes, 1);
	if (!decide(m, off, len, &first, &last))
		return 0;
	ret = intent_begin(m, off, len);
	if (!ret && m->via_store) {
		const char *what;

		/* whole pieces, no deadline: the EXTENDED COPY has written it to the primary */
		ret = store_copy(m, off, len, 0, &what);
	} else if (!ret) {
		ret = svm_mover_copy(&req, NULL);
	}
	intent_end(m, off, len);
	if (ret) {
		break_mirror(m, ret, "copying an EXTENDED COPY's data to the destination");
		return 0;
	}
	for (uint64_t c = first; c <= last && first != UINT64_MAX; c++)
		__atomic_store_n(&m->done[c], 1, __ATOMIC_RELEASE);
	add(&m->mirrored, 1);
	return 0;
}

int svm_mirror_flush(struct svm_mirror *m)
{
	int ret = svm_store_flush(m->pri), err;

	if (!svm_mirror_error(m)) {
		err = svm_store_flush(m->sec);
		if (err)
			break_mirror(m, err, "a flush of the destination");
	}
	return ret;
}

/*
 * Make the secondary read zeroes over [off, off + len), as the source's
 * hole does there: punched in a file (the destination stays thin), zeroed
 * on a device (it may hold old data); a mirrored write may have put data
 * there before the source's hole was punched. 0, -EOPNOTSUPP, or -errno.
 */
static int hole(struct svm_mirror *m, uint64_t off, uint64_t len)
{
	int ret = -EOPNOTSUPP;

	if (!(svm_store_caps(m->sec) & SVM_STORE_CAP_BLOCKDEV))
		ret = svm_store_discard(m->sec, off, len);
	if (ret == -EOPNOTSUPP)
		ret = svm_store_write_zeroes(m->sec, off, len);
	return ret;
}

/*
 * Which store failed the datamover's copy of [off, off + len) with err (the
 * chunk held exclusive): a datamover's error does not say, and an admin
 * must know whether the source, which serves the LUN, is failing. Errors
 * only a write gets are the destination's; otherwise the source is read
 * again: if it reads, the destination failed.
 */
static const char *blame(struct svm_mirror *m, uint64_t off, uint64_t len, int err)
{
	size_t step = 64u << 10;
	struct iovec iov;
	int ret = 0;

	if (err == -ENOSPC || err == -EDQUOT || err == -EFBIG || err == -EROFS)
		return "a write to the destination";
	iov.iov_base = malloc(step);
	if (!iov.iov_base)
		return "the datamover's copy";
	for (uint64_t at = off; at < off + len && !ret; at += step) {
		iov.iov_len = off + len - at < step ? off + len - at : step;
		ret = svm_store_readv(m->pri, &iov, 1, at, iov.iov_len);
	}
	free(iov.iov_base);
	return ret ? "a read of the source" : "a write to the destination";
}

/* Copy or skip [off, off + len) of the pass, held exclusive. 0 or -errno with *what. */
static int move_chunk(struct svm_mirror *m, uint64_t off, uint64_t len, enum svm_mover_kind kind,
		      uint64_t deadline_ns, const char **what)
{
	struct svm_mover_req req = {.want = kind,
				    .src_fd = svm_store_fd(m->pri),
				    .src_off = off,
				    .dst_fd = svm_store_fd(m->sec),
				    .dst_off = off,
				    .len = len,
				    .deadline_ns = deadline_ns,
				    .io_bytes = SVM_MIGRATE_IO_BYTES};
	struct svm_mover_result res;
	uint64_t end = 0;
	bool mapped = true;
	int ret;

	/* A hole of the source (SEEK_DATA/SEEK_HOLE) needs no copy. */
	if (!svm_store_extent(m->pri, off, &mapped, &end) && !mapped && end >= off + len) {
		ret = hole(m, off, len);
		if (!ret) {
			add(&m->skipped, len);
			return 0;
		}
		if (ret != -EOPNOTSUPP) {
			*what = "deallocating a hole of the destination";
			return ret;
		}
	}
	if (m->via_store) {
		/* bounce is the tier that copies through a buffer; a pinned kernel or reflink
		 * cannot */
		if (kind == SVM_MOVER_KERNEL || kind == SVM_MOVER_REFLINK) {
			*what = "the datamover's copy (a pinned kernel or reflink mover needs two "
				"files)";
			return -EOPNOTSUPP;
		}
		ret = store_copy(m, off, len, deadline_ns, what);
		if (!ret)
			add(&m->copied, len);
		return ret;
	}
	ret = svm_mover_copy(&req, &res);
	for (int k = 0; k < SVM_MOVER_KINDS; k++)
		add(&m->moved[k], res.moved[k]);
	if (!ret)
		add(&m->copied, len);
	else
		*what = blame(m, off, len, ret);
	return ret;
}

/* The next chunk of a region to copy again after a crash; false when none is left. */
static bool next_redo(struct svm_mirror *m, uint64_t *off, uint64_t *len)
{
	uint64_t cursor = ld(&m->cursor);

	for (;;) {
		if (m->redo_off == UINT64_MAX) {
			while (m->redo_at < m->nregions && !m->redo[m->redo_at])
				m->redo_at++;
			if (m->redo_at >= m->nregions)
				return false;
			m->redo_off = m->redo_at * m->region;
		}
		if (m->redo_off < (m->redo_at + 1) * m->region && m->redo_off < cursor &&
		    m->redo_off < m->size) {
			*off = m->redo_off;
			*len = m->size - *off < m->chunk ? m->size - *off : m->chunk;
			m->redo_off += m->chunk;
			return true;
		}
		/* region done: its intent may be cleared at the next checkpoint */
		pthread_mutex_lock(&m->bm_lock);
		m->redo[m->redo_at] = 0;
		pthread_mutex_unlock(&m->bm_lock);
		m->redo_at++;
		m->redo_off = UINT64_MAX;
	}
}

int svm_mirror_step(struct svm_mirror *m, enum svm_mover_kind kind, uint64_t deadline_ns)
{
	const char *what = "the datamover's copy";
	uint64_t off, len, c;
	struct svm_range r;
	bool again;
	int ret = 0;

	if (svm_mirror_error(m))
		return svm_mirror_error(m);
	again = next_redo(m, &off, &len);
	if (!again) {
		off = ld(&m->cursor);
		if (off >= m->size)
			return 1;
		len = m->size - off < m->chunk ? m->size - off : m->chunk;
	}
	c = off / m->chunk;
	svm_range_lock(m->lock, &r, off, len, true);
	if (!again && __atomic_load_n(&m->done[c], __ATOMIC_ACQUIRE)) {
		add(&m->skipped, len); /* a host write covered it whole: it is on both */
		add(&m->overwritten, len);
	} else
		ret = move_chunk(m, off, len, kind, deadline_ns, &what);
	if (!again && (__atomic_load_n(&m->done[c], __ATOMIC_ACQUIRE) || !ret))
		__atomic_store_n(&m->cursor, off + len, __ATOMIC_RELEASE);
	svm_range_unlock(m->lock, &r);
	if (ret) {
		break_mirror(m, ret, what);
		return ret;
	}
	return 0;
}

int svm_mirror_checkpoint(struct svm_mirror *m)
{
	uint64_t cursor = ld(&m->cursor);
	int ret;

	if (svm_mirror_error(m))
		return svm_mirror_error(m);
	/* what the cursor says is copied, and every mirrored write done so far, is durable */
	ret = svm_store_flush(m->sec);
	if (ret) {
		break_mirror(m, ret, "a flush of the destination");
		return ret;
	}
	if (!m->rec)
		return 0;
	pthread_mutex_lock(&m->bm_lock);
	for (uint32_t r = 0; r < m->nregions && !ret; r++) {
		if (!m->dirty[r] || m->flying[r] || m->redo[r])
			continue;
		ret = svm_migrec_mark(m->rec, r, false);
		if (!ret)
			m->dirty[r] = 0;
	}
	pthread_mutex_unlock(&m->bm_lock);
	if (!ret)
		ret = svm_migrec_update(m->rec, SVM_MIGREC_COPYING, cursor);
	return ret;
}

void svm_mirror_get_stats(const struct svm_mirror *m, struct svm_mirror_stats *out)
{
	out->writes = ld(&m->writes);
	out->mirrored_writes = ld(&m->mirrored);
	out->bytes_copied = ld(&m->copied);
	out->bytes_skipped = ld(&m->skipped);
	out->bytes_overwritten = ld(&m->overwritten);
	for (int k = 0; k < SVM_MOVER_KINDS; k++)
		out->moved[k] = ld(&m->moved[k]);
	out->cursor = ld(&m->cursor);
}
