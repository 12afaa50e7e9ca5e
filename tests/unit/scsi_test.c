/* SPDX-License-Identifier: Apache-2.0 */
/*
 * handler/scsi.c without the runner: an svm_lun opened on a store under
 * test_dir, and CDBs sent through svm_scsi_route and svm_scsi_execute the
 * way handler/plugin.c sends them.
 */
#define _GNU_SOURCE
#include "test.h"
#include "xcopy_lists.h"
#include "../../handler/cdb.h"
#include "../../handler/cfg.h"
#include "../../handler/limits.h"
#include "../../handler/lun.h"
#include "../../handler/registry.h"
#include "../../handler/scsi.h"
#include "../../handler/store.h"
#include "../../xcopy/xcopy.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define SERIAL "scsi-test-0001"

static int fixed_serial(void *arg, char *buf, size_t len)
{
	(void)arg;
	snprintf(buf, len, "%s", SERIAL);
	return 0;
}

static void store_path(char *path, size_t len, const char *name)
{
	snprintf(path, len, "%s/%s", test_dir, name);
}

/*
 * Open a LUN on test_dir/name (created sparse when missing). max_xfer: the
 * Block Limits MAXIMUM TRANSFER LENGTH (0: none). NULL if it cannot (a
 * failed check), *err (may be NULL) then holds the -errno.
 */
static struct svm_lun *open_lun_err(const char *name, uint32_t bs, uint64_t nlbas,
				    uint32_t max_xfer, bool wce, int *err)
{
	char path[256], *reason = NULL;
	struct svm_lun *lun = NULL;
	struct svm_cfg cfg;
	int ret;

	store_path(path, sizeof(path), name);
	ret = svm_cfg_parse(path, &cfg, &reason);
	if (!ret) {
		struct svm_lun_params p = {
			.cfg = &cfg,
			.block_size = bs,
			.num_lbas = nlbas,
			.max_xfer_blocks = max_xfer,
			.wce = wce,
			.serial = fixed_serial,
		};

		ret = svm_lun_open(&p, &lun, &reason);
		svm_cfg_free(&cfg);
	}
	if (ret && !err)
		fprintf(stderr, "  cannot open a LUN on %s: %s\n", path, reason ? reason : "?");
	free(reason);
	if (err)
		*err = ret;
	return ret ? NULL : lun;
}

static struct svm_lun *open_lun(const char *name, uint32_t bs, uint64_t nlbas, uint32_t max_xfer,
				bool wce)
{
	struct svm_lun *lun = open_lun_err(name, bs, nlbas, max_xfer, wce, NULL);

	CHECK(lun != NULL);
	return lun;
}

static void close_lun(struct svm_lun *lun, const char *name)
{
	char path[256];

	svm_lun_close(lun);
	store_path(path, sizeof(path), name);
	unlink(path);
}

/* Route, then execute (as plugin.c does); *out (may be NULL) gets the request after. */
static enum svm_sense run_iov(struct svm_lun *lun, const uint8_t *cdb, struct iovec *iov,
			      size_t cnt, struct svm_scsi_req *out)
{
	struct svm_scsi_req req = {.cdb = cdb, .iov = iov, .iov_cnt = cnt};
	enum svm_sense s;

	svm_scsi_route(lun, &req);
	s = svm_scsi_execute(lun, &req);
	if (out)
		*out = req;
	return s;
}

static enum svm_sense run(struct svm_lun *lun, const uint8_t *cdb, void *buf, size_t len)
{
	struct iovec v = {buf, len};

	return run_iov(lun, cdb, &v, len ? 1 : 0, NULL);
}

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* A block whose bytes tell its seed and offset apart. */
static void pattern(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 31 + seed * 7 + (i >> 9) + 1);
}

/*
 * Block sizes up to SVM_BLOCK_SIZE_MAX: VERIFY (BYTCHK 01b and 11b) and
 * WRITE SAME of a non-zero block over more blocks than one bounce chunk
 * holds. Bounce buffers are sized from the block size, never smaller than
 * one block (a block of more than a chunk once overflowed them).
 */
static void big_blocks(void)
{
	const uint32_t bs = SVM_BLOCK_SIZE_MAX, n = 20;
	struct svm_lun *lun = open_lun("scsi-big.img", bs, 64, 0, true);
	uint8_t cdb[16], *data = malloc((size_t)n * bs), *back = malloc((size_t)n * bs);
	uint8_t *blk = malloc(bs);
	struct svm_scsi_req req;
	struct iovec v;
	bool same = true;

	if (!lun || !data || !back || !blk) {
		CHECK(0);
		goto free_bufs;
	}
	pattern(data, (size_t)n * bs, 1);
	test_cdb10(cdb, SVM_OP_WRITE10, 0, n);
	CHECK_EQ(run(lun, cdb, data, (size_t)n * bs), SVM_SENSE_OK);

	/* BYTCHK 01b over n blocks: a match, then a miscompare in block 17 */
	test_cdb16(cdb, SVM_OP_VERIFY16, 0, n);
	cdb[1] = 0x02;
	CHECK_EQ(run(lun, cdb, data, (size_t)n * bs), SVM_SENSE_OK);
	data[(size_t)17 * bs + 5] ^= 0x40;
	v = (struct iovec){data, (size_t)n * bs};
	CHECK_EQ(run_iov(lun, cdb, &v, 1, &req), SVM_SENSE_MISCOMPARE_VERIFY);
	CHECK(req.has_info && req.info == (uint64_t)17 * bs + 5);

	/* WRITE SAME(10) of a non-zero block over n blocks at LBA 30 */
	pattern(blk, bs, 9);
	test_cdb10(cdb, SVM_OP_WRITE_SAME10, 30, n);
	CHECK_EQ(run(lun, cdb, blk, bs), SVM_SENSE_OK);
	test_cdb10(cdb, SVM_OP_READ10, 30, n);
	CHECK_EQ(run(lun, cdb, back, (size_t)n * bs), SVM_SENSE_OK);
	for (uint32_t i = 0; i < n; i++)
		same &= !memcmp(back + (size_t)i * bs, blk, bs);
	CHECK(same);

	/* BYTCHK 11b over the same n blocks: a match; then block 47 differs at byte 300 */
	test_cdb10(cdb, SVM_OP_VERIFY10, 30, n);
	cdb[1] = 0x06;
	CHECK_EQ(run(lun, cdb, blk, bs), SVM_SENSE_OK);
	memcpy(back, blk, bs);
	back[300] ^= 0x01;
	test_cdb10(cdb, SVM_OP_WRITE10, 47, 1);
	CHECK_EQ(run(lun, cdb, back, bs), SVM_SENSE_OK);
	test_cdb10(cdb, SVM_OP_VERIFY10, 30, n);
	cdb[1] = 0x06;
	v = (struct iovec){blk, bs};
	CHECK_EQ(run_iov(lun, cdb, &v, 1, &req), SVM_SENSE_MISCOMPARE_VERIFY);
	CHECK(req.has_info && req.info == 300);
	close_lun(lun, "scsi-big.img");
free_bufs:
	free(data);
	free(back);
	free(blk);
}

/*
 * VERIFICATION LENGTH over the Block Limits MAXIMUM TRANSFER LENGTH is
 * refused before any I/O, whatever BYTCHK: one block of data-out with
 * BYTCHK 11b must not make the LUN compare its whole capacity.
 */
static void verify_cap(void)
{
	const uint32_t bs = 512, max = 128;
	const uint64_t nlbas = 1u << 21; /* 1 GiB, sparse */
	struct svm_lun *lun = open_lun("scsi-cap.img", bs, nlbas, max, true);
	static uint8_t data[(128 + 1) * 512];
	uint8_t cdb[16];

	if (!lun)
		return;
	memset(data, 0, sizeof(data));
	/* the whole LUN with one block of data-out */
	test_cdb16(cdb, SVM_OP_VERIFY16, 0, nlbas);
	cdb[1] = 0x06;
	CHECK_EQ(run(lun, cdb, data, bs), SVM_SENSE_INVALID_FIELD_IN_CDB);
	test_cdb10(cdb, SVM_OP_VERIFY10, 0, max + 1);
	cdb[1] = 0x06;
	CHECK_EQ(run(lun, cdb, data, bs), SVM_SENSE_INVALID_FIELD_IN_CDB);
	test_cdb10(cdb, SVM_OP_VERIFY10, 0, max);
	cdb[1] = 0x06;
	CHECK_EQ(run(lun, cdb, data, bs), SVM_SENSE_OK); /* the medium reads zeroes */
	/*
	 * BYTCHK 01b compares only the data-out sent, 00b reads nothing: longer
	 * lengths pass, as on LIO (libiscsi's Verify tests send up to 256 blocks)
	 */
	test_cdb12(cdb, SVM_OP_VERIFY12, 0, max + 1);
	cdb[1] = 0x02;
	CHECK_EQ(run(lun, cdb, data, (size_t)(max + 1) * bs), SVM_SENSE_OK);
	test_cdb16(cdb, SVM_OP_VERIFY16, 0, nlbas);
	CHECK_EQ(run(lun, cdb, NULL, 0), SVM_SENSE_OK);
	/* out of range and too long: the range is checked first */
	test_cdb16(cdb, SVM_OP_VERIFY16, nlbas - 1, max + 1);
	cdb[1] = 0x06;
	CHECK_EQ(run(lun, cdb, data, bs), SVM_SENSE_LBA_OUT_OF_RANGE);
	/* the limit is the one the Block Limits page reports */
	uint8_t inq[6] = {SVM_OP_INQUIRY, 0x01, 0xB0, 0, 64, 0}, b[64];
	CHECK_EQ(run(lun, inq, b, sizeof(b)), SVM_SENSE_OK);
	CHECK_EQ(svm_get_be32(b + 8), max);
	close_lun(lun, "scsi-cap.img");

	/* MAXIMUM TRANSFER LENGTH 0: no limit */
	lun = open_lun("scsi-cap.img", bs, 4096, 0, true);
	if (!lun)
		return;
	test_cdb16(cdb, SVM_OP_VERIFY16, 0, 4096);
	cdb[1] = 0x06;
	CHECK_EQ(run(lun, cdb, data, bs), SVM_SENSE_OK);
	close_lun(lun, "scsi-cap.img");
}

