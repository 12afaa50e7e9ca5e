/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "test.h"
#include "../../handler/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

void store_test(void)
{
	struct svm_store_open_args a = {.min_bytes = 1 << 20, .create = true};
	struct svm_store *st, *st2;
	char path[128], *reason = NULL, buf[8192], back[8192];
	struct iovec v[2] = {{buf, 4096}, {buf + 4096, 4096}}, r = {back, sizeof(back)};
	struct stat sb;
	int fd;

	snprintf(path, sizeof(path), "%s/store.img", test_dir);
	CHECK_EQ(svm_store_open(path, &a, &st, &reason), 0);
	CHECK(stat(path, &sb) == 0 && sb.st_size == 1 << 20); /* created at the LUN's size */
	CHECK_EQ(svm_store_size(st), 1 << 20);
	CHECK(svm_store_caps(st) & SVM_STORE_CAP_DISCARD_ZEROES);

	/* a second opener is refused while the first holds it */
	CHECK_EQ(svm_store_open(path, &a, &st2, &reason), -EBUSY);
	CHECK(reason && strstr(reason, "in use"));
	free(reason);
	reason = NULL;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 7 + 1);
	CHECK_EQ(svm_store_writev(st, v, 2, 65536, 8192, false), 0);
	CHECK_EQ(svm_store_writev(st, v, 2, 0, 6000, true), 0); /* clipped, FUA */
	CHECK_EQ(svm_store_readv(st, &r, 1, 65536, 8192), 0);
	CHECK(!memcmp(buf, back, 8192));
	CHECK_EQ(svm_store_readv(st, &r, 1, 0, 6000), 0);
	CHECK(!memcmp(buf, back, 6000));
	CHECK_EQ(svm_store_flush(st), 0);

	/* page cache only: served while cached, -EAGAIN once evicted */
	memset(back, 0, sizeof(back));
	CHECK_EQ(svm_store_readv_cached(st, &r, 1, 65536, 8192), 0);
	CHECK(!memcmp(buf, back, 8192));
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0 && posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0);
	close(fd);
	CHECK_EQ(svm_store_readv_cached(st, &r, 1, 65536, 8192), -EAGAIN);
	CHECK_EQ(svm_store_readv(st, &r, 1, 65536, 8192), 0);
	CHECK(!memcmp(buf, back, 8192));

	/* discard punches a hole that reads back as zeroes */
	CHECK(stat(path, &sb) == 0);
	blkcnt_t before = sb.st_blocks;
	CHECK_EQ(svm_store_discard(st, 65536, 8192), 0);
	CHECK(stat(path, &sb) == 0 && sb.st_blocks < before && sb.st_size == 1 << 20);
	memset(back, 0xff, sizeof(back));
	CHECK_EQ(svm_store_readv(st, &r, 1, 65536, 8192), 0);
	CHECK(back[0] == 0 && !memcmp(back, back + 1, sizeof(back) - 1));
	svm_store_close(st);

	/* existing file larger than needed: used, never truncated */
	a.min_bytes = 4096;
	CHECK_EQ(svm_store_open(path, &a, &st, NULL), 0);
	svm_store_close(st);
	CHECK(stat(path, &sb) == 0 && sb.st_size == 1 << 20);

	/* existing file smaller than the LUN: refused, left as it was */
	a.min_bytes = 2 << 20;
	CHECK_EQ(svm_store_open(path, &a, &st, &reason), -ENOSPC);
	CHECK(reason && strstr(reason, "less than the LUN"));
	free(reason);
	reason = NULL;
	CHECK(stat(path, &sb) == 0 && sb.st_size == 1 << 20);

	/* missing with create=no; not a file or device */
	a.create = false;
	snprintf(path, sizeof(path), "%s/absent.img", test_dir);
	CHECK_EQ(svm_store_open(path, &a, &st, NULL), -ENOENT);
	CHECK(access(path, F_OK) != 0);
	CHECK_EQ(svm_store_open(test_dir, &a, &st, &reason), -EINVAL);
	free(reason);

	/* the store shrinking under a LUN is an I/O error, not a silent short read */
	snprintf(path, sizeof(path), "%s/shrink.img", test_dir);
	a.create = true;
	a.min_bytes = 8192;
	CHECK_EQ(svm_store_open(path, &a, &st, NULL), 0);
	fd = open(path, O_RDWR);
	CHECK(fd >= 0 && ftruncate(fd, 4096) == 0);
	close(fd);
	CHECK_EQ(svm_store_readv(st, &r, 1, 0, 8192), -EIO);
	svm_store_close(st);
}
