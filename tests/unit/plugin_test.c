/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The handler as tcmu-runner sees it: handler_init registers one ops table,
 * then check_config / open / handle_cmd / close are called with real CDBs
 * through the fake runner (fake_tcmu.c).
 */
#define _GNU_SOURCE
#include "test.h"
#include "fake_tcmu.h"
#include "../../handler/uring.h"
#include "../../handler/cdb.h"
#include "../../handler/limits.h"
#include "../../handler/lio.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int handler_init(void);

#define SERIAL "0123456789abcdef-svm"

/* Write content to test_dir/rel, creating its directories. */
static void put(const char *rel, const char *content)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", test_dir, rel);
	for (char *p = path + strlen(test_dir) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0700);
		*p = '/';
	}
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(content, f);
		fclose(f);
	}
}

/*
 * What LIO and the UIO driver show for TCMU device <name> of HBA user_1
 * behind <uio>, as files under test_dir (svm_lio_root points there).
 * serial NULL: wwn/vpd_unit_serial holds none yet.
 */
static void fake_lio(const char *uio, const char *name, const char *serial, int enabled, int wce)
{
	char rel[256], text[512];

	snprintf(rel, sizeof(rel), "sys/class/uio/%s/name", uio);
	snprintf(text, sizeof(text), "tcm-user/1/%s/svm//x.img\n", name);
	put(rel, text);
	snprintf(rel, sizeof(rel), "sys/kernel/config/target/core/user_1/%s/wwn/vpd_unit_serial",
		 name);
	snprintf(text, sizeof(text), "T10 VPD Unit Serial Number: %s\n", serial ? serial : "");
	put(rel, text);
	snprintf(rel, sizeof(rel), "sys/kernel/config/target/core/user_1/%s/enable", name);
	snprintf(text, sizeof(text), "%d\n", enabled);
	put(rel, text);
	snprintf(rel, sizeof(rel),
		 "sys/kernel/config/target/core/user_1/%s/attrib/emulate_write_cache", name);
	snprintf(text, sizeof(text), "%d\n", wce);
	put(rel, text);
}

#define BS    512
#define NLBAS 2048

static struct tcmu_device dev;

struct reply {
	int sts;
	uint8_t key, asc, ascq;
	uint8_t *sense;
};

static bool last_async; /* whether the last run() completed asynchronously */

/* Run one CDB through the fake runner (fake_submit) with a single data buffer. */
static struct reply run(const uint8_t *cdb, void *data, size_t len)
{
	static struct tcmulib_cmd lc;
	struct tcmur_cmd rc = {.lib_cmd = &lc};
	struct iovec v = {data, len};
	struct reply r;

	memset(&lc, 0, sizeof(lc));
	lc.cdb = (uint8_t *)cdb;
	lc.iovec = &v;
	lc.iov_cnt = len ? 1 : 0;
	r.sts = fake_submit(&dev, &rc, &last_async);
	r.key = lc.sense_buf[2] & 0xf;
	r.asc = lc.sense_buf[12];
	r.ascq = lc.sense_buf[13];
	r.sense = lc.sense_buf;
	return r;
}

#define CHECK_GOOD(r)          CHECK_EQ((r).sts, TCMU_STS_OK)
#define CHECK_SENSE(r, k, a)                                                               \
	do {                                                                               \
		struct reply r_ = (r);                                                     \
		CHECK(r_.sts == TCMU_STS_PASSTHROUGH_ERR && r_.key == (k) && r_.asc == (a)); \
	} while (0)

static bool check(const char *cfg, const char *want)
{
	char *reason = NULL;
	bool ok = fake_handler->check_config(cfg, &reason);

	if (!ok && want && (!reason || !strstr(reason, want))) {
		fprintf(stderr, "  check_config(%s) reason: %s\n", cfg, reason ? reason : "(none)");
		ok = true; /* wrong reason counts as a failure below */
	}
	free(reason);
	return ok;
}

/* Whether handler_init's last info line announced n pool workers, at most per_lun for one LUN. */
static bool announced(unsigned n, unsigned per_lun)
{
	char want[96];

	snprintf(want, sizeof(want), "%u worker threads, shared by all LUNs; at most %u for one LUN",
		 n, per_lun);
	return strstr(fake_last_info, want) != NULL;
}

static void ops_table(void)
{
	CHECK_EQ(handler_init(), 0);
	CHECK(fake_handler && !strcmp(fake_handler->subtype, "svm"));
	/* handle_cmd sees every CDB first; read/write/flush get what it declines */
	CHECK(fake_handler->read && fake_handler->write && fake_handler->flush);
	CHECK(fake_handler->handle_cmd && fake_handler->open && fake_handler->close);
	CHECK(fake_handler->check_config && fake_handler->cfg_desc);
	/* no runner threads: the handler's own pool runs what blocks */
	CHECK_EQ(fake_handler->nr_threads, 0);
	CHECK(announced(SVM_THREADS_DEFAULT, SVM_LUN_THREADS_DEFAULT));

	/* tcmu-runner's environment sets the pool's size and one LUN's share */
	setenv("SVM_THREADS", "4", 1);
	fake_last_err[0] = 0;
	CHECK_EQ(handler_init(), 0);
	CHECK(announced(4, 4)); /* one LUN's share is at most the pool */
	CHECK(!fake_last_err[0]);
	setenv("SVM_LUN_THREADS", "3", 1);
	CHECK_EQ(handler_init(), 0);
	CHECK(announced(4, 3));
	CHECK(!fake_last_err[0]);
	/* a bad value is logged as an error and the default is kept */
	setenv("SVM_THREADS", "lots", 1);
	CHECK_EQ(handler_init(), 0);
	CHECK(announced(SVM_THREADS_DEFAULT, 3));
	CHECK(strstr(fake_last_err, "SVM_THREADS='lots'") != NULL);
	setenv("SVM_LUN_THREADS", "0", 1);
	CHECK_EQ(handler_init(), 0);
	CHECK(announced(SVM_THREADS_DEFAULT, SVM_LUN_THREADS_DEFAULT));
	CHECK(strstr(fake_last_err, "SVM_LUN_THREADS='0'") != NULL);
	unsetenv("SVM_THREADS");
	unsetenv("SVM_LUN_THREADS");
	CHECK_EQ(handler_init(), 0);
	CHECK(announced(SVM_THREADS_DEFAULT, SVM_LUN_THREADS_DEFAULT));
}

static void config(void)
{
	char s[512];

	snprintf(s, sizeof(s), "svm/%s/lun.img", test_dir);
	CHECK(check(s, NULL));
	CHECK(!check("svm/", "missing source"));
	CHECK(!check("svm//no/such/dir/x.img", "neither does its directory"));
	CHECK(!check("svm//dev/null", "not a regular file"));
	snprintf(s, sizeof(s), "svm/%s/lun.img;dst=%s/lun.img", test_dir, test_dir);
	CHECK(!check(s, "is the source"));
	snprintf(s, sizeof(s), "svm/%s/lun.img;speed=fast", test_dir);
	CHECK(!check(s, "unknown key"));
	snprintf(s, sizeof(s), "svm/%s/lun.img;wce=2", test_dir);
	CHECK(!check(s, "malformed value"));
}

