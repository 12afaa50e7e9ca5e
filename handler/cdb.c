/* SPDX-License-Identifier: Apache-2.0 */
#include "cdb.h"
#include "limits.h"

#include <string.h>

/* Byte 1 of the READ/WRITE/VERIFY family (SBC-4 5.x): xxPROTECT, DPO, FUA, BYTCHK */
#define B1_PROTECT(b) ((b) >> 5)
#define B1_DPO	      0x10
#define B1_FUA	      0x08
#define B1_BYTCHK(b)  (((b) >> 1) & 3)
#define B1_IMMED      0x02

static void lba_len_10(const uint8_t *cdb, struct svm_cdb *out)
{
	out->lba = svm_get_be32(cdb + 2);
	out->nblocks = svm_get_be16(cdb + 7);
}

static void lba_len_12(const uint8_t *cdb, struct svm_cdb *out)
{
	out->lba = svm_get_be32(cdb + 2);
	out->nblocks = svm_get_be32(cdb + 6);
}

static void lba_len_16(const uint8_t *cdb, struct svm_cdb *out)
{
	out->lba = svm_get_be64(cdb + 2);
	out->nblocks = svm_get_be32(cdb + 10);
}

/* The LBA/length layout follows the CDB's size, which its group code gives (SPC-4 4.2.5.1). */
static void lba_len(const uint8_t *cdb, struct svm_cdb *out)
{
	switch (cdb[0] >> 5) {
	case 4:
		lba_len_16(cdb, out);
		break;
	case 5:
		lba_len_12(cdb, out);
		break;
	default:
		lba_len_10(cdb, out);
		break;
	}
}

static void start(const uint8_t *cdb, struct svm_cdb *out)
{
	memset(out, 0, sizeof(*out));
	out->opcode = cdb[0];
}

/* SBC-4 5.11 READ(6), 5.43 WRITE(6): 21-bit LBA; TRANSFER LENGTH 0 means 256. */
enum svm_sense svm_cdb_parse_rw6(const uint8_t *cdb, struct svm_cdb *out)
{
	start(cdb, out);
	out->lba = (uint32_t)(cdb[1] & 0x1f) << 16 | svm_get_be16(cdb + 2);
	out->nblocks = cdb[4] ? cdb[4] : 256;
	return SVM_SENSE_OK;
}

/*
 * Protection information is not supported: xxPROTECT must be zero (SBC-4
 * 4.22). DPO is accepted (the page cache keeps no priorities to adjust);
 * FUA_NV (SBC-3, obsolete in SBC-4) and RARC are ignored.
 */
static enum svm_sense rw_flags(const uint8_t *cdb, struct svm_cdb *out)
{
	if (B1_PROTECT(cdb[1]))
		return SVM_SENSE_INVALID_FIELD_IN_CDB;
	out->dpo = cdb[1] & B1_DPO;
	out->fua = cdb[1] & B1_FUA;
	return SVM_SENSE_OK;
}

enum svm_sense svm_cdb_parse_rw10(const uint8_t *cdb, struct svm_cdb *out)
{
	start(cdb, out);
	lba_len_10(cdb, out);
	return rw_flags(cdb, out);
}

enum svm_sense svm_cdb_parse_rw12(const uint8_t *cdb, struct svm_cdb *out)
{
	start(cdb, out);
	lba_len_12(cdb, out);
	return rw_flags(cdb, out);
}

enum svm_sense svm_cdb_parse_rw16(const uint8_t *cdb, struct svm_cdb *out)
{
	start(cdb, out);
	lba_len_16(cdb, out);
	return rw_flags(cdb, out);
}

