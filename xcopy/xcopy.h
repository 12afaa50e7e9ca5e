/* SPDX-License-Identifier: Apache-2.0 */
/*
 * EXTENDED COPY (LID1, SPC-4 6.4) and RECEIVE COPY RESULTS (SPC-4 6.18),
 * everything but the I/O: parse the CDBs and the parameter list into a copy
 * plan, check the plan against the logical units its descriptors name,
 * keep each LUN's list identifiers and copy results, and build the RECEIVE
 * COPY RESULTS replies and the Third-party Copy VPD page (0x8F). The caller
 * resolves designators to LUNs and moves the data (xcopy/mover.h). No tcmu
 * dependency; nothing here does I/O or blocks, except on the state's own
 * mutex.
 *
 * Supported: identification CSCD descriptors (E4h) with an NAA designator,
 * block device to block device segment descriptors (02h), the CSCD
 * descriptor ID FFFFh (the LUN that received the command), LIST ID USAGE
 * 00b, 10b and 11b, no inline and no held data. The limits are in
 * handler/limits.h (SVM_XCOPY_*), reported by OPERATING PARAMETERS and the
 * VPD page from the same numbers.
 *
 * Errors: every function that can refuse returns an enum svm_sense and
 * fills a struct svm_sense_ptr (handler/sense.h) saying where; the caller
 * passes both to svm_sense_build_fp. A fault in the list as a whole is
 * ILLEGAL REQUEST with a field pointer into the parameter list; a fault met
 * while processing one segment is COPY ABORTED with that segment's number
 * and a field pointer into its descriptor.
 *
 * List identifiers: SPC-4 scopes them to the I_T nexus, but TCMU does not
 * tell the handler which initiator sent a command. They are kept per LUN
 * instead (struct svm_xcopy_state): two initiators that use the same list
 * identifier on one LUN at the same time see OPERATION IN PROGRESS, and
 * RECEIVE COPY RESULTS returns the results of a copy whoever started it.
 * docs/xcopy.md.
 *
 * The order of calls for one EXTENDED COPY:
 *   svm_xcopy_parse_cdb, then svm_xcopy_parse on the data-out (refusals
 *   here are not recorded); an empty plan (PARAMETER LIST LENGTH 0) is
 *   GOOD with nothing to do. Then svm_xcopy_begin (may refuse), the
 *   caller resolves each target descriptor, svm_xcopy_check, the copy
 *   itself with svm_xcopy_progress after each segment, and svm_xcopy_end
 *   with the result whatever happened after svm_xcopy_begin succeeded.
 */
#ifndef SVM_XCOPY_H
#define SVM_XCOPY_H

#include "../handler/cdb.h"
#include "../handler/limits.h"
#include "../handler/sense.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SVM_XCOPY_OP_EXTENDED_COPY	  0x83
#define SVM_XCOPY_OP_RECEIVE_COPY_RESULTS 0x84
/* EXTENDED COPY service actions: only LID1; EXTENDED COPY(LID4) is 01h */
#define SVM_XCOPY_SA_LID1 0x00
/* RECEIVE COPY RESULTS service actions served */
#define SVM_XCOPY_RCR_COPY_STATUS    0x00
#define SVM_XCOPY_RCR_OP_PARAMS	     0x03
#define SVM_XCOPY_RCR_FAILED_SEGMENT 0x04

/* Descriptor type codes served */
#define SVM_XCOPY_CSCD_ID 0xE4 /* identification descriptor CSCD descriptor */
#define SVM_XCOPY_SEG_B2B 0x02 /* block device to block device segment descriptor */
/* CSCD descriptor ID (a segment's CSCD index) for the LUN that received the command */
#define SVM_XCOPY_CSCD_SELF 0xFFFF

/* LIST ID USAGE, parameter list byte 1 bits 4-3 (01b is reserved) */
enum svm_xcopy_list_id_usage {
	SVM_XCOPY_LIST_ID_HOLD = 0,    /* 00b: results kept for RECEIVE COPY RESULTS */
	SVM_XCOPY_LIST_ID_DISCARD = 2, /* 10b: the same, but no held data (none is, anyway) */
	SVM_XCOPY_LIST_ID_NONE = 3,    /* 11b: no list identifier; results not kept */
};

/* ---- CDBs ---------------------------------------------------------------- */

