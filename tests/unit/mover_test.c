/* SPDX-License-Identifier: Apache-2.0 */
/*
 * xcopy/mover.c: every mover copies what it is asked to, between files,
 * within one, over overlapping ranges (as memmove would), on block devices
 * (loop devices, when this process may make them) and, with reflink for
 * real, on an XFS filesystem with reflink=1 (when mkfs.xfs exists and a
 * loop mount works; skipped, saying why, otherwise). Declines fall back in
 * auto and are -EOPNOTSUPP for a pinned mover; real errors never fall back.
 */
#define _GNU_SOURCE
#include "test.h"
#include "../../handler/limits.h"
#include "../../xcopy/mover.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#define MIB	(1ull << 20)
#define CHUNK	((uint64_t)SVM_MOVER_CHUNK_BYTES)
#define BOUNCE	SVM_MOVER_BOUNCE
#define KERNEL	SVM_MOVER_KERNEL
#define REFLINK SVM_MOVER_REFLINK

/* Whether test_dir's filesystem clones (then the "no reflink here" checks are skipped). */
static bool dir_reflinks;

/* Byte i of pattern seed: neighbours and seeds differ, so a misplaced byte shows. */
static uint8_t pat(uint64_t i, unsigned seed)
{
	uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull ^ (uint64_t)seed << 56;

	return (uint8_t)(x >> 29 ^ x >> 47);
}

static void path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", test_dir, name);
}

/*
 * A new file in test_dir holding size bytes of pattern seed, open O_RDWR,
 * and its model: cap bytes (>= size) of memory whose first size bytes are
 * the file's. -1 (and a failed CHECK) if it cannot be made.
 */
