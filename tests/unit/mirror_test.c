/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mirror device: which writes go to both stores, the pass (holes,
 * chunks writes covered whole, a hole punched after a mirrored write),
 * writes racing the pass, the write-intent log and copying again after a
 * crash, and a failing destination.
 */
#define _GNU_SOURCE
#include "test.h"
#include "../../handler/limits.h"
#include "../../handler/mirror.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define CH   SVM_MIGRATE_CHUNK_BYTES
#define SIZE (8 * (uint64_t)CH)

static struct svm_store *store(const char *name, bool fresh)
{
	struct svm_store_open_args a = {.min_bytes = SIZE, .create = true};
	struct svm_store *st = NULL;
	char path[256], *reason = NULL;

	snprintf(path, sizeof(path), "%s/%s", test_dir, name);
	if (fresh)
		unlink(path);
	CHECK_EQ(svm_store_open(path, &a, &st, &reason), 0);
	free(reason);
	return st;
}

static void put(struct svm_store *st, uint64_t off, size_t len, uint8_t seed)
{
	uint8_t *b = malloc(len);
	struct iovec v = {b, len};

	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(seed + i * 7 + (i >> 12));
	CHECK_EQ(svm_store_writev(st, &v, 1, off, len, false), 0);
	free(b);
}

static int mwrite(struct svm_mirror *m, struct svm_rangelock *rl, uint64_t off, size_t len,
		  uint8_t seed)
{
	uint8_t *b = malloc(len);
	struct iovec v = {b, len};
	struct svm_range r;
	int ret;

	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(seed + i * 3);
	svm_range_lock(rl, &r, off, len, false);
	ret = svm_mirror_writev(m, &v, 1, off, len, false);
	svm_range_unlock(rl, &r);
	free(b);
	return ret;
}

/* Whether the two stores hold the same bytes over [off, off + len). */
static bool equal(struct svm_store *a, struct svm_store *b, uint64_t off, uint64_t len)
{
	uint8_t *x = malloc(len), *y = malloc(len);
	struct iovec vx = {x, len}, vy = {y, len};
	bool eq = !svm_store_readv(a, &vx, 1, off, len) && !svm_store_readv(b, &vy, 1, off, len) &&
		  !memcmp(x, y, len);

	free(x);
	free(y);
	return eq;
}

static void run_pass(struct svm_mirror *m)
{
	int ret;

	while ((ret = svm_mirror_step(m, SVM_MOVER_AUTO, 0)) == 0)
		;
	CHECK_EQ(ret, 1);
}

struct racer {
	struct svm_mirror *m;
	struct svm_rangelock *rl;
	volatile bool stop;
	unsigned writes, errors;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	unsigned seed = 7;

