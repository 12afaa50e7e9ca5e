/* SPDX-License-Identifier: Apache-2.0 */
#include "sense.h"

#include <errno.h>
#include <string.h>

/* SPC-4 4.5.6 sense keys */
enum {
	KEY_NONE = 0x0,
	KEY_NOT_READY = 0x2,
	KEY_MEDIUM_ERROR = 0x3,
	KEY_HARDWARE_ERROR = 0x4,
	KEY_ILLEGAL_REQUEST = 0x5,
	KEY_DATA_PROTECT = 0x7,
	KEY_COPY_ABORTED = 0xA,
	KEY_MISCOMPARE = 0xE,
};

static const struct {
	uint8_t status;
	uint8_t key, asc, ascq;
	const char *name;
} sense_table[SVM_SENSE__COUNT] = {
	[SVM_SENSE_OK] = {SVM_SAM_STAT_GOOD, KEY_NONE, 0, 0, "GOOD"},
	[SVM_SENSE_INVALID_OPCODE] = {SVM_SAM_STAT_CHECK_CONDITION, KEY_ILLEGAL_REQUEST, 0x20,
				      0x00, "INVALID COMMAND OPERATION CODE"},
	[SVM_SENSE_INVALID_FIELD_IN_CDB] = {SVM_SAM_STAT_CHECK_CONDITION, KEY_ILLEGAL_REQUEST,
					    0x24, 0x00, "INVALID FIELD IN CDB"},
	[SVM_SENSE_LBA_OUT_OF_RANGE] = {SVM_SAM_STAT_CHECK_CONDITION, KEY_ILLEGAL_REQUEST, 0x21,
					0x00, "LOGICAL BLOCK ADDRESS OUT OF RANGE"},
	[SVM_SENSE_PARAM_LIST_LENGTH] = {SVM_SAM_STAT_CHECK_CONDITION, KEY_ILLEGAL_REQUEST, 0x1A,
					 0x00, "PARAMETER LIST LENGTH ERROR"},
	[SVM_SENSE_INVALID_FIELD_IN_PARAM] = {SVM_SAM_STAT_CHECK_CONDITION, KEY_ILLEGAL_REQUEST,
					      0x26, 0x00, "INVALID FIELD IN PARAMETER LIST"},
	[SVM_SENSE_SAVING_PARAMS_UNSUP] = {SVM_SAM_STAT_CHECK_CONDITION, KEY_ILLEGAL_REQUEST,
					   0x39, 0x00, "SAVING PARAMETERS NOT SUPPORTED"},
	[SVM_SENSE_MISCOMPARE_VERIFY] = {SVM_SAM_STAT_CHECK_CONDITION, KEY_MISCOMPARE, 0x1D, 0x00,
					 "MISCOMPARE DURING VERIFY OPERATION"},
	[SVM_SENSE_READ_ERROR] = {SVM_SAM_STAT_CHECK_CONDITION, KEY_MEDIUM_ERROR, 0x11, 0x00,
				  "UNRECOVERED READ ERROR"},
	[SVM_SENSE_WRITE_ERROR] = {SVM_SAM_STAT_CHECK_CONDITION, KEY_MEDIUM_ERROR, 0x0C, 0x00,
				   "WRITE ERROR"},
	[SVM_SENSE_SPACE_ALLOC_FAILED] = {SVM_SAM_STAT_CHECK_CONDITION, KEY_DATA_PROTECT, 0x27,
					  0x07, "SPACE ALLOCATION FAILED WRITE PROTECT"},
	[SVM_SENSE_WRITE_PROTECTED] = {SVM_SAM_STAT_CHECK_CONDITION, KEY_DATA_PROTECT, 0x27, 0x00,
				       "WRITE PROTECTED"},
	[SVM_SENSE_INTERNAL_TARGET_FAILURE] = {SVM_SAM_STAT_CHECK_CONDITION, KEY_HARDWARE_ERROR,
					       0x44, 0x00, "INTERNAL TARGET FAILURE"},
	[SVM_SENSE_NOT_READY_MANUAL] = {SVM_SAM_STAT_CHECK_CONDITION, KEY_NOT_READY, 0x04, 0x03,
					"LOGICAL UNIT NOT READY, MANUAL INTERVENTION REQUIRED"},
	/* a store that lost its cluster (RBD): Linux and ESXi retry 04/01 after a delay */
	[SVM_SENSE_NOT_READY_BECOMING] = {SVM_SAM_STAT_CHECK_CONDITION, KEY_NOT_READY, 0x04, 0x01,
					  "LOGICAL UNIT IS IN PROCESS OF BECOMING READY"},
	[SVM_SENSE_BUSY] = {SVM_SAM_STAT_BUSY, KEY_NONE, 0, 0, "BUSY"},
	[SVM_SENSE_TASK_SET_FULL] = {SVM_SAM_STAT_TASK_SET_FULL, KEY_NONE, 0, 0, "TASK SET FULL"},
	/*
	 * EXTENDED COPY. ASC/ASCQ as SPC-4 Annex D lists them (the same
	 * numbers in LIO's sense table, SCST's scst_const.h and libiscsi's
	 * scsi-lowlevel.h). Errors in the parameter list as a whole are
	 * ILLEGAL REQUEST; errors met processing one segment are COPY ABORTED,
	 * with the segment's number (svm_sense_ptr.has_segment).
	 */
	[SVM_SENSE_TOO_MANY_TARGET_DESCS] = {SVM_SAM_STAT_CHECK_CONDITION, KEY_ILLEGAL_REQUEST,
					     0x26, 0x06, "TOO MANY TARGET DESCRIPTORS"},
	[SVM_SENSE_UNSUP_TARGET_DESC_TYPE] = {SVM_SAM_STAT_CHECK_CONDITION, KEY_ILLEGAL_REQUEST,
					      0x26, 0x07,
					      "UNSUPPORTED TARGET DESCRIPTOR TYPE CODE"},
	[SVM_SENSE_TOO_MANY_SEGMENT_DESCS] = {SVM_SAM_STAT_CHECK_CONDITION, KEY_ILLEGAL_REQUEST,
					      0x26, 0x08, "TOO MANY SEGMENT DESCRIPTORS"},
	[SVM_SENSE_UNSUP_SEGMENT_DESC_TYPE] = {SVM_SAM_STAT_CHECK_CONDITION, KEY_ILLEGAL_REQUEST,
					       0x26, 0x09,
					       "UNSUPPORTED SEGMENT DESCRIPTOR TYPE CODE"},
	[SVM_SENSE_INLINE_DATA_LENGTH_EXCEEDED] = {SVM_SAM_STAT_CHECK_CONDITION,
						   KEY_ILLEGAL_REQUEST, 0x26, 0x0B,
						   "INLINE DATA LENGTH EXCEEDED"},
	[SVM_SENSE_OPERATION_IN_PROGRESS] = {SVM_SAM_STAT_CHECK_CONDITION, KEY_ILLEGAL_REQUEST,
					     0x00, 0x16, "OPERATION IN PROGRESS"},
	[SVM_SENSE_COPY_ABORTED] = {SVM_SAM_STAT_CHECK_CONDITION, KEY_COPY_ABORTED, 0x00, 0x00,
				    "COPY ABORTED"},
	[SVM_SENSE_COPY_UNREACHABLE_TARGET] = {SVM_SAM_STAT_CHECK_CONDITION, KEY_COPY_ABORTED,
					       0x08, 0x04, "UNREACHABLE COPY TARGET"},
	[SVM_SENSE_COPY_THIRD_PARTY_FAILURE] = {SVM_SAM_STAT_CHECK_CONDITION, KEY_COPY_ABORTED,
						0x0D, 0x01, "THIRD PARTY DEVICE FAILURE"},
	[SVM_SENSE_COPY_TARGET_NOT_REACHABLE] = {SVM_SAM_STAT_CHECK_CONDITION, KEY_COPY_ABORTED,
						 0x0D, 0x02, "COPY TARGET DEVICE NOT REACHABLE"},
	[SVM_SENSE_COPY_INEXACT_SEGMENT] = {SVM_SAM_STAT_CHECK_CONDITION, KEY_COPY_ABORTED, 0x26,
					    0x0A, "UNEXPECTED INEXACT SEGMENT"},
	[SVM_SENSE_INVALID_SERVICE_ACTION] = {SVM_SAM_STAT_CHECK_CONDITION, KEY_ILLEGAL_REQUEST,
					      0x24, 0x00, "INVALID FIELD IN CDB (SERVICE ACTION)"},
	[SVM_SENSE_INVALID_REPORTING_OPTIONS] = {SVM_SAM_STAT_CHECK_CONDITION, KEY_ILLEGAL_REQUEST,
						 0x24, 0x00,
						 "INVALID FIELD IN CDB (REPORTING OPTIONS)"},
	[SVM_SENSE_SANITIZE_IN_PROGRESS] = {SVM_SAM_STAT_CHECK_CONDITION, KEY_NOT_READY, 0x04, 0x1B,
					    "LOGICAL UNIT NOT READY, SANITIZE IN PROGRESS"},
	[SVM_SENSE_SANITIZE_FAILED] = {SVM_SAM_STAT_CHECK_CONDITION, KEY_MEDIUM_ERROR, 0x31, 0x03,
				       "SANITIZE COMMAND FAILED"},
};

