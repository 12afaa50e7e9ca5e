/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A LUN: geometry, identity and the store(s) behind it. The SCSI layer
 * reads and writes through these calls only, so that a LUN with a second
 * (destination) store can later fan a write out to both and complete it
 * when both are done, without the SCSI layer changing. All I/O calls block
 * and may run on many threads at once; byte offsets are LUN-relative.
 */
#ifndef SVM_LUN_H
#define SVM_LUN_H

#include "cfg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct svm_lun;

struct svm_lun_params {
	const struct svm_cfg *cfg;
	uint32_t block_size;	  /* bytes per logical block, from LIO */
	uint64_t num_lbas;	  /* LUN capacity in blocks, from LIO */
	uint32_t max_xfer_blocks; /* hw_max_sectors, from LIO; 0: unlimited */
	const char *serial;	  /* unit serial number (configfs wwn), or NULL */
};

/* What the SCSI layer reports about the LUN. Constant while the LUN is open. */
struct svm_lun_geom {
	uint32_t block_size;
	uint64_t num_lbas;
	uint32_t max_xfer_blocks;
	bool wce;   /* volatile write cache reported (mode page 08h WCE) */
	bool lbpu;  /* UNMAP supported (LBP VPD page LBPU, READ CAPACITY(16) LBPME) */
	bool lbprz; /* unmapped blocks read as zero */
	char serial[64];
};

/* Open the LUN's source store. Returns 0, or -errno with *reason malloc'd. Blocks. */
int svm_lun_open(const struct svm_lun_params *p, struct svm_lun **out, char **reason);
void svm_lun_close(struct svm_lun *lun);
const struct svm_lun_geom *svm_lun_geom(const struct svm_lun *lun);
const char *svm_lun_source(const struct svm_lun *lun);

/* Data path: 0 or -errno. len bytes are transferred at LUN byte offset off. */
int svm_lun_read(struct svm_lun *lun, const struct iovec *iov, size_t cnt, uint64_t off,
		 size_t len);
/* As svm_lun_read from the page cache only; -EAGAIN if that would wait. Never blocks. */
int svm_lun_read_cached(struct svm_lun *lun, const struct iovec *iov, size_t cnt, uint64_t off,
			size_t len);
int svm_lun_write(struct svm_lun *lun, const struct iovec *iov, size_t cnt, uint64_t off,
		  size_t len, bool fua);
int svm_lun_flush(struct svm_lun *lun);
int svm_lun_discard(struct svm_lun *lun, uint64_t off, uint64_t len);
/* Zeroes without data transfer; -EOPNOTSUPP if the store cannot (caller writes zeroes). */
int svm_lun_write_zeroes(struct svm_lun *lun, uint64_t off, uint64_t len);
void svm_lun_prefetch(struct svm_lun *lun, uint64_t off, uint64_t len);

#endif