static void open_refusals(void)
{
	char path[256];
	int fd;

	/* existing store smaller than the LUN */
	snprintf(path, sizeof(path), "%s/small.img", test_dir);
	fd = open(path, O_CREAT | O_RDWR, 0600);
	CHECK(fd >= 0 && ftruncate(fd, BS * NLBAS / 2) == 0);
	close(fd);
	snprintf(dev.cfgstring, sizeof(dev.cfgstring), "svm/%s", path);
	fake_last_err[0] = 0;
	CHECK_EQ(fake_handler->open(&dev, false), -ENOSPC);
	CHECK(strstr(fake_last_err, "less than the LUN") != NULL);
	CHECK(dev.hm_private == NULL);
	struct stat sb;
	CHECK(stat(path, &sb) == 0 && sb.st_size == BS * NLBAS / 2);

	/* missing store with create=no */
	snprintf(dev.cfgstring, sizeof(dev.cfgstring), "svm/%s/absent.img;create=no", test_dir);
	CHECK_EQ(fake_handler->open(&dev, false), -ENOENT);
	CHECK(strstr(fake_last_err, "does not exist") != NULL);
}

static void io(void)
{
	static uint8_t buf[BS * 256], back[BS * 256];
	uint8_t cdb[16];
	struct reply r;
	struct stat sb;
	char path[256];

	snprintf(path, sizeof(path), "%s/lun.img", test_dir);
	snprintf(dev.cfgstring, sizeof(dev.cfgstring), "svm/%s", path);
	CHECK_EQ(fake_handler->open(&dev, false), 0);
	CHECK(dev.hm_private != NULL && dev.wce && dev.unmap);
	CHECK(stat(path, &sb) == 0 && sb.st_size == BS * NLBAS);

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i ^ (i >> 9));

	/*
	 * Where commands run. Before the runner has called read/write/flush
	 * once, a blocking command (here PRE-FETCH) executes on the calling
	 * thread: there is no completion callback to finish it later.
	 */
	test_cdb10(cdb, SVM_OP_PREFETCH10, 0, 8);
	CHECK_GOOD(run(cdb, NULL, 0));
	CHECK(!last_async);

	/* a WRITE(10) the page cache absorbs: at once, on the calling thread */
	test_cdb10(cdb, SVM_OP_WRITE10, 100, 8);
	CHECK_GOOD(run(cdb, buf, 8 * BS));
	CHECK(!last_async);
	/* one just below SVM_INLINE_WRITE_MAX_BYTES too (the LUN takes up to 128 blocks) */
	_Static_assert(SVM_INLINE_WRITE_MAX_BYTES > 128 * BS, "fits under the fake LUN's max");
	test_cdb10(cdb, SVM_OP_WRITE10, 200, 128);
	CHECK_GOOD(run(cdb, buf, 128 * BS));
	CHECK(!last_async);
	test_cdb10(cdb, SVM_OP_WRITE10, 100, 8);
	/* with FUA: declined to the runner's write callout, pool, completed later */
	cdb[1] = 0x08;
	CHECK_GOOD(run(cdb, buf, 8 * BS));
	CHECK(last_async);
	/* emulated: at once; blocking, now that the callback is known: pool, async */
	uint8_t tur[6] = {SVM_OP_TEST_UNIT_READY};
	CHECK_GOOD(run(tur, NULL, 0));
	CHECK(!last_async);
	test_cdb10(cdb, SVM_OP_PREFETCH10, 0, 8);
	CHECK_GOOD(run(cdb, NULL, 0));
	CHECK(last_async);
	/* READ(10) of blocks in the page cache: at once */
	test_cdb10(cdb, SVM_OP_READ10, 100, 8);
	memset(back, 0, sizeof(back));
	CHECK_GOOD(run(cdb, back, 8 * BS));
	CHECK(!last_async);
	CHECK(!memcmp(buf, back, 8 * BS));
	/*
	 * The same blocks evicted from the page cache: read on the pool. The
	 * kernel may keep a page that another CPU still holds in its LRU batch
	 * (seen once under a loaded host): evict again, a few times at most.
	 */
	for (int tries = 0; tries < TEST_EVICT_TRIES; tries++) {
		int fd = open(path, O_RDONLY);

		CHECK(fd >= 0 && fdatasync(fd) == 0 &&
		      posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0);
		if (fd >= 0)
			close(fd);
		memset(back, 0, sizeof(back));
		CHECK_GOOD(run(cdb, back, 8 * BS));
		if (last_async)
			break;
		usleep(100000);
	}
	CHECK(last_async);
	CHECK(!memcmp(buf, back, 8 * BS));
	test_cdb16(cdb, SVM_OP_READ16, 104, 4);
	memset(back, 0, sizeof(back));
	CHECK_GOOD(run(cdb, back, 4 * BS));
	CHECK(!memcmp(buf + 4 * BS, back, 4 * BS));
	uint8_t r12[12] = {SVM_OP_READ12, 0, 0, 0, 0, 101, 0, 0, 0, 1, 0, 0};
	CHECK_GOOD(run(r12, back, BS));
	CHECK(!memcmp(buf + BS, back, BS));

	/* WRITE(16) with FUA at the last block; WRITE(6)/READ(6) with length 0 = 256 */
	test_cdb16(cdb, SVM_OP_WRITE16, NLBAS - 1, 1);
	cdb[1] = 0x08;
	CHECK_GOOD(run(cdb, buf, BS));
	uint8_t w6[6] = {SVM_OP_WRITE6, 0, 0x02, 0x00, 0, 0};
	CHECK_GOOD(run(w6, buf, 256 * BS));
	uint8_t r6[6] = {SVM_OP_READ6, 0, 0x02, 0x00, 0, 0};
	memset(back, 0, sizeof(back));
	CHECK_GOOD(run(r6, back, 256 * BS));
	CHECK(!memcmp(buf, back, 256 * BS));

	/* out of range: LBA OUT OF RANGE; wrapping LBA; data-out of the wrong size */
	test_cdb16(cdb, SVM_OP_READ16, NLBAS - 1, 2);
	CHECK_SENSE(run(cdb, back, 2 * BS), 5, 0x21);
	CHECK(!last_async); /* refused by its checks, before any I/O */
	test_cdb16(cdb, SVM_OP_WRITE16, UINT64_MAX, 2);
	CHECK_SENSE(run(cdb, buf, 2 * BS), 5, 0x21);
	test_cdb16(cdb, SVM_OP_READ16, NLBAS, 0);
	CHECK_GOOD(run(cdb, back, 0)); /* zero blocks at the end is fine */
	test_cdb16(cdb, SVM_OP_READ16, NLBAS + 1, 0);
	CHECK_SENSE(run(cdb, back, 0), 5, 0x21);
	test_cdb10(cdb, SVM_OP_WRITE10, 0, 8);
	CHECK_SENSE(run(cdb, buf, 7 * BS), 5, 0x24);
	test_cdb10(cdb, SVM_OP_READ10, 0, 8);
	cdb[1] = 0x20; /* RDPROTECT without protection information */
	CHECK_SENSE(run(cdb, back, 8 * BS), 5, 0x24);
	/* more than MAXIMUM TRANSFER LENGTH is served, as LIO's backstores do */
	CHECK(dev.max_xfer_len < 256);
	test_cdb10(cdb, SVM_OP_READ10, 0, 256);
	CHECK_GOOD(run(cdb, back, sizeof(back)));

	/* unknown opcode: one path */
	uint8_t unk[16] = {0xC7};
	CHECK_SENSE(run(unk, NULL, 0), 5, 0x20);

	/* VERIFY(10) BYTCHK=1: match, then a miscompare at byte 517 */
	test_cdb10(cdb, SVM_OP_VERIFY10, 100, 2);
	cdb[1] = 0x02;
	CHECK_GOOD(run(cdb, buf, 2 * BS));
	memcpy(back, buf, 2 * BS);
	back[517] ^= 1;
	r = run(cdb, back, 2 * BS);
	CHECK_SENSE(r, 0x0E, 0x1D);
	CHECK((r.sense[0] & 0x80) && svm_get_be32(r.sense + 3) == 517);
	cdb[1] = 0;
	CHECK_GOOD(run(cdb, NULL, 0)); /* BYTCHK=0: medium verification only */

	/* WRITE AND VERIFY(16) */
	test_cdb16(cdb, SVM_OP_WRITE_VERIFY16, 200, 2);
	CHECK_GOOD(run(cdb, buf, 2 * BS));

	/* SYNCHRONIZE CACHE(10/16), PRE-FETCH(10) */
	test_cdb10(cdb, SVM_OP_SYNC_CACHE10, 0, 0);
	CHECK_GOOD(run(cdb, NULL, 0));
	test_cdb16(cdb, SVM_OP_SYNC_CACHE16, NLBAS + 1, 0);
	CHECK_SENSE(run(cdb, NULL, 0), 5, 0x21);
	test_cdb10(cdb, SVM_OP_PREFETCH10, 10, 10);
	CHECK_GOOD(run(cdb, NULL, 0));

	/* UNMAP 16 blocks at LBA 1024 (aligned to 4 KiB): hole, reads zero */
	uint8_t big[BS * 16];
	memset(big, 0x5a, sizeof(big));
	test_cdb10(cdb, SVM_OP_WRITE10, 1024, 16);
	CHECK_GOOD(run(cdb, big, sizeof(big)));
	int fd = open(path, O_RDONLY);
	CHECK(fd >= 0 && fsync(fd) == 0); /* allocate before counting blocks */
	close(fd);
	CHECK(stat(path, &sb) == 0);
	blkcnt_t before = sb.st_blocks;
	uint8_t pl[24] = {0}, um[10] = {SVM_OP_UNMAP, 0, 0, 0, 0, 0, 0, 0, 24, 0};
	svm_put_be16(pl, 22);
	svm_put_be16(pl + 2, 16);
	svm_put_be64(pl + 8, 1024);
	svm_put_be32(pl + 16, 16);
	CHECK_GOOD(run(um, pl, sizeof(pl)));
	CHECK(stat(path, &sb) == 0 && sb.st_blocks < before);
	test_cdb10(cdb, SVM_OP_READ10, 1024, 16);
	CHECK_GOOD(run(cdb, big, sizeof(big)));
	CHECK(big[0] == 0 && !memcmp(big, big + 1, sizeof(big) - 1));
	svm_put_be64(pl + 8, NLBAS - 8); /* past the end: nothing unmapped */
	CHECK_SENSE(run(um, pl, sizeof(pl)), 5, 0x21);
	um[8] = 4; /* parameter list shorter than its header */
	CHECK_SENSE(run(um, pl, 4), 5, 0x1A);

	/* WRITE SAME(10): one block tiled over 40 blocks (more than one chunk is not
	 * needed to test the tiling; the chunk loop is the same code) */
	uint8_t ws[16] = {0}, blk[BS];
	memset(blk, 0xC3, sizeof(blk));
	blk[7] = 1;
	test_cdb10(ws, SVM_OP_WRITE_SAME10, 300, 40);
	CHECK_GOOD(run(ws, blk, BS));
	test_cdb10(cdb, SVM_OP_READ10, 300, 40);
	CHECK_GOOD(run(cdb, buf, 40 * BS));
	bool tiled = true;
	for (int i = 0; i < 40; i++)
		tiled &= !memcmp(buf + i * BS, blk, BS);
	CHECK(tiled);
	CHECK_SENSE(run(ws, blk, BS - 1), 5, 0x24); /* data-out not one block */
	ws[1] = 0x10;				   /* ANCHOR */
	CHECK_SENSE(run(ws, blk, BS), 5, 0x24);
	test_cdb10(ws, SVM_OP_WRITE_SAME10, NLBAS + 1, 0); /* 0 blocks (to the end) past it */
	CHECK_SENSE(run(ws, blk, BS), 5, 0x21);
	test_cdb10(ws, SVM_OP_WRITE_SAME10, NLBAS - 1, 2);
	CHECK_SENSE(run(ws, blk, BS), 5, 0x21);
	/* WRITE SAME(16) NDOB + UNMAP: no data-out, blocks read back as zero */
	test_cdb16(ws, SVM_OP_WRITE_SAME16, 300, 40);
	ws[1] = 0x09;
	CHECK_GOOD(run(ws, NULL, 0));
	test_cdb10(cdb, SVM_OP_READ10, 300, 40);
	memset(buf, 0xFF, 40 * BS);
	CHECK_GOOD(run(cdb, buf, 40 * BS));
	CHECK(buf[0] == 0 && !memcmp(buf, buf + 1, 40 * BS - 1));
	/* a zero block without UNMAP zeroes too */
	memset(blk, 0, sizeof(blk));
	test_cdb10(ws, SVM_OP_WRITE_SAME10, 0, 8);
	CHECK_GOOD(run(ws, blk, BS));

	fake_handler->close(&dev);
	/*
	 * Closed (say, for tcmu-runner's timeout recovery, which closes and
	 * reopens while the command thread may still call in): commands get
	 * BUSY, never a freed LUN.
	 */
	uint8_t tur0[6] = {SVM_OP_TEST_UNIT_READY};
	CHECK_EQ(run(tur0, NULL, 0).sts, TCMU_STS_BUSY);
	test_cdb10(cdb, SVM_OP_WRITE10, 0, 1);
	CHECK_EQ(run(cdb, buf, BS).sts, TCMU_STS_BUSY);

	/* A store that served the LUN and then vanished is not re-created empty. */
	CHECK_EQ(rename(path, "/tmp/svm-unit-moved.img"), 0);
	fake_last_err[0] = 0;
	CHECK_EQ(fake_handler->open(&dev, false), -ENOENT);
	CHECK(strstr(fake_last_err, "served a LUN before and is now missing") != NULL);
	CHECK(access(path, F_OK) != 0);
	CHECK(!check(dev.cfgstring, "served a LUN before"));
	CHECK_EQ(rename("/tmp/svm-unit-moved.img", path), 0);
}