/*
 * The same table's SENSE KEY SPECIFIC column, for the few reasons that have
 * one of their own (designated: the others have none).
 */
static const struct {
	/* the field pointer, when the builder is given none */
	const struct svm_sense_ptr *ptr;
	/* info is a PROGRESS INDICATION (SPC-4 4.5.2.4.4), not the INFORMATION field */
	bool progress;
} sense_sks[SVM_SENSE__COUNT] = {
	/*
	 * A service action not served: the field pointer names the SERVICE
	 * ACTION field, which tells an initiator (libiscsi, for MAINTENANCE IN
	 * and SERVICE ACTION IN) "not supported" from "a field of a supported
	 * command is wrong".
	 */
	[SVM_SENSE_INVALID_SERVICE_ACTION] = {.ptr = &(const struct svm_sense_ptr){
						  .valid = true,
						  .in_cdb = true,
						  .bit_valid = true,
						  .bit = 4, /* SERVICE ACTION: byte 1 bits 4-0 */
						  .field = 1}},
	[SVM_SENSE_INVALID_REPORTING_OPTIONS] = {.ptr = &(const struct svm_sense_ptr){
						     .valid = true,
						     .in_cdb = true,
						     .bit_valid = true,
						     .bit = 2, /* REPORTING OPTIONS: byte 2, 2-0 */
						     .field = 2}},
	[SVM_SENSE_SANITIZE_IN_PROGRESS] = {.progress = true},
};

