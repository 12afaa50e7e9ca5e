/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "test.h"
#include "../../handler/store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/*
 * Transfers over more iovecs than one preadv/pwritev2 call takes
 * (IOV_MAX): done in windows; the page-cache-only read declines them.
 */
static void many_iovecs(void)
{
	struct svm_store_open_args a = {.min_bytes = 4 << 20, .create = true};
	const size_t n = 2 * IOV_MAX + 3, seg = 512, len = n * seg;
	char path[128], *data = malloc(len), *back = malloc(len);
	struct iovec *v = calloc(n, sizeof(*v)), *r = calloc(n, sizeof(*r));
	struct svm_store *st;

	snprintf(path, sizeof(path), "%s/iovecs.img", test_dir);
	CHECK(data && back && v && r);
	CHECK_EQ(svm_store_open(path, &a, &st, NULL), 0);
	if (!data || !back || !v || !r)
		goto free_bufs;
	for (size_t i = 0; i < len; i++)
		data[i] = (char)(i * 13 + (i >> 9));
	for (size_t i = 0; i < n; i++) {
		v[i] = (struct iovec){data + (n - 1 - i) * seg, seg};
		r[i] = (struct iovec){back + (n - 1 - i) * seg, seg};
	}
	CHECK_EQ(svm_store_writev(st, v, n, 4096, len, false), 0);
	CHECK_EQ(svm_store_writev(st, v, n, 2 << 20, len - 100, true), 0); /* clipped, FUA */
	memset(back, 0, len);
	CHECK_EQ(svm_store_readv(st, r, n, 4096, len), 0);
	CHECK(!memcmp(back, data, len));
	memset(back, 0, len);
	CHECK_EQ(svm_store_readv(st, r, n, 2 << 20, len - 100), 0);
	/* the last iovec (the first segment in memory) was clipped by 100 bytes */
	CHECK(!memcmp(back + seg, data + seg, len - seg) && !memcmp(back, data, seg - 100));
	CHECK(back[seg - 100] == 0 && !memcmp(back + seg - 100, back + seg - 99, 99));
	/* cached, but more than one call's worth: left to svm_store_readv */
	CHECK_EQ(svm_store_readv_cached(st, r, n, 4096, len), -EAGAIN);
	CHECK_EQ(svm_store_readv_cached(st, r, IOV_MAX, 4096, IOV_MAX * seg), 0);
	svm_store_close(st);
free_bufs:
	free(data);
	free(back);
	free(v);
	free(r);
}

/* The discard probe at open, and the fault-injection seam that fails it. */
static void discard_probe(void)
{
	struct svm_store_open_args a = {.min_bytes = 1 << 20, .create = true};
	struct svm_store *st;
	struct stat sb;
	char path[128];

	snprintf(path, sizeof(path), "%s/probe.img", test_dir);
	CHECK_EQ(svm_store_open(path, &a, &st, NULL), 0);
	CHECK_EQ(svm_store_caps(st), SVM_STORE_CAP_DISCARD | SVM_STORE_CAP_DISCARD_ZEROES);
	svm_store_close(st);
	CHECK(stat(path, &sb) == 0 && sb.st_size == 1 << 20); /* the probe kept the size */

	svm_store_fault_discard_probe = -EOPNOTSUPP;
	test_log_capture();
	CHECK_EQ(svm_store_open(path, &a, &st, NULL), 0);
	test_log_restore();
	svm_store_fault_discard_probe = 0;
	CHECK_EQ(svm_store_caps(st), 0);
	CHECK(strstr(test_last_log, "will not offer UNMAP") != NULL);
	svm_store_close(st);
}

/*
 * The physical block size: for a file, the queue/physical_block_size of
 * the device under its filesystem, or st_blksize when there is none.
 */
