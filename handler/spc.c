/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SPC-4 primary commands, emulated from the LUN's geometry and identity:
 * no store I/O. The executors of the dispatch table in scsi.c.
 */
#include "scsi_int.h"
#include "cdb.h"
#include "iov.h"
#include "limits.h"
#include "log.h"
#include "../xcopy/xcopy.h"

#include <stdlib.h>
#include <string.h>

#define VENDOR	 "LIO-ORG"
#define PRODUCT	 "tcmu-svm"
#define REVISION "0001"

enum svm_sense svm_spc_tur(struct svm_lun *lun, struct svm_scsi_req *req, const struct svm_cdb *c)
{
	(void)lun, (void)req, (void)c;
	return SVM_SENSE_OK;
}

/*
 * SPC-4 6.29: no deferred errors are kept, so the answer is NO SENSE, but
 * while a sanitize operation runs: LOGICAL UNIT NOT READY, SANITIZE IN
 * PROGRESS with its progress indication (how an initiator that sent
 * SANITIZE with IMMED polls it, SBC-4 5.30.1), and after one failed:
 * SANITIZE COMMAND FAILED (SBC-4 4.11.4).
 */
enum svm_sense svm_spc_request_sense(struct svm_lun *lun, struct svm_scsi_req *req,
				     const struct svm_cdb *c)
{
	uint32_t st = svm_lun_sanitize_get(lun);
	uint8_t buf[SVM_SENSE_DESC_MAX] = {0};
	size_t len;

	if (st & SVM_SANITIZE_RUNNING) {
		len = svm_sense_data(buf, SVM_SENSE_SANITIZE_IN_PROGRESS, c->desc, true,
				     SVM_SANITIZE_PROGRESS(st));
	} else if (st & SVM_SANITIZE_FAILED) {
		len = svm_sense_data(buf, SVM_SENSE_SANITIZE_FAILED, c->desc, false, 0);
	} else if (c->desc) {
		buf[0] = 0x72; /* descriptor format, NO SENSE, no descriptors */
		len = 8;
	} else {
		buf[0] = 0x70;
		buf[7] = SVM_SENSE_FIXED_LEN - 8;
		len = SVM_SENSE_FIXED_LEN;
	}
	return svm_scsi_reply(req, buf, len, c->alloc_len);
}

static void pad_copy(uint8_t *dst, const char *src, size_t len)
{
	size_t n = strlen(src);

	memset(dst, ' ', len);
	memcpy(dst, src, n < len ? n : len);
}

/* SPC-4 6.6.2 standard INQUIRY data, with version descriptors SAM-5, SPC-4, SBC-3. */
static size_t inquiry_standard(const struct svm_lun_geom *g, uint8_t *b)
{
	static const uint16_t versions[] = {0x00A0, 0x0460, 0x04C0};

	b[0] = 0x00; /* PERIPHERAL QUALIFIER 0, DEVICE TYPE 0 (direct access block) */
	b[2] = 0x06; /* VERSION: SPC-4 */
	b[3] = 0x12; /* HISUP, RESPONSE DATA FORMAT 2 */
	b[5] = g->copy ? 0x08 : 0; /* 3PC: EXTENDED COPY (xcopy/xcopy.h); not on RBD yet */
	b[7] = 0x02; /* CMDQUE */
	pad_copy(b + 8, VENDOR, 8);
	pad_copy(b + 16, PRODUCT, 16);
	pad_copy(b + 32, REVISION, 4);
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		svm_put_be16(b + 58 + 2 * i, versions[i]);
	b[4] = 66 - 5; /* ADDITIONAL LENGTH */
	return 66;
}

static const uint8_t vpd_pages[] = {0x00, 0x80, 0x83, 0x8F, 0xB0, 0xB1, 0xB2};

/* What a VPD page builder sees: the geometry, and the serial for 0x80/0x83. */
struct vpd_ctx {
	const struct svm_lun_geom *g;
	const char *serial; /* never empty where a page needs it */
};

static size_t vpd_supported(const struct vpd_ctx *x, uint8_t *b)
{
	(void)x;
	memcpy(b + 4, vpd_pages, sizeof(vpd_pages));
	return 4 + sizeof(vpd_pages);
}

