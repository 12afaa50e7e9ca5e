/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "fake_tcmu.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tcmur_handler *fake_handler;
char fake_last_err[1024];

int tcmur_register_handler(struct tcmur_handler *handler)
{
	fake_handler = handler;
	return 0;
}

void tcmur_cmd_complete(struct tcmu_device *dev, void *data, int rc)
{
	(void)dev, (void)data, (void)rc; /* the handler completes synchronously */
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

char *tcmu_cfgfs_dev_get_wwn(struct tcmu_device *dev)
{
	return dev->wwn ? strdup(dev->wwn) : NULL;
}

static void logv(bool is_err, const char *fmt, va_list ap)
{
	char buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (is_err)
		snprintf(fake_last_err, sizeof(fake_last_err), "%s", buf);
	if (getenv("SVM_UNIT_VERBOSE"))
		fprintf(stderr, "log: %s", buf);
}

#define FAKE_LOG(fn, is_err)                                                               \
	void fn(struct tcmu_device *dev, const char *funcname, int linenr, const char *fmt, \
		...)                                                                       \
	{                                                                                  \
		va_list ap;                                                                \
		(void)dev, (void)funcname, (void)linenr;                                   \
		va_start(ap, fmt);                                                         \
		logv(is_err, fmt, ap);                                                     \
		va_end(ap);                                                                \
	}
FAKE_LOG(tcmu_err_message, true)
FAKE_LOG(tcmu_warn_message, false)
FAKE_LOG(tcmu_info_message, false)
FAKE_LOG(tcmu_dbg_message, false)