/* SBC-4 5.34-5.36 VERIFY(10/12/16): BYTCHK 00b no compare, 01b compare, 11b one block; 10b reserved. */
enum svm_sense svm_cdb_parse_verify(const uint8_t *cdb, struct svm_cdb *out)
{
	start(cdb, out);
	lba_len(cdb, out);
	if (B1_PROTECT(cdb[1]))
		return SVM_SENSE_INVALID_FIELD_IN_CDB;
	out->dpo = cdb[1] & B1_DPO;
	out->bytchk = B1_BYTCHK(cdb[1]);
	if (out->bytchk == 2)
		return SVM_SENSE_INVALID_FIELD_IN_CDB;
	return SVM_SENSE_OK;
}

/* SBC-4 5.45-5.47 WRITE AND VERIFY(10/12/16): BYTCHK 00b or 01b only. */
enum svm_sense svm_cdb_parse_write_verify(const uint8_t *cdb, struct svm_cdb *out)
{
	start(cdb, out);
	lba_len(cdb, out);
	if (B1_PROTECT(cdb[1]))
		return SVM_SENSE_INVALID_FIELD_IN_CDB;
	out->dpo = cdb[1] & B1_DPO;
	out->bytchk = B1_BYTCHK(cdb[1]);
	if (out->bytchk > 1)
		return SVM_SENSE_INVALID_FIELD_IN_CDB;
	out->fua = true; /* the verify needs the data on the medium */
	return SVM_SENSE_OK;
}

/* SBC-4 5.8/5.9 PRE-FETCH(10/16): IMMED; PREFETCH LENGTH 0 = to the end. */
enum svm_sense svm_cdb_parse_prefetch(const uint8_t *cdb, struct svm_cdb *out)
{
	start(cdb, out);
	lba_len(cdb, out);
	out->immed = cdb[1] & B1_IMMED;
	out->whole_lun = out->nblocks == 0;
	return SVM_SENSE_OK;
}

/* SBC-4 5.32/5.33 SYNCHRONIZE CACHE(10/16): IMMED; NUMBER OF LOGICAL BLOCKS 0 = to the end. */
enum svm_sense svm_cdb_parse_sync_cache(const uint8_t *cdb, struct svm_cdb *out)
{
	start(cdb, out);
	lba_len(cdb, out);
	out->immed = cdb[1] & B1_IMMED;
	out->whole_lun = out->nblocks == 0;
	return SVM_SENSE_OK;
}

/*
 * SBC-4 5.48/5.49 WRITE SAME(10/16): WRPROTECT must be 0 (no protection
 * information); ANCHOR is not supported; UNMAP; NDOB (16 only): no data-out,
 * the block is zeroes. NUMBER OF LOGICAL BLOCKS 0 (Block Limits WSNZ 0,
 * SBC-4 6.6.4) is from the LBA through the last block: whole_lun, whose
 * range and MAXIMUM WRITE SAME LENGTH the executor checks against the
 * capacity (svm_sbc_write_same); a count above MAXIMUM WRITE SAME LENGTH
 * is INVALID FIELD IN CDB here.
 */
enum svm_sense svm_cdb_parse_write_same(const uint8_t *cdb, struct svm_cdb *out)
{
	start(cdb, out);
	lba_len(cdb, out);
	out->unmap = cdb[1] & 0x08;
	out->ndob = cdb[0] == SVM_OP_WRITE_SAME16 && (cdb[1] & 0x01);
	out->whole_lun = out->nblocks == 0;
	if (B1_PROTECT(cdb[1]) || (cdb[1] & 0x10))
		return SVM_SENSE_INVALID_FIELD_IN_CDB;
	if (out->nblocks > SVM_WRITE_SAME_MAX_BLOCKS)
		return SVM_SENSE_INVALID_FIELD_IN_CDB;
	return SVM_SENSE_OK;
}

/* SBC-4 5.31 UNMAP: ANCHOR (byte 1 bit 0) is not supported; PARAMETER LIST LENGTH bytes 7-8. */
enum svm_sense svm_cdb_parse_unmap(const uint8_t *cdb, struct svm_cdb *out)
{
	start(cdb, out);
	if (cdb[1] & 0x01)
		return SVM_SENSE_INVALID_FIELD_IN_CDB;
	out->alloc_len = svm_get_be16(cdb + 7);
	return SVM_SENSE_OK;
}

