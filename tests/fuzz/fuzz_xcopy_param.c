/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the EXTENDED COPY(LID1) parameter list parser and what
 * follows it in xcopy/xcopy.c, on the fuzzer's bytes as the list. A list
 * that parses is checked against LUNs of mixed block lengths and run
 * through a LUN's list-identifier state, whose RECEIVE COPY RESULTS replies
 * are built too. Besides the sanitizers, abort() on a broken promise of
 * xcopy.h: limits exceeded, a field pointer outside the list or segment.
 * The first 16 bytes also go through the CDB parser.
 */
#include "../../handler/limits.h"
#include "../../handler/sense.h"
#include "../../xcopy/xcopy.h"

#include <stdlib.h>
#include <string.h>

static struct svm_xcopy_state *st;

/* A refusal's field pointer lies inside the list (or the segment descriptor). */
static void check_ptr(enum svm_sense s, const struct svm_sense_ptr *p, size_t len,
		      const struct svm_xcopy_plan *plan)
{
	uint8_t sense[SVM_SENSE_FIXED_LEN];

	if (!s)
		return;
	if (p->valid && p->in_segment &&
	    (p->field >= SVM_XCOPY_SEGMENT_DESC_LEN || p->segment >= plan->nsegments))
		abort();
	if (p->valid && !p->in_segment && !p->in_cdb && p->field >= len)
		abort();
	svm_sense_build_fp(sense, sizeof(sense), s, false, 0, p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct svm_xcopy_lu self = {true, 512, 4096};
	struct svm_xcopy_lu lus[SVM_XCOPY_MAX_TARGET_DESCS];
	uint8_t cdb[16] = {0}, buf[SVM_XCOPY_RCR_MAX_LEN];
	struct svm_xcopy_plan plan;
	struct svm_xcopy_cdb c;
	struct svm_sense_ptr p;
	enum svm_sense s;
	size_t len;

	if (!st && !(st = svm_xcopy_state_create()))
		abort();
	if (size > SVM_XCOPY_MAX_PARAM_LEN)
		size = SVM_XCOPY_MAX_PARAM_LEN;

	memcpy(cdb, data, size < 16 ? size : 16);
	s = svm_xcopy_parse_cdb(cdb, &c, &p);
	if (!s && c.opcode == SVM_XCOPY_OP_EXTENDED_COPY && c.len > SVM_XCOPY_MAX_PARAM_LEN)
		abort();

	s = svm_xcopy_parse(data, size, &plan, &p);
	check_ptr(s, &p, size, &plan);
	if (s)
		return 0;
	if (plan.ntargets > SVM_XCOPY_MAX_TARGET_DESCS ||
	    plan.nsegments > SVM_XCOPY_MAX_SEGMENT_DESCS ||
	    (plan.usage == SVM_XCOPY_LIST_ID_NONE && plan.list_id))
		abort();

	/* LUNs of 512 and 4096-byte blocks, one unreachable, sizes from the list itself */
	for (unsigned i = 0; i < SVM_XCOPY_MAX_TARGET_DESCS; i++)
		lus[i] = (struct svm_xcopy_lu){i != 5, i % 2 ? 4096 : 512, 1000 + size * i};
	s = svm_xcopy_begin(st, &plan, &p);
	if (s)
		abort(); /* one copy at a time here: never in progress, never full */
	s = svm_xcopy_check(&plan, lus, &self, &p);
	check_ptr(s, &p, size, &plan);
	if (!s && plan.total_bytes > SVM_XCOPY_MAX_BYTES)
		abort();
	svm_xcopy_progress(st, &plan, s ? 0 : plan.nsegments, s ? 0 : plan.total_bytes);
	svm_xcopy_end(st, &plan, s, false, 0, &p);

	for (uint8_t sa = 0; sa <= SVM_XCOPY_RCR_FAILED_SEGMENT; sa++) {
		c = (struct svm_xcopy_cdb){SVM_XCOPY_OP_RECEIVE_COPY_RESULTS, sa, plan.list_id,
					   size & 1 ? 1024 : 8};
		if (!svm_xcopy_rcr(st, &c, 512, buf, &len, &p) && len > SVM_XCOPY_RCR_MAX_LEN)
			abort();
	}
	return 0;
}