static int new_file(const char *name, uint64_t size, unsigned seed, uint8_t **model, uint64_t cap)
{
	char path[160];
	uint8_t *m = calloc(1, cap);
	int fd;

	*model = NULL;
	path_of(path, sizeof(path), name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(fd >= 0 && m);
	if (fd < 0 || !m) {
		free(m);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	for (uint64_t i = 0; i < size; i++)
		m[i] = pat(i, seed);
	CHECK(pwrite(fd, m, size, 0) == (ssize_t)size);
	*model = m;
	return fd;
}

static void drop_file(int fd, const char *name, uint8_t *model)
{
	char path[160];

	path_of(path, sizeof(path), name);
	if (fd >= 0)
		close(fd);
	unlink(path);
	free(model);
}

/* Whether fd's first size bytes are model's (and, for a file, fd holds no more). */
static bool holds(int fd, const uint8_t *model, uint64_t size, bool file)
{
	static uint8_t buf[MIB];
	struct stat sb;

	if (file && (fstat(fd, &sb) || (uint64_t)sb.st_size != size))
		return false;
	for (uint64_t off = 0; off < size; off += sizeof(buf)) {
		uint64_t n = size - off < sizeof(buf) ? size - off : sizeof(buf);

		if (pread(fd, buf, n, off) != (ssize_t)n || memcmp(buf, model + off, n))
			return false;
	}
	return true;
}

static int copy(enum svm_mover_kind want, int sfd, uint64_t soff, int dfd, uint64_t doff,
		uint64_t len, struct svm_mover_result *res)
{
	struct svm_mover_req req = {.want = want,
				    .src_fd = sfd,
				    .src_off = soff,
				    .dst_fd = dfd,
				    .dst_off = doff,
				    .len = len};

	return svm_mover_copy(&req, res);
}

static uint64_t moved_sum(const struct svm_mover_result *r)
{
	return r->moved[BOUNCE] + r->moved[KERNEL] + r->moved[REFLINK];
}

/* A reflink of one block between two fresh files of dir: does its filesystem clone? */
static bool reflinks_in(const char *dir)
{
	char a[160], b[160], blk[4096] = {1};
	int fa, fb;
	bool ok;

	snprintf(a, sizeof(a), "%s/probe-a", dir);
	snprintf(b, sizeof(b), "%s/probe-b", dir);
	fa = open(a, O_RDWR | O_CREAT | O_TRUNC, 0600);
	fb = open(b, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ok = fa >= 0 && fb >= 0 && pwrite(fa, blk, sizeof(blk), 0) == sizeof(blk) &&
	     ioctl(fb, FICLONERANGE,
		   &(struct file_clone_range){.src_fd = fa, .src_length = sizeof(blk)}) == 0;
	close(fa);
	close(fb);
	unlink(a);
	unlink(b);
	return ok;
}

static void names(void)
{
	static const char *const all[] = {"auto", "bounce", "kernel", "reflink"};
	enum svm_mover_kind k;

	for (unsigned i = 0; i < SVM_MOVER_KINDS; i++) {
		CHECK(!strcmp(svm_mover_name((enum svm_mover_kind)i), all[i]));
		CHECK(svm_mover_parse(all[i], &k) == 0 && k == (enum svm_mover_kind)i);
	}
	CHECK(!strcmp(svm_mover_name((enum svm_mover_kind)SVM_MOVER_KINDS), "invalid"));
	CHECK_EQ(svm_mover_parse("Kernel", &k), -EINVAL);
	CHECK_EQ(svm_mover_parse("", &k), -EINVAL);
	CHECK_EQ(svm_mover_parse(NULL, &k), -EINVAL);
}

/* Bad requests are refused before any I/O. */
static void bad_requests(void)
{
	struct svm_mover_result res;
	uint8_t *m, *m2;
	int fd = new_file("args-src", 8192, 1, &m, 8192);
	int dst = new_file("args-dst", 0, 2, &m2, 1);
	char path[160];
	int ro, app, dir;

	path_of(path, sizeof(path), "args-dst");
	ro = open(path, O_RDONLY);
	app = open(path, O_WRONLY | O_APPEND);
	dir = open(test_dir, O_RDONLY | O_DIRECTORY);
	CHECK_EQ(copy((enum svm_mover_kind)7, fd, 0, dst, 0, 1, &res), -EINVAL);
	CHECK_EQ(copy(BOUNCE, -1, 0, dst, 0, 1, &res), -EBADF);
	CHECK_EQ(copy(BOUNCE, fd, 0, ro, 0, 1, &res), -EBADF);	/* destination not writable */
	CHECK_EQ(copy(BOUNCE, app, 0, fd, 0, 1, &res), -EBADF); /* source not readable */
	CHECK_EQ(copy(SVM_MOVER_AUTO, fd, 0, app, 0, 1, &res), -EBADF); /* O_APPEND */
	CHECK_EQ(copy(BOUNCE, dir, 0, dst, 0, 1, &res), -EINVAL);
	CHECK_EQ(copy(BOUNCE, fd, 8000, dst, 0, 193, &res), -EINVAL); /* past the source's end */
	CHECK_EQ(copy(BOUNCE, fd, 0, dst, INT64_MAX, 2, &res), -EINVAL);
	CHECK_EQ(copy(BOUNCE, fd, 1, dst, 0, UINT64_MAX, &res), -EINVAL);
	CHECK(res.done == 0 && moved_sum(&res) == 0);
	/* the whole source, and nothing at all; NULL res is fine */
	CHECK_EQ(copy(BOUNCE, fd, 8000, dst, 0, 192, NULL), 0);
	CHECK_EQ(copy(KERNEL, fd, 8192, dst, 0, 0, &res), 0);
	CHECK(res.done == 0 && moved_sum(&res) == 0);
	close(ro);
	close(app);
	close(dir);
	drop_file(fd, "args-src", m);
	drop_file(dst, "args-dst", m2);
}

/*
 * Between two files: odd offsets and lengths, 0 and 1 byte, across chunk
 * boundaries, many MiB, past the destination's end. Every byte of the
 * destination is checked after each copy, against a model.
 */
static void between_files(void)
{
	static const struct {
		uint64_t src, dst, len;
	} cases[] = {
	    {0, 0, 0},
	    {0, 0, 1},
	    {1, 4095, 1},
	    {513, 7777, 4095},
	    {4096, 8192, 4096},
	    {100, 200, CHUNK - 1},
	    {CHUNK - 3, 5, CHUNK + 7},
	    {12345, 2 * CHUNK + 999, 3 * CHUNK + 17},
	    {0, 0, 9 * MIB},
	    {777, MIB + 1, 11 * MIB - 1},
	    {4 * MIB, 13 * MIB - 10, 100}, /* the destination grows by 90 bytes */
	};
	static const enum svm_mover_kind kinds[] = {BOUNCE, KERNEL, SVM_MOVER_AUTO};
	const uint64_t ssize = 12 * MIB + 333, cap = 14 * MIB;
	struct svm_mover_result res;
	uint8_t *sm, *dm;
	int src = new_file("pair-src", ssize, 1, &sm, ssize);
	int dst = new_file("pair-dst", 13 * MIB, 2, &dm, cap);
	uint64_t dsize = 13 * MIB;

	if (src < 0 || dst < 0)
		goto drop;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			uint64_t so = cases[i].src, doff = cases[i].dst, len = cases[i].len;
			int ret = copy(kinds[k], src, so, dst, doff, len, &res);

			CHECK_EQ(ret, 0);
			memcpy(dm + doff, sm + so, len);
			if (len && doff + len > dsize)
				dsize = doff + len;
			CHECK(res.done == len && moved_sum(&res) == len && !res.backward);
			if (kinds[k] != SVM_MOVER_AUTO)
				CHECK(res.moved[kinds[k]] == len);
			else if (!dir_reflinks && len) /* no reflink: kernel does all */
				CHECK(res.moved[KERNEL] == len && res.declined[REFLINK] < 0);
			if (ret || !holds(dst, dm, dsize, true)) {
				CHECK(!"destination as expected");
				fprintf(stderr, "  %s: %llu bytes %llu -> %llu\n",
					svm_mover_name(kinds[k]), (unsigned long long)len,
					(unsigned long long)so, (unsigned long long)doff);
			}
		}
	}
drop:
	drop_file(src, "pair-src", sm);
	drop_file(dst, "pair-dst", dm);
}

/*
 * Within one file: apart, overlapping both ways at distances under and over
 * a chunk (the result must be memmove's), and a range onto itself. Also
 * through two fds of the same file, which must be recognised as one.
 */
static void within_file(void)
{
	static const struct {
		uint64_t src, dst, len;
	} cases[] = {
	    {100, 5 * MIB + 3, 2 * MIB + 1}, /* apart, either way */
	    {5 * MIB + 3, 100, 2 * MIB + 1},
	    {MIB + 1, MIB, 4 * MIB + 3}, /* overlapping, forward, 1 byte apart */
	    {MIB, MIB + 1, 4 * MIB + 3}, /* backward */
	    {MIB, MIB + 4096, 4 * MIB + 3},
	    {MIB + 100000, MIB, 4 * MIB + 3},
	    {3 * MIB, MIB + 4096, 4 * MIB + 3}, /* over a chunk apart */
	    {MIB + 7, 2 * MIB + 4103, 4 * MIB + 3},
	    {0, 3 * MIB, 4 * MIB + 3},
	    {MIB, MIB, 4 * MIB + 3}, /* onto itself */
	};
	static const enum svm_mover_kind kinds[] = {BOUNCE, KERNEL, SVM_MOVER_AUTO};
	const uint64_t size = 8 * MIB + 5;
	struct svm_mover_result res;
	char path[160];
	uint8_t *m;
	int fd = new_file("one", size, 3, &m, size), fd2;

	path_of(path, sizeof(path), "one");
	fd2 = open(path, O_RDWR);
	if (fd < 0 || fd2 < 0)
		goto drop;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			uint64_t so = cases[i].src, doff = cases[i].dst, len = cases[i].len;
			uint64_t dist = so > doff ? so - doff : doff - so;
			bool overlap = dist < len,
			     refused = kinds[k] == KERNEL && overlap && dist && dist < CHUNK;
			/* alternate the same fd and a second fd of the file */
			int ret = copy(kinds[k], fd, so, i % 2 ? fd2 : fd, doff, len, &res);

			if (refused) {
				CHECK(ret == -EOPNOTSUPP && res.done == 0);
				CHECK_EQ(res.declined[KERNEL], -EOPNOTSUPP);
			} else {
				CHECK_EQ(ret, 0);
				CHECK_EQ(res.done, len);
				CHECK(res.backward == (overlap && doff > so));
				memmove(m + doff, m + so, len);
			}
			if (!dist)
				CHECK(moved_sum(&res) == 0); /* nothing to move */
			if (kinds[k] == SVM_MOVER_AUTO && overlap && dist && dist < CHUNK)
				CHECK(res.moved[BOUNCE] == len &&
				      res.declined[KERNEL] == -EOPNOTSUPP);
			if (!holds(fd, m, size, true)) {
				CHECK(!"file as expected");
				fprintf(stderr, "  %s: %llu bytes %llu -> %llu in one file\n",
					svm_mover_name(kinds[k]), (unsigned long long)len,
					(unsigned long long)so, (unsigned long long)doff);
			}
		}
	}
