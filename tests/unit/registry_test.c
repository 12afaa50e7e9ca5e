/* SPDX-License-Identifier: Apache-2.0 */
/* The registry of open LUNs: lookups by NAA, copy groups, removal while a copy holds a LUN. */
#define _GNU_SOURCE
#include "test.h"
#include "../../handler/cfg.h"
#include "../../handler/registry.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static int serial_of(void *arg, char *buf, size_t len)
{
	snprintf(buf, len, "%s", (const char *)arg);
	return 0;
}

static struct svm_lun *open_named(const char *name, const char *serial)
{
	char path[256], *reason = NULL;
	struct svm_lun *lun = NULL;
	struct svm_cfg cfg;

	snprintf(path, sizeof(path), "%s/%s", test_dir, name);
	if (svm_cfg_parse(path, &cfg, &reason) == 0) {
		struct svm_lun_params p = {.cfg = &cfg,
					   .block_size = 512,
					   .num_lbas = 64,
					   .wce = true,
					   .serial = serial_of,
					   .serial_arg = (void *)serial};

		CHECK_EQ(svm_lun_open(&p, &lun, &reason), 0);
		svm_cfg_free(&cfg);
	}
	free(reason);
	return lun;
}

static void naa(const char *serial, uint8_t out[SVM_NAA_LEN])
{
	svm_naa_from_serial(serial, out);
}

static volatile bool removed;

static void *remove_thread(void *arg)
{
	svm_registry_remove(arg);
	removed = true;
	return NULL;
}

void registry_test(void)
{
	struct svm_lun *a = open_named("reg-a.img", "aaaa0001");
	struct svm_lun *b = open_named("reg-b.img", "bbbb0002");
	struct svm_lun *c = open_named("reg-c.img", "cccc0003"), *got;
	uint8_t id[SVM_NAA_LEN];
	pthread_t t;

	if (!a || !b || !c)
		return;
	test_log_capture();
	CHECK_EQ(svm_registry_add(a, "g1"), 0);
	CHECK_EQ(svm_registry_add(b, "g1"), 0);
	CHECK_EQ(svm_registry_add(c, NULL), 0);

	/* a reaches itself and b (same group); c, without a group, only itself */
	naa("aaaa0001", id);
	CHECK_EQ(svm_registry_get(id, sizeof(id), a, &got), SVM_REGISTRY_FOUND);
	CHECK(got == a);
	svm_registry_put(got);
	naa("bbbb0002", id);
	CHECK_EQ(svm_registry_get(id, sizeof(id), a, &got), SVM_REGISTRY_FOUND);
	CHECK(got == b);
	svm_registry_put(got);
	CHECK_EQ(svm_registry_get(id, sizeof(id), c, &got), SVM_REGISTRY_NO_GROUP);
	CHECK(got == NULL);
	naa("cccc0003", id);
	CHECK_EQ(svm_registry_get(id, sizeof(id), a, &got), SVM_REGISTRY_NO_GROUP);
	CHECK_EQ(svm_registry_get(id, sizeof(id), c, &got), SVM_REGISTRY_FOUND);
	svm_registry_put(got);
	/* unknown designator, wrong length */
	naa("dddd0004", id);
	CHECK_EQ(svm_registry_get(id, sizeof(id), a, &got), SVM_REGISTRY_NOT_FOUND);
	CHECK_EQ(svm_registry_get(id, 8, a, &got), SVM_REGISTRY_NOT_FOUND);

	/* groups change live: b leaves g1, then a cannot reach it */
	CHECK_EQ(svm_registry_set_group(b, "g2"), 0);
	naa("bbbb0002", id);
	CHECK_EQ(svm_registry_get(id, sizeof(id), a, &got), SVM_REGISTRY_NO_GROUP);
	CHECK_EQ(svm_registry_set_group(b, "g1"), 0);

	/* removal waits while a copy holds the LUN, and then nobody finds it */
	CHECK_EQ(svm_registry_get(id, sizeof(id), a, &got), SVM_REGISTRY_FOUND);
	removed = false;
	CHECK_EQ(pthread_create(&t, NULL, remove_thread, b), 0);
	usleep(100000);
	CHECK(!removed);
	CHECK_EQ(svm_registry_get(id, sizeof(id), a, &got), SVM_REGISTRY_NOT_FOUND); /* leaving */
	svm_registry_put(b);
	pthread_join(t, NULL);
	CHECK(removed);

	svm_registry_remove(a);
	svm_registry_remove(c);
	naa("aaaa0001", id);
	CHECK_EQ(svm_registry_get(id, sizeof(id), a, &got), SVM_REGISTRY_NOT_FOUND);
	svm_lun_close(a);
	svm_lun_close(b);
	svm_lun_close(c);
	test_log_restore();
}
