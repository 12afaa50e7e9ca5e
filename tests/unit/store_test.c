/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "test.h"
#include "../../handler/limits.h"
#include "../../handler/store.h"
#include "../../handler/store_rbd.h"

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
	CHECK_EQ(svm_store_caps(st), SVM_STORE_CAP_DISCARD | SVM_STORE_CAP_DISCARD_ZEROES |
					     SVM_STORE_CAP_INLINE);
	svm_store_close(st);
	CHECK(stat(path, &sb) == 0 && sb.st_size == 1 << 20); /* the probe kept the size */

	svm_store_fault_discard_probe = -EOPNOTSUPP;
	test_log_capture();
	CHECK_EQ(svm_store_open(path, &a, &st, NULL), 0);
	test_log_restore();
	svm_store_fault_discard_probe = 0;
	CHECK_EQ(svm_store_caps(st), SVM_STORE_CAP_INLINE); /* a file: cached writes inline */
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

static void fill(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 31 + (i >> 12) + seed);
}

/*
 * direct=yes: large aligned reads go past the page cache (O_DIRECT) and
 * still see every earlier write: data written buffered and not yet written
 * back, a punched hole; a read the alignment does not suit (offset,
 * length, buffer, too many iovecs) or too short is read buffered, with the
 * same result. Without direct, nothing is read direct.
 */
static void direct_reads(void)
{
	const size_t mib = 1 << 20, len = SVM_STORE_DIRECT_MIN_BYTES;
	struct svm_store_open_args a = {.min_bytes = 8 * mib, .create = true, .direct = true};
	bool direct = test_dir_direct_io();
	uint8_t *data = NULL, *back = NULL, *newer = NULL;
	struct iovec v, r, rv[4];
	struct svm_store *st;
	uint64_t db, fb;
	char path[128];
	int fd;

	if (!direct)
		printf("store: test_dir takes no O_DIRECT: direct reads checked as buffered\n");
	snprintf(path, sizeof(path), "%s/direct.img", test_dir);
	CHECK_EQ(svm_store_open(path, &a, &st, NULL), 0);
	if (posix_memalign((void **)&data, 4096, 2 * mib) ||
	    posix_memalign((void **)&back, 4096, 2 * mib + 4096) ||
	    posix_memalign((void **)&newer, 4096, 2 * mib)) {
		CHECK(!"out of memory");
		goto free_bufs;
	}
	fill(data, 2 * mib, 1);
	fill(newer, 2 * mib, 2);
	v = (struct iovec){data, 2 * mib};
	r = (struct iovec){back, 2 * mib};

	/*
	 * written (direct, FUA), then dirty in the cache over it (writes below the
	 * direct-write minimum are buffered): the direct read sees the dirty data
	 */
	CHECK_EQ(svm_store_writev(st, &v, 1, mib, 2 * mib, true), 0);
	for (size_t o = 0; o < mib; o += len) {
		v = (struct iovec){newer + o, len};
		CHECK_EQ(svm_store_writev(st, &v, 1, mib + o, len, false), 0);
	}
	v = (struct iovec){data, 2 * mib};
	memset(back, 0, 2 * mib);
	CHECK_EQ(svm_store_readv(st, &r, 1, mib, 2 * mib), 0);
	CHECK(!memcmp(back, newer, mib) && !memcmp(back + mib, data + mib, mib));
	CHECK_EQ(svm_store_direct_bytes(st), direct ? 2 * mib : 0);
	CHECK_EQ(svm_store_direct_fallbacks(st), direct ? 0 : 1);

	/* a buffered read (the page cache) after direct reads still sees the newest data */
	memset(back, 0, mib);
	CHECK_EQ(svm_store_readv(st, &r, 1, mib, 4096), 0); /* short: buffered */
	CHECK(!memcmp(back, newer, 4096));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0 && pread(fd, back, mib, mib) == (ssize_t)mib && !memcmp(back, newer, mib));
	if (fd >= 0)
		close(fd);

	/* a write through another O_DIRECT fd (another writer): the direct read sees it */
	fd = open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
	if (fd >= 0 && direct) {
		CHECK(pwrite(fd, data, mib, 4 * mib) == (ssize_t)mib);
		memset(back, 0, mib);
		CHECK_EQ(svm_store_readv(st, &r, 1, 4 * mib, mib), 0);
		CHECK(!memcmp(back, data, mib));
	}
	if (fd >= 0)
		close(fd);

	/* unaligned offset, length, buffer; too short; too many iovecs: buffered, same bytes */
	db = svm_store_direct_bytes(st);
	fb = svm_store_direct_fallbacks(st);
	CHECK_EQ(svm_store_readv(st, &r, 1, mib + 512 + 100, len), 0); /* offset */
	CHECK(!memcmp(back, newer + 612, len));
	CHECK_EQ(svm_store_readv(st, &r, 1, mib, len + 100), 0); /* length */
	CHECK(!memcmp(back, newer, len + 100));
	r.iov_base = back + 100; /* buffer */
	CHECK_EQ(svm_store_readv(st, &r, 1, mib, len), 0);
	CHECK(!memcmp(back + 100, newer, len));
	r.iov_base = back;
	rv[0] = (struct iovec){back, 4096};
	rv[1] = (struct iovec){back + 8192 + 100, len - 4096}; /* one iovec misaligned */
	CHECK_EQ(svm_store_readv(st, rv, 2, mib, len), 0);
	CHECK(!memcmp(back, newer, 4096) && !memcmp(back + 8192 + 100, newer + 4096, len - 4096));
	CHECK_EQ(svm_store_readv(st, &r, 1, mib, len - 4096), 0); /* short: not even tried */
	CHECK_EQ(svm_store_direct_bytes(st), db);
	CHECK_EQ(svm_store_direct_fallbacks(st), fb + 4);
	/* several aligned iovecs: direct */
	rv[0] = (struct iovec){back + mib, len / 2};
	rv[1] = (struct iovec){back, len / 2};
	rv[2] = (struct iovec){back + 2 * mib, 4096}; /* past the transfer: clipped off */
	CHECK_EQ(svm_store_readv(st, rv, 3, mib, len), 0);
	CHECK(!memcmp(back + mib, newer, len / 2) && !memcmp(back, newer + len / 2, len / 2));
	CHECK_EQ(svm_store_direct_bytes(st), db + (direct ? len : 0));

	/* a punched hole reads as zeroes */
	CHECK_EQ(svm_store_discard(st, mib, mib), 0);
	memset(back, 0xff, mib);
	CHECK_EQ(svm_store_readv(st, &r, 1, mib, mib), 0);
	CHECK(back[0] == 0 && !memcmp(back, back + 1, mib - 1));
	svm_store_close(st);

	/* direct=no: never direct */
	a.direct = false;
	CHECK_EQ(svm_store_open(path, &a, &st, NULL), 0);
	CHECK_EQ(svm_store_readv(st, &r, 1, 2 * mib, mib), 0);
	CHECK(!memcmp(back, data + mib, mib));
	CHECK(svm_store_direct_bytes(st) == 0 && svm_store_direct_fallbacks(st) == 0);
	svm_store_close(st);
