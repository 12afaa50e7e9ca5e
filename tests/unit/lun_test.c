/* SPDX-License-Identifier: Apache-2.0 */
/*
 * handler/lun.c: the block sizes a LUN takes, when a deallocation is flushed,
 * and read-modify-writes atomic against every write.
 */
#define _GNU_SOURCE
#include "test.h"
#include "../../handler/cfg.h"
#include "../../handler/limits.h"
#include "../../handler/lun.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static int fixed_serial(void *arg, char *buf, size_t len)
{
	(void)arg;
	snprintf(buf, len, "%s", "lun-test-0001");
	return 0;
}

/* svm_lun_open on test_dir/name; *reason is the caller's to free. */
static int open_lun(const char *name, uint32_t bs, uint64_t nlbas, bool wce, struct svm_lun **out,
		    char **reason)
{
	char path[256];
	struct svm_cfg cfg;
	int ret;

	snprintf(path, sizeof(path), "%s/%s", test_dir, name);
	ret = svm_cfg_parse(path, &cfg, reason);
	if (ret)
		return ret;
	struct svm_lun_params p = {
		.cfg = &cfg,
		.block_size = bs,
		.num_lbas = nlbas,
		.max_xfer_blocks = 128,
		.wce = wce,
		.serial = fixed_serial,
	};
	ret = svm_lun_open(&p, out, reason);
	svm_cfg_free(&cfg);
	return ret;
}

/*
 * hw_block_size outside SVM_BLOCK_SIZE_MIN..SVM_BLOCK_SIZE_MAX, or not a
 * power of two, is refused before the store is touched, with a reason that
 * names the attribute to change.
 */
static void block_sizes(void)
{
	static const uint32_t bad[] = {2u << 20, 2 * SVM_BLOCK_SIZE_MAX, SVM_BLOCK_SIZE_MIN / 2,
				       4096 + 512, 0};
	static const uint32_t good[] = {SVM_BLOCK_SIZE_MIN, 4096, SVM_BLOCK_SIZE_MAX};
	char path[256], *reason = NULL;
	struct svm_lun *lun;

	snprintf(path, sizeof(path), "%s/lun-bs.img", test_dir);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = open_lun("lun-bs.img", bad[i], 16, true, &lun, &reason);

		CHECK_EQ(ret, -EINVAL);
		CHECK(reason && strstr(reason, "hw_block_size"));
		free(reason);
		reason = NULL;
		if (!ret)
			svm_lun_close(lun);
		CHECK(access(path, F_OK) != 0); /* no store was created */
		unlink(path);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CHECK_EQ(open_lun("lun-bs.img", good[i], 16, true, &lun, NULL), 0);
		svm_lun_close(lun);
		unlink(path);
	}
}

/* SBC-4 6.5.5: with WCE 0 a deallocation is on the medium at GOOD; with WCE 1 it may wait. */
static void discard_flush(void)
{
	struct svm_lun *lun;
	char path[256];
	uint64_t n;

	snprintf(path, sizeof(path), "%s/lun-flush.img", test_dir);
	CHECK_EQ(open_lun("lun-flush.img", 512, 1024, false, &lun, NULL), 0);
	n = svm_lun_flushes(lun);
	CHECK_EQ(svm_lun_discard(lun, 4096, 8192), 0);
	CHECK_EQ(svm_lun_flushes(lun), n + 1);
	/* write-back from here: discards wait for SYNCHRONIZE CACHE */
	CHECK_EQ(svm_lun_set_wce(lun, true, NULL), 0);
	n = svm_lun_flushes(lun);
	CHECK_EQ(svm_lun_discard(lun, 4096, 8192), 0);
	CHECK_EQ(svm_lun_flushes(lun), n);
	CHECK_EQ(svm_lun_flush(lun), 0);
	CHECK_EQ(svm_lun_flushes(lun), n + 1);
	svm_lun_close(lun);
	unlink(path);
}

/* A read-modify-write that holds its range until the test lets it go. */
struct rmw_gate {
	pthread_mutex_t m;
	pthread_cond_t c;
	bool inside, release;
};

static int gated_rmw(uint8_t *data, size_t len, void *arg)
{
	struct rmw_gate *g = arg;

	pthread_mutex_lock(&g->m);
	g->inside = true;
	pthread_cond_broadcast(&g->c);
	while (!g->release)
		pthread_cond_wait(&g->c, &g->m);
	pthread_mutex_unlock(&g->m);
	memset(data, 0xAA, len);
	return 0;
}

struct rmw_call {
	struct svm_lun *lun;
	struct rmw_gate *gate;
	uint64_t off;
	size_t len;
	int ret;
	volatile bool done;
};

static void *run_rmw(void *arg)
{
	struct rmw_call *c = arg;

	c->ret = svm_lun_rmw(c->lun, c->off, c->len, false, gated_rmw, c->gate);
	c->done = true;
	return NULL;
}

