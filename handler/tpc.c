/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Third-party copy commands (SPC-4 6.4 EXTENDED COPY(LID1), 6.18 RECEIVE
 * COPY RESULTS): xcopy/xcopy.h parses and checks, this file resolves the
 * target descriptors to open LUNs (registry.h: the LUN itself, or another
 * of its copy group) and moves each segment with the LUN's datamover
 * (svm_lun_copy). Executors of the dispatch table; EXTENDED COPY blocks on
 * the stores and runs on a worker.
 */
#define _GNU_SOURCE
#include "scsi_int.h"
#include "iov.h"
#include "limits.h"
#include "log.h"
#include "registry.h"
#include "../xcopy/xcopy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One EXTENDED COPY in progress: its plan and the LUNs its descriptors name. */
struct tpc_copy {
	struct svm_xcopy_plan plan;
	struct svm_lun *luns[SVM_XCOPY_MAX_TARGET_DESCS]; /* NULL: unreachable */
	bool held[SVM_XCOPY_MAX_TARGET_DESCS];		 /* registry reference taken */
	struct svm_xcopy_lu lus[SVM_XCOPY_MAX_TARGET_DESCS];
	uint64_t moved[SVM_MOVER_KINDS];
};

static void describe(struct svm_lun *lun, struct svm_xcopy_lu *lu)
{
	struct svm_lun_geom g;

	svm_lun_get_geom(lun, &g);
	/* a store the datamovers cannot copy with (RBD): COPY TARGET DEVICE NOT REACHABLE */
	*lu = (struct svm_xcopy_lu){.reachable = svm_lun_can_copy(lun), .block_len = g.block_size,
				    .num_lbas = g.num_lbas};
}

/* Resolve every target descriptor, as seen from self (registry.h). */
static void resolve(struct svm_lun *self, struct tpc_copy *x)
{
	uint8_t me[SVM_NAA_LEN];
	bool have_me = svm_lun_naa(self, me) == 0;

	for (unsigned i = 0; i < x->plan.ntargets; i++) {
		const struct svm_xcopy_target *t = &x->plan.targets[i];
		enum svm_registry_match m;

		if (t->null)
			continue;
		if (have_me && t->naa_len == SVM_NAA_LEN && !memcmp(t->naa, me, SVM_NAA_LEN)) {
			x->luns[i] = self;
		} else {
			m = svm_registry_get(t->naa, t->naa_len, self, &x->luns[i]);
			x->held[i] = m == SVM_REGISTRY_FOUND;
			if (m == SVM_REGISTRY_NO_GROUP)
				svm_log(SVM_LOG_WARN,
					"EXTENDED COPY on LUN %s names a LUN outside its copy group "
					"(xcopy_group=): refused, COPY TARGET DEVICE NOT REACHABLE",
					svm_lun_source(self));
		}
		if (x->luns[i])
			describe(x->luns[i], &x->lus[i]);
	}
}

static void release(struct tpc_copy *x)
{
	for (unsigned i = 0; i < x->plan.ntargets; i++)
		if (x->held[i])
			svm_registry_put(x->luns[i]);
}

static struct svm_lun *lun_of(struct svm_lun *self, const struct tpc_copy *x, uint16_t index)
{
	return index == SVM_XCOPY_CSCD_SELF ? self : x->luns[index];
}

/*
 * A segment whose destination has SWP set (SPC-4 7.5.8: MODE SELECT of
 * the control page, svm_lun_swp) would write a write-protected LUN. Every
 * destination is checked before the first segment is processed, so
 * nothing is copied, and the error, one detected before segment
 * processing, takes the sense key of its condition rather than COPY
 * ABORTED (SPC-2 7.2.2, errors detected before starting processing of the
 * segment descriptors): DATA PROTECT, WRITE PROTECTED, what a WRITE to
 * that LUN gets.
 */
static enum svm_sense check_write_protect(struct svm_lun *self, const struct tpc_copy *x,
					  struct svm_scsi_req *req)
{
	for (unsigned k = 0; k < x->plan.nsegments; k++) {
		struct svm_lun *dst = lun_of(self, x, x->plan.segments[k].dst);

		if (dst && svm_lun_swp(dst)) {
			req->has_ptr = false; /* no segment: none was processed */
			return SVM_SENSE_WRITE_PROTECTED;
		}
	}
	return SVM_SENSE_OK;
}

/*
 * Copy every segment, in order, each with one datamover call bounded by
 * the command's deadline. A segment between LUNs of different block sizes
 * is refused (UNEXPECTED INEXACT SEGMENT): the copy manager moves whole
 * blocks of one size. A failed move is COPY ABORTED, THIRD PARTY DEVICE
 * FAILURE, with the segment's number.
 */
static enum svm_sense run_segments(struct svm_lun *self, struct tpc_copy *x,
				   struct svm_scsi_req *req)
{
	uint64_t deadline = now_ns() + SVM_XCOPY_DEADLINE_MS * 1000000ull, bytes = 0;
	enum svm_mover_kind kind = svm_lun_mover(self);

