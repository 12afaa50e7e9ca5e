/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dispatcher: a const table maps each opcode to its parser (cdb.h, no
 * I/O), its executor (spc.c: primary commands; sbc.c: block commands, as
 * LIO splits them) and where it may run; unknown opcodes take one path.
 */
#include "scsi.h"
#include "scsi_int.h"
#include "cdb.h"
#include "iov.h"
#include "limits.h"
#include "log.h"
#include "../xcopy/xcopy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers shared by spc.c and sbc.c ---------------------------------- */

/* SBC-4 4.5: the blocks [lba, lba + n) must lie within the capacity. */
enum svm_sense svm_scsi_check_range(const struct svm_lun_geom *g, uint64_t lba, uint64_t n)
{
	if (lba > g->num_lbas || n > g->num_lbas - lba)
		return SVM_SENSE_LBA_OUT_OF_RANGE;
	return SVM_SENSE_OK;
}

/*
 * The range of a data command. A READ or WRITE longer than the Block Limits
 * MAXIMUM TRANSFER LENGTH is not refused: the data is already in the TCMU
 * data area, and LIO's own backstores accept it too. VERIFY is (svm_sbc_verify).
 */
enum svm_sense svm_scsi_check_xfer(const struct svm_lun_geom *g, const struct svm_cdb *c)
{
	return svm_scsi_check_range(g, c->lba, c->nblocks);
}

enum svm_sense svm_scsi_io_error(int err, bool write, const struct svm_lun *lun, uint64_t off)
{
	svm_log(SVM_LOG_ERR, "%s of store %s at byte %llu failed: %s", write ? "write" : "read",
		svm_lun_source(lun), (unsigned long long)off, strerror(-err));
	return svm_sense_from_errno(-err, write);
}

/*
 * Copy an emulated reply into the data-in buffer, clipped to ALLOCATION
 * LENGTH; svm_scsi_execute zeroes the rest of the buffer.
 */
enum svm_sense svm_scsi_reply(struct svm_scsi_req *req, const uint8_t *buf, size_t len,
			      uint32_t alloc_len)
{
	size_t n = len < alloc_len ? len : alloc_len;

	req->filled = svm_iov_from_buf(req->iov, req->iov_cnt, buf, n);
	return SVM_SENSE_OK;
}

/*
 * The size of a bounce buffer for a command over total bytes (whole blocks):
 * at most limit bytes, but whole blocks and never less than one, so that a
 * block never straddles two chunks whatever the block size.
 */
size_t svm_scsi_chunk_len(uint32_t block_size, size_t limit, uint64_t total)
{
	size_t n = limit - limit % block_size;

	if (n < block_size)
		n = block_size;
	return total < n ? (size_t)total : n;
}

/* ---- dispatch --------------------------------------------------------- */

/* Where a command may run (svm_scsi_route). */
enum run_on {
	RUN_BLOCKING = 0, /* store I/O: a worker thread */
	RUN_INLINE,	  /* emulated, no I/O: the caller's thread */
	RUN_RW,		  /* READ / WRITE / SYNCHRONIZE CACHE: also the runner's generic path */
};

/*
 * One command. An opcode with service actions (CDB byte 1 bits 4-0 for
 * every one served: SERVICE ACTION IN(16), MAINTENANCE IN, SANITIZE, and
 * EXTENDED COPY / RECEIVE COPY RESULTS) has no parser or executor of its
 * own but a table of 32 commands indexed by service action (sa), each an
 * entry like any other: a service action is a command. The flags default
 * to false and run to RUN_BLOCKING.
 */