/* SPC-4 6.6 INQUIRY: EVPD; PAGE CODE only with EVPD; CMDDT (obsolete) must be 0. */
enum svm_sense svm_cdb_parse_inquiry(const uint8_t *cdb, struct svm_cdb *out)
{
	start(cdb, out);
	out->evpd = cdb[1] & 0x01;
	out->page = cdb[2];
	out->alloc_len = svm_get_be16(cdb + 3);
	if (cdb[1] & 0x02)
		return SVM_SENSE_INVALID_FIELD_IN_CDB;
	if (!out->evpd && out->page)
		return SVM_SENSE_INVALID_FIELD_IN_CDB;
	return SVM_SENSE_OK;
}

/* SBC-4 5.20 READ CAPACITY(10): with PMI 0 the LOGICAL BLOCK ADDRESS must be 0. */
enum svm_sense svm_cdb_parse_read_capacity10(const uint8_t *cdb, struct svm_cdb *out)
{
	start(cdb, out);
	out->lba = svm_get_be32(cdb + 2);
	out->pmi = cdb[8] & 0x01;
	out->alloc_len = 8;
	if (!out->pmi && out->lba)
		return SVM_SENSE_INVALID_FIELD_IN_CDB;
	return SVM_SENSE_OK;
}

/* SBC-4 5.21 READ CAPACITY(16): with PMI (obsolete) 0 the LOGICAL BLOCK ADDRESS must be 0. */
enum svm_sense svm_cdb_parse_read_capacity16(const uint8_t *cdb, struct svm_cdb *out)
{
	start(cdb, out);
	out->service_action = cdb[1] & 0x1f;
	out->lba = svm_get_be64(cdb + 2);
	out->alloc_len = svm_get_be32(cdb + 10);
	out->pmi = cdb[14] & 0x01;
	if (!out->pmi && out->lba)
		return SVM_SENSE_INVALID_FIELD_IN_CDB;
	return SVM_SENSE_OK;
}

/*
 * SBC-4 5.8 GET LBA STATUS: STARTING LOGICAL BLOCK ADDRESS, ALLOCATION
 * LENGTH. Every LBA is reported: byte 14 (REPORT TYPE in later revisions,
 * which can ask for some provisioning states only) must be 0.
 */
enum svm_sense svm_cdb_parse_get_lba_status(const uint8_t *cdb, struct svm_cdb *out)
{
	start(cdb, out);
	out->service_action = cdb[1] & 0x1f;
	out->lba = svm_get_be64(cdb + 2);
	out->alloc_len = svm_get_be32(cdb + 10);
	if (cdb[14])
		return SVM_SENSE_INVALID_FIELD_IN_CDB;
	return SVM_SENSE_OK;
}

/*
 * SPC-4 6.35 REPORT SUPPORTED OPERATION CODES: RCTD, REPORTING OPTIONS
 * (000b all commands; 001b one by operation code; 010b one by operation
 * code and service action; 011b either), REQUESTED OPERATION CODE,
 * REQUESTED SERVICE ACTION, ALLOCATION LENGTH. Other reporting options are
 * INVALID FIELD IN CDB pointing at the field.
 */
enum svm_sense svm_cdb_parse_rsoc(const uint8_t *cdb, struct svm_cdb *out)
{
	start(cdb, out);
	out->service_action = cdb[1] & 0x1f;
	out->rctd = cdb[2] & 0x80;
	out->rsoc_options = cdb[2] & 0x07;
	out->req_opcode = cdb[3];
	out->req_sa = svm_get_be16(cdb + 4);
	out->alloc_len = svm_get_be32(cdb + 6);
	if (out->rsoc_options > 3)
		return SVM_SENSE_INVALID_REPORTING_OPTIONS;
	return SVM_SENSE_OK;
}

