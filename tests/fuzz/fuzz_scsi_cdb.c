/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the SCSI entry point, svm_scsi_route then
 * svm_scsi_execute as handler/plugin.c calls them (a READ or cached WRITE
 * first from the page cache only, then again if that would block), on one
 * LUN opened with svm_lun_open over a scratch file of 1 MiB (2048 blocks of
 * 512 bytes): every transfer, VERIFY and WRITE SAME is bounded by that
 * capacity. Input:
 * the first 16 bytes are the CDB (zero-padded), the rest the data buffer
 * (data-out for writes, data-in for reads), at most 64 KiB. The sense data
 * of every answer is built too. The scratch directory (under /dev/shm when
 * there is one, for speed) holds the store and SVM_STATE_DIR; it is removed
 * at exit.
 */
#define _GNU_SOURCE
#include "../../handler/cfg.h"
#include "../../handler/log.h"
#include "../../handler/lun.h"
#include "../../handler/scsi.h"
#include "../../handler/sense.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SERIAL	   "fuzz-0001"
#define BLOCK_SIZE 512
#define NUM_LBAS   2048
#define MAX_DATA   (64 * 1024)

static struct svm_lun *lun;
static char dir[64];

static int fixed_serial(void *arg, char *buf, size_t len)
{
	(void)arg;
	snprintf(buf, len, "%s", SERIAL);
	return 0;
}

static void quiet(enum svm_log_level level, const char *msg)
{
	(void)level, (void)msg;
}

static void cleanup(void)
{
	char cmd[128];

	if (lun)
		svm_lun_close(lun);
	lun = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (dir[0] && system(cmd))
		fprintf(stderr, "fuzz: could not remove %s\n", dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[128], *reason = NULL;
	struct svm_cfg cfg;
	int ret;

	(void)argc, (void)argv;
	snprintf(dir, sizeof(dir), "%s/svm-fuzz.XXXXXX",
		 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (!mkdtemp(dir)) {
		perror("fuzz: mkdtemp");
		exit(2);
	}
	atexit(cleanup);
	snprintf(path, sizeof(path), "%s/state", dir);
	setenv("SVM_STATE_DIR", path, 1);
	svm_log_set_sink(quiet);
	snprintf(path, sizeof(path), "%s/store.img", dir);
	ret = svm_cfg_parse(path, &cfg, &reason);
	if (!ret) {
		struct svm_lun_params p = {
		    .cfg = &cfg,
		    .block_size = BLOCK_SIZE,
		    .num_lbas = NUM_LBAS,
		    .max_xfer_blocks = 128,
		    .wce = true,
		    .serial = fixed_serial,
		};

		ret = svm_lun_open(&p, &lun, &reason);
		svm_cfg_free(&cfg);
	}
	if (ret) {
		fprintf(stderr, "fuzz: cannot open a LUN on %s: %s\n", path, reason ? reason : "?");
		exit(2);
	}
	free(reason);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t cdb[16] = {0}, sense[SVM_SENSE_FIXED_LEN];
	size_t len = size > 16 ? size - 16 : 0;
	struct svm_scsi_req req = {.cdb = cdb};
	struct iovec iov;
	uint8_t *buf;
	enum svm_sense s;

	/* a MODE SELECT before may have set SWP: every input starts on a writable LUN */
	svm_lun_set_swp(lun, false);
	memcpy(cdb, data, size < 16 ? size : 16);
	if (len > MAX_DATA)
		len = MAX_DATA;
	/* a buffer of exactly len bytes, so that ASan sees any access past it */
	buf = malloc(len ? len : 1);
	if (!buf)
		return 0;
	if (len)
		memcpy(buf, data + 16, len);
	iov = (struct iovec){buf, len};
	req.iov = &iov;
	req.iov_cnt = len ? 1 : 0;
	switch (svm_scsi_route(lun, &req)) {
	case SVM_SCSI_ROUTE_READ:
	case SVM_SCSI_ROUTE_WRITE_CACHED:
		/* as plugin.c: from the page cache at once, else again as a worker would */
		req.cached_only = true;
		s = svm_scsi_execute(lun, &req);
		if (!req.would_block)
			break;
		req.cached_only = false;
		s = svm_scsi_execute(lun, &req);
		break;
	default:
		s = svm_scsi_execute(lun, &req);
		break;
	}
	svm_sense_build(sense, sizeof(sense), s, req.has_info, req.info);
	free(buf);
	return 0;
}
