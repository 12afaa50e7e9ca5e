/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "fake_tcmu.h"
#include "../../handler/iov.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct tcmur_handler *fake_handler;
char fake_last_err[1024];
char fake_last_warn[1024];
char fake_last_info[1024];
char fake_info_log[8192];

int tcmur_register_handler(struct tcmur_handler *handler)
{
	fake_handler = handler;
	return 0;
}

void tcmur_cmd_complete(struct tcmu_device *dev, void *data, int rc)
{
	struct tcmur_cmd *rcmd = data;

	rcmd->done(dev, rcmd, rc);
}

/* Completions, as the runner's handle_generic_cbk would see them. */
static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static struct tcmur_cmd *done_cmd;
static int done_sts;

static void fake_generic_done(struct tcmu_device *dev, struct tcmur_cmd *rcmd, int ret)
{
	(void)dev;
	pthread_mutex_lock(&done_lock);
	done_cmd = rcmd;
	done_sts = ret;
	pthread_cond_broadcast(&done_cond);
	pthread_mutex_unlock(&done_lock);
}

static int wait_done(struct tcmur_cmd *rcmd)
{
	struct timespec ts;
	int sts = FAKE_STS_LOST;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&done_lock);
	while (done_cmd != rcmd)
		if (pthread_cond_timedwait(&done_cond, &done_lock, &ts) == ETIMEDOUT)
			break;
	if (done_cmd == rcmd)
		sts = done_sts;
	done_cmd = NULL;
	pthread_mutex_unlock(&done_lock);
	return sts;
}

int fake_submit(struct tcmu_device *dev, struct tcmur_cmd *rcmd, bool *async_out)
{
	struct tcmulib_cmd *cmd = rcmd->lib_cmd;
	size_t len;
	int ret;

	rcmd->done = NULL;
	ret = fake_handler->handle_cmd(dev, rcmd);
	if (ret == TCMU_STS_NOT_HANDLED) {
		len = svm_iov_length(cmd->iovec, cmd->iov_cnt);
		rcmd->done = fake_generic_done;
		switch (cmd->cdb[0]) {
		case 0x28: case 0xA8: case 0x88: /* READ(10/12/16) */
			ret = fake_handler->read(dev, rcmd, cmd->iovec, cmd->iov_cnt, len, 0);
			break;
		case 0x2A: case 0xAA: case 0x8A: /* WRITE(10/12/16) */
			ret = fake_handler->write(dev, rcmd, cmd->iovec, cmd->iov_cnt, len, 0);
			break;
		case 0x35: case 0x91: /* SYNCHRONIZE CACHE(10/16) */
			ret = fake_handler->flush(dev, rcmd);
			break;
		default:
			return FAKE_STS_BAD_DECLINE;
		}
		if (ret == TCMU_STS_OK) /* the runner's aio_request_schedule with nr_threads 0 */
			ret = TCMU_STS_ASYNC_HANDLED;
	}
	if (async_out)
		*async_out = ret == TCMU_STS_ASYNC_HANDLED;
	if (ret != TCMU_STS_ASYNC_HANDLED)
		return ret;
	if (!rcmd->done)
		return FAKE_STS_LOST; /* async with no way to complete */
	return wait_done(rcmd);
}

void *tcmur_dev_get_private(struct tcmu_device *dev)
{
	return dev->hm_private;
}

void tcmur_dev_set_private(struct tcmu_device *dev, void *priv)
{
	dev->hm_private = priv;
}

char *tcmu_dev_get_cfgstring(struct tcmu_device *dev)
{
	return dev->cfgstring;
}

uint64_t tcmu_dev_get_num_lbas(struct tcmu_device *dev)
{
	return dev->num_lbas;
}

uint32_t tcmu_dev_get_block_size(struct tcmu_device *dev)
{
	return dev->block_size;
}

uint32_t tcmu_dev_get_max_xfer_len(struct tcmu_device *dev)
{
	return dev->max_xfer_len;
}

void tcmu_dev_set_write_cache_enabled(struct tcmu_device *dev, bool enabled)
{
	dev->wce = enabled;
}

void tcmu_dev_set_unmap_enabled(struct tcmu_device *dev, bool enabled)
{
	dev->unmap = enabled;
}

const char *tcmu_dev_get_uio_name(struct tcmu_device *dev)
{
	return dev->uio ? dev->uio : "";
}

static void logv(int level, const char *fmt, va_list ap)
{
	char buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (level == 0)
		snprintf(fake_last_err, sizeof(fake_last_err), "%s", buf);
	if (level == 1)
		snprintf(fake_last_warn, sizeof(fake_last_warn), "%s", buf);
	if (level == 2) {
		size_t used = strlen(fake_info_log);

		snprintf(fake_last_info, sizeof(fake_last_info), "%s", buf);
		snprintf(fake_info_log + used, sizeof(fake_info_log) - used, "%s", buf);
	}
	if (getenv("SVM_UNIT_VERBOSE"))
		fprintf(stderr, "log: %s", buf);
}

#define FAKE_LOG(fn, level)                                                                \
	void fn(struct tcmu_device *dev, const char *funcname, int linenr, const char *fmt, \
		...)                                                                       \
	{                                                                                  \
		va_list ap;                                                                \
		(void)dev, (void)funcname, (void)linenr;                                   \
		va_start(ap, fmt);                                                         \
		logv(level, fmt, ap);                                                      \
		va_end(ap);                                                                \
	}
FAKE_LOG(tcmu_err_message, 0)
FAKE_LOG(tcmu_warn_message, 1)
FAKE_LOG(tcmu_info_message, 2)
FAKE_LOG(tcmu_dbg_message, 3)
