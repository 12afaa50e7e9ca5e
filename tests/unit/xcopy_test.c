/* SPDX-License-Identifier: Apache-2.0 */
/*
 * xcopy/xcopy.c: the EXTENDED COPY(LID1) and RECEIVE COPY RESULTS CDB
 * parsers, the parameter list parser (valid lists and every refusal), the
 * plan check, list identifiers per LUN, the replies byte by byte, and the
 * sense data each refusal turns into. Cases marked "libiscsi" rebuild the
 * lists libiscsi's ExtendedCopy and ReceiveCopyResults tests send.
 */
#include "test.h"
#include "xcopy_lists.h"
#include "../../handler/limits.h"
#include "../../handler/sense.h"
#include "../../xcopy/xcopy.h"

#include <pthread.h>

/* The NAA 6 designator of the LUN in these tests, and an 8-byte NAA 5 one. */
static const uint8_t naa16[16] = {0x60, 0x01, 0x40, 0x5a, 0xbc, 0xde, 0xf0, 0x12,
				  0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x12};
static const uint8_t naa8[8] = {0x50, 0x01, 0x40, 0x51, 0x22, 0x33, 0x44, 0x55};

/*
 * A list of ntgt identification descriptors (the first with naa16, the
 * others alternating naa8 / naa16) and nseg segments alternating 0->1 and
 * 1->0 (0->0 with one target). Returns its length.
 */
static size_t list_of(uint8_t *b, uint8_t list_id, unsigned usage, unsigned ntgt, unsigned nseg)
{
	uint8_t *p = b + 16;

	header(b, list_id, usage, ntgt * 32, nseg * 28, 0);
	for (unsigned i = 0; i < ntgt; i++, p += 32)
		cscd_e4(p, i % 2 ? naa8 : naa16, i % 2 ? 8 : 16, 512);
	for (unsigned i = 0; i < nseg; i++, p += 28)
		seg_02(p, ntgt > 1 ? i % 2 : 0, ntgt > 1 ? !(i % 2) : 0, 8, 100 + i, 1000 + i,
		       false, false);
	return p - b;
}

/* The sense data a reason and pointer give: status, key, ASC, ASCQ. */
static void expect_sense(enum svm_sense s, const struct svm_sense_ptr *ptr, uint8_t key,
			 uint8_t asc, uint8_t ascq)
{
	uint8_t b[SVM_SENSE_FIXED_LEN];

	CHECK_EQ(svm_sense_build_fp(b, sizeof(b), s, false, 0, ptr), SVM_SAM_STAT_CHECK_CONDITION);
	CHECK(b[2] == key && b[12] == asc && b[13] == ascq);
	if (b[2] != key || b[12] != asc || b[13] != ascq)
		fprintf(stderr, "  %s: got %X/%02X/%02X\n", svm_sense_name(s), b[2], b[12], b[13]);
}

/* Refused with reason s, pointing at field (and bit, -1: none) of the parameter list. */
static void expect_param(enum svm_sense got, const struct svm_sense_ptr *p, enum svm_sense s,
			 unsigned field, int bit)
{
	CHECK_EQ(got, s);
	CHECK(p->valid && !p->in_cdb && !p->has_segment);
	CHECK_EQ(p->field, field);
	CHECK_EQ(p->bit_valid, bit >= 0);
	if (bit >= 0)
		CHECK_EQ(p->bit, bit);
}

/* Refused with COPY ABORTED reason s in segment seg, at field of its descriptor. */
static void expect_seg(enum svm_sense got, const struct svm_sense_ptr *p, enum svm_sense s,
		       unsigned seg, unsigned field)
{
	CHECK_EQ(got, s);
	CHECK(p->valid && p->in_segment && p->has_segment);
	CHECK_EQ(p->segment, seg);
	CHECK_EQ(p->field, field);
}

static void cdb_tests(void)
{
	struct svm_xcopy_cdb c;
	struct svm_sense_ptr p;
	struct svm_cdb sc;
	uint8_t cdb[16] = {SVM_XCOPY_OP_EXTENDED_COPY};

	svm_put_be32(cdb + 10, 76);
	CHECK_EQ(svm_xcopy_parse_cdb(cdb, &c, &p), SVM_SENSE_OK);
	CHECK(c.opcode == 0x83 && c.service_action == 0 && c.len == 76 && !p.valid);
	svm_put_be32(cdb + 10, SVM_XCOPY_MAX_PARAM_LEN);
	CHECK_EQ(svm_xcopy_parse_cdb(cdb, &c, &p), SVM_SENSE_OK);
	/* longer than any list taken: PARAMETER LIST LENGTH ERROR */
	svm_put_be32(cdb + 10, SVM_XCOPY_MAX_PARAM_LEN + 1);
	CHECK_EQ(svm_xcopy_parse_cdb(cdb, &c, &p), SVM_SENSE_PARAM_LIST_LENGTH);
	CHECK(p.valid && p.in_cdb && p.field == 10);
	/* EXTENDED COPY(LID4) and other service actions */
	svm_put_be32(cdb + 10, 76);
	for (uint8_t sa = 1; sa < 0x20; sa++) {
		cdb[1] = sa;
		CHECK_EQ(svm_xcopy_parse_cdb(cdb, &c, &p), SVM_SENSE_INVALID_FIELD_IN_CDB);
	}
	CHECK(p.valid && p.in_cdb && p.field == 1 && p.bit_valid && p.bit == 4);
	cdb[1] = 0xE0; /* reserved bits 7-5 are not the service action */
	CHECK_EQ(svm_xcopy_parse_cdb(cdb, &c, &p), SVM_SENSE_OK);

	/* RECEIVE COPY RESULTS: COPY STATUS, OPERATING PARAMETERS, FAILED SEGMENT DETAILS */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = SVM_XCOPY_OP_RECEIVE_COPY_RESULTS;
	cdb[2] = 7;
	svm_put_be32(cdb + 10, 1024);
	for (uint8_t sa = 0; sa < 0x20; sa++) {
		enum svm_sense want =
		    sa == 0 || sa == 3 || sa == 4 ? SVM_SENSE_OK : SVM_SENSE_INVALID_FIELD_IN_CDB;
		cdb[1] = sa;
		CHECK_EQ(svm_xcopy_parse_cdb(cdb, &c, &p), want);
		if (!want)
			CHECK(c.service_action == sa && c.list_id == 7 && c.len == 1024);
		else
			CHECK(p.in_cdb && p.field == 1 && p.bit == 4);
	}

	/* the dispatch-table form */
	cdb[1] = 3;
	CHECK_EQ(svm_xcopy_cdb_parse(cdb, &sc), SVM_SENSE_OK);
	CHECK(sc.opcode == 0x84 && sc.service_action == 3 && sc.alloc_len == 1024);
	cdb[1] = 1;
	CHECK_EQ(svm_xcopy_cdb_parse(cdb, &sc), SVM_SENSE_INVALID_FIELD_IN_CDB);
	cdb[0] = 0x12;
	CHECK_EQ(svm_xcopy_parse_cdb(cdb, &c, &p), SVM_SENSE_INVALID_OPCODE);
}