uint8_t svm_sense_build(uint8_t *buf, size_t buflen, enum svm_sense reason, bool has_info,
			uint64_t info)
{
	return svm_sense_build_fp(buf, buflen, reason, has_info, info, NULL);
}

/* SPC-4 4.5.2.4: the three SENSE KEY SPECIFIC bytes (fixed format bytes 15-17). */
static void sense_key_specific(uint8_t *b, uint8_t key, const struct svm_sense_ptr *p)
{
	if (key == KEY_ILLEGAL_REQUEST)
		b[0] = 0x80 | (p->in_cdb ? 0x40 : 0); /* SKSV, C/D */
	else if (key == KEY_COPY_ABORTED)
		b[0] = 0x80 | (p->in_segment ? 0x20 : 0); /* SKSV, SD */
	else
		return;
	if (p->bit_valid)
		b[0] |= 0x08 | (p->bit & 0x07); /* BPV, BIT POINTER */
	b[1] = p->field >> 8;
	b[2] = p->field;
}

uint8_t svm_sense_build_fp(uint8_t *buf, size_t buflen, enum svm_sense reason, bool has_info,
			   uint64_t info, const struct svm_sense_ptr *ptr)
{
	if ((unsigned)reason >= SVM_SENSE__COUNT)
		reason = SVM_SENSE_INTERNAL_TARGET_FAILURE;
	memset(buf, 0, buflen);
	if (sense_table[reason].status != SVM_SAM_STAT_CHECK_CONDITION ||
	    buflen < SVM_SENSE_FIXED_LEN)
		return sense_table[reason].status;
	if (!ptr)
		ptr = sense_sks[reason].ptr;

	/* SPC-4 4.5.3 fixed format: RESPONSE CODE 70h (current error) */
	buf[0] = 0x70;
	buf[2] = sense_table[reason].key;
	if (has_info && sense_sks[reason].progress) {
		/* SPC-4 4.5.2.4.4: SKSV, PROGRESS INDICATION (65536ths done) */
		buf[15] = 0x80;
		buf[16] = info >> 8;
		buf[17] = info;
	} else if (has_info) {
		/* INFORMATION is four bytes in fixed format; VALID only if it fits. */
		if (info <= UINT32_MAX) {
			buf[0] |= 0x80;
			buf[3] = info >> 24;
			buf[4] = info >> 16;
			buf[5] = info >> 8;
			buf[6] = info;
		}
	}
	buf[7] = SVM_SENSE_FIXED_LEN - 8; /* ADDITIONAL SENSE LENGTH */
	buf[12] = sense_table[reason].asc;
	buf[13] = sense_table[reason].ascq;
	if (ptr && ptr->has_segment && sense_table[reason].key == KEY_COPY_ABORTED) {
		/* EXTENDED COPY: COMMAND-SPECIFIC INFORMATION is the segment's number */
		buf[8] = ptr->segment >> 24;
		buf[9] = ptr->segment >> 16;
		buf[10] = ptr->segment >> 8;
		buf[11] = ptr->segment;
	}
	if (ptr && ptr->valid)
		sense_key_specific(buf + 15, sense_table[reason].key, ptr);
	return SVM_SAM_STAT_CHECK_CONDITION;
}