struct scsi_op {
	const char *name;
	svm_cdb_parse_fn parse;
	svm_exec_fn exec;
	enum run_on run;
	bool anonymous; /* served before the LUN has a unit serial (see svm_spc_inquiry) */
	/*
	 * The buffer is data-out, the initiator's own: never zeroed. Every other
	 * command's buffer goes back to the initiator whole (svm_scsi_execute).
	 */
	bool data_out;
	bool in_sanitize; /* served while a sanitize operation runs (SBC-4 4.11.2) */
	bool needs_lbpu;  /* served only where the store deallocates (UNMAP, BLOCK ERASE) */
	/*
	 * Changes the medium: refused whole, DATA PROTECT, WRITE PROTECTED,
	 * while the LUN's SWP is set (SPC-4 7.5.8, svm_lun_swp). EXTENDED COPY
	 * is not: its destination need not be this LUN (tpc.c checks it).
	 */
	bool writes;
	/*
	 * CDB USAGE DATA (SPC-4 6.35.3) past the opcode byte, one bit per CDB
	 * bit: 1 where the parser gives the bit a meaning. Fields it only
	 * requires to be zero (reserved ones, and those of features not
	 * supported: protection information, ANCHOR, ...) and fields it ignores
	 * (GROUP NUMBER, CONTROL, obsolete bits) are 0, as the device server
	 * treats them as reserved. REPORT SUPPORTED OPERATION CODES adds the
	 * opcode and the service action. Kept true to the parsers by the unit
	 * tests (tests/unit/scsi_test.c, usage_matches_parsers).
	 */
	uint8_t usage[16];
	const struct scsi_op *sa; /* the service actions of this opcode, 32 entries */
};

/* One entry of scsi_ops. */
#define OP(nm, prs, ex, ...)                                                                       \
	{                                                                                          \
		.name = nm, .parse = prs, .exec = ex, __VA_ARGS__                                  \
	}
/* An opcode with service actions: OP entries designated by service action. */
#define SA_OPS(nm, ...)                                                                            \
	{                                                                                          \
		.name = nm, .sa = (const struct scsi_op[32])                                       \
		{                                                                                  \
			__VA_ARGS__                                                                \
		}                                                                                  \
	}
/*
 * CDB USAGE DATA bytes 1 to the CONTROL byte, one macro per CDB size (SPC-4
 * 4.2.5.1: the group code of the opcode gives the size; cdb_len below), so
 * that a row with too few or too many bytes does not compile (the first
 * macro expands LBA4 and the like, the second counts).
 */
#define U6(...)				 U6_(__VA_ARGS__)
#define U6_(b1, b2, b3, b4, b5)		 .usage = {0, b1, b2, b3, b4, b5}
#define U10(...)			 U10_(__VA_ARGS__)
#define U10_(b1, b2, b3, b4, b5, b6, b7, b8, b9) .usage = {0, b1, b2, b3, b4, b5, b6, b7, b8, b9}
#define U12(...) U12_(__VA_ARGS__)
#define U12_(b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11)                                         \
	.usage = {0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11}
#define U16(...) U16_(__VA_ARGS__)
#define U16_(b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14, b15)                     \
	.usage = {0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14, b15}
/* Recurring field masks: an LBA of 4 or 8 bytes, a length of 2 or 4 */
#define LBA4 0xff, 0xff, 0xff, 0xff
#define LBA8 LBA4, LBA4
#define LEN2 0xff, 0xff
#define LEN4 LBA4
/* Byte 1 of the READ/WRITE family: DPO, FUA; of VERIFY / WRITE AND VERIFY: DPO, BYTCHK */
#define DPO_FUA	   0x18
#define DPO_BYTCHK 0x16