/* Whether any page of the open file fd is in the page cache (mincore). */
static bool cached(int fd)
{
	long pg = sysconf(_SC_PAGESIZE);
	struct stat sb;
	unsigned char *vec;
	bool any = false;
	void *map;

	if (fstat(fd, &sb) || !sb.st_size)
		return false;
	map = mmap(NULL, sb.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return false;
	vec = calloc((sb.st_size + pg - 1) / pg, 1);
	if (vec && !mincore(map, sb.st_size, vec))
		for (off_t i = 0; i < (sb.st_size + pg - 1) / pg && !any; i++)
			any = vec[i] & 1;
	free(vec);
	munmap(map, sb.st_size);
	return any;
}

/*
 * Drop the store's pages from the page cache (after its dirty pages are
 * written). The kernel may keep a page that another CPU still holds in its
 * LRU batch: evict again, 5 times at most.
 */
static void evict(const char *name)
{
	char path[256];
	bool left = true;
	int fd;

	store_path(path, sizeof(path), name);
	fd = open(path, O_RDONLY);
	for (int tries = 0; fd >= 0 && left && tries < TEST_EVICT_TRIES; tries++) {
		CHECK(fdatasync(fd) == 0 && posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0);
		left = cached(fd);
		if (left)
			usleep(100000);
	}
	CHECK(fd >= 0 && !left);
	if (fd >= 0)
		close(fd);
}

/*
 * Every buffer that is not data-out goes back to the initiator whole
 * (libtcmu 1.5.4 has no residual): what the command did not fill must be
 * zeroes, never what another command left there. Data-out buffers, failed
 * commands and a READ that would block are left alone.
 */
static void stale_data(void)
{
	const uint32_t bs = 512;
	struct svm_lun *lun = open_lun("scsi-stale.img", bs, 1024, 128, true);
	uint8_t cdb[16], buf[4 * 512], data[4 * 512], orig[4 * 512];
	struct svm_scsi_req req;
	struct iovec v[2];

	if (!lun)
		return;
	pattern(data, sizeof(data), 3);
	test_cdb10(cdb, SVM_OP_WRITE10, 0, 4);
	memcpy(orig, data, sizeof(data));
	CHECK_EQ(run(lun, cdb, data, sizeof(data)), SVM_SENSE_OK);
	CHECK(!memcmp(data, orig, sizeof(data))); /* data-out: untouched */

	/* a READ whose buffer is larger than its transfer: the tail is zeroed */
	memset(buf, 0xAA, sizeof(buf));
	test_cdb10(cdb, SVM_OP_READ10, 0, 1);
	CHECK_EQ(run(lun, cdb, buf, sizeof(buf)), SVM_SENSE_OK);
	CHECK(!memcmp(buf, data, bs) && all_bytes(buf + bs, sizeof(buf) - bs, 0));
	/* the same across iovecs */
	memset(buf, 0xAA, sizeof(buf));
	v[0] = (struct iovec){buf, 700};
	v[1] = (struct iovec){buf + 700, sizeof(buf) - 700};
	test_cdb10(cdb, SVM_OP_READ10, 1, 1);
	CHECK_EQ(run_iov(lun, cdb, v, 2, NULL), SVM_SENSE_OK);
	CHECK(!memcmp(buf, data + bs, bs) && all_bytes(buf + bs, sizeof(buf) - bs, 0));
	/* a 0-block READ */
	memset(buf, 0xAA, sizeof(buf));
	test_cdb10(cdb, SVM_OP_READ10, 0, 0);
	CHECK_EQ(run(lun, cdb, buf, sizeof(buf)), SVM_SENSE_OK);
	CHECK(all_bytes(buf, sizeof(buf), 0));
	/* a READ that fills its buffer exactly */
	memset(buf, 0xAA, sizeof(buf));
	test_cdb10(cdb, SVM_OP_READ10, 0, 4);
	CHECK_EQ(run(lun, cdb, buf, sizeof(buf)), SVM_SENSE_OK);
	CHECK(!memcmp(buf, data, sizeof(buf)));

	/* data-less commands */
	static const uint8_t nodata[][16] = {
		{SVM_OP_TEST_UNIT_READY},
		{SVM_OP_SYNC_CACHE10},
		{SVM_OP_SYNC_CACHE16},
		{SVM_OP_PREFETCH10, 0, 0, 0, 0, 0, 0, 0, 8},
		{SVM_OP_PREFETCH16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 8},
		{SVM_OP_START_STOP_UNIT, 0, 0, 0, 0x01},
		{SVM_OP_START_STOP_UNIT, 0, 0, 0, 0x00},
	};
	for (size_t i = 0; i < sizeof(nodata) / sizeof(nodata[0]); i++) {
		memset(buf, 0xAA, sizeof(buf));
		CHECK_EQ(run(lun, nodata[i], buf, sizeof(buf)), SVM_SENSE_OK);
		if (!all_bytes(buf, sizeof(buf), 0))
			fprintf(stderr, "FAIL opcode 0x%02x left stale data\n", nodata[i][0]);
		CHECK(all_bytes(buf, sizeof(buf), 0));
	}

	/* emulated replies: zeroes past the reply */
	uint8_t inq[6] = {SVM_OP_INQUIRY, 0, 0, 0, 36, 0};
	uint8_t rs[6] = {SVM_OP_REQUEST_SENSE, 0, 0, 0, 252, 0};
	memset(buf, 0xAA, sizeof(buf));
	CHECK_EQ(run(lun, inq, buf, sizeof(buf)), SVM_SENSE_OK);
	CHECK(buf[0] == 0 && !memcmp(buf + 8, "LIO-ORG ", 8) &&
	      all_bytes(buf + 36, sizeof(buf) - 36, 0));
	memset(buf, 0xAA, sizeof(buf));
	CHECK_EQ(run(lun, rs, buf, sizeof(buf)), SVM_SENSE_OK);
	CHECK(buf[0] == 0x70 && all_bytes(buf + 18, sizeof(buf) - 18, 0));

	/* data-out, with room to spare: VERIFY, WRITE SAME, UNMAP leave it as it was */
	memcpy(orig, data, sizeof(data));
	test_cdb10(cdb, SVM_OP_VERIFY10, 0, 1);
	cdb[1] = 0x02;
	CHECK_EQ(run(lun, cdb, data, sizeof(data)), SVM_SENSE_OK);
	CHECK(!memcmp(data, orig, sizeof(data)));
	test_cdb10(cdb, SVM_OP_WRITE_SAME10, 8, 4);
	CHECK_EQ(run(lun, cdb, data, bs), SVM_SENSE_OK);
	CHECK(!memcmp(data, orig, sizeof(data)));
	uint8_t um[10] = {SVM_OP_UNMAP, 0, 0, 0, 0, 0, 0, 0, 24, 0};
	memset(data, 0, 24);
	svm_put_be16(data, 22);
	svm_put_be16(data + 2, 16);
	svm_put_be64(data + 8, 8);
	svm_put_be32(data + 16, 4);
	memcpy(orig, data, sizeof(data));
	CHECK_EQ(run(lun, um, data, sizeof(data)), SVM_SENSE_OK);
	CHECK(!memcmp(data, orig, sizeof(data)));

	/* a failed command: the kernel returns no data, nothing is written */
	memset(buf, 0xAA, sizeof(buf));
	test_cdb10(cdb, SVM_OP_READ10, 1023, 2);
	CHECK_EQ(run(lun, cdb, buf, sizeof(buf)), SVM_SENSE_LBA_OUT_OF_RANGE);
	CHECK(all_bytes(buf, sizeof(buf), 0xAA));

	/* cached_only: a READ that would block is left for the worker, untouched */
	pattern(data, sizeof(data), 4);
	test_cdb10(cdb, SVM_OP_WRITE10, 512, 4);
	CHECK_EQ(run(lun, cdb, data, sizeof(data)), SVM_SENSE_OK);
	evict("scsi-stale.img");
	memset(buf, 0xAA, sizeof(buf));
	test_cdb10(cdb, SVM_OP_READ10, 512, 1);
	req = (struct svm_scsi_req){.cdb = cdb, .iov = v, .iov_cnt = 1, .cached_only = true};
	v[0] = (struct iovec){buf, 2 * bs};
	CHECK_EQ(svm_scsi_execute(lun, &req), SVM_SENSE_OK);
	CHECK(req.would_block);
	CHECK(all_bytes(buf, 2 * bs, 0xAA));
	/* ... and once cached, served with the tail zeroed */
	CHECK_EQ(run(lun, cdb, buf, 2 * bs), SVM_SENSE_OK);
	memset(buf, 0xAA, sizeof(buf));
	req = (struct svm_scsi_req){.cdb = cdb, .iov = v, .iov_cnt = 1, .cached_only = true};
	CHECK_EQ(svm_scsi_execute(lun, &req), SVM_SENSE_OK);
	CHECK(!req.would_block);
	CHECK(!memcmp(buf, data, bs) && all_bytes(buf + bs, bs, 0));
	close_lun(lun, "scsi-stale.img");
}

/* A transfer of more iovecs than one preadv/pwritev2 call takes (IOV_MAX). */
static void many_iovecs(void)
{
	const uint32_t bs = 512, n = 2 * IOV_MAX;
	struct svm_lun *lun = open_lun("scsi-iov.img", bs, 4 * n, 0, true);
	uint8_t *data = malloc((size_t)n * bs), *back = malloc((size_t)n * bs), cdb[16];
	struct iovec *v = calloc(n, sizeof(*v));

	if (!lun || !data || !back || !v) {
		CHECK(0);
		goto free_bufs;
	}
	pattern(data, (size_t)n * bs, 5);
	/* one block per iovec, in reverse order through memory */
	for (uint32_t i = 0; i < n; i++)
		v[i] = (struct iovec){data + (size_t)(n - 1 - i) * bs, bs};
	test_cdb10(cdb, SVM_OP_WRITE10, 0, n);
	cdb[1] = 0x08; /* FUA: a worker's write */
	CHECK_EQ(run_iov(lun, cdb, v, n, NULL), SVM_SENSE_OK);
	test_cdb10(cdb, SVM_OP_WRITE10, n, n); /* cached write */
	CHECK_EQ(run_iov(lun, cdb, v, n, NULL), SVM_SENSE_OK);
	for (uint32_t i = 0; i < n; i++)
		v[i] = (struct iovec){back + (size_t)(n - 1 - i) * bs, bs};
	for (uint32_t lba = 0; lba <= n; lba += n) {
		memset(back, 0xAA, (size_t)n * bs);
		test_cdb10(cdb, SVM_OP_READ10, lba, n);
		CHECK_EQ(run_iov(lun, cdb, v, n, NULL), SVM_SENSE_OK);
		CHECK(!memcmp(back, data, (size_t)n * bs));
	}
	close_lun(lun, "scsi-iov.img");
free_bufs:
	free(data);
	free(back);
	free(v);
}

/* The short block descriptor's NUMBER OF LOGICAL BLOCKS field, MODE SENSE(6) and (10). */
static void mode_sense_counts(struct svm_lun *lun, uint64_t nlbas, uint32_t want_short)
{
	uint8_t ms6[6] = {SVM_OP_MODE_SENSE6, 0, 0x3F, 0, 255, 0}, b[256];
	uint8_t ms10[10] = {SVM_OP_MODE_SENSE10, 0x10, 0x3F, 0, 0, 0, 0, 0, 255, 0};

	CHECK_EQ(run(lun, ms6, b, sizeof(b)), SVM_SENSE_OK);
	CHECK_EQ(b[3], 8);
	CHECK_EQ(svm_get_be32(b + 4), want_short);
	CHECK_EQ(svm_get_be32(b + 8), 512); /* byte 4 reserved, LOGICAL BLOCK LENGTH */
	ms10[1] = 0; /* short descriptor */
	CHECK_EQ(run(lun, ms10, b, sizeof(b)), SVM_SENSE_OK);
	CHECK_EQ(svm_get_be16(b + 6), 8);
	CHECK_EQ(svm_get_be32(b + 8), want_short);
	ms10[1] = 0x10; /* LLBAA: the long one holds any count */
	CHECK_EQ(run(lun, ms10, b, sizeof(b)), SVM_SENSE_OK);
	CHECK_EQ(svm_get_be16(b + 6), 16);
	CHECK(svm_get_be64(b + 8) == nlbas);
	CHECK_EQ(svm_get_be32(b + 20), 512);
}

/*
 * SBC-4 6.5.2: the short LBA block descriptor's NUMBER OF LOGICAL BLOCKS is
 * four bytes; a count that does not fit is reported as FFFFFFFFh.
 */
static void mode_sense_big(void)
{
	const uint64_t ten = 10ull << 30 >> 9, huge = (1ull << 32) + 8;
	struct svm_lun *lun = open_lun("scsi-10g.img", 512, ten, 128, true);
	int err;

	if (lun) {
		mode_sense_counts(lun, ten, (uint32_t)ten); /* 0x01400000, more than 2^24 */
		close_lun(lun, "scsi-10g.img");
	}
	/* more than 2^32 blocks: 2 TiB, sparse */
	lun = open_lun_err("scsi-2t.img", 512, huge, 128, true, &err);
	if (!lun && err == -EFBIG) {
		printf("  (scsi: the filesystem of %s cannot hold a 2 TiB file; skipped)\n",
		       test_dir);
		return;
	}
	CHECK(lun != NULL);
	if (lun) {
		mode_sense_counts(lun, huge, UINT32_MAX);
		close_lun(lun, "scsi-2t.img");
	}
}

static void unmap_one(uint8_t *pl, uint64_t lba, uint32_t n)
{
	memset(pl, 0, 24);
	svm_put_be16(pl, 22);
	svm_put_be16(pl + 2, 16);
	svm_put_be64(pl + 8, lba);
	svm_put_be32(pl + 16, n);
}

/* UNMAP is stable at GOOD when the LUN reports no volatile cache (wce=no), and only then. */
static void unmap_flush(void)
{
	uint8_t um[10] = {SVM_OP_UNMAP, 0, 0, 0, 0, 0, 0, 0, 24, 0}, pl[24];
	uint64_t before;

	for (int wce = 0; wce <= 1; wce++) {
		struct svm_lun *lun = open_lun("scsi-unmap.img", 512, 4096, 128, wce);

		if (!lun)
			return;
		unmap_one(pl, 8, 64);
		before = svm_lun_flushes(lun);
		CHECK_EQ(run(lun, um, pl, sizeof(pl)), SVM_SENSE_OK);
		/* write-back: SYNCHRONIZE CACHE makes it stable; write-through: UNMAP does */
		if (wce)
			CHECK_EQ(svm_lun_flushes(lun), before);
		else
			CHECK(svm_lun_flushes(lun) > before);
		close_lun(lun, "scsi-unmap.img");
	}
}

/*
 * A store that cannot deallocate (the discard probe fails: a filesystem
 * without punch-hole) gives a LUN that offers no UNMAP: no LBPU/LBPWS in
 * the LBP page, no LBPME, UNMAP refused; WRITE SAME with UNMAP of a zero
 * block zeroes the blocks all the same. A store that can offers them.
 */
static void no_discard(void)
{
	uint8_t lbp[6] = {SVM_OP_INQUIRY, 0x01, 0xB2, 0, 64, 0};
	uint8_t bl[6] = {SVM_OP_INQUIRY, 0x01, 0xB0, 0, 64, 0};
	uint8_t rc16[16] = {SVM_OP_SERVICE_ACTION_IN16, SVM_SAI_READ_CAPACITY16};
	uint8_t um[10] = {SVM_OP_UNMAP, 0, 0, 0, 0, 0, 0, 0, 24, 0}, pl[24], b[64], cdb[16];
	static uint8_t data[16 * 512], zero[512];
	struct svm_lun *lun;

	svm_put_be32(rc16 + 10, 32);
	/* this filesystem punches holes: everything offered */
	lun = open_lun("scsi-lbp.img", 512, 4096, 128, true);
	if (!lun)
		return;
	CHECK_EQ(run(lun, lbp, b, sizeof(b)), SVM_SENSE_OK);
	CHECK_EQ(b[5] & 0xE4, 0xE4); /* LBPU, LBPWS, LBPWS10, LBPRZ */
	CHECK_EQ(run(lun, rc16, b, 32), SVM_SENSE_OK);
	CHECK_EQ(b[14] & 0xC0, 0xC0); /* LBPME, LBPRZ */
	close_lun(lun, "scsi-lbp.img");

	svm_store_fault_discard_probe = -EOPNOTSUPP;
	lun = open_lun("scsi-lbp.img", 512, 4096, 128, true);
	svm_store_fault_discard_probe = 0;
	if (!lun)
		return;
	memset(b, 0xAA, sizeof(b));
	CHECK_EQ(run(lun, lbp, b, sizeof(b)), SVM_SENSE_OK);
	CHECK(b[1] == 0xB2 && b[5] == 0 && b[6] == 0);
	CHECK_EQ(run(lun, bl, b, sizeof(b)), SVM_SENSE_OK);
	CHECK(svm_get_be32(b + 20) == 0 && svm_get_be32(b + 24) == 0); /* no UNMAP limits */
	CHECK_EQ(run(lun, rc16, b, 32), SVM_SENSE_OK);
	CHECK_EQ(b[14] & 0xC0, 0);
	unmap_one(pl, 8, 16);
	CHECK_EQ(run(lun, um, pl, sizeof(pl)), SVM_SENSE_INVALID_OPCODE);

	/* WRITE SAME(10) and (16) with UNMAP and a zero block: the blocks read zero */
	for (int sixteen = 0; sixteen <= 1; sixteen++) {
		memset(data, 0x5A, sizeof(data));
		test_cdb10(cdb, SVM_OP_WRITE10, 64, 16);
		CHECK_EQ(run(lun, cdb, data, sizeof(data)), SVM_SENSE_OK);
		if (sixteen)
			test_cdb16(cdb, SVM_OP_WRITE_SAME16, 64, 16);
		else
			test_cdb10(cdb, SVM_OP_WRITE_SAME10, 64, 16);
		cdb[1] = 0x08; /* UNMAP */
		CHECK_EQ(run(lun, cdb, zero, sizeof(zero)), SVM_SENSE_OK);
		test_cdb10(cdb, SVM_OP_READ10, 64, 16);
		CHECK_EQ(run(lun, cdb, data, sizeof(data)), SVM_SENSE_OK);
		CHECK(all_bytes(data, sizeof(data), 0));
	}
	close_lun(lun, "scsi-lbp.img");
}

/*
 * Lengths of nblocks * block_size past 4 GiB: computed in 64 bits and
 * checked before they are narrowed to size_t (a 32-bit build once wrapped
 * them to 0). 65536 blocks of 64 KiB are 4 GiB.
 */
static void lengths_64(void)
{
	const uint32_t bs = 65536, n = 65536;
	struct svm_lun *lun = open_lun("scsi-4g.img", bs, n + 16, 0, true);
	uint8_t cdb[16], *blk = malloc(bs), *buf = malloc(bs);

	if (!lun || !blk || !buf) {
		CHECK(0);
		goto free_bufs;
	}
	pattern(blk, bs, 6);
	test_cdb10(cdb, SVM_OP_WRITE10, 0, 1);
	CHECK_EQ(run(lun, cdb, blk, bs), SVM_SENSE_OK);
	/* a 4 GiB WRITE with no data-out is refused, not done as a 0-byte one */
	test_cdb16(cdb, SVM_OP_WRITE16, 0, n);
	CHECK_EQ(run(lun, cdb, NULL, 0), SVM_SENSE_INVALID_FIELD_IN_CDB);
	test_cdb16(cdb, SVM_OP_WRITE16, 0, n);
	CHECK_EQ(run(lun, cdb, buf, bs), SVM_SENSE_INVALID_FIELD_IN_CDB);
	/* a 4 GiB READ into one block: that block (underflow) */
	memset(buf, 0xAA, bs);
	test_cdb16(cdb, SVM_OP_READ16, 0, n);
	CHECK_EQ(run(lun, cdb, buf, bs), SVM_SENSE_OK);
	CHECK(!memcmp(buf, blk, bs));
	/* a 4 GiB VERIFY BYTCHK 01b with one block of data-out: too little data */
	test_cdb16(cdb, SVM_OP_VERIFY16, 0, n);
	cdb[1] = 0x02;
	CHECK_EQ(run(lun, cdb, blk, bs), SVM_SENSE_INVALID_FIELD_IN_CDB);
	close_lun(lun, "scsi-4g.img");
free_bufs:
	free(blk);
	free(buf);
}


/* COMPARE AND WRITE (16) of n blocks at lba. */
static void caw_cdb(uint8_t *cdb, uint64_t lba, uint8_t n)
{
	memset(cdb, 0, 16);
	cdb[0] = SVM_OP_COMPARE_AND_WRITE;
	svm_put_be64(cdb + 2, lba);
	cdb[13] = n;
}

/*
 * SBC-4 5.3 COMPARE AND WRITE: writes only when every compared byte
 * matches; a miscompare names the first differing byte and writes nothing;
 * 0 blocks does nothing; the data-out must be exactly twice the blocks;
 * Block Limits reports MAXIMUM COMPARE AND WRITE LENGTH.
 */
static void compare_and_write(void)
{
	const uint32_t bs = 512, n = 4;
	struct svm_lun *lun = open_lun("scsi-caw.img", bs, 1024, 128, true);
	uint8_t cdb[16], data[2 * 4 * 512], back[4 * 512], old[4 * 512], b[64];
	struct svm_scsi_req req;
	struct iovec v = {data, sizeof(data)};

	if (!lun)
		return;
	pattern(old, sizeof(old), 1);
	test_cdb10(cdb, SVM_OP_WRITE10, 100, n);
	CHECK_EQ(run(lun, cdb, old, sizeof(old)), SVM_SENSE_OK);

	/* match: the second half is written */
	memcpy(data, old, sizeof(old));
	pattern(data + sizeof(old), sizeof(old), 2);
	caw_cdb(cdb, 100, n);
	CHECK_EQ(run(lun, cdb, data, sizeof(data)), SVM_SENSE_OK);
	test_cdb10(cdb, SVM_OP_READ10, 100, n);
	CHECK_EQ(run(lun, cdb, back, sizeof(back)), SVM_SENSE_OK);
	CHECK(!memcmp(back, data + sizeof(old), sizeof(back)));

	/* miscompare in the third block: INFORMATION = offset, nothing written */
	memcpy(old, back, sizeof(back));
	memcpy(data, back, sizeof(back));
	data[2 * bs + 17] ^= 0x40;
	pattern(data + sizeof(old), sizeof(old), 3);
	caw_cdb(cdb, 100, n);
	CHECK_EQ(run_iov(lun, cdb, &v, 1, &req), SVM_SENSE_MISCOMPARE_VERIFY);
	CHECK(req.has_info && req.info == 2 * bs + 17);
	test_cdb10(cdb, SVM_OP_READ10, 100, n);
	CHECK_EQ(run(lun, cdb, back, sizeof(back)), SVM_SENSE_OK);
	CHECK(!memcmp(back, old, sizeof(back)));

	/*
	 * One block, the RBD store's one-operation case: a file store cannot
	 * (-EOPNOTSUPP), so the generic read-modify-write does it, from a
	 * data-out scattered over three iovecs; a miscompare at byte 300.
	 */
	struct iovec three[3] = {{data, 100}, {data + 100, bs}, {data + 100 + bs, bs - 100}};

	memcpy(data, back, bs);
	pattern(data + bs, bs, 4);
	caw_cdb(cdb, 100, 1);
	CHECK_EQ(run_iov(lun, cdb, three, 3, &req), SVM_SENSE_OK);
	test_cdb10(cdb, SVM_OP_READ10, 100, 1);
	CHECK_EQ(run(lun, cdb, back, bs), SVM_SENSE_OK);
	CHECK(!memcmp(back, data + bs, bs));
	memcpy(data, back, bs);
	data[300] ^= 1;
	pattern(data + bs, bs, 5);
	caw_cdb(cdb, 100, 1);
	CHECK_EQ(run_iov(lun, cdb, three, 3, &req), SVM_SENSE_MISCOMPARE_VERIFY);
	CHECK(req.has_info && req.info == 300);
	test_cdb10(cdb, SVM_OP_READ10, 100, 1);
	CHECK_EQ(run(lun, cdb, old, bs), SVM_SENSE_OK);
	CHECK(!memcmp(old, back, bs));

	/* 0 blocks: nothing to do; wrong data-out size; WRPROTECT; out of range */
	caw_cdb(cdb, 100, 0);
	CHECK_EQ(run(lun, cdb, NULL, 0), SVM_SENSE_OK);
	caw_cdb(cdb, 100, 1);
	CHECK_EQ(run(lun, cdb, data, 4 * bs), SVM_SENSE_INVALID_FIELD_IN_CDB);
	caw_cdb(cdb, 100, 3);
	CHECK_EQ(run(lun, cdb, data, 4 * bs), SVM_SENSE_INVALID_FIELD_IN_CDB);
	caw_cdb(cdb, 100, 1);
	cdb[1] = 0x20;
	CHECK_EQ(run(lun, cdb, data, 2 * bs), SVM_SENSE_INVALID_FIELD_IN_CDB);
	caw_cdb(cdb, 1023, 2);
	CHECK_EQ(run(lun, cdb, data, 4 * bs), SVM_SENSE_LBA_OUT_OF_RANGE);
	/* the largest, MAXIMUM COMPARE AND WRITE LENGTH blocks */
	uint8_t *big = calloc(2, (size_t)SVM_CAW_MAX_BLOCKS * bs);
	CHECK(big != NULL);
	if (big) {
		caw_cdb(cdb, 200, SVM_CAW_MAX_BLOCKS); /* never written: zeroes, a match */
		memset(big + (size_t)SVM_CAW_MAX_BLOCKS * bs, 0x77, (size_t)SVM_CAW_MAX_BLOCKS * bs);
		CHECK_EQ(run(lun, cdb, big, 2 * (size_t)SVM_CAW_MAX_BLOCKS * bs), SVM_SENSE_OK);
		free(big);
	}
	uint8_t inq[6] = {SVM_OP_INQUIRY, 0x01, 0xB0, 0, sizeof(b), 0};
	CHECK_EQ(run(lun, inq, b, sizeof(b)), SVM_SENSE_OK);
	CHECK_EQ(b[5], SVM_CAW_MAX_BLOCKS);
	close_lun(lun, "scsi-caw.img");
}

/* ---- REPORT SUPPORTED OPERATION CODES, service actions ----------------- */

static void rsoc_cdb(uint8_t *cdb, bool rctd, uint8_t opts, uint8_t op, uint16_t sa, uint32_t alloc)
{
	memset(cdb, 0, 16);
	cdb[0] = SVM_OP_MAINTENANCE_IN;
	cdb[1] = SVM_MI_RSOC;
	cdb[2] = (rctd ? 0x80 : 0) | opts;
	cdb[3] = op;
	svm_put_be16(cdb + 4, sa);
	svm_put_be32(cdb + 6, alloc);
}

/* The sense data svm_sense_build makes of s: key, ASC, ASCQ and the SENSE KEY SPECIFIC bytes. */
static void check_sense(enum svm_sense s, uint8_t key, uint8_t asc, uint8_t ascq, uint8_t sks0,
			uint16_t field)
{
	uint8_t b[SVM_SENSE_FIXED_LEN];

	CHECK_EQ(svm_sense_build(b, sizeof(b), s, false, 0), SVM_SAM_STAT_CHECK_CONDITION);
	CHECK(b[2] == key && b[12] == asc && b[13] == ascq);
	CHECK_EQ(b[15], sks0);
	CHECK_EQ(svm_get_be16(b + 16), field);
}

/* An all_commands descriptor of opcode/sa in d (n descriptors of size sz), or NULL. */
static const uint8_t *rsoc_find(const uint8_t *d, size_t n, size_t sz, uint8_t op, uint16_t sa)
{
	for (size_t i = 0; i < n; i++)
		if (d[i * sz] == op && svm_get_be16(d + i * sz + 2) == sa)
			return d + i * sz;
	return NULL;
}

/*
 * SPC-4 6.35: the all_commands format with and without command timeouts
 * descriptors, the one_command format for every command listed (001b or
 * 010b as SERVACTV says, and 011b), each refusal, the commands that need a
 * store that deallocates, and ALLOCATION LENGTH.
 */
static void rsoc(void)
{
	struct svm_lun *lun = open_lun("scsi-rsoc.img", 512, 4096, 128, true);
	static uint8_t all[8192], b[64];
	uint8_t cdb[16];
	size_t n;

	if (!lun)
		return;
	rsoc_cdb(cdb, false, 0, 0, 0, sizeof(all));
	CHECK_EQ(run(lun, cdb, all, sizeof(all)), SVM_SENSE_OK);
	n = svm_get_be32(all) / 8;
	CHECK(n > 30 && svm_get_be32(all) % 8 == 0);
	bool ok = true;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *d = all + 4 + 8 * i;

		ok &= !(d[5] & 0x02);				     /* CTDP clear */
		ok &= (d[5] & 0x01) || !svm_get_be16(d + 2);	     /* SERVACTV clear: SA 0 */
		ok &= svm_get_be16(d + 6) == (d[0] < 0x20   ? 6
					      : d[0] < 0x60 ? 10
					      : d[0] < 0xA0 ? 16
							    : 12); /* CDB LENGTH */
	}
	CHECK(ok);
	const uint8_t *d = all + 4;
	CHECK(rsoc_find(d, n, 8, SVM_OP_READ10, 0) != NULL);
	CHECK(!(rsoc_find(d, n, 8, SVM_OP_READ10, 0)[5] & 1));
	CHECK(rsoc_find(d, n, 8, SVM_OP_UNMAP, 0) != NULL);
	CHECK(rsoc_find(d, n, 8, SVM_OP_COMPARE_AND_WRITE, 0) != NULL);
	CHECK(rsoc_find(d, n, 8, SVM_OP_ORWRITE16, 0) != NULL);
	CHECK(rsoc_find(d, n, 8, SVM_OP_WRITE_ATOMIC16, 0) != NULL);
	CHECK(rsoc_find(d, n, 8, SVM_OP_READ_DEFECT_DATA10, 0) != NULL);
	CHECK(rsoc_find(d, n, 8, SVM_OP_READ_DEFECT_DATA12, 0) != NULL);
	CHECK(rsoc_find(d, n, 8, SVM_OP_MODE_SELECT6, 0) != NULL);
	CHECK(rsoc_find(d, n, 8, SVM_OP_MODE_SELECT10, 0) != NULL);
	for (uint8_t sa = 0; sa < 32; sa++) {
		const uint8_t *p = rsoc_find(d, n, 8, SVM_OP_SERVICE_ACTION_IN16, sa);
		bool want = sa == SVM_SAI_READ_CAPACITY16 || sa == SVM_SAI_GET_LBA_STATUS;

		CHECK(want ? p && (p[5] & 1) : !p);
		p = rsoc_find(d, n, 8, SVM_OP_SANITIZE, sa);
		want = sa == SVM_SANITIZE_OVERWRITE || sa == SVM_SANITIZE_BLOCK_ERASE ||
		       sa == SVM_SANITIZE_EXIT_FAILURE;
		CHECK(want ? p && (p[5] & 1) : !p);
	}
	CHECK(rsoc_find(d, n, 8, SVM_OP_MAINTENANCE_IN, SVM_MI_RSOC) != NULL);
	CHECK(rsoc_find(d, n, 8, 0x04, 0) == NULL); /* FORMAT UNIT: not served */
	CHECK(rsoc_find(d, n, 8, SVM_OP_SANITIZE, SVM_SANITIZE_CRYPTO_ERASE) == NULL);

	/* every command, one by one: its CDB size and usage data, opcode and SA in place */
	ok = true;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = d + 8 * i;
		uint16_t sa = svm_get_be16(p + 2);

		rsoc_cdb(cdb, false, p[5] & 1 ? 2 : 1, p[0], sa, sizeof(b));
		memset(b, 0xAA, sizeof(b));
		ok &= run(lun, cdb, b, sizeof(b)) == SVM_SENSE_OK;
		ok &= b[1] == 0x03 && svm_get_be16(b + 2) == svm_get_be16(p + 6);
		ok &= b[4] == p[0] && (!(p[5] & 1) || (b[5] & 0x1f) == sa);
		ok &= all_bytes(b + 4 + b[3], sizeof(b) - 4 - b[3], 0);
		rsoc_cdb(cdb, false, 3, p[0], sa, sizeof(b)); /* 011b: the same */
		ok &= run(lun, cdb, b, sizeof(b)) == SVM_SENSE_OK && b[1] == 0x03 && b[4] == p[0];
		rsoc_cdb(cdb, false, p[5] & 1 ? 1 : 2, p[0], sa, sizeof(b)); /* the wrong one */
		ok &= run(lun, cdb, b, sizeof(b)) == SVM_SENSE_INVALID_REPORTING_OPTIONS;
	}
	CHECK(ok);
	/* DPO and FUA where the command takes them (libiscsi's DpoFua tests read these) */
	static const struct {
		uint8_t op, mask;
	} dpo[] = {
	    {SVM_OP_READ10, 0x18},	   {SVM_OP_WRITE12, 0x18},	  {SVM_OP_READ16, 0x18},
	    {SVM_OP_VERIFY10, 0x10},	   {SVM_OP_WRITE_VERIFY16, 0x10}, {SVM_OP_ORWRITE16, 0x18},
	    {SVM_OP_WRITE_ATOMIC16, 0x18}, {SVM_OP_COMPARE_AND_WRITE, 0x18},
	};
	for (size_t i = 0; i < sizeof(dpo) / sizeof(dpo[0]); i++) {
		rsoc_cdb(cdb, false, 1, dpo[i].op, 0, sizeof(b));
		CHECK_EQ(run(lun, cdb, b, sizeof(b)), SVM_SENSE_OK);
		CHECK_EQ(b[5] & 0x18, dpo[i].mask);
	}
	/* RCTD: 20-byte descriptors, CTDP, a command timeouts descriptor of length 0Ah */
	rsoc_cdb(cdb, true, 0, 0, 0, sizeof(all));
	CHECK_EQ(run(lun, cdb, all, sizeof(all)), SVM_SENSE_OK);
	CHECK_EQ(svm_get_be32(all), 20 * n);
	ok = true;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = all + 4 + 20 * i;

		ok &= (p[5] & 0x02) && svm_get_be16(p + 8) == 0x0A;
		ok &= svm_get_be32(p + 12) == 0 && svm_get_be32(p + 16) == SVM_CMD_TIMEOUT_S;
	}
	CHECK(ok);
	rsoc_cdb(cdb, true, 1, SVM_OP_READ10, 0, sizeof(b));
	CHECK_EQ(run(lun, cdb, b, sizeof(b)), SVM_SENSE_OK);
	CHECK(b[1] == 0x83 && svm_get_be16(b + 2) == 10 && svm_get_be16(b + 14) == 0x0A);
	CHECK_EQ(svm_get_be32(b + 22), SVM_CMD_TIMEOUT_S);

	/* commands not served: SUPPORT 001b */
	rsoc_cdb(cdb, true, 1, 0x04, 0, sizeof(b));
	memset(b, 0xAA, sizeof(b));
	CHECK_EQ(run(lun, cdb, b, sizeof(b)), SVM_SENSE_OK);
	CHECK(b[1] == 0x01 && all_bytes(b + 2, sizeof(b) - 2, 0));
	rsoc_cdb(cdb, false, 2, SVM_OP_SERVICE_ACTION_IN16, 0x11, sizeof(b));
	CHECK_EQ(run(lun, cdb, b, sizeof(b)), SVM_SENSE_OK);
	CHECK_EQ(b[1], 0x01);
	rsoc_cdb(cdb, false, 2, SVM_OP_SANITIZE, SVM_SANITIZE_CRYPTO_ERASE, sizeof(b));
	CHECK_EQ(run(lun, cdb, b, sizeof(b)), SVM_SENSE_OK);
	CHECK_EQ(b[1], 0x01);
	rsoc_cdb(cdb, false, 2, SVM_OP_SERVICE_ACTION_IN16, 0x110, sizeof(b)); /* SA past 1Fh */
	CHECK_EQ(run(lun, cdb, b, sizeof(b)), SVM_SENSE_OK);
	CHECK_EQ(b[1], 0x01);
	rsoc_cdb(cdb, false, 3, SVM_OP_READ10, 1, sizeof(b)); /* 011b: no SA 1 of READ(10) */
	CHECK_EQ(run(lun, cdb, b, sizeof(b)), SVM_SENSE_OK);
	CHECK_EQ(b[1], 0x01);
	/* refusals: 001b of an opcode with service actions, 010b of one without, 1xxb */
	rsoc_cdb(cdb, false, 1, SVM_OP_SANITIZE, 0, sizeof(b));
	CHECK_EQ(run(lun, cdb, b, sizeof(b)), SVM_SENSE_INVALID_REPORTING_OPTIONS);
	rsoc_cdb(cdb, false, 2, SVM_OP_READ16, 0, sizeof(b));
	CHECK_EQ(run(lun, cdb, b, sizeof(b)), SVM_SENSE_INVALID_REPORTING_OPTIONS);
	for (uint8_t o = 4; o < 8; o++) {
		rsoc_cdb(cdb, false, o, 0, 0, sizeof(b));
		CHECK_EQ(run(lun, cdb, b, sizeof(b)), SVM_SENSE_INVALID_REPORTING_OPTIONS);
	}
	/* INVALID FIELD IN CDB, SKSV, C/D, BPV: byte 2 bit 2 (libiscsi tells it from "no RSOC") */
	check_sense(SVM_SENSE_INVALID_REPORTING_OPTIONS, 5, 0x24, 0, 0xCA, 2);
	/* ALLOCATION LENGTH clips; the rest of the buffer is zeroes */
	rsoc_cdb(cdb, false, 0, 0, 0, 6);
	memset(b, 0xAA, sizeof(b));
	CHECK_EQ(run(lun, cdb, b, sizeof(b)), SVM_SENSE_OK);
	CHECK(svm_get_be32(b) == 8 * n && b[4] == 0 && all_bytes(b + 6, sizeof(b) - 6, 0));
	close_lun(lun, "scsi-rsoc.img");

	/* a store that cannot deallocate: no UNMAP, no BLOCK ERASE, listed or served */
	svm_store_fault_discard_probe = -EOPNOTSUPP;
	lun = open_lun("scsi-rsoc.img", 512, 4096, 128, true);
	svm_store_fault_discard_probe = 0;
	if (!lun)
		return;
	rsoc_cdb(cdb, false, 0, 0, 0, sizeof(all));
	CHECK_EQ(run(lun, cdb, all, sizeof(all)), SVM_SENSE_OK);
	CHECK_EQ(svm_get_be32(all) / 8, n - 2);
	CHECK(rsoc_find(all + 4, n - 2, 8, SVM_OP_UNMAP, 0) == NULL);
	CHECK(rsoc_find(all + 4, n - 2, 8, SVM_OP_SANITIZE, SVM_SANITIZE_BLOCK_ERASE) == NULL);
	CHECK(rsoc_find(all + 4, n - 2, 8, SVM_OP_SANITIZE, SVM_SANITIZE_OVERWRITE) != NULL);
	rsoc_cdb(cdb, false, 2, SVM_OP_SANITIZE, SVM_SANITIZE_BLOCK_ERASE, sizeof(b));
	CHECK_EQ(run(lun, cdb, b, sizeof(b)), SVM_SENSE_OK);
	CHECK_EQ(b[1], 0x01);
	uint8_t be[10] = {SVM_OP_SANITIZE, SVM_SANITIZE_BLOCK_ERASE};
	CHECK_EQ(run(lun, be, NULL, 0), SVM_SENSE_INVALID_SERVICE_ACTION);
	close_lun(lun, "scsi-rsoc.img");
}

