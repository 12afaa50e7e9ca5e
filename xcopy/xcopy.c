/* SPDX-License-Identifier: Apache-2.0 */
/*
 * EXTENDED COPY (LID1) and RECEIVE COPY RESULTS without the I/O: parsers,
 * the plan check, list identifiers per LUN and the replies. xcopy.h says
 * what each function does; the SPC-4 rules are cited where they are
 * applied.
 */
#include "xcopy.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- where it went wrong ------------------------------------------------- */

/* A field of the CDB (ILLEGAL REQUEST, C/D = 1); bit < 0: no bit pointer. */
static enum svm_sense cdb_err(struct svm_sense_ptr *ptr, enum svm_sense s, unsigned field, int bit)
{
	ptr->valid = ptr->in_cdb = true;
	ptr->field = field;
	if (bit >= 0) {
		ptr->bit_valid = true;
		ptr->bit = bit;
	}
	return s;
}

/* A field of the parameter list, counted from its first byte (ILLEGAL REQUEST). */
static enum svm_sense param_err(struct svm_sense_ptr *ptr, enum svm_sense s, size_t field, int bit)
{
	ptr->valid = true;
	ptr->field = field;
	if (bit >= 0) {
		ptr->bit_valid = true;
		ptr->bit = bit;
	}
	return s;
}

/*
 * A field of segment descriptor seg, counted from the descriptor's first
 * byte (COPY ABORTED: segment pointer with SD set, and the segment's number
 * in COMMAND-SPECIFIC INFORMATION).
 */
static enum svm_sense seg_err(struct svm_sense_ptr *ptr, enum svm_sense s, unsigned seg,
			      unsigned field)
{
	ptr->valid = ptr->in_segment = ptr->has_segment = true;
	ptr->segment = seg;
	ptr->field = field;
	return s;
}

static uint32_t get_be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

/* ---- CDBs ---------------------------------------------------------------- */

/*
 * EXTENDED COPY(LID1) (SPC-4 6.4.1): SERVICE ACTION in byte 1 bits 4-0,
 * PARAMETER LIST LENGTH in bytes 10-13. RECEIVE COPY RESULTS (SPC-4
 * 6.18.1): SERVICE ACTION in byte 1, LIST IDENTIFIER in byte 2, ALLOCATION
 * LENGTH in bytes 10-13.
 */
enum svm_sense svm_xcopy_parse_cdb(const uint8_t *cdb, struct svm_xcopy_cdb *out,
				   struct svm_sense_ptr *ptr)
{
	memset(out, 0, sizeof(*out));
	memset(ptr, 0, sizeof(*ptr));
	out->opcode = cdb[0];
	out->service_action = cdb[1] & 0x1f;
	out->len = svm_get_be32(cdb + 10);
	switch (cdb[0]) {
	case SVM_XCOPY_OP_EXTENDED_COPY:
		if (out->service_action != SVM_XCOPY_SA_LID1)
			return cdb_err(ptr, SVM_SENSE_INVALID_FIELD_IN_CDB, 1, 4);
		/*
		 * A PARAMETER LIST LENGTH longer than the longest list this copy
		 * manager takes (MAXIMUM DESCRIPTOR LIST LENGTH, no inline data)
		 * is a PARAMETER LIST LENGTH ERROR, as is a list too long for its
		 * descriptors (svm_xcopy_parse).
		 */
		if (out->len > SVM_XCOPY_MAX_PARAM_LEN)
			return cdb_err(ptr, SVM_SENSE_PARAM_LIST_LENGTH, 10, -1);
		return SVM_SENSE_OK;
	case SVM_XCOPY_OP_RECEIVE_COPY_RESULTS:
		out->list_id = cdb[2];
		switch (out->service_action) {
		case SVM_XCOPY_RCR_COPY_STATUS:
		case SVM_XCOPY_RCR_OP_PARAMS:
		case SVM_XCOPY_RCR_FAILED_SEGMENT:
			return SVM_SENSE_OK;
		default: /* RECEIVE DATA (no held data) and the LID4 service actions */
			return cdb_err(ptr, SVM_SENSE_INVALID_FIELD_IN_CDB, 1, 4);
		}
	default:
		return SVM_SENSE_INVALID_OPCODE;
	}
}

enum svm_sense svm_xcopy_cdb_parse(const uint8_t *cdb, struct svm_cdb *out)
{
	struct svm_xcopy_cdb c;
	struct svm_sense_ptr ptr;
	enum svm_sense s = svm_xcopy_parse_cdb(cdb, &c, &ptr);