static const struct scsi_op scsi_ops[256] = {
    [SVM_OP_TEST_UNIT_READY] = OP("TEST UNIT READY", svm_cdb_parse_none, svm_spc_tur,
				  .run = RUN_INLINE, U6(0, 0, 0, 0, 0)),
    [SVM_OP_REQUEST_SENSE] = OP("REQUEST SENSE", svm_cdb_parse_request_sense, svm_spc_request_sense,
				.run = RUN_INLINE, .anonymous = true, .in_sanitize = true,
				U6(0x01, 0, 0, 0xff, 0)),
    [SVM_OP_READ6] = OP("READ(6)", svm_cdb_parse_rw6, svm_sbc_read, U6(0x1f, 0xff, 0xff, 0xff, 0)),
    [SVM_OP_WRITE6] = OP("WRITE(6)", svm_cdb_parse_rw6, svm_sbc_write, .data_out = true,
			 .writes = true, U6(0x1f, 0xff, 0xff, 0xff, 0)),
    [SVM_OP_INQUIRY] = OP("INQUIRY", svm_cdb_parse_inquiry, svm_spc_inquiry, .run = RUN_INLINE,
			  .anonymous = true, .in_sanitize = true, U6(0x01, 0xff, LEN2, 0)),
    [SVM_OP_MODE_SELECT6] = OP("MODE SELECT(6)", svm_cdb_parse_mode_select, svm_spc_mode_select,
			       .run = RUN_INLINE, .data_out = true, U6(0x10, 0, 0, 0xff, 0)),
    [SVM_OP_MODE_SENSE6] = OP("MODE SENSE(6)", svm_cdb_parse_mode_sense, svm_spc_mode_sense,
			      .run = RUN_INLINE, U6(0x08, 0xff, 0xff, 0xff, 0)),
    [SVM_OP_START_STOP_UNIT] = OP("START STOP UNIT", svm_cdb_parse_start_stop, svm_sbc_start_stop,
				  U6(0x01, 0, 0, 0x05, 0)),
    [SVM_OP_READ_CAPACITY10] = OP("READ CAPACITY(10)", svm_cdb_parse_read_capacity10,
				  svm_sbc_read_capacity10, .run = RUN_INLINE,
				  U10(0, LBA4, 0, 0, 0x01, 0)),
    [SVM_OP_READ10] = OP("READ(10)", svm_cdb_parse_rw10, svm_sbc_read, .run = RUN_RW,
			 U10(DPO_FUA, LBA4, 0, LEN2, 0)),
    [SVM_OP_WRITE10] = OP("WRITE(10)", svm_cdb_parse_rw10, svm_sbc_write, .run = RUN_RW,
			  .data_out = true, .writes = true, U10(DPO_FUA, LBA4, 0, LEN2, 0)),
    [SVM_OP_WRITE_VERIFY10] = OP("WRITE AND VERIFY(10)", svm_cdb_parse_write_verify,
				 svm_sbc_write, .data_out = true, .writes = true,
				 U10(DPO_BYTCHK, LBA4, 0, LEN2, 0)),
    [SVM_OP_VERIFY10] = OP("VERIFY(10)", svm_cdb_parse_verify, svm_sbc_verify, .data_out = true,
			   U10(DPO_BYTCHK, LBA4, 0, LEN2, 0)),
    [SVM_OP_PREFETCH10] = OP("PRE-FETCH(10)", svm_cdb_parse_prefetch, svm_sbc_prefetch,
			     U10(0x02, LBA4, 0, LEN2, 0)),
    [SVM_OP_SYNC_CACHE10] = OP("SYNCHRONIZE CACHE(10)", svm_cdb_parse_sync_cache,
			       svm_sbc_sync_cache, .run = RUN_RW, U10(0x02, LBA4, 0, LEN2, 0)),
    [SVM_OP_READ_DEFECT_DATA10] = OP("READ DEFECT DATA(10)", svm_cdb_parse_read_defect_data,
				     svm_sbc_read_defect_data, .run = RUN_INLINE,
				     U10(0, 0x1f, 0, 0, 0, 0, LEN2, 0)),
    [SVM_OP_WRITE_SAME10] = OP("WRITE SAME(10)", svm_cdb_parse_write_same, svm_sbc_write_same,
			       .data_out = true, .writes = true, U10(0x08, LBA4, 0, LEN2, 0)),
    [SVM_OP_UNMAP] = OP("UNMAP", svm_cdb_parse_unmap, svm_sbc_unmap, .data_out = true,
			.needs_lbpu = true, .writes = true, U10(0, 0, 0, 0, 0, 0, LEN2, 0)),
    [SVM_OP_SANITIZE] = SA_OPS(
	"SANITIZE",
	[SVM_SANITIZE_OVERWRITE] = OP("SANITIZE OVERWRITE", svm_cdb_parse_sanitize,
				      svm_sbc_sanitize, .data_out = true, .writes = true,
				      U10(0xa0, 0, 0, 0, 0, 0, LEN2, 0)),
	[SVM_SANITIZE_BLOCK_ERASE] = OP("SANITIZE BLOCK ERASE", svm_cdb_parse_sanitize,
					svm_sbc_sanitize, .data_out = true, .needs_lbpu = true,
					.writes = true, U10(0xa0, 0, 0, 0, 0, 0, 0, 0, 0)),
	/* CRYPTOGRAPHIC ERASE (03h): no encryption, nothing to erase by: not served */
	/* EXIT FAILURE MODE writes nothing: served with SWP set */
	[SVM_SANITIZE_EXIT_FAILURE] = OP("SANITIZE EXIT FAILURE MODE", svm_cdb_parse_sanitize,
					 svm_sbc_sanitize, .data_out = true,
					 U10(0, 0, 0, 0, 0, 0, 0, 0, 0))),
    [SVM_OP_MODE_SELECT10] = OP("MODE SELECT(10)", svm_cdb_parse_mode_select, svm_spc_mode_select,
				.run = RUN_INLINE, .data_out = true,
				U10(0x10, 0, 0, 0, 0, 0, LEN2, 0)),
    [SVM_OP_MODE_SENSE10] = OP("MODE SENSE(10)", svm_cdb_parse_mode_sense, svm_spc_mode_sense,
			       .run = RUN_INLINE, U10(0x18, 0xff, 0xff, 0, 0, 0, LEN2, 0)),
    /* SPC-4 6.4, 6.18: executed in tpc.c, parsed by xcopy/ */
    [SVM_XCOPY_OP_EXTENDED_COPY] = SA_OPS(
	"EXTENDED COPY",
	[SVM_XCOPY_SA_LID1] = OP("EXTENDED COPY(LID1)", svm_xcopy_cdb_parse, svm_tpc_extended_copy,
				 .data_out = true, U16(0, 0, 0, 0, 0, 0, 0, 0, 0, LEN4, 0, 0))),
    [SVM_XCOPY_OP_RECEIVE_COPY_RESULTS] = SA_OPS(
	"RECEIVE COPY RESULTS",
	[SVM_XCOPY_RCR_COPY_STATUS] = OP("RECEIVE COPY RESULTS COPY STATUS", svm_xcopy_cdb_parse,
					 svm_tpc_receive_copy_results, .run = RUN_INLINE,
					 U16(0, 0xff, 0, 0, 0, 0, 0, 0, 0, LEN4, 0, 0)),
	[SVM_XCOPY_RCR_OP_PARAMS] = OP("RECEIVE COPY RESULTS OPERATING PARAMETERS",
				       svm_xcopy_cdb_parse, svm_tpc_receive_copy_results,
				       .run = RUN_INLINE,
				       U16(0, 0, 0, 0, 0, 0, 0, 0, 0, LEN4, 0, 0)),
	[SVM_XCOPY_RCR_FAILED_SEGMENT] = OP("RECEIVE COPY RESULTS FAILED SEGMENT DETAILS",
					    svm_xcopy_cdb_parse, svm_tpc_receive_copy_results,
					    .run = RUN_INLINE,
					    U16(0, 0xff, 0, 0, 0, 0, 0, 0, 0, LEN4, 0, 0))),
    [SVM_OP_READ16] = OP("READ(16)", svm_cdb_parse_rw16, svm_sbc_read, .run = RUN_RW,
			 U16(DPO_FUA, LBA8, LEN4, 0, 0)),
    [SVM_OP_COMPARE_AND_WRITE] = OP("COMPARE AND WRITE", svm_cdb_parse_compare_and_write,
				    svm_sbc_compare_and_write, .data_out = true, .writes = true,
				    U16(DPO_FUA, LBA8, 0, 0, 0, 0xff, 0, 0)),
    [SVM_OP_WRITE16] = OP("WRITE(16)", svm_cdb_parse_rw16, svm_sbc_write, .run = RUN_RW,
			  .data_out = true, .writes = true, U16(DPO_FUA, LBA8, LEN4, 0, 0)),
    [SVM_OP_ORWRITE16] = OP("ORWRITE(16)", svm_cdb_parse_rw16, svm_sbc_orwrite, .data_out = true,
			    .writes = true, U16(DPO_FUA, LBA8, LEN4, 0, 0)),
    [SVM_OP_WRITE_VERIFY16] = OP("WRITE AND VERIFY(16)", svm_cdb_parse_write_verify,
				 svm_sbc_write, .data_out = true, .writes = true,
				 U16(DPO_BYTCHK, LBA8, LEN4, 0, 0)),
    [SVM_OP_VERIFY16] = OP("VERIFY(16)", svm_cdb_parse_verify, svm_sbc_verify, .data_out = true,
			   U16(DPO_BYTCHK, LBA8, LEN4, 0, 0)),
    [SVM_OP_PREFETCH16] = OP("PRE-FETCH(16)", svm_cdb_parse_prefetch, svm_sbc_prefetch,
			     U16(0x02, LBA8, LEN4, 0, 0)),
    [SVM_OP_SYNC_CACHE16] = OP("SYNCHRONIZE CACHE(16)", svm_cdb_parse_sync_cache,
			       svm_sbc_sync_cache, .run = RUN_RW, U16(0x02, LBA8, LEN4, 0, 0)),
    [SVM_OP_WRITE_SAME16] = OP("WRITE SAME(16)", svm_cdb_parse_write_same, svm_sbc_write_same,
			       .data_out = true, .writes = true, U16(0x09, LBA8, LEN4, 0, 0)),
    [SVM_OP_WRITE_ATOMIC16] = OP("WRITE ATOMIC(16)", svm_cdb_parse_write_atomic,
				 svm_sbc_write_atomic, .data_out = true, .writes = true,
				 U16(DPO_FUA, LBA8, 0, 0, LEN2, 0, 0)),
    [SVM_OP_SERVICE_ACTION_IN16] = SA_OPS(
	"SERVICE ACTION IN(16)",
	[SVM_SAI_READ_CAPACITY16] = OP("READ CAPACITY(16)", svm_cdb_parse_read_capacity16,
				       svm_sbc_read_capacity16, .run = RUN_INLINE,
				       U16(0, LBA8, LEN4, 0x01, 0)),
	[SVM_SAI_GET_LBA_STATUS] = OP("GET LBA STATUS", svm_cdb_parse_get_lba_status,
				      svm_sbc_get_lba_status, U16(0, LBA8, LEN4, 0, 0))),
    [SVM_OP_MAINTENANCE_IN] = SA_OPS(
	"MAINTENANCE IN",
	[SVM_MI_RSOC] = OP("REPORT SUPPORTED OPERATION CODES", svm_cdb_parse_rsoc, svm_spc_rsoc,
			   .run = RUN_INLINE, U12(0, 0x87, 0xff, LEN2, LEN4, 0, 0))),
    [SVM_OP_READ12] = OP("READ(12)", svm_cdb_parse_rw12, svm_sbc_read, .run = RUN_RW,
			 U12(DPO_FUA, LBA4, LEN4, 0, 0)),
    [SVM_OP_WRITE12] = OP("WRITE(12)", svm_cdb_parse_rw12, svm_sbc_write, .run = RUN_RW,
			  .data_out = true, .writes = true, U12(DPO_FUA, LBA4, LEN4, 0, 0)),
    [SVM_OP_WRITE_VERIFY12] = OP("WRITE AND VERIFY(12)", svm_cdb_parse_write_verify,
				 svm_sbc_write, .data_out = true, .writes = true,
				 U12(DPO_BYTCHK, LBA4, LEN4, 0, 0)),
    [SVM_OP_VERIFY12] = OP("VERIFY(12)", svm_cdb_parse_verify, svm_sbc_verify, .data_out = true,
			   U12(DPO_BYTCHK, LBA4, LEN4, 0, 0)),
    [SVM_OP_READ_DEFECT_DATA12] = OP("READ DEFECT DATA(12)", svm_cdb_parse_read_defect_data,
				     svm_sbc_read_defect_data, .run = RUN_INLINE,
				     U12(0x1f, LBA4, LEN4, 0, 0)),
};

