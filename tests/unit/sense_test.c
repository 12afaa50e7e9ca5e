/* SPDX-License-Identifier: Apache-2.0 */
#include "test.h"
#include "../../handler/sense.h"

#include <errno.h>

void sense_test(void)
{
	uint8_t b[96];

	memset(b, 0xAA, sizeof(b));
	CHECK_EQ(svm_sense_build(b, sizeof(b), SVM_SENSE_OK, false, 0), SVM_SAM_STAT_GOOD);
	CHECK_EQ(b[0], 0);

	CHECK_EQ(svm_sense_build(b, sizeof(b), SVM_SENSE_INVALID_FIELD_IN_CDB, false, 0),
		 SVM_SAM_STAT_CHECK_CONDITION);
	CHECK_EQ(b[0], 0x70);
	CHECK_EQ(b[2], 0x05);
	CHECK_EQ(b[7], 10);
	CHECK_EQ(b[12], 0x24);
	CHECK_EQ(b[13], 0x00);
	CHECK_EQ(b[18], 0); /* zeroed past the fixed-format data */

	svm_sense_build(b, sizeof(b), SVM_SENSE_LBA_OUT_OF_RANGE, false, 0);
	CHECK(b[2] == 0x05 && b[12] == 0x21);

	/* MISCOMPARE carries INFORMATION with VALID */
	svm_sense_build(b, sizeof(b), SVM_SENSE_MISCOMPARE_VERIFY, true, 0x01020304);
	CHECK_EQ(b[0], 0xF0);
	CHECK_EQ(b[2], 0x0E);
	CHECK(b[3] == 1 && b[4] == 2 && b[5] == 3 && b[6] == 4);
	CHECK_EQ(b[12], 0x1D);

	CHECK_EQ(svm_sense_build(b, sizeof(b), SVM_SENSE_BUSY, false, 0), SVM_SAM_STAT_BUSY);
	CHECK_EQ(b[0], 0);
	CHECK_EQ(svm_sense_build(b, sizeof(b), SVM_SENSE__COUNT, false, 0),
		 SVM_SAM_STAT_CHECK_CONDITION); /* out of table: internal failure */
	CHECK(b[2] == 0x04 && b[12] == 0x44);

	for (int r = 0; r < SVM_SENSE__COUNT; r++)
		CHECK(svm_sense_name(r) != NULL);
	CHECK_EQ(svm_sense_from_errno(ENOSPC, true), SVM_SENSE_SPACE_ALLOC_FAILED);
	CHECK_EQ(svm_sense_from_errno(EIO, false), SVM_SENSE_READ_ERROR);
	CHECK_EQ(svm_sense_from_errno(EIO, true), SVM_SENSE_WRITE_ERROR);
	CHECK_EQ(svm_sense_from_errno(0, true), SVM_SENSE_OK);
	/* a store that lost its cluster: NOT READY, BECOMING READY (retried), never a medium error */
	for (int i = 0, e[] = {ETIMEDOUT, ESHUTDOWN, ENOTCONN, ECONNRESET, ECONNREFUSED}; i < 5;
	     i++) {
		CHECK_EQ(svm_sense_from_errno(e[i], true), SVM_SENSE_NOT_READY_BECOMING);
		CHECK_EQ(svm_sense_from_errno(e[i], false), SVM_SENSE_NOT_READY_BECOMING);
	}
	CHECK_EQ(svm_sense_build(b, sizeof(b), SVM_SENSE_NOT_READY_BECOMING, false, 0),
		 SVM_SAM_STAT_CHECK_CONDITION);
	CHECK(b[2] == 0x02 && b[12] == 0x04 && b[13] == 0x01);
}
