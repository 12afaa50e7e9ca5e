/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SPC-4 primary commands, emulated from the LUN's geometry and identity:
 * no store I/O. The executors of the dispatch table in scsi.c.
 */
#include "scsi_int.h"
#include "cdb.h"
#include "limits.h"

#include <string.h>

#define VENDOR	 "LIO-ORG"
#define PRODUCT	 "tcmu-svm"
#define REVISION "0001"

enum svm_sense svm_spc_tur(struct svm_lun *lun, struct svm_scsi_req *req, const struct svm_cdb *c)
{
	(void)lun, (void)req, (void)c;
	return SVM_SENSE_OK;
}

/* SPC-4 6.29: no deferred errors are kept, so the answer is always NO SENSE. */
enum svm_sense svm_spc_request_sense(struct svm_lun *lun, struct svm_scsi_req *req,
				     const struct svm_cdb *c)
{
	uint8_t buf[SVM_SENSE_FIXED_LEN] = {0};
	size_t len;

	(void)lun;
	if (c->desc) {
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

	(void)g;
	b[0] = 0x00; /* PERIPHERAL QUALIFIER 0, DEVICE TYPE 0 (direct access block) */
	b[2] = 0x06; /* VERSION: SPC-4 */
	b[3] = 0x12; /* HISUP, RESPONSE DATA FORMAT 2 */
	b[7] = 0x02; /* CMDQUE */
	pad_copy(b + 8, VENDOR, 8);
	pad_copy(b + 16, PRODUCT, 16);
	pad_copy(b + 32, REVISION, 4);
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		svm_put_be16(b + 58 + 2 * i, versions[i]);
	b[4] = 66 - 5; /* ADDITIONAL LENGTH */
	return 66;
}

static const uint8_t vpd_pages[] = {0x00, 0x80, 0x83, 0xB0, 0xB1, 0xB2};

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

/* SBC-4 6.6.4 Block Limits */
static size_t vpd_block_limits(const struct vpd_ctx *x, uint8_t *b)
{
	const struct svm_lun_geom *g = x->g;
	uint32_t gran = SVM_UNMAP_GRANULARITY_BYTES / g->block_size;

	b[4] = 0x01;		/* WSNZ: WRITE SAME of 0 blocks is refused */
	b[5] = SVM_CAW_MAX_BLOCKS; /* MAXIMUM COMPARE AND WRITE LENGTH */
	svm_put_be16(b + 6, 1); /* OPTIMAL TRANSFER LENGTH GRANULARITY */
	svm_put_be32(b + 8, g->max_xfer_blocks);
	svm_put_be32(b + 12, g->max_xfer_blocks);
	if (g->lbpu) {
		svm_put_be32(b + 20, SVM_UNMAP_MAX_LBAS);
		svm_put_be32(b + 24, SVM_UNMAP_MAX_DESCRIPTORS);
		svm_put_be32(b + 28, gran ? gran : 1);
	}
	svm_put_be64(b + 36, SVM_WRITE_SAME_MAX_BLOCKS);
	return 64;
}

/* SBC-4 6.6.2 Block Device Characteristics: rotation rate and form factor not reported. */
static size_t vpd_block_dev_chars(const struct vpd_ctx *x, uint8_t *b)
{
	(void)x, (void)b;
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

/* SBC-4 6.5.5 Caching mode page; changeable values report nothing changeable. */
static size_t mode_caching(const struct svm_lun_geom *g, uint8_t pc, uint8_t *b)
{
	b[0] = 0x08;
	b[1] = 0x12;
	if (pc != 1 && g->wce)
		b[2] = 0x04; /* WCE */
	return 20;
}

/* SPC-4 7.5.8 Control mode page: unrestricted reordering, descriptor sense off. */
static size_t mode_control(const struct svm_lun_geom *g, uint8_t pc, uint8_t *b)
{
	(void)g;
	b[0] = 0x0A;
	b[1] = 0x0A;
	if (pc != 1)
		b[3] = 0x10;	     /* QUEUE ALGORITHM MODIFIER 1 */
	svm_put_be16(b + 8, 0xFFFF); /* BUSY TIMEOUT PERIOD: unlimited */
	return 12;
}

static const struct {
	uint8_t page;
	size_t (*build)(const struct svm_lun_geom *g, uint8_t pc, uint8_t *b);
} mode_table[] = {
    {0x08, mode_caching},
    {0x0A, mode_control},
};

enum svm_sense svm_spc_mode_sense(struct svm_lun *lun, struct svm_scsi_req *req,
				  const struct svm_cdb *c)
{
	const struct svm_lun_geom *g = &req->g;
	bool ten = c->opcode == SVM_OP_MODE_SENSE10, all = c->page == 0x3F;
	size_t hdr = ten ? 8 : 4, bd = c->dbd ? 0 : (c->llbaa ? 16 : 8), len, found = 0;
	uint8_t b[SVM_EMUL_BUF_LEN] = {0}, *p;
	(void)lun;

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
		len += mode_table[i].build(g, c->pc, b + len);
		found++;
	}
	if (!found)
		return SVM_SENSE_INVALID_FIELD_IN_CDB;
	/* mode parameter header (SPC-4 7.5.4): DPOFUA in the device-specific byte */
	if (ten) {
		svm_put_be16(b, len - 2);
		b[3] = 0x10;
		b[4] = c->llbaa && bd == 16 ? 0x01 : 0; /* LONGLBA */
		svm_put_be16(b + 6, bd);
	} else {
		b[0] = len - 1;
		b[2] = 0x10;
		b[3] = bd;
	}
	return svm_scsi_reply(req, b, len, c->alloc_len);
}
