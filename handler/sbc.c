/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SBC-4 block commands: data transfer, caching, provisioning and capacity.
 * The executors of the dispatch table in scsi.c; I/O through lun.h.
 */
#include "scsi_int.h"
#include "cdb.h"
#include "iov.h"
#include "limits.h"
#include "log.h"

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
 * One block's COMPARE AND WRITE in one store operation where the store has
 * one (svm_lun_compare_and_write: an RBD store's OSD compares and writes
 * atomically, against every client of the image). true and the sense in
 * *s, or false when the store cannot (a file, a migration's mirror, a
 * block over two RADOS objects): nothing was done then.
 */
static bool caw_store(struct svm_lun *lun, struct svm_scsi_req *req, uint64_t off, size_t len,
		      bool fua, enum svm_sense *s)
{
	uint64_t mismatch = 0;
	uint8_t *buf = malloc(2 * len);
	int ret;

	*s = SVM_SENSE_TASK_SET_FULL;
	if (!buf)
		return true;
	svm_iov_to_buf(req->iov, req->iov_cnt, 0, buf, 2 * len);
	ret = svm_lun_compare_and_write(lun, off, len, buf, buf + len, fua, &mismatch);
	free(buf);
	if (ret == -EOPNOTSUPP)
		return false;
	if (ret < 0) {
		*s = svm_scsi_io_error(ret, true, lun, off);
	} else if (ret == 1) {
		req->has_info = true;
		req->info = mismatch;
		*s = SVM_SENSE_MISCOMPARE_VERIFY;
	} else {
		*s = SVM_SENSE_OK;
	}
	return true;
}

/*
 * SBC-4 5.3 COMPARE AND WRITE: the data-out holds NUMBER OF LOGICAL BLOCKS
 * of verify data, then as many of write data. The blocks are read and
 * compared, and written only if they all match, as one action: the range is
 * held exclusive in the LUN's range lock (svm_lun_rmw), which every write
 * path takes too, the ones on the command thread included. A miscompare is
 * MISCOMPARE DURING VERIFY OPERATION with the offset of the first differing
 * byte in INFORMATION, and nothing is written. One block on a store that
 * compares and writes in one operation (RBD) goes there instead
 * (caw_store), atomic against the image's other clients too.
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
	if (c->nblocks == 1 && caw_store(lun, req, off, x.len, c->fua, &s))
		return s;
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
 * SBC-4 5.48/5.49 WRITE SAME(10/16) range. NUMBER OF LOGICAL BLOCKS 0 (the
 * Block Limits page reports WSNZ 0, SBC-4 6.6.4) is from the LBA through the
 * last block: an LBA past the capacity is LOGICAL BLOCK ADDRESS OUT OF RANGE
 * (SBC-4 4.5; at the capacity the range is empty, as for PRE-FETCH), and a
 * range longer than MAXIMUM WRITE SAME LENGTH is INVALID FIELD IN CDB, as
 * SBC-4 5.48 asks of a NUMBER OF LOGICAL BLOCKS above it (which the parser
 * refuses). LIO's sbc_get_write_same_sectors() counts the range the same
 * way, and sbc_setup_write_same() holds it to max_write_same_len. Arithmetic
 * only: nothing here is per block.
 */
static enum svm_sense write_same_range(const struct svm_lun_geom *g, const struct svm_cdb *c,
				       uint64_t *n)
{
	if (!c->whole_lun) {
		*n = c->nblocks;
		return svm_scsi_check_range(g, c->lba, *n);
	}
	if (c->lba > g->num_lbas)
		return SVM_SENSE_LBA_OUT_OF_RANGE;
	*n = g->num_lbas - c->lba;
	return *n > SVM_WRITE_SAME_MAX_BLOCKS ? SVM_SENSE_INVALID_FIELD_IN_CDB : SVM_SENSE_OK;
}