static void parse_valid_tests(void)
{
	static uint8_t b[SVM_XCOPY_MAX_PARAM_LEN + 64];
	struct svm_xcopy_plan plan;
	struct svm_sense_ptr p;
	size_t len;

	/* PARAMETER LIST LENGTH 0: nothing to do, not an error */
	CHECK_EQ(svm_xcopy_parse(b, 0, &plan, &p), SVM_SENSE_OK);
	CHECK(plan.ntargets == 0 && plan.nsegments == 0 && plan.usage == SVM_XCOPY_LIST_ID_NONE);
	/* a header with empty lists */
	header(b, 3, SVM_XCOPY_LIST_ID_HOLD, 0, 0, 0);
	CHECK_EQ(svm_xcopy_parse(b, 16, &plan, &p), SVM_SENSE_OK);
	CHECK(plan.ntargets == 0 && plan.nsegments == 0 && plan.list_id == 3);

	/* two targets, one segment */
	len = list_of(b, 9, SVM_XCOPY_LIST_ID_HOLD, 2, 1);
	CHECK_EQ(len, 16 + 64 + 28);
	b[1] |= 0x20 | 0x05; /* STR, PRIORITY 5 */
	CHECK_EQ(svm_xcopy_parse(b, len, &plan, &p), SVM_SENSE_OK);
	CHECK(plan.list_id == 9 && plan.usage == SVM_XCOPY_LIST_ID_HOLD && plan.priority == 5);
	CHECK(plan.ntargets == 2 && plan.nsegments == 1);
	CHECK(!plan.targets[0].null && plan.targets[0].naa_len == 16 &&
	      !memcmp(plan.targets[0].naa, naa16, 16) && plan.targets[0].block_len == 512 &&
	      plan.targets[0].offset == 16);
	CHECK(plan.targets[1].naa_len == 8 && !memcmp(plan.targets[1].naa, naa8, 8) &&
	      plan.targets[1].offset == 48);
	CHECK(plan.segments[0].src == 0 && plan.segments[0].dst == 1 &&
	      plan.segments[0].nblocks == 8 && plan.segments[0].src_lba == 100 &&
	      plan.segments[0].dst_lba == 1000 && !plan.segments[0].dc && !plan.segments[0].cat &&
	      plan.segments[0].offset == 80);
	/* trailing bytes past the lists are ignored */
	CHECK_EQ(svm_xcopy_parse(b, len + 10, &plan, &p), SVM_SENSE_OK);

	/* 64 segments, both directions, 10b; the most of everything */
	len = list_of(b, 200, SVM_XCOPY_LIST_ID_DISCARD, SVM_XCOPY_MAX_TARGET_DESCS,
		      SVM_XCOPY_MAX_SEGMENT_DESCS);
	CHECK_EQ(len, SVM_XCOPY_MAX_PARAM_LEN);
	CHECK_EQ(svm_xcopy_parse(b, len, &plan, &p), SVM_SENSE_OK);
	CHECK(plan.usage == SVM_XCOPY_LIST_ID_DISCARD && plan.list_id == 200);
	CHECK(plan.ntargets == SVM_XCOPY_MAX_TARGET_DESCS &&
	      plan.nsegments == SVM_XCOPY_MAX_SEGMENT_DESCS);
	CHECK(plan.segments[63].src == 1 && plan.segments[63].dst == 0 &&
	      plan.segments[63].src_lba == 163 && plan.segments[63].dst_lba == 1063 &&
	      plan.segments[63].offset == 16 + 8 * 32 + 63 * 28);

	/* 11b with LIST IDENTIFIER 0; DC and CAT; index FFFFh; NUL; LU ID TYPE ignored */
	len = list_of(b, 0, SVM_XCOPY_LIST_ID_NONE, 2, 1);
	seg_02(b + 80, 0xFFFF, 0, 4, 1, 2, true, true);
	b[16 + 1] = 0x80; /* LU ID TYPE 10b (libiscsi ValidTgtDescr: ignored in SPC-4) */
	b[48 + 1] = 0x20; /* NUL */
	b[48 + 4] = 0x02; /* not looked at in a null descriptor */
	CHECK_EQ(svm_xcopy_parse(b, len, &plan, &p), SVM_SENSE_OK);
	CHECK(plan.usage == SVM_XCOPY_LIST_ID_NONE && !plan.targets[0].null &&
	      plan.targets[1].null);
	CHECK(plan.segments[0].src == SVM_XCOPY_CSCD_SELF && plan.segments[0].dc &&
	      plan.segments[0].cat);
}

