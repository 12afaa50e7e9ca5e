/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SCSI command execution for one LUN: a const table maps each opcode (and,
 * for opcodes that have them, each service action) to a parser (cdb.h, no
 * I/O) and an executor (I/O through lun.h). Unknown commands take one path:
 * INVALID COMMAND OPERATION CODE, or INVALID FIELD IN CDB at the SERVICE
 * ACTION field. No tcmu dependency. docs/commands.md.
 */
#ifndef SVM_SCSI_H
#define SVM_SCSI_H

#include "cdb.h"
#include "lun.h"
#include "sense.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

struct svm_scsi_req {
	const uint8_t *cdb;
	struct iovec *iov; /* data-in or data-out buffer */
	size_t iov_cnt;
	/*
	 * in: the command runs on tcmu-runner's command thread and must not
	 * wait: a READ for a page-cache miss (SVM_SCSI_ROUTE_READ), a WRITE for
	 * a range a read-modify-write holds (SVM_SCSI_ROUTE_WRITE_CACHED)
	 */
	bool cached_only;
	/* out: cached_only and it would have waited; nothing was done */
	bool would_block;
	/* out: sense INFORMATION field, e.g. the offset of a miscompare */
	bool has_info;
	uint64_t info;
	/* out: where the command went wrong (field / segment pointer), when has_ptr */
	bool has_ptr;
	struct svm_sense_ptr ptr;
	/* scsi.c's own: the CDB as svm_scsi_route parsed it, and the LUN's geometry then */
	bool parsed;
	struct svm_cdb c;
	struct svm_lun_geom g;
	/* scsi.c's own: data-in bytes the command filled; svm_scsi_execute zeroes the rest */
	size_t filled;
};

/*
 * Parse (unless svm_scsi_route did) and execute one command. Blocks on the
 * LUN's stores; safe to call from many threads at once. Returns
 * SVM_SENSE_OK or why it failed. On SVM_SENSE_OK, whatever the command did
 * not fill of a buffer that is not data-out is zeroed (libtcmu 1.5.4 returns
 * the whole buffer to the initiator), unless it set would_block.
 */
enum svm_sense svm_scsi_execute(struct svm_lun *lun, struct svm_scsi_req *req);

/* Where a command may execute (handler/plugin.c decides the thread). */
enum svm_scsi_route {
	SVM_SCSI_ROUTE_INLINE,	 /* no store I/O: emulated, or refused by its checks */
	SVM_SCSI_ROUTE_BLOCKING, /* blocks on a store */
	/*
	 * The next three are READ or WRITE (10/12/16) or SYNCHRONIZE CACHE that
	 * pass every check, with a buffer of exactly the transfer length:
	 * tcmu-runner's generic read/write/flush path takes them as they are.
	 */
	SVM_SCSI_ROUTE_RW,	     /* must reach stable media: FUA, no write cache, SYNC */
	SVM_SCSI_ROUTE_READ,	     /* a READ; may be served from the page cache (cached_only) */
	SVM_SCSI_ROUTE_WRITE_CACHED, /* a WRITE the page cache absorbs unless it is throttled */
};

/* Classify req without I/O (parses the CDB, kept in req). Never blocks. */
enum svm_scsi_route svm_scsi_route(struct svm_lun *lun, struct svm_scsi_req *req);

/*
 * For an asynchronous engine: the store I/O of a command svm_scsi_route just
 * classed SVM_SCSI_ROUTE_RW, _READ or _WRITE_CACHED (req as route left it),
 * which svm_scsi_execute would do with one svm_lun_read, svm_lun_write or
 * svm_lun_flush and nothing else: true and *io filled, else false. The
 * buffer holds exactly io->len bytes. Never blocks.
 */
enum svm_scsi_io_kind {
	SVM_SCSI_IO_READ,
	SVM_SCSI_IO_WRITE,
	SVM_SCSI_IO_FLUSH,
};
struct svm_scsi_io {
	enum svm_scsi_io_kind kind;
	uint64_t off; /* LUN byte offset (READ, WRITE) */
	size_t len;
	bool fua;
};
bool svm_scsi_io_of(const struct svm_scsi_req *req, struct svm_scsi_io *io);
/*
 * The outcome of such I/O done elsewhere (ret: 0 or -errno), as
 * svm_scsi_execute would have answered it: the error logged and turned into
 * sense the same way. Never blocks.
 */
enum svm_sense svm_scsi_io_result(struct svm_lun *lun, const struct svm_scsi_io *io, int ret);

/*
 * Parse cdb as svm_scsi_execute would on a LUN of geometry g, without
 * executing it: INVALID COMMAND OPERATION CODE or INVALID FIELD IN CDB
 * (service action) for a command not served, else its parser's verdict.
 * Pure; for the tests.
 */
enum svm_sense svm_scsi_parse(const struct svm_lun_geom *g, const uint8_t *cdb, struct svm_cdb *c);

/* "READ(10)" etc., or NULL for an opcode the table does not know. */
const char *svm_scsi_op_name(uint8_t opcode);

#endif
