/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tcmu-runner glue: one ops table, one exported symbol (handler_init).
 *
 * nr_threads is 0: the runner calls us on its one command thread per LUN
 * (cmdproc) and we choose where each command runs (svm_scsi_route):
 *   - emulated commands execute at once, on cmdproc; so do READs the page
 *     cache holds and WRITEs it absorbs (no FUA, write cache on), which
 *     cost less than handing them to another thread (unless such writes
 *     turn slow: then they go to the pool for a while);
 *   - other READ/WRITE and SYNCHRONIZE CACHE that pass their checks are
 *     declined (TCMU_STS_NOT_HANDLED), so the runner's generic path calls
 *     svm_read / svm_write / svm_flush, which queue them on the LUN's worker
 *     pool (handler/pool.h); the worker completes them with
 *     tcmur_cmd_complete();
 *   - other commands that block on a store are queued on the pool too,
 *     completed through the same callback the runner sets for its generic
 *     path (see runner_done).
 * Every command executes through handler/scsi.c, whichever thread runs it.
 */
#define _GNU_SOURCE
#include "tcmu_abi.h"
#include "cfg.h"
#include "limits.h"
#include "log.h"
#include "lun.h"
#include "pool.h"
#include "scsi.h"
#include "sense.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* What the runner's private pointer holds for an open LUN. */
struct svm_dev {
	struct svm_lun *lun;
	struct svm_pool *pool;
	/* Command thread only: */
	uint64_t pool_writes_until_ns; /* cached writes go to the pool until then */
	uint64_t write_avg_ns;	       /* moving average of cached writes' time here */
	uint64_t inline_rw;	       /* READs and WRITEs served on the command thread */
	uint64_t backoffs;	       /* times cached writes were sent to the pool */
};

static unsigned svm_threads = SVM_THREADS_DEFAULT; /* workers per LUN, set by handler_init */

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
	struct svm_dev *d;
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
	ret = -ENOMEM;
	d = calloc(1, sizeof(*d));
	if (!d)
		goto free_cfg;
	serial = tcmu_cfgfs_dev_get_wwn(dev);
	p.cfg = &cfg;
	p.serial = serial;
	ret = svm_lun_open(&p, &d->lun, &reason);
	free(serial);
	if (ret)
		goto free_dev;
	ret = svm_pool_create(svm_threads, "lun", &d->pool);
	if (ret)
		goto close_lun;

	tcmu_dev_set_write_cache_enabled(dev, cfg.wce);
	tcmu_dev_set_unmap_enabled(dev, svm_lun_geom(d->lun)->lbpu);
	tcmur_dev_set_private(dev, d);
	tcmu_dev_info(dev, "svm: LUN open on %s (%llu blocks of %u bytes%s%s)\n", cfg.src,
		      (unsigned long long)p.num_lbas, p.block_size, cfg.dst ? ", destination " : "",
		      cfg.dst ? cfg.dst : "");
	svm_cfg_free(&cfg);
	return 0;

close_lun:
	svm_lun_close(d->lun);
free_dev:
	free(d);
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
	struct svm_dev *d = tcmur_dev_get_private(dev);
	struct svm_pool_stats st;

	if (!d)
		return;
	tcmur_dev_set_private(dev, NULL);
	svm_pool_get_stats(d->pool, &st);
	svm_pool_destroy(d->pool); /* the runner waited for our commands; this joins the threads */
	tcmu_dev_info(dev,
		      "svm: LUN on %s closed; %llu reads/writes on the command thread (cached "
		      "writes moved to the pool %llu times); worker pool: %llu commands, %llu "
		      "thread wake-ups, at most %u at once\n",
		      svm_lun_source(d->lun), (unsigned long long)d->inline_rw,
		      (unsigned long long)d->backoffs,
		      (unsigned long long)st.started,
		      (unsigned long long)st.wakeups, st.max_busy);
	svm_lun_close(d->lun);
	free(d);
}

