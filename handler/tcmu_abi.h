/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tcmu-runner 1.5.4 plugin ABI, declared here because Debian ships no
 * tcmu-runner headers. Facts taken from tcmu-runner v1.5.4 (tcmu-runner.h,
 * libtcmu_common.h, libtcmu_log.h, ccan list.h); every layout below must
 * match that release exactly, field for field.
 *
 * Symbols come from two places at load time:
 *   - the tcmu-runner binary exports tcmur_register_handler,
 *     tcmur_cmd_complete, tcmur_dev_get_private, tcmur_dev_set_private;
 *   - libtcmu.so.2 exports the tcmu_dev_* accessors and log functions.
 * Only the calls used by handler/plugin.c are declared. tests/unit/fake_tcmu.c
 * implements the same set for host tests; tests/unit/abi_check.sh checks
 * the built .so needs nothing else.
 */
#ifndef SVM_TCMU_ABI_H
#define SVM_TCMU_ABI_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <time.h>
#include <sys/types.h>
#include <sys/uio.h>

struct tcmu_device; /* opaque, owned by libtcmu */

/* libtcmu_common.h: SENSE_BUFFERSIZE */
#define TCMU_ABI_SENSE_BUFFERSIZE 96

/* libtcmu_common.h: return codes of handler callouts. */
enum {
	TCMU_STS_ASYNC_HANDLED = -2,
	TCMU_STS_NOT_HANDLED = -1,
	TCMU_STS_OK = 0,
	TCMU_STS_NO_RESOURCE,	  /* SAM TASK SET FULL */
	TCMU_STS_PASSTHROUGH_ERR, /* CHECK CONDITION, handler filled sense_buf */
	TCMU_STS_BUSY,		  /* SAM BUSY */
};

/* libtcmu_common.h: struct tcmulib_cmd */
struct tcmulib_cmd {
	uint16_t cmd_id;
	uint8_t *cdb;
	struct iovec *iovec;
	size_t iov_cnt;
	uint8_t sense_buf[TCMU_ABI_SENSE_BUFFERSIZE];
	void *hm_private;
};

/* libtcmu.h: what a reconfig call carries (one netlink RECONFIG_DEVICE) */
enum tcmulib_cfg_type {
	TCMULIB_CFG_DEV_CFGSTR,	 /* configfs attrib/dev_config written: "svm/..." */
	TCMULIB_CFG_DEV_SIZE,	 /* attrib/dev_size written: bytes */
	TCMULIB_CFG_WRITE_CACHE, /* attrib/emulate_write_cache written */
};

struct tcmulib_cfg_info {
	enum tcmulib_cfg_type type;
	union {
		uint64_t dev_size;
		char *dev_cfgstring;
		bool write_cache;
	} data;
};

/* ccan/list/list.h: struct list_node */
struct tcmu_abi_list_node {
	struct tcmu_abi_list_node *next, *prev;
};

/* tcmu-runner.h: struct tcmur_cmd */
struct tcmur_cmd {
	struct tcmulib_cmd *lib_cmd;
	struct iovec *iovec;
	size_t iov_cnt;
	void *iov_base_copy;
	void *cmd_state;
	size_t requested;
	struct tcmu_abi_list_node cmds_list_entry;
	struct timespec start_time;
	bool timed_out;
	void (*done)(struct tcmu_device *dev, struct tcmur_cmd *cmd, int ret);
};

/*
 * tcmu-runner.h: struct tcmur_handler. Field order is the ABI. With read,
 * write or flush set, the runner's command thread (tcmur_generic_handle_cmd)
 * offers every CDB to handle_cmd first; what it declines with
 * TCMU_STS_NOT_HANDLED goes to the runner's generic code, which calls
 * read/write/flush for READ/WRITE/SYNCHRONIZE CACHE after setting
 * tcmur_cmd.done. With nr_threads 0 every callout runs on that command
 * thread; returning 0 from read/write/flush (or TCMU_STS_ASYNC_HANDLED from
 * handle_cmd) means the handler completes the command later, through
 * tcmur_cmd_complete(), which calls tcmur_cmd.done.
 */