static void *run_write(void *arg)
{
	struct rmw_call *c = arg;
	uint8_t buf[512];
	struct iovec v = {buf, sizeof(buf)};

	memset(buf, 0x55, sizeof(buf));
	c->ret = svm_lun_write(c->lun, &v, 1, c->off, sizeof(buf), false);
	c->done = true;
	return NULL;
}

/*
 * svm_lun_rmw (COMPARE AND WRITE, ORWRITE) is atomic against every write
 * path: while one holds blocks 8..15, a write to them waits (on a worker)
 * or is turned away (on the command thread, svm_lun_write_nowait), and a
 * write elsewhere goes through; the waiting write lands after the rmw.
 */
static void rmw_atomic(void)
{
	struct rmw_gate gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false};
	struct rmw_call rmw = {.gate = &gate, .off = 8 * 512, .len = 8 * 512};
	struct rmw_call wr = {.off = 10 * 512};
	uint8_t buf[512], back[16 * 512];
	struct iovec v = {buf, sizeof(buf)}, b = {back, sizeof(back)};
	char *reason = NULL, path[256];
	struct svm_lun *lun;
	pthread_t t1, t2;

	CHECK_EQ(open_lun("lun-rmw.img", 512, 64, true, &lun, &reason), 0);
	free(reason);
	if (!lun)
		return;
	rmw.lun = wr.lun = lun;
	CHECK_EQ(pthread_create(&t1, NULL, run_rmw, &rmw), 0);
	pthread_mutex_lock(&gate.m);
	while (!gate.inside)
		pthread_cond_wait(&gate.c, &gate.m);
	pthread_mutex_unlock(&gate.m);

	memset(buf, 0x11, sizeof(buf));
	CHECK_EQ(svm_lun_write_nowait(lun, &v, 1, 15 * 512, 512, false), -EAGAIN);
	CHECK_EQ(svm_lun_write_nowait(lun, &v, 1, 16 * 512, 512, false), 0); /* adjacent */
	CHECK_EQ(svm_lun_write(lun, &v, 1, 0, 512, false), 0);
	CHECK_EQ(pthread_create(&t2, NULL, run_write, &wr), 0);
	usleep(100000);
	CHECK(!wr.done); /* waits for the rmw */
	pthread_mutex_lock(&gate.m);
	gate.release = true;
	pthread_cond_broadcast(&gate.c);
	pthread_mutex_unlock(&gate.m);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	CHECK_EQ(rmw.ret, 0);
	CHECK_EQ(wr.ret, 0);
	/* block 10 holds the write that waited, the rest of 8..15 the rmw's 0xAA */
	CHECK_EQ(svm_lun_read(lun, &b, 1, 0, sizeof(back)), 0);
	CHECK(back[0] == 0x11 && back[8 * 512] == 0xAA && back[10 * 512] == 0x55 &&
	      back[11 * 512] == 0xAA && back[15 * 512 + 511] == 0xAA);
	svm_lun_close(lun);
	snprintf(path, sizeof(path), "%s/lun-rmw.img", test_dir);
	unlink(path);
}

struct set_mirror_arg {
	struct svm_lun *lun;
	struct svm_mirror *m;
	bool returned; /* atomic */
};

