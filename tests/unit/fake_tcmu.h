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
	const char *wwn;
	void *hm_private;
	bool wce, unmap;
};

extern struct tcmur_handler *fake_handler; /* what handler_init registered */
extern char fake_last_err[1024];	   /* last error-level log line */

#endif