/*
 * Unknown commands take one path: an opcode not served is INVALID COMMAND
 * OPERATION CODE; a service action not served of an opcode that has others
 * is INVALID FIELD IN CDB pointing at SERVICE ACTION (byte 1, bit 4).
 */
static void unknown_commands(void)
{
	struct svm_lun *lun = open_lun("scsi-unknown.img", 512, 1024, 128, true);
	uint8_t cdb[16] = {0}, b[64];

	if (!lun)
		return;
	cdb[0] = 0x04; /* FORMAT UNIT */
	CHECK_EQ(run(lun, cdb, NULL, 0), SVM_SENSE_INVALID_OPCODE);
	cdb[0] = SVM_OP_SERVICE_ACTION_IN16;
	cdb[1] = 0x11;
	CHECK_EQ(run(lun, cdb, b, sizeof(b)), SVM_SENSE_INVALID_SERVICE_ACTION);
	cdb[0] = SVM_OP_MAINTENANCE_IN;
	cdb[1] = 0x0A; /* REPORT TARGET PORT GROUPS */
	CHECK_EQ(run(lun, cdb, b, sizeof(b)), SVM_SENSE_INVALID_SERVICE_ACTION);
	cdb[0] = SVM_OP_SANITIZE;
	for (uint8_t sa = 0; sa < 0x1f; sa++) {
		cdb[1] = sa;
		if (sa != SVM_SANITIZE_OVERWRITE && sa != SVM_SANITIZE_BLOCK_ERASE)
			CHECK_EQ(run(lun, cdb, NULL, 0), SVM_SENSE_INVALID_SERVICE_ACTION);
	}
	check_sense(SVM_SENSE_INVALID_SERVICE_ACTION, 5, 0x24, 0, 0xCC, 1);
	close_lun(lun, "scsi-unknown.img");
}

/* Whether two parses agree: the verdict, and when good, every field. */
static bool same_parse(enum svm_sense s1, const struct svm_cdb *c1, enum svm_sense s2,
		       const struct svm_cdb *c2)
{
	return s1 == s2 && (s1 || !memcmp(c1, c2, sizeof(*c1)));
}