/* SPC-4 4.2.5.1: the CDB size from the group code; 0 for groups with none fixed. */
static uint8_t cdb_len(uint8_t opcode)
{
	static const uint8_t by_group[8] = {6, 10, 10, 0, 16, 12, 0, 0};

	return by_group[opcode >> 5];
}

/*
 * The command cdb names, if this LUN serves it; else NULL and *why: one
 * path for all unknown commands, INVALID COMMAND OPERATION CODE for an
 * opcode, INVALID FIELD IN CDB pointing at the SERVICE ACTION field for a
 * service action of an opcode that has others.
 */
static const struct scsi_op *op_of(const uint8_t *cdb, const struct svm_lun_geom *g,
				   enum svm_sense *why)
{
	const struct scsi_op *op = &scsi_ops[cdb[0]];

	*why = SVM_SENSE_INVALID_OPCODE;
	if (op->sa) {
		op = &op->sa[cdb[1] & 0x1f];
		*why = SVM_SENSE_INVALID_SERVICE_ACTION;
	}
	if (!op->exec || (op->needs_lbpu && !g->lbpu))
		return NULL;
	*why = SVM_SENSE_OK;
	return op;
}

int svm_scsi_describe(const struct svm_lun_geom *g, uint8_t opcode, uint16_t sa, bool *has_sa,
		      struct svm_scsi_cmd_desc *d)
{
	uint8_t cdb[2] = {opcode, (uint8_t)sa};
	const struct scsi_op *op;
	enum svm_sense why;