/*
 * WRITE SAME: one block (or zeroes with NDOB) repeated over the range, one
 * store call for the whole range where the store can:
 *  - UNMAP set where deallocated blocks read as zeroes (LBPRZ): the range is
 *    deallocated whatever the block. SBC-4 5.48 lets the device server
 *    perform an unmap operation instead of the write for each LBA, and its
 *    UNMAP/ANCHOR table says a thin provisioned logical unit should
 *    deallocate them; LIO's sbc_execute_write_same_unmap() does the same,
 *    never looking at the data-out. (libiscsi's WriteSame10.UnmapUntilEnd
 *    sends a block of 0xFF with UNMAP and wants zeroes back.)
 *  - a zero block otherwise: zeroed without transfer; UNMAP where
 *    deallocated blocks may read as anything (a block device) is a write
 *    too, which SBC-4 allows, so a read returns the block the command sent.
 *  - any other block: one writesame of the store for the whole range (an
 *    RBD store not being migrated: rbd_aio_writesame, svm_lun_write_same);
 *  - a store that can do none of these: the block tiled into a bounded
 *    buffer and written in chunks.
 */
enum svm_sense svm_sbc_write_same(struct svm_lun *lun, struct svm_scsi_req *req,
				  const struct svm_cdb *c)
{
	const struct svm_lun_geom *g = &req->g;
	uint64_t off = c->lba * g->block_size, n = 0, total;
	enum svm_sense s = write_same_range(g, c, &n);
	size_t chunk;
	uint8_t *buf;
	int ret = 0;

	if (s)
		return s;
	if (!c->ndob && svm_iov_length(req->iov, req->iov_cnt) != g->block_size)
		return SVM_SENSE_INVALID_FIELD_IN_CDB;
	total = n * g->block_size;
	if (!total)
		return SVM_SENSE_OK; /* 0 blocks from the capacity on: nothing to write */
	if (c->unmap && g->lbprz) {
		ret = svm_lun_discard(lun, off, total);
		if (ret != -EOPNOTSUPP)
			return ret ? svm_scsi_io_error(ret, true, lun, off) : SVM_SENSE_OK;
		ret = 0;
	}
	chunk = svm_scsi_chunk_len(g->block_size, SVM_WRITE_SAME_CHUNK_BYTES, total);
	buf = calloc(1, chunk);
	if (!buf)
		return SVM_SENSE_TASK_SET_FULL;
	if (!c->ndob)
		svm_iov_to_buf(req->iov, req->iov_cnt, 0, buf, g->block_size);
	if (all_zero(buf, g->block_size)) {
		ret = svm_lun_write_zeroes(lun, off, total);
		if (ret != -EOPNOTSUPP)
			goto done;
		ret = 0;
	} else {
		ret = svm_lun_write_same(lun, off, total, buf, g->block_size);
		if (ret != -EOPNOTSUPP && ret != -EINVAL)
			goto done;
		ret = 0;
	}
	for (size_t o = g->block_size; o < chunk; o += g->block_size)
		memcpy(buf + o, buf, g->block_size);
	for (uint64_t done = 0; !ret && done < total; done += chunk) {
		size_t len = total - done < chunk ? (size_t)(total - done) : chunk;
		struct iovec v = {.iov_base = buf, .iov_len = len};

		ret = svm_lun_write(lun, &v, 1, off + done, len, false);
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

/*
 * SBC-4 5.21.2 READ CAPACITY(16) parameter data. LOGICAL BLOCKS PER
 * PHYSICAL BLOCK EXPONENT from the store's physical block size (struct
 * svm_lun_geom lbppbe), LOWEST ALIGNED LOGICAL BLOCK ADDRESS 0: the store
 * starts on a physical block.
 */
enum svm_sense svm_sbc_read_capacity16(struct svm_lun *lun, struct svm_scsi_req *req,
				       const struct svm_cdb *c)
{
	const struct svm_lun_geom *g = &req->g;
	uint8_t b[32] = {0};
	(void)lun;

	svm_put_be64(b, g->num_lbas - 1);
	svm_put_be32(b + 8, g->block_size);
	b[13] = g->lbppbe & 0x0f;
	if (g->lbpu)
		b[14] = 0x80 | (g->lbprz ? 0x40 : 0); /* LBPME, LBPRZ */
	return svm_scsi_reply(req, b, sizeof(b), c->alloc_len);
}

/*
 * The provisioning state of the block at lba and of those after it in the
 * same state: [lba, *end) mapped or deallocated. A block with any byte
 * allocated in the store is mapped, one wholly in a hole deallocated (a
 * hole reads as zeroes, LBPRZ). A LUN that does not deallocate is fully
 * provisioned: all mapped (SBC-4 5.8.2.2).
 */
static int block_state(struct svm_lun *lun, const struct svm_lun_geom *g, uint64_t lba,
		       bool *mapped, uint64_t *end)
{
	uint64_t byte_end;
	int ret;

	*mapped = true;
	*end = g->num_lbas;
	if (!g->lbpu)
		return 0;
	ret = svm_lun_extent(lun, lba * g->block_size, mapped, &byte_end);
	if (ret)
		return ret;
	if (*mapped) {
		*end = byte_end / g->block_size + (byte_end % g->block_size != 0);
	} else {
		*end = byte_end / g->block_size;
		if (*end == lba) {
			*mapped = true; /* the hole ends inside this block */
			*end = lba + 1;
		}
	}
	if (*end > g->num_lbas)
		*end = g->num_lbas;
	if (*end <= lba)
		*end = lba + 1;
	return 0;
}

/*
 * SBC-4 5.8 GET LBA STATUS: from STARTING LOGICAL BLOCK ADDRESS on, one LBA
 * status descriptor per run of blocks in one provisioning state (the first
 * starts at that LBA, SBC-4 5.8.2.3), as many as ALLOCATION LENGTH holds, at
 * most SVM_LBA_STATUS_MAX_DESCRIPTORS; the initiator asks again from where
 * they end. A run longer than the 32-bit NUMBER OF LOGICAL BLOCKS takes
 * more than one. Provisioning from the store (block_state).
 */
enum svm_sense svm_sbc_get_lba_status(struct svm_lun *lun, struct svm_scsi_req *req,
				      const struct svm_cdb *c)
{
	const struct svm_lun_geom *g = &req->g;
	size_t max = c->alloc_len < 24 ? 1 : (c->alloc_len - 8) / 16, n = 0;
	uint64_t lba = c->lba, end;
	enum svm_sense s = SVM_SENSE_OK;
	bool mapped;
	uint8_t *b;

	if (lba >= g->num_lbas)
		return SVM_SENSE_LBA_OUT_OF_RANGE;
	if (max > SVM_LBA_STATUS_MAX_DESCRIPTORS)
		max = SVM_LBA_STATUS_MAX_DESCRIPTORS;
	b = calloc(1, 8 + 16 * max);
	if (!b)
		return SVM_SENSE_TASK_SET_FULL;
	while (lba < g->num_lbas) {
		int ret = block_state(lun, g, lba, &mapped, &end);

		if (ret) {
			s = svm_scsi_io_error(ret, false, lun, lba * g->block_size);
			goto free_buf;
		}
		while (lba < end) {
			uint8_t *d = n ? b + 8 + 16 * (n - 1) : NULL; /* the last descriptor */
			uint32_t have = d ? svm_get_be32(d + 8) : 0, add;

			if (!d || (d[12] == 0) != mapped || have == UINT32_MAX) {
				if (n == max)
					goto reply;
				d = b + 8 + 16 * n++;
				svm_put_be64(d, lba);
				/* PROVISIONING STATUS: mapped / deallocated */
				d[12] = mapped ? 0 : 1;
				have = 0;
			}
			add = end - lba < (uint64_t)(UINT32_MAX - have) ? (uint32_t)(end - lba)
									: UINT32_MAX - have;
			svm_put_be32(d + 8, have + add);
			lba += add;
		}
	}
reply:
	svm_put_be32(b, 4 + 16 * n); /* PARAMETER DATA LENGTH */
	s = svm_scsi_reply(req, b, 8 + 16 * n, c->alloc_len);
free_buf:
	free(b);
	return s;
}

/* What ORWRITE's read-modify-write ORs into the blocks: the data-out. */
static int or_fn(uint8_t *data, size_t len, void *arg)
{
	const struct svm_scsi_req *req = arg;
	uint8_t buf[4096];

	for (size_t done = 0; done < len;) {
		size_t n = len - done < sizeof(buf) ? len - done : sizeof(buf);

		svm_iov_to_buf(req->iov, req->iov_cnt, done, buf, n);
		for (size_t i = 0; i < n; i++)
			data[done + i] |= buf[i];
		done += n;
	}
	return 0;
}

/*
 * SBC-4 5.12 ORWRITE(16): each block becomes itself OR the data-out's, read,
 * changed and written as one action against every other write to those
 * blocks (svm_lun_rmw: the range held exclusive). At most
 * SVM_ORWRITE_MAX_BYTES (one buffer holds them); the data-out must carry
 * exactly TRANSFER LENGTH blocks.
 */
enum svm_sense svm_sbc_orwrite(struct svm_lun *lun, struct svm_scsi_req *req,
			       const struct svm_cdb *c)
{
	const struct svm_lun_geom *g = &req->g;
	uint64_t off = c->lba * g->block_size, len = (uint64_t)c->nblocks * g->block_size;
	enum svm_sense s = svm_scsi_check_xfer(g, c);
	int ret;

	if (s)
		return s;
	if (len > SVM_ORWRITE_MAX_BYTES || svm_iov_length(req->iov, req->iov_cnt) != len)
		return SVM_SENSE_INVALID_FIELD_IN_CDB;
	if (!len)
		return SVM_SENSE_OK;
	ret = svm_lun_rmw(lun, off, (size_t)len, c->fua, or_fn, req);
	if (ret)
		return ret == -ENOMEM ? SVM_SENSE_TASK_SET_FULL
				      : svm_scsi_io_error(ret, true, lun, off);
	return SVM_SENSE_OK;
}

/*
 * SBC-4 5.47 WRITE ATOMIC(16): the blocks are written as one action, no
 * other write to any of them seen half done: the range held exclusive in
 * the LUN's range lock, which every write path takes (svm_lun_hold). A
 * longer write than MAXIMUM ATOMIC TRANSFER LENGTH is not refused, as
 * READ and WRITE past MAXIMUM TRANSFER LENGTH are not (svm_scsi_check_xfer):
 * the data is in the data area already and the lock makes any length
 * atomic (libiscsi, which ignores the Block Limits page over iSCSI, sends
 * up to 256 blocks).
 */
enum svm_sense svm_sbc_write_atomic(struct svm_lun *lun, struct svm_scsi_req *req,
				    const struct svm_cdb *c)
{
	const struct svm_lun_geom *g = &req->g;
	uint64_t off = c->lba * g->block_size, len = (uint64_t)c->nblocks * g->block_size;
	enum svm_sense s = svm_scsi_check_xfer(g, c);
	struct svm_lun_hold h;
	int ret;

	if (s)
		return s;
	if (svm_iov_length(req->iov, req->iov_cnt) != len)
		return SVM_SENSE_INVALID_FIELD_IN_CDB;
	if (!len)
		return SVM_SENSE_OK;
	svm_lun_hold(lun, &h, off, len);
	ret = svm_lun_held_write(lun, req->iov, req->iov_cnt, off, (size_t)len, c->fua);
	svm_lun_release(lun, &h);
	return ret ? svm_scsi_io_error(ret, true, lun, off) : SVM_SENSE_OK;
}

/*
 * SBC-4 5.14/5.15 READ DEFECT DATA(10/12): the LUN knows of no defects in
 * its store, so both lists are empty, in whatever format was asked for,
 * PLISTV and GLISTV saying the lists asked for are the ones returned.
 * (12): GENERATION CODE 0 (not supported), DEFECT LIST LENGTH 4 bytes; an
 * ADDRESS DESCRIPTOR INDEX past the (empty) list returns none either way.
 */
enum svm_sense svm_sbc_read_defect_data(struct svm_lun *lun, struct svm_scsi_req *req,
					const struct svm_cdb *c)
{
	uint8_t b[8] = {0};

	(void)lun;
	b[1] = (c->req_plist ? 0x10 : 0) | (c->req_glist ? 0x08 : 0) | c->defect_format;
	return svm_scsi_reply(req, b, c->opcode == SVM_OP_READ_DEFECT_DATA10 ? 4 : 8, c->alloc_len);
}

/* One sanitize operation (svm_sbc_sanitize), on a worker or the LUN's background thread. */
struct sanitize_job {
	struct svm_lun *lun;
	uint8_t sa;	   /* SVM_SANITIZE_OVERWRITE or _BLOCK_ERASE */
	bool ause;
	uint32_t keep;	   /* SVM_SANITIZE_FAILED / _AUSE of an earlier failure, until this ends */
	uint64_t total;	   /* the LUN's bytes */
	uint32_t block_size;
	struct svm_sanitize_overwrite ow;
	uint8_t *chunk;	   /* OVERWRITE: the pattern tiled over chunk_len bytes */
	size_t chunk_len;
	uint8_t param[SVM_SANITIZE_OVERWRITE_HDR + SVM_BLOCK_SIZE_MAX]; /* the parameter list */
};

static void sanitize_progress(struct sanitize_job *j, unsigned pass, uint64_t done)
{
	double f = ((double)pass * j->total + done) / ((double)j->ow.count * j->total);

	svm_lun_sanitize_set(j->lun, SVM_SANITIZE_RUNNING | j->keep |
					     SVM_SANITIZE_WITH_PROGRESS((uint16_t)(f * 65535)));
}

/*
 * SBC-4 4.11.3 overwrite: OVERWRITE COUNT passes over every block, each
 * block the INITIALIZATION PATTERN repeated from its first byte; with
 * INVERT the pattern is inverted between passes, the last pass writing it
 * as given (so an even count starts inverted). Stops, failed, when the LUN
 * closes.
 */
static int sanitize_overwrite(struct sanitize_job *j)
{
	int ret = 0;

	for (unsigned pass = 0; pass < j->ow.count && !ret; pass++) {
		bool inverted = j->ow.invert && (j->ow.count - 1 - pass) % 2;

		if (j->ow.invert && (pass == 0 ? inverted : true))
			for (size_t i = 0; i < j->chunk_len; i++)
				j->chunk[i] ^= 0xff;
		for (uint64_t done = 0; !ret && done < j->total;) {
			size_t n = j->total - done < j->chunk_len ? (size_t)(j->total - done)
								  : j->chunk_len;
			struct iovec v = {.iov_base = j->chunk, .iov_len = n};

			ret = svm_lun_closing(j->lun) ? -ECANCELED
						      : svm_lun_held_write(j->lun, &v, 1, done, n,
									   false);
			done += n;
			sanitize_progress(j, pass, done);
		}
	}
	return ret;
}

/*
 * Run the sanitize operation of j over the whole LUN, held exclusive in
 * the range lock all along (atomic against every write; other commands
 * are refused meanwhile, scsi.c), then written out to stable media; record
 * how it ended (a failure: SVM_SANITIZE_FAILED, with AUSE as the command
 * had it). 0 or -errno.
 */
static int sanitize_run(struct sanitize_job *j)
{
	static const char *const what[] = {[SVM_SANITIZE_OVERWRITE] = "OVERWRITE",
					   [SVM_SANITIZE_BLOCK_ERASE] = "BLOCK ERASE"};
	struct svm_lun_hold h;
	int ret;

	svm_log(SVM_LOG_INFO, "LUN on %s: SANITIZE %s of %llu bytes begins",
		svm_lun_source(j->lun), what[j->sa], (unsigned long long)j->total);
	svm_lun_hold(j->lun, &h, 0, j->total);
	if (j->sa == SVM_SANITIZE_BLOCK_ERASE)
		ret = svm_lun_held_discard(j->lun, 0, j->total);
	else
		ret = sanitize_overwrite(j);
	if (!ret)
		ret = svm_lun_flush(j->lun);
	svm_lun_release(j->lun, &h);
	svm_lun_sanitize_set(j->lun, ret ? SVM_SANITIZE_FAILED | (j->ause ? SVM_SANITIZE_AUSE : 0)
					 : 0);
	if (ret)
		svm_log(SVM_LOG_ERR, "LUN on %s: SANITIZE %s failed: %s", svm_lun_source(j->lun),
			what[j->sa], strerror(-ret));
	else
		svm_log(SVM_LOG_INFO, "LUN on %s: SANITIZE %s done", svm_lun_source(j->lun),
			what[j->sa]);
	return ret;
}

static void sanitize_job_free(struct sanitize_job *j)
{
	free(j->chunk);
	free(j);
}

static void sanitize_background(void *arg)
{
	sanitize_run(arg);
	sanitize_job_free(arg);
}

/* The job of an OVERWRITE or BLOCK ERASE, its parameter list checked and its buffer ready. */
static enum svm_sense sanitize_prepare(const struct svm_scsi_req *req, const struct svm_cdb *c,
				       struct sanitize_job *j)
{
	const struct svm_lun_geom *g = &req->g;
	enum svm_sense s;

	j->sa = c->service_action;
	j->ause = c->ause;
	j->block_size = g->block_size;
	j->total = g->num_lbas * g->block_size;
	if (j->sa != SVM_SANITIZE_OVERWRITE)
		return SVM_SENSE_OK;
	/* PARAMETER LIST LENGTH: the block size + 4 at most */
	if (c->alloc_len > SVM_SANITIZE_OVERWRITE_HDR + g->block_size)
		return SVM_SENSE_INVALID_FIELD_IN_CDB;
	if (svm_iov_length(req->iov, req->iov_cnt) < c->alloc_len)
		return SVM_SENSE_PARAM_LIST_LENGTH;
	svm_iov_to_buf(req->iov, req->iov_cnt, 0, j->param, c->alloc_len);
	s = svm_sanitize_overwrite_parse(j->param, c->alloc_len, g->block_size, &j->ow);
	if (s)
		return s;
	j->chunk_len = svm_scsi_chunk_len(g->block_size, SVM_SANITIZE_CHUNK_BYTES, j->total);
	j->chunk = malloc(j->chunk_len);
	if (!j->chunk)
		return SVM_SENSE_TASK_SET_FULL;
	for (uint32_t o = 0, n; o < g->block_size; o += n) {
		n = g->block_size - o < j->ow.pattern_len ? g->block_size - o : j->ow.pattern_len;
		memcpy(j->chunk + o, j->ow.pattern, n);
	}
	for (size_t o = g->block_size; o < j->chunk_len; o += g->block_size)
		memcpy(j->chunk + o, j->chunk, g->block_size);
	return SVM_SENSE_OK;
}

/*
 * SBC-4 5.30 SANITIZE: OVERWRITE (4.11.3) and BLOCK ERASE (deallocate every
 * block; served only on a store that can: table flag needs_lbpu) over the
 * whole LUN; CRYPTOGRAPHIC ERASE is not served (INVALID FIELD IN CDB).
 * IMMED 0: status when the operation is done, which for a big LUN can take
 * longer than the kernel's command timeout (docs/commands.md); IMMED 1:
 * status once the CDB and parameter list are checked, the operation runs on
 * the LUN's background thread and REQUEST SENSE reports its progress.
 * Meanwhile every other command but INQUIRY and REQUEST SENSE is NOT READY,
 * SANITIZE IN PROGRESS. A failed operation leaves the LUN failed (medium
 * access refused) until a SANITIZE completes: with AUSE it may be EXIT
 * FAILURE MODE, without only another sanitize operation, and one with AUSE
 * is refused (SBC-4 4.11.4, restricted completion). EXIT FAILURE MODE with
 * no failure to exit does nothing.
 */
enum svm_sense svm_sbc_sanitize(struct svm_lun *lun, struct svm_scsi_req *req,
				const struct svm_cdb *c)
{
	uint32_t st = svm_lun_sanitize_get(lun);
	struct sanitize_job *j;
	enum svm_sense s;
	int ret;

	if (st & SVM_SANITIZE_RUNNING)
		return SVM_SENSE_SANITIZE_IN_PROGRESS;
	if (c->service_action == SVM_SANITIZE_EXIT_FAILURE) {
		if (!(st & SVM_SANITIZE_FAILED))
			return SVM_SENSE_OK;
		if (!(st & SVM_SANITIZE_AUSE))
			return SVM_SENSE_INVALID_FIELD_IN_CDB;
		return svm_lun_sanitize_swap(lun, st, 0) ? SVM_SENSE_OK
							  : SVM_SENSE_SANITIZE_IN_PROGRESS;
	}
	if ((st & SVM_SANITIZE_FAILED) && !(st & SVM_SANITIZE_AUSE) && c->ause)
		return SVM_SENSE_INVALID_FIELD_IN_CDB;
	j = calloc(1, sizeof(*j));
	if (!j)
		return SVM_SENSE_TASK_SET_FULL;
	j->lun = lun;
	s = sanitize_prepare(req, c, j);
	if (s)
		goto free_job;
	if (!svm_lun_sanitize_begin(lun)) {
		s = SVM_SENSE_SANITIZE_IN_PROGRESS;
		goto free_job;
	}
	j->keep = st & (SVM_SANITIZE_FAILED | SVM_SANITIZE_AUSE);
	if (c->immed) {
		ret = svm_lun_background(lun, sanitize_background, j);
		if (!ret)
			return SVM_SENSE_OK;
		svm_lun_sanitize_set(lun, j->keep); /* never began */
		s = SVM_SENSE_TASK_SET_FULL;
		goto free_job;
	}
	ret = sanitize_run(j);
	s = ret ? SVM_SENSE_SANITIZE_FAILED : SVM_SENSE_OK;
free_job:
	sanitize_job_free(j);
	return s;
}