/*
 * The CDB USAGE DATA reported for every command agrees with its parser:
 * from a valid CDB, flipping a bit the usage data marks changes the parse
 * (another field value, or a refusal), and flipping one it leaves clear
 * changes nothing or is refused (a reserved bit checked). The SERVICE
 * ACTION bits select the command and are not flipped.
 */
static void usage_matches_parsers(void)
{
	struct svm_lun *lun = open_lun("scsi-usage.img", 512, 4096, 128, true);
	static uint8_t all[8192];
	struct svm_lun_geom g;
	uint8_t cdb[16], b[64];
	size_t n;

	if (!lun)
		return;
	svm_lun_get_geom(lun, &g);
	rsoc_cdb(cdb, false, 0, 0, 0, sizeof(all));
	CHECK_EQ(run(lun, cdb, all, sizeof(all)), SVM_SENSE_OK);
	n = svm_get_be32(all) / 8;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = all + 4 + 8 * i;
		bool servactv = p[5] & 1, ok = true;
		uint16_t len = svm_get_be16(p + 6);
		uint8_t base[16] = {p[0], servactv ? p[3] : 0}, flip[16];
		struct svm_cdb c0, c1;
		enum svm_sense s0, s1;

		rsoc_cdb(cdb, false, servactv ? 2 : 1, p[0], svm_get_be16(p + 2), sizeof(b));
		CHECK_EQ(run(lun, cdb, b, sizeof(b)), SVM_SENSE_OK);
		if (p[0] == SVM_OP_SANITIZE && p[3] == SVM_SANITIZE_OVERWRITE)
			base[8] = 5; /* PARAMETER LIST LENGTH: more than 4 */
		if (p[0] == SVM_OP_MODE_SELECT6 || p[0] == SVM_OP_MODE_SELECT10)
			base[1] = 0x10; /* PF: the page format, the only one served */
		s0 = svm_scsi_parse(&g, base, &c0);
		CHECK_EQ(s0, SVM_SENSE_OK);
		for (uint16_t byte = 1; byte < len; byte++) {
			for (int bit = 0; bit < 8; bit++) {
				bool used = b[4 + byte] >> bit & 1, same;

				if (byte == 1 && servactv && bit < 5)
					continue;
				memcpy(flip, base, sizeof(flip));
				flip[byte] ^= 1u << bit;
				memset(&c1, 0, sizeof(c1));
				s1 = svm_scsi_parse(&g, flip, &c1);
				same = same_parse(s0, &c0, s1, &c1);
				if (used ? same : !same && s1 == SVM_SENSE_OK) {
					fprintf(stderr,
						"FAIL opcode %02x sa %02x: CDB byte %u bit %d: "
						"%s in the usage data, %s by the parser\n",
						p[0], p[3], byte, bit, used ? "set" : "clear",
						used ? "ignored" : "used");
					ok = false;
				}
			}
		}
		CHECK(ok);
	}
	close_lun(lun, "scsi-usage.img");
}

/* ---- GET LBA STATUS, READ CAPACITY(16), Block Limits ------------------- */

static void gls_cdb(uint8_t *cdb, uint64_t lba, uint32_t alloc)
{
	memset(cdb, 0, 16);
	cdb[0] = SVM_OP_SERVICE_ACTION_IN16;
	cdb[1] = SVM_SAI_GET_LBA_STATUS;
	svm_put_be64(cdb + 2, lba);
	svm_put_be32(cdb + 10, alloc);
}

/* Descriptor i of GET LBA STATUS data b is lba, n blocks, provisioning status st. */
static bool gls_desc(const uint8_t *b, unsigned i, uint64_t lba, uint32_t n, uint8_t st)
{
	const uint8_t *d = b + 8 + 16 * i;

	return svm_get_be64(d) == lba && svm_get_be32(d + 8) == n && (d[12] & 0x0f) == st;
}

/*
 * SBC-4 5.8: runs of mapped and deallocated blocks from the starting LBA,
 * from the file's holes (64 KiB extents of 4 KiB blocks: whole allocation
 * units of any common filesystem); ALLOCATION LENGTH bounds the
 * descriptors; an LBA past the last is out of range; a LUN whose store
 * does not deallocate reports all mapped.
 */
static void get_lba_status(void)
{
	const uint32_t bs = 4096, n = 256;
	struct svm_lun *lun = open_lun("scsi-gls.img", bs, n, 0, true);
	static uint8_t data[16 * 4096], b[512];
	uint8_t cdb[16], um[10] = {SVM_OP_UNMAP, 0, 0, 0, 0, 0, 0, 0, 24, 0}, pl[24];

	if (!lun)
		return;
	memset(data, 0x5A, sizeof(data));
	test_cdb10(cdb, SVM_OP_WRITE10, 16, 16);
	cdb[1] = 0x08;
	CHECK_EQ(run(lun, cdb, data, sizeof(data)), SVM_SENSE_OK);
	test_cdb10(cdb, SVM_OP_WRITE10, 64, 16);
	cdb[1] = 0x08;
	CHECK_EQ(run(lun, cdb, data, sizeof(data)), SVM_SENSE_OK);

	gls_cdb(cdb, 0, sizeof(b));
	memset(b, 0xAA, sizeof(b));
	CHECK_EQ(run(lun, cdb, b, sizeof(b)), SVM_SENSE_OK);
	CHECK_EQ(svm_get_be32(b), 4 + 5 * 16);
	CHECK(gls_desc(b, 0, 0, 16, 1) && gls_desc(b, 1, 16, 16, 0) && gls_desc(b, 2, 32, 32, 1));
	CHECK(gls_desc(b, 3, 64, 16, 0) && gls_desc(b, 4, 80, n - 80, 1));
	CHECK(all_bytes(b + 8 + 5 * 16, sizeof(b) - 8 - 5 * 16, 0));
	/* the first descriptor starts at the starting LBA, inside a run */
	gls_cdb(cdb, 20, sizeof(b));
	CHECK_EQ(run(lun, cdb, b, sizeof(b)), SVM_SENSE_OK);
	CHECK(gls_desc(b, 0, 20, 12, 0) && gls_desc(b, 1, 32, 32, 1));
	/* ALLOCATION LENGTH 24: one descriptor; 8: the header (PARAMETER DATA LENGTH 20) */
	gls_cdb(cdb, 40, 24);
	memset(b, 0xAA, sizeof(b));
	CHECK_EQ(run(lun, cdb, b, sizeof(b)), SVM_SENSE_OK);
	CHECK(svm_get_be32(b) == 20 && gls_desc(b, 0, 40, 24, 1) && all_bytes(b + 24, 8, 0));
	gls_cdb(cdb, 40, 8);
	CHECK_EQ(run(lun, cdb, b, sizeof(b)), SVM_SENSE_OK);
	CHECK(svm_get_be32(b) == 20 && all_bytes(b + 8, sizeof(b) - 8, 0));
	gls_cdb(cdb, n - 1, 24);
	CHECK_EQ(run(lun, cdb, b, sizeof(b)), SVM_SENSE_OK);
	CHECK(gls_desc(b, 0, n - 1, 1, 1));
	/* UNMAP deallocates */
	unmap_one(pl, 64, 16);
	CHECK_EQ(run(lun, um, pl, sizeof(pl)), SVM_SENSE_OK);
	gls_cdb(cdb, 32, sizeof(b));
	CHECK_EQ(run(lun, cdb, b, sizeof(b)), SVM_SENSE_OK);
	CHECK(svm_get_be32(b) == 20 && gls_desc(b, 0, 32, n - 32, 1));
	/* out of range; REPORT TYPE */
	gls_cdb(cdb, n, 24);
	CHECK_EQ(run(lun, cdb, b, sizeof(b)), SVM_SENSE_LBA_OUT_OF_RANGE);
	gls_cdb(cdb, 1ull << 63, 24);
	CHECK_EQ(run(lun, cdb, b, sizeof(b)), SVM_SENSE_LBA_OUT_OF_RANGE);
	gls_cdb(cdb, UINT64_MAX, 24);
	CHECK_EQ(run(lun, cdb, b, sizeof(b)), SVM_SENSE_LBA_OUT_OF_RANGE);
	gls_cdb(cdb, 0, 24);
	cdb[14] = 0x01;
	CHECK_EQ(run(lun, cdb, b, sizeof(b)), SVM_SENSE_INVALID_FIELD_IN_CDB);
	close_lun(lun, "scsi-gls.img");

	/* fully provisioned (no LBPME): all mapped, whatever the file holds */
	svm_store_fault_discard_probe = -EOPNOTSUPP;
	lun = open_lun("scsi-gls.img", bs, n, 0, true);
	svm_store_fault_discard_probe = 0;
	if (!lun)
		return;
	gls_cdb(cdb, 3, sizeof(b));
	CHECK_EQ(run(lun, cdb, b, sizeof(b)), SVM_SENSE_OK);
	CHECK(svm_get_be32(b) == 20 && gls_desc(b, 0, 3, n - 3, 0));
	close_lun(lun, "scsi-gls.img");

	/* a run longer than NUMBER OF LOGICAL BLOCKS holds (32 bits): two descriptors */
	const uint64_t huge = (1ull << 32) + 8; /* 2 TiB of 512-byte blocks, sparse */
	int err;
	lun = open_lun_err("scsi-gls2t.img", 512, huge, 128, true, &err);
	if (!lun && err == -EFBIG)
		return; /* mode_sense_big says so */
	CHECK(lun != NULL);
	if (!lun)
		return;
	gls_cdb(cdb, 0, sizeof(b));
	CHECK_EQ(run(lun, cdb, b, sizeof(b)), SVM_SENSE_OK);
	CHECK_EQ(svm_get_be32(b), 4 + 2 * 16);
	CHECK(gls_desc(b, 0, 0, UINT32_MAX, 1) && gls_desc(b, 1, UINT32_MAX, 9, 1));
	close_lun(lun, "scsi-gls2t.img");
}

/* The physical block size the store reports for a file in test_dir, in bytes (0: unknown). */
static uint32_t test_dir_phys_block(void)
{
	struct svm_store_open_args a = {.min_bytes = 1 << 20, .create = true};
	char path[256];
	struct svm_store *st;
	uint32_t pbs = 0;

	store_path(path, sizeof(path), "scsi-pbs.img");
	if (svm_store_open(path, &a, &st, NULL) == 0) {
		pbs = svm_store_phys_block_size(st);
		svm_store_close(st);
	}
	unlink(path);
	return pbs;
}

/*
 * READ CAPACITY(16) LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT from the
 * store's physical block size, and the Block Limits granularities with it;
 * WSNZ; MAXIMUM ATOMIC TRANSFER LENGTH; WABEREQ.
 */
static void capacity_and_limits(void)
{
	uint32_t pbs = test_dir_phys_block(), e = 0;
	uint8_t rc16[16] = {SVM_OP_SERVICE_ACTION_IN16, SVM_SAI_READ_CAPACITY16};
	uint8_t bl[6] = {SVM_OP_INQUIRY, 0x01, 0xB0, 0, 64, 0};
	uint8_t bdc[6] = {SVM_OP_INQUIRY, 0x01, 0xB1, 0, 64, 0}, b[64];
	struct svm_lun *lun;

	CHECK(pbs >= 512);
	while ((512u << e) < pbs)
		e++;
	svm_put_be32(rc16 + 10, 32);
	lun = open_lun("scsi-rc16.img", 512, 4096, 128, true);
	if (!lun)
		return;
	CHECK_EQ(run(lun, rc16, b, 32), SVM_SENSE_OK);
	CHECK_EQ(b[13], e);
	CHECK(svm_get_be16(b + 14) == 0xC000); /* LBPME, LBPRZ, LOWEST ALIGNED LBA 0 */
	CHECK_EQ(run(lun, bl, b, sizeof(b)), SVM_SENSE_OK);
	CHECK_EQ(b[4] & 0x01, 0); /* WSNZ 0: WRITE SAME of 0 blocks is to the last block */
	CHECK_EQ(svm_get_be64(b + 36), SVM_WRITE_SAME_MAX_BLOCKS);
	CHECK_EQ(svm_get_be16(b + 6), 1u << e);
	CHECK_EQ(svm_get_be32(b + 28), 1u << e);
	CHECK_EQ(svm_get_be32(b + 32), 0x80000000u); /* UGAVALID, alignment 0 */
	CHECK_EQ(svm_get_be32(b + 44), 128);	       /* MAXIMUM ATOMIC TRANSFER LENGTH */
	CHECK(svm_get_be32(b + 48) == 0 && svm_get_be32(b + 52) == 0 && svm_get_be32(b + 60) == 0);
	CHECK_EQ(run(lun, bdc, b, sizeof(b)), SVM_SENSE_OK);
	CHECK_EQ(b[7], 0x40); /* WABEREQ 01b, WACEREQ 00b */
	close_lun(lun, "scsi-rc16.img");
	/* a logical block as large as the physical one: exponent 0 */
	if (pbs <= SVM_BLOCK_SIZE_MAX) {
		lun = open_lun("scsi-rc16.img", pbs, 64, 0, true);
		if (!lun)
			return;
		CHECK_EQ(run(lun, rc16, b, 32), SVM_SENSE_OK);
		CHECK_EQ(b[13], 0);
		CHECK_EQ(run(lun, bl, b, sizeof(b)), SVM_SENSE_OK);
		CHECK_EQ(svm_get_be32(b + 28), 1);
		CHECK_EQ(svm_get_be32(b + 44), UINT16_MAX); /* no MAXIMUM TRANSFER LENGTH */
		close_lun(lun, "scsi-rc16.img");
	}
	/* no deallocation: no BLOCK ERASE, WABEREQ 00b, no unmap fields */
	svm_store_fault_discard_probe = -EOPNOTSUPP;
	lun = open_lun("scsi-rc16.img", 512, 4096, 128, true);
	svm_store_fault_discard_probe = 0;
	if (!lun)
		return;
	CHECK_EQ(run(lun, bdc, b, sizeof(b)), SVM_SENSE_OK);
	CHECK_EQ(b[7], 0);
	CHECK_EQ(run(lun, bl, b, sizeof(b)), SVM_SENSE_OK);
	CHECK(svm_get_be32(b + 28) == 0 && b[32] == 0);
	close_lun(lun, "scsi-rc16.img");
}

/* ---- WRITE SAME ----------------------------------------------------------- */

/* Every one of the n blocks from lba holds the block blk (bs bytes). */
static bool blocks_are(struct svm_lun *lun, uint32_t bs, uint64_t lba, uint32_t n,
		       const uint8_t *blk)
{
	uint8_t cdb[16], *back = malloc(bs);
	bool same = back != NULL;

	for (uint32_t i = 0; same && i < n; i++) {
		test_cdb16(cdb, SVM_OP_READ16, lba + i, 1);
		same = run(lun, cdb, back, bs) == SVM_SENSE_OK && !memcmp(back, blk, bs);
	}
	free(back);
	return same;
}

/*
 * SBC-4 5.48/5.49 with Block Limits WSNZ 0: NUMBER OF LOGICAL BLOCKS 0
 * writes from the LBA through the last block; at the capacity nothing, past
 * it LOGICAL BLOCK ADDRESS OUT OF RANGE; a range longer than MAXIMUM WRITE
 * SAME LENGTH is INVALID FIELD IN CDB (libiscsi's WriteSame10/16.ZeroBlocks).
 * With UNMAP on a LUN whose deallocated blocks read as zeroes, the range is
 * deallocated whatever the block (libiscsi's WriteSame10.UnmapUntilEnd sends
 * 0xFF); where they would not, the block is written.
 */