free_bufs:
	free(data);
	free(back);
	free(newer);
}

/*
 * direct=yes: large aligned writes go past the page cache (O_DIRECT) and stay
 * coherent with buffered I/O before and after them: a direct write over
 * cached (clean or dirty) pages is what every later read sees, buffered or
 * direct, through this store or another open file; a small buffered write
 * after it lands on top. A write the alignment does not suit, or below the
 * minimum, is buffered with the same result; FUA goes direct too; an
 * injected write fault answers on the direct path as on the buffered one.
 * Without direct, nothing is written direct.
 */
static void direct_writes(void)
{
	const size_t mib = 1 << 20, len = SVM_STORE_DIRECT_WRITE_MIN_BYTES;
	struct svm_store_open_args a = {.min_bytes = 8 * mib, .create = true, .direct = true};
	bool direct = test_dir_direct_io();
	uint8_t *data = NULL, *back = NULL, *small = NULL;
	struct iovec v, r, s, vv[3];
	struct svm_store *st;
	uint64_t wb, wf;
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/dwrite.img", test_dir);
	CHECK_EQ(svm_store_open(path, &a, &st, NULL), 0);
	if (posix_memalign((void **)&data, 4096, 2 * mib) ||
	    posix_memalign((void **)&back, 4096, 2 * mib + 4096) ||
	    posix_memalign((void **)&small, 4096, 8192)) {
		CHECK(!"out of memory");
		goto free_bufs;
	}
	fill(data, 2 * mib, 3);
	fill(small, 8192, 4);
	v = (struct iovec){data, mib};
	r = (struct iovec){back, mib};
	s = (struct iovec){small, 4096};

	/* a page written buffered (dirty) and one read into the cache (clean) */
	CHECK_EQ(svm_store_writev(st, &s, 1, mib, 4096, false), 0);
	CHECK_EQ(svm_store_readv(st, &r, 1, mib + 8192, 4096), 0);
	/* then a direct write over both: every later read sees it */
	CHECK_EQ(svm_store_writev(st, &v, 1, mib, mib, false), 0);
	CHECK_EQ(svm_store_direct_write_bytes(st), direct ? mib : 0);
	CHECK_EQ(svm_store_direct_write_fallbacks(st), 0);
	memset(back, 0, mib);
	CHECK_EQ(svm_store_readv(st, &r, 1, mib, 4096), 0); /* short: the page cache */
	CHECK_EQ(svm_store_readv(st, &r, 1, mib + 8192, 4096), 0);
	CHECK(!memcmp(back, data + 8192, 4096));
	CHECK_EQ(svm_store_readv(st, &r, 1, mib, 4096), 0);
	CHECK(!memcmp(back, data, 4096));
	CHECK_EQ(svm_store_readv(st, &r, 1, mib, mib), 0); /* long: direct */
	CHECK(!memcmp(back, data, mib));
	fd = open(path, O_RDONLY | O_CLOEXEC); /* another open file: its page cache */
	CHECK(fd >= 0 && pread(fd, back, mib, mib) == (ssize_t)mib && !memcmp(back, data, mib));
	if (fd >= 0)
		close(fd);

	/* a small buffered write after it lands on top, for buffered and direct reads */
	CHECK_EQ(svm_store_writev(st, &s, 1, mib + 4 * 4096, 4096, false), 0);
	memcpy(data + 4 * 4096, small, 4096);
	CHECK_EQ(svm_store_readv(st, &r, 1, mib, mib), 0);
	CHECK(!memcmp(back, data, mib));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0 && pread(fd, back, mib, mib) == (ssize_t)mib && !memcmp(back, data, mib));
	if (fd >= 0)
		close(fd);

	/* unaligned offset, length, buffer; one iovec misaligned; too short: buffered, same bytes */
	wb = svm_store_direct_write_bytes(st);
	wf = svm_store_direct_write_fallbacks(st);
	v = (struct iovec){data + mib, 2 * len};
	CHECK_EQ(svm_store_writev(st, &v, 1, 4 * mib + 612, len, false), 0); /* offset */
	CHECK_EQ(svm_store_writev(st, &v, 1, 5 * mib, len + 100, false), 0); /* length */
	v.iov_base = data + mib + 100; /* buffer */
	CHECK_EQ(svm_store_writev(st, &v, 1, 6 * mib, len, false), 0);
	vv[0] = (struct iovec){data, 4096};
	vv[1] = (struct iovec){data + 8192 + 100, len - 4096};
	CHECK_EQ(svm_store_writev(st, vv, 2, 7 * mib, len, false), 0);
	v.iov_base = data;
	CHECK_EQ(svm_store_writev(st, &v, 1, 3 * mib, len - 4096, false), 0); /* short: not tried */
	CHECK_EQ(svm_store_direct_write_bytes(st), wb);
	CHECK_EQ(svm_store_direct_write_fallbacks(st), wf + (direct ? 4 : 0));
	r = (struct iovec){back, 2 * len};
	CHECK_EQ(svm_store_readv(st, &r, 1, 4 * mib + 612, len), 0);
	CHECK(!memcmp(back, data + mib, len));
	CHECK_EQ(svm_store_readv(st, &r, 1, 5 * mib, len + 100), 0);
	CHECK(!memcmp(back, data + mib, len + 100));
	CHECK_EQ(svm_store_readv(st, &r, 1, 6 * mib, len), 0);
	CHECK(!memcmp(back, data + mib + 100, len));
	CHECK_EQ(svm_store_readv(st, &r, 1, 7 * mib, len), 0);
	CHECK(!memcmp(back, data, 4096) && !memcmp(back + 4096, data + 8192 + 100, len - 4096));

	/* several aligned iovecs, FUA: direct */
	vv[0] = (struct iovec){data + mib, len / 2};
	vv[1] = (struct iovec){data, len / 2};
	vv[2] = (struct iovec){data + 2 * len, 4096}; /* past the transfer: clipped off */
	CHECK_EQ(svm_store_writev(st, vv, 3, 2 * mib, len, true), 0);
	CHECK_EQ(svm_store_direct_write_bytes(st), wb + (direct ? len : 0));
	CHECK_EQ(svm_store_readv(st, &r, 1, 2 * mib, len), 0);
	CHECK(!memcmp(back, data + mib, len / 2) && !memcmp(back + len / 2, data, len / 2));

	/* an injected write fault answers on the direct path too */
	svm_store_fault_write = -EIO;
	v = (struct iovec){data, mib};
	CHECK_EQ(svm_store_writev(st, &v, 1, 0, mib, false), -EIO);
	svm_store_fault_write = 0;
	CHECK_EQ(svm_store_direct_write_bytes(st), wb + (direct ? len : 0));
	svm_store_close(st);

	/* direct=no: never direct */
	a.direct = false;
	CHECK_EQ(svm_store_open(path, &a, &st, NULL), 0);
	CHECK_EQ(svm_store_writev(st, &v, 1, mib, mib, false), 0);
	CHECK(svm_store_direct_write_bytes(st) == 0 && svm_store_direct_write_fallbacks(st) == 0);
	svm_store_close(st);
