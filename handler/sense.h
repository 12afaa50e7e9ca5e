/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Command-path error domain. Every function on the SCSI command path returns
 * an enum svm_sense; exactly one function (svm_sense_build) turns a reason
 * into SAM status and sense bytes, from one const table. Setup paths use
 * -errno instead. No I/O, no tcmu dependency; never blocks.
 */
#ifndef SVM_SENSE_H
#define SVM_SENSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum svm_sense {
	SVM_SENSE_OK = 0,
	SVM_SENSE_INVALID_OPCODE,	   /* 5/20/00 INVALID COMMAND OPERATION CODE */
	SVM_SENSE_INVALID_FIELD_IN_CDB,	   /* 5/24/00 */
	SVM_SENSE_LBA_OUT_OF_RANGE,	   /* 5/21/00 */
	SVM_SENSE_PARAM_LIST_LENGTH,	   /* 5/1A/00 PARAMETER LIST LENGTH ERROR */
	SVM_SENSE_INVALID_FIELD_IN_PARAM,  /* 5/26/00 INVALID FIELD IN PARAMETER LIST */
	SVM_SENSE_SAVING_PARAMS_UNSUP,	   /* 5/39/00 SAVING PARAMETERS NOT SUPPORTED */
	SVM_SENSE_MISCOMPARE_VERIFY,	   /* E/1D/00 MISCOMPARE DURING VERIFY OPERATION */
	SVM_SENSE_READ_ERROR,		   /* 3/11/00 UNRECOVERED READ ERROR */
	SVM_SENSE_WRITE_ERROR,		   /* 3/0C/00 WRITE ERROR */
	SVM_SENSE_SPACE_ALLOC_FAILED,	   /* 7/27/07 SPACE ALLOCATION FAILED WRITE PROTECT */
	SVM_SENSE_WRITE_PROTECTED,	   /* 7/27/00 WRITE PROTECTED */
	SVM_SENSE_INTERNAL_TARGET_FAILURE, /* 4/44/00 */
	SVM_SENSE_NOT_READY_MANUAL,	   /* 2/04/03 LOGICAL UNIT NOT READY, MANUAL INTERVENTION REQUIRED */
	SVM_SENSE_BUSY,			   /* status BUSY, no sense data */
	SVM_SENSE_TASK_SET_FULL,	   /* status TASK SET FULL, no sense data */
	SVM_SENSE__COUNT
};

/* SAM-5 status codes used by this project. */
#define SVM_SAM_STAT_GOOD	     0x00
#define SVM_SAM_STAT_CHECK_CONDITION 0x02
#define SVM_SAM_STAT_BUSY	     0x08
#define SVM_SAM_STAT_TASK_SET_FULL   0x28

/* Fixed-format sense data length written by svm_sense_build (SPC-4 4.5.3). */
#define SVM_SENSE_FIXED_LEN 18

/*
 * Fill buf (buflen bytes, zeroed first) with fixed-format sense data for
 * reason. When has_info, the INFORMATION field carries info and VALID is set.
 * Returns the SAM status for the reason (GOOD for SVM_SENSE_OK, in which case
 * buf is only zeroed).
 */
uint8_t svm_sense_build(uint8_t *buf, size_t buflen, enum svm_sense reason, bool has_info,
			uint64_t info);

/* Short human name of a reason, for logs ("LBA OUT OF RANGE"). */
const char *svm_sense_name(enum svm_sense reason);

/* Map an errno from a store call to the command-path reason (write or read). */
enum svm_sense svm_sense_from_errno(int err, bool is_write);

#endif
