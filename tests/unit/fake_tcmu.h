/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A fake of the tcmu-runner binary and libtcmu.so.2: exactly the symbols
 * handler/tcmu_abi.h declares, backed by a plain struct, so host tests can
 * call the handler's ops with real CDBs. Explicit stub, no kernel involved.
 */
#ifndef SVM_FAKE_TCMU_H
#define SVM_FAKE_TCMU_H

#include "../../handler/tcmu_abi.h"

struct tcmu_device {
	char cfgstring[512];
	uint64_t num_lbas;
	uint32_t block_size;
	uint32_t max_xfer_len;
	const char *uio; /* tcmu_dev_get_uio_name; the tests build a fake sysfs/configfs for it */
	void *hm_private;
	bool wce, unmap;
};

extern struct tcmur_handler *fake_handler; /* what handler_init registered */

/*
 * Hand one command to the handler the way tcmu-runner 1.5.4's command
 * thread does for a handler with read/write/flush callouts
 * (tcmur_generic_handle_cmd): handle_cmd first; if it declines a READ,
 * WRITE or SYNCHRONIZE CACHE, the matching callout with done set. A command
 * that goes asynchronous is waited for (up to 10 s). Returns its final
 * status; FAKE_STS_BAD_DECLINE if handle_cmd declined any other command,
 * FAKE_STS_LOST if it never completed. *async_out (may be NULL): whether it
 * completed asynchronously.
 */
#define FAKE_STS_BAD_DECLINE (-100)
#define FAKE_STS_LOST	     (-101)
int fake_submit(struct tcmu_device *dev, struct tcmur_cmd *rcmd, bool *async_out);
extern char fake_last_err[1024];	   /* last error-level log line */
extern char fake_last_warn[1024];	   /* last warning-level log line */
extern char fake_last_info[1024];	   /* last info-level log line */
/* info-level lines since a test last emptied it (fake_info_log[0] = 0); cut when full */
extern char fake_info_log[8192];

#endif