static void write_same_to_end(void)
{
	const uint32_t bs = 512, n = 4096, pbs = 4096;
	struct svm_lun *lun = open_lun("scsi-ws0.img", bs, n, 128, true);
	static uint8_t blk[4096], old[4096], zero[4096], b[64];
	uint8_t cdb[16];
	int err;

	if (!lun)
		return;
	memset(old, 0x5A, bs);
	test_cdb10(cdb, SVM_OP_WRITE10, n - 8, 1);
	for (uint32_t lba = n - 8; lba < n; lba++) {
		svm_put_be32(cdb + 2, lba);
		CHECK_EQ(run(lun, cdb, old, bs), SVM_SENSE_OK);
	}
	/* WRITE SAME(10) and (16), 0 blocks: LBA n - 4 through n - 1, n - 5 untouched */
	for (int sixteen = 0; sixteen <= 1; sixteen++) {
		pattern(blk, bs, 3 + sixteen);
		if (sixteen)
			test_cdb16(cdb, SVM_OP_WRITE_SAME16, n - 4, 0);
		else
			test_cdb10(cdb, SVM_OP_WRITE_SAME10, n - 4, 0);
		CHECK_EQ(run(lun, cdb, blk, bs), SVM_SENSE_OK);
		CHECK(blocks_are(lun, bs, n - 4, 4, blk));
		CHECK(blocks_are(lun, bs, n - 5, 1, old));
		CHECK_EQ(run(lun, cdb, blk, bs - 1), SVM_SENSE_INVALID_FIELD_IN_CDB);
	}
	/* NDOB: zeroes to the end */
	test_cdb16(cdb, SVM_OP_WRITE_SAME16, n - 2, 0);
	cdb[1] = 0x01;
	CHECK_EQ(run(lun, cdb, NULL, 0), SVM_SENSE_OK);
	CHECK(blocks_are(lun, bs, n - 2, 2, zero));
	CHECK(blocks_are(lun, bs, n - 5, 1, old));
	/* at the capacity: an empty range; past it, out of range (libiscsi: n + 1, 2^31, -1) */
	test_cdb16(cdb, SVM_OP_WRITE_SAME16, n, 0);
	CHECK_EQ(run(lun, cdb, blk, bs), SVM_SENSE_OK);
	test_cdb10(cdb, SVM_OP_WRITE_SAME10, n, 0);
	CHECK_EQ(run(lun, cdb, blk, bs), SVM_SENSE_OK);
	static const uint64_t past[] = {n + 1, 1ull << 31, 1ull << 63, UINT64_MAX};
	for (size_t i = 0; i < sizeof(past) / sizeof(past[0]); i++) {
		test_cdb16(cdb, SVM_OP_WRITE_SAME16, past[i], 0);
		CHECK_EQ(run(lun, cdb, blk, bs), SVM_SENSE_LBA_OUT_OF_RANGE);
		if (past[i] <= UINT32_MAX) {
			test_cdb10(cdb, SVM_OP_WRITE_SAME10, (uint32_t)past[i], 0);
			CHECK_EQ(run(lun, cdb, blk, bs), SVM_SENSE_LBA_OUT_OF_RANGE);
		}
	}
	test_cdb10(cdb, SVM_OP_WRITE_SAME10, UINT32_MAX, 0);
	CHECK_EQ(run(lun, cdb, blk, bs), SVM_SENSE_LBA_OUT_OF_RANGE);
	/* a range given, as before: past the end is out of range */
	test_cdb10(cdb, SVM_OP_WRITE_SAME10, n - 1, 2);
	CHECK_EQ(run(lun, cdb, blk, bs), SVM_SENSE_LBA_OUT_OF_RANGE);
	/* from LBA 0: the whole LUN, and the block reaches both ends */
	pattern(blk, bs, 7);
	test_cdb10(cdb, SVM_OP_WRITE_SAME10, 0, 0);
	CHECK_EQ(run(lun, cdb, blk, bs), SVM_SENSE_OK);
	CHECK(blocks_are(lun, bs, 0, 1, blk) && blocks_are(lun, bs, n - 1, 1, blk));
	CHECK(blocks_are(lun, bs, n / 2, 1, blk));
	close_lun(lun, "scsi-ws0.img");

	/*
	 * UNMAP with a block of 0xFF, to the end, on a LUN of page-sized blocks
	 * (deallocation is per page): deallocated, reads zeroes (LBPRZ), GET
	 * LBA STATUS says deallocated; the same with a range given.
	 */
	lun = open_lun("scsi-ws0.img", pbs, 256, 0, true);
	if (!lun)
		return;
	memset(old, 0x5A, pbs);
	memset(blk, 0xFF, pbs);
	for (int sixteen = 0; sixteen <= 1; sixteen++) {
		uint32_t from = sixteen ? 200 : 240, cnt = sixteen ? 16 : 0;

		test_cdb10(cdb, SVM_OP_WRITE10, 192, 1);
		for (uint32_t lba = 192; lba < 256; lba++) {
			svm_put_be32(cdb + 2, lba);
			CHECK_EQ(run(lun, cdb, old, pbs), SVM_SENSE_OK);
		}
		if (sixteen)
			test_cdb16(cdb, SVM_OP_WRITE_SAME16, from, cnt);
		else
			test_cdb10(cdb, SVM_OP_WRITE_SAME10, from, cnt);
		cdb[1] = 0x08; /* UNMAP */
		CHECK_EQ(run(lun, cdb, blk, pbs), SVM_SENSE_OK);
		CHECK(blocks_are(lun, pbs, from, cnt ? cnt : 256 - from, zero));
		CHECK(blocks_are(lun, pbs, from - 1, 1, old));
		gls_cdb(cdb, from, 40);
		CHECK_EQ(run(lun, cdb, b, sizeof(b)), SVM_SENSE_OK);
		CHECK(gls_desc(b, 0, from, cnt ? cnt : 256 - from, 1));
	}
	close_lun(lun, "scsi-ws0.img");

	/* a store that cannot deallocate (no LBPRZ): UNMAP with a block of 0xFF writes it */
	svm_store_fault_discard_probe = -EOPNOTSUPP;
	lun = open_lun("scsi-ws0.img", bs, 64, 0, true);
	svm_store_fault_discard_probe = 0;
	if (!lun)
		return;
	memset(blk, 0xFF, bs);
	test_cdb10(cdb, SVM_OP_WRITE_SAME10, 60, 0);
	cdb[1] = 0x08;
	CHECK_EQ(run(lun, cdb, blk, bs), SVM_SENSE_OK);
	CHECK(blocks_are(lun, bs, 60, 4, blk));
	close_lun(lun, "scsi-ws0.img");

	/*
	 * MAXIMUM WRITE SAME LENGTH: a LUN 16 blocks longer (2 GiB, sparse). 0
	 * blocks from LBA 0 or 15 are more than it, INVALID FIELD IN CDB; from
	 * LBA 16 exactly it (UNMAP and a zero block: deallocation, cheap);
	 * past the end LBA OUT OF RANGE comes first.
	 */
	const uint64_t big = (uint64_t)SVM_WRITE_SAME_MAX_BLOCKS + 16;
	lun = open_lun_err("scsi-ws0big.img", bs, big, 128, true, &err);
	if (!lun && err == -EFBIG) {
		printf("  (scsi: the filesystem of %s cannot hold a 2 GiB file; skipped)\n",
		       test_dir);
		return;
	}
	CHECK(lun != NULL);
	if (!lun)
		return;
	test_cdb16(cdb, SVM_OP_WRITE_SAME16, 0, 0);
	CHECK_EQ(run(lun, cdb, zero, bs), SVM_SENSE_INVALID_FIELD_IN_CDB);
	test_cdb10(cdb, SVM_OP_WRITE_SAME10, 15, 0);
	CHECK_EQ(run(lun, cdb, zero, bs), SVM_SENSE_INVALID_FIELD_IN_CDB);
	test_cdb16(cdb, SVM_OP_WRITE_SAME16, big + 1, 0);
	CHECK_EQ(run(lun, cdb, zero, bs), SVM_SENSE_LBA_OUT_OF_RANGE);
	test_cdb16(cdb, SVM_OP_WRITE_SAME16, 16, 0);
	cdb[1] = 0x08;
	CHECK_EQ(run(lun, cdb, zero, bs), SVM_SENSE_OK);
	test_cdb16(cdb, SVM_OP_WRITE_SAME16, 17, 0);
	cdb[1] = 0x08;
	CHECK_EQ(run(lun, cdb, zero, bs), SVM_SENSE_OK);
	close_lun(lun, "scsi-ws0big.img");
}

/* ---- ORWRITE, WRITE ATOMIC, READ DEFECT DATA ---------------------------- */

static void orwrite_cdb(uint8_t *cdb, uint64_t lba, uint32_t n)
{
	test_cdb16(cdb, SVM_OP_ORWRITE16, lba, n);
}

/*
 * SBC-4 5.12 ORWRITE(16): the blocks become old OR data-out; 0 blocks does
 * nothing; out of range, ORPROTECT, a data-out of another size and more
 * than SVM_ORWRITE_MAX_BYTES are refused, nothing written.
 */
static void orwrite(void)
{
	const uint32_t bs = 512, n = 8;
	struct svm_lun *lun = open_lun("scsi-or.img", bs, 1024, 128, true);
	uint8_t cdb[16], old[8 * 512], data[8 * 512], back[8 * 512];
	bool ok = true;

	if (!lun)
		return;
	pattern(old, sizeof(old), 1);
	pattern(data, sizeof(data), 2);
	test_cdb10(cdb, SVM_OP_WRITE10, 100, n);
	CHECK_EQ(run(lun, cdb, old, sizeof(old)), SVM_SENSE_OK);
	orwrite_cdb(cdb, 100, n);
	cdb[1] = 0x18; /* DPO, FUA */
	CHECK_EQ(run(lun, cdb, data, sizeof(data)), SVM_SENSE_OK);
	test_cdb10(cdb, SVM_OP_READ10, 100, n);
	CHECK_EQ(run(lun, cdb, back, sizeof(back)), SVM_SENSE_OK);
	for (size_t i = 0; i < sizeof(back); i++)
		ok &= back[i] == (old[i] | data[i]);
	CHECK(ok);
	/* ORing the same again changes nothing */
	orwrite_cdb(cdb, 100, n);
	CHECK_EQ(run(lun, cdb, data, sizeof(data)), SVM_SENSE_OK);
	memcpy(old, back, sizeof(old));
	test_cdb10(cdb, SVM_OP_READ10, 100, n);
	CHECK_EQ(run(lun, cdb, back, sizeof(back)), SVM_SENSE_OK);
	CHECK(!memcmp(back, old, sizeof(back)));

	orwrite_cdb(cdb, 0, 0);
	CHECK_EQ(run(lun, cdb, NULL, 0), SVM_SENSE_OK);
	orwrite_cdb(cdb, 1025, 0);
	CHECK_EQ(run(lun, cdb, NULL, 0), SVM_SENSE_LBA_OUT_OF_RANGE);
	orwrite_cdb(cdb, 1020, n);
	CHECK_EQ(run(lun, cdb, data, sizeof(data)), SVM_SENSE_LBA_OUT_OF_RANGE);
	orwrite_cdb(cdb, UINT64_MAX, 1);
	CHECK_EQ(run(lun, cdb, data, bs), SVM_SENSE_LBA_OUT_OF_RANGE);
	orwrite_cdb(cdb, 100, n);
	cdb[1] = 0x20; /* ORPROTECT */
	CHECK_EQ(run(lun, cdb, data, sizeof(data)), SVM_SENSE_INVALID_FIELD_IN_CDB);
	orwrite_cdb(cdb, 100, n);
	CHECK_EQ(run(lun, cdb, data, sizeof(data) - bs), SVM_SENSE_INVALID_FIELD_IN_CDB);
	svm_store_fault_write = -EIO; /* the store fails the write back */
	orwrite_cdb(cdb, 100, n);
	CHECK_EQ(run(lun, cdb, data, sizeof(data)), SVM_SENSE_WRITE_ERROR);
	svm_store_fault_write = 0;
	test_cdb10(cdb, SVM_OP_READ10, 100, n);
	CHECK_EQ(run(lun, cdb, back, sizeof(back)), SVM_SENSE_OK);
	CHECK(!memcmp(back, old, sizeof(back)));
	close_lun(lun, "scsi-or.img");
	/* one more block than SVM_ORWRITE_MAX_BYTES holds, of the largest block size */
	lun = open_lun("scsi-or.img", SVM_BLOCK_SIZE_MAX, 512, 0, true);
	if (!lun)
		return;
	orwrite_cdb(cdb, 0, SVM_ORWRITE_MAX_BYTES / SVM_BLOCK_SIZE_MAX + 1);
	CHECK_EQ(run(lun, cdb, NULL, 0), SVM_SENSE_INVALID_FIELD_IN_CDB);
	close_lun(lun, "scsi-or.img");
}

static void atomic_cdb(uint8_t *cdb, uint64_t lba, uint16_t n)
{
	memset(cdb, 0, 16);
	cdb[0] = SVM_OP_WRITE_ATOMIC16;
	svm_put_be64(cdb + 2, lba);
	svm_put_be16(cdb + 12, n);
}

/*
 * SBC-4 5.47 WRITE ATOMIC(16): written whole; waits for a hold of its
 * range (svm_lun_hold, as SANITIZE and the range lock's exclusive users
 * take); longer than MAXIMUM ATOMIC TRANSFER LENGTH accepted; the refusals.
 */
static void write_atomic(void)
{
	const uint32_t bs = 512, n = 200;
	struct svm_lun *lun = open_lun("scsi-atomic.img", bs, 1024, 128, true);
	static uint8_t data[200 * 512], back[200 * 512];
	struct svm_lun_hold h;
	struct iovec v = {data, bs};
	uint8_t cdb[16];

	if (!lun)
		return;
	pattern(data, sizeof(data), 3);
	atomic_cdb(cdb, 10, n);
	cdb[1] = 0x18; /* DPO, FUA */
	CHECK_EQ(run(lun, cdb, data, sizeof(data)), SVM_SENSE_OK);
	test_cdb10(cdb, SVM_OP_READ10, 10, n);
	CHECK_EQ(run(lun, cdb, back, sizeof(back)), SVM_SENSE_OK);
	CHECK(!memcmp(back, data, sizeof(back)));
	/* a held range excludes every write, atomic or not */
	svm_lun_hold(lun, &h, 10 * bs, bs);
	CHECK_EQ(svm_lun_write_nowait(lun, &v, 1, 10 * bs, bs, false), -EAGAIN);
	svm_lun_release(lun, &h);
	CHECK_EQ(svm_lun_write_nowait(lun, &v, 1, 10 * bs, bs, false), 0);

	atomic_cdb(cdb, 0, 0);
	CHECK_EQ(run(lun, cdb, NULL, 0), SVM_SENSE_OK);
	atomic_cdb(cdb, 1025, 0);
	CHECK_EQ(run(lun, cdb, NULL, 0), SVM_SENSE_LBA_OUT_OF_RANGE);
	atomic_cdb(cdb, 1000, 2 * 30);
	CHECK_EQ(run(lun, cdb, data, 60 * bs), SVM_SENSE_LBA_OUT_OF_RANGE);
	atomic_cdb(cdb, 0, 2);
	cdb[1] = 0x40; /* WRPROTECT */
	CHECK_EQ(run(lun, cdb, data, 2 * bs), SVM_SENSE_INVALID_FIELD_IN_CDB);
	atomic_cdb(cdb, 0, 2);
	svm_put_be16(cdb + 10, 2); /* ATOMIC BOUNDARY */
	CHECK_EQ(run(lun, cdb, data, 2 * bs), SVM_SENSE_INVALID_FIELD_IN_CDB);
	atomic_cdb(cdb, 0, 2);
	CHECK_EQ(run(lun, cdb, data, 3 * bs), SVM_SENSE_INVALID_FIELD_IN_CDB);
	svm_store_fault_write = -ENOSPC;
	atomic_cdb(cdb, 0, 2);
	CHECK_EQ(run(lun, cdb, data, 2 * bs), SVM_SENSE_SPACE_ALLOC_FAILED);
	svm_store_fault_write = 0;
	close_lun(lun, "scsi-atomic.img");
}

/* SBC-4 5.14/5.15: an empty list in the format asked for; format 111b refused. */
static void read_defect_data(void)
{
	struct svm_lun *lun = open_lun("scsi-rdd.img", 512, 1024, 128, true);
	uint8_t r10[10] = {SVM_OP_READ_DEFECT_DATA10, 0, 0x18 | 0x05, 0, 0, 0, 0, 0, 32, 0};
	uint8_t r12[12] = {SVM_OP_READ_DEFECT_DATA12, 0x10 | 0x03, 0, 0, 0, 9, 0, 0, 0, 32, 0, 0};
	uint8_t b[64];

	if (!lun)
		return;
	memset(b, 0xAA, sizeof(b));
	CHECK_EQ(run(lun, r10, b, sizeof(b)), SVM_SENSE_OK);
	CHECK(b[0] == 0 && b[1] == 0x1d && svm_get_be16(b + 2) == 0 && all_bytes(b + 4, 60, 0));
	r10[2] = 0;
	CHECK_EQ(run(lun, r10, b, sizeof(b)), SVM_SENSE_OK);
	CHECK_EQ(b[1], 0);
	r10[2] = 0x07;
	CHECK_EQ(run(lun, r10, b, sizeof(b)), SVM_SENSE_INVALID_FIELD_IN_CDB);
	memset(b, 0xAA, sizeof(b));
	CHECK_EQ(run(lun, r12, b, sizeof(b)), SVM_SENSE_OK);
	CHECK(b[1] == 0x13 && svm_get_be32(b + 4) == 0 && all_bytes(b + 2, 62, 0));
	r12[9] = 2; /* ALLOCATION LENGTH 2 */
	memset(b, 0xAA, sizeof(b));
	CHECK_EQ(run(lun, r12, b, sizeof(b)), SVM_SENSE_OK);
	CHECK(b[1] == 0x13 && all_bytes(b + 2, 62, 0));
	r12[1] = 0x17;
	CHECK_EQ(run(lun, r12, b, sizeof(b)), SVM_SENSE_INVALID_FIELD_IN_CDB);
	close_lun(lun, "scsi-rdd.img");
}

/* ---- SANITIZE ------------------------------------------------------------ */

static void sanitize_cdb(uint8_t *cdb, uint8_t sa, bool immed, bool ause, uint16_t pll)
{
	memset(cdb, 0, 16);
	cdb[0] = SVM_OP_SANITIZE;
	cdb[1] = sa | (immed ? 0x80 : 0) | (ause ? 0x20 : 0);
	svm_put_be16(cdb + 7, pll);
}

/* An OVERWRITE parameter list: invert, count, pattern of plen bytes of pattern(seed). */
static size_t overwrite_list(uint8_t *pl, bool invert, uint8_t count, uint16_t plen, unsigned seed)
{
	pl[0] = (invert ? 0x80 : 0) | count;
	pl[1] = 0;
	svm_put_be16(pl + 2, plen);
	pattern(pl + 4, plen, seed);
	return 4 + plen;
}