	for (unsigned k = 0; k < x->plan.nsegments; k++) {
		const struct svm_xcopy_segment *seg = &x->plan.segments[k];
		struct svm_lun *src = lun_of(self, x, seg->src), *dst = lun_of(self, x, seg->dst);
		struct svm_lun_geom gs, gd;
		struct svm_mover_result res;
		int ret;

		svm_lun_get_geom(src, &gs);
		svm_lun_get_geom(dst, &gd);
		req->has_ptr = true;
		req->ptr = (struct svm_sense_ptr){.has_segment = true, .segment = k};
		if (gs.block_size != gd.block_size)
			return SVM_SENSE_COPY_INEXACT_SEGMENT;
		ret = svm_lun_copy(dst, seg->dst_lba * gd.block_size, src,
				   seg->src_lba * gs.block_size, seg->bytes, kind, deadline, &res);
		for (int m = 0; m < SVM_MOVER_KINDS; m++)
			x->moved[m] += res.moved[m];
		bytes += res.done;
		svm_xcopy_progress(svm_lun_xcopy(self), &x->plan, k + (ret == 0), bytes);
		if (ret) {
			svm_log(SVM_LOG_ERR,
				"EXTENDED COPY on LUN %s: segment %u (%llu bytes, %s to %s) failed "
				"after %llu bytes with the %s datamover: %s",
				svm_lun_source(self), k, (unsigned long long)seg->bytes,
				svm_lun_source(src), svm_lun_source(dst),
				(unsigned long long)res.done, svm_mover_name(kind), strerror(-ret));
			return SVM_SENSE_COPY_THIRD_PARTY_FAILURE;
		}
	}
	req->has_ptr = false;
	return SVM_SENSE_OK;
}

/* What the copy moved and how, for the log: "8388608 bytes, 8388608 by reflink". */
static void log_moves(struct svm_lun *self, const struct tpc_copy *x, bool changed)
{
	char how[128] = "";
	uint64_t total = 0;
	size_t n = 0;

	for (int m = 0; m < SVM_MOVER_KINDS; m++) {
		if (!x->moved[m])
			continue;
		total += x->moved[m];
		n += snprintf(how + n, n < sizeof(how) ? sizeof(how) - n : 0, "%s%llu by %s",
			      n ? ", " : "", (unsigned long long)x->moved[m], svm_mover_name(m));
	}
	svm_log(changed ? SVM_LOG_INFO : SVM_LOG_DBG,
		"EXTENDED COPY on LUN %s (mover=%s): %llu bytes, %s", svm_lun_source(self),
		svm_mover_name(svm_lun_mover(self)), (unsigned long long)total, how);
}

enum svm_sense svm_tpc_extended_copy(struct svm_lun *lun, struct svm_scsi_req *req,
				     const struct svm_cdb *c)
{
	struct svm_xcopy_state *st = svm_lun_xcopy(lun);
	uint8_t buf[SVM_XCOPY_MAX_PARAM_LEN];
	struct svm_lun_geom self_geom;
	struct svm_xcopy_lu self_lu;
	struct svm_xcopy_cdb xc;
	struct tpc_copy *x;
	uint64_t moved = 0;
	enum svm_sense s;

	(void)c;
	req->has_ptr = true;
	s = svm_xcopy_parse_cdb(req->cdb, &xc, &req->ptr);
	if (s)
		return s;
	if (svm_iov_length(req->iov, req->iov_cnt) < xc.len)
		return SVM_SENSE_PARAM_LIST_LENGTH;
	svm_iov_to_buf(req->iov, req->iov_cnt, 0, buf, xc.len);
	x = calloc(1, sizeof(*x));
	if (!x)
		return SVM_SENSE_TASK_SET_FULL;
	s = svm_xcopy_parse(buf, xc.len, &x->plan, &req->ptr);
	if (s || !x->plan.nsegments)
		goto free_copy; /* refused, or nothing to do */
	s = svm_xcopy_begin(st, &x->plan, &req->ptr);
	if (s)
		goto free_copy;
	resolve(lun, x);
	svm_lun_get_geom(lun, &self_geom);
	self_lu = (struct svm_xcopy_lu){.reachable = svm_lun_can_copy(lun),
					.block_len = self_geom.block_size,
					.num_lbas = self_geom.num_lbas};
	s = svm_xcopy_check(&x->plan, x->lus, &self_lu, &req->ptr);
	if (!s)
		s = check_write_protect(lun, x, req);
	if (!s)
		s = run_segments(lun, x, req);
	svm_xcopy_end(st, &x->plan, s, req->has_info, req->info, req->has_ptr ? &req->ptr : NULL);
	for (int m = 0; m < SVM_MOVER_KINDS; m++)
		moved |= x->moved[m];
	if (moved)
		log_moves(lun, x, svm_lun_count_moves(lun, x->moved));
	release(x);
free_copy:
	free(x);
	if (!s)
		req->has_ptr = false;
	return s;
}

enum svm_sense svm_tpc_receive_copy_results(struct svm_lun *lun, struct svm_scsi_req *req,
					    const struct svm_cdb *c)
{
	uint8_t buf[SVM_XCOPY_RCR_MAX_LEN];
	struct svm_xcopy_cdb xc;
	enum svm_sense s;
	size_t len = 0;

	(void)c;
	req->has_ptr = true;
	s = svm_xcopy_parse_cdb(req->cdb, &xc, &req->ptr);
	if (!s)
		s = svm_xcopy_rcr(svm_lun_xcopy(lun), &xc, req->g.block_size, buf, &len, &req->ptr);
	if (s)
		return s;
	req->has_ptr = false;
	return svm_scsi_reply(req, buf, len, xc.len);
}