/* SPC-4 7.8.17 Unit Serial Number: LIO's configfs wwn/vpd_unit_serial. */
static size_t vpd_serial(const struct vpd_ctx *x, uint8_t *b)
{
	size_t n = strlen(x->serial);

	memcpy(b + 4, x->serial, n);
	return 4 + n;
}

/*
 * SPC-4 7.8.6 Device Identification, for the logical unit:
 *  - an NAA IEEE Registered Extended designator built as LIO builds it
 *    (target_core_spc.c, spc_parse_naa_6h_vendor_specific): NAA 6, the OUI
 *    00-14-05 LIO uses, then the first 25 hex digits of the unit serial
 *    (other characters skipped, missing digits zero);
 *  - a T10 vendor ID designator: "LIO-ORG " and the whole serial.
 * The same serial gives the same designators as a LIO fileio LUN.
 */
static size_t vpd_devid(const struct vpd_ctx *x, uint8_t *b)
{
	uint8_t *d = b + 4;
	size_t sl = strlen(x->serial), tl;

	d[0] = 0x01; /* PROTOCOL IDENTIFIER 0, CODE SET binary */
	d[1] = 0x03; /* PIV 0, ASSOCIATION logical unit, TYPE NAA */
	d[3] = SVM_NAA_LEN;
	svm_naa_from_serial(x->serial, d + 4);
	d += 4 + SVM_NAA_LEN;

	tl = 8 + sl;
	d[0] = 0x02; /* CODE SET ASCII */
	d[1] = 0x01; /* TYPE T10 vendor ID */
	d[3] = tl;
	pad_copy(d + 4, VENDOR, 8);
	memcpy(d + 12, x->serial, sl);
	d += 4 + tl;
	return d - b;
}

/* SPC-4 7.8.17 Third-party Copy: what EXTENDED COPY(LID1) supports (xcopy/xcopy.c) */
static size_t vpd_third_party_copy(const struct vpd_ctx *x, uint8_t *b)
{
	return svm_xcopy_vpd_page(b, x->g->block_size);
}

/*
 * SBC-4 6.6.4 Block Limits. WSNZ 0: WRITE SAME with NUMBER OF LOGICAL
 * BLOCKS 0 writes from its LBA through the last block, up to MAXIMUM WRITE
 * SAME LENGTH (svm_sbc_write_same; docs/commands.md). The granularities are
 * the physical block (READ CAPACITY(16) LBPPBE), unmap aligned at LBA 0
 * (UGAVALID, UNMAP GRANULARITY ALIGNMENT 0), as LOWEST ALIGNED LOGICAL
 * BLOCK ADDRESS is 0. WRITE ATOMIC: any length is atomic under the range
 * lock, so MAXIMUM ATOMIC TRANSFER LENGTH is MAXIMUM TRANSFER LENGTH (at
 * most what the 16-bit field of the CDB holds), with no alignment,
 * granularity or atomic boundary (those three fields 0).
 */
static size_t vpd_block_limits(const struct vpd_ctx *x, uint8_t *b)
{
	const struct svm_lun_geom *g = x->g;
	uint32_t pb = 1u << g->lbppbe, atomic = g->max_xfer_blocks;

	if (!atomic || atomic > UINT16_MAX)
		atomic = UINT16_MAX;
	b[4] = 0x00;		   /* WSNZ 0 */
	b[5] = SVM_CAW_MAX_BLOCKS; /* MAXIMUM COMPARE AND WRITE LENGTH */
	svm_put_be16(b + 6, pb);   /* OPTIMAL TRANSFER LENGTH GRANULARITY */
	svm_put_be32(b + 8, g->max_xfer_blocks);
	svm_put_be32(b + 12, g->max_xfer_blocks);
	if (g->lbpu) {
		svm_put_be32(b + 20, SVM_UNMAP_MAX_LBAS);
		svm_put_be32(b + 24, SVM_UNMAP_MAX_DESCRIPTORS);
		svm_put_be32(b + 28, pb); /* OPTIMAL UNMAP GRANULARITY */
		b[32] = 0x80;		  /* UGAVALID, UNMAP GRANULARITY ALIGNMENT 0 */
	}
	svm_put_be64(b + 36, SVM_WRITE_SAME_MAX_BLOCKS);
	svm_put_be32(b + 44, atomic); /* MAXIMUM ATOMIC TRANSFER LENGTH */
	return 64;
}