free_bufs:
	free(data);
	free(back);
	free(small);
}

/*
 * RBD stores without a cluster: what is refused before any network, and a
 * cluster configuration that cannot be read (the VM's tests/e2e/t_rbd.sh
 * covers a real cluster and an unreachable one).
 */
static void rbd_open_refusals(void)
{
	struct svm_store_open_args a = {.min_bytes = 1 << 20, .rbd_conf = "/nonexistent/ceph.conf"};
	struct svm_store *st = NULL;
	char *reason = NULL;

	CHECK(svm_store_is_rbd("rbd/svm/lun0") && !svm_store_is_rbd("/var/lib/svm/rbd"));
	CHECK_EQ(svm_store_open("rbd/svm", &a, &st, &reason), -EINVAL);
	CHECK(reason && strstr(reason, "names no image"));
	free(reason);
	reason = NULL;
	CHECK_EQ(svm_store_open("rbd/svm/lun0", &a, &st, &reason), -ENOENT);
	CHECK(reason && strstr(reason, "cannot read Ceph configuration '/nonexistent/ceph.conf'"));
	free(reason);
	CHECK(st == NULL);
}

/*
 * A file has no one-call WRITE SAME or COMPARE AND WRITE (an RBD store's
 * librbd has, tests/e2e/t_rbd_ops.sh): both answer -EOPNOTSUPP and touch
 * nothing, and a file never claims stable writes (its page cache).
 */
