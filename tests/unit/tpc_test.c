/* SPDX-License-Identifier: Apache-2.0 */
/*
 * handler/tpc.c: EXTENDED COPY and RECEIVE COPY RESULTS executed against
 * LUNs in the registry, through svm_scsi_execute as the plugin runs them:
 * within a LUN, between two LUNs of a copy group, refused outside one,
 * different block sizes, a pinned datamover, and the results a list
 * identifier keeps.
 */
#define _GNU_SOURCE
#include "test.h"
#include "xcopy_lists.h"
#include "../../handler/cfg.h"
#include "../../handler/registry.h"
#include "../../handler/scsi.h"
#include "../../xcopy/xcopy.h"

#include <stdlib.h>
#include <unistd.h>

static int serial_of(void *arg, char *buf, size_t len)
{
	snprintf(buf, len, "%s", (const char *)arg);
	return 0;
}

static struct svm_lun *open_named(const char *name, const char *serial, uint32_t bs,
				  const char *group)
{
	char path[256], *reason = NULL;
	struct svm_lun *lun = NULL;
	struct svm_cfg cfg;

	snprintf(path, sizeof(path), "%s/%s", test_dir, name);
	unlink(path);
	if (svm_cfg_parse(path, &cfg, &reason) == 0) {
		struct svm_lun_params p = {.cfg = &cfg,
					   .block_size = bs,
					   .num_lbas = (8u << 20) / bs,
					   .wce = true,
					   .serial = serial_of,
					   .serial_arg = (void *)serial};

		CHECK_EQ(svm_lun_open(&p, &lun, &reason), 0);
		svm_cfg_free(&cfg);
	}
	free(reason);
	if (lun)
		CHECK_EQ(svm_registry_add(lun, group), 0);
	return lun;
}

static void close_named(struct svm_lun *lun)
{
	svm_registry_remove(lun);
	svm_lun_close(lun);
}

static enum svm_sense run(struct svm_lun *lun, const uint8_t *cdb, void *buf, size_t len,
			  struct svm_scsi_req *out)
{
	struct iovec v = {buf, len};
	struct svm_scsi_req req = {.cdb = cdb, .iov = &v, .iov_cnt = len ? 1 : 0};
	enum svm_sense s;

	svm_scsi_route(lun, &req);
	s = svm_scsi_execute(lun, &req);
	if (out)
		*out = req;
	return s;
}

/* EXTENDED COPY(LID1) of a parameter list of len bytes. */
static enum svm_sense xcopy(struct svm_lun *lun, uint8_t *list, size_t len,
			    struct svm_scsi_req *out)
{
	uint8_t cdb[16] = {SVM_XCOPY_OP_EXTENDED_COPY, SVM_XCOPY_SA_LID1};

	svm_put_be32(cdb + 10, len);
	return run(lun, cdb, list, len, out);
}

/* One segment: n blocks from LBA s of target a to LBA d of target b (0xFFFF: the LUN itself). */
static size_t one_segment(uint8_t *b, uint8_t list_id, unsigned usage, const uint8_t *naa_a,
			  const uint8_t *naa_b, uint32_t bs, uint16_t src, uint16_t dst, uint16_t n,
			  uint64_t s, uint64_t d)
{
	header(b, list_id, usage, 64, 28, 0);
	cscd_e4(b + 16, naa_a, 16, bs);
	cscd_e4(b + 48, naa_b, 16, bs);
	seg_02(b + 80, src, dst, n, s, d, false, false);
	return 16 + 64 + 28;
}

static void fill(struct svm_lun *lun, uint64_t off, size_t len, unsigned seed)
{
	uint8_t *p = malloc(len);
	struct iovec v = {p, len};

	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 13 + seed + (i >> 12));
	CHECK_EQ(svm_lun_write(lun, &v, 1, off, len, false), 0);
	free(p);
}

static bool same(struct svm_lun *a, uint64_t aoff, struct svm_lun *b, uint64_t boff, size_t len)
{
	uint8_t *x = malloc(len), *y = malloc(len);
	struct iovec vx = {x, len}, vy = {y, len};
	bool eq = !svm_lun_read(a, &vx, 1, aoff, len) && !svm_lun_read(b, &vy, 1, boff, len) &&
		  !memcmp(x, y, len);

	free(x);
	free(y);
	return eq;
}

