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
	SVM_SENSE_NOT_READY_BECOMING,	   /* 2/04/01 LOGICAL UNIT IS IN PROCESS OF BECOMING READY */
	SVM_SENSE_BUSY,			   /* status BUSY, no sense data */
	SVM_SENSE_TASK_SET_FULL,	   /* status TASK SET FULL, no sense data */
	/* EXTENDED COPY (SPC-4 6.4) and RECEIVE COPY RESULTS (SPC-4 6.18) */
	SVM_SENSE_TOO_MANY_TARGET_DESCS,      /* 5/26/06 TOO MANY TARGET DESCRIPTORS */
	SVM_SENSE_UNSUP_TARGET_DESC_TYPE,     /* 5/26/07 UNSUPPORTED TARGET DESCRIPTOR TYPE CODE */
	SVM_SENSE_TOO_MANY_SEGMENT_DESCS,     /* 5/26/08 TOO MANY SEGMENT DESCRIPTORS */
	SVM_SENSE_UNSUP_SEGMENT_DESC_TYPE,    /* 5/26/09 UNSUPPORTED SEGMENT DESCRIPTOR TYPE CODE */
	SVM_SENSE_INLINE_DATA_LENGTH_EXCEEDED, /* 5/26/0B INLINE DATA LENGTH EXCEEDED */
	SVM_SENSE_OPERATION_IN_PROGRESS,      /* 5/00/16 OPERATION IN PROGRESS */
	SVM_SENSE_COPY_ABORTED,		      /* A/00/00 COPY ABORTED, no additional sense */
	SVM_SENSE_COPY_UNREACHABLE_TARGET,    /* A/08/04 UNREACHABLE COPY TARGET */
	SVM_SENSE_COPY_THIRD_PARTY_FAILURE,   /* A/0D/01 THIRD PARTY DEVICE FAILURE */
	SVM_SENSE_COPY_TARGET_NOT_REACHABLE,  /* A/0D/02 COPY TARGET DEVICE NOT REACHABLE */
	SVM_SENSE_COPY_INEXACT_SEGMENT,	      /* A/26/0A UNEXPECTED INEXACT SEGMENT */
	/* 5/24/00 INVALID FIELD IN CDB, pointing at SERVICE ACTION (CDB byte 1 bits 4-0) */
	SVM_SENSE_INVALID_SERVICE_ACTION,
	/* 5/24/00 INVALID FIELD IN CDB, pointing at REPORTING OPTIONS (byte 2 bits 2-0) */
	SVM_SENSE_INVALID_REPORTING_OPTIONS,
	/* 2/04/1B LOGICAL UNIT NOT READY, SANITIZE IN PROGRESS; info: PROGRESS INDICATION */
	SVM_SENSE_SANITIZE_IN_PROGRESS,
	SVM_SENSE_SANITIZE_FAILED, /* 3/31/03 SANITIZE COMMAND FAILED */
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

/*
 * Where a command went wrong, for the fixed-format sense data's
 * COMMAND-SPECIFIC INFORMATION and SENSE KEY SPECIFIC fields (SPC-4 4.5.2.4,
 * 4.5.3). The sense key of the reason picks the SENSE KEY SPECIFIC format:
 * ILLEGAL REQUEST takes the field pointer form (4.5.2.4.2: C/D tells CDB
 * from parameter list), COPY ABORTED the segment pointer form (4.5.2.4.5: SD
 * tells a field pointer relative to the segment descriptor from one relative
 * to the parameter list); other keys ignore it.
 */
struct svm_sense_ptr {
	bool valid;	  /* SKSV: field (and bit) below point at the offending field */
	bool in_cdb;	  /* C/D (ILLEGAL REQUEST): the field is in the CDB */
	bool in_segment;  /* SD (COPY ABORTED): field counts from the segment descriptor */
	bool bit_valid;	  /* BPV: bit is meaningful */
	uint8_t bit;	  /* BIT POINTER: the leftmost bit of the field, 7..0 */
	uint16_t field;	  /* FIELD POINTER: byte offset of the field */
	bool has_segment; /* COMMAND-SPECIFIC INFORMATION carries segment (COPY ABORTED) */
	uint32_t segment; /* the number of the segment descriptor being processed, from 0 */
};

/*
 * As svm_sense_build, and with ptr (may be NULL: none) filled into the
 * COMMAND-SPECIFIC INFORMATION and SENSE KEY SPECIFIC fields as described
 * above. Returns the SAM status for the reason.
 */
uint8_t svm_sense_build_fp(uint8_t *buf, size_t buflen, enum svm_sense reason, bool has_info,
			   uint64_t info, const struct svm_sense_ptr *ptr);

/*
 * Sense data for REQUEST SENSE (SPC-4 6.29): reason's, as svm_sense_build
 * makes it, in fixed format or (desc) descriptor format (SPC-4 4.5.2: the
 * INFORMATION and SENSE KEY SPECIFIC fields become descriptors 00h and
 * 02h). Fills buf (at least SVM_SENSE_DESC_MAX bytes) and returns the
 * length of the sense data; 0 for a reason without sense data (GOOD, BUSY).
 */
#define SVM_SENSE_DESC_MAX 32
size_t svm_sense_data(uint8_t *buf, enum svm_sense reason, bool desc, bool has_info,
		      uint64_t info);

/* Short human name of a reason, for logs ("LBA OUT OF RANGE"). */
const char *svm_sense_name(enum svm_sense reason);

/* Map an errno from a store call to the command-path reason (write or read). */
enum svm_sense svm_sense_from_errno(int err, bool is_write);

#endif