static void parse_refusal_tests(void)
{
	static uint8_t b[4096];
	struct svm_xcopy_plan plan;
	struct svm_sense_ptr p;
	enum svm_sense s;
	size_t len;

	/* shorter than the header */
	len = list_of(b, 1, 0, 1, 1);
	CHECK_EQ(svm_xcopy_parse(b, 15, &plan, &p), SVM_SENSE_PARAM_LIST_LENGTH);
	/* LIST ID USAGE 01b is reserved */
	b[1] = 1 << 3;
	expect_param(svm_xcopy_parse(b, len, &plan, &p), &p, SVM_SENSE_INVALID_FIELD_IN_PARAM, 1,
		     4);
	/* 11b needs LIST IDENTIFIER 0 */
	b[1] = 3 << 3;
	expect_param(svm_xcopy_parse(b, len, &plan, &p), &p, SVM_SENSE_INVALID_FIELD_IN_PARAM, 0,
		     -1);
	b[1] = 0;
	/* inline data */
	svm_put_be32(b + 12, 4);
	expect_param(svm_xcopy_parse(b, len + 4, &plan, &p), &p,
		     SVM_SENSE_INLINE_DATA_LENGTH_EXCEEDED, 12, -1);
	expect_sense(SVM_SENSE_INLINE_DATA_LENGTH_EXCEEDED, &p, 0x5, 0x26, 0x0B);
	svm_put_be32(b + 12, 0);

	/* libiscsi ParamHdr: PARAMETER LIST LENGTH cuts a descriptor */
	CHECK_EQ(svm_xcopy_parse(b, 16 + 32 - 1, &plan, &p), SVM_SENSE_PARAM_LIST_LENGTH);
	CHECK_EQ(svm_xcopy_parse(b, len - 1, &plan, &p), SVM_SENSE_PARAM_LIST_LENGTH);
	CHECK(!p.valid);
	expect_sense(SVM_SENSE_PARAM_LIST_LENGTH, &p, 0x5, 0x1A, 0x00);

	/* libiscsi DescrLimits: one target too many, one segment too many */
	len = list_of(b, 1, 0, SVM_XCOPY_MAX_TARGET_DESCS + 1, 1);
	s = svm_xcopy_parse(b, len, &plan, &p);
	expect_param(s, &p, SVM_SENSE_TOO_MANY_TARGET_DESCS, 2, -1);
	expect_sense(s, &p, 0x5, 0x26, 0x06);
	len = list_of(b, 2, 0, 1, SVM_XCOPY_MAX_SEGMENT_DESCS + 1);
	s = svm_xcopy_parse(b, len, &plan, &p);
	expect_param(s, &p, SVM_SENSE_TOO_MANY_SEGMENT_DESCS, 8, -1);
	expect_sense(s, &p, 0x5, 0x26, 0x08);
	/* ... and lists longer than MAXIMUM DESCRIPTOR LIST LENGTH */
	len = list_of(b, 3, 0, SVM_XCOPY_MAX_TARGET_DESCS + 1, SVM_XCOPY_MAX_SEGMENT_DESCS + 1);
	CHECK(len - 16 > SVM_XCOPY_MAX_DESC_LIST_LEN);
	CHECK_EQ(svm_xcopy_parse(b, len, &plan, &p), SVM_SENSE_PARAM_LIST_LENGTH);
	header(b, 3, 0, 0xFFFF, 0xFFFFFFFF, 0); /* lengths that would overflow 32 bits */
	CHECK_EQ(svm_xcopy_parse(b, len, &plan, &p), SVM_SENSE_PARAM_LIST_LENGTH);

	/* libiscsi DescrType: an FC N_Port_Name CSCD descriptor (E0h), a stream->stream segment */
	len = list_of(b, 1, 0, 1, 1);
	b[16] = 0xE0;
	s = svm_xcopy_parse(b, len, &plan, &p);
	expect_param(s, &p, SVM_SENSE_UNSUP_TARGET_DESC_TYPE, 16, -1);
	expect_sense(s, &p, 0x5, 0x26, 0x07);
	b[16] = 0xE4;
	b[48] = 0x03;
	svm_put_be16(b + 48 + 2, 0x10);
	s = svm_xcopy_parse(b, len, &plan, &p);
	expect_param(s, &p, SVM_SENSE_UNSUP_SEGMENT_DESC_TYPE, 48, -1);
	expect_sense(s, &p, 0x5, 0x26, 0x09);

	/* a CSCD list that ends inside a descriptor */
	len = list_of(b, 1, 0, 2, 0);
	svm_put_be16(b + 2, 40);
	expect_param(svm_xcopy_parse(b, len, &plan, &p), &p, SVM_SENSE_INVALID_FIELD_IN_PARAM, 2,
		     -1);

	/* the identification descriptor's fields, one at a time */
	static const struct {
		unsigned byte;
		uint8_t value;
		unsigned field;
		int bit;
	} e4[] = {
	    // clang-format off
	    {1, 0x0E, 17, 4},  /* PERIPHERAL DEVICE TYPE: not a block device */
	    {4, 0x02, 20, 3},  /* CODE SET ASCII */
	    {5, 0x13, 21, 5},  /* ASSOCIATION target port */
	    {5, 0x02, 21, 3},  /* DESIGNATOR TYPE EUI-64 */
	    {7, 12, 23, -1},   /* DESIGNATOR LENGTH */
	    {8, 0x50, 24, 7},  /* NAA 5 in 16 bytes */
	    // clang-format on
	};
	for (size_t i = 0; i < sizeof(e4) / sizeof(e4[0]); i++) {
		len = list_of(b, 1, 0, 1, 1);
		b[16 + e4[i].byte] = e4[i].value;
		expect_param(svm_xcopy_parse(b, len, &plan, &p), &p,
			     SVM_SENSE_INVALID_FIELD_IN_PARAM, e4[i].field, e4[i].bit);
	}
	len = list_of(b, 1, 0, 2, 1);
	b[48 + 8] = 0x60; /* NAA 6 in 8 bytes */
	expect_param(svm_xcopy_parse(b, len, &plan, &p), &p, SVM_SENSE_INVALID_FIELD_IN_PARAM, 56,
		     7);
	b[48 + 8] = 0x20; /* NAA 2 and 3 are 8 bytes too */
	CHECK_EQ(svm_xcopy_parse(b, len, &plan, &p), SVM_SENSE_OK);
	b[48 + 8] = 0x30;
	CHECK_EQ(svm_xcopy_parse(b, len, &plan, &p), SVM_SENSE_OK);

	/* the segment descriptor: DESCRIPTOR LENGTH, and a list that ends inside one */
	len = list_of(b, 1, 0, 1, 2);
	svm_put_be16(b + 48 + 28 + 2, 0x1C);
	expect_param(svm_xcopy_parse(b, len, &plan, &p), &p, SVM_SENSE_INVALID_FIELD_IN_PARAM,
		     48 + 28 + 2, -1);
	len = list_of(b, 1, 0, 1, 2);
	svm_put_be32(b + 8, 28 + 27);
	expect_param(svm_xcopy_parse(b, len, &plan, &p), &p, SVM_SENSE_INVALID_FIELD_IN_PARAM, 8,
		     -1);
	svm_put_be32(b + 8, 28 + 3);
	expect_param(svm_xcopy_parse(b, len, &plan, &p), &p, SVM_SENSE_INVALID_FIELD_IN_PARAM, 8,
		     -1);
}

