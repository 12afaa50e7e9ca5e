/* SPDX-License-Identifier: Apache-2.0 */
/* handler/lun.c: the block sizes a LUN takes, and when a deallocation is flushed. */
#define _GNU_SOURCE
#include "test.h"
#include "../../handler/cfg.h"
#include "../../handler/limits.h"
#include "../../handler/lun.h"

#include <errno.h>
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

void lun_test(void)
{
	test_log_capture();
	block_sizes();
	discard_flush();
	test_log_restore();
}
