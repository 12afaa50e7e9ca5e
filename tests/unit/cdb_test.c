/* SPDX-License-Identifier: Apache-2.0 */
#include "test.h"
#include "../../handler/cdb.h"
#include "../../handler/limits.h"

void cdb_test(void)
{
	struct svm_cdb c;
	uint8_t cdb[16] = {0};
	uint8_t pl[8 + 16 * 3] = {0};
	struct svm_unmap_desc d[SVM_UNMAP_MAX_DESCRIPTORS];
	unsigned n;

	/* READ(6): 21-bit LBA, length 0 = 256 */
	uint8_t r6[6] = {SVM_OP_READ6, 0xff, 0x12, 0x34, 0, 0};
	CHECK_EQ(svm_cdb_parse_rw6(r6, &c), SVM_SENSE_OK);
	CHECK_EQ(c.lba, 0x1f1234);
	CHECK_EQ(c.nblocks, 256);

	/* WRITE(10) with FUA */
	uint8_t w10[10] = {SVM_OP_WRITE10, 0x08, 0, 0, 0x10, 0, 0, 0x01, 0x00, 0};
	CHECK_EQ(svm_cdb_parse_rw10(w10, &c), SVM_SENSE_OK);
	CHECK(c.fua && c.lba == 0x1000 && c.nblocks == 256);
	w10[1] = 0x20; /* WRPROTECT */
	CHECK_EQ(svm_cdb_parse_rw10(w10, &c), SVM_SENSE_INVALID_FIELD_IN_CDB);

	/* READ(16): 64-bit LBA */
	cdb[0] = SVM_OP_READ16;
	svm_put_be64(cdb + 2, 0x0102030405060708ull);
	svm_put_be32(cdb + 10, 0x11223344);
	CHECK_EQ(svm_cdb_parse_rw16(cdb, &c), SVM_SENSE_OK);
	CHECK(c.lba == 0x0102030405060708ull && c.nblocks == 0x11223344 && !c.fua);

	/* READ(12) */
	uint8_t r12[12] = {SVM_OP_READ12, 0, 0, 0, 0, 9, 0, 0, 0, 3, 0, 0};
	CHECK_EQ(svm_cdb_parse_rw12(r12, &c), SVM_SENSE_OK);
	CHECK(c.lba == 9 && c.nblocks == 3);

	/* VERIFY(16): BYTCHK 01b ok, 10b reserved; layout follows the group code */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = SVM_OP_VERIFY16;
	cdb[1] = 0x02;
	svm_put_be64(cdb + 2, 77);
	svm_put_be32(cdb + 10, 5);
	CHECK_EQ(svm_cdb_parse_verify(cdb, &c), SVM_SENSE_OK);
	CHECK(c.bytchk == 1 && c.lba == 77 && c.nblocks == 5);
	cdb[1] = 0x04;
	CHECK_EQ(svm_cdb_parse_verify(cdb, &c), SVM_SENSE_INVALID_FIELD_IN_CDB);
	uint8_t v12[12] = {SVM_OP_VERIFY12, 0x06, 0, 0, 0, 4, 0, 0, 0, 2, 0, 0};
	CHECK_EQ(svm_cdb_parse_verify(v12, &c), SVM_SENSE_OK);
	CHECK(c.bytchk == 3 && c.lba == 4 && c.nblocks == 2);

	/* SYNCHRONIZE CACHE(10) with 0 blocks = to the end */
	uint8_t s10[10] = {SVM_OP_SYNC_CACHE10, 0x02, 0, 0, 0, 8, 0, 0, 0, 0};
	CHECK_EQ(svm_cdb_parse_sync_cache(s10, &c), SVM_SENSE_OK);
	CHECK(c.immed && c.whole_lun && c.lba == 8);

	/* INQUIRY: page code without EVPD, CMDDT */
	uint8_t inq[6] = {SVM_OP_INQUIRY, 0, 0x80, 0, 0xff, 0};
	CHECK_EQ(svm_cdb_parse_inquiry(inq, &c), SVM_SENSE_INVALID_FIELD_IN_CDB);
	inq[1] = 1;
	CHECK_EQ(svm_cdb_parse_inquiry(inq, &c), SVM_SENSE_OK);
	CHECK(c.evpd && c.page == 0x80 && c.alloc_len == 0xff);
	inq[1] = 2;
	CHECK_EQ(svm_cdb_parse_inquiry(inq, &c), SVM_SENSE_INVALID_FIELD_IN_CDB);

	/* READ CAPACITY(10): LBA without PMI */
	uint8_t rc10[10] = {SVM_OP_READ_CAPACITY10, 0, 0, 0, 0, 1, 0, 0, 0, 0};
	CHECK_EQ(svm_cdb_parse_read_capacity10(rc10, &c), SVM_SENSE_INVALID_FIELD_IN_CDB);
	rc10[5] = 0;
	CHECK_EQ(svm_cdb_parse_read_capacity10(rc10, &c), SVM_SENSE_OK);

	/* READ CAPACITY(16): ALLOCATION LENGTH; an LBA only with PMI */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = SVM_OP_SERVICE_ACTION_IN16;
	cdb[1] = SVM_SAI_READ_CAPACITY16;
	cdb[13] = 32;
	CHECK_EQ(svm_cdb_parse_read_capacity16(cdb, &c), SVM_SENSE_OK);
	CHECK_EQ(c.alloc_len, 32);
	svm_put_be64(cdb + 2, 1);
	CHECK_EQ(svm_cdb_parse_read_capacity16(cdb, &c), SVM_SENSE_INVALID_FIELD_IN_CDB);
	cdb[14] = 0x01;
	CHECK_EQ(svm_cdb_parse_read_capacity16(cdb, &c), SVM_SENSE_OK);
	CHECK(c.pmi && c.lba == 1);

	/* MODE SENSE: saved values are not supported */
	uint8_t ms6[6] = {SVM_OP_MODE_SENSE6, 0x08, 0xC8, 0, 0xff, 0};
	CHECK_EQ(svm_cdb_parse_mode_sense(ms6, &c), SVM_SENSE_SAVING_PARAMS_UNSUP);
	ms6[2] = 0x08;
	CHECK_EQ(svm_cdb_parse_mode_sense(ms6, &c), SVM_SENSE_OK);
	CHECK(c.dbd && c.page == 8 && c.pc == 0 && c.alloc_len == 0xff);

	/* MODE SELECT(6/10): PF 1, SP 0 (no saved pages); PARAMETER LIST LENGTH */
	uint8_t msel6[6] = {SVM_OP_MODE_SELECT6, 0x10, 0, 0, 0x1C, 0};
	CHECK_EQ(svm_cdb_parse_mode_select(msel6, &c), SVM_SENSE_OK);
	CHECK(c.opcode == SVM_OP_MODE_SELECT6 && c.alloc_len == 0x1C);
	msel6[1] = 0x00;
	CHECK_EQ(svm_cdb_parse_mode_select(msel6, &c), SVM_SENSE_INVALID_FIELD_IN_CDB);
	msel6[1] = 0x11;
	CHECK_EQ(svm_cdb_parse_mode_select(msel6, &c), SVM_SENSE_INVALID_FIELD_IN_CDB);
	uint8_t msel10[10] = {SVM_OP_MODE_SELECT10, 0x10, 0, 0, 0, 0, 0, 0x01, 0x02, 0};
	CHECK_EQ(svm_cdb_parse_mode_select(msel10, &c), SVM_SENSE_OK);
	CHECK(c.opcode == SVM_OP_MODE_SELECT10 && c.alloc_len == 0x102);
	msel10[1] = 0x01;
	CHECK_EQ(svm_cdb_parse_mode_select(msel10, &c), SVM_SENSE_INVALID_FIELD_IN_CDB);

	/* MODE SELECT parameter lists: header, block descriptor, the pages walked */
	struct svm_mode_list ml;
	struct svm_mode_page mp;
	struct svm_sense_ptr fp;
	uint8_t ml6[4 + 8 + 12 + 6] = {0, 0, 0x90, 8, 0, 0, 0x10, 0, 0, 0, 0x02, 0};
	size_t off;
	ml6[12] = 0x8A; /* PS (reserved in MODE SELECT), control page */
	ml6[13] = 10;
	ml6[24] = 0x48; /* SPF, caching page subpage 1, PAGE LENGTH 2 */
	ml6[25] = 0x01;
	ml6[27] = 2;
	CHECK_EQ(svm_mode_select_parse(ml6, sizeof(ml6), false, 512, 4096, &ml, &fp), SVM_SENSE_OK);
	CHECK(ml.bd_len == 8 && ml.pages == 12 && !fp.valid);
	off = ml.pages;
	CHECK(svm_mode_page_next(ml6, sizeof(ml6), &off, &mp));
	CHECK(mp.code == 0x0A && !mp.spf && mp.subpage == 0 && mp.off == 12 && mp.len == 12);
	CHECK(svm_mode_page_next(ml6, sizeof(ml6), &off, &mp));
	CHECK(mp.code == 0x08 && mp.spf && mp.subpage == 1 && mp.off == 24 && mp.len == 6);
	CHECK(!svm_mode_page_next(ml6, sizeof(ml6), &off, &mp));
	CHECK_EQ(off, sizeof(ml6));
	/* cut anywhere inside the block descriptor or a page: PARAMETER LIST LENGTH ERROR */
	for (size_t cut = 0; cut < sizeof(ml6); cut++) {
		enum svm_sense want =
		    cut == 4 + 8 || cut == 4 + 8 + 12 ? SVM_SENSE_OK : SVM_SENSE_PARAM_LIST_LENGTH;

		CHECK_EQ(svm_mode_select_parse(ml6, cut, false, 512, 4096, &ml, &fp), want);
	}
	/* the capacity MODE SENSE reports, or 0; the block length; MEDIUM TYPE */
	CHECK_EQ(svm_mode_select_parse(ml6, 12, false, 512, 4095, &ml, &fp),
		 SVM_SENSE_INVALID_FIELD_IN_PARAM);
	CHECK(fp.valid && !fp.in_cdb && fp.bit_valid && fp.bit == 7 && fp.field == 4);
	CHECK_EQ(svm_mode_select_parse(ml6, 12, false, 4096, 4096, &ml, &fp),
		 SVM_SENSE_INVALID_FIELD_IN_PARAM);
	CHECK_EQ(fp.field, 9);
	svm_put_be32(ml6 + 4, 0xFFFFFFFF); /* more blocks than the short descriptor holds */
	CHECK_EQ(svm_mode_select_parse(ml6, 12, false, 512, 1ull << 33, &ml, &fp), SVM_SENSE_OK);
	svm_put_be32(ml6 + 4, 0);
	CHECK_EQ(svm_mode_select_parse(ml6, 12, false, 512, 77, &ml, &fp), SVM_SENSE_OK);
	ml6[1] = 0x80;
	CHECK_EQ(svm_mode_select_parse(ml6, 12, false, 512, 77, &ml, &fp),
		 SVM_SENSE_INVALID_FIELD_IN_PARAM);
	CHECK_EQ(fp.field, 1);
	/* (10): LONGLBA with the long descriptor */
	uint8_t ml10[8 + 16] = {0, 0, 0, 0, 0x01, 0, 0, 16};
	svm_put_be64(ml10 + 8, 1ull << 40);
	svm_put_be32(ml10 + 20, 4096);
	CHECK_EQ(svm_mode_select_parse(ml10, sizeof(ml10), true, 4096, 1ull << 40, &ml, &fp),
		 SVM_SENSE_OK);
	CHECK(ml.bd_len == 16 && ml.pages == 24);
	CHECK_EQ(svm_mode_select_parse(ml10, sizeof(ml10), true, 4096, 1ull << 39, &ml, &fp),
		 SVM_SENSE_INVALID_FIELD_IN_PARAM);
	CHECK_EQ(fp.field, 8);
	CHECK_EQ(svm_mode_select_parse(ml10, sizeof(ml10), true, 512, 1ull << 40, &ml, &fp),
		 SVM_SENSE_INVALID_FIELD_IN_PARAM);
	CHECK_EQ(fp.field, 20);
	ml10[4] = 0;
	CHECK_EQ(svm_mode_select_parse(ml10, sizeof(ml10), true, 4096, 1ull << 40, &ml, &fp),
		 SVM_SENSE_INVALID_FIELD_IN_PARAM);
	CHECK_EQ(fp.field, 6);

	/* START STOP UNIT: power conditions and LOEJ are refused */
	uint8_t ssu[6] = {SVM_OP_START_STOP_UNIT, 0, 0, 0, 0x01, 0};
	CHECK_EQ(svm_cdb_parse_start_stop(ssu, &c), SVM_SENSE_OK);
	ssu[4] = 0x10;
	CHECK_EQ(svm_cdb_parse_start_stop(ssu, &c), SVM_SENSE_INVALID_FIELD_IN_CDB);
	ssu[4] = 0x02;
	CHECK_EQ(svm_cdb_parse_start_stop(ssu, &c), SVM_SENSE_INVALID_FIELD_IN_CDB);

	/* WRITE SAME(16): UNMAP, NDOB; WRPROTECT refused */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = SVM_OP_WRITE_SAME16;
	cdb[1] = 0x09;
	svm_put_be64(cdb + 2, 5);
	svm_put_be32(cdb + 10, 7);
	CHECK_EQ(svm_cdb_parse_write_same(cdb, &c), SVM_SENSE_OK);
	CHECK(c.unmap && c.ndob && c.lba == 5 && c.nblocks == 7);
	cdb[1] = 0x20;
	CHECK_EQ(svm_cdb_parse_write_same(cdb, &c), SVM_SENSE_INVALID_FIELD_IN_CDB);
	cdb[1] = 0;
	svm_put_be32(cdb + 10, SVM_WRITE_SAME_MAX_BLOCKS + 1);
	CHECK_EQ(svm_cdb_parse_write_same(cdb, &c), SVM_SENSE_INVALID_FIELD_IN_CDB);

	/* UNMAP CDB: ANCHOR refused */
	uint8_t um[10] = {SVM_OP_UNMAP, 1, 0, 0, 0, 0, 0, 0, 24, 0};
	CHECK_EQ(svm_cdb_parse_unmap(um, &c), SVM_SENSE_INVALID_FIELD_IN_CDB);
	um[1] = 0;
	CHECK_EQ(svm_cdb_parse_unmap(um, &c), SVM_SENSE_OK);
	CHECK_EQ(c.alloc_len, 24);

	/* DPO: accepted and kept (its usage bit says so) by every command that has it */
	test_cdb10(cdb, SVM_OP_READ10, 1, 1);
	cdb[1] = 0x10;
	CHECK_EQ(svm_cdb_parse_rw10(cdb, &c), SVM_SENSE_OK);
	CHECK(c.dpo && !c.fua);
	test_cdb16(cdb, SVM_OP_VERIFY16, 1, 1);
	cdb[1] = 0x12;
	CHECK_EQ(svm_cdb_parse_verify(cdb, &c), SVM_SENSE_OK);
	CHECK(c.dpo && c.bytchk == 1);
	test_cdb12(cdb, SVM_OP_WRITE_VERIFY12, 1, 1);
	cdb[1] = 0x10;
	CHECK_EQ(svm_cdb_parse_write_verify(cdb, &c), SVM_SENSE_OK);
	CHECK(c.dpo && c.fua);
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = SVM_OP_COMPARE_AND_WRITE;
	cdb[1] = 0x18;
	CHECK_EQ(svm_cdb_parse_compare_and_write(cdb, &c), SVM_SENSE_OK);
	CHECK(c.dpo && c.fua);

	/*
	 * WRITE SAME with 0 blocks (Block Limits WSNZ 0): to the last block,
	 * whole_lun; the range is the executor's to check (it needs the capacity)
	 */
	test_cdb16(cdb, SVM_OP_WRITE_SAME16, 5, 0);
	CHECK_EQ(svm_cdb_parse_write_same(cdb, &c), SVM_SENSE_OK);
	CHECK(c.whole_lun && c.lba == 5 && c.nblocks == 0);
	test_cdb16(cdb, SVM_OP_WRITE_SAME16, UINT64_MAX, 0);
	CHECK_EQ(svm_cdb_parse_write_same(cdb, &c), SVM_SENSE_OK);
	test_cdb10(cdb, SVM_OP_WRITE_SAME10, 5, 0);
	cdb[1] = 0x08; /* UNMAP */
	CHECK_EQ(svm_cdb_parse_write_same(cdb, &c), SVM_SENSE_OK);
	CHECK(c.whole_lun && c.unmap && c.lba == 5);
	test_cdb10(cdb, SVM_OP_WRITE_SAME10, 5, 1);
	CHECK_EQ(svm_cdb_parse_write_same(cdb, &c), SVM_SENSE_OK);
	CHECK(!c.whole_lun && c.nblocks == 1);
	test_cdb16(cdb, SVM_OP_WRITE_SAME16, 0, SVM_WRITE_SAME_MAX_BLOCKS);
	CHECK_EQ(svm_cdb_parse_write_same(cdb, &c), SVM_SENSE_OK);
	CHECK(!c.whole_lun && c.nblocks == SVM_WRITE_SAME_MAX_BLOCKS);

	/* REPORT SUPPORTED OPERATION CODES */
	uint8_t rsoc[12] = {SVM_OP_MAINTENANCE_IN, SVM_MI_RSOC, 0x82, 0x9E, 0, 0x12, 0, 1, 0, 0};
	CHECK_EQ(svm_cdb_parse_rsoc(rsoc, &c), SVM_SENSE_OK);
	CHECK(c.rctd && c.rsoc_options == 2 && c.req_opcode == 0x9E && c.req_sa == 0x12);
	CHECK_EQ(c.alloc_len, 0x10000);
	for (uint8_t o = 4; o < 8; o++) {
		rsoc[2] = o;
		CHECK_EQ(svm_cdb_parse_rsoc(rsoc, &c), SVM_SENSE_INVALID_REPORTING_OPTIONS);
	}
	rsoc[2] = 0x78; /* reserved bits: ignored */
	CHECK_EQ(svm_cdb_parse_rsoc(rsoc, &c), SVM_SENSE_OK);
	CHECK(!c.rctd && c.rsoc_options == 0);

	/* GET LBA STATUS: REPORT TYPE other than all LBAs refused */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = SVM_OP_SERVICE_ACTION_IN16;
	cdb[1] = SVM_SAI_GET_LBA_STATUS;
	svm_put_be64(cdb + 2, 77);
	svm_put_be32(cdb + 10, 24);
	CHECK_EQ(svm_cdb_parse_get_lba_status(cdb, &c), SVM_SENSE_OK);
	CHECK(c.lba == 77 && c.alloc_len == 24);
	cdb[14] = 0x02;
	CHECK_EQ(svm_cdb_parse_get_lba_status(cdb, &c), SVM_SENSE_INVALID_FIELD_IN_CDB);

	/* WRITE ATOMIC(16): 16-bit TRANSFER LENGTH; ATOMIC BOUNDARY and WRPROTECT refused */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = SVM_OP_WRITE_ATOMIC16;
	cdb[1] = 0x18;
	svm_put_be64(cdb + 2, 9);
	svm_put_be16(cdb + 12, 300);
	CHECK_EQ(svm_cdb_parse_write_atomic(cdb, &c), SVM_SENSE_OK);
	CHECK(c.lba == 9 && c.nblocks == 300 && c.dpo && c.fua);
	svm_put_be16(cdb + 10, 1);
	CHECK_EQ(svm_cdb_parse_write_atomic(cdb, &c), SVM_SENSE_INVALID_FIELD_IN_CDB);
	svm_put_be16(cdb + 10, 0);
	cdb[1] = 0x20;
	CHECK_EQ(svm_cdb_parse_write_atomic(cdb, &c), SVM_SENSE_INVALID_FIELD_IN_CDB);

	/* READ DEFECT DATA(10) and (12): lists, format, index; format 111b reserved */
	uint8_t rdd10[10] = {SVM_OP_READ_DEFECT_DATA10, 0, 0x1B, 0, 0, 0, 0, 0x01, 0x00, 0};
	CHECK_EQ(svm_cdb_parse_read_defect_data(rdd10, &c), SVM_SENSE_OK);
	CHECK(c.req_plist && c.req_glist && c.defect_format == 3 && c.alloc_len == 256);
	rdd10[2] = 0x07;
	CHECK_EQ(svm_cdb_parse_read_defect_data(rdd10, &c), SVM_SENSE_INVALID_FIELD_IN_CDB);
	uint8_t rdd12[12] = {SVM_OP_READ_DEFECT_DATA12, 0x0C, 0, 0, 1, 0, 0, 0, 0, 32, 0, 0};
	CHECK_EQ(svm_cdb_parse_read_defect_data(rdd12, &c), SVM_SENSE_OK);
	CHECK(!c.req_plist && c.req_glist && c.defect_format == 4 && c.defect_index == 256);
	CHECK_EQ(c.alloc_len, 32);
	rdd12[1] = 0x0F;
	CHECK_EQ(svm_cdb_parse_read_defect_data(rdd12, &c), SVM_SENSE_INVALID_FIELD_IN_CDB);

	/* SANITIZE: PARAMETER LIST LENGTH per service action, reserved bit and bytes */
	uint8_t san[10] = {SVM_OP_SANITIZE, 0xA0 | SVM_SANITIZE_OVERWRITE, 0, 0, 0, 0, 0, 0, 5, 0};
	CHECK_EQ(svm_cdb_parse_sanitize(san, &c), SVM_SENSE_OK);
	CHECK(c.immed && c.ause && c.alloc_len == 5 && c.service_action == 1);
	san[8] = 4;
	CHECK_EQ(svm_cdb_parse_sanitize(san, &c), SVM_SENSE_INVALID_FIELD_IN_CDB);
	san[1] = SVM_SANITIZE_BLOCK_ERASE;
	CHECK_EQ(svm_cdb_parse_sanitize(san, &c), SVM_SENSE_INVALID_FIELD_IN_CDB);
	san[8] = 0;
	CHECK_EQ(svm_cdb_parse_sanitize(san, &c), SVM_SENSE_OK);
	CHECK(!c.immed && !c.ause);
	san[1] = 0x40 | SVM_SANITIZE_BLOCK_ERASE;
	CHECK_EQ(svm_cdb_parse_sanitize(san, &c), SVM_SENSE_INVALID_FIELD_IN_CDB);
	for (int i = 2; i <= 6; i++) {
		san[1] = SVM_SANITIZE_BLOCK_ERASE;
		san[i] = 0x01;
		CHECK_EQ(svm_cdb_parse_sanitize(san, &c), SVM_SENSE_INVALID_FIELD_IN_CDB);
		san[i] = 0;
	}
	san[1] = 0xA0 | SVM_SANITIZE_EXIT_FAILURE; /* IMMED, AUSE: not read */
	CHECK_EQ(svm_cdb_parse_sanitize(san, &c), SVM_SENSE_OK);
	CHECK(!c.immed && !c.ause);
	san[7] = 1;
	CHECK_EQ(svm_cdb_parse_sanitize(san, &c), SVM_SENSE_INVALID_FIELD_IN_CDB);

	/* SANITIZE OVERWRITE parameter list */
	struct svm_sanitize_overwrite ow;
	uint8_t ol[4 + 520] = {0x80 | 3, 0, 0, 4, 'a', 'b', 'c', 'd'};
	CHECK_EQ(svm_sanitize_overwrite_parse(ol, 8, 512, &ow), SVM_SENSE_OK);
	CHECK(ow.invert && ow.count == 3 && ow.pattern_len == 4 && ow.pattern == ol + 4);
	CHECK_EQ(svm_sanitize_overwrite_parse(ol, 3, 512, &ow), SVM_SENSE_PARAM_LIST_LENGTH);
	CHECK_EQ(svm_sanitize_overwrite_parse(ol, 7, 512, &ow), SVM_SENSE_INVALID_FIELD_IN_PARAM);
	ol[0] = 0x80; /* OVERWRITE COUNT 0 */
	CHECK_EQ(svm_sanitize_overwrite_parse(ol, 8, 512, &ow), SVM_SENSE_INVALID_FIELD_IN_PARAM);
	ol[0] = 0x20 | 1; /* TEST 01b */
	CHECK_EQ(svm_sanitize_overwrite_parse(ol, 8, 512, &ow), SVM_SENSE_INVALID_FIELD_IN_PARAM);
	ol[0] = 0x40 | 1; /* TEST 10b */
	CHECK_EQ(svm_sanitize_overwrite_parse(ol, 8, 512, &ow), SVM_SENSE_INVALID_FIELD_IN_PARAM);
	ol[0] = 1;
	svm_put_be16(ol + 2, 0);
	CHECK_EQ(svm_sanitize_overwrite_parse(ol, 8, 512, &ow), SVM_SENSE_INVALID_FIELD_IN_PARAM);
	svm_put_be16(ol + 2, 513);
	CHECK_EQ(svm_sanitize_overwrite_parse(ol, sizeof(ol), 512, &ow),
		 SVM_SENSE_INVALID_FIELD_IN_PARAM);
	svm_put_be16(ol + 2, 512);
	CHECK_EQ(svm_sanitize_overwrite_parse(ol, 516, 512, &ow), SVM_SENSE_OK);
	CHECK(!ow.invert && ow.count == 1 && ow.pattern_len == 512);

	/* UNMAP parameter list */
	CHECK_EQ(svm_unmap_parse(pl, 0, 100, d, &n), SVM_SENSE_OK);
	CHECK_EQ(n, 0);
	CHECK_EQ(svm_unmap_parse(pl, 7, 100, d, &n), SVM_SENSE_PARAM_LIST_LENGTH);
	svm_put_be16(pl, 6 + 32);
	svm_put_be16(pl + 2, 32);
	svm_put_be64(pl + 8, 10);
	svm_put_be32(pl + 16, 5);
	svm_put_be64(pl + 24, 95);
	svm_put_be32(pl + 32, 5);
	CHECK_EQ(svm_unmap_parse(pl, 40, 100, d, &n), SVM_SENSE_OK);
	CHECK(n == 2 && d[0].lba == 10 && d[0].nblocks == 5 && d[1].lba == 95);
	/* header claims more than was sent */
	CHECK_EQ(svm_unmap_parse(pl, 39, 100, d, &n), SVM_SENSE_PARAM_LIST_LENGTH);
	/* one block past the end, in the second descriptor: nothing is accepted */
	svm_put_be32(pl + 32, 6);
	CHECK_EQ(svm_unmap_parse(pl, 40, 100, d, &n), SVM_SENSE_LBA_OUT_OF_RANGE);
	CHECK_EQ(n, 0);
	/* a trailing partial descriptor is ignored (SBC-4 5.31.2) */
	svm_put_be32(pl + 32, 5);
	svm_put_be16(pl + 2, 20);
	CHECK_EQ(svm_unmap_parse(pl, 40, 100, d, &n), SVM_SENSE_OK);
	CHECK_EQ(n, 1);
	/* more LBAs than MAXIMUM UNMAP LBA COUNT */
	svm_put_be16(pl + 2, 16);
	svm_put_be64(pl + 8, 0);
	svm_put_be32(pl + 16, SVM_UNMAP_MAX_LBAS + 1);
	CHECK_EQ(svm_unmap_parse(pl, 40, 1ull << 40, d, &n), SVM_SENSE_INVALID_FIELD_IN_PARAM);
}