static void check_tests(void)
{
	static uint8_t b[4096];
	struct svm_xcopy_lu lus[SVM_XCOPY_MAX_TARGET_DESCS], self = {true, 512, 1 << 20};
	struct svm_xcopy_plan plan;
	struct svm_sense_ptr p;
	uint8_t sense[SVM_SENSE_FIXED_LEN];
	enum svm_sense s;
	size_t len;

	for (int i = 0; i < SVM_XCOPY_MAX_TARGET_DESCS; i++)
		lus[i] = (struct svm_xcopy_lu){true, 512, 1 << 20};
	len = list_of(b, 1, 0, 2, 64);
	CHECK_EQ(svm_xcopy_parse(b, len, &plan, &p), SVM_SENSE_OK);
	CHECK_EQ(svm_xcopy_check(&plan, lus, &self, &p), SVM_SENSE_OK);
	CHECK(plan.segments[0].bytes == 8 * 512 && plan.total_bytes == 64 * 8 * 512);

	/* DISK BLOCK LENGTH must be the LUN's; 0 means "the LUN's" */
	lus[1].block_len = 4096;
	s = svm_xcopy_check(&plan, lus, &self, &p);
	expect_param(s, &p, SVM_SENSE_INVALID_FIELD_IN_PARAM, 48 + 29, -1);
	b[48 + 29] = b[48 + 30] = b[48 + 31] = 0;
	CHECK_EQ(svm_xcopy_parse(b, len, &plan, &p), SVM_SENSE_OK);
	/* 8 blocks of 512 bytes are one block of 4096: exact one way, not the other */
	CHECK_EQ(svm_xcopy_check(&plan, lus, &self, &p), SVM_SENSE_OK);
	CHECK(plan.segments[0].bytes == 4096 && plan.segments[1].bytes == 8 * 4096);
	plan.segments[0].nblocks = 9;
	s = svm_xcopy_check(&plan, lus, &self, &p);
	expect_seg(s, &p, SVM_SENSE_COPY_INEXACT_SEGMENT, 0, 10);
	expect_sense(s, &p, 0xA, 0x26, 0x0A);
	plan.segments[0].dc = true; /* 9 destination blocks = 72 source blocks */
	CHECK_EQ(svm_xcopy_check(&plan, lus, &self, &p), SVM_SENSE_OK);
	CHECK(plan.segments[0].bytes == 9 * 4096);
	lus[1].block_len = 512;

	/* libiscsi ValidSegDescr: a destination index past the list */
	len = list_of(b, 1, 0, 1, 1);
	seg_02(b + 48, 0, 1, 2048, 0, 1000, false, false);
	CHECK_EQ(svm_xcopy_parse(b, len, &plan, &p), SVM_SENSE_OK);
	s = svm_xcopy_check(&plan, lus, &self, &p);
	expect_seg(s, &p, SVM_SENSE_COPY_UNREACHABLE_TARGET, 0, 6);
	svm_sense_build_fp(sense, sizeof(sense), s, false, 0, &p);
	CHECK(sense[2] == 0x0A && sense[12] == 0x08 && sense[13] == 0x04);
	CHECK(sense[8] == 0 && sense[11] == 0 && sense[15] == 0xA0 && sense[16] == 0 &&
	      sense[17] == 6);
	/* ... and a copy past the destination's capacity */
	seg_02(b + 48, 0, 0, 2048, 0, lus[0].num_lbas - 1, false, false);
	CHECK_EQ(svm_xcopy_parse(b, len, &plan, &p), SVM_SENSE_OK);
	s = svm_xcopy_check(&plan, lus, &self, &p);
	expect_seg(s, &p, SVM_SENSE_COPY_ABORTED, 0, 20);
	expect_sense(s, &p, 0xA, 0x00, 0x00);
	seg_02(b + 48, 0, 0, 2048, lus[0].num_lbas - 2047, 0, false, false);
	CHECK_EQ(svm_xcopy_parse(b, len, &plan, &p), SVM_SENSE_OK);
	expect_seg(svm_xcopy_check(&plan, lus, &self, &p), &p, SVM_SENSE_COPY_ABORTED, 0, 12);
	seg_02(b + 48, 0, 0, 2048, lus[0].num_lbas - 2048, UINT64_MAX - 5, false, false);
	CHECK_EQ(svm_xcopy_parse(b, len, &plan, &p), SVM_SENSE_OK);
	expect_seg(svm_xcopy_check(&plan, lus, &self, &p), &p, SVM_SENSE_COPY_ABORTED, 0, 20);
	/* 0 blocks copy nothing, even at the end */
	seg_02(b + 48, 0, 0, 0, lus[0].num_lbas, lus[0].num_lbas, false, false);
	CHECK_EQ(svm_xcopy_parse(b, len, &plan, &p), SVM_SENSE_OK);
	CHECK_EQ(svm_xcopy_check(&plan, lus, &self, &p), SVM_SENSE_OK);
	CHECK_EQ(plan.total_bytes, 0);

	/* a null target, an unreachable one, the receiving LUN (FFFFh), other IDs */
	len = list_of(b, 1, 0, 2, 2);
	b[48 + 1] = 0x20;
	CHECK_EQ(svm_xcopy_parse(b, len, &plan, &p), SVM_SENSE_OK);
	s = svm_xcopy_check(&plan, lus, &self, &p);
	expect_seg(s, &p, SVM_SENSE_COPY_TARGET_NOT_REACHABLE, 0, 6);
	expect_sense(s, &p, 0xA, 0x0D, 0x02);
	len = list_of(b, 1, 0, 2, 2);
	CHECK_EQ(svm_xcopy_parse(b, len, &plan, &p), SVM_SENSE_OK);
	lus[1].reachable = false;
	expect_seg(svm_xcopy_check(&plan, lus, &self, &p), &p, SVM_SENSE_COPY_TARGET_NOT_REACHABLE,
		   0, 6);
	plan.segments[0].dst = SVM_XCOPY_CSCD_SELF;
	plan.segments[1].src = SVM_XCOPY_CSCD_SELF;
	CHECK_EQ(svm_xcopy_check(&plan, lus, &self, &p), SVM_SENSE_OK);
	self.reachable = false;
	expect_seg(svm_xcopy_check(&plan, lus, &self, &p), &p, SVM_SENSE_COPY_TARGET_NOT_REACHABLE,
		   0, 6);
	self.reachable = true;
	lus[1].reachable = true;
	plan.segments[1].src = 0xF800;
	expect_seg(svm_xcopy_check(&plan, lus, &self, &p), &p, SVM_SENSE_COPY_UNREACHABLE_TARGET, 1,
		   4);

	/* MAXIMUM SEGMENT LENGTH, and the most one command copies */
	for (int i = 0; i < 2; i++)
		lus[i] = (struct svm_xcopy_lu){true, 65536, 1ull << 30};
	len = list_of(b, 1, 0, 2, 3);
	for (int i = 0; i < 2; i++)
		b[16 + 32 * i + 29] = 1, b[16 + 32 * i + 30] = b[16 + 32 * i + 31] = 0;
	CHECK_EQ(svm_xcopy_parse(b, len, &plan, &p), SVM_SENSE_OK);
	for (int i = 0; i < 3; i++)
		plan.segments[i].nblocks = SVM_XCOPY_MAX_SEGMENT_BYTES / 65536;
	plan.segments[1].nblocks++;
	expect_seg(svm_xcopy_check(&plan, lus, &self, &p), &p, SVM_SENSE_COPY_ABORTED, 1, 10);
	plan.segments[1].nblocks--;
	CHECK(3ull * SVM_XCOPY_MAX_SEGMENT_BYTES > SVM_XCOPY_MAX_BYTES);
	expect_seg(svm_xcopy_check(&plan, lus, &self, &p), &p, SVM_SENSE_COPY_ABORTED, 2, 10);
	plan.nsegments = 2;
	CHECK_EQ(svm_xcopy_check(&plan, lus, &self, &p), SVM_SENSE_OK);
	CHECK_EQ(plan.total_bytes, SVM_XCOPY_MAX_BYTES);
}