/*
 * SBC-4 5.47 WRITE ATOMIC(16): WRPROTECT must be 0, DPO, FUA; TRANSFER
 * LENGTH is 16 bits (bytes 12-13). ATOMIC BOUNDARY must be 0: the Block
 * Limits page reports no MAXIMUM ATOMIC BOUNDARY SIZE.
 */
enum svm_sense svm_cdb_parse_write_atomic(const uint8_t *cdb, struct svm_cdb *out)
{
	start(cdb, out);
	out->lba = svm_get_be64(cdb + 2);
	out->nblocks = svm_get_be16(cdb + 12);
	if (svm_get_be16(cdb + 10))
		return SVM_SENSE_INVALID_FIELD_IN_CDB;
	return rw_flags(cdb, out);
}

/*
 * SBC-4 5.14/5.15 READ DEFECT DATA(10/12): REQ_PLIST, REQ_GLIST and DEFECT
 * LIST FORMAT (byte 2 of the 10-byte CDB, byte 1 of the 12-byte one); (12)
 * also ADDRESS DESCRIPTOR INDEX. Format 111b is reserved.
 */
enum svm_sense svm_cdb_parse_read_defect_data(const uint8_t *cdb, struct svm_cdb *out)
{
	uint8_t flags;

	start(cdb, out);
	if (cdb[0] == SVM_OP_READ_DEFECT_DATA10) {
		flags = cdb[2];
		out->alloc_len = svm_get_be16(cdb + 7);
	} else {
		flags = cdb[1];
		out->defect_index = svm_get_be32(cdb + 2);
		out->alloc_len = svm_get_be32(cdb + 6);
	}
	out->req_plist = flags & 0x10;
	out->req_glist = flags & 0x08;
	out->defect_format = flags & 0x07;
	if (out->defect_format == 7)
		return SVM_SENSE_INVALID_FIELD_IN_CDB;
	return SVM_SENSE_OK;
}

/*
 * SBC-4 5.30 SANITIZE: IMMED, AUSE, SERVICE ACTION, PARAMETER LIST LENGTH.
 * The reserved bit (byte 1 bit 6) and bytes 2-6 are checked: a command that
 * destroys every block runs only when it is exactly one SBC-4 describes.
 * PARAMETER LIST LENGTH must be more than 4 for OVERWRITE (and at most the
 * block size + 4, checked at execution, when the block size is known) and 0
 * for the others (SBC-4 table 5.30.1). IMMED and AUSE mean nothing to EXIT
 * FAILURE MODE and are not read for it.
 */
enum svm_sense svm_cdb_parse_sanitize(const uint8_t *cdb, struct svm_cdb *out)
{
	start(cdb, out);
	out->service_action = cdb[1] & 0x1f;
	out->alloc_len = svm_get_be16(cdb + 7);
	if ((cdb[1] & 0x40) || cdb[2] || cdb[3] || cdb[4] || cdb[5] || cdb[6])
		return SVM_SENSE_INVALID_FIELD_IN_CDB;
	if (out->service_action == SVM_SANITIZE_OVERWRITE
		    ? out->alloc_len <= SVM_SANITIZE_OVERWRITE_HDR
		    : out->alloc_len != 0)
		return SVM_SENSE_INVALID_FIELD_IN_CDB;
	if (out->service_action != SVM_SANITIZE_EXIT_FAILURE) {
		out->immed = cdb[1] & 0x80;
		out->ause = cdb[1] & 0x20;
	}
	return SVM_SENSE_OK;
}

