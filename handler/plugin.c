/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tcmu-runner glue: one ops table, one exported symbol (handler_init).
 * The handler is "passthrough only" (no read/write/flush callouts), so the
 * runner hands every CDB to svm_handle_cmd from nr_threads worker threads
 * (SVM_THREADS_DEFAULT, or tcmu-runner's environment SVM_THREADS), which
 * execute it synchronously through handler/scsi.c.
 */
#define _GNU_SOURCE
#include "tcmu_abi.h"
#include "cfg.h"
#include "limits.h"
#include "log.h"
#include "lun.h"
#include "scsi.h"
#include "sense.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char svm_cfg_desc[] =
	"<source-path>[,dst=<dest-path>][,create=yes|no][,wce=yes|no]: absolute path of a "
	"regular file or block device holding the LUN (a missing file is created when its "
	"directory exists, unless create=no; an existing one is never truncated). "
	"See docs/cfgstring.md.";

/* The runner passes "svm/<user cfgstring>": skip the subtype prefix. */
static const char *user_cfg(const char *cfgstring)
{
	const char *slash = cfgstring ? strchr(cfgstring, '/') : NULL;

	return slash ? slash + 1 : cfgstring;
}

static bool svm_check_config(const char *cfgstring, char **reason)
{
	struct svm_cfg cfg;
	int ret;

	ret = svm_cfg_parse(user_cfg(cfgstring), &cfg, reason);
	if (ret)
		return false;
	ret = svm_cfg_check_paths(&cfg, reason);
	svm_cfg_free(&cfg);
	return ret == 0;
}

static int svm_open(struct tcmu_device *dev, bool reopen)
{
	struct svm_lun_params p = {
		.block_size = tcmu_dev_get_block_size(dev),
		.num_lbas = tcmu_dev_get_num_lbas(dev),
		.max_xfer_blocks = tcmu_dev_get_max_xfer_len(dev),
	};
	struct svm_lun *lun;
	struct svm_cfg cfg;
	char *reason = NULL, *serial;
	int ret;

	(void)reopen;
	ret = svm_cfg_parse(user_cfg(tcmu_dev_get_cfgstring(dev)), &cfg, &reason);
	if (ret)
		goto log_reason;
	ret = svm_cfg_check_paths(&cfg, &reason);
	if (ret)
		goto free_cfg;
	serial = tcmu_cfgfs_dev_get_wwn(dev);
	p.cfg = &cfg;
	p.serial = serial;
	ret = svm_lun_open(&p, &lun, &reason);
	free(serial);
	if (ret)
		goto free_cfg;

	tcmu_dev_set_write_cache_enabled(dev, cfg.wce);
	tcmu_dev_set_unmap_enabled(dev, svm_lun_geom(lun)->lbpu);
	tcmur_dev_set_private(dev, lun);
	tcmu_dev_info(dev, "svm: LUN open on %s (%llu blocks of %u bytes%s%s)\n", cfg.src,
		      (unsigned long long)p.num_lbas, p.block_size, cfg.dst ? ", destination " : "",
		      cfg.dst ? cfg.dst : "");
	svm_cfg_free(&cfg);
	return 0;

free_cfg:
	svm_cfg_free(&cfg);
log_reason:
	tcmu_dev_err(dev, "svm: cannot open LUN '%s': %s\n", tcmu_dev_get_cfgstring(dev),
		     reason ? reason : strerror(-ret));
	free(reason);
	return ret;
}

static void svm_close(struct tcmu_device *dev)
{
	struct svm_lun *lun = tcmur_dev_get_private(dev);

	tcmu_dev_info(dev, "svm: LUN on %s closed\n", lun ? svm_lun_source(lun) : "?");
	svm_lun_close(lun);
	tcmur_dev_set_private(dev, NULL);
}

static int svm_handle_cmd(struct tcmu_device *dev, struct tcmur_cmd *rcmd)
{
	struct tcmulib_cmd *cmd = rcmd->lib_cmd;
	struct svm_scsi_req req = {.cdb = cmd->cdb, .iov = cmd->iovec, .iov_cnt = cmd->iov_cnt};
	enum svm_sense s = svm_scsi_execute(tcmur_dev_get_private(dev), &req);

	switch (svm_sense_build(cmd->sense_buf, sizeof(cmd->sense_buf), s, req.has_info,
				req.info)) {
	case SVM_SAM_STAT_GOOD:
		return TCMU_STS_OK;
	case SVM_SAM_STAT_BUSY:
		return TCMU_STS_BUSY;
	case SVM_SAM_STAT_TASK_SET_FULL:
		return TCMU_STS_NO_RESOURCE;
	default:
		if (s == SVM_SENSE_INVALID_OPCODE)
			tcmu_dev_dbg(dev, "svm: opcode 0x%02x not supported\n", cmd->cdb[0]);
		return TCMU_STS_PASSTHROUGH_ERR;
	}
}

static void svm_log_to_runner(enum svm_log_level level, const char *msg)
{
	switch (level) {
	case SVM_LOG_ERR:
		tcmu_err_message(NULL, "svm", 0, "%s\n", msg);
		break;
	case SVM_LOG_WARN:
		tcmu_warn_message(NULL, "svm", 0, "%s\n", msg);
		break;
	case SVM_LOG_INFO:
		tcmu_info_message(NULL, "svm", 0, "%s\n", msg);
		break;
	default:
		tcmu_dbg_message(NULL, "svm", 0, "%s\n", msg);
		break;
	}
}

static struct tcmur_handler svm_handler = {
	.name = "Storage vMotion handler (tcmu-svm)",
	.subtype = "svm",
	.cfg_desc = svm_cfg_desc,
	.check_config = svm_check_config,
	.open = svm_open,
	.close = svm_close,
	.nr_threads = SVM_THREADS_DEFAULT,
	.handle_cmd = svm_handle_cmd,
};

__attribute__((visibility("default"))) int handler_init(void)
{
	const char *env = getenv("SVM_THREADS");
	char *reason = NULL;
	unsigned n;

	svm_log_set_sink(svm_log_to_runner);
	svm_handler.nr_threads = SVM_THREADS_DEFAULT;
	if (env) {
		if (svm_cfg_parse_threads(env, &n, &reason)) {
			tcmu_err_message(NULL, __func__, __LINE__, "svm: %s; using %d\n",
					 reason ? reason : "bad SVM_THREADS", SVM_THREADS_DEFAULT);
			free(reason);
		} else {
			svm_handler.nr_threads = (int)n;
		}
	}
	tcmu_info_message(NULL, __func__, __LINE__, "svm: %d worker threads per LUN\n",
			  svm_handler.nr_threads);
	return tcmur_register_handler(&svm_handler);
}
