/* SPDX-License-Identifier: Apache-2.0 */
/*
 * handler_svmnull.so, backstore user:svmnull: a measuring instrument for
 * tests/bench/ceiling-guest.sh, never a store. It answers READ, WRITE and
 * SYNCHRONIZE CACHE with GOOD at once, on tcmu-runner's command thread,
 * without touching the data (reads return whatever the TCMU data area
 * held); everything else goes to tcmu-runner's own emulation (INQUIRY,
 * READ CAPACITY, MODE SENSE...). What an initiator then measures is the
 * cost of TCMU and tcmu-runner alone: the most any tcmu-runner handler
 * could do on that machine, with no work of its own.
 *
 * Built by `make bench-ceiling` only; not installed, not part of the handler.
 */
#include "../../../handler/tcmu_abi.h"

#include <string.h>

static int null_open(struct tcmu_device *dev, bool reopen)
{
	(void)reopen;
	tcmu_dev_set_write_cache_enabled(dev, true); /* as svm's default LUN */
	return 0;
}

static void null_close(struct tcmu_device *dev)
{
	(void)dev;
}

static bool null_check_config(const char *cfgstring, char **reason)
{
	(void)cfgstring, (void)reason;
	return true;
}

static int null_handle_cmd(struct tcmu_device *dev, struct tcmur_cmd *cmd)
{
	(void)dev;
	switch (cmd->lib_cmd->cdb[0]) {
	case 0x28: /* READ(10) */
	case 0x88: /* READ(16) */
	case 0x2a: /* WRITE(10) */
	case 0x8a: /* WRITE(16) */
	case 0x35: /* SYNCHRONIZE CACHE(10) */
	case 0x91: /* SYNCHRONIZE CACHE(16) */
		return TCMU_STS_OK;
	default:
		return TCMU_STS_NOT_HANDLED;
	}
}

/*
 * Never reached for fio's READ/WRITE (handle_cmd answers them), but
 * tcmu-runner 1.5.4 takes a handler without read/write/flush for a
 * passthrough-only one (tcmur_handler_is_passthrough_only) and then
 * emulates nothing, not even INQUIRY. Complete at once, as handle_cmd does.
 */
static int null_rw(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iov,
		   size_t iov_cnt, size_t len, off_t off)
{
	(void)iov, (void)iov_cnt, (void)len, (void)off;
	tcmur_cmd_complete(dev, cmd, TCMU_STS_OK);
	return TCMU_STS_OK;
}

static int null_flush(struct tcmu_device *dev, struct tcmur_cmd *cmd)
{
	tcmur_cmd_complete(dev, cmd, TCMU_STS_OK);
	return TCMU_STS_OK;
}

static struct tcmur_handler null_handler = {
	.name = "tcmu-svm benchmark instrument: answers I/O without doing any",
	.subtype = "svmnull",
	.cfg_desc = "anything (ignored)",
	.check_config = null_check_config,
	.open = null_open,
	.close = null_close,
	.nr_threads = 0,
	.handle_cmd = null_handle_cmd,
	.read = null_rw,
	.write = null_rw,
	.flush = null_flush,
};

__attribute__((visibility("default"))) int handler_init(void)
{
	return tcmur_register_handler(&null_handler);
}