/* SPC-4 6.11/6.12 MODE SENSE(6/10). */
enum svm_sense svm_cdb_parse_mode_sense(const uint8_t *cdb, struct svm_cdb *out)
{
	start(cdb, out);
	out->dbd = cdb[1] & 0x08;
	out->pc = cdb[2] >> 6;
	out->page = cdb[2] & 0x3f;
	out->subpage = cdb[3];
	if (cdb[0] == SVM_OP_MODE_SENSE6) {
		out->alloc_len = cdb[4];
	} else {
		out->llbaa = cdb[1] & 0x10;
		out->alloc_len = svm_get_be16(cdb + 7);
	}
	if (out->pc == 3)
		return SVM_SENSE_SAVING_PARAMS_UNSUP;
	return SVM_SENSE_OK;
}

/*
 * SPC-4 6.9/6.10 MODE SELECT(6/10): PF, SP, PARAMETER LIST LENGTH. The
 * parameter list must follow the page format (PF 1). No mode page is
 * saveable (MODE SENSE reports PS 0, and refuses saved values), so SP 1 is
 * INVALID FIELD IN CDB, which 6.9 asks of a logical unit that does not
 * implement saved pages. PARAMETER LIST LENGTH 0 is not an error.
 */
enum svm_sense svm_cdb_parse_mode_select(const uint8_t *cdb, struct svm_cdb *out)
{
	start(cdb, out);
	if (cdb[0] == SVM_OP_MODE_SELECT6)
		out->alloc_len = cdb[4];
	else
		out->alloc_len = svm_get_be16(cdb + 7);
	if (!(cdb[1] & 0x10) || (cdb[1] & 0x01))
		return SVM_SENSE_INVALID_FIELD_IN_CDB;
	return SVM_SENSE_OK;
}

/* SPC-4 6.29 REQUEST SENSE: DESC selects descriptor format. */
enum svm_sense svm_cdb_parse_request_sense(const uint8_t *cdb, struct svm_cdb *out)
{
	start(cdb, out);
	out->desc = cdb[1] & 0x01;
	out->alloc_len = cdb[4];
	return SVM_SENSE_OK;
}

/*
 * SBC-4 5.30 START STOP UNIT: no power conditions and no removable medium,
 * so POWER CONDITION must be 0 and LOEJ must be 0.
 */
enum svm_sense svm_cdb_parse_start_stop(const uint8_t *cdb, struct svm_cdb *out)
{
	start(cdb, out);
	out->immed = cdb[1] & 0x01;
	out->start = cdb[4] & 0x01;
	out->loej = cdb[4] & 0x02;
	out->no_flush = cdb[4] & 0x04;
	if ((cdb[4] >> 4) || (cdb[3] & 0x0f))
		return SVM_SENSE_INVALID_FIELD_IN_CDB;
	if (out->loej)
		return SVM_SENSE_INVALID_FIELD_IN_CDB;
	return SVM_SENSE_OK;
}

/*
 * SBC-4 5.3 COMPARE AND WRITE: WRPROTECT must be 0, FUA; NUMBER OF LOGICAL
 * BLOCKS (byte 13) at most MAXIMUM COMPARE AND WRITE LENGTH (Block Limits
 * VPD page), 0 meaning nothing to do.
 */
enum svm_sense svm_cdb_parse_compare_and_write(const uint8_t *cdb, struct svm_cdb *out)
{
	start(cdb, out);
	out->lba = svm_get_be64(cdb + 2);
	out->nblocks = cdb[13];
	if (B1_PROTECT(cdb[1]))
		return SVM_SENSE_INVALID_FIELD_IN_CDB;
	out->dpo = cdb[1] & B1_DPO;
	out->fua = cdb[1] & B1_FUA;
	if (out->nblocks > SVM_CAW_MAX_BLOCKS)
		return SVM_SENSE_INVALID_FIELD_IN_CDB;
	return SVM_SENSE_OK;
}

enum svm_sense svm_cdb_parse_none(const uint8_t *cdb, struct svm_cdb *out)
{
	start(cdb, out);
	return SVM_SENSE_OK;
}

/*
 * SBC-4 5.31.2: header = UNMAP DATA LENGTH (n-2), UNMAP BLOCK DESCRIPTOR
 * DATA LENGTH; then 16-byte descriptors. A trailing partial descriptor is
 * ignored. Validation is complete before any descriptor is acted on.
 */
