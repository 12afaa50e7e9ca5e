/* SPDX-License-Identifier: Apache-2.0 */
/*
 * handler/scsi.c without the runner: an svm_lun opened on a store under
 * test_dir, and CDBs sent through svm_scsi_route and svm_scsi_execute the
 * way handler/plugin.c sends them.
 */
#define _GNU_SOURCE
#include "test.h"
#include "../../handler/cdb.h"
#include "../../handler/cfg.h"
#include "../../handler/limits.h"
#include "../../handler/lun.h"
#include "../../handler/scsi.h"
#include "../../handler/store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
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

/* Drop the store's pages from the page cache (after its dirty pages are written). */
static void evict(const char *name)
{
	char path[256];
	int fd;

	store_path(path, sizeof(path), name);
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0 && fdatasync(fd) == 0 && posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0);
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

void scsi_test(void)
{
	test_log_capture();
	big_blocks();
	verify_cap();
	compare_and_write();
	stale_data();
	many_iovecs();
	mode_sense_big();
	unmap_flush();
	no_discard();
	lengths_64();
	test_log_restore();
}