drop:
	if (fd2 >= 0)
		close(fd2);
	drop_file(fd, "one", m);
}

/*
 * bounce reads and writes the chunks that suit O_DIRECT with it and the
 * rest buffered, and the caller sees the same bytes either way: dirty
 * cached source data is copied, cached destination data does not hide
 * the copy, overlapping ranges still copy as memmove.
 */
static void direct_io(void)
{
	const uint64_t size = 12 * MIB;
	struct svm_mover_result res;
	uint8_t *sm, *dm, *m, *newer;
	bool direct = test_dir_direct_io();
	char path[160];
	int src = new_file("dio-src", size, 16, &sm, size);
	int dst = new_file("dio-dst", size, 17, &dm, size);
	int one = new_file("dio-one", size, 18, &m, size), dst2 = -1;

	newer = malloc(MIB);
	if (src < 0 || dst < 0 || one < 0 || !newer)
		goto drop;
	if (!direct)
		printf("mover: test_dir takes no O_DIRECT: bounce's direct I/O checks skipped\n");
	/* whole chunks, aligned: all direct */
	CHECK_EQ(copy(BOUNCE, src, 0, dst, 0, 8 * MIB, &res), 0);
	memcpy(dm, sm, 8 * MIB);
	CHECK(holds(dst, dm, size, true));
	if (direct)
		CHECK(res.bounce_direct_read == 8 * MIB && res.bounce_direct_written == 8 * MIB);
	/* an unaligned tail: the whole chunks direct, the tail buffered */
	CHECK_EQ(copy(BOUNCE, src, MIB, dst, 2 * MIB, 3 * MIB + 100, &res), 0);
	memcpy(dm + 2 * MIB, sm + MIB, 3 * MIB + 100);
	CHECK(holds(dst, dm, size, true));
	if (direct)
		CHECK(res.bounce_direct_read == 3 * MIB && res.bounce_direct_written == 3 * MIB);
	/* one side unaligned: the other still direct */
	CHECK_EQ(copy(BOUNCE, src, 4096, dst, 3, 2 * MIB, &res), 0);
	memcpy(dm + 3, sm + 4096, 2 * MIB);
	CHECK(holds(dst, dm, size, true));
	CHECK_EQ(res.bounce_direct_written, 0);
	if (direct)
		CHECK_EQ(res.bounce_direct_read, 2 * MIB);
	/* shorter than a chunk: buffered, not worth the opens */
	CHECK_EQ(copy(BOUNCE, src, 0, dst, 0, 64 * 1024, &res), 0);
	CHECK(res.bounce_direct_read == 0 && res.bounce_direct_written == 0);
	memcpy(dm, sm, 64 * 1024);
	CHECK(holds(dst, dm, size, true));

	/*
	 * Coherent with the page cache: the destination's old bytes are cached
	 * (holds read them), the source's newest are dirty in the cache, not
	 * yet written back; a second fd of the destination reads the copy.
	 */
	for (uint64_t i = 0; i < MIB; i++)
		newer[i] = pat(i, 19);
	CHECK(pwrite(src, newer, MIB, 5 * MIB) == (ssize_t)MIB);
	memcpy(sm + 5 * MIB, newer, MIB);
	CHECK(holds(dst, dm, size, true));
	CHECK_EQ(copy(BOUNCE, src, 4 * MIB, dst, 6 * MIB, 4 * MIB, &res), 0);
	memcpy(dm + 6 * MIB, sm + 4 * MIB, 4 * MIB);
	CHECK(holds(dst, dm, size, true));
	path_of(path, sizeof(path), "dio-dst");
	dst2 = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(dst2 >= 0 && holds(dst2, dm, size, true));
	if (direct)
		CHECK(res.bounce_direct_read == 4 * MIB && res.bounce_direct_written == 4 * MIB);

	/* within one file, overlapping, 4 KiB apart, both ways: direct, and memmove's result */
	CHECK_EQ(copy(BOUNCE, one, MIB, one, MIB + 4096, 6 * MIB, &res), 0);
	CHECK(res.backward);
	memmove(m + MIB + 4096, m + MIB, 6 * MIB);
	CHECK(holds(one, m, size, true));
	if (direct)
		CHECK(res.bounce_direct_read == 6 * MIB && res.bounce_direct_written == 6 * MIB);
	CHECK_EQ(copy(BOUNCE, one, 2 * MIB + 4096, one, 2 * MIB, 5 * MIB, &res), 0);
	CHECK(!res.backward);
	memmove(m + 2 * MIB, m + 2 * MIB + 4096, 5 * MIB);
	CHECK(holds(one, m, size, true));
drop:
	if (dst2 >= 0)
		close(dst2);
	free(newer);
	drop_file(src, "dio-src", sm);
	drop_file(dst, "dio-dst", dm);
	drop_file(one, "dio-one", m);
}

/*
 * test_dir cannot clone (tmpfs, ext4): a pinned reflink is -EOPNOTSUPP and
 * changes nothing, auto moves it all with kernel. A range reflink could
 * never take is declined before any syscall.
 */