static void emulation(void)
{
	uint8_t b[512], cdb[16] = {0};
	struct reply r;

	CHECK_EQ(fake_handler->open(&dev, false), 0);

	uint8_t inq[6] = {SVM_OP_INQUIRY, 0, 0, 0, 255, 0};
	memset(b, 0, sizeof(b));
	CHECK_GOOD(run(inq, b, 255));
	CHECK(b[0] == 0 && (b[3] & 0x0f) == 2 && !memcmp(b + 8, "LIO-ORG ", 8));
	CHECK_EQ(b[4] + 5, 66);
	inq[4] = 5; /* ALLOCATION LENGTH clips; the rest of the buffer is zeroed, not leaked */
	memset(b, 0xEE, sizeof(b));
	CHECK_GOOD(run(inq, b, 255));
	CHECK(b[4] == 61 && b[5] == 0 && b[254] == 0 && b[255] == 0xEE);

	/* VPD pages: supported list, serial, device id (NAA 6), block limits, LBP */
	uint8_t vpd[6] = {SVM_OP_INQUIRY, 1, 0x00, 0, 255, 0};
	memset(b, 0, sizeof(b));
	CHECK_GOOD(run(vpd, b, 255));
	CHECK(b[1] == 0 && b[3] == 7 && b[4] == 0 && b[10] == 0xB2);
	vpd[2] = 0x80;
	CHECK_GOOD(run(vpd, b, 255));
	CHECK(b[3] == strlen(SERIAL) && !memcmp(b + 4, SERIAL, b[3]));
	vpd[2] = 0x83;
	CHECK_GOOD(run(vpd, b, 255));
	CHECK(b[5] == 0x03 && b[7] == 16 && b[8] == 0x60 && b[9] == 0x01 && b[10] == 0x40 &&
	      (b[11] >> 4) == 5);
	vpd[2] = 0xB0;
	CHECK_GOOD(run(vpd, b, 255));
	CHECK(svm_get_be16(b + 2) == 0x3C && svm_get_be32(b + 8) == dev.max_xfer_len &&
	      svm_get_be32(b + 24) > 0);
	vpd[2] = 0xB2;
	CHECK_GOOD(run(vpd, b, 255));
	CHECK((b[5] & 0xE0) == 0xE0 && (b[5] & 0x04));
	vpd[2] = 0x99;
	CHECK_SENSE(run(vpd, b, 255), 5, 0x24);

	/* READ CAPACITY(10/16) */
	uint8_t rc10[10] = {SVM_OP_READ_CAPACITY10};
	CHECK_GOOD(run(rc10, b, 8));
	CHECK(svm_get_be32(b) == NLBAS - 1 && svm_get_be32(b + 4) == BS);
	cdb[0] = SVM_OP_SERVICE_ACTION_IN16;
	cdb[1] = SVM_SAI_READ_CAPACITY16;
	cdb[13] = 32;
	CHECK_GOOD(run(cdb, b, 32));
	CHECK(svm_get_be64(b) == NLBAS - 1 && svm_get_be32(b + 8) == BS && (b[14] & 0xC0) == 0xC0);

	/* MODE SENSE(6) caching page: WCE, DPOFUA, block descriptor */
	uint8_t ms6[6] = {SVM_OP_MODE_SENSE6, 0, 0x08, 0, 255, 0};
	memset(b, 0, sizeof(b));
	CHECK_GOOD(run(ms6, b, 255));
	CHECK(b[0] == 3 + 8 + 20 && b[2] == 0x10 && b[3] == 8);
	CHECK(b[12] == 0x08 && (b[14] & 0x04));
	ms6[2] = 0x3F; /* all pages */
	CHECK_GOOD(run(ms6, b, 255));
	CHECK_EQ(b[0], 3 + 8 + 20 + 12);
	ms6[2] = 0x01; /* page we do not have */
	CHECK_SENSE(run(ms6, b, 255), 5, 0x24);
	uint8_t ms10[10] = {SVM_OP_MODE_SENSE10, 0x08, 0x0A, 0, 0, 0, 0, 0, 255, 0};
	CHECK_GOOD(run(ms10, b, 255));
	CHECK(svm_get_be16(b) == 6 + 12 && svm_get_be16(b + 6) == 0 && b[8] == 0x0A);

	/* TEST UNIT READY, REQUEST SENSE, START STOP UNIT */
	uint8_t tur[6] = {0};
	CHECK_GOOD(run(tur, NULL, 0));
	uint8_t rs[6] = {SVM_OP_REQUEST_SENSE, 0, 0, 0, 18, 0};
	CHECK_GOOD(run(rs, b, 18));
	CHECK(b[0] == 0x70 && (b[2] & 0xf) == 0);
	uint8_t ssu[6] = {SVM_OP_START_STOP_UNIT, 0, 0, 0, 0x01, 0};
	CHECK_GOOD(run(ssu, NULL, 0));
	ssu[4] = 0x00; /* stop: flush, still good */
	CHECK_GOOD(run(ssu, NULL, 0));
	ssu[4] = 0x03;
	r = run(ssu, NULL, 0);
	CHECK_SENSE(r, 5, 0x24);

	fake_handler->close(&dev);
}

