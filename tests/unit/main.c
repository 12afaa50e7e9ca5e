/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "test.h"

#include <stdlib.h>
#include <unistd.h>

int test_passed, test_failed;
char test_dir[64] = "/tmp/svm-unit.XXXXXX";

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} suites[] = {
		{"sense", sense_test}, {"iov", iov_test},     {"cfg", cfg_test},
		{"cdb", cdb_test},     {"store", store_test}, {"pool", pool_test},
		{"plugin", plugin_test},
	};
	char cmd[128];

	if (!mkdtemp(test_dir)) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(cmd, sizeof(cmd), "%s/state", test_dir);
	setenv("SVM_STATE_DIR", cmd, 1);
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