static void no_reflink_here(void)
{
	struct svm_mover_result res;
	uint8_t *sm, *dm;
	int src = new_file("nr-src", 4 * MIB, 4, &sm, 4 * MIB);
	int dst = new_file("nr-dst", 4 * MIB, 5, &dm, 4 * MIB);

	if (src < 0 || dst < 0)
		goto drop;
	/* misaligned: declined whatever the filesystem */
	CHECK_EQ(copy(REFLINK, src, 1, dst, 1, 8192, &res), -EOPNOTSUPP);
	CHECK(res.declined[REFLINK] == -EINVAL && res.done == 0);
	CHECK_EQ(copy(REFLINK, src, 4096, dst, 8192, 4097, &res), -EOPNOTSUPP); /* not at EOF */
	CHECK_EQ(res.declined[REFLINK], -EINVAL);
	if (dir_reflinks) {
		printf("mover: %s clones: its no-reflink checks skipped\n", test_dir);
		goto drop;
	}
	CHECK_EQ(copy(REFLINK, src, 0, dst, 0, 2 * MIB, &res), -EOPNOTSUPP);
	CHECK(res.declined[REFLINK] == -EOPNOTSUPP && res.done == 0 && moved_sum(&res) == 0);
	CHECK(holds(dst, dm, 4 * MIB, true));
	CHECK_EQ(copy(SVM_MOVER_AUTO, src, 0, dst, 0, 2 * MIB, &res), 0);
	CHECK(res.declined[REFLINK] == -EOPNOTSUPP && res.moved[KERNEL] == 2 * MIB);
	CHECK(res.moved[REFLINK] == 0 && res.moved[BOUNCE] == 0);
	memcpy(dm, sm, 2 * MIB);
	CHECK(holds(dst, dm, 4 * MIB, true));
drop:
	drop_file(src, "nr-src", sm);
	drop_file(dst, "nr-dst", dm);
}

static void clear_faults(void)
{
	memset(svm_mover_faults, 0, sizeof(svm_mover_faults));
}

/* The fallback chain, driven through the fault-injection seam. */
static void fallback_chain(void)
{
	const uint64_t len = 20 * MIB + 5;
	struct svm_mover_result res;
	uint8_t *sm, *dm;
	int src = new_file("fb-src", 24 * MIB, 6, &sm, 24 * MIB);
	int dst = new_file("fb-dst", 24 * MIB, 7, &dm, 24 * MIB);

	if (src < 0 || dst < 0)
		goto drop;
	/* reflink between filesystems, copy_file_range on block devices: bounce moves it all */
	svm_mover_faults[REFLINK].err = -EXDEV;
	svm_mover_faults[KERNEL].err = -EINVAL;
	CHECK_EQ(copy(SVM_MOVER_AUTO, src, 0, dst, 0, 4 * MIB, &res), 0);
	CHECK(res.declined[REFLINK] == -EXDEV && res.declined[KERNEL] == -EINVAL);
	CHECK(res.moved[BOUNCE] == 4 * MIB && res.done == 4 * MIB);
	memcpy(dm, sm, 4 * MIB);
	CHECK(holds(dst, dm, 24 * MIB, true));
	/* pinned: -EOPNOTSUPP, the reason kept, nothing touched */
	CHECK_EQ(copy(KERNEL, src, 5 * MIB, dst, 5 * MIB, MIB, &res), -EOPNOTSUPP);
	CHECK(res.declined[KERNEL] == -EINVAL && res.done == 0 && moved_sum(&res) == 0);
	CHECK_EQ(copy(REFLINK, src, 5 * MIB, dst, 5 * MIB, MIB, &res), -EOPNOTSUPP);
	CHECK(res.declined[REFLINK] == -EXDEV && res.done == 0);
	CHECK(holds(dst, dm, 24 * MIB, true));
	clear_faults();

	/*
	 * kernel declines after 16 MiB: bounce takes over where it stopped
	 * (reflink declines too, whatever test_dir's filesystem)
	 */
	svm_mover_faults[REFLINK] = (struct svm_mover_fault){-EXDEV, 0};
	svm_mover_faults[KERNEL] = (struct svm_mover_fault){-EOPNOTSUPP, 16 * MIB};
	CHECK_EQ(copy(SVM_MOVER_AUTO, src, 3, dst, 3, len, &res), 0);
	CHECK(res.moved[KERNEL] >= 16 * MIB && res.moved[BOUNCE] > 0 && moved_sum(&res) == len);
	CHECK_EQ(res.declined[KERNEL], -EOPNOTSUPP);
	memcpy(dm + 3, sm + 3, len);
	CHECK(holds(dst, dm, 24 * MIB, true));
	/* ETXTBSY (a swap file), ENOSYS (an old kernel) decline too */
	svm_mover_faults[KERNEL] = (struct svm_mover_fault){-ENOSYS, 0};
	svm_mover_faults[REFLINK] = (struct svm_mover_fault){-ETXTBSY, 0};
	CHECK_EQ(copy(SVM_MOVER_AUTO, src, MIB, dst, 0, 3 * MIB, &res), 0);
	CHECK(res.moved[BOUNCE] == 3 * MIB && res.declined[KERNEL] == -ENOSYS);
	CHECK_EQ(res.declined[REFLINK], -ETXTBSY);
	memcpy(dm, sm + MIB, 3 * MIB);
	CHECK(holds(dst, dm, 24 * MIB, true));
	clear_faults();

	/* a real error ends the copy: no fallback */
	svm_mover_faults[REFLINK] = (struct svm_mover_fault){-EXDEV, 0};
	svm_mover_faults[KERNEL] = (struct svm_mover_fault){-EIO, 0};
	CHECK_EQ(copy(SVM_MOVER_AUTO, src, 0, dst, 0, 2 * MIB, &res), -EIO);
	CHECK(res.moved[BOUNCE] == 0 && res.done == 0 && res.declined[KERNEL] == 0);
	clear_faults();
	svm_mover_faults[REFLINK] = (struct svm_mover_fault){-ENOSPC, 0};
	CHECK_EQ(copy(SVM_MOVER_AUTO, src, 0, dst, 0, 2 * MIB, &res), -ENOSPC);
	CHECK(moved_sum(&res) == 0 && res.declined[REFLINK] == 0);
	clear_faults();
	/* bounce fails reading 3 MiB in: the chunks read before are all written */
	svm_mover_faults[BOUNCE] = (struct svm_mover_fault){-EIO, 3 * MIB};
	CHECK_EQ(copy(BOUNCE, src, MIB, dst, 0, 8 * MIB, &res), -EIO);
	CHECK(res.done == 3 * MIB && res.moved[BOUNCE] == 3 * MIB);
	memcpy(dm, sm + MIB, 3 * MIB);
	CHECK(holds(dst, dm, 3 * MIB, false));
	clear_faults();
drop:
	drop_file(src, "fb-src", sm);
	drop_file(dst, "fb-dst", dm);
}