/* A clock the test moves. */
static uint64_t fake_ms(void *arg)
{
	return *(uint64_t *)arg;
}

static void rcr_cdb(struct svm_xcopy_cdb *c, uint8_t sa, uint8_t list_id, uint32_t alloc)
{
	*c = (struct svm_xcopy_cdb){SVM_XCOPY_OP_RECEIVE_COPY_RESULTS, sa, list_id, alloc};
}

static struct svm_xcopy_plan plan_with(uint8_t list_id, unsigned usage)
{
	return (struct svm_xcopy_plan){.list_id = list_id, .usage = usage};
}

static void state_tests(void)
{
	struct svm_xcopy_state *st = svm_xcopy_state_create();
	struct svm_xcopy_plan a = plan_with(5, SVM_XCOPY_LIST_ID_HOLD),
			      d = plan_with(6, SVM_XCOPY_LIST_ID_DISCARD),
			      n = plan_with(0, SVM_XCOPY_LIST_ID_NONE);
	/* segment 2 failed at its SOURCE LBA */
	const struct svm_sense_ptr fail = {
	    .valid = true, .in_segment = true, .has_segment = true, .segment = 2, .field = 12};
	struct svm_sense_ptr p;
	uint8_t buf[SVM_XCOPY_RCR_MAX_LEN];
	struct svm_xcopy_cdb c;
	uint64_t now = 1000;
	enum svm_sense s;
	size_t len;

	CHECK(st != NULL);
	if (!st)
		return;
	svm_xcopy_state_set_clock(st, fake_ms, &now);

	/* nothing yet: COPY STATUS and FAILED SEGMENT DETAILS refuse the LIST IDENTIFIER */
	rcr_cdb(&c, SVM_XCOPY_RCR_COPY_STATUS, 5, 1024);
	s = svm_xcopy_rcr(st, &c, 512, buf, &len, &p);
	CHECK_EQ(s, SVM_SENSE_INVALID_FIELD_IN_CDB);
	CHECK(p.valid && p.in_cdb && p.field == 2 && len == 0);

	/* 00b: in progress, a duplicate refused, progress reported */
	CHECK_EQ(svm_xcopy_begin(st, &a, &p), SVM_SENSE_OK);
	s = svm_xcopy_begin(st, &a, &p);
	expect_param(s, &p, SVM_SENSE_OPERATION_IN_PROGRESS, 0, -1);
	expect_sense(s, &p, 0x5, 0x00, 0x16);
	CHECK_EQ(svm_xcopy_rcr(st, &c, 512, buf, &len, &p), SVM_SENSE_OK);
	CHECK(len == 12 && svm_get_be32(buf) == 8 && buf[4] == 0x00 && svm_get_be16(buf + 5) == 0);
	svm_xcopy_progress(st, &a, 3, 3 * 4096);
	CHECK_EQ(svm_xcopy_rcr(st, &c, 512, buf, &len, &p), SVM_SENSE_OK);
	CHECK(buf[4] == 0x00 && svm_get_be16(buf + 5) == 3 && buf[7] == 0 &&
	      svm_get_be32(buf + 8) == 3 * 4096);
	rcr_cdb(&c, SVM_XCOPY_RCR_FAILED_SEGMENT, 5, 1024);
	s = svm_xcopy_rcr(st, &c, 512, buf, &len, &p);
	CHECK(s == SVM_SENSE_INVALID_FIELD_IN_CDB && p.in_cdb && p.field == 2);
	/* done: kept while ALLOCATION LENGTH cuts it short, dropped once returned whole */
	svm_xcopy_end(st, &a, SVM_SENSE_OK, false, 0, NULL);
	rcr_cdb(&c, SVM_XCOPY_RCR_FAILED_SEGMENT, 5, 1024);
	CHECK_EQ(svm_xcopy_rcr(st, &c, 512, buf, &len, &p), SVM_SENSE_OK);
	CHECK(len == 4 && svm_get_be32(buf) == 0); /* no failure: no details */
	rcr_cdb(&c, SVM_XCOPY_RCR_COPY_STATUS, 5, 11);
	CHECK_EQ(svm_xcopy_rcr(st, &c, 512, buf, &len, &p), SVM_SENSE_OK);
	CHECK(len == 12 && buf[4] == 0x01 && svm_get_be16(buf + 5) == 3 &&
	      svm_get_be32(buf + 8) == 3 * 4096);
	c.len = 12;
	CHECK_EQ(svm_xcopy_rcr(st, &c, 512, buf, &len, &p), SVM_SENSE_OK);
	CHECK_EQ(svm_xcopy_rcr(st, &c, 512, buf, &len, &p), SVM_SENSE_INVALID_FIELD_IN_CDB);

	/* 10b: recorded the same way; a finished copy's list identifier may be used again */
	CHECK_EQ(svm_xcopy_begin(st, &d, &p), SVM_SENSE_OK);
	CHECK_EQ(svm_xcopy_begin(st, &d, &p), SVM_SENSE_OPERATION_IN_PROGRESS);
	CHECK_EQ(svm_xcopy_begin(st, &a, &p), SVM_SENSE_OK); /* another list identifier */
	svm_xcopy_progress(st, &d, 1, 5ull << 32);	     /* TRANSFER COUNT in KiB then */
	rcr_cdb(&c, SVM_XCOPY_RCR_COPY_STATUS, 6, 1024);
	CHECK_EQ(svm_xcopy_rcr(st, &c, 512, buf, &len, &p), SVM_SENSE_OK);
	CHECK(buf[7] == 1 && svm_get_be32(buf + 8) == (5u << 22));
	svm_xcopy_end(st, &d, SVM_SENSE_OK, false, 0, NULL);
	CHECK_EQ(svm_xcopy_begin(st, &d, &p), SVM_SENSE_OK);
	CHECK_EQ(svm_xcopy_rcr(st, &c, 512, buf, &len, &p), SVM_SENSE_OK);
	CHECK(buf[4] == 0x00 && svm_get_be16(buf + 5) == 0); /* the new copy's */
	svm_xcopy_end(st, &d, SVM_SENSE_OK, false, 0, NULL);
	svm_xcopy_end(st, &a, SVM_SENSE_OK, false, 0, NULL);

	/* 11b: not recorded, so never in progress */
	CHECK_EQ(svm_xcopy_begin(st, &n, &p), SVM_SENSE_OK);
	CHECK_EQ(svm_xcopy_begin(st, &n, &p), SVM_SENSE_OK);
	rcr_cdb(&c, SVM_XCOPY_RCR_COPY_STATUS, 0, 1024);
	CHECK_EQ(svm_xcopy_rcr(st, &c, 512, buf, &len, &p), SVM_SENSE_INVALID_FIELD_IN_CDB);
	svm_xcopy_end(st, &n, SVM_SENSE_OK, false, 0, NULL);
	svm_xcopy_end(st, &n, SVM_SENSE_OK, false, 0, NULL);

	/* a failed copy: COPY STATUS 02h, FAILED SEGMENT DETAILS with its sense data */
	a.list_id = 7;
	CHECK_EQ(svm_xcopy_begin(st, &a, &p), SVM_SENSE_OK);
	svm_xcopy_progress(st, &a, 2, 8192);
	svm_xcopy_end(st, &a, SVM_SENSE_COPY_ABORTED, false, 0, &fail);
	rcr_cdb(&c, SVM_XCOPY_RCR_COPY_STATUS, 7, 8); /* cut short: kept */
	CHECK_EQ(svm_xcopy_rcr(st, &c, 512, buf, &len, &p), SVM_SENSE_OK);
	CHECK(buf[4] == 0x02 && svm_get_be16(buf + 5) == 2 && svm_get_be32(buf + 8) == 8192);
	rcr_cdb(&c, SVM_XCOPY_RCR_FAILED_SEGMENT, 7, 60);
	CHECK_EQ(svm_xcopy_rcr(st, &c, 512, buf, &len, &p), SVM_SENSE_OK);
	CHECK(len == 78 && svm_get_be32(buf) == 74 && buf[56] == SVM_SAM_STAT_CHECK_CONDITION &&
	      svm_get_be16(buf + 58) == 18);
	CHECK(buf[60] == 0x70 && buf[62] == 0x0A && buf[67] == 10 && svm_get_be32(buf + 68) == 2 &&
	      buf[72] == 0 && buf[73] == 0 && buf[75] == 0xA0 && svm_get_be16(buf + 76) == 12);
	c.len = 78; /* the details returned whole, then the status: dropped */
	CHECK_EQ(svm_xcopy_rcr(st, &c, 512, buf, &len, &p), SVM_SENSE_OK);
	CHECK_EQ(svm_xcopy_rcr(st, &c, 512, buf, &len, &p), SVM_SENSE_OK);
	rcr_cdb(&c, SVM_XCOPY_RCR_COPY_STATUS, 7, 12);
	CHECK_EQ(svm_xcopy_rcr(st, &c, 512, buf, &len, &p), SVM_SENSE_OK);
	CHECK_EQ(svm_xcopy_rcr(st, &c, 512, buf, &len, &p), SVM_SENSE_INVALID_FIELD_IN_CDB);
	/* a failure without sense data (a status) and one with a datamover's error */
	CHECK_EQ(svm_xcopy_begin(st, &a, &p), SVM_SENSE_OK);
	svm_xcopy_end(st, &a, SVM_SENSE_BUSY, false, 0, NULL);
	rcr_cdb(&c, SVM_XCOPY_RCR_FAILED_SEGMENT, 7, 1024);
	CHECK_EQ(svm_xcopy_rcr(st, &c, 512, buf, &len, &p), SVM_SENSE_OK);
	CHECK(len == 60 && buf[56] == SVM_SAM_STAT_BUSY && svm_get_be16(buf + 58) == 0);
	CHECK_EQ(svm_xcopy_begin(st, &a, &p), SVM_SENSE_OK);
	svm_xcopy_end(st, &a, SVM_SENSE_COPY_THIRD_PARTY_FAILURE, true, 77, &fail);
	CHECK_EQ(svm_xcopy_rcr(st, &c, 512, buf, &len, &p), SVM_SENSE_OK);
	CHECK(buf[60] == 0xF0 && svm_get_be32(buf + 63) == 77 && buf[62] == 0x0A &&
	      buf[72] == 0x0D && buf[73] == 0x01);
	expect_sense(SVM_SENSE_COPY_THIRD_PARTY_FAILURE, &fail, 0xA, 0x0D, 0x01);

	/* results nobody asks for go after SVM_XCOPY_RESULT_KEEP_MS */
	a.list_id = 8;
	CHECK_EQ(svm_xcopy_begin(st, &a, &p), SVM_SENSE_OK);
	now = 5000;
	svm_xcopy_end(st, &a, SVM_SENSE_OK, false, 0, NULL);
	rcr_cdb(&c, SVM_XCOPY_RCR_COPY_STATUS, 8, 4);
	now += SVM_XCOPY_RESULT_KEEP_MS - 1;
	CHECK_EQ(svm_xcopy_rcr(st, &c, 512, buf, &len, &p), SVM_SENSE_OK);
	now++;
	CHECK_EQ(svm_xcopy_rcr(st, &c, 512, buf, &len, &p), SVM_SENSE_INVALID_FIELD_IN_CDB);
	/* ... but a copy in progress never does */
	CHECK_EQ(svm_xcopy_begin(st, &a, &p), SVM_SENSE_OK);
	now += 100 * SVM_XCOPY_RESULT_KEEP_MS;
	CHECK_EQ(svm_xcopy_begin(st, &a, &p), SVM_SENSE_OPERATION_IN_PROGRESS);
	svm_xcopy_end(st, &a, SVM_SENSE_OK, false, 0, NULL);

	/* TOTAL CONCURRENT COPIES */
	for (int i = 0; i < SVM_XCOPY_MAX_CONCURRENT; i++)
		CHECK_EQ(svm_xcopy_begin(st, &n, &p), SVM_SENSE_OK);
	CHECK_EQ(svm_xcopy_begin(st, &n, &p), SVM_SENSE_TASK_SET_FULL);
	CHECK_EQ(svm_xcopy_begin(st, &d, &p), SVM_SENSE_TASK_SET_FULL);
	svm_xcopy_end(st, &n, SVM_SENSE_OK, false, 0, NULL);
	CHECK_EQ(svm_xcopy_begin(st, &d, &p), SVM_SENSE_OK);
	svm_xcopy_end(st, &d, SVM_SENSE_OK, false, 0, NULL);
	for (int i = 1; i < SVM_XCOPY_MAX_CONCURRENT; i++)
		svm_xcopy_end(st, &n, SVM_SENSE_OK, false, 0, NULL);

	/* RECEIVE DATA and the like never reach here, but are refused if they do */
	rcr_cdb(&c, 0x01, 0, 1024);
	s = svm_xcopy_rcr(st, &c, 512, buf, &len, &p);
	CHECK(s == SVM_SENSE_INVALID_FIELD_IN_CDB && p.in_cdb && p.field == 1 && p.bit == 4);
	svm_xcopy_state_destroy(st);
	svm_xcopy_state_destroy(NULL);
}