static void phys_block_size(void)
{
	struct svm_store_open_args a = {.min_bytes = 1 << 20, .create = true};
	unsigned long long want = 0;
	struct svm_store *st;
	struct stat sb;
	char path[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/pbs.img", test_dir);
	CHECK_EQ(svm_store_open(path, &a, &st, NULL), 0);
	CHECK(stat(path, &sb) == 0);
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/queue/physical_block_size",
		 major(sb.st_dev), minor(sb.st_dev));
	f = fopen(path, "re");
	if (!f) {
		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/../queue/physical_block_size",
			 major(sb.st_dev), minor(sb.st_dev));
		f = fopen(path, "re");
	}
	if (!f || fscanf(f, "%llu", &want) != 1)
		want = sb.st_blksize;
	if (f)
		fclose(f);
	CHECK_EQ(svm_store_phys_block_size(st), want);
	CHECK(want >= 512 && !(want & (want - 1)));
	svm_store_close(st);
}

/*
 * svm_store_extent: data and holes of a sparse file (one 64 KiB extent at
 * 1 MiB: a whole allocation unit of any common filesystem), and the write
 * fault-injection seam.
 */
static void extents(void)
{
	struct svm_store_open_args a = {.min_bytes = 4 << 20, .create = true};
	static char buf[65536];
	struct iovec v = {buf, sizeof(buf)};
	struct svm_store *st;
	uint64_t end;
	bool mapped;
	char path[128];

	snprintf(path, sizeof(path), "%s/extents.img", test_dir);
	CHECK_EQ(svm_store_open(path, &a, &st, NULL), 0);
	memset(buf, 0x33, sizeof(buf));
	CHECK_EQ(svm_store_writev(st, &v, 1, 1 << 20, sizeof(buf), true), 0);
	CHECK_EQ(svm_store_extent(st, 0, &mapped, &end), 0);
	CHECK(!mapped && end == 1 << 20);
	CHECK_EQ(svm_store_extent(st, 4096, &mapped, &end), 0);
	CHECK(!mapped && end == 1 << 20);
	CHECK_EQ(svm_store_extent(st, 1 << 20, &mapped, &end), 0);
	CHECK(mapped && end >= (1 << 20) + sizeof(buf) && end < 4 << 20);
	CHECK_EQ(svm_store_extent(st, 2 << 20, &mapped, &end), 0);
	CHECK(!mapped && end == 4 << 20); /* no data after: a hole to the end */
	CHECK_EQ(svm_store_discard(st, 1 << 20, sizeof(buf)), 0);
	CHECK_EQ(svm_store_extent(st, 0, &mapped, &end), 0);
	CHECK(!mapped && end == 4 << 20);

	svm_store_fault_write = -EIO;
	CHECK_EQ(svm_store_writev(st, &v, 1, 0, sizeof(buf), false), -EIO);
	svm_store_fault_write = 0;
	CHECK_EQ(svm_store_writev(st, &v, 1, 0, sizeof(buf), false), 0);
	svm_store_close(st);
}

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
	uint64_t flushes = svm_store_flushes(st);
	CHECK_EQ(svm_store_flush(st), 0);
	CHECK_EQ(svm_store_flushes(st), flushes + 1);

	/* page cache only: served while cached, -EAGAIN once evicted */
	memset(back, 0, sizeof(back));
	CHECK_EQ(svm_store_readv_cached(st, &r, 1, 65536, 8192), 0);
	CHECK(!memcmp(buf, back, 8192));
	/* (the kernel may keep a page another CPU still batches: evict again, 5 times at most) */
	for (int tries = 0; tries < 5; tries++) {
		fd = open(path, O_RDONLY);
		CHECK(fd >= 0 && fdatasync(fd) == 0 &&
		      posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0);
		if (fd >= 0)
			close(fd);
		if (svm_store_readv_cached(st, &r, 1, 65536, 8192) == -EAGAIN)
			break;
		usleep(100000);
	}
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

	many_iovecs();
	discard_probe();
	phys_block_size();
	extents();
}