/* INQUIRY VPD page into b; returns the reply. */
static struct reply vpd_page(uint8_t page, uint8_t *b)
{
	uint8_t cdb[6] = {SVM_OP_INQUIRY, 1, page, 0x02, 0x00, 0}; /* ALLOCATION LENGTH 512 */

	memset(b, 0xEE, 512);
	return run(cdb, b, 512);
}

static const char *lun0_dir(const char *rel)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/sys/kernel/config/target/core/user_1/lun0/%s", test_dir,
		 rel);
	return path;
}

static bool file_is(const char *path, const char *want)
{
	char got[256] = "";
	FILE *f = fopen(path, "r");

	if (f) {
		if (!fgets(got, sizeof(got), f))
			got[0] = '\0';
		fclose(f);
		got[strcspn(got, "\n")] = '\0'; /* configfs replaces the value; this file keeps a tail */
	}
	return !strcmp(got, want);
}

/*
 * Identity: rtslib writes the unit serial after the LUN is open, so the
 * handler must read it when asked; until there is one, nothing that needs
 * the LUN's identity is answered.
 */
static void identity(void)
{
	/* LIO's own NAA for this serial, measured on a fileio LUN: 0x60014050724c596265f4fab9e442d99d */
	static const uint8_t naa[16] = {0x60, 0x01, 0x40, 0x50, 0x72, 0x4c, 0x59, 0x62,
					0x65, 0xf4, 0xfa, 0xb9, 0xe4, 0x42, 0xd9, 0x9d};
	static const char serial[] = "0724c596-265f-4fab-9e44-2d99d5036798";
	uint8_t b[512], tur[6] = {SVM_OP_TEST_UNIT_READY}, cdb[16];
	char path[256];

	snprintf(path, sizeof(path), "%s/id.img", test_dir);
	snprintf(dev.cfgstring, sizeof(dev.cfgstring), "svm/%s", path);
	fake_lio("uio0", "lun0", NULL, 0, 0); /* being enabled, no serial yet */
	CHECK_EQ(fake_handler->open(&dev, false), 0);

	/* No serial: standard INQUIRY and the pages without identity answer; the rest is NOT READY */
	uint8_t inq[6] = {SVM_OP_INQUIRY, 0, 0, 0, 255, 0};
	CHECK_GOOD(run(inq, b, 255));
	CHECK_GOOD(vpd_page(0x00, b));
	CHECK_GOOD(vpd_page(0xB0, b));
	CHECK_SENSE(vpd_page(0x80, b), 2, 0x04);
	CHECK_SENSE(vpd_page(0x83, b), 2, 0x04);
	CHECK_SENSE(run(tur, NULL, 0), 2, 0x04);
	test_cdb10(cdb, SVM_OP_READ10, 0, 1);
	CHECK_SENSE(run(cdb, b, BS), 2, 0x04);

	/* rtslib writes the serial: the very next command sees it */
	fake_lio("uio0", "lun0", serial, 1, 1);
	CHECK_GOOD(vpd_page(0x80, b));
	CHECK(b[3] == strlen(serial) && !memcmp(b + 4, serial, b[3]));
	CHECK_GOOD(vpd_page(0x83, b));
	CHECK(b[4] == 0x01 && b[5] == 0x03 && b[7] == 16 && !memcmp(b + 8, naa, 16));
	CHECK(b[24] == 0x02 && b[25] == 0x01 && b[27] == 8 + strlen(serial) &&
	      !memcmp(b + 28, "LIO-ORG ", 8) && !memcmp(b + 36, serial, strlen(serial)));
	CHECK_EQ(svm_get_be16(b + 2), 20 + 4 + 8 + strlen(serial));
	CHECK_GOOD(run(tur, NULL, 0));
	CHECK_GOOD(run(cdb, b, BS));

	/* the longest serial LIO stores (254 bytes) is reported whole, never cut */
	char lng[255];
	memset(lng, 'f', 254);
	lng[254] = '\0';
	fake_lio("uio0", "lun0", lng, 1, 1);
	CHECK_GOOD(vpd_page(0x80, b));
	CHECK(svm_get_be16(b + 2) == 254 && !memcmp(b + 4, lng, 254));
	fake_handler->close(&dev);

	/* While LIO enables the device, wce= is recorded in emulate_write_cache for saveconfig */
	fake_lio("uio0", "lun0", NULL, 0, 1);
	snprintf(dev.cfgstring, sizeof(dev.cfgstring), "svm/%s;wce=no", path);
	CHECK_EQ(fake_handler->open(&dev, false), 0);
	CHECK(!dev.wce && file_is(lun0_dir("attrib/emulate_write_cache"), "0"));
	fake_handler->close(&dev);
	fake_lio("uio0", "lun0", NULL, 0, 0);
	snprintf(dev.cfgstring, sizeof(dev.cfgstring), "svm/%s", path);
	CHECK_EQ(fake_handler->open(&dev, false), 0);
	CHECK(dev.wce && file_is(lun0_dir("attrib/emulate_write_cache"), "1"));
	fake_handler->close(&dev);
	/* once configured (a runner restart), emulate_write_cache is the truth */
	fake_lio("uio0", "lun0", SERIAL, 1, 0);
	CHECK_EQ(fake_handler->open(&dev, false), 0);
	CHECK(!dev.wce);
	uint8_t ms6[6] = {SVM_OP_MODE_SENSE6, 0, 0x08, 0, 255, 0};
	CHECK_GOOD(run(ms6, b, 255));
	CHECK(b[12] == 0x08 && !(b[14] & 0x04));
	fake_handler->close(&dev);
	fake_lio("uio0", "lun0", SERIAL, 1, 1);
}

