/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SBC-4 block commands: data transfer, caching, provisioning and capacity.
 * The executors of the dispatch table in scsi.c; I/O through lun.h.
 */
#include "scsi_int.h"
#include "cdb.h"
#include "iov.h"
#include "limits.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum svm_sense svm_sbc_read(struct svm_lun *lun, struct svm_scsi_req *req, const struct svm_cdb *c)
{
	const struct svm_lun_geom *g = &req->g;
	uint64_t off = c->lba * g->block_size, want = (uint64_t)c->nblocks * g->block_size;
	enum svm_sense s = svm_scsi_check_xfer(g, c);
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
		return svm_scsi_io_error(ret, false, lun, off);
	req->filled = len;
	return SVM_SENSE_OK;
}

/*
 * WRITE and WRITE AND VERIFY (whose parser sets FUA: the data is on the
 * medium before status, which is our verify). The data-out buffer must
 * carry exactly the CDB's TRANSFER LENGTH, as LIO requires.
 */
enum svm_sense svm_sbc_write(struct svm_lun *lun, struct svm_scsi_req *req, const struct svm_cdb *c)
{
	const struct svm_lun_geom *g = &req->g;
	uint64_t off = c->lba * g->block_size, len = (uint64_t)c->nblocks * g->block_size;
	enum svm_sense s = svm_scsi_check_xfer(g, c);
	int ret;

	if (s)
		return s;
	if (svm_iov_length(req->iov, req->iov_cnt) != len)
		return SVM_SENSE_INVALID_FIELD_IN_CDB;
	if (!len)
		return SVM_SENSE_OK;
	/* len is the buffer's own length: it fits a size_t */
	if (req->cached_only) {
		/* on the command thread: never wait for a COMPARE AND WRITE's range */
		ret = svm_lun_write_nowait(lun, req->iov, req->iov_cnt, off, (size_t)len, c->fua);
		if (ret == -EAGAIN) {
			req->would_block = true;
			return SVM_SENSE_OK;
		}
	} else {
		ret = svm_lun_write(lun, req->iov, req->iov_cnt, off, (size_t)len, c->fua);
	}
	return ret ? svm_scsi_io_error(ret, true, lun, off) : SVM_SENSE_OK;
}

/* What COMPARE AND WRITE's read-modify-write compares and writes (svm_lun_rmw). */
struct caw_data {
	const struct svm_scsi_req *req;
	size_t len;	 /* bytes of the compare part, = of the write part */
	size_t mismatch; /* offset of the first differing byte, when it returns 1 */
	bool miscompare;
};

static int caw_fn(uint8_t *data, size_t len, void *arg)
{
	struct caw_data *x = arg;
	uint8_t buf[4096];

	/* compare in pieces: the data-out may be scattered over many iovecs */
	for (size_t done = 0; done < len;) {
		size_t n = len - done < sizeof(buf) ? len - done : sizeof(buf);

		svm_iov_to_buf(x->req->iov, x->req->iov_cnt, done, buf, n);
		if (memcmp(buf, data + done, n)) {
			size_t i = 0;

			while (buf[i] == data[done + i])
				i++;
			x->mismatch = done + i;
			x->miscompare = true;
			return 1;
		}
		done += n;
	}
	svm_iov_to_buf(x->req->iov, x->req->iov_cnt, len, data, len);
	return 0;
}

/*
 * SBC-4 5.3 COMPARE AND WRITE: the data-out holds NUMBER OF LOGICAL BLOCKS
 * of verify data, then as many of write data. The blocks are read and
 * compared, and written only if they all match, as one action: the range is
 * held exclusive in the LUN's range lock (svm_lun_rmw), which every write
 * path takes too, the ones on the command thread included. A miscompare is
 * MISCOMPARE DURING VERIFY OPERATION with the offset of the first differing
 * byte in INFORMATION, and nothing is written.
 */