/* The runner status for the outcome of req, its sense built into cmd. */
static int status_of(struct tcmu_device *dev, struct tcmulib_cmd *cmd,
		     const struct svm_scsi_req *req, enum svm_sense s)
{
	switch (svm_sense_build(cmd->sense_buf, sizeof(cmd->sense_buf), s, req->has_info,
				req->info)) {
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

/* Execute one command here and now; returns the runner status. */
static int run_cmd(struct tcmu_device *dev, struct tcmur_cmd *rcmd)
{
	struct svm_dev *d = tcmur_dev_get_private(dev);
	struct tcmulib_cmd *cmd = rcmd->lib_cmd;
	struct svm_scsi_req req = {.cdb = cmd->cdb, .iov = cmd->iovec, .iov_cnt = cmd->iov_cnt};

	return status_of(dev, cmd, &req, svm_scsi_execute(d ? d->lun : NULL, &req));
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

typedef void (*svm_done_fn)(struct tcmu_device *dev, struct tcmur_cmd *cmd, int ret);

/*
 * The completion callback tcmu-runner 1.5.4 puts in tcmur_cmd.done before it
 * calls our read/write/flush: handle_generic_cbk, which finishes any command
 * (status to the ring, in-flight accounting, kernel kick). The runner uses
 * the very same callback for handle_cmd when it runs handlers on its own
 * threads (handle_passthrough), so commands of handle_cmd may complete
 * through it as well. Learned from the first read/write/flush call.
 */
static svm_done_fn runner_done;

struct cmd_job {
	struct svm_pool_job job; /* first: the pool hands this back */
	struct tcmu_device *dev;
	struct tcmur_cmd *rcmd;
};

static void cmd_job_run(struct svm_pool_job *job)
{
	struct cmd_job *j = (struct cmd_job *)job;
	struct tcmu_device *dev = j->dev;
	struct tcmur_cmd *rcmd = j->rcmd;
	int sts = run_cmd(dev, rcmd);

	free(j);
	tcmur_cmd_complete(dev, rcmd, sts); /* calls rcmd->done */
}

/* Queue rcmd on the LUN's pool. TCMU_STS_OK, or NO_RESOURCE (the initiator retries). */
static int queue_cmd(struct tcmu_device *dev, struct tcmur_cmd *rcmd)
{
	struct svm_dev *d = tcmur_dev_get_private(dev);
	struct cmd_job *j = malloc(sizeof(*j));

	if (!j)
		return TCMU_STS_NO_RESOURCE;
	j->job.fn = cmd_job_run;
	j->dev = dev;
	j->rcmd = rcmd;
	svm_pool_submit(d->pool, &j->job);
	return TCMU_STS_OK;
}

static int svm_handle_cmd(struct tcmu_device *dev, struct tcmur_cmd *rcmd)
{
	struct svm_dev *d = tcmur_dev_get_private(dev);
	struct tcmulib_cmd *cmd = rcmd->lib_cmd;
	struct svm_scsi_req req = {.cdb = cmd->cdb, .iov = cmd->iovec, .iov_cnt = cmd->iov_cnt};
	enum svm_sense s;
	uint64_t t0, t1;
	svm_done_fn done;
	int sts;

	switch (svm_scsi_route(d ? d->lun : NULL, &req)) {
	case SVM_SCSI_ROUTE_READ:
		/* From the page cache at once, or else on a worker. */
		req.cached_only = true;
		s = svm_scsi_execute(d->lun, &req);
		if (req.would_block)
			return TCMU_STS_NOT_HANDLED;
		d->inline_rw++;
		return status_of(dev, cmd, &req, s);
	case SVM_SCSI_ROUTE_WRITE_CACHED:
		/*
		 * A copy into the page cache: cheaper here than a thread hand-off,
		 * unless the store makes such writes wait (dirty throttling, a
		 * partial page to read first); then the pool takes them for a while.
		 */
		t0 = now_ns();
		if (t0 < d->pool_writes_until_ns)
			return TCMU_STS_NOT_HANDLED;
		sts = status_of(dev, cmd, &req, svm_scsi_execute(d->lun, &req));
		d->inline_rw++;
		t1 = now_ns();
		/*
		 * A moving average (weight 1/SVM_INLINE_AVG_WEIGHT): a thread
		 * preempted once does not trip it, a store that throttles does.
		 */
		d->write_avg_ns = d->write_avg_ns - d->write_avg_ns / SVM_INLINE_AVG_WEIGHT +
				  (t1 - t0) / SVM_INLINE_AVG_WEIGHT;
		if (d->write_avg_ns > SVM_INLINE_SLOW_US * 1000ull) {
			tcmu_dev_dbg(dev, "svm: cached writes average %llu us; pool for %d ms\n",
				     (unsigned long long)d->write_avg_ns / 1000,
				     SVM_INLINE_BACKOFF_MS);
			d->pool_writes_until_ns = t1 + SVM_INLINE_BACKOFF_MS * 1000000ull;
			d->write_avg_ns = 0;
			d->backoffs++;
		}
		return sts;
	case SVM_SCSI_ROUTE_RW:
		return TCMU_STS_NOT_HANDLED; /* to svm_read / svm_write / svm_flush */
	case SVM_SCSI_ROUTE_BLOCKING:
		done = __atomic_load_n(&runner_done, __ATOMIC_ACQUIRE);
		if (!done)
			break; /* no read/write seen yet: run it here */
		rcmd->done = done;
		sts = queue_cmd(dev, rcmd);
		return sts == TCMU_STS_OK ? TCMU_STS_ASYNC_HANDLED : sts;
	case SVM_SCSI_ROUTE_INLINE:
		break;
	}
	return status_of(dev, cmd, &req, svm_scsi_execute(d ? d->lun : NULL, &req));
}

/*
 * The runner's generic callouts, reached only for the READ, WRITE and
 * SYNCHRONIZE CACHE svm_handle_cmd declined: the command itself says what to do, so the
 * arguments the runner derived from it are not used again. Returning 0 means
 * "completes later" to the runner.
 */
static int generic_callout(struct tcmu_device *dev, struct tcmur_cmd *rcmd,
			   const struct iovec *iov)
{
	struct tcmulib_cmd *cmd = rcmd->lib_cmd;

	if (iov != cmd->iovec) {
		/* the runner emulating something with our read/write: never declined to it */
		tcmu_dev_err(dev, "svm: unexpected %s callout for opcode 0x%02x\n",
			     iov ? "read/write" : "flush", cmd->cdb[0]);
		svm_sense_build(cmd->sense_buf, sizeof(cmd->sense_buf),
				SVM_SENSE_INTERNAL_TARGET_FAILURE, false, 0);
		return TCMU_STS_PASSTHROUGH_ERR;
	}
	if (rcmd->done)
		__atomic_store_n(&runner_done, rcmd->done, __ATOMIC_RELEASE);
	return queue_cmd(dev, rcmd);
}

static int svm_read(struct tcmu_device *dev, struct tcmur_cmd *rcmd, struct iovec *iov,
		    size_t iov_cnt, size_t len, off_t off)
{
	(void)iov_cnt, (void)len, (void)off;
	return generic_callout(dev, rcmd, iov);
}

static int svm_write(struct tcmu_device *dev, struct tcmur_cmd *rcmd, struct iovec *iov,
		     size_t iov_cnt, size_t len, off_t off)
{
	(void)iov_cnt, (void)len, (void)off;
	return generic_callout(dev, rcmd, iov);
}

static int svm_flush(struct tcmu_device *dev, struct tcmur_cmd *rcmd)
{
	return generic_callout(dev, rcmd, rcmd->lib_cmd->iovec);
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
	.nr_threads = 0, /* our own pool: see the top of this file */
	.handle_cmd = svm_handle_cmd,
	.read = svm_read,
	.write = svm_write,
	.flush = svm_flush,
};

__attribute__((visibility("default"))) int handler_init(void)
{
	const char *env = getenv("SVM_THREADS");
	char *reason = NULL;
	unsigned n;

	svm_log_set_sink(svm_log_to_runner);
	svm_threads = SVM_THREADS_DEFAULT;
	if (env) {
		if (svm_cfg_parse_threads(env, &n, &reason)) {
			tcmu_err_message(NULL, __func__, __LINE__, "svm: %s; using %d\n",
					 reason ? reason : "bad SVM_THREADS", SVM_THREADS_DEFAULT);
			free(reason);
		} else {
			svm_threads = n;
		}
	}
	tcmu_info_message(NULL, __func__, __LINE__, "svm: up to %u worker threads per LUN\n",
			  svm_threads);
	return tcmur_register_handler(&svm_handler);
}
