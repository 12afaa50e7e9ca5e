/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "lun.h"
#include "limits.h"
#include "mirror.h"
#include "rangelock.h"
#include "../xcopy/xcopy.h"
#include "state.h"
#include "store.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

struct svm_lun {
	/*
	 * The primary store: serves reads, takes every write. Atomic: a
	 * switchover (svm_lun_switch) replaces it while reads run. Readers
	 * count themselves in readers[epoch & 1] around their use of it, so
	 * that the old one is closed only once no read uses it.
	 */
	struct svm_store *src;
	struct svm_store *retired; /* the primary before the last switchover, until closed */
	unsigned epoch;		   /* atomic */
	uint64_t readers[2];	   /* atomic */
	/* the migration's mirror device; read under wlock, changed with every write drained */
	struct svm_mirror *mirror;
	uint64_t reads, waited; /* atomic: reads served, writes that waited for the range lock */
	char *dst_path;	       /* recorded destination; not opened until a migration */
	uint32_t block_size, max_xfer_blocks;
	bool lbpu, lbprz;
	uint8_t lbppbe;
	uint64_t num_lbas; /* atomic: grows under svm_lun_grow */
	bool wce;	   /* atomic: toggled by svm_lun_set_wce */
	bool direct;	   /* cfgstring direct=: stores opened for direct reads */
	pthread_mutex_t grow_lock;
	struct svm_rangelock wlock; /* every write: shared; svm_lun_rmw: exclusive */
	int mover;		    /* atomic: enum svm_mover_kind for copies */
	unsigned last_movers;	    /* atomic: movers the last copy used (a bit each), and mover= */
	struct svm_xcopy_state *xcopy;
	uint64_t moved[SVM_MOVER_KINDS]; /* atomic: bytes each mover moved for this LUN */

	svm_serial_fn serial_fn;
	void *serial_arg;
	bool identified; /* atomic: a serial has been seen */
	pthread_mutex_t serial_lock;
	char serial[SVM_SERIAL_MAX + 1]; /* the last one seen, under serial_lock */

	uint32_t sanitize; /* atomic: SANITIZE state (svm_lun_sanitize_get) */
	bool swp;	   /* atomic: software write protect (svm_lun_swp) */
	pthread_mutex_t bg_lock;
	pthread_t bg;	   /* svm_lun_background's thread, under bg_lock */
	bool bg_started;   /* bg is to be joined, under bg_lock */
	bool closing;	   /* atomic: svm_lun_close is waiting for bg */
};

/* LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT for a physical block of pbs bytes (0: unknown) */
static uint8_t phys_exponent(uint32_t block_size, uint32_t pbs)
{
	uint8_t e = 0;

	while (pbs > block_size && e < 15) {
		pbs >>= 1;
		e++;
	}
	return e;
}