/*
 * SBC-4 6.6.2 Block Device Characteristics: rotation rate and form factor
 * not reported. WABEREQ 01b where SANITIZE BLOCK ERASE is served: a read
 * of a block erased by it completes with GOOD status (deallocated blocks
 * read as zeroes or, on a block device, whatever the device returns);
 * WACEREQ 00b, no CRYPTOGRAPHIC ERASE.
 */
static size_t vpd_block_dev_chars(const struct vpd_ctx *x, uint8_t *b)
{
	if (x->g->lbpu)
		b[7] = 0x40; /* WABEREQ 01b */
	return 64;
}

/*
 * SBC-4 6.6.5 Logical Block Provisioning: LBPU, LBPWS, LBPWS10 (UNMAP and
 * WRITE SAME with UNMAP deallocate); LBPRZ 001b; PROVISIONING TYPE thin.
 */
static size_t vpd_lbp(const struct vpd_ctx *x, uint8_t *b)
{
	if (x->g->lbpu) {
		b[5] = 0xE0 | (x->g->lbprz ? 0x04 : 0);
		b[6] = 0x02;
	}
	return 8;
}

static const struct {
	uint8_t page;
	bool identity; /* carries the unit serial: refused until there is one */
	size_t (*build)(const struct vpd_ctx *x, uint8_t *b);
} vpd_table[] = {
    {0x00, false, vpd_supported},    {0x80, true, vpd_serial},		 {0x83, true, vpd_devid},
    {0x8F, false, vpd_third_party_copy},
    {0xB0, false, vpd_block_limits}, {0xB1, false, vpd_block_dev_chars}, {0xB2, false, vpd_lbp},
};

/*
 * INQUIRY (SPC-4 6.6). Pages 0x80 and 0x83 read the serial at every call,
 * as LIO does. Without one the LUN cannot be told from another, so rather
 * than an empty serial or a designator other LUNs share, those pages get
 * CHECK CONDITION (SPC-4 6.6.1 lets INQUIRY fail when it cannot return the
 * data asked for); docs/cfgstring.md "Identity".
 */
enum svm_sense svm_spc_inquiry(struct svm_lun *lun, struct svm_scsi_req *req,
			       const struct svm_cdb *c)
{
	char serial[SVM_SERIAL_MAX + 1] = "";
	struct vpd_ctx x = {.g = &req->g, .serial = serial};
	uint8_t b[SVM_EMUL_BUF_LEN] = {0};
	size_t len;

	if (!c->evpd)
		return svm_scsi_reply(req, b, inquiry_standard(&req->g, b), c->alloc_len);
	for (size_t i = 0; i < sizeof(vpd_table) / sizeof(vpd_table[0]); i++) {
		if (vpd_table[i].page != c->page)
			continue;
		if (vpd_table[i].identity && svm_lun_serial(lun, serial, sizeof(serial)))
			return SVM_SENSE_NOT_READY_MANUAL;
		len = vpd_table[i].build(&x, b);
		b[1] = c->page;
		svm_put_be16(b + 2, len - 4); /* PAGE LENGTH */
		return svm_scsi_reply(req, b, len, c->alloc_len);
	}
	return SVM_SENSE_INVALID_FIELD_IN_CDB;
}

/* MODE SENSE PAGE CONTROL (SPC-4 6.11): current, changeable, default values; saved: refused */
enum {
	MODE_PC_CURRENT = 0,
	MODE_PC_CHANGEABLE = 1,
	MODE_PC_DEFAULT = 2,
};

/* What a mode page builder sees: the geometry, and the LUN's software write protect. */
struct mode_ctx {
	const struct svm_lun_geom *g;
	bool swp;
};

/*
 * SBC-4 6.5.5 Caching mode page. Nothing changeable: WCE follows LIO's
 * emulate_write_cache attribute (docs/cfgstring.md), not MODE SELECT.
 */
static size_t mode_caching(const struct mode_ctx *x, uint8_t pc, uint8_t *b)
{
	b[0] = 0x08;
	b[1] = 0x12;
	if (pc != MODE_PC_CHANGEABLE && x->g->wce)
		b[2] = 0x04; /* WCE */
	return 20;
}