	*has_sa = scsi_ops[opcode].sa;
	if ((*has_sa && sa > 0x1f) || !(op = op_of(cdb, g, &why)))
		return 0;
	*d = (struct svm_scsi_cmd_desc){.opcode = opcode,
					.sa = *has_sa ? sa : 0,
					.servactv = *has_sa,
					.cdb_len = cdb_len(opcode)};
	memcpy(d->usage, op->usage, sizeof(d->usage));
	d->usage[0] = opcode;
	if (*has_sa)
		d->usage[1] |= sa; /* the service action, where the CDB holds it */
	return 1;
}

enum svm_sense svm_scsi_parse(const struct svm_lun_geom *g, const uint8_t *cdb, struct svm_cdb *c)
{
	enum svm_sense s;
	const struct scsi_op *op = op_of(cdb, g, &s);

	return op ? op->parse(cdb, c) : s;
}

/*
 * SBC-4 4.11: while a sanitize operation runs, every command but INQUIRY
 * and REQUEST SENSE (REPORT LUNS: the kernel's) is NOT READY, SANITIZE IN
 * PROGRESS with the progress indication; after one failed, commands that
 * access the medium (those not emulated) are MEDIUM ERROR, SANITIZE
 * COMMAND FAILED until a SANITIZE completes (svm_sbc_sanitize).
 */
