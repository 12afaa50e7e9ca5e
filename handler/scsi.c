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

/* One entry of scsi_ops: run defaults to RUN_BLOCKING, the flags to false. */
#define OP(nm, prs, ex, ...)                                                                       \
	{                                                                                          \
		.name = nm, .parse = prs, .exec = ex, __VA_ARGS__                                  \
	}

static const struct scsi_op {
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
} scsi_ops[256] = {
    [SVM_OP_TEST_UNIT_READY] =
	OP("TEST UNIT READY", svm_cdb_parse_none, svm_spc_tur, .run = RUN_INLINE),
    [SVM_OP_REQUEST_SENSE] = OP("REQUEST SENSE", svm_cdb_parse_request_sense, svm_spc_request_sense,
				.run = RUN_INLINE, .anonymous = true),
    [SVM_OP_READ6] = OP("READ(6)", svm_cdb_parse_rw6, svm_sbc_read),
    [SVM_OP_WRITE6] = OP("WRITE(6)", svm_cdb_parse_rw6, svm_sbc_write, .data_out = true),
    [SVM_OP_INQUIRY] =
	OP("INQUIRY", svm_cdb_parse_inquiry, svm_spc_inquiry, .run = RUN_INLINE, .anonymous = true),
    [SVM_OP_MODE_SENSE6] =
	OP("MODE SENSE(6)", svm_cdb_parse_mode_sense, svm_spc_mode_sense, .run = RUN_INLINE),
    [SVM_OP_START_STOP_UNIT] = OP("START STOP UNIT", svm_cdb_parse_start_stop, svm_sbc_start_stop),
    [SVM_OP_READ_CAPACITY10] = OP("READ CAPACITY(10)", svm_cdb_parse_read_capacity10,
				  svm_sbc_read_capacity10, .run = RUN_INLINE),
    [SVM_OP_READ10] = OP("READ(10)", svm_cdb_parse_rw10, svm_sbc_read, .run = RUN_RW),
    [SVM_OP_WRITE10] =
	OP("WRITE(10)", svm_cdb_parse_rw10, svm_sbc_write, .run = RUN_RW, .data_out = true),
    [SVM_OP_WRITE_VERIFY10] =
	OP("WRITE AND VERIFY(10)", svm_cdb_parse_write_verify, svm_sbc_write, .data_out = true),
    [SVM_OP_VERIFY10] = OP("VERIFY(10)", svm_cdb_parse_verify, svm_sbc_verify, .data_out = true),
    [SVM_OP_PREFETCH10] = OP("PRE-FETCH(10)", svm_cdb_parse_prefetch, svm_sbc_prefetch),
    [SVM_OP_SYNC_CACHE10] =
	OP("SYNCHRONIZE CACHE(10)", svm_cdb_parse_sync_cache, svm_sbc_sync_cache, .run = RUN_RW),
    [SVM_OP_WRITE_SAME10] =
	OP("WRITE SAME(10)", svm_cdb_parse_write_same, svm_sbc_write_same, .data_out = true),
    [SVM_OP_UNMAP] = OP("UNMAP", svm_cdb_parse_unmap, svm_sbc_unmap, .data_out = true),
    [SVM_OP_MODE_SENSE10] =
	OP("MODE SENSE(10)", svm_cdb_parse_mode_sense, svm_spc_mode_sense, .run = RUN_INLINE),
    [SVM_OP_COMPARE_AND_WRITE] = OP("COMPARE AND WRITE", svm_cdb_parse_compare_and_write,
				    svm_sbc_compare_and_write, .data_out = true),
    [SVM_OP_READ16] = OP("READ(16)", svm_cdb_parse_rw16, svm_sbc_read, .run = RUN_RW),
    [SVM_OP_WRITE16] =
	OP("WRITE(16)", svm_cdb_parse_rw16, svm_sbc_write, .run = RUN_RW, .data_out = true),
    [SVM_OP_WRITE_VERIFY16] =
	OP("WRITE AND VERIFY(16)", svm_cdb_parse_write_verify, svm_sbc_write, .data_out = true),
    [SVM_OP_VERIFY16] = OP("VERIFY(16)", svm_cdb_parse_verify, svm_sbc_verify, .data_out = true),
    [SVM_OP_PREFETCH16] = OP("PRE-FETCH(16)", svm_cdb_parse_prefetch, svm_sbc_prefetch),
    [SVM_OP_SYNC_CACHE16] =
	OP("SYNCHRONIZE CACHE(16)", svm_cdb_parse_sync_cache, svm_sbc_sync_cache, .run = RUN_RW),
    [SVM_OP_WRITE_SAME16] =
	OP("WRITE SAME(16)", svm_cdb_parse_write_same, svm_sbc_write_same, .data_out = true),
    [SVM_OP_SERVICE_ACTION_IN16] = OP("SERVICE ACTION IN(16)", svm_cdb_parse_service_action_in16,
				      svm_sbc_service_action_in16, .run = RUN_INLINE),
    [SVM_OP_READ12] = OP("READ(12)", svm_cdb_parse_rw12, svm_sbc_read, .run = RUN_RW),
    [SVM_OP_WRITE12] =
	OP("WRITE(12)", svm_cdb_parse_rw12, svm_sbc_write, .run = RUN_RW, .data_out = true),
    [SVM_OP_WRITE_VERIFY12] =
	OP("WRITE AND VERIFY(12)", svm_cdb_parse_write_verify, svm_sbc_write, .data_out = true),
    [SVM_OP_VERIFY12] = OP("VERIFY(12)", svm_cdb_parse_verify, svm_sbc_verify, .data_out = true),
};

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
	const struct scsi_op *op = &scsi_ops[req->cdb[0]];
	enum svm_sense s;

	req->has_info = req->would_block = false;
	req->filled = 0;
	if (!lun)
		return SVM_SENSE_INTERNAL_TARGET_FAILURE; /* never opened */
	if (!op->exec)
		return SVM_SENSE_INVALID_OPCODE;
	if (!req->parsed) {
		s = op->parse(req->cdb, &req->c);
		if (s)
			return s;
		svm_lun_get_geom(lun, &req->g);
	}
	if (!op->anonymous && !svm_lun_identified(lun))
		return SVM_SENSE_NOT_READY_MANUAL;
	s = op->exec(lun, req, &req->c);
	if (s == SVM_SENSE_OK && !op->data_out && !req->would_block)
		svm_iov_zero_from(req->iov, req->iov_cnt, req->filled);
	return s;
}

enum svm_scsi_route svm_scsi_route(struct svm_lun *lun, struct svm_scsi_req *req)
{
	const struct scsi_op *op = &scsi_ops[req->cdb[0]];
	const struct svm_lun_geom *g = &req->g;
	struct svm_cdb *c = &req->c;

	req->parsed = false;
	if (!lun || !op->exec || op->run == RUN_INLINE || !svm_lun_identified(lun) ||
	    op->parse(req->cdb, c))
		return SVM_SCSI_ROUTE_INLINE; /* emulated, or refused before any I/O */
	req->parsed = true;
	svm_lun_get_geom(lun, &req->g);
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

const char *svm_scsi_op_name(uint8_t opcode)
{
	return scsi_ops[opcode].name;
}