/* The control mode page's SWP bit (SPC-4 7.5.8, byte 4 bit 3) */
#define MODE_CONTROL_SWP_BYTE 4
#define MODE_CONTROL_SWP      0x08

/*
 * SPC-4 7.5.8 Control mode page: unrestricted reordering, descriptor sense
 * off, no busy time-out. SWP is the one changeable field (svm_lun_swp),
 * 0 by default.
 */
static size_t mode_control(const struct mode_ctx *x, uint8_t pc, uint8_t *b)
{
	b[0] = 0x0A;
	b[1] = 0x0A;
	if (pc == MODE_PC_CHANGEABLE) {
		b[MODE_CONTROL_SWP_BYTE] = MODE_CONTROL_SWP;
		return 12;
	}
	b[3] = 0x10; /* QUEUE ALGORITHM MODIFIER 1 */
	if (pc == MODE_PC_CURRENT && x->swp)
		b[MODE_CONTROL_SWP_BYTE] = MODE_CONTROL_SWP;
	svm_put_be16(b + 8, 0xFFFF); /* BUSY TIMEOUT PERIOD: unlimited */
	return 12;
}

static const struct {
	uint8_t page;
	size_t (*build)(const struct mode_ctx *x, uint8_t pc, uint8_t *b);
} mode_table[] = {
    {0x08, mode_caching},
    {0x0A, mode_control},
};

/* SBC-4 6.5.1: DEVICE-SPECIFIC PARAMETER of the mode parameter header: WP, DPOFUA */
#define MODE_WP	    0x80
#define MODE_DPOFUA 0x10

enum svm_sense svm_spc_mode_sense(struct svm_lun *lun, struct svm_scsi_req *req,
				  const struct svm_cdb *c)
{
	const struct svm_lun_geom *g = &req->g;
	struct mode_ctx x = {.g = g, .swp = svm_lun_swp(lun)};
	bool ten = c->opcode == SVM_OP_MODE_SENSE10, all = c->page == 0x3F;
	size_t hdr = ten ? 8 : 4, bd = c->dbd ? 0 : (c->llbaa ? 16 : 8), len, found = 0;
	/* SPC-4 7.5.8: with SWP set, MODE SENSE reports WP */
	uint8_t dsp = MODE_DPOFUA | (x.swp ? MODE_WP : 0);
	uint8_t b[SVM_EMUL_BUF_LEN] = {0}, *p;

	if (c->subpage && !(all && c->subpage == 0xFF))
		return SVM_SENSE_INVALID_FIELD_IN_CDB;
	/*
	 * mode parameter block descriptor (SPC-4 7.5.5, SBC-4 6.5.2): the short
	 * one's NUMBER OF LOGICAL BLOCKS is 4 bytes, FFFFFFFFh when the count
	 * does not fit
	 */
	p = b + hdr;
	if (bd == 8) {
		svm_put_be32(p, g->num_lbas > UINT32_MAX ? UINT32_MAX : g->num_lbas);
		svm_put_be32(p + 4, g->block_size);
	} else if (bd == 16) {
		svm_put_be64(p, g->num_lbas);
		svm_put_be32(p + 12, g->block_size);
	}
	len = hdr + bd;
	for (size_t i = 0; i < sizeof(mode_table) / sizeof(mode_table[0]); i++) {
		if (!all && mode_table[i].page != c->page)
			continue;
		len += mode_table[i].build(&x, c->pc, b + len);
		found++;
	}
	if (!found)
		return SVM_SENSE_INVALID_FIELD_IN_CDB;
	/* mode parameter header (SPC-4 7.5.4) */
	if (ten) {
		svm_put_be16(b, len - 2);
		b[3] = dsp;
		b[4] = c->llbaa && bd == 16 ? 0x01 : 0; /* LONGLBA */
		svm_put_be16(b + 6, bd);
	} else {
		b[0] = len - 1;
		b[2] = dsp;
		b[3] = bd;
	}
	return svm_scsi_reply(req, b, len, c->alloc_len);
}

/*
 * One mode page of a MODE SELECT, against the page MODE SENSE reports: a
 * page this LUN has, in the page_0 format, of the same PAGE LENGTH, every
 * bit its changeable values leave clear equal to the current value, else
 * INVALID FIELD IN PARAMETER LIST with *ptr at the first offending field
 * (SPC-4 6.9: a field not changeable, or a page not supported). PS (byte 0
 * bit 7) is reserved in MODE SELECT and not looked at. *swp gets the
 * control page's SWP. Pure.
 */