	memset(out, 0, sizeof(*out));
	out->opcode = c.opcode;
	out->service_action = c.service_action;
	/* LIST IDENTIFIER names a copy for COPY STATUS and FAILED SEGMENT DETAILS only */
	if (c.opcode == SVM_XCOPY_OP_RECEIVE_COPY_RESULTS &&
	    c.service_action != SVM_XCOPY_RCR_OP_PARAMS)
		out->list_id = c.list_id;
	out->alloc_len = c.len;
	return s;
}

/* ---- the parameter list -------------------------------------------------- */

/*
 * Identification descriptor CSCD descriptor (E4h), the descriptor at
 * offset off of the parameter list:
 *   byte 1      LU ID TYPE (7-6), NUL (5), PERIPHERAL DEVICE TYPE (4-0)
 *   bytes 2-3   RELATIVE INITIATOR PORT IDENTIFIER
 *   bytes 4-27  a designation descriptor (SPC-4 7.8.6): CODE SET (byte 4
 *               bits 3-0), ASSOCIATION (byte 5 bits 5-4), DESIGNATOR TYPE
 *               (byte 5 bits 3-0), DESIGNATOR LENGTH (byte 7), designator
 *   bytes 28-31 device type specific parameters; for block devices PAD
 *               (byte 28 bit 2) and DISK BLOCK LENGTH (bytes 29-31)
 * LU ID TYPE qualifies an LU IDENTIFIER field, which an identification
 * descriptor does not have: ignored (libiscsi's ValidTgtDescr test expects
 * as much of an SPC-4 target). RELATIVE INITIATOR PORT IDENTIFIER names a
 * port of ours to reach the LUN through, which TCMU cannot honour: ignored,
 * as LIO does. NUL (SPC-3; obsolete in SPC-4) makes it a null device: the
 * rest is not looked at, and a segment that uses it is aborted
 * (svm_xcopy_check). Only block devices (PERIPHERAL DEVICE TYPE 00h) and
 * NAA designators of logical units, binary, 8 or 16 bytes as their NAA
 * field says, are taken: the designator LIO and this handler report in VPD
 * page 0x83.
 */
static enum svm_sense parse_cscd_e4(const uint8_t *d, size_t off, struct svm_xcopy_target *t,
				    struct svm_sense_ptr *ptr)
{
	uint8_t n = d[7], naa = d[8] >> 4;

	memset(t, 0, sizeof(*t));
	t->offset = off;
	if (d[1] & 0x20) {
		t->null = true;
		return SVM_SENSE_OK;
	}
	if (d[1] & 0x1f)
		return param_err(ptr, SVM_SENSE_INVALID_FIELD_IN_PARAM, off + 1, 4);
	if ((d[4] & 0x0f) != 0x1) /* CODE SET binary */
		return param_err(ptr, SVM_SENSE_INVALID_FIELD_IN_PARAM, off + 4, 3);
	if (d[5] & 0x30) /* ASSOCIATION: the logical unit */
		return param_err(ptr, SVM_SENSE_INVALID_FIELD_IN_PARAM, off + 5, 5);
	if ((d[5] & 0x0f) != 0x3) /* DESIGNATOR TYPE NAA */
		return param_err(ptr, SVM_SENSE_INVALID_FIELD_IN_PARAM, off + 5, 3);
	if (n != 8 && n != 16)
		return param_err(ptr, SVM_SENSE_INVALID_FIELD_IN_PARAM, off + 7, -1);
	/* NAA 6 (IEEE Registered Extended) is 16 bytes; NAA 2, 3 and 5 are 8 */
	if (n == 16 ? naa != 6 : (naa != 2 && naa != 3 && naa != 5))
		return param_err(ptr, SVM_SENSE_INVALID_FIELD_IN_PARAM, off + 8, 7);
	t->naa_len = n;
	memcpy(t->naa, d + 8, n);
	t->block_len = get_be24(d + 29);
	return SVM_SENSE_OK;
}

/*
 * Block device to block device segment descriptor (02h), at offset off:
 *   byte 1      DC (bit 1), CAT (bit 0)
 *   bytes 2-3   DESCRIPTOR LENGTH (0018h, checked by the caller)
 *   bytes 4-5   SOURCE CSCD DESCRIPTOR INDEX
 *   bytes 6-7   DESTINATION CSCD DESCRIPTOR INDEX
 *   bytes 10-11 BLOCK DEVICE NUMBER OF BLOCKS
 *   bytes 12-19 SOURCE BLOCK DEVICE LOGICAL BLOCK ADDRESS
 *   bytes 20-27 DESTINATION BLOCK DEVICE LOGICAL BLOCK ADDRESS
 * Indexes and lengths are checked against the LUNs by svm_xcopy_check.
 */
