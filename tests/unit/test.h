/* SPDX-License-Identifier: Apache-2.0 */
/* A minimal unit-test harness: CHECK counts, main prints "N passed, N failed". */
#ifndef SVM_TEST_H
#define SVM_TEST_H

#include "../../handler/cdb.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

extern int test_passed, test_failed;

/*
 * How often a test evicts a file's pages again (100 ms apart) before it
 * gives up: a page another CPU still holds in its LRU batch, or one that a
 * RWF_NOWAIT read's readahead brought back, stays cached for a while; 5
 * tries were not enough once on a loaded CI machine.
 */
#define TEST_EVICT_TRIES 20

#define CHECK(cond)                                                                        \
	do {                                                                               \
		if (cond) {                                                                \
			test_passed++;                                                     \
		} else {                                                                   \
			test_failed++;                                                     \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);    \
		}                                                                          \
	} while (0)

#define CHECK_EQ(a, b)                                                                     \
	do {                                                                               \
		long long a_ = (long long)(a), b_ = (long long)(b);                        \
		if (a_ == b_) {                                                            \
			test_passed++;                                                     \
		} else {                                                                   \
			test_failed++;                                                     \
			fprintf(stderr, "FAIL %s:%d: %s == %s (%lld != %lld)\n", __FILE__,  \
				__LINE__, #a, #b, a_, b_);                                 \
		}                                                                          \
	} while (0)

/* A 16-byte CDB buffer holding op with LBA lba and TRANSFER LENGTH n, the 10/12/16-byte layout. */
static inline void test_cdb10(uint8_t *cdb, uint8_t op, uint32_t lba, uint16_t n)
{
	memset(cdb, 0, 16);
	cdb[0] = op;
	svm_put_be32(cdb + 2, lba);
	svm_put_be16(cdb + 7, n);
}

static inline void test_cdb12(uint8_t *cdb, uint8_t op, uint32_t lba, uint32_t n)
{
	memset(cdb, 0, 16);
	cdb[0] = op;
	svm_put_be32(cdb + 2, lba);
	svm_put_be32(cdb + 6, n);
}

static inline void test_cdb16(uint8_t *cdb, uint8_t op, uint64_t lba, uint32_t n)
{
	memset(cdb, 0, 16);
	cdb[0] = op;
	svm_put_be64(cdb + 2, lba);
	svm_put_be32(cdb + 10, n);
}

/* Suites, one per source module (tests/unit/<module>_test.c). */
void sense_test(void);
void iov_test(void);
void cfg_test(void);
void cdb_test(void);
void store_test(void);
void lun_test(void);
void scsi_test(void); /* drives handler/scsi.c on an svm_lun directly */
void pool_test(void);
void uring_test(void);
void rangelock_test(void);
void registry_test(void);
void tpc_test(void);
void migrec_test(void);
void mirror_test(void);
void migrate_test(void);
void svmlog_test(void);
void ctl_test(void);
void mover_test(void);
void xcopy_test(void);
void plugin_test(void); /* drives handler/plugin.c + scsi.c through the fake runner */

/* A scratch directory per run (created by main). */
extern char test_dir[];
/* Whether test_dir's filesystem takes O_DIRECT reads and writes of 4 KiB (tmpfs before 6.6 does not). */
bool test_dir_direct_io(void);

/*
 * For suites that call the handler's modules directly: svm_log lines go to
 * test_last_log (the last one kept) instead of stderr, until
 * test_log_restore.
 */
extern char test_last_log[512];
void test_log_capture(void);
void test_log_restore(void);

#endif