/* EFBIG from the file size limit: bounce stops at its last whole chunk, auto does not fall back. */
static void write_errors(void)
{
	struct rlimit old, lim;
	struct svm_mover_result res;
	uint8_t *sm, *dm, *dm2;
	int src = new_file("we-src", 8 * MIB, 8, &sm, 8 * MIB);
	int dst = new_file("we-dst", 0, 0, &dm, 1);
	int dst2 = new_file("we-dst2", 0, 0, &dm2, 1);
	void (*old_handler)(int);
	int r1, r2;

	if (src < 0 || dst < 0 || dst2 < 0 || getrlimit(RLIMIT_FSIZE, &old))
		goto drop;
	old_handler = signal(SIGXFSZ, SIG_IGN);
	lim = old;
	lim.rlim_cur = 2 * MIB + MIB / 2;
	CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
	r1 = copy(BOUNCE, src, 0, dst, 0, 8 * MIB, &res);
	CHECK(res.done == 2 * MIB && res.moved[BOUNCE] == 2 * MIB);
	r2 = copy(SVM_MOVER_AUTO, src, 0, dst2, 0, 8 * MIB, &res);
	CHECK(res.moved[BOUNCE] == 0 && res.declined[KERNEL] == 0);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, old_handler);
	CHECK_EQ(r1, -EFBIG);
	CHECK_EQ(r2, -EFBIG);
	CHECK(holds(dst, sm, 2 * MIB, false));
drop:
	drop_file(src, "we-src", sm);
	drop_file(dst, "we-dst", dm);
	drop_file(dst2, "we-dst2", dm2);
}

/*
 * A deadline already past: one step, -ETIMEDOUT, and a second call for the
 * rest completes the copy exactly, overlapping ranges included.
 */
static void deadline(void)
{
	struct svm_mover_req req;
	struct svm_mover_result res;
	uint8_t *sm, *dm;
	const uint64_t len = 40 * MIB + 3;
	int src = new_file("dl-src", 48 * MIB, 9, &sm, 48 * MIB);
	int dst = new_file("dl-dst", 48 * MIB, 10, &dm, 48 * MIB);

	if (src < 0 || dst < 0)
		goto drop;
	for (enum svm_mover_kind k = BOUNCE; k <= KERNEL; k++) {
		req = (struct svm_mover_req){k, src, 5, dst, 7, len, .deadline_ns = 1};
		CHECK_EQ(svm_mover_copy(&req, &res), -ETIMEDOUT);
		CHECK(res.done > 0 && res.done < len && res.done % CHUNK == 0);
		if (k == BOUNCE)
			CHECK_EQ(res.done, CHUNK);
		req.src_off += res.done;
		req.dst_off += res.done;
		req.len -= res.done;
		req.deadline_ns = 0;
		CHECK_EQ(svm_mover_copy(&req, &res), 0);
		memcpy(dm + 7, sm + 5, len);
		CHECK(holds(dst, dm, 48 * MIB, true));
	}
	/* within one file, overlapping backward then forward, bounce: resumed, still memmove */
	for (int dir = 0; dir < 2; dir++) {
		uint64_t so = dir ? 4096 + 17 : 17, doff = dir ? 17 : 4096 + 17, n = 6 * MIB + 1;

		req = (struct svm_mover_req){BOUNCE, src, so, src, doff, n, .deadline_ns = 1};
		CHECK_EQ(svm_mover_copy(&req, &res), -ETIMEDOUT);
		CHECK(res.done == CHUNK && res.backward == !dir);
		if (dir) {
			req.src_off += res.done;
			req.dst_off += res.done;
		}
		req.len -= res.done;
		req.deadline_ns = 0;
		CHECK_EQ(svm_mover_copy(&req, &res), 0);
		memmove(sm + doff, sm + so, n);
		CHECK(holds(src, sm, 48 * MIB, true));
	}
drop:
	drop_file(src, "dl-src", sm);
	drop_file(dst, "dl-dst", dm);
}

/* bounce keeps reads and writes of different chunks going at once. */
static void pipelining(void)
{
	struct svm_mover_result res;
	uint8_t *sm, *dm;
	int src = new_file("pl-src", 32 * MIB, 11, &sm, 32 * MIB);
	int dst = new_file("pl-dst", 0, 0, &dm, 1);

	if (src < 0 || dst < 0)
		goto drop;
	CHECK_EQ(copy(BOUNCE, src, 0, dst, 0, 32 * MIB, &res), 0);
	CHECK(res.bounce_overlaps > 0);
	CHECK(holds(dst, sm, 32 * MIB, true));
	printf("mover: bounce read %u of 32 chunks while writing another\n", res.bounce_overlaps);
drop:
	drop_file(src, "pl-src", sm);
	drop_file(dst, "pl-dst", dm);
}

/*
 * io_bytes: bounce in larger pieces (fewer ring slots, one read and one
 * write for a copy of at most a piece), the same bytes as memmove; faults,
 * deadlines and direct I/O counted in those pieces; more than the ring
 * taken as the ring.
 */