static void parse_segment_02(const uint8_t *d, size_t off, struct svm_xcopy_segment *s)
{
	memset(s, 0, sizeof(*s));
	s->offset = off;
	s->dc = d[1] & 0x02;
	s->cat = d[1] & 0x01;
	s->src = svm_get_be16(d + 4);
	s->dst = svm_get_be16(d + 6);
	s->nblocks = svm_get_be16(d + 10);
	s->src_lba = svm_get_be64(d + 12);
	s->dst_lba = svm_get_be64(d + 20);
}

/*
 * The CSCD descriptor list, bytes [off, end) of buf. Descriptors are taken
 * in order, so the first fault found is the one reported: one more
 * descriptor than the maximum, then a type code other than E4h, then a list
 * that ends inside a descriptor (CSCD DESCRIPTOR LIST LENGTH not a multiple
 * of 32), then the descriptor's own fields.
 */
static enum svm_sense parse_cscd_list(const uint8_t *buf, size_t off, size_t end,
				      struct svm_xcopy_plan *plan, struct svm_sense_ptr *ptr)
{
	enum svm_sense s;

	for (; off < end; off += SVM_XCOPY_TARGET_DESC_LEN) {
		if (plan->ntargets == SVM_XCOPY_MAX_TARGET_DESCS)
			return param_err(ptr, SVM_SENSE_TOO_MANY_TARGET_DESCS, 2, -1);
		if (buf[off] != SVM_XCOPY_CSCD_ID)
			return param_err(ptr, SVM_SENSE_UNSUP_TARGET_DESC_TYPE, off, -1);
		if (end - off < SVM_XCOPY_TARGET_DESC_LEN)
			return param_err(ptr, SVM_SENSE_INVALID_FIELD_IN_PARAM, 2, -1);
		s = parse_cscd_e4(buf + off, off, &plan->targets[plan->ntargets], ptr);
		if (s)
			return s;
		plan->ntargets++;
	}
	return SVM_SENSE_OK;
}

/* The segment descriptor list, bytes [off, end) of buf; the same order of checks. */
static enum svm_sense parse_segment_list(const uint8_t *buf, size_t off, size_t end,
					 struct svm_xcopy_plan *plan, struct svm_sense_ptr *ptr)
{
	for (; off < end; off += SVM_XCOPY_SEGMENT_DESC_LEN) {
		if (plan->nsegments == SVM_XCOPY_MAX_SEGMENT_DESCS)
			return param_err(ptr, SVM_SENSE_TOO_MANY_SEGMENT_DESCS, 8, -1);
		if (buf[off] != SVM_XCOPY_SEG_B2B)
			return param_err(ptr, SVM_SENSE_UNSUP_SEGMENT_DESC_TYPE, off, -1);
		if (end - off < 4)
			return param_err(ptr, SVM_SENSE_INVALID_FIELD_IN_PARAM, 8, -1);
		if (svm_get_be16(buf + off + 2) != SVM_XCOPY_SEGMENT_DESC_LEN - 4)
			return param_err(ptr, SVM_SENSE_INVALID_FIELD_IN_PARAM, off + 2, -1);
		if (end - off < SVM_XCOPY_SEGMENT_DESC_LEN)
			return param_err(ptr, SVM_SENSE_INVALID_FIELD_IN_PARAM, 8, -1);
		parse_segment_02(buf + off, off, &plan->segments[plan->nsegments++]);
	}
	return SVM_SENSE_OK;
}

/*
 * The parameter list header (SPC-4 6.4.3):
 *   byte 0      LIST IDENTIFIER
 *   byte 1      STR (bit 5), LIST ID USAGE (bits 4-3), PRIORITY (bits 2-0)
 *   bytes 2-3   CSCD DESCRIPTOR LIST LENGTH (SPC-4 6.4.3.4)
 *   bytes 8-11  SEGMENT DESCRIPTOR LIST LENGTH (SPC-4 6.4.3.5)
 *   bytes 12-15 INLINE DATA LENGTH
 * LIST ID USAGE 01b is reserved; 11b requires LIST IDENTIFIER 0. The lists
 * together may not pass MAXIMUM DESCRIPTOR LIST LENGTH, and must lie within
 * the PARAMETER LIST LENGTH: both PARAMETER LIST LENGTH ERROR, as LIO and
 * FreeBSD's CTL answer and libiscsi's ParamHdr and DescrLimits tests expect.
 * STR (a hint: the segments are striped) and PRIORITY are not used.
 */