static enum svm_sense sanitize_gate(uint32_t st, const struct scsi_op *op)
{
	if (!st)
		return SVM_SENSE_OK;
	if ((st & SVM_SANITIZE_RUNNING) && !op->in_sanitize)
		return SVM_SENSE_SANITIZE_IN_PROGRESS;
	if ((st & SVM_SANITIZE_FAILED) && op->run != RUN_INLINE && op->exec != svm_sbc_sanitize)
		return SVM_SENSE_SANITIZE_FAILED;
	return SVM_SENSE_OK;
}

/*
 * libtcmu 1.5.4 cannot report a data-in residual: the initiator receives the
 * whole buffer, so whatever a command did not fill (a READ's buffer past its
 * transfer, a 0-block READ, a svm_scsi_reply shorter than the buffer, a data-less
 * command's buffer) would carry another command's data; it is zeroed, here
 * only. Not for data-out (never returned, and zeroing would cost every
 * WRITE), nor a READ that would block (it runs again on a worker), nor a
 * command that failed (the kernel returns no data with CHECK CONDITION). A
 * READ that fills its buffer exactly writes nothing here.
 */
enum svm_sense svm_scsi_execute(struct svm_lun *lun, struct svm_scsi_req *req)
{
	const struct scsi_op *op;
	enum svm_sense s;
	uint32_t st;

	req->has_info = req->would_block = req->has_ptr = false;
	req->filled = 0;
	if (!lun)
		return SVM_SENSE_INTERNAL_TARGET_FAILURE; /* never opened */
	if (!req->parsed)
		svm_lun_get_geom(lun, &req->g);
	op = op_of(req->cdb, &req->g, &s);
	if (!op)
		return s;
	st = svm_lun_sanitize_get(lun);
	s = sanitize_gate(st, op);
	if (s) {
		req->has_info = s == SVM_SENSE_SANITIZE_IN_PROGRESS;
		req->info = SVM_SANITIZE_PROGRESS(st);
		return s;
	}
	if (!req->parsed) {
		s = op->parse(req->cdb, &req->c);
		if (s)
			return s;
	}
	if (!op->anonymous && !svm_lun_identified(lun))
		return SVM_SENSE_NOT_READY_MANUAL;
	/* SPC-4 7.5.8: SWP set, a command that would change the medium does nothing */
	if (op->writes && svm_lun_swp(lun))
		return SVM_SENSE_WRITE_PROTECTED;
	s = op->exec(lun, req, &req->c);
	if (s == SVM_SENSE_OK && !op->data_out && !req->would_block)
		svm_iov_zero_from(req->iov, req->iov_cnt, req->filled);
	return s;
}

