/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "lun.h"
#include "state.h"
#include "store.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct svm_lun {
	struct svm_lun_geom geom;
	struct svm_store *src; /* primary: serves reads, takes every write */
	char *dst_path;	       /* recorded destination; not opened until a migration */
};

int svm_lun_open(const struct svm_lun_params *p, struct svm_lun **out, char **reason)
{
	struct svm_store_open_args sa = {.create = p->cfg->create};
	struct svm_lun *lun;
	int ret;

	if (!p->block_size || (p->block_size & (p->block_size - 1)) || p->block_size < 512)
		return svm_reason(reason, -EINVAL, "unsupported block size %u", p->block_size);
	if (!p->num_lbas || p->num_lbas > UINT64_MAX / p->block_size)
		return svm_reason(reason, -EINVAL, "unsupported LUN size of %llu blocks",
				  (unsigned long long)p->num_lbas);
	lun = calloc(1, sizeof(*lun));
	if (!lun)
		return svm_reason(reason, -ENOMEM, "out of memory");

	sa.min_bytes = p->num_lbas * p->block_size;
	ret = svm_store_open(p->cfg->src, &sa, &lun->src, reason);
	if (ret)
		goto free_lun;
	if (!(svm_store_caps(lun->src) & SVM_STORE_CAP_BLOCKDEV)) {
		int err = svm_state_store_record(p->cfg->src);

		if (err)
			svm_log(SVM_LOG_WARN, "cannot record store %s in the state directory: %s",
				p->cfg->src, strerror(-err));
	}
	if (p->cfg->dst) {
		lun->dst_path = strdup(p->cfg->dst);
		if (!lun->dst_path) {
			ret = svm_reason(reason, -ENOMEM, "out of memory");
			goto close_src;
		}
	}
	lun->geom = (struct svm_lun_geom){
		.block_size = p->block_size,
		.num_lbas = p->num_lbas,
		.max_xfer_blocks = p->max_xfer_blocks,
		.wce = p->cfg->wce,
		.lbpu = svm_store_caps(lun->src) & SVM_STORE_CAP_DISCARD,
		.lbprz = svm_store_caps(lun->src) & SVM_STORE_CAP_DISCARD_ZEROES,
	};
	snprintf(lun->geom.serial, sizeof(lun->geom.serial), "%s", p->serial ? p->serial : "");
	*out = lun;
	return 0;

close_src:
	svm_store_close(lun->src);
free_lun:
	free(lun);
	return ret;
}

void svm_lun_close(struct svm_lun *lun)
{
	if (!lun)
		return;
	svm_store_close(lun->src);
	free(lun->dst_path);
	free(lun);
}

const struct svm_lun_geom *svm_lun_geom(const struct svm_lun *lun)
{
	return &lun->geom;
}

const char *svm_lun_source(const struct svm_lun *lun)
{
	return svm_store_path(lun->src);
}

int svm_lun_read(struct svm_lun *lun, const struct iovec *iov, size_t cnt, uint64_t off,
		 size_t len)
{
	return svm_store_readv(lun->src, iov, cnt, off, len);
}

int svm_lun_read_cached(struct svm_lun *lun, const struct iovec *iov, size_t cnt, uint64_t off,
			size_t len)
{
	return svm_store_readv_cached(lun->src, iov, cnt, off, len);
}

int svm_lun_write(struct svm_lun *lun, const struct iovec *iov, size_t cnt, uint64_t off,
		  size_t len, bool fua)
{
	/* wce=no: the LUN reports no volatile cache, so every write is stable. */
	return svm_store_writev(lun->src, iov, cnt, off, len, fua || !lun->geom.wce);
}

int svm_lun_flush(struct svm_lun *lun)
{
	return svm_store_flush(lun->src);
}

int svm_lun_discard(struct svm_lun *lun, uint64_t off, uint64_t len)
{
	return svm_store_discard(lun->src, off, len);
}

int svm_lun_write_zeroes(struct svm_lun *lun, uint64_t off, uint64_t len)
{
	int ret = svm_store_write_zeroes(lun->src, off, len);

	/* like a write: with no volatile cache reported it must be stable now */
	if (!ret && !lun->geom.wce)
		ret = svm_store_flush(lun->src);
	return ret;
}

void svm_lun_prefetch(struct svm_lun *lun, uint64_t off, uint64_t len)
{
	svm_store_prefetch(lun->src, off, len);
}