int svm_lun_open(const struct svm_lun_params *p, struct svm_lun **out, char **reason)
{
	struct svm_store_open_args sa = {.create = p->cfg->create,
					 .direct = p->cfg->direct,
					 .rbd_conf = p->cfg->conf,
					 .rbd_id = p->cfg->id};
	struct svm_lun *lun;
	unsigned caps;
	int ret;

	if (p->block_size < SVM_BLOCK_SIZE_MIN || p->block_size > SVM_BLOCK_SIZE_MAX ||
	    (p->block_size & (p->block_size - 1)))
		return svm_reason(reason, -EINVAL,
				  "unsupported block size %u (hw_block_size must be a power of two "
				  "from %d to %d)",
				  p->block_size, SVM_BLOCK_SIZE_MIN, SVM_BLOCK_SIZE_MAX);
	if (!p->num_lbas || p->num_lbas > UINT64_MAX / p->block_size)
		return svm_reason(reason, -EINVAL, "unsupported LUN size of %llu blocks",
				  (unsigned long long)p->num_lbas);
	lun = calloc(1, sizeof(*lun));
	if (!lun)
		return svm_reason(reason, -ENOMEM, "out of memory");
	pthread_mutex_init(&lun->grow_lock, NULL);
	svm_rangelock_init(&lun->wlock);
	pthread_mutex_init(&lun->serial_lock, NULL);
	pthread_mutex_init(&lun->bg_lock, NULL);

	lun->xcopy = svm_xcopy_state_create();
	if (!lun->xcopy) {
		ret = svm_reason(reason, -ENOMEM, "out of memory");
		goto free_lun;
	}
	sa.min_bytes = p->num_lbas * p->block_size;
	lun->direct = sa.direct;
	ret = svm_store_open(p->cfg->src, &sa, &lun->src, reason);
	if (ret)
		goto free_lun;
	caps = svm_store_caps(lun->src);
	/* a file that goes missing later is told from a new one (an image cannot vanish so) */
	if (!(caps & SVM_STORE_CAP_BLOCKDEV) && !svm_store_is_rbd(p->cfg->src)) {
		int err = svm_state_store_record(p->cfg->src);

		if (err)
			svm_log(SVM_LOG_WARN, "cannot record store %s in the state directory: %s",
				p->cfg->src, strerror(-err));
	}
	if (p->cfg->dst) {
		lun->dst_path = strdup(p->cfg->dst);
		if (!lun->dst_path) {
			ret = svm_reason(reason, -ENOMEM, "out of memory");
			goto close_src;
		}
	}
	lun->block_size = p->block_size;
	lun->num_lbas = p->num_lbas;
	lun->max_xfer_blocks = p->max_xfer_blocks;
	lun->wce = p->wce;
	if (p->wce && (caps & SVM_STORE_CAP_STABLE_WRITES)) {
		/* nothing volatile to report: every write the store returns is stable */
		lun->wce = false;
		svm_log(SVM_LOG_INFO,
			"LUN on %s: write cache off: its store caches no write (an RBD store: "
			"librbd does not cache, its open line says why)",
			p->cfg->src);
	}
	lun->lbpu = caps & SVM_STORE_CAP_DISCARD;
	lun->lbprz = caps & SVM_STORE_CAP_DISCARD_ZEROES;
	lun->lbppbe = phys_exponent(p->block_size, svm_store_phys_block_size(lun->src));
	lun->serial_fn = p->serial;
	lun->serial_arg = p->serial_arg;
	*out = lun;
	return 0;

close_src:
	svm_store_close(lun->src);
free_lun:
	if (lun->xcopy)
		svm_xcopy_state_destroy(lun->xcopy);
	pthread_mutex_destroy(&lun->bg_lock);
	pthread_mutex_destroy(&lun->serial_lock);
	pthread_mutex_destroy(&lun->grow_lock);
	svm_rangelock_destroy(&lun->wlock);
	free(lun);
	return ret;
}

void svm_lun_close(struct svm_lun *lun)
{
	if (!lun)
		return;
	__atomic_store_n(&lun->closing, true, __ATOMIC_RELEASE);
	if (lun->bg_started)
		pthread_join(lun->bg, NULL);
	pthread_mutex_destroy(&lun->bg_lock);
	svm_store_close(lun->src);
	svm_store_close(lun->retired);
	svm_xcopy_state_destroy(lun->xcopy);
	pthread_mutex_destroy(&lun->serial_lock);
	pthread_mutex_destroy(&lun->grow_lock);
	svm_rangelock_destroy(&lun->wlock);
	free(lun->dst_path);
	free(lun);
}

void svm_lun_get_geom(const struct svm_lun *lun, struct svm_lun_geom *out)
{
	*out = (struct svm_lun_geom){
		.block_size = lun->block_size,
		.num_lbas = __atomic_load_n(&lun->num_lbas, __ATOMIC_ACQUIRE),
		.max_xfer_blocks = lun->max_xfer_blocks,
		.wce = __atomic_load_n(&lun->wce, __ATOMIC_ACQUIRE),
		.lbpu = lun->lbpu,
		.lbprz = lun->lbprz,
		.lbppbe = lun->lbppbe,
		.copy = svm_store_fd(__atomic_load_n(&lun->src, __ATOMIC_ACQUIRE)) >= 0,
	};
}

const char *svm_lun_source(const struct svm_lun *lun)
{
	return svm_store_path(lun->src);
}

bool svm_lun_direct(const struct svm_lun *lun)
{
	return lun->direct;
}

