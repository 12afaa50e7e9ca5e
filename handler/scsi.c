/* SPDX-License-Identifier: Apache-2.0 */
#include "scsi.h"
#include "cdb.h"
#include "iov.h"
#include "limits.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define VENDOR	 "LIO-ORG"
#define PRODUCT	 "tcmu-svm"
#define REVISION "0001"

typedef enum svm_sense (*exec_fn)(struct svm_lun *lun, struct svm_scsi_req *req,
				  const struct svm_cdb *c);

/* ---- helpers ---------------------------------------------------------- */

/* SBC-4 4.5: the blocks [lba, lba + n) must lie within the capacity. */
static enum svm_sense check_range(const struct svm_lun_geom *g, uint64_t lba, uint64_t n)
{
	if (lba > g->num_lbas || n > g->num_lbas - lba)
		return SVM_SENSE_LBA_OUT_OF_RANGE;
	return SVM_SENSE_OK;
}

/*
 * The range of a data command. A READ or WRITE longer than the Block Limits
 * MAXIMUM TRANSFER LENGTH is not refused: the data is already in the TCMU
 * data area, and LIO's own backstores accept it too. VERIFY is (exec_verify).
 */
static enum svm_sense check_xfer(const struct svm_lun_geom *g, const struct svm_cdb *c)
{
	return check_range(g, c->lba, c->nblocks);
}

static enum svm_sense io_error(int err, bool write, const struct svm_lun *lun, uint64_t off)
{
	svm_log(SVM_LOG_ERR, "%s of store %s at byte %llu failed: %s", write ? "write" : "read",
		svm_lun_source(lun), (unsigned long long)off, strerror(-err));
	return svm_sense_from_errno(-err, write);
}

/*
 * Copy an emulated reply into the data-in buffer, clipped to ALLOCATION
 * LENGTH; svm_scsi_execute zeroes the rest of the buffer.
 */