static int reconfig_str(const char *s)
{
	struct tcmulib_cfg_info ci = {.type = TCMULIB_CFG_DEV_CFGSTR};

	ci.data.dev_cfgstring = (char *)s;
	return fake_handler->reconfig(&dev, &ci);
}

static int reconfig_size(uint64_t bytes)
{
	struct tcmulib_cfg_info ci = {.type = TCMULIB_CFG_DEV_SIZE};
	int ret;

	ci.data.dev_size = bytes;
	ret = fake_handler->reconfig(&dev, &ci);
	if (!ret) /* the runner's dev_resize sets the new capacity after success */
		dev.num_lbas = bytes / BS;
	return ret;
}

static int reconfig_wce(bool on)
{
	struct tcmulib_cfg_info ci = {.type = TCMULIB_CFG_WRITE_CACHE};

	ci.data.write_cache = on;
	return fake_handler->reconfig(&dev, &ci);
}

/* What targetcli's `set attribute dev_size / emulate_write_cache / dev_config` reach. */
static void reconfig(void)
{
	uint8_t b[512], rc16[16] = {SVM_OP_SERVICE_ACTION_IN16, SVM_SAI_READ_CAPACITY16};
	uint8_t ms6[6] = {SVM_OP_MODE_SENSE6, 0, 0x08, 0, 255, 0}, cdb[16];
	char path[256], other[256], s[600];
	struct stat sb;

	rc16[13] = 32;
	snprintf(path, sizeof(path), "%s/re.img", test_dir);
	snprintf(other, sizeof(other), "%s/other.img", test_dir);
	snprintf(dev.cfgstring, sizeof(dev.cfgstring), "svm/%s", path);
	CHECK(fake_handler->reconfig != NULL);
	CHECK_EQ(fake_handler->open(&dev, false), 0);

	/* size: a file store grows (sparse) and READ CAPACITY follows; never shrinks */
	CHECK_EQ(reconfig_size(2 * NLBAS * BS), 0);
	CHECK(stat(path, &sb) == 0 && sb.st_size == 2 * NLBAS * BS);
	CHECK_GOOD(run(rc16, b, 32));
	CHECK_EQ(svm_get_be64(b), 2 * NLBAS - 1);
	test_cdb16(cdb, SVM_OP_WRITE16, 2 * NLBAS - 1, 1); /* the new last block is writable */
	memset(b, 0x42, BS);
	CHECK_GOOD(run(cdb, b, BS));
	fake_last_info[0] = 0;
	CHECK_EQ(reconfig_size(NLBAS * BS), -EINVAL);
	CHECK(stat(path, &sb) == 0 && sb.st_size == 2 * NLBAS * BS);
	CHECK_EQ(reconfig_size(2 * NLBAS * BS + 100), -EINVAL); /* not whole blocks */
	CHECK_GOOD(run(rc16, b, 32));
	CHECK_EQ(svm_get_be64(b), 2 * NLBAS - 1);

	/* write cache: MODE SENSE WCE follows at once */
	CHECK_EQ(reconfig_wce(false), 0);
	CHECK(!dev.wce);
	CHECK_GOOD(run(ms6, b, 255));
	CHECK(b[12] == 0x08 && !(b[14] & 0x04));
	CHECK_EQ(reconfig_wce(true), 0);
	CHECK_GOOD(run(ms6, b, 255));
	CHECK(b[14] & 0x04);

	/* dev_config: the same string again (restoreconfig) and echo's newline are accepted */
	snprintf(s, sizeof(s), "svm/%s", path);
	CHECK_EQ(reconfig_str(s), 0);
	snprintf(s, sizeof(s), "svm/%s\n", path);
	CHECK_EQ(reconfig_str(s), 0);
	/* refused, with the reason in the log: another store, a wce= change, ',' */
	snprintf(s, sizeof(s), "svm/%s", other);
	CHECK_EQ(reconfig_str(s), -EINVAL);
	CHECK(strstr(fake_last_warn, "source store cannot change") != NULL);
	snprintf(s, sizeof(s), "svm/%s;wce=no", path);
	CHECK_EQ(reconfig_str(s), -EINVAL);
	CHECK(strstr(fake_last_warn, "emulate_write_cache") != NULL);
	snprintf(s, sizeof(s), "svm/%s,dst=%s", path, other);
	CHECK_EQ(reconfig_str(s), -EINVAL);
	CHECK(strstr(fake_last_warn, "separate elements with ';'") != NULL);
	CHECK_EQ(reconfig_str("user/x"), -EINVAL);
	/* a destination may be recorded live */
	snprintf(s, sizeof(s), "svm/%s;dst=%s", path, other);
	CHECK_EQ(reconfig_str(s), 0);
	CHECK(strstr(fake_last_info, "configuration now") != NULL);

	/* a reopen (timeout recovery) uses what was accepted, not libtcmu's creation string */
	fake_handler->close(&dev);
	fake_last_info[0] = 0;
	CHECK_EQ(fake_handler->open(&dev, true), 0);
	CHECK(strstr(fake_last_info, "destination") && strstr(fake_last_info, other));
	fake_handler->close(&dev);
	/* a new device (not a reopen) at the same address starts from its own string */
	CHECK_EQ(fake_handler->open(&dev, false), 0);
	CHECK(strstr(fake_last_info, "destination") == NULL);
	fake_handler->close(&dev);
	dev.num_lbas = NLBAS;
}