/* Every block of [lba, lba + n) holds pattern p of plen bytes repeated from its start. */
static bool blocks_hold(struct svm_lun *lun, uint32_t bs, uint64_t lba, uint32_t n,
			const uint8_t *p, uint16_t plen)
{
	uint8_t cdb[16], *back = malloc((size_t)n * bs);
	bool ok = back != NULL;

	test_cdb16(cdb, SVM_OP_READ16, lba, n);
	ok = ok && run(lun, cdb, back, (size_t)n * bs) == SVM_SENSE_OK;
	for (size_t i = 0; ok && i < (size_t)n * bs; i++)
		ok = back[i] == p[(i % bs) % plen];
	free(back);
	return ok;
}

/* Wait (10 s at most) until no sanitize operation runs on lun. */
static bool sanitize_wait(struct svm_lun *lun)
{
	for (int i = 0; i < 10000; i++) {
		if (!(svm_lun_sanitize_get(lun) & SVM_SANITIZE_RUNNING))
			return true;
		usleep(1000);
	}
	return false;
}

/*
 * SBC-4 5.30 OVERWRITE and BLOCK ERASE over the whole LUN, IMMED 0; every
 * refusal of the CDB and the parameter list.
 */
static void sanitize_basic(void)
{
	const uint32_t bs = 512, n = 2048;
	struct svm_lun *lun = open_lun("scsi-san.img", bs, n, 128, true);
	static uint8_t pl[4 + 2 * 512], data[64 * 512], b[512];
	uint8_t cdb[16], last[4], tur[6] = {0};
	size_t len;

	if (!lun)
		return;
	memset(data, 0x61, sizeof(data));
	test_cdb16(cdb, SVM_OP_WRITE16, 0, 64);
	CHECK_EQ(run(lun, cdb, data, sizeof(data)), SVM_SENSE_OK);
	/* one pass of a whole block; a pattern that does not divide the block */
	len = overwrite_list(pl, false, 1, bs, 5);
	sanitize_cdb(cdb, SVM_SANITIZE_OVERWRITE, false, false, len);
	CHECK_EQ(run(lun, cdb, pl, len), SVM_SENSE_OK);
	CHECK(blocks_hold(lun, bs, 0, 64, pl + 4, bs));
	CHECK(blocks_hold(lun, bs, n - 64, 64, pl + 4, bs));
	len = overwrite_list(pl, false, 2, 3, 6);
	sanitize_cdb(cdb, SVM_SANITIZE_OVERWRITE, false, true, len);
	CHECK_EQ(run(lun, cdb, pl, (len + 3) & ~3u), SVM_SENSE_OK); /* padded data-out */
	CHECK(blocks_hold(lun, bs, 0, 16, pl + 4, 3));
	CHECK(blocks_hold(lun, bs, n - 16, 16, pl + 4, 3));
	/* INVERT: the last pass writes the pattern as given, whatever the count */
	for (uint8_t count = 2; count <= 3; count++) {
		len = overwrite_list(pl, true, count, 4, 7 + count);
		sanitize_cdb(cdb, SVM_SANITIZE_OVERWRITE, false, false, len);
		CHECK_EQ(run(lun, cdb, pl, len), SVM_SENSE_OK);
		CHECK(blocks_hold(lun, bs, 100, 8, pl + 4, 4));
	}
	memcpy(last, pl + 4, sizeof(last));
	CHECK_EQ(run(lun, tur, NULL, 0), SVM_SENSE_OK);
	CHECK_EQ(svm_lun_sanitize_get(lun), 0);

	/* refusals: the CDB */
	sanitize_cdb(cdb, SVM_SANITIZE_OVERWRITE, false, false, 0);
	for (uint16_t pll = 0; pll <= 4; pll++) {
		svm_put_be16(cdb + 7, pll);
		CHECK_EQ(run(lun, cdb, pl, 4), SVM_SENSE_INVALID_FIELD_IN_CDB);
	}
	memset(pl, 0, sizeof(pl));
	svm_put_be16(cdb + 7, bs + 5);
	CHECK_EQ(run(lun, cdb, pl, bs + 8), SVM_SENSE_INVALID_FIELD_IN_CDB);
	for (int i = 2; i <= 6; i++) {
		sanitize_cdb(cdb, SVM_SANITIZE_BLOCK_ERASE, false, false, 0);
		cdb[i] = i;
		CHECK_EQ(run(lun, cdb, NULL, 0), SVM_SENSE_INVALID_FIELD_IN_CDB);
	}
	sanitize_cdb(cdb, SVM_SANITIZE_BLOCK_ERASE, false, false, 0);
	cdb[1] |= 0x40; /* reserved */
	CHECK_EQ(run(lun, cdb, NULL, 0), SVM_SENSE_INVALID_FIELD_IN_CDB);
	sanitize_cdb(cdb, SVM_SANITIZE_BLOCK_ERASE, false, false, 8);
	CHECK_EQ(run(lun, cdb, pl, 8), SVM_SENSE_INVALID_FIELD_IN_CDB);
	sanitize_cdb(cdb, SVM_SANITIZE_EXIT_FAILURE, false, false, 8);
	CHECK_EQ(run(lun, cdb, pl, 8), SVM_SENSE_INVALID_FIELD_IN_CDB);
	sanitize_cdb(cdb, SVM_SANITIZE_CRYPTO_ERASE, false, false, 0);
	CHECK_EQ(run(lun, cdb, NULL, 0), SVM_SENSE_INVALID_SERVICE_ACTION);
	/* the parameter list: shorter than said, OVERWRITE COUNT 0, TEST, pattern length */
	len = overwrite_list(pl, false, 1, 8, 1);
	sanitize_cdb(cdb, SVM_SANITIZE_OVERWRITE, false, false, len);
	CHECK_EQ(run(lun, cdb, pl, len - 1), SVM_SENSE_PARAM_LIST_LENGTH);
	pl[0] = 0;
	CHECK_EQ(run(lun, cdb, pl, len), SVM_SENSE_INVALID_FIELD_IN_PARAM);
	pl[0] = 0x21; /* TEST 01b */
	CHECK_EQ(run(lun, cdb, pl, len), SVM_SENSE_INVALID_FIELD_IN_PARAM);
	pl[0] = 1;
	svm_put_be16(pl + 2, 0);
	CHECK_EQ(run(lun, cdb, pl, len), SVM_SENSE_INVALID_FIELD_IN_PARAM);
	svm_put_be16(pl + 2, 9); /* more than the list holds */
	CHECK_EQ(run(lun, cdb, pl, len), SVM_SENSE_INVALID_FIELD_IN_PARAM);
	len = overwrite_list(pl, false, 1, bs + 1, 1);
	sanitize_cdb(cdb, SVM_SANITIZE_OVERWRITE, false, false, bs + 4);
	CHECK_EQ(run(lun, cdb, pl, bs + 4), SVM_SENSE_INVALID_FIELD_IN_PARAM); /* > block */
	CHECK(blocks_hold(lun, bs, 0, n, last, sizeof(last))); /* nothing written */

	/* BLOCK ERASE: every block deallocated, reads zeroes */
	test_cdb16(cdb, SVM_OP_WRITE16, 0, 64);
	CHECK_EQ(run(lun, cdb, data, sizeof(data)), SVM_SENSE_OK);
	sanitize_cdb(cdb, SVM_SANITIZE_BLOCK_ERASE, false, false, 0);
	CHECK_EQ(run(lun, cdb, NULL, 0), SVM_SENSE_OK);
	CHECK(blocks_hold(lun, bs, 0, 64, (uint8_t[]){0}, 1));
	CHECK(blocks_hold(lun, bs, n - 64, 64, (uint8_t[]){0}, 1));
	gls_cdb(cdb, 0, sizeof(b));
	CHECK_EQ(run(lun, cdb, b, sizeof(b)), SVM_SENSE_OK);
	CHECK(svm_get_be32(b) == 20 && gls_desc(b, 0, 0, n, 1));
	/* EXIT FAILURE MODE with nothing failed: nothing to do */
	sanitize_cdb(cdb, SVM_SANITIZE_EXIT_FAILURE, false, false, 0);
	CHECK_EQ(run(lun, cdb, NULL, 0), SVM_SENSE_OK);
	close_lun(lun, "scsi-san.img");
}

/* What a SANITIZE with IMMED waits for: the test holds the first block. */
static void request_sense_of(struct svm_lun *lun, bool desc, uint8_t *b)
{
	uint8_t rs[6] = {SVM_OP_REQUEST_SENSE, desc ? 1 : 0, 0, 0, 64, 0};

	memset(b, 0xAA, 64);
	CHECK_EQ(run(lun, rs, b, 64), SVM_SENSE_OK);
}

/*
 * IMMED: status at once, the operation on the LUN's thread (kept waiting
 * here by a hold of the first block): meanwhile every command but INQUIRY
 * and REQUEST SENSE is NOT READY, SANITIZE IN PROGRESS with the progress
 * indication, REQUEST SENSE reports it in both formats, a second SANITIZE
 * is refused; then it completes. And a LUN closed while one runs stops it.
 */
static void sanitize_immed(void)
{
	const uint32_t bs = 512, n = 4096;
	struct svm_lun *lun = open_lun("scsi-sani.img", bs, n, 128, true);
	uint8_t cdb[16], pl[8], b[64], tur[6] = {0}, inq[6] = {SVM_OP_INQUIRY, 0, 0, 0, 36, 0};
	struct svm_scsi_req req;
	struct svm_lun_hold h;
	struct iovec v = {b, 64};
	size_t len;

	if (!lun)
		return;
	svm_lun_hold(lun, &h, 0, bs);
	len = overwrite_list(pl, false, 1, 4, 8);
	sanitize_cdb(cdb, SVM_SANITIZE_OVERWRITE, true, false, len);
	CHECK_EQ(run(lun, cdb, pl, len), SVM_SENSE_OK);
	CHECK(svm_lun_sanitize_get(lun) & SVM_SANITIZE_RUNNING);
	CHECK_EQ(run_iov(lun, tur, &v, 0, &req), SVM_SENSE_SANITIZE_IN_PROGRESS);
	CHECK(req.has_info && req.info == 0);
	test_cdb10(cdb, SVM_OP_READ10, 0, 1);
	CHECK_EQ(run(lun, cdb, b, bs), SVM_SENSE_SANITIZE_IN_PROGRESS);
	test_cdb10(cdb, SVM_OP_WRITE10, 8, 1);
	CHECK_EQ(run(lun, cdb, b, bs), SVM_SENSE_SANITIZE_IN_PROGRESS);
	CHECK_EQ(run(lun, inq, b, 36), SVM_SENSE_OK);
	sanitize_cdb(cdb, SVM_SANITIZE_BLOCK_ERASE, false, false, 0);
	CHECK_EQ(run(lun, cdb, NULL, 0), SVM_SENSE_SANITIZE_IN_PROGRESS);
	request_sense_of(lun, false, b);
	CHECK(b[0] == 0x70 && b[2] == 2 && b[12] == 0x04 && b[13] == 0x1B && b[15] == 0x80);
	request_sense_of(lun, true, b);
	CHECK(b[0] == 0x72 && b[1] == 2 && b[2] == 0x04 && b[3] == 0x1B && b[7] == 8);
	CHECK(b[8] == 0x02 && b[9] == 0x06 && b[12] == 0x80 && all_bytes(b + 16, 48, 0));
	/* the sense data of the refusal: SKSV and the PROGRESS INDICATION, no INFORMATION */
	uint8_t s[SVM_SENSE_FIXED_LEN];
	svm_sense_build(s, sizeof(s), SVM_SENSE_SANITIZE_IN_PROGRESS, true, 0x8000);
	CHECK(s[0] == 0x70 && s[2] == 2 && s[15] == 0x80 && s[16] == 0x80 && s[17] == 0);
	svm_lun_release(lun, &h);
	CHECK(sanitize_wait(lun));
	CHECK_EQ(run(lun, tur, NULL, 0), SVM_SENSE_OK);
	CHECK(blocks_hold(lun, bs, 0, 8, pl + 4, 4) && blocks_hold(lun, bs, n - 8, 8, pl + 4, 4));
	request_sense_of(lun, false, b);
	CHECK(b[0] == 0x70 && b[2] == 0 && b[12] == 0);
	/* closed while one runs: it stops (failed), close waits for the thread */
	svm_lun_hold(lun, &h, 0, bs);
	sanitize_cdb(cdb, SVM_SANITIZE_OVERWRITE, true, false, len);
	CHECK_EQ(run(lun, cdb, pl, len), SVM_SENSE_OK);
	svm_lun_release(lun, &h);
	close_lun(lun, "scsi-sani.img");
}

/*
 * A sanitize operation that fails (the store's writes fail) leaves the LUN
 * failed: medium access is MEDIUM ERROR, SANITIZE COMMAND FAILED until a
 * SANITIZE completes. With AUSE, EXIT FAILURE MODE ends it; without,
 * EXIT FAILURE MODE and a SANITIZE with AUSE are refused and only another
 * sanitize operation that succeeds does.
 */
static void sanitize_failure(void)
{
	const uint32_t bs = 512, n = 256;
	struct svm_lun *lun = open_lun("scsi-sanf.img", bs, n, 128, true);
	uint8_t cdb[16], pl[8], b[512], tur[6] = {0};
	size_t len = overwrite_list(pl, false, 1, 4, 9);

	if (!lun)
		return;
	svm_store_fault_write = -EIO;
	sanitize_cdb(cdb, SVM_SANITIZE_OVERWRITE, false, true, len);
	CHECK_EQ(run(lun, cdb, pl, len), SVM_SENSE_SANITIZE_FAILED);
	svm_store_fault_write = 0;
	check_sense(SVM_SENSE_SANITIZE_FAILED, 3, 0x31, 0x03, 0, 0);
	CHECK_EQ(svm_lun_sanitize_get(lun), SVM_SANITIZE_FAILED | SVM_SANITIZE_AUSE);
	test_cdb10(cdb, SVM_OP_READ10, 0, 1);
	CHECK_EQ(run(lun, cdb, b, bs), SVM_SENSE_SANITIZE_FAILED);
	CHECK_EQ(run(lun, tur, NULL, 0), SVM_SENSE_OK); /* no medium access */
	request_sense_of(lun, false, b);
	CHECK(b[2] == 3 && b[12] == 0x31 && b[13] == 0x03);
	sanitize_cdb(cdb, SVM_SANITIZE_EXIT_FAILURE, false, false, 0);
	CHECK_EQ(run(lun, cdb, NULL, 0), SVM_SENSE_OK);
	CHECK_EQ(svm_lun_sanitize_get(lun), 0);
	test_cdb10(cdb, SVM_OP_READ10, 0, 1);
	CHECK_EQ(run(lun, cdb, b, bs), SVM_SENSE_OK);

	/* restricted completion (AUSE 0) */
	svm_store_fault_write = -EIO;
	sanitize_cdb(cdb, SVM_SANITIZE_OVERWRITE, false, false, len);
	CHECK_EQ(run(lun, cdb, pl, len), SVM_SENSE_SANITIZE_FAILED);
	svm_store_fault_write = 0;
	CHECK_EQ(svm_lun_sanitize_get(lun), SVM_SANITIZE_FAILED);
	sanitize_cdb(cdb, SVM_SANITIZE_EXIT_FAILURE, false, false, 0);
	CHECK_EQ(run(lun, cdb, NULL, 0), SVM_SENSE_INVALID_FIELD_IN_CDB);
	sanitize_cdb(cdb, SVM_SANITIZE_OVERWRITE, false, true, len);
	CHECK_EQ(run(lun, cdb, pl, len), SVM_SENSE_INVALID_FIELD_IN_CDB);
	sanitize_cdb(cdb, SVM_SANITIZE_OVERWRITE, false, false, len);
	CHECK_EQ(run(lun, cdb, pl, len), SVM_SENSE_OK);
	CHECK_EQ(svm_lun_sanitize_get(lun), 0);
	CHECK(blocks_hold(lun, bs, 0, n, pl + 4, 4));
	close_lun(lun, "scsi-sanf.img");
}

/* ---- MODE SELECT, software write protect --------------------------------- */

/* The control page (12 bytes) MODE SENSE(6) reports with PAGE CONTROL pc, DBD. */
static void control_page(struct svm_lun *lun, uint8_t pc, uint8_t *page)
{
	uint8_t ms6[6] = {SVM_OP_MODE_SENSE6, 0x08, (uint8_t)(pc << 6 | 0x0A), 0, 255, 0}, b[255];

	CHECK_EQ(run(lun, ms6, b, sizeof(b)), SVM_SENSE_OK);
	CHECK(b[0] == 3 + 12 && b[3] == 0 && b[4] == 0x0A && b[5] == 0x0A);
	memcpy(page, b + 4, 12);
}

/* The caching page (20 bytes) as MODE SENSE(6) reports its current values. */
static void caching_page(struct svm_lun *lun, uint8_t *page)
{
	uint8_t ms6[6] = {SVM_OP_MODE_SENSE6, 0x08, 0x08, 0, 255, 0}, b[255];

	CHECK_EQ(run(lun, ms6, b, sizeof(b)), SVM_SENSE_OK);
	memcpy(page, b + 4, 20);
}

/*
 * MODE SELECT(6) or (ten) (10) with PF and byte 1 bits extra, PARAMETER
 * LIST LENGTH pll, of a data-out of len bytes at pl; *out the request after.
 */