enum svm_scsi_route svm_scsi_route(struct svm_lun *lun, struct svm_scsi_req *req)
{
	const struct svm_lun_geom *g = &req->g;
	struct svm_cdb *c = &req->c;
	const struct scsi_op *op;
	enum svm_sense s;

	req->parsed = false;
	if (!lun)
		return SVM_SCSI_ROUTE_INLINE;
	svm_lun_get_geom(lun, &req->g);
	op = op_of(req->cdb, g, &s);
	if (!op || op->run == RUN_INLINE || sanitize_gate(svm_lun_sanitize_get(lun), op) ||
	    !svm_lun_identified(lun) || op->parse(req->cdb, c) || (op->writes && svm_lun_swp(lun)))
		return SVM_SCSI_ROUTE_INLINE; /* emulated, or refused before any I/O */
	req->parsed = true;
	if (op->run == RUN_BLOCKING)
		return SVM_SCSI_ROUTE_BLOCKING;
	/* The checks of svm_sbc_read / svm_sbc_write / svm_sbc_sync_cache, without the I/O. */
	if (svm_scsi_check_range(g, c->lba, c->whole_lun ? 0 : c->nblocks))
		return SVM_SCSI_ROUTE_INLINE;
	if (op->exec == svm_sbc_sync_cache)
		return SVM_SCSI_ROUTE_RW;
	if (!c->nblocks)
		return SVM_SCSI_ROUTE_INLINE;
	if (svm_iov_length(req->iov, req->iov_cnt) != (uint64_t)c->nblocks * g->block_size)
		/* a short data-out is refused; a short data-in is an underflow svm_sbc_read serves
		 */
		return op->exec == svm_sbc_write ? SVM_SCSI_ROUTE_INLINE : SVM_SCSI_ROUTE_BLOCKING;
	if (op->exec == svm_sbc_read)
		return SVM_SCSI_ROUTE_READ;
	return c->fua || !g->wce ? SVM_SCSI_ROUTE_RW : SVM_SCSI_ROUTE_WRITE_CACHED;
}

bool svm_scsi_io_of(const struct svm_scsi_req *req, struct svm_scsi_io *io)
{
	const struct svm_cdb *c = &req->c;
	const struct scsi_op *op;
	enum svm_sense s;

	if (!req->parsed || !(op = op_of(req->cdb, &req->g, &s)))
		return false;
	if (op->exec == svm_sbc_sync_cache) {
		*io = (struct svm_scsi_io){.kind = SVM_SCSI_IO_FLUSH};
		return true;
	}
	if (op->exec != svm_sbc_read && op->exec != svm_sbc_write)
		return false;
	/* svm_scsi_route's checks: in range, not empty, a buffer of exactly the transfer */
	if (svm_scsi_check_range(&req->g, c->lba, c->nblocks) || !c->nblocks ||
	    svm_iov_length(req->iov, req->iov_cnt) != (uint64_t)c->nblocks * req->g.block_size)
		return false;
	*io = (struct svm_scsi_io){
		.kind = op->exec == svm_sbc_read ? SVM_SCSI_IO_READ : SVM_SCSI_IO_WRITE,
		.off = c->lba * req->g.block_size,
		.len = (size_t)c->nblocks * req->g.block_size,
		.fua = c->fua,
	};
	return true;
}

enum svm_sense svm_scsi_io_result(struct svm_lun *lun, const struct svm_scsi_io *io, int ret)
{
	if (!ret)
		return SVM_SENSE_OK;
	/* as svm_sbc_read, svm_sbc_write and svm_sbc_sync_cache report it */
	return svm_scsi_io_error(ret, io->kind != SVM_SCSI_IO_READ, lun,
				 io->kind == SVM_SCSI_IO_FLUSH ? 0 : io->off);
}

const char *svm_scsi_op_name(uint8_t opcode)
{
	return scsi_ops[opcode].name;
}