/* ---- the control channel and migrations (docs/control.md, docs/migration.md) --------- */

/* One request on handler_init's socket ($SVM_RUN_DIR): the answer in buf, "" if none. */
static void ctl(const char *line, char *buf, size_t len)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	size_t have = 0;
	ssize_t n;

	buf[0] = '\0';
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/control.sock", getenv("SVM_RUN_DIR"));
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		CHECK(!"connect to the control socket");
		if (fd >= 0)
			close(fd);
		return;
	}
	CHECK_EQ(send(fd, line, strlen(line), MSG_NOSIGNAL), (ssize_t)strlen(line));
	while (have < len - 1 && (n = recv(fd, buf + have, len - 1 - have, 0)) > 0)
		have += (size_t)n;
	buf[have] = '\0';
	close(fd);
}

/* Ask line; check the answer holds want (and print it when not). */
static void ctl_expect(const char *line, const char *want)
{
	char buf[8192];

	ctl(line, buf, sizeof(buf));
	CHECK(strstr(buf, want) != NULL);
	if (!strstr(buf, want))
		fprintf(stderr, "  %s -> %s  (wanted %s)\n", line, buf, want);
}

/* Poll `status lun0` until its phase is phase (30 s at most). */
static bool wait_phase(const char *phase)
{
	char buf[8192], want[64];

	snprintf(want, sizeof(want), "\"phase\":\"%s\"", phase);
	for (int i = 0; i < 3000; i++) {
		ctl("status lun0\n", buf, sizeof(buf));
		if (strstr(buf, want))
			return true;
		usleep(10000);
	}
	fprintf(stderr, "  status lun0 -> %s (waited for %s)\n", buf, phase);
	return false;
}

/* Write pattern p to blocks [lba, lba + n) (FUA), or check they hold it. */
static void blocks(uint64_t lba, uint32_t n, uint8_t p, bool write)
{
	static uint8_t buf[128 * BS], back[128 * BS];
	uint8_t cdb[16];

	for (uint32_t done = 0; done < n; done += 128) {
		uint32_t k = n - done < 128 ? n - done : 128;

		for (size_t i = 0; i < k * BS; i++)
			buf[i] = (uint8_t)(p + (lba + done) + i / BS);
		test_cdb16(cdb, write ? SVM_OP_WRITE16 : SVM_OP_READ16, lba + done, k);
		if (write) {
			cdb[1] = 0x08;
			CHECK_GOOD(run(cdb, buf, k * BS));
		} else {
			memset(back, 0, k * BS);
			CHECK_GOOD(run(cdb, back, k * BS));
			CHECK(!memcmp(buf, back, k * BS));
		}
	}
}

static bool file_has(const char *path, const char *want)
{
	char buf[16384];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	return strstr(buf, want) != NULL;
}

static void control(void)
{
	char src[128], dst[128], back[128], log[128], s[1024], want[1024];
	struct stat sb;

	snprintf(src, sizeof(src), "%s/ctl-src.img", test_dir);
	snprintf(dst, sizeof(dst), "%s/ctl-dst.img", test_dir);
	snprintf(back, sizeof(back), "%s/ctl-back.img", test_dir);
	snprintf(log, sizeof(log), "%s/svm.log", test_dir);
	fake_lio("uio0", "lun0", SERIAL, 1, 1);
	snprintf(dev.cfgstring, sizeof(dev.cfgstring), "svm/%s;svm_log=%s", src, log);
	snprintf(s, sizeof(s), "%s\n", dev.cfgstring); /* LIO's dev_config: the same, at first */
	put("sys/kernel/config/target/core/user_1/lun0/attrib/dev_config", s);
	CHECK_EQ(fake_handler->open(&dev, false), 0);
	blocks(0, 256, 1, true);
	blocks(1500, 300, 2, true);

	snprintf(want, sizeof(want), "{\"luns\":[{\"lun\":\"lun0\",\"phase\":\"idle\",\"source\":"
				     "\"%s\",\"destination\":null,",
		 src);
	ctl_expect("list\n", want);
	ctl_expect("status lun1\n", "\"errno\":2}");
	ctl_expect("status lun1\n", "no open user:svm LUN of that name");
	ctl_expect("abort lun0\n", "no migration of this LUN is running");
	ctl_expect("migrate lun0\n", "migrate needs to=");
	ctl_expect("migrate lun0 to=/no/such/dir/x.img\n", "does not exist");
	snprintf(s, sizeof(s), "migrate lun0 to=%s\n", src);
	ctl_expect(s, "is the source store");
	snprintf(s, sizeof(s), "migrate lun0 to=%s\n", log); /* exists, not empty */
	blocks(0, 1, 1, false);
	ctl_expect("status lun0\n", "\"phase\":\"idle\"");

	/* a migration through the control channel: copy, switch over, commit, source deleted */
	snprintf(s, sizeof(s), "migrate lun0 to=%s mover=bounce\n", dst);
	ctl_expect(s, "\"lun\":\"lun0\"");
	CHECK(wait_phase("done"));
	snprintf(want, sizeof(want), "\"source\":\"%s\"", dst);
	ctl_expect("status lun0\n", want);
	ctl_expect("status lun0\n", "\"mirror\":null");
	ctl_expect("status lun0\n", "\"bytes_total\":1048576");
	ctl_expect("status lun0\n", "\"mover\":\"bounce\"");
	snprintf(want, sizeof(want), "svm/%s;svm_log=%s", dst, log);
	CHECK(file_is(lun0_dir("attrib/dev_config"), want));
	CHECK(stat(src, &sb) != 0 && errno == ENOENT);
	blocks(0, 256, 1, false);
	blocks(1500, 300, 2, false);
	CHECK(file_has(log, "-svmmirror, primary ") && file_has(log, "Destroyed device ") &&
	      file_has(log, "SVM Mirrored mode IO stats for device: "));
	/* done: a second migrate to the same place is refused, abort too */
	snprintf(s, sizeof(s), "migrate lun0 to=%s\n", dst);
	ctl_expect(s, "is the source store");
	ctl_expect("abort lun0\n", "no migration of this LUN is running");
	fake_handler->close(&dev);

	/* a runner restart: libtcmu's string names the old source; LIO's dev_config rules */
	CHECK_EQ(fake_handler->open(&dev, false), 0);
	snprintf(want, sizeof(want), "\"source\":\"%s\"", dst);
	ctl_expect("status lun0\n", want);
	blocks(1500, 300, 2, false);
	fake_handler->close(&dev);

	/* an old saveconfig restored (LIO enabling the device with the source's path) */
	fake_lio("uio0", "lun0", SERIAL, 0, 1);
	put("sys/kernel/config/target/core/user_1/lun0/attrib/dev_config", "x\n");
	CHECK_EQ(fake_handler->open(&dev, false), 0);
	ctl_expect("status lun0\n", want);
	blocks(0, 256, 1, false);
	snprintf(want, sizeof(want), "svm/%s;svm_log=%s", dst, log);
	for (int i = 0; i < 500 && !file_is(lun0_dir("attrib/dev_config"), want); i++)
		usleep(10000); /* written by a thread of its own */
	CHECK(file_is(lun0_dir("attrib/dev_config"), want));
	fake_handler->close(&dev);
	fake_lio("uio0", "lun0", SERIAL, 1, 1);

	/*
	 * A LUN closed mid-copy (runner stop) resumes at its next open; then an
	 * abort: the source stays, the destination goes. 16 MiB with data in
	 * four 4 MiB chunks, at 1 MiB/s.
	 */
	CHECK_EQ(fake_handler->open(&dev, false), 0);
	CHECK_EQ(reconfig_size(16 << 20), 0);
	dev.num_lbas = 16 << 11;
	for (int c = 0; c < 4; c++)
		blocks((uint64_t)c << 13, 2048, (uint8_t)(10 + c), true);
	snprintf(s, sizeof(s), "migrate lun0 to=%s rate=1\n", back);
	ctl_expect(s, "\"phase\":\"copying\"");
	ctl_expect(s, "a migration of this LUN is under way");
	fake_handler->close(&dev);
	CHECK(stat(back, &sb) == 0); /* kept for the resume */
	CHECK_EQ(fake_handler->open(&dev, false), 0);
	ctl_expect("status lun0\n", "\"resumed\":true");
	ctl_expect("status lun0\n", "\"phase\":\"copying\"");
	for (int c = 0; c < 4; c++)
		blocks((uint64_t)c << 13, 2048, (uint8_t)(10 + c), false);
	ctl_expect("abort lun0 keep_dest=0\n", "\"phase\":\"aborted\"");
	CHECK(stat(back, &sb) != 0 && errno == ENOENT);
	snprintf(want, sizeof(want), "\"source\":\"%s\"", dst);
	ctl_expect("status lun0\n", want);
	ctl_expect("abort lun0\n", "no migration of this LUN is running");
	blocks(0, 2048, 10, false);
	CHECK(file_has(log, "Migration aborted on device "));
	fake_handler->close(&dev);
	dev.num_lbas = NLBAS;
}