int svm_lun_serial(struct svm_lun *lun, char *buf, size_t len)
{
	char now[SVM_SERIAL_MAX + 1];
	int ret = lun->serial_fn ? lun->serial_fn(lun->serial_arg, now, sizeof(now)) : -ENODATA;

	pthread_mutex_lock(&lun->serial_lock);
	if (!ret && now[0]) {
		/* LIO refuses a new serial while the LUN is exported: a change is rare */
		if (strcmp(now, lun->serial) && lun->serial[0])
			svm_log(SVM_LOG_WARN, "LUN on %s: unit serial changed from '%s' to '%s'",
				svm_store_path(lun->src), lun->serial, now);
		if (!lun->serial[0])
			svm_log(SVM_LOG_INFO, "LUN on %s has unit serial %s",
				svm_store_path(lun->src), now);
		memcpy(lun->serial, now, sizeof(now));
		__atomic_store_n(&lun->identified, true, __ATOMIC_RELEASE);
	}
	ret = lun->serial[0] ? 0 : -ENODATA;
	snprintf(buf, len, "%s", lun->serial);
	pthread_mutex_unlock(&lun->serial_lock);
	return ret;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

void svm_naa_from_serial(const char *serial, uint8_t naa[SVM_NAA_LEN])
{
	static const uint8_t prefix[] = {6, 0, 0, 1, 4, 0, 5}; /* NAA 6, OUI 00-14-05 */
	uint8_t nib[2 * SVM_NAA_LEN] = {0};
	size_t k = sizeof(prefix);

	memcpy(nib, prefix, sizeof(prefix));
	for (const char *p = serial; *p && k < sizeof(nib); p++)
		if (hexval(*p) >= 0)
			nib[k++] = hexval(*p);
	for (int i = 0; i < SVM_NAA_LEN; i++)
		naa[i] = nib[2 * i] << 4 | nib[2 * i + 1];
}

int svm_lun_naa(struct svm_lun *lun, uint8_t naa[SVM_NAA_LEN])
{
	char serial[SVM_SERIAL_MAX + 1];

	if (!svm_lun_identified(lun))
		return -ENODATA;
	pthread_mutex_lock(&lun->serial_lock);
	memcpy(serial, lun->serial, sizeof(serial));
	pthread_mutex_unlock(&lun->serial_lock);
	svm_naa_from_serial(serial, naa);
	return 0;
}

bool svm_lun_identified(struct svm_lun *lun)
{
	char buf[SVM_SERIAL_MAX + 1];

	if (__atomic_load_n(&lun->identified, __ATOMIC_ACQUIRE))
		return true;
	return svm_lun_serial(lun, buf, sizeof(buf)) == 0;
}

int svm_lun_set_wce(struct svm_lun *lun, bool wce, char **reason)
{
	int ret;

	/* a store that caches nothing has no cache to report (svm_lun_open) */
	if (svm_store_caps(__atomic_load_n(&lun->src, __ATOMIC_ACQUIRE)) &
	    SVM_STORE_CAP_STABLE_WRITES)
		wce = false;
	/* Off: new writes go through first, then what the cache holds is written out. */
	__atomic_store_n(&lun->wce, wce, __ATOMIC_RELEASE);
	if (wce)
		return 0;
	ret = svm_store_flush(lun->src);
	if (ret)
		return svm_reason(reason, ret, "cannot write out the cache of store %s: %s",
				  svm_store_path(lun->src), strerror(-ret));
	return 0;
}

int svm_lun_grow(struct svm_lun *lun, uint64_t num_lbas, char **reason)
{
	uint64_t cur;
	int ret;

	pthread_mutex_lock(&lun->grow_lock);
	cur = __atomic_load_n(&lun->num_lbas, __ATOMIC_ACQUIRE);
	if (num_lbas < cur) {
		ret = svm_reason(reason, -EINVAL,
				 "refusing to shrink the LUN from %llu to %llu blocks: it would cut "
				 "off data",
				 (unsigned long long)cur, (unsigned long long)num_lbas);
	} else if (num_lbas > UINT64_MAX / lun->block_size) {
		ret = svm_reason(reason, -EINVAL, "unsupported LUN size of %llu blocks",
				 (unsigned long long)num_lbas);
	} else {
		struct svm_range r;

		/*
		 * Not during a migration: the mirror and its record cover the
		 * size the migration started with, and the pass would never copy
		 * the new blocks. Writes drained, so no mirror comes or goes.
		 */
		svm_range_lock(&lun->wlock, &r, 0, UINT64_MAX, true);
		if (lun->mirror)
			ret = svm_reason(reason, -EBUSY,
					 "the LUN is being migrated: resize it after the migration "
					 "(or svmctl abort)");
		else
			ret = svm_store_grow(lun->src, num_lbas * lun->block_size, reason);
		if (!ret)
			__atomic_store_n(&lun->num_lbas, num_lbas, __ATOMIC_RELEASE);
		svm_range_unlock(&lun->wlock, &r);
	}
	pthread_mutex_unlock(&lun->grow_lock);
	return ret;
}

/* The primary store for a read, counted until put_primary (see struct svm_lun). */
static struct svm_store *get_primary(struct svm_lun *lun, unsigned *e)
{
	*e = __atomic_load_n(&lun->epoch, __ATOMIC_SEQ_CST) & 1;
	__atomic_add_fetch(&lun->readers[*e], 1, __ATOMIC_SEQ_CST);
	return __atomic_load_n(&lun->src, __ATOMIC_SEQ_CST);
}

static void put_primary(struct svm_lun *lun, unsigned e)
{
	__atomic_sub_fetch(&lun->readers[e], 1, __ATOMIC_RELEASE);
}

int svm_lun_read(struct svm_lun *lun, const struct iovec *iov, size_t cnt, uint64_t off,
		 size_t len)
{
	unsigned e;
	int ret = svm_store_readv(get_primary(lun, &e), iov, cnt, off, len);

	put_primary(lun, e);
	__atomic_add_fetch(&lun->reads, 1, __ATOMIC_RELAXED);
	return ret;
}

int svm_lun_read_cached(struct svm_lun *lun, const struct iovec *iov, size_t cnt, uint64_t off,
			size_t len)
{
	unsigned e;
	int ret = svm_store_readv_cached(get_primary(lun, &e), iov, cnt, off, len);

	put_primary(lun, e);
	if (!ret)
		__atomic_add_fetch(&lun->reads, 1, __ATOMIC_RELAXED);
	return ret;
}

static bool write_through(const struct svm_lun *lun)
{
	return !__atomic_load_n(&lun->wce, __ATOMIC_ACQUIRE);
}

/*
 * A write with its range held: to the mirror device while a migration runs
 * (mirror.h decides which stores), else to the primary. With no volatile
 * cache reported every write is stable.
 */
static int put(struct svm_lun *lun, const struct iovec *iov, size_t cnt, uint64_t off,
	       size_t len, bool fua)
{
	bool sync = fua || write_through(lun);

	return lun->mirror ? svm_mirror_writev(lun->mirror, iov, cnt, off, len, sync)
			   : svm_store_writev(lun->src, iov, cnt, off, len, sync);
}

/*
 * A deallocation (zero false) or zeroing with its range held, as put(). A
 * store that cannot deallocate (a migration's destination may not) writes
 * zeroes instead: the LUN still reads zeroes there, as it promised.
 */
static int unmap(struct svm_lun *lun, uint64_t off, uint64_t len, bool zero)
{
	int ret;

	if (lun->mirror)
		return svm_mirror_discard(lun->mirror, off, len, zero);
	ret = zero ? svm_store_write_zeroes(lun->src, off, len)
		   : svm_store_discard(lun->src, off, len);
	if (ret == -EOPNOTSUPP && !zero)
		ret = svm_store_write_zeroes(lun->src, off, len);
	return ret;
}

/* Hold [off, off + len) shared for a write, counting a write that had to wait. */
static void hold_shared(struct svm_lun *lun, struct svm_range *r, uint64_t off, uint64_t len)
{
	if (svm_range_trylock(&lun->wlock, r, off, len, false))
		return;
	__atomic_add_fetch(&lun->waited, 1, __ATOMIC_RELAXED);
	svm_range_lock(&lun->wlock, r, off, len, false);
}

int svm_lun_write(struct svm_lun *lun, const struct iovec *iov, size_t cnt, uint64_t off,
		  size_t len, bool fua)
{
	struct svm_range r;
	int ret;

	hold_shared(lun, &r, off, len);
	ret = put(lun, iov, cnt, off, len, fua);
	svm_range_unlock(&lun->wlock, &r);
	return ret;
}

int svm_lun_write_nowait(struct svm_lun *lun, const struct iovec *iov, size_t cnt, uint64_t off,
			 size_t len, bool fua)
{
	struct svm_range r;
	int ret;

	/* a store whose every write waits (RBD: the network) never writes on the command thread */
	if (!(svm_store_caps(__atomic_load_n(&lun->src, __ATOMIC_ACQUIRE)) & SVM_STORE_CAP_INLINE))
		return -EAGAIN;
	if (!svm_range_trylock(&lun->wlock, &r, off, len, false))
		return -EAGAIN;
	ret = put(lun, iov, cnt, off, len, fua);
	svm_range_unlock(&lun->wlock, &r);
	return ret;
}

int svm_lun_rmw(struct svm_lun *lun, uint64_t off, size_t len, bool fua, svm_lun_rmw_fn fn,
		void *arg)
{
	struct iovec v = {.iov_len = len};
	struct svm_range r;
	int ret;

	v.iov_base = malloc(len ? len : 1);
	if (!v.iov_base)
		return -ENOMEM;
	svm_range_lock(&lun->wlock, &r, off, len, true);
	ret = svm_store_readv(lun->src, &v, 1, off, len);
	if (!ret)
		ret = fn(v.iov_base, len, arg);
	if (!ret)
		ret = put(lun, &v, 1, off, len, fua);
	else if (ret > 0)
		ret = 0; /* fn chose not to write */
	svm_range_unlock(&lun->wlock, &r);
	free(v.iov_base);
	return ret;
}

int svm_lun_flush(struct svm_lun *lun)
{
	unsigned e;
	int ret = svm_store_flush(get_primary(lun, &e));

	put_primary(lun, e);
	return ret;
}

uint64_t svm_lun_flushes(const struct svm_lun *lun)
{
	return svm_store_flushes(__atomic_load_n(&lun->src, __ATOMIC_ACQUIRE));
}

int svm_lun_discard(struct svm_lun *lun, uint64_t off, uint64_t len)
{
	struct svm_range r;
	int ret;

	hold_shared(lun, &r, off, len);
	ret = unmap(lun, off, len, false);
	svm_range_unlock(&lun->wlock, &r);

	/*
	 * Like a write (SBC-4 6.5.5, WCE 0: GOOD only once the medium holds it):
	 * with no volatile cache reported, the deallocation is stable at GOOD.
	 */
	if (!ret && write_through(lun))
		ret = svm_store_flush(lun->src);
	return ret;
}

int svm_lun_write_zeroes(struct svm_lun *lun, uint64_t off, uint64_t len)
{
	struct svm_range r;
	int ret;

	hold_shared(lun, &r, off, len);
	ret = unmap(lun, off, len, true);
	svm_range_unlock(&lun->wlock, &r);

	if (!ret && write_through(lun))
		ret = svm_store_flush(lun->src);
	return ret;
}

int svm_lun_write_same(struct svm_lun *lun, uint64_t off, uint64_t len, const void *block,
		       size_t block_len)
{
	struct svm_range r;
	int ret;

	hold_shared(lun, &r, off, len);
	/* a migration's mirror writes both stores block by block: the generic path */
	ret =
	    lun->mirror ? -EOPNOTSUPP : svm_store_write_same(lun->src, off, len, block, block_len);
	svm_range_unlock(&lun->wlock, &r);

	if (!ret && write_through(lun))
		ret = svm_store_flush(lun->src);
	return ret;
}

int svm_lun_compare_and_write(struct svm_lun *lun, uint64_t off, uint64_t len, const void *cmp,
			      const void *buf, bool fua, uint64_t *mismatch)
{
	struct svm_range r;
	int ret;

	/* exclusive: ordered against this LUN's own writes, as svm_lun_rmw */
	svm_range_lock(&lun->wlock, &r, off, len, true);
	ret = lun->mirror ? -EOPNOTSUPP
			  : svm_store_compare_and_write(lun->src, off, len, cmp, buf, mismatch);
	if (!ret && (fua || write_through(lun)))
		ret = svm_store_flush(lun->src);
	svm_range_unlock(&lun->wlock, &r);
	return ret;
}

int svm_lun_async_begin(struct svm_lun *lun, struct svm_lun_async *a, uint64_t off, uint64_t len,
			bool fua)
{
	int fd;

	if (a->kind != SVM_LUN_ASYNC_WRITE) {
		a->st = get_primary(lun, &a->epoch);
		fd = svm_store_fd(a->st);
		if (fd < 0 && a->store_ok)
			return -EREMOTE; /* an RBD store: svm_store_aio */
		if (fd < 0) /* an RBD store: no fd for the engine; the blocking calls serve it */
			put_primary(lun, a->epoch);
		return fd < 0 ? -EAGAIN : fd;
	}
	/* faults are injected in store.c's own calls: let the blocking path meet them */
	if (svm_store_fault_write || svm_store_fault_write_hold_us)
		return -EAGAIN;
	if (!svm_range_trylock(&lun->wlock, &a->r, off, len, false))
		return -EAGAIN;
	/* read under the range held: a mirror comes or goes only with every write drained */
	if (lun->mirror) {
		svm_range_unlock(&lun->wlock, &a->r);
		return -EAGAIN;
	}
	a->st = lun->src;
	a->sync = fua || write_through(lun);
	fd = svm_store_fd(a->st);
	if (fd < 0 && a->store_ok)
		return -EREMOTE; /* an RBD store: svm_store_aio */
	if (fd < 0)
		svm_range_unlock(&lun->wlock, &a->r);
	return fd < 0 ? -EAGAIN : fd;
}

void svm_lun_async_end(struct svm_lun *lun, struct svm_lun_async *a, int ret)
{
	(void)ret;
	switch (a->kind) {
	case SVM_LUN_ASYNC_READ:
		put_primary(lun, a->epoch);
		__atomic_add_fetch(&lun->reads, 1, __ATOMIC_RELAXED); /* as svm_lun_read */
		break;
	case SVM_LUN_ASYNC_FLUSH:
		svm_store_count_flush(a->st);
		put_primary(lun, a->epoch);
		break;
	case SVM_LUN_ASYNC_WRITE:
		svm_range_unlock(&lun->wlock, &a->r);
		break;
	}
}

void svm_lun_prefetch(struct svm_lun *lun, uint64_t off, uint64_t len)
{
	unsigned e;

	svm_store_prefetch(get_primary(lun, &e), off, len);
	put_primary(lun, e);
}

int svm_lun_extent(struct svm_lun *lun, uint64_t off, bool *mapped, uint64_t *end)
{
	unsigned e;
	int ret = svm_store_extent(get_primary(lun, &e), off, mapped, end);

	put_primary(lun, e);
	return ret;
}

void svm_lun_hold(struct svm_lun *lun, struct svm_lun_hold *h, uint64_t off, uint64_t len)
{
	svm_range_lock(&lun->wlock, &h->r, off, len, true);
}

void svm_lun_release(struct svm_lun *lun, struct svm_lun_hold *h)
{
	svm_range_unlock(&lun->wlock, &h->r);
}

int svm_lun_held_write(struct svm_lun *lun, const struct iovec *iov, size_t cnt, uint64_t off,
		       size_t len, bool fua)
{
	return put(lun, iov, cnt, off, len, fua);
}

int svm_lun_held_discard(struct svm_lun *lun, uint64_t off, uint64_t len)
{
	int ret = unmap(lun, off, len, false);

	if (!ret && write_through(lun))
		ret = svm_store_flush(lun->src);
	return ret;
}

uint32_t svm_lun_sanitize_get(const struct svm_lun *lun)
{
	return __atomic_load_n(&lun->sanitize, __ATOMIC_ACQUIRE);
}

bool svm_lun_sanitize_begin(struct svm_lun *lun)
{
	uint32_t cur = __atomic_load_n(&lun->sanitize, __ATOMIC_ACQUIRE), next;

	do {
		if (cur & SVM_SANITIZE_RUNNING)
			return false;
		/* a failed state stays until this one completes */
		next = (cur & (SVM_SANITIZE_FAILED | SVM_SANITIZE_AUSE)) | SVM_SANITIZE_RUNNING;
	} while (!__atomic_compare_exchange_n(&lun->sanitize, &cur, next, false, __ATOMIC_ACQ_REL,
					      __ATOMIC_ACQUIRE));
	return true;
}

void svm_lun_sanitize_set(struct svm_lun *lun, uint32_t state)
{
	__atomic_store_n(&lun->sanitize, state, __ATOMIC_RELEASE);
}

bool svm_lun_sanitize_swap(struct svm_lun *lun, uint32_t expect, uint32_t next)
{
	return __atomic_compare_exchange_n(&lun->sanitize, &expect, next, false, __ATOMIC_ACQ_REL,
					   __ATOMIC_ACQUIRE);
}

void svm_lun_set_swp(struct svm_lun *lun, bool on)
{
	__atomic_store_n(&lun->swp, on, __ATOMIC_RELEASE);
}

bool svm_lun_swp(const struct svm_lun *lun)
{
	return __atomic_load_n(&lun->swp, __ATOMIC_ACQUIRE);
}

struct bg_start {
	void (*fn)(void *arg);
	void *arg;
};

static void *bg_main(void *p)
{
	struct bg_start b = *(struct bg_start *)p;

	free(p);
	b.fn(b.arg);
	return NULL;
}

int svm_lun_background(struct svm_lun *lun, void (*fn)(void *arg), void *arg)
{
	struct bg_start *b = malloc(sizeof(*b));
	int ret;

	if (!b)
		return -ENOMEM;
	*b = (struct bg_start){.fn = fn, .arg = arg};
	pthread_mutex_lock(&lun->bg_lock);
	if (lun->bg_started) {
		/* the last one has ended its work (one at a time): reap its thread */
		pthread_join(lun->bg, NULL);
		lun->bg_started = false;
	}
	ret = -pthread_create(&lun->bg, NULL, bg_main, b);
	lun->bg_started = !ret;
	pthread_mutex_unlock(&lun->bg_lock);
	if (ret)
		free(b);
	return ret;
}

bool svm_lun_closing(const struct svm_lun *lun)
{
	return __atomic_load_n(&lun->closing, __ATOMIC_ACQUIRE);
}

int svm_lun_copy(struct svm_lun *dst, uint64_t dst_off, struct svm_lun *src, uint64_t src_off,
		 uint64_t len, enum svm_mover_kind kind, uint64_t deadline_ns,
		 struct svm_mover_result *res)
{
	struct svm_mover_req req = {
		.want = kind,
		.src_off = src_off,
		.dst_off = dst_off,
		.len = len,
		.deadline_ns = deadline_ns,
	};
	struct svm_range r;
	unsigned e;
	int ret;

	if (res)
		*res = (struct svm_mover_result){0};
	hold_shared(dst, &r, dst_off, len);
	req.src_fd = svm_store_fd(get_primary(src, &e));
	req.dst_fd = svm_store_fd(dst->src);
	/* the movers copy between fds; an RBD store has none (tpc.c refuses such copies first) */
	ret = req.src_fd < 0 || req.dst_fd < 0 ? -EOPNOTSUPP : svm_mover_copy(&req, res);
	put_primary(src, e);
	/* a LUN under migration: what landed in a copied region goes to its destination too */
	if (!ret && dst->mirror)
		ret = svm_mirror_sync(dst->mirror, dst_off, len, kind);
	svm_range_unlock(&dst->wlock, &r);
	if (!ret && write_through(dst))
		ret = svm_lun_flush(dst);
	return ret;
}

bool svm_lun_can_copy(struct svm_lun *lun)
{
	unsigned e;
	bool can = svm_store_fd(get_primary(lun, &e)) >= 0;

	put_primary(lun, e);
	return can;
}

void svm_lun_set_mover(struct svm_lun *lun, enum svm_mover_kind kind)
{
	__atomic_store_n(&lun->mover, (int)kind, __ATOMIC_RELAXED);
}

enum svm_mover_kind svm_lun_mover(const struct svm_lun *lun)
{
	return (enum svm_mover_kind)__atomic_load_n(&lun->mover, __ATOMIC_RELAXED);
}

bool svm_lun_count_moves(struct svm_lun *lun, const uint64_t moved[SVM_MOVER_KINDS])
{
	unsigned used = 0;

	for (int k = 0; k < SVM_MOVER_KINDS; k++) {
		if (!moved[k])
			continue;
		__atomic_add_fetch(&lun->moved[k], moved[k], __ATOMIC_RELAXED);
		used |= 1u << k;
	}
	/* worth a line when the movers used, or the mover asked for, differ from last time */
	used |= (unsigned)svm_lun_mover(lun) << 8;
	return __atomic_exchange_n(&lun->last_movers, used, __ATOMIC_RELAXED) != used;
}

struct svm_xcopy_state *svm_lun_xcopy(struct svm_lun *lun)
{
	return lun->xcopy;
}

void svm_lun_moves(const struct svm_lun *lun, uint64_t moved[SVM_MOVER_KINDS])
{
	for (int k = 0; k < SVM_MOVER_KINDS; k++)
		moved[k] = __atomic_load_n(&lun->moved[k], __ATOMIC_RELAXED);
}

/* ---- for the migration (migrate.c) -------------------------------------- */

/* Hold the whole LUN exclusive: every write (and read-modify-write) drained. */
static void drain(struct svm_lun *lun, struct svm_range *r)
{
	svm_range_lock(&lun->wlock, r, 0, UINT64_MAX, true);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t svm_lun_set_mirror(struct svm_lun *lun, struct svm_mirror *m)
{
	struct svm_range r;
	uint64_t t0, t1;

	drain(lun, &r);
	t0 = mono_ns();
	lun->mirror = m;
	t1 = mono_ns();
	svm_range_unlock(&lun->wlock, &r);
	return t1 - t0;
}

/* Wait until no read uses the primary it had before the epoch changed. */
static void wait_readers(struct svm_lun *lun)
{
	unsigned old = __atomic_fetch_add(&lun->epoch, 1, __ATOMIC_SEQ_CST) & 1;

	while (__atomic_load_n(&lun->readers[old], __ATOMIC_SEQ_CST))
		usleep(100);
}

int svm_lun_switch(struct svm_lun *lun, struct svm_store *to, int (*inside)(void *arg),
		   void *arg, uint64_t *pause_ns)
{
	struct svm_store *old, *retired;
	struct svm_range r;
	uint64_t t0;
	int ret;

	drain(lun, &r);
	t0 = mono_ns();
	ret = svm_store_flush(to);
	if (!ret && inside)
		ret = inside(arg);
	if (!ret) {
		old = lun->src;
		__atomic_store_n(&lun->src, to, __ATOMIC_SEQ_CST);
		lun->mirror = NULL;
	}
	*pause_ns = mono_ns() - t0;
	svm_range_unlock(&lun->wlock, &r);
	if (ret)
		return ret;
	/* reads that started on the old primary finish before it is put aside */
	wait_readers(lun);
	retired = lun->retired;
	lun->retired = old;
	svm_store_close(retired);
	return 0;
}

struct svm_store *svm_lun_primary(const struct svm_lun *lun)
{
	return __atomic_load_n(&lun->src, __ATOMIC_ACQUIRE);
}

void svm_lun_close_retired(struct svm_lun *lun)
{
	struct svm_store *st = lun->retired;

	lun->retired = NULL;
	svm_store_close(st);
}

struct svm_rangelock *svm_lun_rangelock(struct svm_lun *lun)
{
	return &lun->wlock;
}

void svm_lun_io_stats(const struct svm_lun *lun, uint64_t *reads, uint64_t *waited)
{
	*reads = __atomic_load_n(&lun->reads, __ATOMIC_RELAXED);
	*waited = __atomic_load_n(&lun->waited, __ATOMIC_RELAXED);
}