static void io_sizes(void)
{
	const uint64_t size = 24 * MIB;
	struct svm_mover_result res;
	struct svm_mover_req req;
	uint8_t *sm, *dm, *m;
	bool direct = test_dir_direct_io();
	int src = new_file("io-src", size, 21, &sm, size);
	int dst = new_file("io-dst", size, 22, &dm, size);
	int one = new_file("io-one", size, 23, &m, size);

	if (src < 0 || dst < 0 || one < 0)
		goto drop;
	/* a copy of one piece: one read, then its write, no read while writing */
	req = (struct svm_mover_req){BOUNCE, src, 0, dst, 0, 4 * MIB, .io_bytes = 4 * MIB};
	CHECK_EQ(svm_mover_copy(&req, &res), 0);
	CHECK(res.done == 4 * MIB && res.bounce_overlaps == 0);
	memcpy(dm, sm, 4 * MIB);
	CHECK(holds(dst, dm, size, true));
	if (direct)
		CHECK(res.bounce_direct_read == 4 * MIB && res.bounce_direct_written == 4 * MIB);
	/* 2 MiB pieces, a short last one */
	req = (struct svm_mover_req){
	    BOUNCE, src, MIB, dst, 5 * MIB, 9 * MIB + 5, .io_bytes = 2 * MIB};
	CHECK_EQ(svm_mover_copy(&req, &res), 0);
	memcpy(dm + 5 * MIB, sm + MIB, 9 * MIB + 5);
	CHECK(holds(dst, dm, size, true));
	if (direct)
		CHECK(res.bounce_direct_read == 8 * MIB && res.bounce_direct_written == 8 * MIB);
	/* more than the ring: as the ring; pieces off the direct alignment: buffered, same bytes */
	req = (struct svm_mover_req){BOUNCE, src, 3, dst, 7, 10 * MIB, .io_bytes = 64 * MIB};
	CHECK_EQ(svm_mover_copy(&req, &res), 0);
	memcpy(dm + 7, sm + 3, 10 * MIB);
	CHECK(holds(dst, dm, size, true));
	req = (struct svm_mover_req){BOUNCE, src, 0, dst, 0, 7 * MIB, .io_bytes = 3 * MIB + 512};
	CHECK_EQ(svm_mover_copy(&req, &res), 0);
	memcpy(dm, sm, 7 * MIB);
	CHECK(holds(dst, dm, size, true));
	/* within one file, overlapping, 4 KiB apart, both ways: memmove's result */
	req = (struct svm_mover_req){
	    BOUNCE, one, MIB, one, MIB + 4096, 10 * MIB, .io_bytes = 4 * MIB};
	CHECK_EQ(svm_mover_copy(&req, &res), 0);
	CHECK(res.backward);
	memmove(m + MIB + 4096, m + MIB, 10 * MIB);
	CHECK(holds(one, m, size, true));
	req = (struct svm_mover_req){BOUNCE,  one,     2 * MIB + 4096,	   one,
				     2 * MIB, 9 * MIB, .io_bytes = 4 * MIB};
	CHECK_EQ(svm_mover_copy(&req, &res), 0);
	CHECK(!res.backward);
	memmove(m + 2 * MIB, m + 2 * MIB + 4096, 9 * MIB);
	CHECK(holds(one, m, size, true));
	/* the second piece's read fails (4 MiB in): the first is written, and counted */
	svm_mover_faults[BOUNCE] = (struct svm_mover_fault){-EIO, 4 * MIB};
	req = (struct svm_mover_req){BOUNCE, src, 0, dst, 0, 12 * MIB, .io_bytes = 4 * MIB};
	CHECK_EQ(svm_mover_copy(&req, &res), -EIO);
	CHECK(res.done == 4 * MIB && res.moved[BOUNCE] == 4 * MIB);
	memcpy(dm, sm, 4 * MIB);
	CHECK(holds(dst, dm, 4 * MIB, false));
	clear_faults();
	/* past the deadline: the first piece only, then the rest completes the copy */
	req = (struct svm_mover_req){
	    BOUNCE, src, 0, dst, 0, 12 * MIB, .deadline_ns = 1, .io_bytes = 4 * MIB};
	CHECK_EQ(svm_mover_copy(&req, &res), -ETIMEDOUT);
	CHECK_EQ(res.done, 4 * MIB);
	req.src_off = req.dst_off = res.done;
	req.len -= res.done;
	req.deadline_ns = 0;
	CHECK_EQ(svm_mover_copy(&req, &res), 0);
	memcpy(dm, sm, 12 * MIB);
	CHECK(holds(dst, dm, size, true));
drop:
	clear_faults();
	drop_file(src, "io-src", sm);
	drop_file(dst, "io-dst", dm);
	drop_file(one, "io-one", m);
}

/*
 * Attach the file path to a free loop device, detached again when its last
 * fd closes. The device's fd (O_RDWR), or -1 with *why set.
 */
static int loop_attach(const char *path, char *dev, size_t len, const char **why)
{
	struct loop_info64 info = {.lo_flags = LO_FLAGS_AUTOCLEAR};
	int ctl, back, fd = -1;

	*why = "no /dev/loop-control";
	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	back = open(path, O_RDWR | O_CLOEXEC);
	for (int tries = 0; ctl >= 0 && back >= 0 && fd < 0 && tries < 10; tries++) {
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);

		*why = "no free loop device";
		if (n < 0)
			break;
		snprintf(dev, len, "/dev/loop%d", n);
		fd = open(dev, O_RDWR | O_CLOEXEC);
		if (fd >= 0 && ioctl(fd, LOOP_SET_FD, back)) {
			close(fd);
			fd = -1; /* taken meanwhile (EBUSY): another */
		}
	}
	if (fd >= 0 && ioctl(fd, LOOP_SET_STATUS64, &info)) {
		*why = "cannot set up a loop device";
		ioctl(fd, LOOP_CLR_FD, 0);
		close(fd);
		fd = -1;
	}
	if (fd >= 0)
		*why = NULL;
	if (ctl >= 0)
		close(ctl);
	if (back >= 0)
		close(back);
	return fd;
}