static enum svm_sense mode_select_page(const struct mode_ctx *x, const uint8_t *list,
				       const struct svm_mode_page *pg, bool *swp,
				       struct svm_sense_ptr *ptr)
{
	uint8_t cur[SVM_EMUL_BUF_LEN] = {0}, chg[SVM_EMUL_BUF_LEN] = {0};
	const uint8_t *p = list + pg->off;
	size_t n = 0;

	for (size_t i = 0; i < sizeof(mode_table) / sizeof(mode_table[0]) && !pg->spf; i++) {
		if (mode_table[i].page != pg->code)
			continue;
		n = mode_table[i].build(x, MODE_PC_CURRENT, cur);
		mode_table[i].build(x, MODE_PC_CHANGEABLE, chg);
	}
	*ptr = (struct svm_sense_ptr){.valid = true, .bit_valid = true, .bit = 7, .field = pg->off};
	if (!n) {
		ptr->bit = pg->spf ? 6 : 5; /* SPF, or PAGE CODE */
		return SVM_SENSE_INVALID_FIELD_IN_PARAM;
	}
	if (pg->len != n) {
		ptr->field = pg->off + 1; /* PAGE LENGTH */
		return SVM_SENSE_INVALID_FIELD_IN_PARAM;
	}
	for (size_t i = 2; i < n; i++) {
		unsigned diff = (p[i] ^ cur[i]) & ~chg[i] & 0xff;

		if (diff) {
			ptr->field = pg->off + i;
			ptr->bit = 31 - __builtin_clz(diff);
			return SVM_SENSE_INVALID_FIELD_IN_PARAM;
		}
	}
	*ptr = (struct svm_sense_ptr){0};
	if (pg->code == 0x0A)
		*swp = p[MODE_CONTROL_SWP_BYTE] & MODE_CONTROL_SWP;
	return SVM_SENSE_OK;
}

/*
 * SPC-4 6.9/6.10 MODE SELECT(6/10). The whole list is checked
 * (svm_mode_select_parse, then each page) before anything changes, so a
 * list refused changes nothing. What can change: the control page's SWP;
 * every other field must be sent as MODE SENSE reports it. SWP is per LUN,
 * not per I_T nexus, and no MODE PARAMETERS CHANGED unit attention is
 * raised for the other initiators: libtcmu offers none (docs/commands.md).
 */
enum svm_sense svm_spc_mode_select(struct svm_lun *lun, struct svm_scsi_req *req,
				   const struct svm_cdb *c)
{
	const struct svm_lun_geom *g = &req->g;
	struct mode_ctx x = {.g = g, .swp = svm_lun_swp(lun)};
	bool ten = c->opcode == SVM_OP_MODE_SELECT10, swp = x.swp;
	struct svm_mode_list ml;
	struct svm_mode_page pg;
	enum svm_sense s;
	uint8_t *buf;
	size_t off;

	if (!c->alloc_len)
		return SVM_SENSE_OK; /* an empty parameter list: nothing to change */
	if (c->alloc_len > svm_iov_length(req->iov, req->iov_cnt))
		return SVM_SENSE_PARAM_LIST_LENGTH;
	buf = malloc(c->alloc_len);
	if (!buf)
		return SVM_SENSE_TASK_SET_FULL;
	svm_iov_to_buf(req->iov, req->iov_cnt, 0, buf, c->alloc_len);
	req->has_ptr = true;
	s = svm_mode_select_parse(buf, c->alloc_len, ten, g->block_size, g->num_lbas, &ml,
				  &req->ptr);
	for (off = ml.pages; !s && svm_mode_page_next(buf, c->alloc_len, &off, &pg);)
		s = mode_select_page(&x, buf, &pg, &swp, &req->ptr);
	free(buf);
	if (s)
		return s;
	req->has_ptr = false;
	if (swp != x.swp) {
		svm_lun_set_swp(lun, swp);
		svm_log(SVM_LOG_INFO, "LUN on %s: software write protect %s (MODE SELECT)",
			svm_lun_source(lun), swp ? "on" : "off");
	}
	return SVM_SENSE_OK;
}