enum svm_sense svm_xcopy_parse(const uint8_t *buf, size_t len, struct svm_xcopy_plan *plan,
			       struct svm_sense_ptr *ptr)
{
	uint32_t cscd_len, seg_len, inline_len;
	unsigned usage;
	enum svm_sense s;

	memset(plan, 0, sizeof(*plan));
	memset(ptr, 0, sizeof(*ptr));
	plan->usage = SVM_XCOPY_LIST_ID_NONE;
	if (len == 0) /* PARAMETER LIST LENGTH 0: no data, not an error (SPC-4 6.4.1) */
		return SVM_SENSE_OK;
	if (len < SVM_XCOPY_HEADER_LEN)
		return SVM_SENSE_PARAM_LIST_LENGTH;
	usage = (buf[1] >> 3) & 0x3;
	if (usage == 1)
		return param_err(ptr, SVM_SENSE_INVALID_FIELD_IN_PARAM, 1, 4);
	if (usage == SVM_XCOPY_LIST_ID_NONE && buf[0])
		return param_err(ptr, SVM_SENSE_INVALID_FIELD_IN_PARAM, 0, -1);
	plan->list_id = buf[0];
	plan->usage = usage;
	plan->priority = buf[1] & 0x7;
	cscd_len = svm_get_be16(buf + 2);
	seg_len = svm_get_be32(buf + 8);
	inline_len = svm_get_be32(buf + 12);
	if ((uint64_t)cscd_len + seg_len > SVM_XCOPY_MAX_DESC_LIST_LEN)
		return SVM_SENSE_PARAM_LIST_LENGTH;
	if (inline_len > SVM_XCOPY_MAX_INLINE_DATA_LEN)
		return param_err(ptr, SVM_SENSE_INLINE_DATA_LENGTH_EXCEEDED, 12, -1);
	if (len < SVM_XCOPY_HEADER_LEN + cscd_len + seg_len)
		return SVM_SENSE_PARAM_LIST_LENGTH;
	s = parse_cscd_list(buf, SVM_XCOPY_HEADER_LEN, SVM_XCOPY_HEADER_LEN + cscd_len, plan, ptr);
	if (s)
		return s;
	return parse_segment_list(buf, SVM_XCOPY_HEADER_LEN + cscd_len,
				  SVM_XCOPY_HEADER_LEN + cscd_len + seg_len, plan, ptr);
}

/*
 * The LUN behind CSCD index idx of segment seg (its field at offset field
 * of the descriptor): FFFFh is the LUN that received the command (a CSCD
 * descriptor ID, reported in the Supported CSCD IDs descriptor); other IDs
 * (F800h-FFFEh) and indexes past the list are unreachable.
 */
static enum svm_sense segment_lu(const struct svm_xcopy_plan *plan, const struct svm_xcopy_lu *lus,
				 const struct svm_xcopy_lu *self, unsigned seg, uint16_t idx,
				 unsigned field, const struct svm_xcopy_lu **out,
				 struct svm_sense_ptr *ptr)
{
	const struct svm_xcopy_lu *lu;

	if (idx == SVM_XCOPY_CSCD_SELF)
		lu = self;
	else if (idx >= plan->ntargets)
		return seg_err(ptr, SVM_SENSE_COPY_UNREACHABLE_TARGET, seg, field);
	else if (plan->targets[idx].null)
		return seg_err(ptr, SVM_SENSE_COPY_TARGET_NOT_REACHABLE, seg, field);
	else
		lu = &lus[idx];
	if (!lu->reachable || !lu->block_len)
		return seg_err(ptr, SVM_SENSE_COPY_TARGET_NOT_REACHABLE, seg, field);
	*out = lu;
	return SVM_SENSE_OK;
}

static bool beyond(uint64_t lba, uint64_t n, uint64_t num_lbas)
{
	return lba > num_lbas || n > num_lbas - lba;
}

/*
 * DC: NUMBER OF BLOCKS counts source blocks (0) or destination blocks (1);
 * the segment moves that many blocks of that side. When the two block
 * lengths differ, that need not be whole blocks of the other side: an
 * inexact segment, which this copy manager does not pad, strip or carry
 * into the next segment (CAT), so it is UNEXPECTED INEXACT SEGMENT (the
 * answer of FreeBSD's CTL). A DISK BLOCK LENGTH other than the LUN's is
 * refused as SCST refuses it (INVALID FIELD IN PARAMETER LIST, pointing at
 * it). Faults in the LBA range or the length are COPY ABORTED with a
 * pointer at the field (libiscsi's ValidSegDescr test takes COPY ABORTED
 * with no additional sense code, as SCST returns).
 */