/* Block devices (loop): no copy_file_range or reflink there, so auto is bounce. */
static void block_devices(void)
{
	const uint64_t size = 8 * MIB, len = 5 * MIB + 3;
	struct svm_mover_result res;
	uint8_t *am, *bm, *fm;
	char dev[32], dev2[32];
	const char *why;
	int a = new_file("loop-a", size, 12, &am, size),
	    b = new_file("loop-b", size, 13, &bm, size);
	int f = new_file("loop-f", size, 14, &fm, size), la = -1, lb = -1, la2, ret;
	char path[160];

	if (a < 0 || b < 0 || f < 0)
		goto drop;
	path_of(path, sizeof(path), "loop-a");
	la = loop_attach(path, dev, sizeof(dev), &why);
	path_of(path, sizeof(path), "loop-b");
	lb = la < 0 ? -1 : loop_attach(path, dev2, sizeof(dev2), &why);
	if (la < 0 || lb < 0) {
		printf("mover: block device checks skipped: %s (%s)\n", why, strerror(errno));
		goto drop;
	}
	CHECK_EQ(copy(SVM_MOVER_AUTO, la, 3, lb, MIB + 512, len, &res), 0);
	CHECK(res.declined[REFLINK] == -EINVAL && moved_sum(&res) == len);
	if (res.moved[KERNEL])
		printf("mover: this kernel's copy_file_range copies between block devices\n");
	else
		CHECK(res.declined[KERNEL] == -EINVAL && res.moved[BOUNCE] == len);
	memcpy(bm + MIB + 512, am + 3, len);
	CHECK(holds(lb, bm, size, false));
	ret = copy(KERNEL, la, 0, lb, 0, MIB, &res);
	CHECK(ret == -EOPNOTSUPP || (ret == 0 && res.moved[KERNEL] == MIB));
	if (!ret)
		memcpy(bm, am, MIB);
	CHECK_EQ(copy(REFLINK, la, 0, lb, 0, MIB, &res), -EOPNOTSUPP);
	/* file to device and back */
	CHECK_EQ(copy(SVM_MOVER_AUTO, f, 4096, lb, 3 * MIB, 2 * MIB, &res), 0);
	memcpy(bm + 3 * MIB, fm + 4096, 2 * MIB);
	CHECK(moved_sum(&res) == 2 * MIB && holds(lb, bm, size, false));
	CHECK_EQ(copy(SVM_MOVER_AUTO, lb, 7, f, 0, 3 * MIB, &res), 0);
	memcpy(fm, bm + 7, 3 * MIB);
	CHECK(moved_sum(&res) == 3 * MIB && holds(f, fm, size, true));
	/* device to device, aligned: direct I/O both ways */
	CHECK_EQ(copy(BOUNCE, la, MIB, lb, 2 * MIB, 3 * MIB, &res), 0);
	memcpy(bm + 2 * MIB, am + MIB, 3 * MIB);
	CHECK(holds(lb, bm, size, false));
	CHECK(res.bounce_direct_read == 3 * MIB && res.bounce_direct_written == 3 * MIB);
	/* a device is not grown: -ENOSPC; nor read past its end */
	CHECK_EQ(copy(BOUNCE, f, 0, lb, size - 100, 101, &res), -ENOSPC);
	CHECK_EQ(copy(BOUNCE, lb, size - 100, f, 0, 101, &res), -EINVAL);
	/* the same device through two fds: one device, overlapping backward */
	la2 = open(dev, O_RDWR | O_CLOEXEC);
	CHECK(la2 >= 0);
	CHECK_EQ(copy(SVM_MOVER_AUTO, la, 4096, la2, 8192 + 5, 6 * MIB, &res), 0);
	CHECK(res.backward && res.moved[BOUNCE] == 6 * MIB);
	memmove(am + 8192 + 5, am + 4096, 6 * MIB);
	CHECK(holds(la, am, size, false));
	if (la2 >= 0)
		close(la2);
drop:
	if (la >= 0)
		close(la);
	if (lb >= 0)
		close(lb);
	drop_file(a, "loop-a", am);
	drop_file(b, "loop-b", bm);
	drop_file(f, "loop-f", fm);
}

/* Bytes of fd's extents that FIEMAP flags shared (with another file). */
static uint64_t shared_bytes(int fd)
{
	const unsigned max = 256;
	struct fiemap *fm = calloc(1, sizeof(*fm) + max * sizeof(struct fiemap_extent));
	uint64_t shared = 0, start = 0;
	bool last = false;

	while (fm && !last) {
		memset(fm, 0, sizeof(*fm));
		fm->fm_start = start;
		fm->fm_length = FIEMAP_MAX_OFFSET - start;
		fm->fm_flags = FIEMAP_FLAG_SYNC;
		fm->fm_extent_count = max;
		if (ioctl(fd, FS_IOC_FIEMAP, fm) || !fm->fm_mapped_extents)
			break;
		for (unsigned i = 0; i < fm->fm_mapped_extents; i++) {
			const struct fiemap_extent *e = &fm->fm_extents[i];

			if (e->fe_flags & FIEMAP_EXTENT_SHARED)
				shared += e->fe_length;
			last = e->fe_flags & FIEMAP_EXTENT_LAST;
			start = e->fe_logical + e->fe_length;
		}
	}
	free(fm);
	return shared;
}