static void file_no_rbd_ops(void)
{
	struct svm_store_open_args a = {.min_bytes = 1 << 20, .create = true};
	uint8_t blk[512], cmp[512], back[512];
	struct iovec v = {back, sizeof(back)};
	struct svm_store *st;
	uint64_t mismatch = 7;
	char path[128];

	snprintf(path, sizeof(path), "%s/store-ops.img", test_dir);
	CHECK_EQ(svm_store_open(path, &a, &st, NULL), 0);
	CHECK(!(svm_store_caps(st) & SVM_STORE_CAP_STABLE_WRITES));
	memset(blk, 0x5A, sizeof(blk));
	memset(cmp, 0, sizeof(cmp));
	CHECK_EQ(svm_store_write_same(st, 4096, 8192, blk, sizeof(blk)), -EOPNOTSUPP);
	CHECK_EQ(svm_store_compare_and_write(st, 0, sizeof(blk), cmp, blk, &mismatch), -EOPNOTSUPP);
	CHECK_EQ(mismatch, 7);
	CHECK_EQ(svm_store_readv(st, &v, 1, 4096, sizeof(back)), 0);
	CHECK(back[0] == 0 && !memcmp(back, back + 1, sizeof(back) - 1));
	CHECK_EQ(svm_store_readv(st, &v, 1, 0, sizeof(back)), 0);
	CHECK(back[0] == 0 && !memcmp(back, back + 1, sizeof(back) - 1));
	svm_store_close(st);
	unlink(path);
}

void store_test(void)
{
	rbd_open_refusals();
	file_no_rbd_ops();
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
	for (int tries = 0; tries < TEST_EVICT_TRIES; tries++) {
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
	test_log_capture(); /* the close line of a direct store */
	direct_reads();
	direct_writes();
	test_log_restore();
	discard_probe();
	phys_block_size();
	extents();
}