static enum svm_sense mode_select_x(struct svm_lun *lun, bool ten, uint8_t extra, uint16_t pll,
				    const uint8_t *pl, size_t len, struct svm_scsi_req *out)
{
	uint8_t cdb[10] = {ten ? SVM_OP_MODE_SELECT10 : SVM_OP_MODE_SELECT6, 0x10 | extra};
	struct iovec v = {(void *)pl, len};

	if (ten)
		svm_put_be16(cdb + 7, pll);
	else
		cdb[4] = pll;
	return run_iov(lun, cdb, &v, len ? 1 : 0, out);
}

static enum svm_sense mode_select(struct svm_lun *lun, bool ten, const uint8_t *pl, size_t len,
				  struct svm_scsi_req *out)
{
	return mode_select_x(lun, ten, 0, len, pl, len, out);
}

/*
 * What libiscsi's set_swp / clear_swp send: MODE SELECT(6), a header of
 * zeroes, the current control page (PS cleared) with SWP on or off.
 */
static enum svm_sense set_swp(struct svm_lun *lun, bool on)
{
	uint8_t pl[4 + 12] = {0};

	control_page(lun, 0, pl + 4);
	pl[4] &= 0x7f;
	pl[4 + 4] = on ? pl[4 + 4] | 0x08 : pl[4 + 4] & ~0x08;
	return mode_select(lun, false, pl, sizeof(pl), NULL);
}

/* INVALID FIELD IN PARAMETER LIST pointing at byte field, bit bit of the list. */
static bool param_field_at(enum svm_sense s, const struct svm_scsi_req *r, uint16_t field,
			   uint8_t bit)
{
	bool ok = s == SVM_SENSE_INVALID_FIELD_IN_PARAM && r->has_ptr && r->ptr.valid &&
		  !r->ptr.in_cdb && r->ptr.bit_valid && r->ptr.field == field && r->ptr.bit == bit;

	if (!ok)
		fprintf(stderr, "FAIL: %s, pointer %d/%d field %u bit %u; wanted field %u bit %u\n",
			svm_sense_name(s), r->has_ptr, r->ptr.valid, r->ptr.field, r->ptr.bit,
			field, bit);
	return ok;
}

/*
 * SPC-4 7.5.8 SWP through MODE SENSE: changeable (PC 01b, the only
 * changeable bit of either page), current (PC 00b) as MODE SELECT set it,
 * default (PC 10b) 0; with SWP set the mode parameter header reports WP
 * (SBC-4 6.5.1), in MODE SENSE(6) and (10), every page control; lost when
 * the LUN closes.
 */
static void mode_sense_swp(void)
{
	struct svm_lun *lun = open_lun("scsi-msswp.img", 512, 4096, 128, true);
	uint8_t page[20], ms6[6] = {SVM_OP_MODE_SENSE6, 0, 0x3F, 0, 255, 0}, b[255];
	uint8_t ms10[10] = {SVM_OP_MODE_SENSE10, 0x08, 0x0A, 0, 0, 0, 0, 0, 255, 0};

	if (!lun)
		return;
	control_page(lun, 1, page);
	CHECK(page[4] == 0x08 && all_bytes(page + 2, 2, 0) && all_bytes(page + 5, 7, 0));
	uint8_t chg6[6] = {SVM_OP_MODE_SENSE6, 0x08, 0x48, 0, 255, 0};
	CHECK_EQ(run(lun, chg6, b, sizeof(b)), SVM_SENSE_OK);
	CHECK(b[4] == 0x08 && b[5] == 0x12 && all_bytes(b + 6, 18, 0)); /* caching: nothing */
	control_page(lun, 0, page);
	CHECK(page[3] == 0x10 && page[4] == 0 && svm_get_be16(page + 8) == 0xFFFF);
	CHECK_EQ(run(lun, ms6, b, sizeof(b)), SVM_SENSE_OK);
	CHECK_EQ(b[2], 0x10); /* DPOFUA, no WP */

	CHECK_EQ(set_swp(lun, true), SVM_SENSE_OK);
	CHECK(svm_lun_swp(lun));
	control_page(lun, 0, page);
	CHECK(page[3] == 0x10 && page[4] == 0x08 && svm_get_be16(page + 8) == 0xFFFF);
	control_page(lun, 2, page);
	CHECK_EQ(page[4], 0);
	control_page(lun, 1, page);
	CHECK_EQ(page[4], 0x08);
	for (uint8_t pc = 0; pc < 3; pc++) {
		ms6[2] = pc << 6 | 0x3F;
		CHECK_EQ(run(lun, ms6, b, sizeof(b)), SVM_SENSE_OK);
		CHECK_EQ(b[2], 0x90); /* WP, DPOFUA */
	}
	ms6[2] = 0x3F; /* all pages: the control page after the caching page */
	CHECK_EQ(run(lun, ms6, b, sizeof(b)), SVM_SENSE_OK);
	CHECK(b[3] == 8 && b[12 + 20] == 0x0A && b[12 + 20 + 4] == 0x08);
	CHECK_EQ(run(lun, ms10, b, sizeof(b)), SVM_SENSE_OK);
	CHECK(b[3] == 0x90 && b[8] == 0x0A && b[12] == 0x08);

	CHECK_EQ(set_swp(lun, false), SVM_SENSE_OK);
	CHECK(!svm_lun_swp(lun));
	control_page(lun, 0, page);
	CHECK_EQ(page[4], 0);
	CHECK_EQ(run(lun, ms10, b, sizeof(b)), SVM_SENSE_OK);
	CHECK_EQ(b[3], 0x10);

	/* volatile: a LUN opened again has it off */
	CHECK_EQ(set_swp(lun, true), SVM_SENSE_OK);
	svm_lun_close(lun);
	lun = open_lun("scsi-msswp.img", 512, 4096, 128, true);
	if (!lun)
		return;
	CHECK(!svm_lun_swp(lun));
	control_page(lun, 0, page);
	CHECK_EQ(page[4], 0);
	close_lun(lun, "scsi-msswp.img");
}

/*
 * SPC-4 6.9/6.10: every refusal of MODE SELECT, each before anything
 * changes: PF 0 and SP 1 in the CDB; a list shorter than its header, block
 * descriptor or pages; MEDIUM TYPE, BLOCK DESCRIPTOR LENGTH, a block
 * descriptor not the LUN's; pages not served, of another length, or
 * changing a field that is not changeable; each with its field pointer.
 * And what is accepted: an empty list, a header alone, the LUN's block
 * descriptor (or NUMBER OF LOGICAL BLOCKS 0), the current caching page,
 * PS, the DEVICE-SPECIFIC PARAMETER and MODE DATA LENGTH ignored.
 */
static void mode_select_refusals(void)
{
	struct svm_lun *lun = open_lun("scsi-msel.img", 512, 4096, 128, true);
	uint8_t pl[8 + 16 + 20 + 12 + 16], ctl[12], cache[20], b[SVM_SENSE_FIXED_LEN];
	struct svm_scsi_req req;
	enum svm_sense s;

	if (!lun)
		return;
	control_page(lun, 0, ctl);
	caching_page(lun, cache);

	/* the CDB: PF 0, SP 1 (no saved pages), whatever the list */
	memset(pl, 0, sizeof(pl));
	memcpy(pl + 4, ctl, 12);
	for (int ten = 0; ten <= 1; ten++) {
		uint8_t cdb[10] = {ten ? SVM_OP_MODE_SELECT10 : SVM_OP_MODE_SELECT6, 0x00};

		CHECK_EQ(run(lun, cdb, NULL, 0), SVM_SENSE_INVALID_FIELD_IN_CDB);
		cdb[1] = 0x11;
		CHECK_EQ(run(lun, cdb, NULL, 0), SVM_SENSE_INVALID_FIELD_IN_CDB);
		cdb[1] = 0x10; /* PARAMETER LIST LENGTH 0: nothing to do */
		CHECK_EQ(run(lun, cdb, NULL, 0), SVM_SENSE_OK);
		cdb[1] = 0x1E; /* reserved bits: not looked at */
		CHECK_EQ(run(lun, cdb, NULL, 0), SVM_SENSE_OK);
	}
	CHECK_EQ(mode_select_x(lun, false, 0x01, 16, pl, 16, NULL), SVM_SENSE_INVALID_FIELD_IN_CDB);
	CHECK_EQ(mode_select_x(lun, true, 0x01, 16, pl, 16, NULL), SVM_SENSE_INVALID_FIELD_IN_CDB);

	/* PARAMETER LIST LENGTH more than the data-out */
	CHECK_EQ(mode_select_x(lun, false, 0, 16, pl, 12, NULL), SVM_SENSE_PARAM_LIST_LENGTH);
	/* the header alone: accepted; cut short: PARAMETER LIST LENGTH ERROR */
	memset(pl, 0, sizeof(pl));
	CHECK_EQ(mode_select(lun, false, pl, 4, NULL), SVM_SENSE_OK);
	CHECK_EQ(mode_select(lun, true, pl, 8, NULL), SVM_SENSE_OK);
	CHECK_EQ(mode_select(lun, false, pl, 3, &req), SVM_SENSE_PARAM_LIST_LENGTH);
	CHECK(!req.has_ptr || !req.ptr.valid);
	CHECK_EQ(mode_select(lun, true, pl, 7, NULL), SVM_SENSE_PARAM_LIST_LENGTH);
	/* a block descriptor cut short */
	pl[3] = 8;
	CHECK_EQ(mode_select(lun, false, pl, 4 + 7, NULL), SVM_SENSE_PARAM_LIST_LENGTH);
	memset(pl, 0, 8);
	pl[4] = 0x01; /* LONGLBA */
	pl[7] = 16;
	CHECK_EQ(mode_select(lun, true, pl, 8 + 15, NULL), SVM_SENSE_PARAM_LIST_LENGTH);
	/* a mode page cut short: its header, its PAGE LENGTH */
	memset(pl, 0, sizeof(pl));
	memcpy(pl + 4, ctl, 12);
	CHECK_EQ(mode_select(lun, false, pl, 4 + 1, NULL), SVM_SENSE_PARAM_LIST_LENGTH);
	CHECK_EQ(mode_select(lun, false, pl, 4 + 11, NULL), SVM_SENSE_PARAM_LIST_LENGTH);
	CHECK_EQ(mode_select(lun, false, pl, 4 + 12 + 1, NULL), SVM_SENSE_PARAM_LIST_LENGTH);
	pl[4] = 0x4A; /* the sub_page format: a 4-byte header */
	CHECK_EQ(mode_select(lun, false, pl, 4 + 3, NULL), SVM_SENSE_PARAM_LIST_LENGTH);

	/* MEDIUM TYPE */
	memset(pl, 0, sizeof(pl));
	memcpy(pl + 4, ctl, 12);
	pl[1] = 0x01;
	CHECK(param_field_at(mode_select(lun, false, pl, 16, &req), &req, 1, 7));
	memset(pl, 0, sizeof(pl));
	memcpy(pl + 8, ctl, 12);
	pl[2] = 0x05;
	CHECK(param_field_at(mode_select(lun, true, pl, 20, &req), &req, 2, 7));

	/* BLOCK DESCRIPTOR LENGTH: 8 or (LONGLBA) 16 only */
	memset(pl, 0, sizeof(pl));
	pl[3] = 4;
	CHECK(param_field_at(mode_select(lun, false, pl, 4 + 4, &req), &req, 3, 7));
	pl[3] = 16;
	CHECK(param_field_at(mode_select(lun, false, pl, 4 + 16, &req), &req, 3, 7));
	memset(pl, 0, sizeof(pl));
	pl[7] = 16; /* without LONGLBA */
	CHECK(param_field_at(mode_select(lun, true, pl, 8 + 16, &req), &req, 6, 7));
	pl[4] = 0x01;
	pl[7] = 8; /* with LONGLBA */
	CHECK(param_field_at(mode_select(lun, true, pl, 8 + 8, &req), &req, 6, 7));

	/* the short block descriptor: the LUN's, or NUMBER OF LOGICAL BLOCKS 0 */
	memset(pl, 0, sizeof(pl));
	pl[3] = 8;
	svm_put_be32(pl + 4, 4096);
	svm_put_be32(pl + 8, 512);
	memcpy(pl + 12, ctl, 12);
	CHECK_EQ(mode_select(lun, false, pl, 4 + 8, NULL), SVM_SENSE_OK);
	CHECK_EQ(mode_select(lun, false, pl, 4 + 8 + 12, NULL), SVM_SENSE_OK);
	svm_put_be32(pl + 4, 0);
	CHECK_EQ(mode_select(lun, false, pl, 4 + 8 + 12, NULL), SVM_SENSE_OK);
	svm_put_be32(pl + 4, 4095);
	CHECK(param_field_at(mode_select(lun, false, pl, 4 + 8 + 12, &req), &req, 4, 7));
	svm_put_be32(pl + 4, 4097);
	CHECK(param_field_at(mode_select(lun, false, pl, 4 + 8 + 12, &req), &req, 4, 7));
	svm_put_be32(pl + 4, 4096);
	svm_put_be32(pl + 8, 4096);
	CHECK(param_field_at(mode_select(lun, false, pl, 4 + 8 + 12, &req), &req, 9, 7));
	svm_put_be32(pl + 8, 0);
	CHECK(param_field_at(mode_select(lun, false, pl, 4 + 8 + 12, &req), &req, 9, 7));
	/* MODE SELECT(10): short and long descriptors */
	memset(pl, 0, sizeof(pl));
	pl[7] = 8;
	svm_put_be32(pl + 8, 4096);
	svm_put_be32(pl + 12, 512);
	CHECK_EQ(mode_select(lun, true, pl, 8 + 8, NULL), SVM_SENSE_OK);
	memset(pl, 0, sizeof(pl));
	pl[4] = 0x01;
	pl[7] = 16;
	svm_put_be64(pl + 8, 4096);
	svm_put_be32(pl + 20, 512);
	memcpy(pl + 24, ctl, 12);
	CHECK_EQ(mode_select(lun, true, pl, 8 + 16 + 12, NULL), SVM_SENSE_OK);
	svm_put_be64(pl + 8, 0);
	CHECK_EQ(mode_select(lun, true, pl, 8 + 16 + 12, NULL), SVM_SENSE_OK);
	svm_put_be64(pl + 8, 1ull << 32 | 4096);
	CHECK(param_field_at(mode_select(lun, true, pl, 8 + 16 + 12, &req), &req, 8, 7));
	svm_put_be64(pl + 8, 4096);
	svm_put_be32(pl + 20, 1024);
	CHECK(param_field_at(mode_select(lun, true, pl, 8 + 16 + 12, &req), &req, 20, 7));

	/* pages: not served, the sub_page format, another PAGE LENGTH */
	memset(pl, 0, sizeof(pl));
	pl[4] = 0x01; /* READ-WRITE ERROR RECOVERY */
	pl[5] = 10;
	CHECK(param_field_at(mode_select(lun, false, pl, 4 + 12, &req), &req, 4, 5));
	pl[4] = 0x1C; /* INFORMATIONAL EXCEPTIONS CONTROL */
	CHECK(param_field_at(mode_select(lun, false, pl, 4 + 12, &req), &req, 4, 5));
	memcpy(pl + 4, ctl, 12);
	pl[4] = 0x4A;
	pl[5] = 0x01;
	svm_put_be16(pl + 6, 8);
	CHECK(param_field_at(mode_select(lun, false, pl, 4 + 12, &req), &req, 4, 6));
	memcpy(pl + 4, ctl, 12);
	pl[5] = 0x0B;
	CHECK(param_field_at(mode_select(lun, false, pl, 4 + 13, &req), &req, 5, 7));
	pl[5] = 0x08;
	CHECK(param_field_at(mode_select(lun, false, pl, 4 + 10, &req), &req, 5, 7));

	/* the control page: nothing but SWP changes */
	static const struct {
		uint8_t byte, bit;
	} fixed[] = {
	    {2, 2},  /* D_SENSE */
	    {2, 7},  /* TST */
	    {3, 4},  /* QUEUE ALGORITHM MODIFIER */
	    {3, 1},  /* QERR */
	    {4, 7},  /* VS */
	    {4, 2},  /* reserved, next to SWP */
	    {5, 6},  /* TAS */
	    {8, 0},  /* BUSY TIMEOUT PERIOD */
	    {11, 3}, /* EXTENDED SELF-TEST COMPLETION TIME */
	};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		memset(pl, 0, sizeof(pl));
		memcpy(pl + 4, ctl, 12);
		pl[4 + 4] |= 0x08; /* with SWP, which is not set after all */
		pl[4 + fixed[i].byte] ^= 1u << fixed[i].bit;
		s = mode_select(lun, false, pl, 4 + 12, &req);
		CHECK(param_field_at(s, &req, 4 + fixed[i].byte, fixed[i].bit));
		CHECK(!svm_lun_swp(lun));
	}
	/* the field pointer in the sense data: SKSV, C/D 0, BPV, BIT POINTER, FIELD POINTER */
	svm_sense_build_fp(b, sizeof(b), s, false, 0, &req.ptr);
	CHECK(b[2] == 5 && b[12] == 0x26 && b[13] == 0 && b[15] == (0x80 | 0x08 | 3));
	CHECK_EQ(svm_get_be16(b + 16), 4 + 11);

	/* the caching page: the current one accepted, any change refused */
	memset(pl, 0, sizeof(pl));
	memcpy(pl + 4, cache, 20);
	CHECK(cache[2] & 0x04); /* WCE */
	CHECK_EQ(mode_select(lun, false, pl, 4 + 20, NULL), SVM_SENSE_OK);
	pl[4 + 2] &= ~0x04;
	CHECK(param_field_at(mode_select(lun, false, pl, 4 + 20, &req), &req, 6, 2));
	memcpy(pl + 4, cache, 20);
	pl[4 + 12] = 0x80; /* FSW */
	CHECK(param_field_at(mode_select(lun, false, pl, 4 + 20, &req), &req, 16, 7));

	/* all or nothing: SWP in the control page, then a page refused */
	memset(pl, 0, sizeof(pl));
	memcpy(pl + 4, ctl, 12);
	pl[4 + 4] |= 0x08;
	memcpy(pl + 16, cache, 20);
	pl[16 + 2] ^= 0x04;
	CHECK(param_field_at(mode_select(lun, false, pl, 4 + 12 + 20, &req), &req, 18, 2));
	CHECK(!svm_lun_swp(lun));
	pl[16 + 2] ^= 0x04;
	pl[16 + 20] = 0x01; /* a page not served after both */
	pl[16 + 21] = 0x00;
	CHECK(param_field_at(mode_select(lun, false, pl, 4 + 12 + 20 + 2, &req), &req, 36, 5));
	CHECK(!svm_lun_swp(lun));
	/* ... and the same list whole: both pages, SWP set */
	CHECK_EQ(mode_select(lun, false, pl, 4 + 12 + 20, NULL), SVM_SENSE_OK);
	CHECK(svm_lun_swp(lun));

	/* ignored: MODE DATA LENGTH, the DEVICE-SPECIFIC PARAMETER, PS; the last page wins */
	memset(pl, 0, sizeof(pl));
	pl[0] = 0x2A;
	pl[2] = 0x90; /* WP, DPOFUA: what MODE SENSE reports now */
	memcpy(pl + 4, ctl, 12);
	pl[4] |= 0x80;
	CHECK_EQ(mode_select(lun, false, pl, 4 + 12, NULL), SVM_SENSE_OK);
	CHECK(!svm_lun_swp(lun));
	memcpy(pl + 16, ctl, 12);
	pl[16 + 4] |= 0x08;
	CHECK_EQ(mode_select(lun, false, pl, 4 + 12 + 12, NULL), SVM_SENSE_OK);
	CHECK(svm_lun_swp(lun));
	pl[4 + 4] |= 0x08;
	pl[16 + 4] &= ~0x08;
	CHECK_EQ(mode_select(lun, false, pl, 4 + 12 + 12, NULL), SVM_SENSE_OK);
	CHECK(!svm_lun_swp(lun));
	close_lun(lun, "scsi-msel.img");

	/* write cache off: the caching page with WCE 0 is the current one */
	lun = open_lun("scsi-msel.img", 512, 4096, 128, false);
	if (!lun)
		return;
	caching_page(lun, cache);
	CHECK(!(cache[2] & 0x04));
	memset(pl, 0, sizeof(pl));
	memcpy(pl + 8, cache, 20);
	CHECK_EQ(mode_select(lun, true, pl, 8 + 20, NULL), SVM_SENSE_OK);
	pl[8 + 2] |= 0x04;
	CHECK(param_field_at(mode_select(lun, true, pl, 8 + 20, &req), &req, 10, 2));
	close_lun(lun, "scsi-msel.img");
}