size_t svm_sense_data(uint8_t *buf, enum svm_sense reason, bool desc, bool has_info,
		      uint64_t info)
{
	uint8_t f[SVM_SENSE_FIXED_LEN];
	size_t len = 8;

	memset(buf, 0, SVM_SENSE_DESC_MAX);
	if (svm_sense_build(f, sizeof(f), reason, has_info, info) != SVM_SAM_STAT_CHECK_CONDITION)
		return 0;
	if (!desc) {
		memcpy(buf, f, sizeof(f));
		return sizeof(f);
	}
	/* SPC-4 4.5.2.1 descriptor format: RESPONSE CODE 72h, key, ASC, ASCQ */
	buf[0] = 0x72;
	buf[1] = f[2] & 0x0f;
	buf[2] = f[12];
	buf[3] = f[13];
	if (f[0] & 0x80) {
		/* 4.5.2.2 Information descriptor: VALID, the 8-byte INFORMATION */
		buf[len] = 0x00;
		buf[len + 1] = 0x0A;
		buf[len + 2] = 0x80;
		memcpy(buf + len + 8, f + 3, 4);
		len += 12;
	}
	if (f[15] & 0x80) {
		/* 4.5.2.4 Sense key specific descriptor: the three SENSE KEY SPECIFIC bytes */
		buf[len] = 0x02;
		buf[len + 1] = 0x06;
		memcpy(buf + len + 4, f + 15, 3);
		len += 8;
	}
	buf[7] = len - 8; /* ADDITIONAL SENSE LENGTH */
	return len;
}

const char *svm_sense_name(enum svm_sense reason)
{
	if ((unsigned)reason >= SVM_SENSE__COUNT)
		return "UNKNOWN";
	return sense_table[reason].name;
}

enum svm_sense svm_sense_from_errno(int err, bool is_write)
{
	switch (err) {
	case 0:
		return SVM_SENSE_OK;
	case ENOSPC:
	case EDQUOT:
		return SVM_SENSE_SPACE_ALLOC_FAILED;
	case EROFS:
		return SVM_SENSE_WRITE_PROTECTED;
	case ENOMEM:
	case EAGAIN:
		return SVM_SENSE_TASK_SET_FULL;
	case EIO:
	case ENODATA:
		return is_write ? SVM_SENSE_WRITE_ERROR : SVM_SENSE_READ_ERROR;
	case ETIMEDOUT:	   /* an OSD did not answer (rados_osd_op_timeout) */
	case ESHUTDOWN:	   /* the cluster blocklisted this client (EBLOCKLISTED) */
	case ENOTCONN:	   /* the store is reconnecting (store_rbd.h) */
	case ECONNRESET:
	case ECONNREFUSED:
	case EHOSTUNREACH:
	case ENETUNREACH:
		return SVM_SENSE_NOT_READY_BECOMING;
	default:
		return SVM_SENSE_INTERNAL_TARGET_FAILURE;
	}
}