void tpc_test(void)
{
	uint8_t na[SVM_NAA_LEN], nb[SVM_NAA_LEN], nc[SVM_NAA_LEN], nd[SVM_NAA_LEN], list[256];
	struct svm_lun *a, *b, *c, *d;
	uint64_t moved[SVM_MOVER_KINDS];
	struct svm_scsi_req req;
	size_t len;

	test_log_capture();
	a = open_named("tpc-a.img", "aaaa0001", 512, "grp");
	b = open_named("tpc-b.img", "bbbb0002", 512, "grp");
	c = open_named("tpc-c.img", "cccc0003", 512, NULL);
	d = open_named("tpc-d.img", "dddd0004", 4096, "grp");
	if (!a || !b || !c || !d)
		goto close;
	svm_naa_from_serial("aaaa0001", na);
	svm_naa_from_serial("bbbb0002", nb);
	svm_naa_from_serial("cccc0003", nc);
	svm_naa_from_serial("dddd0004", nd);
	fill(a, 0, 1 << 20, 1);

	/* within a: 1 MiB from LBA 0 to LBA 4096, descriptors 0 (a) and 0xFFFF (itself) */
	len = one_segment(list, 1, 2, na, nb, 512, 0, SVM_XCOPY_CSCD_SELF, 2048, 0, 4096);
	CHECK_EQ(xcopy(a, list, len, NULL), SVM_SENSE_OK);
	CHECK(same(a, 0, a, 2 << 20, 1 << 20));

	/* a -> b, same group: pushed (sent to a) and pulled (sent to b) */
	len = one_segment(list, 2, 2, na, nb, 512, 0, 1, 2048, 0, 0);
	CHECK_EQ(xcopy(a, list, len, NULL), SVM_SENSE_OK);
	CHECK(same(a, 0, b, 0, 1 << 20));
	len = one_segment(list, 3, 2, na, nb, 512, 0, 1, 2048, 0, 8192);
	CHECK_EQ(xcopy(b, list, len, NULL), SVM_SENSE_OK);
	CHECK(same(a, 0, b, 4 << 20, 1 << 20));

	/* a -> c, c in no group: COPY TARGET DEVICE NOT REACHABLE, segment 0, nothing written */
	len = one_segment(list, 4, 2, na, nc, 512, 0, 1, 2048, 0, 0);
	CHECK_EQ(xcopy(a, list, len, &req), SVM_SENSE_COPY_TARGET_NOT_REACHABLE);
	CHECK(req.has_ptr && req.ptr.has_segment && req.ptr.segment == 0);
	CHECK(!same(a, 0, c, 0, 1 << 20));
	/* and from c's side too: a is not reachable from c */
	CHECK_EQ(xcopy(c, list, len, NULL), SVM_SENSE_COPY_TARGET_NOT_REACHABLE);
	/* a designator no open LUN reports */
	uint8_t ghost[SVM_NAA_LEN];
	svm_naa_from_serial("eeee0005", ghost);
	len = one_segment(list, 5, 2, na, ghost, 512, 0, 1, 16, 0, 0);
	CHECK_EQ(xcopy(a, list, len, NULL), SVM_SENSE_COPY_TARGET_NOT_REACHABLE);

	/* a (512-byte blocks) -> d (4096): refused; DISK BLOCK LENGTH of d's descriptor says 512 */
	len = one_segment(list, 6, 2, na, nd, 512, 0, 1, 8, 0, 0);
	CHECK(xcopy(a, list, len, NULL) != SVM_SENSE_OK);
	header(list, 6, 2, 64, 28, 0); /* now with each LUN's own block length */
	cscd_e4(list + 16, na, 16, 512);
	cscd_e4(list + 48, nd, 16, 4096);
	seg_02(list + 80, 0, 1, 8, 0, 0, false, false);
	CHECK_EQ(xcopy(a, list, 108, &req), SVM_SENSE_COPY_INEXACT_SEGMENT);
	CHECK(req.has_ptr && req.ptr.has_segment);

	/* a pinned datamover moves it all, and is counted */
	svm_lun_set_mover(a, SVM_MOVER_BOUNCE);
	svm_lun_moves(a, moved);
	uint64_t before = moved[SVM_MOVER_BOUNCE];
	len = one_segment(list, 7, 2, na, nb, 512, 0, 1, 2048, 0, 2048);
	CHECK_EQ(xcopy(a, list, len, NULL), SVM_SENSE_OK);
	svm_lun_moves(a, moved);
	CHECK_EQ(moved[SVM_MOVER_BOUNCE] - before, 1 << 20);
	CHECK(same(a, 0, b, 1 << 20, 1 << 20));
	svm_lun_set_mover(a, SVM_MOVER_AUTO);

	/* list identifier 9, usage 00b: COPY STATUS reports it done, then forgets it */
	len = one_segment(list, 9, 0, na, nb, 512, 0, 1, 16, 0, 0);
	CHECK_EQ(xcopy(a, list, len, NULL), SVM_SENSE_OK);
	uint8_t rcr[16] = {SVM_XCOPY_OP_RECEIVE_COPY_RESULTS, SVM_XCOPY_RCR_COPY_STATUS, 9}, r[64];
	svm_put_be32(rcr + 10, sizeof(r));
	memset(r, 0xEE, sizeof(r));
	CHECK_EQ(run(a, rcr, r, sizeof(r), NULL), SVM_SENSE_OK);
	CHECK(svm_get_be32(r) >= 8 && (r[4] & 0x7f) == 0x01); /* COPY MANAGER STATUS: done, good */
	CHECK_EQ(svm_get_be16(r + 5), 1);			/* SEGMENTS PROCESSED */
	CHECK_EQ(run(a, rcr, r, sizeof(r), NULL), SVM_SENSE_INVALID_FIELD_IN_CDB);
	/* OPERATING PARAMETERS: the limits */
	rcr[1] = SVM_XCOPY_RCR_OP_PARAMS;
	CHECK_EQ(run(a, rcr, r, sizeof(r), NULL), SVM_SENSE_OK);
	CHECK_EQ(svm_get_be16(r + 8), SVM_XCOPY_MAX_TARGET_DESCS);
	CHECK_EQ(svm_get_be16(r + 10), SVM_XCOPY_MAX_SEGMENT_DESCS);

	/* an empty parameter list: nothing to do */
	CHECK_EQ(xcopy(a, list, 0, NULL), SVM_SENSE_OK);
close:
	if (a)
		close_named(a);
	if (b)
		close_named(b);
	if (c)
		close_named(c);
	if (d)
		close_named(d);
	test_log_restore();
}