enum svm_sense svm_unmap_parse(const uint8_t *buf, size_t len, uint64_t num_lbas,
			       struct svm_unmap_desc *descs, unsigned *count)
{
	uint32_t data_len, bd_len, n;
	uint64_t total = 0;

	*count = 0;
	if (len == 0)
		return SVM_SENSE_OK;
	if (len < SVM_UNMAP_HEADER_LEN)
		return SVM_SENSE_PARAM_LIST_LENGTH;
	data_len = svm_get_be16(buf);
	bd_len = svm_get_be16(buf + 2);
	if (data_len > len - 2 || bd_len > len - SVM_UNMAP_HEADER_LEN)
		return SVM_SENSE_PARAM_LIST_LENGTH;
	n = bd_len / SVM_UNMAP_DESCRIPTOR_LEN;
	if (n > SVM_UNMAP_MAX_DESCRIPTORS)
		return SVM_SENSE_INVALID_FIELD_IN_PARAM;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *d = buf + SVM_UNMAP_HEADER_LEN + i * SVM_UNMAP_DESCRIPTOR_LEN;
		uint64_t lba = svm_get_be64(d);
		uint32_t nb = svm_get_be32(d + 8);

		if (lba > num_lbas || nb > num_lbas - lba)
			return SVM_SENSE_LBA_OUT_OF_RANGE;
		total += nb;
		if (total > SVM_UNMAP_MAX_LBAS)
			return SVM_SENSE_INVALID_FIELD_IN_PARAM;
		descs[i] = (struct svm_unmap_desc){.lba = lba, .nblocks = nb};
	}
	*count = n;
	return SVM_SENSE_OK;
}

/*
 * SBC-4 5.30.2.2: byte 0 INVERT (bit 7), TEST (bits 6-5), OVERWRITE COUNT
 * (bits 4-0); byte 1 reserved; bytes 2-3 INITIALIZATION PATTERN LENGTH;
 * then the pattern. OVERWRITE COUNT 00h is reserved; TEST is for vendor
 * test modes, none of which this device server has.
 */
enum svm_sense svm_sanitize_overwrite_parse(const uint8_t *buf, size_t len, uint32_t block_size,
					    struct svm_sanitize_overwrite *out)
{
	if (len < SVM_SANITIZE_OVERWRITE_HDR)
		return SVM_SENSE_PARAM_LIST_LENGTH;
	out->invert = buf[0] & 0x80;
	out->count = buf[0] & 0x1f;
	out->pattern_len = svm_get_be16(buf + 2);
	out->pattern = buf + SVM_SANITIZE_OVERWRITE_HDR;
	if ((buf[0] & 0x60) || !out->count)
		return SVM_SENSE_INVALID_FIELD_IN_PARAM;
	if (!out->pattern_len || out->pattern_len > block_size ||
	    out->pattern_len > len - SVM_SANITIZE_OVERWRITE_HDR)
		return SVM_SENSE_INVALID_FIELD_IN_PARAM;
	return SVM_SENSE_OK;
}

/* INVALID FIELD IN PARAMETER LIST at byte field, bit bit (its leftmost) of the list. */
static enum svm_sense param_field(struct svm_sense_ptr *ptr, size_t field, uint8_t bit)
{
	*ptr = (struct svm_sense_ptr){
	    .valid = true, .bit_valid = true, .bit = bit, .field = (uint16_t)field};
	return SVM_SENSE_INVALID_FIELD_IN_PARAM;
}

/*
 * SPC-4 7.5.7: the length of the mode page at p, rem bytes left in the
 * list, from its PAGE LENGTH (one byte in the page_0 format, two with SPF);
 * 0 when the list cuts it short.
 */
