/* SPDX-License-Identifier: Apache-2.0 */
/* EXTENDED COPY(LID1) parameter lists for the unit tests (SPC-4 6.4.3 to 6.4.5). */
#ifndef SVM_TEST_XCOPY_LISTS_H
#define SVM_TEST_XCOPY_LISTS_H

#include "../../handler/cdb.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Parameter list header (SPC-4 6.4.3): LIST IDENTIFIER, LIST ID USAGE, the three lengths. */
static inline void header(uint8_t *b, uint8_t list_id, unsigned usage, uint16_t cscd_len, uint32_t seg_len,
		   uint32_t inline_len)
{
	memset(b, 0, 16);
	b[0] = list_id;
	b[1] = (usage & 3) << 3;
	svm_put_be16(b + 2, cscd_len);
	svm_put_be32(b + 8, seg_len);
	svm_put_be32(b + 12, inline_len);
}

/* An E4h CSCD descriptor for a block device with designator naa (n bytes), DISK BLOCK LENGTH bs. */
static inline void cscd_e4(uint8_t *d, const uint8_t *naa, uint8_t n, uint32_t bs)
{
	memset(d, 0, 32);
	d[0] = 0xE4;
	d[4] = 0x01; /* CODE SET binary */
	d[5] = 0x03; /* ASSOCIATION logical unit, DESIGNATOR TYPE NAA */
	d[7] = n;
	memcpy(d + 8, naa, n);
	d[29] = bs >> 16;
	d[30] = bs >> 8;
	d[31] = bs;
}

/* A 02h segment descriptor (libiscsi's populate_seg_desc_b2b). */
static inline void seg_02(uint8_t *d, uint16_t src, uint16_t dst, uint16_t n, uint64_t src_lba,
		   uint64_t dst_lba, bool dc, bool cat)
{
	memset(d, 0, 28);
	d[0] = 0x02;
	d[1] = (dc ? 0x02 : 0) | (cat ? 0x01 : 0);
	svm_put_be16(d + 2, 0x18);
	svm_put_be16(d + 4, src);
	svm_put_be16(d + 6, dst);
	svm_put_be16(d + 10, n);
	svm_put_be64(d + 12, src_lba);
	svm_put_be64(d + 20, dst_lba);
}

#endif