	while (!r->stop) {
		uint64_t off = (uint64_t)(rand_r(&seed) % (SIZE / 4096)) * 4096;

		r->errors += mwrite(r->m, r->rl, off, 4096, (uint8_t)r->writes) != 0;
		__atomic_add_fetch(&r->writes, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

/*
 * The copy through the store API (what a pair with an RBD store takes),
 * forced between two files: the pass copies and skips as with a datamover,
 * counts under bounce, keeps several writes in flight per chunk, refuses a
 * pinned kernel mover, and says which store failed.
 */
static void store_copy_test(struct svm_rangelock *rl)
{
	struct svm_mirror_params p = {.size = SIZE, .lock = rl, .region = 2 * CH, .nregions = 4};
	struct svm_mirror_stats st;
	struct svm_mirror *m;
	char *reason = NULL;
	struct racer rc = {.rl = rl};
	pthread_t t;

	p.primary = store("sc-src.img", true);
	p.secondary = store("sc-dst.img", true);
	CHECK(!svm_mirror_store_copy(p.primary, p.secondary)); /* two files: a datamover */
	svm_mirror_force_store_copy = true;
	CHECK(svm_mirror_store_copy(p.primary, p.secondary));
	/* chunks 0, 1 and the first half of 5: data; a stale destination over chunk 3 (a hole) */
	put(p.primary, 0, 2 * CH, 11);
	put(p.primary, 5 * CH, CH / 2 + 4096, 12);
	put(p.secondary, 3 * CH, 8192, 99);

	/* a pinned kernel mover cannot copy through the store API */
	CHECK_EQ(svm_mirror_create(&p, &m, &reason), 0);
	CHECK_EQ(svm_mirror_step(m, SVM_MOVER_KERNEL, 0), -EOPNOTSUPP);
	CHECK(svm_mirror_error_what(m) && strstr(svm_mirror_error_what(m), "kernel"));
	svm_mirror_destroy(m);

	/* the first chunk: its four pieces' writes are in flight together */
	CHECK_EQ(svm_mirror_create(&p, &m, &reason), 0);
	svm_store_fault_write_hold_us = 100000;
	svm_store_fault_writes_peak = 0;
	CHECK_EQ(svm_mirror_step(m, SVM_MOVER_AUTO, 0), 0);
	svm_store_fault_write_hold_us = 0;
	CHECK(svm_store_fault_writes_peak >= 2);
	CHECK_EQ(svm_store_fault_writes_peak, CH / SVM_MIGRATE_STORE_PIECE_BYTES);
	CHECK(equal(p.primary, p.secondary, 0, CH));

	/* the rest of the pass with host writes racing it */
	rc.m = m;
	CHECK_EQ(pthread_create(&t, NULL, race, &rc), 0);
	for (int i = 0; i < 1000 && __atomic_load_n(&rc.writes, __ATOMIC_ACQUIRE) < 4; i++)
		usleep(10000);
	run_pass(m);
	rc.stop = true;
	pthread_join(t, NULL);
	CHECK(rc.writes > 0 && rc.errors == 0);
	CHECK(equal(p.primary, p.secondary, 0, SIZE));
	svm_mirror_get_stats(m, &st);
	CHECK_EQ(st.bytes_copied + st.bytes_skipped, SIZE);
	CHECK(st.bytes_copied >= 3 * (uint64_t)CH); /* 0, 1, 5 at least (racing writes add some) */
	CHECK_EQ(st.moved[SVM_MOVER_BOUNCE], st.bytes_copied);
	CHECK_EQ(st.moved[SVM_MOVER_KERNEL] + st.moved[SVM_MOVER_REFLINK], 0);

	/* svm_mirror_sync (an EXTENDED COPY's data) goes through the store API too */
	put(p.primary, 6 * CH + 4096, 3 * SVM_MIGRATE_STORE_PIECE_BYTES, 13);
	CHECK(!equal(p.primary, p.secondary, 6 * CH, CH));
	{
		struct svm_range r;

		svm_range_lock(rl, &r, 6 * CH + 4096, 3 * SVM_MIGRATE_STORE_PIECE_BYTES, false);
		CHECK_EQ(svm_mirror_sync(m, 6 * CH + 4096, 3 * SVM_MIGRATE_STORE_PIECE_BYTES,
					 SVM_MOVER_KERNEL),
			 0);
		svm_range_unlock(rl, &r);
	}
	CHECK(!svm_mirror_error(m));
	CHECK(equal(p.primary, p.secondary, 0, SIZE));
	svm_mirror_destroy(m);

	/* a failing destination: the store path knows it was the write */
	{
		char path[256];
		int ro, fd = svm_store_fd(p.secondary);

		p.cursor = 0;
		CHECK_EQ(svm_mirror_create(&p, &m, &reason), 0);
		snprintf(path, sizeof(path), "%s/sc-dst.img", test_dir);
		ro = open(path, O_RDONLY);
		CHECK(ro >= 0 && dup2(ro, fd) == fd);
		close(ro);
		CHECK(svm_mirror_step(m, SVM_MOVER_AUTO, 0) < 0);
		CHECK(svm_mirror_error_what(m) &&
		      !strcmp(svm_mirror_error_what(m), "a write to the destination"));
		svm_mirror_destroy(m);
	}
	svm_mirror_force_store_copy = false;
	free(reason);
	svm_store_close(p.primary);
	svm_store_close(p.secondary);
}

void mirror_test(void)
{
	struct svm_rangelock rl;
	struct svm_mirror_params p = {.size = SIZE, .lock = &rl, .region = 2 * CH, .nregions = 4};
	struct svm_mirror_stats st;
	struct svm_mirror *m;
	char *reason = NULL;

	svm_rangelock_init(&rl);
	test_log_capture();

	/* chunks 0, 1, 4: data; 2, 3, 5, 6, 7: holes */
	p.primary = store("mir-src.img", true);
	p.secondary = store("mir-dst.img", true);
	put(p.primary, 0, 2 * CH, 1);
	put(p.primary, 4 * CH, CH, 2);
	CHECK_EQ(svm_mirror_create(&p, &m, &reason), 0);

	/* before the pass: a partial write goes to the source only */
	CHECK(!svm_mirror_wants(m, 4 * CH + 512, 512));
	CHECK_EQ(mwrite(m, &rl, 4 * CH + 512, 512, 9), 0);
	CHECK(!equal(p.primary, p.secondary, 4 * CH, CH));
	/* two steps: chunks 0 and 1 copied; writes there go to both */
	CHECK_EQ(svm_mirror_step(m, SVM_MOVER_AUTO, 0), 0);
	CHECK_EQ(svm_mirror_step(m, SVM_MOVER_AUTO, 0), 0);
	CHECK(svm_mirror_wants(m, 4096, 4096) && !svm_mirror_wants(m, 3 * CH, 4096));
	CHECK_EQ(mwrite(m, &rl, 4096, 4096, 3), 0);
	CHECK(equal(p.primary, p.secondary, 0, 2 * CH));
	/* a write covering chunk 6 whole: to both, and the pass will not copy it */
	CHECK(svm_mirror_wants(m, 6 * CH, CH));
	CHECK_EQ(mwrite(m, &rl, 6 * CH, CH, 4), 0);
	/* a mirrored write across chunks 1 and 2 (hole), then the hole punched again in the source */
	CHECK_EQ(mwrite(m, &rl, 2 * CH - 4096, 8192, 5), 0);
	{
		struct svm_range r;

		svm_range_lock(&rl, &r, 2 * CH, 65536, false);
		CHECK_EQ(svm_mirror_discard(m, 2 * CH, 65536, false), 0); /* source only */
		svm_range_unlock(&rl, &r);
	}
	run_pass(m);
	CHECK(equal(p.primary, p.secondary, 0, SIZE));
	svm_mirror_get_stats(m, &st);
	/* holes 2, 3, 5, 7 and chunk 6 skipped; 0, 1, 4 copied */
	CHECK_EQ(st.bytes_skipped, 5 * (uint64_t)CH);
	CHECK_EQ(st.bytes_overwritten, (uint64_t)CH); /* chunk 6: the mirror's saving */
	CHECK_EQ(st.bytes_copied, 3 * (uint64_t)CH);
	CHECK_EQ(st.cursor, SIZE);
	CHECK_EQ(st.mirrored_writes, 3); /* at 4096, chunk 6, across chunks 1 and 2 */
	/* the destination stays thin: the holes were not written */
	{
		struct stat sb;

		CHECK(fstat(svm_store_fd(p.secondary), &sb) == 0);
		CHECK((uint64_t)sb.st_blocks * 512 <= 5 * (uint64_t)CH);
	}
	/* after the pass every write goes to both; a discard too */
	CHECK(svm_mirror_wants(m, 7 * CH, 1));
	{
		struct svm_range r;

		svm_range_lock(&rl, &r, 0, CH, false);
		CHECK_EQ(svm_mirror_discard(m, 0, CH, false), 0);
		svm_range_unlock(&rl, &r);
	}
	CHECK(equal(p.primary, p.secondary, 0, SIZE));
	svm_mirror_destroy(m);
	svm_store_close(p.secondary);

	/* writes racing the pass: the stores end equal */
	struct racer rc = {.rl = &rl};
	pthread_t t;

	p.secondary = store("mir-dst2.img", true);
	CHECK_EQ(svm_mirror_create(&p, &m, &reason), 0);
	rc.m = m;
	CHECK_EQ(pthread_create(&t, NULL, race, &rc), 0);
	/* on a loaded machine the racer may not have run yet: wait for its first writes (≤10 s) */
	for (int i = 0; i < 1000 && __atomic_load_n(&rc.writes, __ATOMIC_ACQUIRE) < 4; i++)
		usleep(10000);
	run_pass(m);
	{
		unsigned after_pass = __atomic_load_n(&rc.writes, __ATOMIC_ACQUIRE);

		for (int i = 0; i < 1000 && __atomic_load_n(&rc.writes, __ATOMIC_ACQUIRE) < after_pass + 4;
		     i++)
			usleep(10000);
	}
	rc.stop = true;
	pthread_join(t, NULL);
	CHECK(rc.writes > 0 && rc.errors == 0);
	CHECK(equal(p.primary, p.secondary, 0, SIZE));
	svm_mirror_destroy(m);

	/* write intent: a mirrored write marks its region; a checkpoint clears it and records the cursor */
	struct svm_migrec_info info = {.phase = SVM_MIGREC_COPYING, .mover = "auto", .size = SIZE,
				       .region = 2 * CH, .nregions = 4};
	struct svm_migrec *rec;
	uint8_t *bm;

	snprintf(info.src, sizeof(info.src), "%s/mir-src.img", test_dir);
	snprintf(info.dst, sizeof(info.dst), "%s/mir-dst2.img", test_dir);
	CHECK_EQ(svm_migrec_create(&info, &rec, &reason), 0);
	p.rec = rec;
	p.cursor = 4 * CH; /* resumed: the first half copied */
	CHECK_EQ(svm_mirror_create(&p, &m, &reason), 0);
	CHECK_EQ(mwrite(m, &rl, 2 * CH + 100, 200, 6), 0); /* region 1 */
	{
		struct svm_migrec *look;

		CHECK_EQ(svm_migrec_open(info.src, &look, &info, &bm, NULL), 0);
		CHECK(bm[1] == 1 && bm[0] == 0);
		free(bm);
		svm_migrec_close(look);
		CHECK_EQ(svm_mirror_checkpoint(m), 0);
		CHECK_EQ(svm_migrec_open(info.src, &look, &info, &bm, NULL), 0);
		CHECK(bm[1] == 0 && info.cursor == 4 * CH);
		free(bm);
		svm_migrec_close(look);
	}
	svm_mirror_destroy(m);

	/* after a crash: region 1 dirty, the destination stale there: copied again first */
	uint8_t dirty[4] = {0, 1, 0, 0};
	put(p.secondary, 2 * CH, 4096, 77); /* what a half-done mirrored write left */
	CHECK(!equal(p.primary, p.secondary, 2 * CH, 2 * CH));
	p.rec = rec;
	p.dirty = dirty;
	p.cursor = SIZE;
	CHECK_EQ(svm_mirror_create(&p, &m, &reason), 0);
	run_pass(m);
	CHECK(equal(p.primary, p.secondary, 0, SIZE));
	CHECK_EQ(svm_mirror_checkpoint(m), 0);
	svm_mirror_destroy(m);
	CHECK_EQ(svm_migrec_remove(rec), 0);
	p.rec = NULL;
	p.dirty = NULL;

	/*
	 * A mirrored write goes to both stores at once (its latency is the
	 * longer of the two, not their sum): both writes are held together.
	 */
	p.cursor = SIZE;
	CHECK_EQ(svm_mirror_create(&p, &m, &reason), 0);
	svm_store_fault_write_hold_us = 200000;
	svm_store_fault_writes_peak = 0;
	CHECK_EQ(mwrite(m, &rl, 0, 4096, 7), 0);
	svm_store_fault_write_hold_us = 0;
	CHECK_EQ(svm_store_fault_writes_peak, 2);
	CHECK(equal(p.primary, p.secondary, 0, SIZE));
	svm_mirror_destroy(m);

	/* a failing destination breaks the mirror; host writes go on from the source */
	{
		char path[256];
		int ro, fd = svm_store_fd(p.secondary);

		p.cursor = SIZE;
		CHECK_EQ(svm_mirror_create(&p, &m, &reason), 0);
		CHECK(svm_mirror_error_what(m) == NULL);
		snprintf(path, sizeof(path), "%s/mir-dst2.img", test_dir);
		ro = open(path, O_RDONLY);
		CHECK(ro >= 0 && dup2(ro, fd) == fd);
		close(ro);
		CHECK_EQ(mwrite(m, &rl, 0, 4096, 8), 0);
		CHECK(svm_mirror_error(m) != 0);
		/* it says which store failed, doing what (the migration's error names it) */
		CHECK(svm_mirror_error_what(m) &&
		      !strcmp(svm_mirror_error_what(m), "a write to the destination"));
		CHECK(!svm_mirror_wants(m, 0, 4096));
		CHECK_EQ(mwrite(m, &rl, 4096, 4096, 8), 0);
		CHECK(svm_mirror_step(m, SVM_MOVER_AUTO, 0) < 0);
		svm_mirror_destroy(m);
	}
	/* the pass's copy fails on the destination: the mirror says so, not just "the copy" */
	{
		char path[256];
		int ro, fd;
		struct svm_store *dst = store("mir-dst3.img", true);
		struct svm_mirror_params q = p;

		q.secondary = dst;
		q.cursor = 0;
		put(q.primary, 0, CH, 5); /* data: the pass copies it */
		CHECK_EQ(svm_mirror_create(&q, &m, &reason), 0);
		fd = svm_store_fd(dst);
		snprintf(path, sizeof(path), "%s/mir-dst3.img", test_dir);
		ro = open(path, O_RDONLY);
		CHECK(ro >= 0 && dup2(ro, fd) == fd);
		close(ro);
		CHECK(svm_mirror_step(m, SVM_MOVER_BOUNCE, 0) < 0);
		CHECK(svm_mirror_error_what(m) &&
		      !strcmp(svm_mirror_error_what(m), "a write to the destination"));
		svm_mirror_destroy(m);
		svm_store_close(dst);
	}
	/* ... and on the source */
	{
		char path[256];
		int wo, fd;
		struct svm_store *src = store("mir-src4.img", true), *dst = store("mir-dst4.img", true);
		struct svm_mirror_params q = p;

		q.primary = src;
		q.secondary = dst;
		q.cursor = 0;
		put(src, 0, CH, 6);
		CHECK_EQ(svm_mirror_create(&q, &m, &reason), 0);
		fd = svm_store_fd(src);
		snprintf(path, sizeof(path), "%s/mir-src4.img", test_dir);
		wo = open(path, O_WRONLY);
		CHECK(wo >= 0 && dup2(wo, fd) == fd);
		close(wo);
		CHECK(svm_mirror_step(m, SVM_MOVER_BOUNCE, 0) < 0);
		CHECK(svm_mirror_error_what(m) &&
		      !strcmp(svm_mirror_error_what(m), "a read of the source"));
		svm_mirror_destroy(m);
		svm_store_close(src);
		svm_store_close(dst);
	}
	svm_store_close(p.primary);
	svm_store_close(p.secondary);
	store_copy_test(&rl);
	svm_rangelock_destroy(&rl);
	test_log_restore();
}