enum svm_sense svm_xcopy_check(struct svm_xcopy_plan *plan, const struct svm_xcopy_lu *lus,
			       const struct svm_xcopy_lu *self, struct svm_sense_ptr *ptr)
{
	uint64_t total = 0;
	enum svm_sense s;

	memset(ptr, 0, sizeof(*ptr));
	plan->total_bytes = 0;
	for (unsigned i = 0; i < plan->ntargets; i++) {
		const struct svm_xcopy_target *t = &plan->targets[i];

		if (!t->null && lus[i].reachable && t->block_len &&
		    t->block_len != lus[i].block_len)
			return param_err(ptr, SVM_SENSE_INVALID_FIELD_IN_PARAM, t->offset + 29, -1);
	}
	for (unsigned i = 0; i < plan->nsegments; i++) {
		struct svm_xcopy_segment *sg = &plan->segments[i];
		const struct svm_xcopy_lu *src, *dst;
		uint64_t bytes;

		s = segment_lu(plan, lus, self, i, sg->src, 4, &src, ptr);
		if (s)
			return s;
		s = segment_lu(plan, lus, self, i, sg->dst, 6, &dst, ptr);
		if (s)
			return s;
		bytes = (uint64_t)sg->nblocks * (sg->dc ? dst->block_len : src->block_len);
		if (bytes % src->block_len || bytes % dst->block_len)
			return seg_err(ptr, SVM_SENSE_COPY_INEXACT_SEGMENT, i, 10);
		if (bytes > SVM_XCOPY_MAX_SEGMENT_BYTES)
			return seg_err(ptr, SVM_SENSE_COPY_ABORTED, i, 10);
		if (beyond(sg->src_lba, bytes / src->block_len, src->num_lbas))
			return seg_err(ptr, SVM_SENSE_COPY_ABORTED, i, 12);
		if (beyond(sg->dst_lba, bytes / dst->block_len, dst->num_lbas))
			return seg_err(ptr, SVM_SENSE_COPY_ABORTED, i, 20);
		total += bytes;
		if (total > SVM_XCOPY_MAX_BYTES)
			return seg_err(ptr, SVM_SENSE_COPY_ABORTED, i, 10);
		sg->bytes = bytes;
	}
	plan->total_bytes = total;
	return SVM_SENSE_OK;
}

/* ---- list identifiers ---------------------------------------------------- */

/* The copy that last used a list identifier (LIST ID USAGE 00b or 10b). */
struct xcopy_record {
	bool used;
	bool done, failed;
	bool status_taken, details_taken; /* returned whole by RECEIVE COPY RESULTS */
	unsigned segments;		  /* SEGMENTS PROCESSED */
	uint64_t bytes;			  /* TRANSFER COUNT */
	uint64_t done_ms;
	/* a failed copy's sense data, for FAILED SEGMENT DETAILS */
	enum svm_sense result;
	bool has_info;
	uint64_t info;
	struct svm_sense_ptr ptr;
};

struct svm_xcopy_state {
	pthread_mutex_t lock;
	unsigned active; /* copies between svm_xcopy_begin and svm_xcopy_end */
	uint64_t (*now_ms)(void *arg);
	void *clock_arg;
	struct xcopy_record lists[256]; /* by LIST IDENTIFIER */
};