static volatile bool spin_stop;
static int spin_good, spin_busy, spin_other;

/* The runner's command thread, calling in while another thread closes and reopens the LUN. */
static void *spinner(void *arg)
{
	static uint8_t buf[BS];
	struct tcmulib_cmd lc;
	struct tcmur_cmd rc = {.lib_cmd = &lc};
	struct iovec v = {buf, BS};
	uint8_t tur[6] = {SVM_OP_TEST_UNIT_READY}, rd[16];
	int sts;

	(void)arg;
	test_cdb10(rd, SVM_OP_READ10, 8, 1);
	for (unsigned i = 0; !spin_stop; i++) {
		memset(&lc, 0, sizeof(lc));
		lc.cdb = i & 1 ? rd : tur;
		lc.iovec = &v;
		lc.iov_cnt = i & 1;
		sts = fake_submit(&dev, &rc, NULL);
		if (sts == TCMU_STS_OK)
			spin_good++;
		else if (sts == TCMU_STS_BUSY)
			spin_busy++;
		else
			spin_other++;
	}
	return NULL;
}

/*
 * tcmu-runner's timeout recovery closes and reopens a LUN on its recovery
 * thread while the command thread may still be in handle_cmd. Commands
 * racing that get GOOD or BUSY, never a freed LUN (the sanitize tier
 * turns a use-after-free into a failure).
 */
static void reopen_race(void)
{
	char path[256];
	pthread_t t;

	snprintf(path, sizeof(path), "%s/race.img", test_dir);
	snprintf(dev.cfgstring, sizeof(dev.cfgstring), "svm/%s", path);
	CHECK_EQ(fake_handler->open(&dev, false), 0);
	spin_stop = false;
	CHECK_EQ(pthread_create(&t, NULL, spinner, NULL), 0);
	for (int i = 0; i < 200; i++) {
		fake_handler->close(&dev);
		CHECK_EQ(fake_handler->open(&dev, true), 0);
	}
	spin_stop = true;
	pthread_join(t, NULL);
	fake_handler->close(&dev);
	CHECK(spin_good > 0);
	CHECK_EQ(spin_other, 0);
	if (getenv("SVM_UNIT_VERBOSE"))
		fprintf(stderr, "reopen race: %d GOOD, %d BUSY\n", spin_good, spin_busy);
}

/* Evict path's pages from the page cache (a few tries: see io()). */
static void evict(const char *path)
{
	int fd = open(path, O_RDONLY);

	CHECK(fd >= 0 && fdatasync(fd) == 0 && posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0);
	if (fd >= 0)
		close(fd);
}

/*
 * SVM_ENGINE=uring: the READs, WRITEs and SYNCHRONIZE CACHEs the runner's
 * callouts receive complete through the process's io_uring, asynchronously,
 * with the right data and status; an I/O error is the same sense as on the
 * pool; the close line counts them. Then SVM_ENGINE unset: the pool again.
 */