struct svm_xcopy_cdb {
	uint8_t opcode;		/* SVM_XCOPY_OP_* */
	uint8_t service_action; /* SVM_XCOPY_SA_LID1 or SVM_XCOPY_RCR_* */
	uint8_t list_id;	/* RECEIVE COPY RESULTS: LIST IDENTIFIER */
	/* EXTENDED COPY: PARAMETER LIST LENGTH; RECEIVE COPY RESULTS: ALLOCATION LENGTH */
	uint32_t len;
};

/*
 * Parse an EXTENDED COPY or RECEIVE COPY RESULTS CDB (16 bytes). Refuses
 * service actions not served (EXTENDED COPY(LID4) among them) with INVALID
 * FIELD IN CDB, and a PARAMETER LIST LENGTH over SVM_XCOPY_MAX_PARAM_LEN
 * with PARAMETER LIST LENGTH ERROR. Pure.
 */
enum svm_sense svm_xcopy_parse_cdb(const uint8_t *cdb, struct svm_xcopy_cdb *out,
				   struct svm_sense_ptr *ptr);
/*
 * The same checks in the shape of the dispatch table's parsers (cdb.h):
 * fills opcode, service_action and alloc_len (PARAMETER LIST LENGTH or
 * ALLOCATION LENGTH). The executor parses again for the list identifier.
 */
enum svm_sense svm_xcopy_cdb_parse(const uint8_t *cdb, struct svm_cdb *out);

/* ---- the parameter list -------------------------------------------------- */

/* An identification CSCD descriptor (E4h) for a block device. */
struct svm_xcopy_target {
	bool null;	    /* NUL: a null device; a segment that uses it is aborted */
	uint8_t naa_len;    /* 8 or 16 (none when null) */
	uint8_t naa[16];    /* the NAA designator, as the LUN's VPD page 0x83 reports it */
	uint32_t block_len; /* DISK BLOCK LENGTH; 0: whatever the LUN's is */
	uint16_t offset;    /* of the descriptor in the parameter list */
};

/* A block device to block device segment descriptor (02h). */
struct svm_xcopy_segment {
	uint16_t src, dst; /* CSCD descriptor indexes, or SVM_XCOPY_CSCD_SELF */
	bool dc;	   /* NUMBER OF BLOCKS counts destination blocks, not source blocks */
	bool cat;
	uint16_t nblocks; /* BLOCK DEVICE NUMBER OF BLOCKS; 0 copies nothing */
	uint64_t src_lba, dst_lba;
	uint16_t offset; /* of the descriptor in the parameter list */
	uint64_t bytes;	 /* set by svm_xcopy_check: what the segment moves */
};

struct svm_xcopy_plan {
	uint8_t list_id;
	enum svm_xcopy_list_id_usage usage;
	uint8_t priority;
	unsigned ntargets, nsegments;
	struct svm_xcopy_target targets[SVM_XCOPY_MAX_TARGET_DESCS];
	struct svm_xcopy_segment segments[SVM_XCOPY_MAX_SEGMENT_DESCS];
	uint64_t total_bytes; /* set by svm_xcopy_check */
};

/*
 * Parse the parameter list of an EXTENDED COPY(LID1): len bytes (the
 * PARAMETER LIST LENGTH, at most SVM_XCOPY_MAX_PARAM_LEN) at buf. Checks
 * the header, the lengths against the limits and each descriptor's fields;
 * does not look at the LUNs (svm_xcopy_check does). len 0 gives an empty
 * plan (usage SVM_XCOPY_LIST_ID_NONE, nothing to copy): not an error. Bytes
 * past the descriptor lists are ignored. Pure.
 */
enum svm_sense svm_xcopy_parse(const uint8_t *buf, size_t len, struct svm_xcopy_plan *plan,
			       struct svm_sense_ptr *ptr);

/* A logical unit a CSCD descriptor names, as the caller found it. */
struct svm_xcopy_lu {
	bool reachable;	    /* the designator names a LUN this copy may use */
	uint32_t block_len; /* its logical block length, bytes */
	uint64_t num_lbas;  /* its capacity, blocks */
};