static uint64_t monotonic_ms(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct svm_xcopy_state *svm_xcopy_state_create(void)
{
	struct svm_xcopy_state *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	if (pthread_mutex_init(&st->lock, NULL)) {
		free(st);
		return NULL;
	}
	st->now_ms = monotonic_ms;
	return st;
}

void svm_xcopy_state_destroy(struct svm_xcopy_state *st)
{
	if (!st)
		return;
	pthread_mutex_destroy(&st->lock);
	free(st);
}

void svm_xcopy_state_set_clock(struct svm_xcopy_state *st, uint64_t (*now_ms)(void *arg), void *arg)
{
	st->now_ms = now_ms ? now_ms : monotonic_ms;
	st->clock_arg = now_ms ? arg : NULL;
}

/*
 * The results kept for list_id, or NULL. SPC-4 lets a copy manager keep the
 * results of a finished copy for a vendor specific time: results older
 * than SVM_XCOPY_RESULT_KEEP_MS are dropped here, when next looked at.
 * Called with the lock held.
 */
static struct xcopy_record *find_list(struct svm_xcopy_state *st, uint8_t list_id)
{
	struct xcopy_record *r = &st->lists[list_id];

	if (!r->used)
		return NULL;
	if (r->done && st->now_ms(st->clock_arg) - r->done_ms >= SVM_XCOPY_RESULT_KEEP_MS) {
		memset(r, 0, sizeof(*r));
		return NULL;
	}
	return r;
}

/* Drop results once all they hold was returned (SPC-4 6.18: the data is then discarded). */
static void drop_if_taken(struct xcopy_record *r)
{
	if (r->status_taken && (!r->failed || r->details_taken))
		memset(r, 0, sizeof(*r));
}

enum svm_sense svm_xcopy_begin(struct svm_xcopy_state *st, const struct svm_xcopy_plan *plan,
			       struct svm_sense_ptr *ptr)
{
	enum svm_sense s = SVM_SENSE_OK;
	struct xcopy_record *r;

	memset(ptr, 0, sizeof(*ptr));
	pthread_mutex_lock(&st->lock);
	if (st->active >= SVM_XCOPY_MAX_CONCURRENT) {
		s = SVM_SENSE_TASK_SET_FULL;
		goto unlock;
	}
	if (plan->usage != SVM_XCOPY_LIST_ID_NONE) {
		/* LIST IDENTIFIER: unique among the copies in progress (00b, 10b) */
		r = find_list(st, plan->list_id);
		if (r && !r->done) {
			s = param_err(ptr, SVM_SENSE_OPERATION_IN_PROGRESS, 0, -1);
			goto unlock;
		}
		r = &st->lists[plan->list_id];
		memset(r, 0, sizeof(*r));
		r->used = true;
	}
	st->active++;
unlock:
	pthread_mutex_unlock(&st->lock);
	return s;
}

/* The record of plan's running copy, or NULL (11b, or a caller out of order). Lock held. */
static struct xcopy_record *running(struct svm_xcopy_state *st, const struct svm_xcopy_plan *plan)
{
	struct xcopy_record *r = &st->lists[plan->list_id];

	if (plan->usage == SVM_XCOPY_LIST_ID_NONE || !r->used || r->done)
		return NULL;
	return r;
}

void svm_xcopy_progress(struct svm_xcopy_state *st, const struct svm_xcopy_plan *plan,
			unsigned segments, uint64_t bytes)
{
	struct xcopy_record *r;

	pthread_mutex_lock(&st->lock);
	r = running(st, plan);
	if (r) {
		r->segments = segments;
		r->bytes = bytes;
	}
	pthread_mutex_unlock(&st->lock);
}

void svm_xcopy_end(struct svm_xcopy_state *st, const struct svm_xcopy_plan *plan,
		   enum svm_sense result, bool has_info, uint64_t info,
		   const struct svm_sense_ptr *ptr)
{
	struct xcopy_record *r;

	pthread_mutex_lock(&st->lock);
	r = running(st, plan);
	if (r) {
		r->done = true;
		r->failed = result != SVM_SENSE_OK;
		r->done_ms = st->now_ms(st->clock_arg);
		r->result = result;
		r->has_info = has_info;
		r->info = info;
		if (ptr)
			r->ptr = *ptr;
	}
	if (st->active)
		st->active--;
	pthread_mutex_unlock(&st->lock);
}

/* ---- replies ------------------------------------------------------------- */

static uint8_t log2_floor(uint32_t v)
{
	uint8_t n = 0;

	while (v > 1) {
		v >>= 1;
		n++;
	}
	return n;
}

/*
 * OPERATING PARAMETERS (SPC-4 6.18.4), 46 bytes: SNLID (LIST ID USAGE 11b
 * is supported), the limits of handler/limits.h, DATA SEGMENT GRANULARITY
 * the LUN's block length (log2), and the descriptor type codes
 * implemented, in ascending order.
 */
static size_t op_params(uint8_t *b, uint32_t block_len)
{
	static const uint8_t codes[] = {SVM_XCOPY_SEG_B2B, SVM_XCOPY_CSCD_ID};
	size_t len = 44 + sizeof(codes);

	svm_put_be32(b, len - 4);			     /* AVAILABLE DATA */
	b[4] = 0x01;					     /* SNLID */
	svm_put_be16(b + 8, SVM_XCOPY_MAX_TARGET_DESCS);     /* MAXIMUM CSCD DESCRIPTOR COUNT */
	svm_put_be16(b + 10, SVM_XCOPY_MAX_SEGMENT_DESCS);   /* MAXIMUM SEGMENT DESCRIPTOR COUNT */
	svm_put_be32(b + 12, SVM_XCOPY_MAX_DESC_LIST_LEN);   /* MAXIMUM DESCRIPTOR LIST LENGTH */
	svm_put_be32(b + 16, SVM_XCOPY_MAX_SEGMENT_BYTES);   /* MAXIMUM SEGMENT LENGTH */
	svm_put_be32(b + 20, SVM_XCOPY_MAX_INLINE_DATA_LEN); /* MAXIMUM INLINE DATA LENGTH */
	/* HELD DATA LIMIT (24-27) and MAXIMUM STREAM DEVICE TRANSFER SIZE (28-31): 0 */
	svm_put_be16(b + 34, SVM_XCOPY_MAX_CONCURRENT); /* TOTAL CONCURRENT COPIES */
	b[36] = SVM_XCOPY_MAX_CONCURRENT;		/* MAXIMUM CONCURRENT COPIES */
	b[37] = log2_floor(block_len);			/* DATA SEGMENT GRANULARITY */
	/* INLINE DATA GRANULARITY (38), HELD DATA GRANULARITY (39): none kept */
	b[43] = sizeof(codes); /* IMPLEMENTED DESCRIPTOR LIST LENGTH */
	memcpy(b + 44, codes, sizeof(codes));
	return len;
}

/*
 * COPY STATUS (SPC-4 6.18.2), 12 bytes: HDD (never: no held data), COPY
 * MANAGER STATUS (00h in progress, 01h done, 02h done with errors),
 * SEGMENTS PROCESSED, TRANSFER COUNT UNITS (00h bytes, each next one
 * 1024 times larger) and TRANSFER COUNT in the smallest unit it fits.
 */
static size_t copy_status(const struct xcopy_record *r, uint8_t *b)
{
	uint64_t count = r->bytes;
	uint8_t units = 0;

	while (count > UINT32_MAX) {
		count >>= 10;
		units++;
	}
	svm_put_be32(b, 12 - 4); /* AVAILABLE DATA */
	b[4] = !r->done ? 0x00 : r->failed ? 0x02 : 0x01;
	svm_put_be16(b + 5, r->segments > UINT16_MAX ? UINT16_MAX : r->segments);
	b[7] = units;
	svm_put_be32(b + 8, count);
	return 12;
}

/*
 * FAILED SEGMENT DETAILS (SPC-4 6.18.5): for a copy that failed, 60 bytes
 * and its sense data: EXTENDED COPY COMMAND STATUS (byte 56), SENSE DATA
 * LENGTH (bytes 58-59), the sense data from byte 60. For one that did not,
 * AVAILABLE DATA 0 (as FreeBSD's CTL answers).
 */
static size_t failed_segment(const struct xcopy_record *r, uint8_t *b)
{
	size_t sl;

	if (!r->failed)
		return 4;
	b[56] = svm_sense_build_fp(b + 60, SVM_SENSE_FIXED_LEN, r->result, r->has_info, r->info,
				   &r->ptr);
	sl = b[56] == SVM_SAM_STAT_CHECK_CONDITION ? SVM_SENSE_FIXED_LEN : 0;
	svm_put_be16(b + 58, sl);
	svm_put_be32(b, 60 + sl - 4); /* AVAILABLE DATA */
	return 60 + sl;
}

enum svm_sense svm_xcopy_rcr(struct svm_xcopy_state *st, const struct svm_xcopy_cdb *c,
			     uint32_t block_len, uint8_t *buf, size_t *len,
			     struct svm_sense_ptr *ptr)
{
	enum svm_sense s = SVM_SENSE_OK;
	struct xcopy_record *r;

	memset(buf, 0, SVM_XCOPY_RCR_MAX_LEN);
	memset(ptr, 0, sizeof(*ptr));
	*len = 0;
	if (c->service_action == SVM_XCOPY_RCR_OP_PARAMS) {
		*len = op_params(buf, block_len);
		return SVM_SENSE_OK;
	}
	if (c->service_action != SVM_XCOPY_RCR_COPY_STATUS &&
	    c->service_action != SVM_XCOPY_RCR_FAILED_SEGMENT)
		return cdb_err(ptr, SVM_SENSE_INVALID_FIELD_IN_CDB, 1, 4);

	pthread_mutex_lock(&st->lock);
	r = find_list(st, c->list_id);
	/* no such copy, or (FAILED SEGMENT DETAILS) one still running */
	if (!r || (c->service_action == SVM_XCOPY_RCR_FAILED_SEGMENT && !r->done)) {
		s = cdb_err(ptr, SVM_SENSE_INVALID_FIELD_IN_CDB, 2, -1);
		goto unlock;
	}
	if (c->service_action == SVM_XCOPY_RCR_COPY_STATUS) {
		*len = copy_status(r, buf);
		if (r->done && c->len >= *len)
			r->status_taken = true;
	} else {
		*len = failed_segment(r, buf);
		if (c->len >= *len)
			r->details_taken = true;
	}
	drop_if_taken(r);
unlock:
	pthread_mutex_unlock(&st->lock);
	return s;
}

/* Finish a third-party copy descriptor at d with body bytes after its 4-byte header. */
static uint8_t *tpc_descriptor(uint8_t *d, uint16_t type, size_t body)
{
	size_t len = (body + 3) & ~(size_t)3; /* a descriptor is whole 4-byte words */

	svm_put_be16(d, type);
	svm_put_be16(d + 2, len); /* THIRD-PARTY COPY DESCRIPTOR LENGTH */
	return d + 4 + len;
}

/*
 * Third-party Copy VPD page (SPC-4 7.8.17): what EXTENDED COPY(LID1)
 * needs, nothing about ROD tokens or stream devices:
 *  - Supported Commands (0001h): EXTENDED COPY with LID1, RECEIVE COPY
 *    RESULTS with COPY STATUS, OPERATING PARAMETERS, FAILED SEGMENT DETAILS;
 *  - Parameter Data (0004h): the limits OPERATING PARAMETERS reports;
 *  - Supported Descriptors (0008h): 02h and E4h;
 *  - Supported CSCD Descriptor IDs (000Ch): FFFFh;
 *  - General Copy Operations (8001h): concurrent copies, MAXIMUM SEGMENT
 *    LENGTH and DATA SEGMENT GRANULARITY as OPERATING PARAMETERS has them.
 */
size_t svm_xcopy_vpd_page(uint8_t *b, uint32_t block_len)
{
	static const uint8_t commands[] = {
	    SVM_XCOPY_OP_EXTENDED_COPY,
	    1,
	    SVM_XCOPY_SA_LID1,
	    SVM_XCOPY_OP_RECEIVE_COPY_RESULTS,
	    3,
	    SVM_XCOPY_RCR_COPY_STATUS,
	    SVM_XCOPY_RCR_OP_PARAMS,
	    SVM_XCOPY_RCR_FAILED_SEGMENT,
	};
	static const uint8_t descriptors[] = {SVM_XCOPY_SEG_B2B, SVM_XCOPY_CSCD_ID};
	uint8_t *d = b + 4;

	d[4] = sizeof(commands); /* COMMANDS SUPPORTED LIST LENGTH */
	memcpy(d + 5, commands, sizeof(commands));
	d = tpc_descriptor(d, 0x0001, 1 + sizeof(commands));

	svm_put_be16(d + 8, SVM_XCOPY_MAX_TARGET_DESCS);
	svm_put_be16(d + 10, SVM_XCOPY_MAX_SEGMENT_DESCS);
	svm_put_be32(d + 12, SVM_XCOPY_MAX_DESC_LIST_LEN);
	svm_put_be32(d + 16, SVM_XCOPY_MAX_INLINE_DATA_LEN);
	d = tpc_descriptor(d, 0x0004, 28);

	d[4] = sizeof(descriptors); /* SUPPORTED DESCRIPTOR LIST LENGTH */
	memcpy(d + 5, descriptors, sizeof(descriptors));
	d = tpc_descriptor(d, 0x0008, 1 + sizeof(descriptors));

	svm_put_be16(d + 4, 2); /* SUPPORTED CSCD DESCRIPTOR IDS LIST LENGTH */
	svm_put_be16(d + 6, SVM_XCOPY_CSCD_SELF);
	d = tpc_descriptor(d, 0x000C, 4);

	svm_put_be32(d + 4, SVM_XCOPY_MAX_CONCURRENT); /* TOTAL CONCURRENT COPIES */
	svm_put_be32(d + 8, SVM_XCOPY_MAX_CONCURRENT); /* MAXIMUM IDENTIFIED CONCURRENT COPIES */
	svm_put_be32(d + 12, SVM_XCOPY_MAX_SEGMENT_BYTES);
	d[16] = log2_floor(block_len); /* DATA SEGMENT GRANULARITY */
	d = tpc_descriptor(d, 0x8001, 32);
	return d - b;
}
