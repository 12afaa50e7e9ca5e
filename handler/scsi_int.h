/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inside the SCSI layer (scsi.c dispatches; spc.c and sbc.c execute): the
 * executor contract and the helpers they share. Not for other modules.
 *
 * An executor runs one parsed command (c) against lun, with req->g the
 * LUN's geometry when the command was parsed. It returns SVM_SENSE_OK or
 * why the command failed, and sets req->filled to the bytes of a data-in
 * buffer it filled (svm_scsi_execute zeroes the rest). Executors of
 * RUN_INLINE commands never block; the others block on the LUN's stores.
 */
#ifndef SVM_SCSI_INT_H
#define SVM_SCSI_INT_H

#include "scsi.h"

typedef enum svm_sense (*svm_exec_fn)(struct svm_lun *lun, struct svm_scsi_req *req,
				      const struct svm_cdb *c);

/* SBC-4 4.5: the blocks [lba, lba + n) lie within the capacity, or LBA OUT OF RANGE. */
enum svm_sense svm_scsi_check_range(const struct svm_lun_geom *g, uint64_t lba, uint64_t n);
/* The range of a data command (c->lba, c->nblocks). */
enum svm_sense svm_scsi_check_xfer(const struct svm_lun_geom *g, const struct svm_cdb *c);
/* Log a failed store call and map its -errno to a sense reason. */
enum svm_sense svm_scsi_io_error(int err, bool write, const struct svm_lun *lun, uint64_t off);
/* Copy an emulated reply of len bytes into the data-in buffer, clipped to alloc_len. */
enum svm_sense svm_scsi_reply(struct svm_scsi_req *req, const uint8_t *buf, size_t len,
			      uint32_t alloc_len);
/* Bounce-buffer size for a command over total bytes: whole blocks, at most limit, at least one. */
size_t svm_scsi_chunk_len(uint32_t block_size, size_t limit, uint64_t total);

/* A command served, as REPORT SUPPORTED OPERATION CODES describes it (SPC-4 6.35). */
struct svm_scsi_cmd_desc {
	uint8_t opcode;
	uint16_t sa;	   /* its service action, when servactv */
	bool servactv;	   /* the opcode has service actions */
	uint8_t cdb_len;   /* CDB SIZE */
	uint8_t usage[16]; /* CDB USAGE DATA: cdb_len bytes, opcode and service action in place */
};

/*
 * Whether a LUN of geometry g serves opcode (with service action sa, when
 * the opcode has service actions; sa is ignored otherwise): 1 with *d
 * filled, or 0. *has_sa tells either way whether the opcode has service
 * actions. From the dispatch table; never blocks.
 */
int svm_scsi_describe(const struct svm_lun_geom *g, uint8_t opcode, uint16_t sa, bool *has_sa,
		      struct svm_scsi_cmd_desc *d);

/* spc.c: primary commands (SPC-4), no store I/O */
enum svm_sense svm_spc_tur(struct svm_lun *lun, struct svm_scsi_req *req, const struct svm_cdb *c);
enum svm_sense svm_spc_request_sense(struct svm_lun *lun, struct svm_scsi_req *req,
				     const struct svm_cdb *c);
enum svm_sense svm_spc_inquiry(struct svm_lun *lun, struct svm_scsi_req *req,
			       const struct svm_cdb *c);
enum svm_sense svm_spc_mode_sense(struct svm_lun *lun, struct svm_scsi_req *req,
				  const struct svm_cdb *c);
enum svm_sense svm_spc_mode_select(struct svm_lun *lun, struct svm_scsi_req *req,
				   const struct svm_cdb *c);
enum svm_sense svm_spc_rsoc(struct svm_lun *lun, struct svm_scsi_req *req, const struct svm_cdb *c);

/* sbc.c: block commands (SBC-4) */
enum svm_sense svm_sbc_read(struct svm_lun *lun, struct svm_scsi_req *req, const struct svm_cdb *c);
enum svm_sense svm_sbc_write(struct svm_lun *lun, struct svm_scsi_req *req,
			     const struct svm_cdb *c);
enum svm_sense svm_sbc_verify(struct svm_lun *lun, struct svm_scsi_req *req,
			      const struct svm_cdb *c);
enum svm_sense svm_sbc_write_same(struct svm_lun *lun, struct svm_scsi_req *req,
				  const struct svm_cdb *c);
enum svm_sense svm_sbc_prefetch(struct svm_lun *lun, struct svm_scsi_req *req,
				const struct svm_cdb *c);
enum svm_sense svm_sbc_sync_cache(struct svm_lun *lun, struct svm_scsi_req *req,
				  const struct svm_cdb *c);
enum svm_sense svm_sbc_unmap(struct svm_lun *lun, struct svm_scsi_req *req,
			     const struct svm_cdb *c);
enum svm_sense svm_sbc_compare_and_write(struct svm_lun *lun, struct svm_scsi_req *req,
					 const struct svm_cdb *c);
enum svm_sense svm_sbc_start_stop(struct svm_lun *lun, struct svm_scsi_req *req,
				  const struct svm_cdb *c);
enum svm_sense svm_sbc_read_capacity10(struct svm_lun *lun, struct svm_scsi_req *req,
				       const struct svm_cdb *c);
enum svm_sense svm_sbc_read_capacity16(struct svm_lun *lun, struct svm_scsi_req *req,
				       const struct svm_cdb *c);
enum svm_sense svm_sbc_get_lba_status(struct svm_lun *lun, struct svm_scsi_req *req,
				      const struct svm_cdb *c);
enum svm_sense svm_sbc_orwrite(struct svm_lun *lun, struct svm_scsi_req *req,
			       const struct svm_cdb *c);
enum svm_sense svm_sbc_write_atomic(struct svm_lun *lun, struct svm_scsi_req *req,
				    const struct svm_cdb *c);
enum svm_sense svm_sbc_read_defect_data(struct svm_lun *lun, struct svm_scsi_req *req,
					const struct svm_cdb *c);
enum svm_sense svm_sbc_sanitize(struct svm_lun *lun, struct svm_scsi_req *req,
				const struct svm_cdb *c);

/* tpc.c: third-party copy (SPC-4 6.4, 6.18) */
enum svm_sense svm_tpc_extended_copy(struct svm_lun *lun, struct svm_scsi_req *req,
				     const struct svm_cdb *c);
enum svm_sense svm_tpc_receive_copy_results(struct svm_lun *lun, struct svm_scsi_req *req,
					    const struct svm_cdb *c);

#endif
