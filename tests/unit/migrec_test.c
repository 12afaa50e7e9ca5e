/* SPDX-License-Identifier: Apache-2.0 */
/* The migration record: created, found by either store, updated, torn by a crash, removed. */
#define _GNU_SOURCE
#include "test.h"
#include "../../handler/migrec.h"
#include "../../handler/state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

void migrec_test(void)
{
	struct svm_migrec_info info = {.phase = SVM_MIGREC_COPYING,
				       .mover = "kernel",
				       .rate_mibs = 50,
				       .keep_source = true,
				       .size = 1 << 30,
				       .region = 64 << 20,
				       .nregions = 16,
				       .started = 1700000000};
	struct svm_migrec_info got;
	struct svm_migrec *r, *r2;
	char *reason = NULL, *name;
	uint8_t *bm = NULL;
	int fd;

	snprintf(info.src, sizeof(info.src), "%s/mr-src.img", test_dir);
	snprintf(info.dst, sizeof(info.dst), "%s/mr-dst.img", test_dir);
	CHECK_EQ(svm_migrec_open(info.src, &r, &got, &bm, &reason), -ENOENT);

	CHECK_EQ(svm_migrec_create(&info, &r, &reason), 0);
	free(reason);
	reason = NULL;
	/* one record per store: a second migration of either is refused */
	CHECK_EQ(svm_migrec_create(&info, &r2, &reason), -EEXIST);
	free(reason);
	reason = NULL;
	CHECK_EQ(svm_migrec_mark(r, 3, true), 0);
	CHECK_EQ(svm_migrec_mark(r, 16, true), -EINVAL);
	CHECK_EQ(svm_migrec_update(r, SVM_MIGREC_COPYING, 100 << 20), 0);
	svm_migrec_close(r);

	/* found through the destination's name as well, with every field */
	CHECK_EQ(svm_migrec_open(info.dst, &r, &got, &bm, &reason), 0);
	CHECK(!strcmp(got.src, info.src) && !strcmp(got.dst, info.dst) &&
	      !strcmp(got.mover, "kernel"));
	CHECK(got.phase == SVM_MIGREC_COPYING && got.cursor == 100 << 20 && got.rate_mibs == 50 &&
	      got.keep_source && got.size == 1 << 30 && got.region == 64 << 20 &&
	      got.nregions == 16 && got.started == 1700000000);
	CHECK(bm && bm[3] == 1 && bm[2] == 0 && bm[15] == 0);
	free(bm);
	bm = NULL;
	CHECK_EQ(svm_migrec_mark(r, 3, false), 0);
	CHECK_EQ(svm_migrec_update(r, SVM_MIGREC_SWITCHED, 1 << 30), 0);
	svm_migrec_close(r);

	/* a crash tears the slot being written: the other one is read */
	name = svm_state_path("migrations", info.src);
	fd = open(name, O_RDWR);
	CHECK(fd >= 0);
	CHECK_EQ(svm_migrec_open(info.src, &r, &got, &bm, NULL), 0);
	CHECK(got.phase == SVM_MIGREC_SWITCHED && got.cursor == 1 << 30 && bm[3] == 0);
	free(bm);
	bm = NULL;
	svm_migrec_close(r);
	/* the newest slot is the one with the higher sequence: tear it, the older one wins */
	{
		char a[2048], b[2048];

		CHECK(pread(fd, a, sizeof(a), 0) == 2048 && pread(fd, b, sizeof(b), 2048) == 2048);
		char *newest = strstr(a, "phase=switched") ? a : b;
		off_t at = newest == a ? 0 : 2048;

		newest[100] ^= 1;
		CHECK(pwrite(fd, newest, 2048, at) == 2048);
	}
	CHECK_EQ(svm_migrec_open(info.src, &r, &got, &bm, NULL), 0);
	CHECK(got.phase == SVM_MIGREC_COPYING && got.cursor == 100 << 20);
	free(bm);
	bm = NULL;
	/* both torn: an error, never "no record" (that would lose the migration) */
	{
		char junk[4096];

		memset(junk, 'x', sizeof(junk));
		CHECK(pwrite(fd, junk, sizeof(junk), 0) == sizeof(junk));
	}
	CHECK_EQ(svm_migrec_open(info.dst, &r2, &got, &bm, &reason), -EIO);
	CHECK(reason && strstr(reason, "unreadable"));
	free(reason);
	reason = NULL;
	close(fd);
	free(name);

	/* removal takes both names */
	CHECK_EQ(svm_migrec_remove(r), 0);
	CHECK_EQ(svm_migrec_open(info.src, &r, &got, &bm, NULL), -ENOENT);
	CHECK_EQ(svm_migrec_open(info.dst, &r, &got, &bm, NULL), -ENOENT);

	/* RBD names (rbd/<pool>/<image>): escaped into one file name, found by either store */
	snprintf(info.src, sizeof(info.src), "%s/mr-file.img", test_dir);
	snprintf(info.dst, sizeof(info.dst), "rbd/svm/mr-lun0");
	name = svm_state_path("migrations", info.dst);
	CHECK(name && strstr(name, "/migrations/rbd%2Fsvm%2Fmr-lun0"));
	free(name);
	CHECK_EQ(svm_migrec_create(&info, &r, &reason), 0);
	CHECK_EQ(svm_migrec_update(r, SVM_MIGREC_COPYING, 8 << 20), 0);
	svm_migrec_close(r);
	CHECK_EQ(svm_migrec_open("rbd/svm/mr-lun0", &r, &got, &bm, &reason), 0);
	CHECK(!strcmp(got.dst, "rbd/svm/mr-lun0") && !strcmp(got.src, info.src) &&
	      got.cursor == 8 << 20);
	free(bm);
	bm = NULL;
	svm_migrec_close(r);
	CHECK_EQ(svm_migrec_open("rbd/svm/mr-lun1", &r2, &got, &bm, NULL), -ENOENT);
	CHECK_EQ(svm_migrec_open(info.src, &r, &got, &bm, NULL), 0);
	free(bm);
	bm = NULL;
	CHECK_EQ(svm_migrec_remove(r), 0);
	CHECK_EQ(svm_migrec_open("rbd/svm/mr-lun0", &r, &got, &bm, NULL), -ENOENT);
}