static size_t mode_page_len(const uint8_t *p, size_t rem)
{
	size_t n;

	if (rem < 2)
		return 0;
	if (p[0] & 0x40) {
		if (rem < 4)
			return 0;
		n = 4 + (size_t)svm_get_be16(p + 2);
	} else {
		n = 2 + (size_t)p[1];
	}
	return n <= rem ? n : 0;
}

/*
 * SPC-4 7.5.4 mode parameter header: (6) MODE DATA LENGTH, MEDIUM TYPE,
 * DEVICE-SPECIFIC PARAMETER, BLOCK DESCRIPTOR LENGTH, one byte each; (10)
 * MODE DATA LENGTH in bytes 0-1, MEDIUM TYPE, DEVICE-SPECIFIC PARAMETER,
 * LONGLBA (byte 4 bit 0), BLOCK DESCRIPTOR LENGTH in bytes 6-7. SBC-4
 * 6.5.2.2/6.5.2.3 block descriptors: short, NUMBER OF LOGICAL BLOCKS in
 * bytes 0-3 and LOGICAL BLOCK LENGTH in bytes 5-7; long, 0-7 and 12-15.
 */
enum svm_sense svm_mode_select_parse(const uint8_t *buf, size_t len, bool ten, uint32_t block_size,
				     uint64_t num_lbas, struct svm_mode_list *out,
				     struct svm_sense_ptr *ptr)
{
	size_t hdr = ten ? 8 : 4, bdl_at = ten ? 6 : 3, bdl, lbl_at = 0, n;
	uint64_t nlb = 0, cap = 0;
	uint32_t lbl = block_size;
	const uint8_t *bd;
	bool longlba;

	*ptr = (struct svm_sense_ptr){0};
	*out = (struct svm_mode_list){0};
	if (len < hdr)
		return SVM_SENSE_PARAM_LIST_LENGTH;
	bdl = ten ? svm_get_be16(buf + bdl_at) : buf[bdl_at];
	longlba = ten && (buf[4] & 0x01);
	if (bdl > len - hdr)
		return SVM_SENSE_PARAM_LIST_LENGTH;
	if (buf[ten ? 2 : 1])
		return param_field(ptr, ten ? 2 : 1, 7); /* MEDIUM TYPE */
	if (bdl && bdl != (longlba ? 16u : 8u))
		return param_field(ptr, bdl_at, 7);
	bd = buf + hdr;
	if (bdl == 8) {
		nlb = svm_get_be32(bd);
		cap = num_lbas > UINT32_MAX ? UINT32_MAX : num_lbas; /* as MODE SENSE reports it */
		lbl_at = 5;
		lbl = svm_get_be32(bd + 4) & 0xffffff;
	} else if (bdl == 16) {
		nlb = svm_get_be64(bd);
		cap = num_lbas;
		lbl_at = 12;
		lbl = svm_get_be32(bd + lbl_at);
	}
	if (nlb && nlb != cap)
		return param_field(ptr, hdr, 7); /* NUMBER OF LOGICAL BLOCKS */
	if (lbl != block_size)
		return param_field(ptr, hdr + lbl_at, 7); /* LOGICAL BLOCK LENGTH */
	for (size_t off = hdr + bdl; off < len; off += n) {
		n = mode_page_len(buf + off, len - off);
		if (!n)
			return SVM_SENSE_PARAM_LIST_LENGTH;
	}
	out->bd_len = bdl;
	out->pages = hdr + bdl;
	return SVM_SENSE_OK;
}

bool svm_mode_page_next(const uint8_t *buf, size_t len, size_t *off, struct svm_mode_page *p)
{
	const uint8_t *b = buf + *off;
	size_t n = *off < len ? mode_page_len(b, len - *off) : 0;

	if (!n)
		return false;
	*p = (struct svm_mode_page){.code = b[0] & 0x3f,
				    .spf = b[0] & 0x40,
				    .subpage = b[0] & 0x40 ? b[1] : 0,
				    .off = *off,
				    .len = n};
	*off += n;
	return true;
}