static uint64_t ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (uint64_t)(t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/*
 * reflink for real: on an XFS filesystem with reflink=1 in a loop-mounted
 * image, a 64 MiB clone takes no new blocks and FIEMAP shows it shared;
 * the EOF tail rule; auto splits an unaligned range; reflink across
 * filesystems declines with EXDEV. Skipped (saying why) without mkfs.xfs
 * or a loop mount.
 */
static void xfs_reflink_run(const char *mnt);

static void xfs_reflink(void)
{
	char img[160], mnt[160], cmd[400], dev[32];
	const char *why = NULL;
	int fd, lfd = -1;

	path_of(img, sizeof(img), "xfs.img");
	path_of(mnt, sizeof(mnt), "xfs");
	if (system("command -v mkfs.xfs >/dev/null 2>&1")) {
		printf("mover: XFS reflink checks skipped: no mkfs.xfs (package xfsprogs)\n");
		return;
	}
	fd = open(img, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && ftruncate(fd, 512 * MIB) == 0);
	if (fd >= 0)
		close(fd);
	snprintf(cmd, sizeof(cmd), "mkfs.xfs -q -f -m reflink=1 %s >/dev/null 2>&1", img);
	if (system(cmd))
		why = "mkfs.xfs failed";
	else
		lfd = loop_attach(img, dev, sizeof(dev), &why);
	if (lfd >= 0 && (mkdir(mnt, 0700) || mount(dev, mnt, "xfs", 0, NULL)))
		why = "cannot mount it";
	if (lfd < 0 || why) {
		printf("mover: XFS reflink checks skipped: %s (%s)\n", why, strerror(errno));
		goto unlink_img;
	}
	xfs_reflink_run(mnt);
	CHECK(umount2(mnt, 0) == 0);
unlink_img:
	if (lfd >= 0)
		close(lfd);
	rmdir(mnt);
	unlink(img);
}

static void xfs_reflink_run(const char *mnt)
{
	const uint64_t size = 64 * MIB;
	struct svm_mover_result res;
	struct statfs before, after;
	struct timespec t0;
	uint8_t *m, *m2, *m3;
	char path[200];
	int src, dst, out, one;
	uint64_t used, ms;

	CHECK(reflinks_in(mnt));
	snprintf(path, sizeof(path), "%s/src", mnt);
	src = open(path, O_RDWR | O_CREAT, 0600);
	snprintf(path, sizeof(path), "%s/dst", mnt);
	dst = open(path, O_RDWR | O_CREAT, 0600);
	m = malloc(size + 100);
	m2 = calloc(1, size + 100);
	out = new_file("xfs-out", 0, 0, &m3, 1); /* on test_dir: another filesystem */
	if (src < 0 || dst < 0 || !m || !m2 || out < 0) {
		CHECK(!"XFS files");
		goto close_files;
	}
	for (uint64_t i = 0; i < size + 100; i++)
		m[i] = pat(i, 15);
	CHECK(pwrite(src, m, size, 0) == (ssize_t)size && fsync(src) == 0);

	/* 64 MiB cloned: metadata only */
	CHECK(syncfs(src) == 0 && fstatfs(src, &before) == 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_EQ(copy(REFLINK, src, 0, dst, 0, size, &res), 0);
	ms = ms_since(&t0);
	CHECK(res.moved[REFLINK] == size && res.done == size);
	CHECK(fsync(dst) == 0 && syncfs(dst) == 0 && fstatfs(dst, &after) == 0);
	/* (XFS may trim the source's preallocation meanwhile: more free blocks after) */
	used =
	    before.f_bfree > after.f_bfree ? (before.f_bfree - after.f_bfree) * before.f_bsize : 0;
	CHECK(used < size / 100);
	CHECK_EQ(shared_bytes(dst), size);
	CHECK(holds(dst, m, size, true));
	printf("mover: XFS reflink: 64 MiB cloned in %llu ms, %llu KiB of new blocks, "
	       "%llu MiB shared\n",
	       (unsigned long long)ms, (unsigned long long)used >> 10,
	       (unsigned long long)shared_bytes(dst) >> 20);

	/* the EOF rule: an unaligned source EOF clones onto the destination's end */
	CHECK(pwrite(src, m + size, 100, size) == 100);
	CHECK_EQ(copy(REFLINK, src, size - 4096, dst, size - 4096, 4196, &res), 0);
	CHECK(res.moved[REFLINK] == 4196 && holds(dst, m, size + 100, true));
	/* ... but not into the middle of a longer destination: auto clones the blocks before it */
	CHECK_EQ(copy(REFLINK, src, size - 4096, dst, 0, 4196, &res), -EOPNOTSUPP);
	CHECK_EQ(res.declined[REFLINK], -EINVAL);
	CHECK_EQ(copy(SVM_MOVER_AUTO, src, size - 4096, dst, 0, 4196, &res), 0);
	CHECK(res.moved[REFLINK] == 4096 && res.moved[KERNEL] == 100);
	memcpy(m2, m, size + 100);
	memcpy(m2, m + size - 4096, 4196);
	CHECK(holds(dst, m2, size + 100, true));

	/* unaligned: head and tail by kernel, the middle cloned */
	CHECK_EQ(copy(SVM_MOVER_AUTO, src, 1000, dst, 9192, 10 * MIB + 5, &res), 0);
	CHECK(res.moved[KERNEL] == 3096 + (10 * MIB + 5 - 3096) % 4096);
	CHECK(res.moved[REFLINK] == 10 * MIB + 5 - res.moved[KERNEL]);
	memcpy(m2 + 9192, m + 1000, 10 * MIB + 5);
	CHECK(holds(dst, m2, size + 100, true));
	/* unequally aligned: no reflink at all */
	CHECK_EQ(copy(SVM_MOVER_AUTO, src, 1000, dst, 9000, MIB, &res), 0);
	CHECK(res.declined[REFLINK] == -EINVAL && res.moved[KERNEL] == MIB);
	memcpy(m2 + 9000, m + 1000, MIB);
	CHECK(holds(dst, m2, size + 100, true));

	/* within one file, overlapping backward, 2 MiB apart: cloned in pieces */
	one = dst;
	CHECK_EQ(copy(SVM_MOVER_AUTO, one, 4 * MIB, one, 6 * MIB, 8 * MIB, &res), 0);
	CHECK(res.backward && res.moved[REFLINK] == 8 * MIB);
	memmove(m2 + 6 * MIB, m2 + 4 * MIB, 8 * MIB);
	CHECK(holds(one, m2, size + 100, true));

	/* to another filesystem: reflink declines with EXDEV, auto still copies */
	CHECK_EQ(copy(REFLINK, src, 0, out, 0, MIB, &res), -EOPNOTSUPP);
	CHECK_EQ(res.declined[REFLINK], -EXDEV);
	CHECK_EQ(copy(SVM_MOVER_AUTO, src, 0, out, 0, 3 * MIB, &res), 0);
	CHECK(res.declined[REFLINK] == -EXDEV && moved_sum(&res) == 3 * MIB);
	CHECK(holds(out, m, 3 * MIB, true));
close_files:
	if (src >= 0)
		close(src);
	if (dst >= 0)
		close(dst);
	free(m);
	free(m2);
	drop_file(out, "xfs-out", m3);
}

void mover_test(void)
{
	dir_reflinks = reflinks_in(test_dir);
	clear_faults();
	names();
	bad_requests();
	between_files();
	within_file();
	no_reflink_here();
	fallback_chain();
	write_errors();
	deadline();
	pipelining();
	direct_io();
	io_sizes();
	block_devices();
	xfs_reflink();
}