static void *run_set_mirror(void *arg)
{
	struct set_mirror_arg *a = arg;

	svm_lun_set_mirror(a->lun, a->m);
	__atomic_store_n(&a->returned, true, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * svm_lun_async_begin/end (an io_uring write in flight): it holds its range
 * like any write, so a read-modify-write of those bytes cannot start, and a
 * mirror cannot be attached (a migration start) until it ends; it is refused
 * while a range is held exclusive or a mirror is attached. A read or a flush
 * takes no range.
 */
static void async_accounting(void)
{
	struct svm_lun_async a = {.kind = SVM_LUN_ASYNC_WRITE}, r = {.kind = SVM_LUN_ASYNC_READ};
	struct set_mirror_arg sm;
	struct svm_lun_hold h;
	struct svm_lun *lun;
	char *reason = NULL, path[256];
	uint64_t reads, waited, reads0;
	pthread_t t;
	int fd;

	CHECK_EQ(open_lun("lun-async.img", 512, 64, false, &lun, &reason), 0);
	free(reason);
	if (!lun)
		return;
	svm_lun_io_stats(lun, &reads0, &waited);
	fd = svm_lun_async_begin(lun, &a, 4096, 4096, false);
	CHECK(fd >= 0);
	CHECK(a.sync); /* write cache off: every write stable */
	/* a second write of the same bytes shares the range; a read takes none */
	struct svm_lun_async b = {.kind = SVM_LUN_ASYNC_WRITE};
	CHECK(svm_lun_async_begin(lun, &b, 4096, 512, true) >= 0);
	svm_lun_async_end(lun, &b, 0);
	CHECK(svm_lun_async_begin(lun, &r, 4096, 4096, false) >= 0);
	svm_lun_async_end(lun, &r, 0);
	svm_lun_io_stats(lun, &reads, &waited);
	CHECK_EQ(reads, reads0 + 1);

	/* a mirror's attach (a migration starting) waits for the write in flight */
	sm = (struct set_mirror_arg){.lun = lun, .m = NULL};
	CHECK_EQ(pthread_create(&t, NULL, run_set_mirror, &sm), 0);
	usleep(50000);
	CHECK(!__atomic_load_n(&sm.returned, __ATOMIC_ACQUIRE));
	svm_lun_async_end(lun, &a, 0);
	pthread_join(t, NULL);
	CHECK(__atomic_load_n(&sm.returned, __ATOMIC_ACQUIRE));

	/* refused, without waiting, while a range is held exclusive (a COMPARE AND WRITE) */
	svm_lun_hold(lun, &h, 0, 8192);
	a = (struct svm_lun_async){.kind = SVM_LUN_ASYNC_WRITE};
	CHECK_EQ(svm_lun_async_begin(lun, &a, 4096, 512, false), -EAGAIN);
	CHECK(svm_lun_async_begin(lun, &a, 8192, 512, false) >= 0); /* other bytes: fine */
	svm_lun_async_end(lun, &a, 0);
	svm_lun_release(lun, &h);
	/*
	 * and while a mirror is attached (never used here: a placeholder that
	 * no write reaches, since every write is refused)
	 */
	svm_lun_set_mirror(lun, (struct svm_mirror *)&h);
	a = (struct svm_lun_async){.kind = SVM_LUN_ASYNC_WRITE};
	CHECK_EQ(svm_lun_async_begin(lun, &a, 0, 512, false), -EAGAIN);
	svm_lun_set_mirror(lun, NULL);
	CHECK(svm_lun_async_begin(lun, &a, 0, 512, false) >= 0);
	svm_lun_async_end(lun, &a, 0);
	/* the write cache on, no FUA: not stable */
	CHECK_EQ(svm_lun_set_wce(lun, true, &reason), 0);
	a = (struct svm_lun_async){.kind = SVM_LUN_ASYNC_WRITE};
	CHECK(svm_lun_async_begin(lun, &a, 0, 512, false) >= 0);
	CHECK(!a.sync);
	svm_lun_async_end(lun, &a, 0);
	svm_lun_close(lun);
	snprintf(path, sizeof(path), "%s/lun-async.img", test_dir);
	unlink(path);
}

/*
 * svm_lun_write_same and svm_lun_compare_and_write on a file store: the
 * store has no such call, so both answer -EOPNOTSUPP with nothing written
 * and no flush, for the SCSI layer to take its generic paths; the LUN's
 * write cache stays as configured (a file is no store with stable writes).
 */
static void store_ops_unsupported(void)
{
	uint8_t blk[512], cmp[512], back[512];
	struct iovec v = {back, sizeof(back)};
	struct svm_lun_geom g;
	struct svm_lun *lun;
	uint64_t mismatch = 0, n;
	char path[256];

	snprintf(path, sizeof(path), "%s/lun-ops.img", test_dir);
	CHECK_EQ(open_lun("lun-ops.img", 512, 1024, false, &lun, NULL), 0);
	svm_lun_get_geom(lun, &g);
	CHECK(!g.wce);
	CHECK_EQ(svm_lun_set_wce(lun, true, NULL), 0);
	svm_lun_get_geom(lun, &g);
	CHECK(g.wce);
	CHECK_EQ(svm_lun_set_wce(lun, false, NULL), 0);
	memset(blk, 0xC3, sizeof(blk));
	memset(cmp, 0, sizeof(cmp));
	n = svm_lun_flushes(lun);
	CHECK_EQ(svm_lun_write_same(lun, 0, 64 * 512, blk, sizeof(blk)), -EOPNOTSUPP);
	CHECK_EQ(svm_lun_compare_and_write(lun, 512, 512, cmp, blk, true, &mismatch), -EOPNOTSUPP);
	CHECK_EQ(svm_lun_flushes(lun), n); /* nothing written, nothing to flush */
	CHECK_EQ(svm_lun_read(lun, &v, 1, 512, sizeof(back)), 0);
	CHECK(back[0] == 0 && !memcmp(back, back + 1, sizeof(back) - 1));
	svm_lun_close(lun);
	unlink(path);
}

void lun_test(void)
{
	test_log_capture();
	block_sizes();
	discard_flush();
	rmw_atomic();
	async_accounting();
	store_ops_unsupported();
	test_log_restore();
}