static void uring_io(void)
{
	static uint8_t buf[BS * 64], back[BS * 64];
	uint8_t cdb[16];
	struct reply r;
	char path[256], saved[sizeof(dev.cfgstring)];
	bool async = true, same = true;
	int fd;

	memcpy(saved, dev.cfgstring, sizeof(saved));
	fake_lio("uio0", "lun0", SERIAL, 1, 0); /* LIO's emulate_write_cache=0 */
	setenv("SVM_ENGINE", "uring", 1);
	fake_last_err[0] = 0;
	CHECK_EQ(handler_init(), 0);
	CHECK(!fake_last_err[0]);
	if (fake_last_err[0])
		fprintf(stderr, "uring_io: %s", fake_last_err);
	snprintf(path, sizeof(path), "%s/lun-uring.img", test_dir);
	unlink(path);
	snprintf(dev.cfgstring, sizeof(dev.cfgstring), "svm/%s;wce=no", path);
	CHECK_EQ(fake_handler->open(&dev, false), 0);
	CHECK(!dev.wce);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 31 + (i >> 9));

	/* write cache off: every WRITE to the callout, then the ring; 32 of 64 blocks */
	for (uint32_t k = 0; k < 32; k++) {
		test_cdb10(cdb, SVM_OP_WRITE10, 64 * k, 64);
		buf[0] = (uint8_t)k;
		r = run(cdb, buf, sizeof(buf));
		CHECK_GOOD(r);
		async &= last_async;
	}
	CHECK(async);
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	for (uint32_t k = 0; k < 31 && fd >= 0; k++) {
		buf[0] = (uint8_t)k;
		same &= pread(fd, back, sizeof(back), (off_t)k * sizeof(back)) == sizeof(back) &&
			!memcmp(back, buf, sizeof(buf));
	}
	CHECK(same);
	/* WRITE(16) with FUA; SYNCHRONIZE CACHE(16) */
	test_cdb16(cdb, SVM_OP_WRITE16, NLBAS - 1, 1);
	cdb[1] = 0x08;
	CHECK_GOOD(run(cdb, buf + BS, BS));
	CHECK(last_async);
	test_cdb16(cdb, SVM_OP_SYNC_CACHE16, 0, 0);
	CHECK_GOOD(run(cdb, NULL, 0));
	CHECK(last_async);

	/* READs that miss the page cache: the ring; the data as written */
	async = same = true;
	for (uint32_t k = 0; k < 31; k += 5) {
		/* the kernel may keep a page another CPU holds: evict again (see io()) */
		for (int tries = 0; tries < TEST_EVICT_TRIES; tries++) {
			evict(path);
			test_cdb16(cdb, SVM_OP_READ16, 64 * k, 64);
			memset(back, 0xEE, sizeof(back));
			buf[0] = (uint8_t)k;
			CHECK_GOOD(run(cdb, back, sizeof(back)));
			same &= !memcmp(back, buf, sizeof(buf));
			if (last_async)
				break;
			usleep(100000);
		}
		async &= last_async;
	}
	CHECK(async);
	CHECK(same);
	test_cdb16(cdb, SVM_OP_READ16, NLBAS - 1, 1);
	CHECK_GOOD(run(cdb, back, BS));
	CHECK(!memcmp(back, buf + BS, BS));

	/*
	 * The ring gives up on every command (after the I/O reached the file):
	 * each is redone on the pool, a WRITE inside its range still held
	 */
	svm_uring_fault_again = 1;
	for (uint32_t k = 0; k < 4; k++) {
		test_cdb10(cdb, SVM_OP_WRITE10, 64 * k, 64);
		buf[0] = (uint8_t)(0x80 + k);
		CHECK_GOOD(run(cdb, buf, sizeof(buf)));
		CHECK(last_async);
	}
	evict(path);
	test_cdb10(cdb, SVM_OP_READ10, 64 * 3, 64);
	memset(back, 0, sizeof(back));
	CHECK_GOOD(run(cdb, back, sizeof(back)));
	CHECK(!memcmp(back, buf, sizeof(buf)));
	test_cdb10(cdb, SVM_OP_SYNC_CACHE10, 0, 0);
	CHECK_GOOD(run(cdb, NULL, 0));
	svm_uring_fault_again = 0;
	for (uint32_t k = 0; k < 4 && fd >= 0; k++) {
		buf[0] = (uint8_t)(0x80 + k);
		CHECK(pread(fd, back, sizeof(back), (off_t)k * sizeof(back)) == sizeof(back) &&
		      !memcmp(back, buf, sizeof(buf)));
	}

	/* the store shrank under the LUN: a READ past its end is READ ERROR, as on the pool */
	CHECK_EQ(truncate(path, (off_t)BS * (NLBAS - 64)), 0);
	evict(path);
	test_cdb10(cdb, SVM_OP_READ10, NLBAS - 32, 16);
	CHECK_SENSE(run(cdb, back, 16 * BS), 3, 0x11);
	CHECK(last_async);

	fake_info_log[0] = 0;
	fake_handler->close(&dev);
	CHECK(strstr(fake_info_log, "io_uring: ") != NULL &&
	      strstr(fake_info_log, "io_uring: 0 commands") == NULL);
	/* 4 WRITEs, maybe the READ (it may have been cached), the flush */
	CHECK(strstr(fake_info_log, "5 handed back to the pool") != NULL ||
	      strstr(fake_info_log, "6 handed back to the pool") != NULL);
	if (fd >= 0)
		close(fd);

	/* the pool again: the same READ past the end, the same sense */
	unsetenv("SVM_ENGINE");
	CHECK_EQ(handler_init(), 0);
	CHECK(fake_handler->open(&dev, false) < 0); /* too small for the LUN now */
	CHECK_EQ(truncate(path, (off_t)BS * NLBAS), 0);
	CHECK_EQ(fake_handler->open(&dev, false), 0);
	CHECK_EQ(truncate(path, (off_t)BS * (NLBAS - 64)), 0);
	evict(path);
	CHECK_SENSE(run(cdb, back, 16 * BS), 3, 0x11);
	CHECK(last_async);
	fake_info_log[0] = 0;
	fake_handler->close(&dev);
	CHECK(strstr(fake_info_log, "commands on the worker pool") != NULL &&
	      strstr(fake_info_log, "io_uring: ") == NULL);
	unlink(path);
	fake_lio("uio0", "lun0", SERIAL, 1, 1);
	memcpy(dev.cfgstring, saved, sizeof(saved));
}

/*
 * A cached WRITE of SVM_INLINE_WRITE_MAX_BYTES or more goes to the pool
 * (completes asynchronously), one below it is copied at once; both land.
 */
static void large_writes(void)
{
	static uint8_t buf[SVM_INLINE_WRITE_MAX_BYTES], back[SVM_INLINE_WRITE_MAX_BYTES];
	const uint32_t nblk = SVM_INLINE_WRITE_MAX_BYTES / BS;
	uint32_t saved_max = dev.max_xfer_len;
	char path[256], saved[sizeof(dev.cfgstring)];
	uint8_t cdb[16];

	memcpy(saved, dev.cfgstring, sizeof(saved));
	dev.max_xfer_len = nblk; /* as hw_max_sectors=2048 would allow, at 512-byte blocks */
	snprintf(path, sizeof(path), "%s/lun-large.img", test_dir);
	unlink(path);
	snprintf(dev.cfgstring, sizeof(dev.cfgstring), "svm/%s", path);
	CHECK_EQ(fake_handler->open(&dev, false), 0);
	CHECK(dev.wce);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + (i >> 11));
	test_cdb10(cdb, SVM_OP_WRITE10, 0, nblk);
	CHECK_GOOD(run(cdb, buf, sizeof(buf)));
	CHECK(last_async);
	test_cdb10(cdb, SVM_OP_WRITE10, nblk, nblk - 1);
	CHECK_GOOD(run(cdb, buf + BS, sizeof(buf) - BS));
	CHECK(!last_async);
	test_cdb10(cdb, SVM_OP_READ10, 0, nblk);
	CHECK_GOOD(run(cdb, back, sizeof(back)));
	CHECK(!memcmp(back, buf, sizeof(buf)));
	test_cdb10(cdb, SVM_OP_READ10, nblk, nblk - 1);
	CHECK_GOOD(run(cdb, back, sizeof(back) - BS));
	CHECK(!memcmp(back, buf + BS, sizeof(buf) - BS));
	fake_handler->close(&dev);
	unlink(path);
	dev.max_xfer_len = saved_max;
	memcpy(dev.cfgstring, saved, sizeof(saved));
}

void plugin_test(void)
{
	dev.num_lbas = NLBAS;
	dev.block_size = BS;
	dev.max_xfer_len = 128; /* tcmu's default hw_max_sectors */
	dev.uio = "uio0";
	svm_lio_root = test_dir;
	fake_lio("uio0", "lun0", SERIAL, 1, 1);
	ops_table();
	config();
	open_refusals();
	io();
	large_writes();
	uring_io();
	emulation();
	identity();
	reconfig();
	reopen_race();
	control();
}