/* Many threads, each with its own list identifier, against one state (ASan/UBSan tier). */
struct worker {
	struct svm_xcopy_state *st;
	uint8_t list_id;
	int bad;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct svm_xcopy_plan plan = plan_with(w->list_id, SVM_XCOPY_LIST_ID_HOLD);
	uint8_t buf[SVM_XCOPY_RCR_MAX_LEN];
	struct svm_xcopy_cdb c;
	struct svm_sense_ptr p;
	size_t len;

	rcr_cdb(&c, SVM_XCOPY_RCR_COPY_STATUS, w->list_id, 12);
	for (int i = 0; i < 2000; i++) {
		if (svm_xcopy_begin(w->st, &plan, &p)) {
			w->bad++;
			continue;
		}
		svm_xcopy_progress(w->st, &plan, 1, 512);
		if (svm_xcopy_rcr(w->st, &c, 512, buf, &len, &p) || buf[4] != 0x00)
			w->bad++;
		svm_xcopy_end(w->st, &plan, SVM_SENSE_OK, false, 0, NULL);
		if (svm_xcopy_rcr(w->st, &c, 512, buf, &len, &p) || buf[4] != 0x01)
			w->bad++;
	}
	return NULL;
}

static void thread_tests(void)
{
	struct svm_xcopy_state *st = svm_xcopy_state_create();
	struct worker w[8];
	pthread_t t[8];

	CHECK(st != NULL);
	if (!st)
		return;
	for (int i = 0; i < 8; i++) {
		w[i] = (struct worker){st, (uint8_t)(10 + i), 0};
		CHECK_EQ(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		CHECK_EQ(w[i].bad, 0);
	}
	svm_xcopy_state_destroy(st);
}

static void reply_tests(void)
{
	/* OPERATING PARAMETERS on a LUN of 4096-byte blocks, every byte */
	// clang-format off
	static const uint8_t op[46] = {
	    0, 0, 0, 42,	     /* AVAILABLE DATA */
	    0x01, 0, 0, 0,	     /* SNLID */
	    0, 8, 0, 64,	     /* MAXIMUM CSCD / SEGMENT DESCRIPTOR COUNT */
	    0, 0, 0x08, 0x00,	     /* MAXIMUM DESCRIPTOR LIST LENGTH 2048 */
	    0x10, 0, 0, 0,	     /* MAXIMUM SEGMENT LENGTH 256 MiB */
	    0, 0, 0, 0,		     /* MAXIMUM INLINE DATA LENGTH */
	    0, 0, 0, 0,		     /* HELD DATA LIMIT */
	    0, 0, 0, 0,		     /* MAXIMUM STREAM DEVICE TRANSFER SIZE */
	    0, 0, 0, 16,	     /* TOTAL CONCURRENT COPIES */
	    16, 12, 0, 0,	     /* MAXIMUM CONCURRENT COPIES, DATA SEGMENT GRANULARITY 2^12 */
	    0, 0, 0, 2, 0x02, 0xE4, /* implemented descriptor type codes */
	};
	/* the Third-party Copy VPD page's descriptors, every byte (header left to spc.c) */
	static const uint8_t vpd[104 - 4] = {
	    0x00, 0x01, 0, 12, 8, 0x83, 1, 0x00, 0x84, 3, 0x00, 0x03, 0x04, 0, 0, 0, /* commands */
	    0x00, 0x04, 0, 28, 0, 0, 0, 0, 0, 8, 0, 64, 0, 0, 0x08, 0x00, 0, 0, 0, 0, /* params */
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0x00, 0x08, 0, 4, 2, 0x02, 0xE4, 0, /* supported descriptors */
	    0x00, 0x0C, 0, 4, 0, 2, 0xFF, 0xFF, /* supported CSCD descriptor IDs */
	    0x80, 0x01, 0, 32, 0, 0, 0, 16, 0, 0, 0, 16, 0x10, 0, 0, 0, 9, /* general copy ops */
	};
	// clang-format on
	struct svm_xcopy_state *st = svm_xcopy_state_create();
	uint8_t buf[SVM_XCOPY_RCR_MAX_LEN], page[SVM_EMUL_BUF_LEN] = {0};
	struct svm_xcopy_cdb c;
	struct svm_sense_ptr p;
	size_t len;

	CHECK(st != NULL);
	if (!st)
		return;
	rcr_cdb(&c, SVM_XCOPY_RCR_OP_PARAMS, 0, 1024);
	memset(buf, 0xEE, sizeof(buf));
	CHECK_EQ(svm_xcopy_rcr(st, &c, 4096, buf, &len, &p), SVM_SENSE_OK);
	CHECK_EQ(len, sizeof(op));
	CHECK(!memcmp(buf, op, sizeof(op)) && buf[46] == 0);
	svm_xcopy_state_destroy(st);

	len = svm_xcopy_vpd_page(page, 512);
	CHECK_EQ(len, 104);
	CHECK(!memcmp(page + 4, vpd, sizeof(vpd)));
	CHECK(page[0] == 0 && page[1] == 0 && page[2] == 0 && page[3] == 0);
	/* every descriptor is whole 4-byte words, and they fill the page exactly */
	size_t off = 4, n = 0;
	while (off + 4 <= len) {
		CHECK_EQ(svm_get_be16(page + off + 2) % 4, 0);
		off += 4 + svm_get_be16(page + off + 2);
		n++;
	}
	CHECK(off == len && n == 5);
}

/* svm_sense_build_fp: the two SENSE KEY SPECIFIC forms and COMMAND-SPECIFIC INFORMATION. */
static void sense_ptr_tests(void)
{
	struct svm_sense_ptr cdb = {
	    .valid = true, .in_cdb = true, .bit_valid = true, .bit = 4, .field = 1};
	struct svm_sense_ptr seg = {.valid = true,
				    .in_segment = true,
				    .field = 0x0123,
				    .has_segment = true,
				    .segment = 0x01020304};
	uint8_t b[32], ref[32];

	svm_sense_build_fp(b, sizeof(b), SVM_SENSE_INVALID_FIELD_IN_CDB, false, 0, &cdb);
	CHECK(b[15] == (0x80 | 0x40 | 0x08 | 4) && b[16] == 0 && b[17] == 1);
	CHECK(b[8] == 0 && b[9] == 0 && b[10] == 0 && b[11] == 0);
	cdb.in_cdb = cdb.bit_valid = false;
	svm_sense_build_fp(b, sizeof(b), SVM_SENSE_INVALID_FIELD_IN_PARAM, false, 0, &cdb);
	CHECK(b[15] == 0x80 && b[17] == 1);
	svm_sense_build_fp(b, sizeof(b), SVM_SENSE_COPY_ABORTED, false, 0, &seg);
	CHECK(b[2] == 0x0A && b[8] == 1 && b[9] == 2 && b[10] == 3 && b[11] == 4);
	CHECK(b[15] == 0xA0 && b[16] == 0x01 && b[17] == 0x23 && b[18] == 0);
	/* segment information only with COPY ABORTED; no pointer with other keys */
	svm_sense_build_fp(b, sizeof(b), SVM_SENSE_INVALID_FIELD_IN_PARAM, false, 0, &seg);
	CHECK(b[8] == 0 && b[11] == 0 && b[15] == 0x80);
	svm_sense_build_fp(b, sizeof(b), SVM_SENSE_READ_ERROR, false, 0, &seg);
	CHECK(b[11] == 0 && b[15] == 0 && b[16] == 0 && b[17] == 0);
	/* NULL, or a pointer not valid: what svm_sense_build gives */
	svm_sense_build(ref, sizeof(ref), SVM_SENSE_COPY_ABORTED, true, 9);
	svm_sense_build_fp(b, sizeof(b), SVM_SENSE_COPY_ABORTED, true, 9, NULL);
	CHECK(!memcmp(b, ref, sizeof(b)));
	seg.valid = seg.has_segment = false;
	svm_sense_build_fp(b, sizeof(b), SVM_SENSE_COPY_ABORTED, true, 9, &seg);
	CHECK(!memcmp(b, ref, sizeof(b)));
	CHECK_EQ(svm_sense_build_fp(b, sizeof(b), SVM_SENSE_TASK_SET_FULL, false, 0, &seg),
		 SVM_SAM_STAT_TASK_SET_FULL);
	CHECK_EQ(b[0], 0);

	/* every row added for EXTENDED COPY, once more in one place */
	expect_sense(SVM_SENSE_TOO_MANY_TARGET_DESCS, NULL, 0x5, 0x26, 0x06);
	expect_sense(SVM_SENSE_UNSUP_TARGET_DESC_TYPE, NULL, 0x5, 0x26, 0x07);
	expect_sense(SVM_SENSE_TOO_MANY_SEGMENT_DESCS, NULL, 0x5, 0x26, 0x08);
	expect_sense(SVM_SENSE_UNSUP_SEGMENT_DESC_TYPE, NULL, 0x5, 0x26, 0x09);
	expect_sense(SVM_SENSE_INLINE_DATA_LENGTH_EXCEEDED, NULL, 0x5, 0x26, 0x0B);
	expect_sense(SVM_SENSE_OPERATION_IN_PROGRESS, NULL, 0x5, 0x00, 0x16);
	expect_sense(SVM_SENSE_COPY_ABORTED, NULL, 0xA, 0x00, 0x00);
	expect_sense(SVM_SENSE_COPY_UNREACHABLE_TARGET, NULL, 0xA, 0x08, 0x04);
	expect_sense(SVM_SENSE_COPY_THIRD_PARTY_FAILURE, NULL, 0xA, 0x0D, 0x01);
	expect_sense(SVM_SENSE_COPY_TARGET_NOT_REACHABLE, NULL, 0xA, 0x0D, 0x02);
	expect_sense(SVM_SENSE_COPY_INEXACT_SEGMENT, NULL, 0xA, 0x26, 0x0A);
}

void xcopy_test(void)
{
	cdb_tests();
	parse_valid_tests();
	parse_refusal_tests();
	check_tests();
	state_tests();
	thread_tests();
	reply_tests();
	sense_ptr_tests();
}