static int serial_arg(void *arg, char *buf, size_t len)
{
	snprintf(buf, len, "%s", (const char *)arg);
	return 0;
}

/* A LUN of 4096 512-byte blocks on test_dir/name with unit serial serial, in copy group "swp". */
static struct svm_lun *open_grouped(const char *name, const char *serial)
{
	char path[256], *reason = NULL;
	struct svm_lun *lun = NULL;
	struct svm_cfg cfg;

	store_path(path, sizeof(path), name);
	if (svm_cfg_parse(path, &cfg, &reason) == 0) {
		struct svm_lun_params p = {.cfg = &cfg,
					   .block_size = 512,
					   .num_lbas = 4096,
					   .max_xfer_blocks = 128,
					   .wce = true,
					   .serial = serial_arg,
					   .serial_arg = (void *)serial};

		CHECK_EQ(svm_lun_open(&p, &lun, &reason), 0);
		svm_cfg_free(&cfg);
	}
	free(reason);
	if (lun)
		CHECK_EQ(svm_registry_add(lun, "swp"), 0);
	return lun;
}

/* EXTENDED COPY(LID1) of n blocks from LBA s of src to LBA d of dst, sent to lun. */
static enum svm_sense xcopy_blocks(struct svm_lun *lun, const char *src, const char *dst,
				   uint16_t n, uint64_t s, uint64_t d)
{
	uint8_t cdb[16] = {SVM_XCOPY_OP_EXTENDED_COPY, SVM_XCOPY_SA_LID1}, list[16 + 64 + 28];
	uint8_t na[SVM_NAA_LEN], nb[SVM_NAA_LEN];

	svm_naa_from_serial(src, na);
	svm_naa_from_serial(dst, nb);
	header(list, 1, 2, 64, 28, 0);
	cscd_e4(list + 16, na, SVM_NAA_LEN, 512);
	cscd_e4(list + 48, nb, SVM_NAA_LEN, 512);
	seg_02(list + 80, 0, 1, n, s, d, false, false);
	svm_put_be32(cdb + 10, sizeof(list));
	return run(lun, cdb, list, sizeof(list));
}

/*
 * SPC-4 7.5.8: with SWP set every command that would change the medium is
 * DATA PROTECT, WRITE PROTECTED and changes nothing, whatever path it
 * would take (svm_scsi_route sends it to svm_scsi_execute, never to the
 * runner's write path); reads and the commands that do not write run; an
 * EXTENDED COPY is refused whole when a destination is protected, this LUN
 * or another, and runs from a protected source. A CDB that is wrong is
 * still ILLEGAL REQUEST. Clearing SWP gives writes back.
 */
static void swp_blocks_writes(void)
{
	const uint32_t bs = 512, n = 4096;
	struct svm_lun *lun = open_grouped("scsi-swp.img", "5a5a0001");
	struct svm_lun *other = open_grouped("scsi-swp2.img", "5b5b0002");
	static uint8_t data[64 * 512], back[64 * 512], blk[2 * 512], pl[64], b[512];
	uint8_t cdb[16], ncdb[16];
	struct svm_scsi_req req;
	size_t len;

	if (!lun || !other)
		goto close;
	pattern(data, sizeof(data), 11);
	test_cdb10(cdb, SVM_OP_WRITE10, 0, 64);
	CHECK_EQ(run(lun, cdb, data, sizeof(data)), SVM_SENSE_OK);
	/* a WRITE the runner's generic path would take, or the page cache */
	req = (struct svm_scsi_req){.cdb = cdb, .iov = &(struct iovec){data, bs}, .iov_cnt = 1};
	test_cdb10(cdb, SVM_OP_WRITE10, 100, 1);
	CHECK_EQ(svm_scsi_route(lun, &req), SVM_SCSI_ROUTE_WRITE_CACHED);
	cdb[1] = 0x08;
	CHECK_EQ(svm_scsi_route(lun, &req), SVM_SCSI_ROUTE_RW);

	CHECK_EQ(set_swp(lun, true), SVM_SENSE_OK);
	CHECK(svm_lun_swp(lun) && !svm_lun_swp(other));
	test_cdb10(cdb, SVM_OP_WRITE10, 100, 1);
	CHECK_EQ(svm_scsi_route(lun, &req), SVM_SCSI_ROUTE_INLINE);
	cdb[1] = 0x08;
	CHECK_EQ(svm_scsi_route(lun, &req), SVM_SCSI_ROUTE_INLINE);
	CHECK_EQ(svm_scsi_execute(lun, &req), SVM_SENSE_WRITE_PROTECTED);
	check_sense(SVM_SENSE_WRITE_PROTECTED, 7, 0x27, 0x00, 0, 0);

	/* every command that writes: one data-out of the right size each */
	memset(blk, 0, sizeof(blk));
	struct {
		uint8_t cdb[16];
		size_t len; /* data-out */
	} w[] = {
	    {{SVM_OP_WRITE6, 0, 0, 1, 1}, bs},
	    {{SVM_OP_WRITE10}, bs},
	    {{SVM_OP_WRITE12}, bs},
	    {{SVM_OP_WRITE16}, bs},
	    {{SVM_OP_WRITE_VERIFY10, 0x02}, bs},
	    {{SVM_OP_WRITE_VERIFY12}, bs},
	    {{SVM_OP_WRITE_VERIFY16}, bs},
	    {{SVM_OP_WRITE_SAME10}, bs},
	    {{SVM_OP_WRITE_SAME10, 0x08}, bs}, /* UNMAP */
	    {{SVM_OP_WRITE_SAME16}, bs},
	    {{SVM_OP_WRITE_SAME16, 0x09}, 0},	  /* UNMAP, NDOB */
	    {{SVM_OP_COMPARE_AND_WRITE}, 2 * bs}, /* a match: it would write */
	    {{SVM_OP_ORWRITE16}, bs},
	    {{SVM_OP_WRITE_ATOMIC16}, bs},
	};
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		uint8_t *c = w[i].cdb;

		switch (c[0] >> 5) { /* LBA 1, one block */
		case 0:
			break;
		case 4:
			svm_put_be64(c + 2, 1);
			if (c[0] == SVM_OP_COMPARE_AND_WRITE)
				c[13] = 1;
			else if (c[0] == SVM_OP_WRITE_ATOMIC16)
				svm_put_be16(c + 12, 1);
			else
				svm_put_be32(c + 10, 1);
			break;
		case 5:
			svm_put_be32(c + 2, 1);
			svm_put_be32(c + 6, 1);
			break;
		default:
			svm_put_be32(c + 2, 1);
			svm_put_be16(c + 7, 1);
			break;
		}
		if (c[0] == SVM_OP_COMPARE_AND_WRITE)
			memcpy(blk, data + bs, bs);
		if (run(lun, c, blk, w[i].len) != SVM_SENSE_WRITE_PROTECTED) {
			fprintf(stderr, "FAIL opcode 0x%02x not refused with SWP set\n", c[0]);
			CHECK(0);
		}
	}
	uint8_t um[10] = {SVM_OP_UNMAP, 0, 0, 0, 0, 0, 0, 0, 24, 0};
	unmap_one(pl, 0, 8);
	CHECK_EQ(run(lun, um, pl, 24), SVM_SENSE_WRITE_PROTECTED);
	len = overwrite_list(pl, false, 1, 4, 3);
	sanitize_cdb(cdb, SVM_SANITIZE_OVERWRITE, false, false, len);
	CHECK_EQ(run(lun, cdb, pl, len), SVM_SENSE_WRITE_PROTECTED);
	sanitize_cdb(cdb, SVM_SANITIZE_OVERWRITE, true, true, len);
	CHECK_EQ(run(lun, cdb, pl, len), SVM_SENSE_WRITE_PROTECTED);
	sanitize_cdb(cdb, SVM_SANITIZE_BLOCK_ERASE, false, false, 0);
	CHECK_EQ(run(lun, cdb, NULL, 0), SVM_SENSE_WRITE_PROTECTED);
	CHECK_EQ(svm_lun_sanitize_get(lun), 0);
	/* EXTENDED COPY into it: from itself, from the other LUN, sent to either */
	CHECK_EQ(xcopy_blocks(lun, "5a5a0001", "5a5a0001", 8, 0, 1000), SVM_SENSE_WRITE_PROTECTED);
	CHECK_EQ(xcopy_blocks(other, "5b5b0002", "5a5a0001", 8, 0, 0), SVM_SENSE_WRITE_PROTECTED);
	CHECK_EQ(xcopy_blocks(lun, "5b5b0002", "5a5a0001", 8, 0, 0), SVM_SENSE_WRITE_PROTECTED);
	/* nothing changed */
	test_cdb10(cdb, SVM_OP_READ10, 0, 64);
	CHECK_EQ(run(lun, cdb, back, sizeof(back)), SVM_SENSE_OK);
	CHECK(!memcmp(back, data, sizeof(back)));
	CHECK(blocks_hold(lun, bs, 1000, 8, (uint8_t[]){0}, 1));
	CHECK(blocks_hold(lun, bs, 100, 1, (uint8_t[]){0}, 1));

	/* a CDB that is wrong is that first; the range comes after SWP */
	test_cdb10(ncdb, SVM_OP_WRITE10, 0, 1);
	ncdb[1] = 0x20; /* WRPROTECT */
	CHECK_EQ(run(lun, ncdb, blk, bs), SVM_SENSE_INVALID_FIELD_IN_CDB);
	test_cdb10(ncdb, SVM_OP_WRITE10, n, 1);
	CHECK_EQ(run(lun, ncdb, blk, bs), SVM_SENSE_WRITE_PROTECTED);

	/* what does not write runs */
	static const uint8_t fine[][16] = {
	    {SVM_OP_TEST_UNIT_READY},
	    {SVM_OP_SYNC_CACHE10},
	    {SVM_OP_SYNC_CACHE16},
	    {SVM_OP_PREFETCH10, 0, 0, 0, 0, 0, 0, 0, 8},
	    {SVM_OP_START_STOP_UNIT, 0, 0, 0, 0x01},
	    {SVM_OP_SANITIZE, SVM_SANITIZE_EXIT_FAILURE},
	};
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++)
		CHECK_EQ(run(lun, fine[i], NULL, 0), SVM_SENSE_OK);
	uint8_t rd6[6] = {SVM_OP_READ6, 0, 0, 2, 1, 0};
	CHECK_EQ(run(lun, rd6, back, bs), SVM_SENSE_OK);
	CHECK(!memcmp(back, data + 2 * bs, bs));
	test_cdb12(cdb, SVM_OP_READ12, 3, 1);
	CHECK_EQ(run(lun, cdb, back, bs), SVM_SENSE_OK);
	CHECK(!memcmp(back, data + 3 * bs, bs));
	test_cdb16(cdb, SVM_OP_READ16, 4, 1);
	CHECK_EQ(run(lun, cdb, back, bs), SVM_SENSE_OK);
	CHECK(!memcmp(back, data + 4 * bs, bs));
	test_cdb10(cdb, SVM_OP_VERIFY10, 0, 2);
	cdb[1] = 0x02; /* BYTCHK 01b */
	CHECK_EQ(run(lun, cdb, data, 2 * bs), SVM_SENSE_OK);
	gls_cdb(cdb, 0, sizeof(b));
	CHECK_EQ(run(lun, cdb, b, sizeof(b)), SVM_SENSE_OK);
	uint8_t inq[6] = {SVM_OP_INQUIRY, 0, 0, 0, 36, 0};
	CHECK_EQ(run(lun, inq, b, 36), SVM_SENSE_OK);
	uint8_t rc10[10] = {SVM_OP_READ_CAPACITY10};
	CHECK_EQ(run(lun, rc10, b, 8), SVM_SENSE_OK);
	/* EXTENDED COPY from it to the other LUN: it is only read */
	CHECK_EQ(xcopy_blocks(lun, "5a5a0001", "5b5b0002", 8, 0, 0), SVM_SENSE_OK);
	CHECK_EQ(xcopy_blocks(other, "5a5a0001", "5b5b0002", 8, 8, 8), SVM_SENSE_OK);
	test_cdb10(cdb, SVM_OP_READ10, 0, 16);
	CHECK_EQ(run(other, cdb, back, 16 * bs), SVM_SENSE_OK);
	CHECK(!memcmp(back, data, 16 * bs));

	/* cleared (MODE SELECT(10), the LUN's long block descriptor): writes again */
	memset(pl, 0, sizeof(pl));
	pl[4] = 0x01;
	pl[7] = 16;
	svm_put_be64(pl + 8, n);
	svm_put_be32(pl + 20, bs);
	control_page(lun, 0, pl + 24);
	CHECK_EQ(pl[24 + 4], 0x08);
	pl[24 + 4] = 0;
	CHECK_EQ(mode_select(lun, true, pl, 8 + 16 + 12, NULL), SVM_SENSE_OK);
	CHECK(!svm_lun_swp(lun));
	test_cdb10(cdb, SVM_OP_WRITE10, 100, 1);
	CHECK_EQ(svm_scsi_route(lun, &req), SVM_SCSI_ROUTE_WRITE_CACHED);
	CHECK_EQ(run(lun, cdb, data, bs), SVM_SENSE_OK);
	CHECK_EQ(xcopy_blocks(other, "5b5b0002", "5a5a0001", 8, 0, 1000), SVM_SENSE_OK);
	CHECK(blocks_hold(lun, bs, 100, 1, data, bs));
	CHECK(blocks_hold(lun, bs, 1000, 1, data, bs));
close:
	if (lun) {
		svm_registry_remove(lun);
		close_lun(lun, "scsi-swp.img");
	}
	if (other) {
		svm_registry_remove(other);
		close_lun(other, "scsi-swp2.img");
	}
}

void scsi_test(void)
{
	test_log_capture();
	big_blocks();
	verify_cap();
	compare_and_write();
	rsoc();
	unknown_commands();
	usage_matches_parsers();
	get_lba_status();
	capacity_and_limits();
	write_same_to_end();
	orwrite();
	write_atomic();
	read_defect_data();
	sanitize_basic();
	sanitize_immed();
	sanitize_failure();
	mode_sense_swp();
	mode_select_refusals();
	swp_blocks_writes();
	stale_data();
	many_iovecs();
	mode_sense_big();
	unmap_flush();
	no_discard();
	lengths_64();
	test_log_restore();
}