struct tcmur_handler {
	const char *name;
	const char *subtype;
	const char *cfg_desc;
	void *opaque;
	bool (*check_config)(const char *cfgstring, char **reason);
	int (*reconfig)(struct tcmu_device *dev, struct tcmulib_cfg_info *cfg);
	int (*open)(struct tcmu_device *dev, bool reopen);
	void (*close)(struct tcmu_device *dev);
	int nr_threads;
	int (*handle_cmd)(struct tcmu_device *dev, struct tcmur_cmd *cmd);
	int (*read)(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iovec,
		    size_t iov_cnt, size_t len, off_t off);
	int (*write)(struct tcmu_device *dev, struct tcmur_cmd *cmd, struct iovec *iovec,
		     size_t iov_cnt, size_t len, off_t off);
	int (*flush)(struct tcmu_device *dev, struct tcmur_cmd *cmd);
	int (*unmap)(struct tcmu_device *dev, struct tcmur_cmd *cmd, uint64_t off, uint64_t len);
	int (*writesame)(struct tcmu_device *dev, struct tcmur_cmd *cmd, uint64_t off,
			 uint64_t len, struct iovec *iovec, size_t iov_cnt);
	int (*caw)(struct tcmu_device *dev, struct tcmur_cmd *cmd, uint64_t off, uint64_t len,
		   struct iovec *iovec, size_t iov_cnt);
	int (*report_event)(struct tcmu_device *dev);
	int (*lock)(struct tcmu_device *dev, uint16_t tag);
	int (*unlock)(struct tcmu_device *dev);
	int (*get_lock_tag)(struct tcmu_device *dev, uint16_t *tag);
	int (*get_lock_state)(struct tcmu_device *dev);
	bool _is_dbus_handler; /* runner-internal */
	bool (*update_logdir)(void);
	int (*init)(void);
	void (*destroy)(void);
};

/* Exported by the tcmu-runner binary. */
int tcmur_register_handler(struct tcmur_handler *handler);
void tcmur_cmd_complete(struct tcmu_device *dev, void *data, int rc);
void *tcmur_dev_get_private(struct tcmu_device *dev);
void tcmur_dev_set_private(struct tcmu_device *dev, void *priv);

/* Exported by libtcmu.so.2. */
char *tcmu_dev_get_cfgstring(struct tcmu_device *dev);
uint64_t tcmu_dev_get_num_lbas(struct tcmu_device *dev);
uint32_t tcmu_dev_get_block_size(struct tcmu_device *dev);
uint32_t tcmu_dev_get_max_xfer_len(struct tcmu_device *dev);
void tcmu_dev_set_write_cache_enabled(struct tcmu_device *dev, bool enabled);
void tcmu_dev_set_unmap_enabled(struct tcmu_device *dev, bool enabled);
const char *tcmu_dev_get_uio_name(struct tcmu_device *dev); /* "uio0" */

/* libtcmu_log.h */
void tcmu_err_message(struct tcmu_device *dev, const char *funcname, int linenr,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void tcmu_warn_message(struct tcmu_device *dev, const char *funcname, int linenr,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void tcmu_info_message(struct tcmu_device *dev, const char *funcname, int linenr,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void tcmu_dbg_message(struct tcmu_device *dev, const char *funcname, int linenr,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define tcmu_dev_err(dev, ...)	tcmu_err_message(dev, __func__, __LINE__, __VA_ARGS__)
#define tcmu_dev_warn(dev, ...) tcmu_warn_message(dev, __func__, __LINE__, __VA_ARGS__)
#define tcmu_dev_info(dev, ...) tcmu_info_message(dev, __func__, __LINE__, __VA_ARGS__)
#define tcmu_dev_dbg(dev, ...)	tcmu_dbg_message(dev, __func__, __LINE__, __VA_ARGS__)

#endif
