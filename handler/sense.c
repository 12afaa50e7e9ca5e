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
	[SVM_SENSE_BUSY] = {SVM_SAM_STAT_BUSY, KEY_NONE, 0, 0, "BUSY"},
	[SVM_SENSE_TASK_SET_FULL] = {SVM_SAM_STAT_TASK_SET_FULL, KEY_NONE, 0, 0, "TASK SET FULL"},
};

uint8_t svm_sense_build(uint8_t *buf, size_t buflen, enum svm_sense reason, bool has_info,
			uint64_t info)
{
	if ((unsigned)reason >= SVM_SENSE__COUNT)
		reason = SVM_SENSE_INTERNAL_TARGET_FAILURE;
	memset(buf, 0, buflen);
	if (sense_table[reason].status != SVM_SAM_STAT_CHECK_CONDITION ||
	    buflen < SVM_SENSE_FIXED_LEN)
		return sense_table[reason].status;

	/* SPC-4 4.5.3 fixed format: RESPONSE CODE 70h (current error) */
	buf[0] = 0x70;
	buf[2] = sense_table[reason].key;
	if (has_info) {
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
	return SVM_SAM_STAT_CHECK_CONDITION;
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
	default:
		return SVM_SENSE_INTERNAL_TARGET_FAILURE;
	}
}