/*
 * Check a parsed plan against the LUNs: lus[i] is what plan->targets[i]
 * names (ignored for null ones), self the LUN that received the command.
 * Refuses a DISK BLOCK LENGTH that is not the LUN's (ILLEGAL REQUEST), and
 * per segment, in order (COPY ABORTED): a CSCD index past the list
 * (UNREACHABLE COPY TARGET), a null or unreachable LUN (COPY TARGET DEVICE
 * NOT REACHABLE), a length that is not whole blocks on both sides
 * (UNEXPECTED INEXACT SEGMENT, whatever CAT and PAD say), a segment over
 * SVM_XCOPY_MAX_SEGMENT_BYTES, blocks past a LUN's capacity, a total over
 * SVM_XCOPY_MAX_BYTES. Sets each segment's bytes and plan->total_bytes.
 * Pure.
 */
enum svm_sense svm_xcopy_check(struct svm_xcopy_plan *plan, const struct svm_xcopy_lu *lus,
			       const struct svm_xcopy_lu *self, struct svm_sense_ptr *ptr);

/* ---- list identifiers and copy results, per LUN ------------------------- */

struct svm_xcopy_state;

/* A new state, no copies. NULL when out of memory. */
struct svm_xcopy_state *svm_xcopy_state_create(void);
/* Free it; no copy may be running. */
void svm_xcopy_state_destroy(struct svm_xcopy_state *st);
/*
 * Tests: the clock that ages kept results (milliseconds, any origin); NULL
 * restores CLOCK_MONOTONIC. Call before any copy.
 */
void svm_xcopy_state_set_clock(struct svm_xcopy_state *st, uint64_t (*now_ms)(void *arg),
			       void *arg);

/*
 * A copy by plan starts. Refuses (nothing recorded) with OPERATION IN
 * PROGRESS when plan's list identifier (usage 00b or 10b) belongs to a copy
 * still running, and with TASK SET FULL when SVM_XCOPY_MAX_CONCURRENT
 * copies run. Otherwise the results of an earlier copy with that list
 * identifier are dropped, and for 00b and 10b a new record says "in
 * progress". Every svm_xcopy_begin that succeeds needs one svm_xcopy_end.
 * Thread-safe; never blocks but on the state's mutex.
 */
enum svm_sense svm_xcopy_begin(struct svm_xcopy_state *st, const struct svm_xcopy_plan *plan,
			       struct svm_sense_ptr *ptr);
/* segments of plan done so far, bytes written so far (for COPY STATUS). Thread-safe. */
void svm_xcopy_progress(struct svm_xcopy_state *st, const struct svm_xcopy_plan *plan,
			unsigned segments, uint64_t bytes);
/*
 * The copy by plan ended with result (SVM_SENSE_OK or the reason it failed,
 * with has_info/info and ptr, may be NULL, as the command's sense data
 * says). For 00b and 10b its results are kept for RECEIVE COPY RESULTS,
 * until returned whole or SVM_XCOPY_RESULT_KEEP_MS later. Thread-safe.
 */
void svm_xcopy_end(struct svm_xcopy_state *st, const struct svm_xcopy_plan *plan,
		   enum svm_sense result, bool has_info, uint64_t info,
		   const struct svm_sense_ptr *ptr);

/* ---- replies ------------------------------------------------------------- */

/* The longest reply svm_xcopy_rcr builds */
#define SVM_XCOPY_RCR_MAX_LEN 128

/*
 * RECEIVE COPY RESULTS for the parsed CDB c, on a LUN of logical block
 * length block_len: fills buf (SVM_XCOPY_RCR_MAX_LEN bytes, zeroed first)
 * and *len with the whole reply; the caller returns at most ALLOCATION
 * LENGTH (c->len) of it. COPY STATUS and FAILED SEGMENT DETAILS of a list
 * identifier without results are INVALID FIELD IN CDB (as is FAILED
 * SEGMENT DETAILS of a copy still running). Results returned whole (c->len
 * covers them) are dropped. Thread-safe.
 */
enum svm_sense svm_xcopy_rcr(struct svm_xcopy_state *st, const struct svm_xcopy_cdb *c,
			     uint32_t block_len, uint8_t *buf, size_t *len,
			     struct svm_sense_ptr *ptr);

/*
 * The Third-party Copy VPD page (0x8F) of a LUN of logical block length
 * block_len: the descriptors from byte 4 of b (room for SVM_EMUL_BUF_LEN
 * bytes, zeroed); returns the page's length with its 4-byte header, which
 * the caller fills. Pure.
 */
size_t svm_xcopy_vpd_page(uint8_t *b, uint32_t block_len);

#endif