/* SPC-4 6.35.4 command timeouts descriptor (12 bytes): no nominal, SVM_CMD_TIMEOUT_S recommended */
static size_t rsoc_timeouts(uint8_t *b)
{
	svm_put_be16(b, 0x0A); /* DESCRIPTOR LENGTH */
	svm_put_be32(b + 8, SVM_CMD_TIMEOUT_S);
	return 12;
}

/*
 * SPC-4 6.35.2 all_commands parameter data, into b (NULL: only measured):
 * an 8-byte command descriptor (20 with RCTD) for each command the LUN
 * serves, in order of opcode and service action. Returns its length.
 */
static size_t rsoc_all(const struct svm_lun_geom *g, bool rctd, uint8_t *b)
{
	struct svm_scsi_cmd_desc d;
	size_t len = 4;
	bool has_sa;

	for (unsigned op = 0; op < 256; op++) {
		for (unsigned sa = 0; sa < 32; sa++) {
			int served = svm_scsi_describe(g, op, sa, &has_sa, &d);

			if (served && b) {
				uint8_t *p = b + len;

				p[0] = d.opcode;
				svm_put_be16(p + 2, d.sa);
				/* CTDP, SERVACTV */
				p[5] = (rctd ? 0x02 : 0) | (d.servactv ? 0x01 : 0);
				svm_put_be16(p + 6, d.cdb_len);
				if (rctd)
					rsoc_timeouts(p + 8);
			}
			if (served)
				len += rctd ? 20 : 8;
			if (!has_sa)
				break;
		}
	}
	if (b)
		svm_put_be32(b, len - 4); /* COMMAND DATA LENGTH */
	return len;
}

/*
 * SPC-4 6.35.3 one_command parameter data for the command REPORTING
 * OPTIONS names: 001b an opcode without service actions (one with them is
 * INVALID FIELD IN CDB), 010b an opcode and service action (an opcode
 * without them likewise refused), 011b either (for an opcode without
 * service actions, REQUESTED SERVICE ACTION must be 0 for it to match).
 * A command not served is SUPPORT 001b with no CDB usage data.
 */
static enum svm_sense rsoc_one(const struct svm_lun_geom *g, const struct svm_cdb *c, uint8_t *b,
			       size_t *len)
{
	struct svm_scsi_cmd_desc d;
	bool has_sa;
	int served = svm_scsi_describe(g, c->req_opcode, c->req_sa, &has_sa, &d);

	if ((c->rsoc_options == 1 && has_sa) || (c->rsoc_options == 2 && !has_sa))
		return SVM_SENSE_INVALID_REPORTING_OPTIONS;
	if (c->rsoc_options == 3 && !has_sa && c->req_sa)
		served = 0;
	*len = 4;
	if (!served) {
		b[1] = 0x01; /* SUPPORT 001b: not supported */
		return SVM_SENSE_OK;
	}
	b[1] = (c->rctd ? 0x80 : 0) | 0x03; /* CTDP, SUPPORT 011b: supported as the standard says */
	svm_put_be16(b + 2, d.cdb_len);
	memcpy(b + 4, d.usage, d.cdb_len);
	*len += d.cdb_len;
	if (c->rctd)
		*len += rsoc_timeouts(b + *len);
	return SVM_SENSE_OK;
}

/*
 * SPC-4 6.35 REPORT SUPPORTED OPERATION CODES: what the dispatch table
 * serves on this LUN (svm_scsi_describe), a command that needs a store
 * that deallocates (UNMAP, SANITIZE BLOCK ERASE) only where it does.
 */
enum svm_sense svm_spc_rsoc(struct svm_lun *lun, struct svm_scsi_req *req, const struct svm_cdb *c)
{
	uint8_t one[4 + 16 + 12] = {0}, *b;
	enum svm_sense s;
	size_t len;

	(void)lun;
	if (c->rsoc_options) {
		s = rsoc_one(&req->g, c, one, &len);
		return s ? s : svm_scsi_reply(req, one, len, c->alloc_len);
	}
	len = rsoc_all(&req->g, c->rctd, NULL);
	b = calloc(1, len);
	if (!b)
		return SVM_SENSE_TASK_SET_FULL;
	rsoc_all(&req->g, c->rctd, b);
	s = svm_scsi_reply(req, b, len, c->alloc_len);
	free(b);
	return s;
}