enum svm_sense svm_sbc_compare_and_write(struct svm_lun *lun, struct svm_scsi_req *req,
					 const struct svm_cdb *c)
{
	const struct svm_lun_geom *g = &req->g;
	uint64_t off = c->lba * g->block_size;
	struct caw_data x = {.req = req, .len = (size_t)c->nblocks * g->block_size};
	enum svm_sense s = svm_scsi_check_xfer(g, c);
	int ret;

	if (s)
		return s;
	if (svm_iov_length(req->iov, req->iov_cnt) != 2 * (uint64_t)x.len)
		return SVM_SENSE_INVALID_FIELD_IN_CDB;
	if (!x.len)
		return SVM_SENSE_OK;
	ret = svm_lun_rmw(lun, off, x.len, c->fua, caw_fn, &x);
	if (ret)
		return ret == -ENOMEM ? SVM_SENSE_TASK_SET_FULL
				      : svm_scsi_io_error(ret, true, lun, off);
	if (x.miscompare) {
		req->has_info = true;
		req->info = x.mismatch;
		return SVM_SENSE_MISCOMPARE_VERIFY;
	}
	return SVM_SENSE_OK;
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
enum svm_sense svm_sbc_verify(struct svm_lun *lun, struct svm_scsi_req *req,
			      const struct svm_cdb *c)
{
	const struct svm_lun_geom *g = &req->g;
	uint64_t off = c->lba * g->block_size, total = (uint64_t)c->nblocks * g->block_size;
	uint64_t need = c->bytchk == 3 ? g->block_size : total, done = 0;
	enum svm_sense s = svm_scsi_check_xfer(g, c);
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
	chunk = svm_scsi_chunk_len(g->block_size, SVM_VERIFY_CHUNK_BYTES, total);
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
			s = svm_scsi_io_error(ret, false, lun, off + done);
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
enum svm_sense svm_sbc_write_same(struct svm_lun *lun, struct svm_scsi_req *req,
				  const struct svm_cdb *c)
{
	const struct svm_lun_geom *g = &req->g;
	uint64_t off = c->lba * g->block_size, total = (uint64_t)c->nblocks * g->block_size;
	size_t chunk = svm_scsi_chunk_len(g->block_size, SVM_WRITE_SAME_CHUNK_BYTES, total);
	enum svm_sense s = svm_scsi_check_range(g, c->lba, c->nblocks);
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
	return ret ? svm_scsi_io_error(ret, true, lun, off) : SVM_SENSE_OK;
}

enum svm_sense svm_sbc_prefetch(struct svm_lun *lun, struct svm_scsi_req *req,
				const struct svm_cdb *c)
{
	const struct svm_lun_geom *g = &req->g;
	uint64_t n = c->whole_lun && c->lba <= g->num_lbas ? g->num_lbas - c->lba : c->nblocks;
	enum svm_sense s = svm_scsi_check_range(g, c->lba, n);

	(void)req;
	if (!s && n)
		svm_lun_prefetch(lun, c->lba * g->block_size, n * g->block_size);
	return s;
}

enum svm_sense svm_sbc_sync_cache(struct svm_lun *lun, struct svm_scsi_req *req,
				  const struct svm_cdb *c)
{
	const struct svm_lun_geom *g = &req->g;
	enum svm_sense s = svm_scsi_check_range(g, c->lba, c->whole_lun ? 0 : c->nblocks);
	int ret;

	(void)req;
	if (s)
		return s;
	ret = svm_lun_flush(lun);
	return ret ? svm_scsi_io_error(ret, true, lun, 0) : SVM_SENSE_OK;
}

enum svm_sense svm_sbc_unmap(struct svm_lun *lun, struct svm_scsi_req *req, const struct svm_cdb *c)
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
			s = svm_scsi_io_error(ret, true, lun, off);
	}
	return s;
}

enum svm_sense svm_sbc_start_stop(struct svm_lun *lun, struct svm_scsi_req *req,
				  const struct svm_cdb *c)
{
	int ret;

	(void)req;
	/* Stopping: the medium keeps spinning, but the cache is written out first. */
	if (c->start || c->no_flush)
		return SVM_SENSE_OK;
	ret = svm_lun_flush(lun);
	return ret ? svm_scsi_io_error(ret, true, lun, 0) : SVM_SENSE_OK;
}

enum svm_sense svm_sbc_read_capacity10(struct svm_lun *lun, struct svm_scsi_req *req,
				       const struct svm_cdb *c)
{
	const struct svm_lun_geom *g = &req->g;
	uint8_t b[8];
	(void)lun;

	svm_put_be32(b, g->num_lbas - 1 > UINT32_MAX ? UINT32_MAX : g->num_lbas - 1);
	svm_put_be32(b + 4, g->block_size);
	return svm_scsi_reply(req, b, sizeof(b), c->alloc_len);
}

enum svm_sense svm_sbc_service_action_in16(struct svm_lun *lun, struct svm_scsi_req *req,
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
	return svm_scsi_reply(req, b, sizeof(b), c->alloc_len);
}