static enum svm_sense reply(struct svm_scsi_req *req, const uint8_t *buf, size_t len,
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
static size_t chunk_len(uint32_t block_size, size_t limit, uint64_t total)
{
	size_t n = limit - limit % block_size;

	if (n < block_size)
		n = block_size;
	return total < n ? (size_t)total : n;
}

/* ---- data commands ---------------------------------------------------- */

static enum svm_sense exec_read(struct svm_lun *lun, struct svm_scsi_req *req,
				const struct svm_cdb *c)
{
	const struct svm_lun_geom *g = &req->g;
	uint64_t off = c->lba * g->block_size, want = (uint64_t)c->nblocks * g->block_size;
	enum svm_sense s = check_xfer(g, c);
	size_t len;
	int ret;

	if (s)
		return s;
	/* A data-in buffer shorter than the transfer gets what fits (underflow). */
	len = svm_iov_length(req->iov, req->iov_cnt);
	if (want < len)
		len = (size_t)want;
	if (!len)
		return SVM_SENSE_OK;
	if (req->cached_only) {
		req->would_block = svm_lun_read_cached(lun, req->iov, req->iov_cnt, off, len) != 0;
		req->filled = len;
		return SVM_SENSE_OK;
	}
	ret = svm_lun_read(lun, req->iov, req->iov_cnt, off, len);
	if (ret)
		return io_error(ret, false, lun, off);
	req->filled = len;
	return SVM_SENSE_OK;
}

/*
 * WRITE and WRITE AND VERIFY (whose parser sets FUA: the data is on the
 * medium before status, which is our verify). The data-out buffer must
 * carry exactly the CDB's TRANSFER LENGTH, as LIO requires.
 */
static enum svm_sense exec_write(struct svm_lun *lun, struct svm_scsi_req *req,
				 const struct svm_cdb *c)
{
	const struct svm_lun_geom *g = &req->g;
	uint64_t off = c->lba * g->block_size, len = (uint64_t)c->nblocks * g->block_size;
	enum svm_sense s = check_xfer(g, c);
	int ret;

	if (s)
		return s;
	if (svm_iov_length(req->iov, req->iov_cnt) != len)
		return SVM_SENSE_INVALID_FIELD_IN_CDB;
	if (!len)
		return SVM_SENSE_OK;
	/* len is the buffer's own length: it fits a size_t */
	ret = svm_lun_write(lun, req->iov, req->iov_cnt, off, (size_t)len, c->fua);
	return ret ? io_error(ret, true, lun, off) : SVM_SENSE_OK;
}

/*
 * VERIFY with BYTCHK 01b compares the data-out buffer with the medium;
 * 11b compares one data-out block with every block in the range. The
 * INFORMATION field of a MISCOMPARE is the data-out offset of the first
 * differing byte (SBC-4 5.34).
 *
 * With 11b, VERIFICATION LENGTH is held to the Block Limits MAXIMUM
 * TRANSFER LENGTH (SBC-4 6.6.4 lets a device server refuse more with
 * INVALID FIELD IN CDB): one block of data-out would otherwise make the LUN
 * read and compare its whole capacity for one command. 01b compares only
 * the data-out the initiator sent (the kernel bounds it by the TCMU data
 * area) and 00b reads nothing here, so those take longer lengths, as READ
 * and WRITE do and as LIO does (it checks only the range of a VERIFY);
 * libiscsi, which over iSCSI ignores the Block Limits page, sends them up
 * to 256 blocks. The LBA range is checked first, so a command that is both
 * out of range and too long gets LOGICAL BLOCK ADDRESS OUT OF RANGE.
 */
static enum svm_sense exec_verify(struct svm_lun *lun, struct svm_scsi_req *req,
				  const struct svm_cdb *c)
{
	const struct svm_lun_geom *g = &req->g;
	uint64_t off = c->lba * g->block_size, total = (uint64_t)c->nblocks * g->block_size;
	uint64_t need = c->bytchk == 3 ? g->block_size : total, done = 0;
	enum svm_sense s = check_xfer(g, c);
	uint8_t *medium, *expect;
	size_t chunk;

	if (s)
		return s;
	if (c->bytchk == 3 && g->max_xfer_blocks && c->nblocks > g->max_xfer_blocks)
		return SVM_SENSE_INVALID_FIELD_IN_CDB;
	if (c->bytchk == 0 || !total)
		return SVM_SENSE_OK;
	if (svm_iov_length(req->iov, req->iov_cnt) < need)
		return SVM_SENSE_INVALID_FIELD_IN_CDB;
	chunk = chunk_len(g->block_size, SVM_VERIFY_CHUNK_BYTES, total);
	medium = malloc(chunk);
	expect = malloc(chunk);
	if (!medium || !expect) {
		s = SVM_SENSE_TASK_SET_FULL;
		goto free_bufs;
	}
	if (c->bytchk == 3) {
		/* chunks are whole blocks: the single block tiled once serves every chunk */
		svm_iov_to_buf(req->iov, req->iov_cnt, 0, expect, g->block_size);
		for (size_t o = g->block_size; o < chunk; o += g->block_size)
			memcpy(expect + o, expect, g->block_size);
	}
	while (done < total) {
		size_t n = total - done < chunk ? (size_t)(total - done) : chunk;
		struct iovec v = {.iov_base = medium, .iov_len = n};
		int ret = svm_lun_read(lun, &v, 1, off + done, n);

		if (ret) {
			s = io_error(ret, false, lun, off + done);
			break;
		}
		/* 01b: done < total <= the buffer's length, so it fits a size_t */
		if (c->bytchk != 3)
			svm_iov_to_buf(req->iov, req->iov_cnt, (size_t)done, expect, n);
		if (memcmp(medium, expect, n)) {
			size_t i = 0;

			while (medium[i] == expect[i])
				i++;
			req->has_info = true;
			req->info = c->bytchk == 3 ? (done + i) % g->block_size : done + i;
			s = SVM_SENSE_MISCOMPARE_VERIFY;
			break;
		}
		done += n;
	}
free_bufs:
	free(medium);
	free(expect);
	return s;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	return n == 0 || (p[0] == 0 && !memcmp(p, p + 1, n - 1));
}

/*
 * WRITE SAME: one block (or zeroes with NDOB) repeated over the range. A
 * zero block is deallocated when UNMAP is set and deallocated blocks read
 * as zero, else zeroed without transfer where the store can; any other
 * block is tiled into a bounded buffer and written in chunks.
 */
static enum svm_sense exec_write_same(struct svm_lun *lun, struct svm_scsi_req *req,
				      const struct svm_cdb *c)
{
	const struct svm_lun_geom *g = &req->g;
	uint64_t off = c->lba * g->block_size, total = (uint64_t)c->nblocks * g->block_size;
	size_t chunk = chunk_len(g->block_size, SVM_WRITE_SAME_CHUNK_BYTES, total);
	enum svm_sense s = check_range(g, c->lba, c->nblocks);
	uint8_t *buf;
	int ret = 0;

	if (s)
		return s;
	if (!c->ndob && svm_iov_length(req->iov, req->iov_cnt) != g->block_size)
		return SVM_SENSE_INVALID_FIELD_IN_CDB;
	buf = calloc(1, chunk);
	if (!buf)
		return SVM_SENSE_TASK_SET_FULL;
	if (!c->ndob)
		svm_iov_to_buf(req->iov, req->iov_cnt, 0, buf, g->block_size);
	if (all_zero(buf, g->block_size)) {
		ret = c->unmap && g->lbprz ? svm_lun_discard(lun, off, total)
					   : svm_lun_write_zeroes(lun, off, total);
		if (ret != -EOPNOTSUPP)
			goto done;
		ret = 0;
	}
	for (size_t o = g->block_size; o < chunk; o += g->block_size)
		memcpy(buf + o, buf, g->block_size);
	for (uint64_t done = 0; !ret && done < total; done += chunk) {
		size_t n = total - done < chunk ? (size_t)(total - done) : chunk;
		struct iovec v = {.iov_base = buf, .iov_len = n};

		ret = svm_lun_write(lun, &v, 1, off + done, n, false);
	}
done:
	free(buf);
	return ret ? io_error(ret, true, lun, off) : SVM_SENSE_OK;
}

static enum svm_sense exec_prefetch(struct svm_lun *lun, struct svm_scsi_req *req,
				    const struct svm_cdb *c)
{
	const struct svm_lun_geom *g = &req->g;
	uint64_t n = c->whole_lun && c->lba <= g->num_lbas ? g->num_lbas - c->lba : c->nblocks;
	enum svm_sense s = check_range(g, c->lba, n);

	(void)req;
	if (!s && n)
		svm_lun_prefetch(lun, c->lba * g->block_size, n * g->block_size);
	return s;
}

static enum svm_sense exec_sync_cache(struct svm_lun *lun, struct svm_scsi_req *req,
				      const struct svm_cdb *c)
{
	const struct svm_lun_geom *g = &req->g;
	enum svm_sense s = check_range(g, c->lba, c->whole_lun ? 0 : c->nblocks);
	int ret;

	(void)req;
	if (s)
		return s;
	ret = svm_lun_flush(lun);
	return ret ? io_error(ret, true, lun, 0) : SVM_SENSE_OK;
}

static enum svm_sense exec_unmap(struct svm_lun *lun, struct svm_scsi_req *req,
				 const struct svm_cdb *c)
{
	const struct svm_lun_geom *g = &req->g;
	struct svm_unmap_desc descs[SVM_UNMAP_MAX_DESCRIPTORS];
	unsigned count;
	enum svm_sense s;
	uint8_t *buf;

	if (!g->lbpu)
		return SVM_SENSE_INVALID_OPCODE;
	if (c->alloc_len > svm_iov_length(req->iov, req->iov_cnt))
		return SVM_SENSE_PARAM_LIST_LENGTH;
	buf = malloc(c->alloc_len ? c->alloc_len : 1);
	if (!buf)
		return SVM_SENSE_TASK_SET_FULL;
	svm_iov_to_buf(req->iov, req->iov_cnt, 0, buf, c->alloc_len);
	s = svm_unmap_parse(buf, c->alloc_len, g->num_lbas, descs, &count);
	free(buf);
	for (unsigned i = 0; !s && i < count; i++) {
		uint64_t off = descs[i].lba * g->block_size;
		int ret = svm_lun_discard(lun, off, (uint64_t)descs[i].nblocks * g->block_size);

		if (ret)
			s = io_error(ret, true, lun, off);
	}
	return s;
}

/* ---- emulated commands ------------------------------------------------ */

static enum svm_sense exec_tur(struct svm_lun *lun, struct svm_scsi_req *req,
			       const struct svm_cdb *c)
{
	(void)lun, (void)req, (void)c;
	return SVM_SENSE_OK;
}

/* SPC-4 6.29: no deferred errors are kept, so the answer is always NO SENSE. */
static enum svm_sense exec_request_sense(struct svm_lun *lun, struct svm_scsi_req *req,
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
	return reply(req, buf, len, c->alloc_len);
}

static enum svm_sense exec_start_stop(struct svm_lun *lun, struct svm_scsi_req *req,
				      const struct svm_cdb *c)
{
	int ret;

	(void)req;
	/* Stopping: the medium keeps spinning, but the cache is written out first. */
	if (c->start || c->no_flush)
		return SVM_SENSE_OK;
	ret = svm_lun_flush(lun);
	return ret ? io_error(ret, true, lun, 0) : SVM_SENSE_OK;
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

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
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
	static const uint8_t naa_prefix[] = {6, 0, 0, 1, 4, 0, 5}; /* NAA 6, OUI 00-14-05 */
	uint8_t nib[32] = {0}, *d = b + 4;
	size_t k = sizeof(naa_prefix), sl = strlen(x->serial), tl;

	memcpy(nib, naa_prefix, sizeof(naa_prefix));
	for (const char *p = x->serial; *p && k < 32; p++)
		if (hexval(*p) >= 0)
			nib[k++] = hexval(*p);
	d[0] = 0x01; /* PROTOCOL IDENTIFIER 0, CODE SET binary */
	d[1] = 0x03; /* PIV 0, ASSOCIATION logical unit, TYPE NAA */
	d[3] = 16;
	for (int i = 0; i < 16; i++)
		d[4 + i] = nib[2 * i] << 4 | nib[2 * i + 1];
	d += 20;

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
static enum svm_sense exec_inquiry(struct svm_lun *lun, struct svm_scsi_req *req,
				   const struct svm_cdb *c)
{
	char serial[SVM_SERIAL_MAX + 1] = "";
	struct vpd_ctx x = {.g = &req->g, .serial = serial};
	uint8_t b[SVM_EMUL_BUF_LEN] = {0};
	size_t len;

	if (!c->evpd)
		return reply(req, b, inquiry_standard(&req->g, b), c->alloc_len);
	for (size_t i = 0; i < sizeof(vpd_table) / sizeof(vpd_table[0]); i++) {
		if (vpd_table[i].page != c->page)
			continue;
		if (vpd_table[i].identity && svm_lun_serial(lun, serial, sizeof(serial)))
			return SVM_SENSE_NOT_READY_MANUAL;
		len = vpd_table[i].build(&x, b);
		b[1] = c->page;
		svm_put_be16(b + 2, len - 4); /* PAGE LENGTH */
		return reply(req, b, len, c->alloc_len);
	}
	return SVM_SENSE_INVALID_FIELD_IN_CDB;
}

static enum svm_sense exec_read_capacity10(struct svm_lun *lun, struct svm_scsi_req *req,
					   const struct svm_cdb *c)
{
	const struct svm_lun_geom *g = &req->g;
	uint8_t b[8];
	(void)lun;

	svm_put_be32(b, g->num_lbas - 1 > UINT32_MAX ? UINT32_MAX : g->num_lbas - 1);
	svm_put_be32(b + 4, g->block_size);
	return reply(req, b, sizeof(b), c->alloc_len);
}

static enum svm_sense exec_service_action_in16(struct svm_lun *lun, struct svm_scsi_req *req,
					       const struct svm_cdb *c)
{
	const struct svm_lun_geom *g = &req->g;
	uint8_t b[32] = {0};
	(void)lun;

	/* SBC-4 5.21.2 READ CAPACITY(16) parameter data */
	svm_put_be64(b, g->num_lbas - 1);
	svm_put_be32(b + 8, g->block_size);
	if (g->lbpu)
		b[14] = 0x80 | (g->lbprz ? 0x40 : 0); /* LBPME, LBPRZ */
	return reply(req, b, sizeof(b), c->alloc_len);
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

static enum svm_sense exec_mode_sense(struct svm_lun *lun, struct svm_scsi_req *req,
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
	return reply(req, b, len, c->alloc_len);
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
	exec_fn exec;
	enum run_on run;
	bool anonymous; /* served before the LUN has a unit serial (see exec_inquiry) */
	/*
	 * The buffer is data-out, the initiator's own: never zeroed. Every other
	 * command's buffer goes back to the initiator whole (svm_scsi_execute).
	 */
	bool data_out;
} scsi_ops[256] = {
    [SVM_OP_TEST_UNIT_READY] =
	OP("TEST UNIT READY", svm_cdb_parse_none, exec_tur, .run = RUN_INLINE),
    [SVM_OP_REQUEST_SENSE] = OP("REQUEST SENSE", svm_cdb_parse_request_sense, exec_request_sense,
				.run = RUN_INLINE, .anonymous = true),
    [SVM_OP_READ6] = OP("READ(6)", svm_cdb_parse_rw6, exec_read),
    [SVM_OP_WRITE6] = OP("WRITE(6)", svm_cdb_parse_rw6, exec_write, .data_out = true),
    [SVM_OP_INQUIRY] =
	OP("INQUIRY", svm_cdb_parse_inquiry, exec_inquiry, .run = RUN_INLINE, .anonymous = true),
    [SVM_OP_MODE_SENSE6] =
	OP("MODE SENSE(6)", svm_cdb_parse_mode_sense, exec_mode_sense, .run = RUN_INLINE),
    [SVM_OP_START_STOP_UNIT] = OP("START STOP UNIT", svm_cdb_parse_start_stop, exec_start_stop),
    [SVM_OP_READ_CAPACITY10] = OP("READ CAPACITY(10)", svm_cdb_parse_read_capacity10,
				  exec_read_capacity10, .run = RUN_INLINE),
    [SVM_OP_READ10] = OP("READ(10)", svm_cdb_parse_rw10, exec_read, .run = RUN_RW),
    [SVM_OP_WRITE10] =
	OP("WRITE(10)", svm_cdb_parse_rw10, exec_write, .run = RUN_RW, .data_out = true),
    [SVM_OP_WRITE_VERIFY10] =
	OP("WRITE AND VERIFY(10)", svm_cdb_parse_write_verify, exec_write, .data_out = true),
    [SVM_OP_VERIFY10] = OP("VERIFY(10)", svm_cdb_parse_verify, exec_verify, .data_out = true),
    [SVM_OP_PREFETCH10] = OP("PRE-FETCH(10)", svm_cdb_parse_prefetch, exec_prefetch),
    [SVM_OP_SYNC_CACHE10] =
	OP("SYNCHRONIZE CACHE(10)", svm_cdb_parse_sync_cache, exec_sync_cache, .run = RUN_RW),
    [SVM_OP_WRITE_SAME10] =
	OP("WRITE SAME(10)", svm_cdb_parse_write_same, exec_write_same, .data_out = true),
    [SVM_OP_UNMAP] = OP("UNMAP", svm_cdb_parse_unmap, exec_unmap, .data_out = true),
    [SVM_OP_MODE_SENSE10] =
	OP("MODE SENSE(10)", svm_cdb_parse_mode_sense, exec_mode_sense, .run = RUN_INLINE),
    [SVM_OP_READ16] = OP("READ(16)", svm_cdb_parse_rw16, exec_read, .run = RUN_RW),
    [SVM_OP_WRITE16] =
	OP("WRITE(16)", svm_cdb_parse_rw16, exec_write, .run = RUN_RW, .data_out = true),
    [SVM_OP_WRITE_VERIFY16] =
	OP("WRITE AND VERIFY(16)", svm_cdb_parse_write_verify, exec_write, .data_out = true),
    [SVM_OP_VERIFY16] = OP("VERIFY(16)", svm_cdb_parse_verify, exec_verify, .data_out = true),
    [SVM_OP_PREFETCH16] = OP("PRE-FETCH(16)", svm_cdb_parse_prefetch, exec_prefetch),
    [SVM_OP_SYNC_CACHE16] =
	OP("SYNCHRONIZE CACHE(16)", svm_cdb_parse_sync_cache, exec_sync_cache, .run = RUN_RW),
    [SVM_OP_WRITE_SAME16] =
	OP("WRITE SAME(16)", svm_cdb_parse_write_same, exec_write_same, .data_out = true),
    [SVM_OP_SERVICE_ACTION_IN16] = OP("SERVICE ACTION IN(16)", svm_cdb_parse_service_action_in16,
				      exec_service_action_in16, .run = RUN_INLINE),
    [SVM_OP_READ12] = OP("READ(12)", svm_cdb_parse_rw12, exec_read, .run = RUN_RW),
    [SVM_OP_WRITE12] =
	OP("WRITE(12)", svm_cdb_parse_rw12, exec_write, .run = RUN_RW, .data_out = true),
    [SVM_OP_WRITE_VERIFY12] =
	OP("WRITE AND VERIFY(12)", svm_cdb_parse_write_verify, exec_write, .data_out = true),
    [SVM_OP_VERIFY12] = OP("VERIFY(12)", svm_cdb_parse_verify, exec_verify, .data_out = true),
};

/*
 * libtcmu 1.5.4 cannot report a data-in residual: the initiator receives the
 * whole buffer, so whatever a command did not fill (a READ's buffer past its
 * transfer, a 0-block READ, a reply shorter than the buffer, a data-less
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
	/* The checks of exec_read / exec_write / exec_sync_cache, without the I/O. */
	if (check_range(g, c->lba, c->whole_lun ? 0 : c->nblocks))
		return SVM_SCSI_ROUTE_INLINE;
	if (op->exec == exec_sync_cache)
		return SVM_SCSI_ROUTE_RW;
	if (!c->nblocks)
		return SVM_SCSI_ROUTE_INLINE;
	if (svm_iov_length(req->iov, req->iov_cnt) != (uint64_t)c->nblocks * g->block_size)
		/* a short data-out is refused; a short data-in is an underflow exec_read serves */
		return op->exec == exec_write ? SVM_SCSI_ROUTE_INLINE : SVM_SCSI_ROUTE_BLOCKING;
	if (op->exec == exec_read)
		return SVM_SCSI_ROUTE_READ;
	return c->fua || !g->wce ? SVM_SCSI_ROUTE_RW : SVM_SCSI_ROUTE_WRITE_CACHED;
}

const char *svm_scsi_op_name(uint8_t opcode)
{
	return scsi_ops[opcode].name;
}
