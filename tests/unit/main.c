/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "test.h"
#include "../../handler/log.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int test_passed, test_failed;
char test_dir[64] = "/tmp/svm-unit.XXXXXX";
char test_last_log[512];

static void keep_last(enum svm_log_level level, const char *msg)
{
	(void)level;
	snprintf(test_last_log, sizeof(test_last_log), "%s", msg);
}

bool test_dir_direct_io(void)
{
	char path[160];
	void *buf = NULL;
	bool ok = false;
	int fd;

	snprintf(path, sizeof(path), "%s/direct-probe", test_dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC, 0600);
	if (fd >= 0 && !posix_memalign(&buf, 4096, 4096)) {
		memset(buf, 7, 4096);
		ok = pwrite(fd, buf, 4096, 0) == 4096 && pread(fd, buf, 4096, 0) == 4096;
	}
	free(buf);
	if (fd >= 0)
		close(fd);
	unlink(path);
	return ok;
}

void test_log_capture(void)
{
	test_last_log[0] = '\0';
	svm_log_set_sink(keep_last);
}

void test_log_restore(void)
{
	svm_log_set_sink(NULL);
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} suites[] = {
		{"sense", sense_test}, {"iov", iov_test},     {"cfg", cfg_test},
		{"cdb", cdb_test},     {"store", store_test}, {"lun", lun_test},
		{"scsi", scsi_test},   {"pool", pool_test}, {"uring", uring_test},   {"rangelock", rangelock_test},
		{"registry", registry_test}, {"mover", mover_test},   {"xcopy", xcopy_test},
		{"tpc", tpc_test},	     {"migrec", migrec_test},	     {"mirror", mirror_test},	     {"migrate", migrate_test},	     {"plugin", plugin_test},
		{"svmlog", svmlog_test}, {"ctl", ctl_test},
	};
	char cmd[128];

	if (!mkdtemp(test_dir)) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(cmd, sizeof(cmd), "%s/state", test_dir);
	setenv("SVM_STATE_DIR", cmd, 1);
	snprintf(cmd, sizeof(cmd), "%s/run", test_dir);
	setenv("SVM_RUN_DIR", cmd, 1); /* handler_init's control socket (ctl.h) */
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		int p = test_passed, f = test_failed;

		suites[i].fn();
		printf("%-8s %d passed, %d failed\n", suites[i].name, test_passed - p,
		       test_failed - f);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", test_dir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", test_dir);
	printf("unit: %d passed, %d failed\n", test_passed, test_failed);
	return test_failed ? 1 : 0;
}
