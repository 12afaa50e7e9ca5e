/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CDB and parameter-list parsing (SBC-4, SPC-4). Pure functions over bytes:
 * no I/O, no allocation, never block. Each parser validates reserved and
 * unsupported fields and returns SVM_SENSE_OK or the reason to reject.
 * Range checks against the LUN's capacity happen at execution, not here.
 */
#ifndef SVM_CDB_H
#define SVM_CDB_H

#include "sense.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct svm_cdb {
	uint8_t opcode;
	uint8_t service_action;
	uint64_t lba;
	uint32_t nblocks;   /* TRANSFER / VERIFICATION / PREFETCH LENGTH, in blocks */
	uint32_t alloc_len; /* ALLOCATION LENGTH or PARAMETER LIST LENGTH, in bytes */
	uint8_t page;	    /* INQUIRY PAGE CODE, MODE SENSE PAGE CODE */
	uint8_t subpage;    /* MODE SENSE SUBPAGE CODE */
	uint8_t pc;	    /* MODE SENSE PAGE CONTROL */
	uint8_t bytchk;	    /* VERIFY / WRITE AND VERIFY BYTCHK */
	uint8_t list_id;    /* RECEIVE COPY RESULTS LIST IDENTIFIER */
	bool fua, immed, evpd, dbd, llbaa, desc, loej, start, no_flush, pmi;
	bool dpo;	  /* DPO: accepted; a caching hint this device server does not need */
	bool unmap, ndob; /* WRITE SAME */
	bool whole_lun;	  /* SYNCHRONIZE CACHE, PRE-FETCH, WRITE SAME: a length of 0 = to the end */
	/* REPORT SUPPORTED OPERATION CODES (SPC-4 6.35) */
	bool rctd;		/* RCTD: command timeouts descriptors wanted */
	uint8_t rsoc_options;	/* REPORTING OPTIONS */
	uint8_t req_opcode;	/* REQUESTED OPERATION CODE */
	uint16_t req_sa;	/* REQUESTED SERVICE ACTION */
	/* READ DEFECT DATA (SBC-4 5.14, 5.15) */
	bool req_plist, req_glist;
	uint8_t defect_format;	/* DEFECT LIST FORMAT */
	uint32_t defect_index;	/* (12): ADDRESS DESCRIPTOR INDEX */
	/* SANITIZE (SBC-4 5.30): AUSE; PARAMETER LIST LENGTH is alloc_len */
	bool ause;
};

typedef enum svm_sense (*svm_cdb_parse_fn)(const uint8_t *cdb, struct svm_cdb *out);

/* One parser per CDB format. */
enum svm_sense svm_cdb_parse_rw6(const uint8_t *cdb, struct svm_cdb *out);
enum svm_sense svm_cdb_parse_rw10(const uint8_t *cdb, struct svm_cdb *out);
enum svm_sense svm_cdb_parse_rw12(const uint8_t *cdb, struct svm_cdb *out);
enum svm_sense svm_cdb_parse_rw16(const uint8_t *cdb, struct svm_cdb *out); /* and ORWRITE(16) */
enum svm_sense svm_cdb_parse_verify(const uint8_t *cdb, struct svm_cdb *out);	    /* 10/12/16 */
enum svm_sense svm_cdb_parse_write_verify(const uint8_t *cdb, struct svm_cdb *out); /* 10/12/16 */
enum svm_sense svm_cdb_parse_prefetch(const uint8_t *cdb, struct svm_cdb *out);	    /* 10/16 */
enum svm_sense svm_cdb_parse_sync_cache(const uint8_t *cdb, struct svm_cdb *out);   /* 10/16 */
enum svm_sense svm_cdb_parse_write_same(const uint8_t *cdb, struct svm_cdb *out); /* 10/16 */
enum svm_sense svm_cdb_parse_unmap(const uint8_t *cdb, struct svm_cdb *out);
enum svm_sense svm_cdb_parse_inquiry(const uint8_t *cdb, struct svm_cdb *out);
enum svm_sense svm_cdb_parse_read_capacity10(const uint8_t *cdb, struct svm_cdb *out);
/* SERVICE ACTION IN(16): the dispatch table picks the parser by service action */
enum svm_sense svm_cdb_parse_read_capacity16(const uint8_t *cdb, struct svm_cdb *out);
enum svm_sense svm_cdb_parse_get_lba_status(const uint8_t *cdb, struct svm_cdb *out);
/* MAINTENANCE IN: REPORT SUPPORTED OPERATION CODES */
enum svm_sense svm_cdb_parse_rsoc(const uint8_t *cdb, struct svm_cdb *out);
enum svm_sense svm_cdb_parse_write_atomic(const uint8_t *cdb, struct svm_cdb *out);
enum svm_sense svm_cdb_parse_read_defect_data(const uint8_t *cdb, struct svm_cdb *out); /* 10/12 */
/* SANITIZE: OVERWRITE, BLOCK ERASE and EXIT FAILURE MODE (the table refuses the others) */
enum svm_sense svm_cdb_parse_sanitize(const uint8_t *cdb, struct svm_cdb *out);
enum svm_sense svm_cdb_parse_mode_sense(const uint8_t *cdb, struct svm_cdb *out);  /* 6/10 */
enum svm_sense svm_cdb_parse_mode_select(const uint8_t *cdb, struct svm_cdb *out); /* 6/10 */
enum svm_sense svm_cdb_parse_request_sense(const uint8_t *cdb, struct svm_cdb *out);
enum svm_sense svm_cdb_parse_start_stop(const uint8_t *cdb, struct svm_cdb *out);
enum svm_sense svm_cdb_parse_none(const uint8_t *cdb, struct svm_cdb *out); /* TEST UNIT READY */
enum svm_sense svm_cdb_parse_compare_and_write(const uint8_t *cdb, struct svm_cdb *out);

/* SBC-4 5.31.2 UNMAP block descriptor */
struct svm_unmap_desc {
	uint64_t lba;
	uint32_t nblocks;
};

/*
 * Parse an UNMAP parameter list of len bytes (len = PARAMETER LIST LENGTH,
 * already clipped to what the initiator sent). Validates every descriptor
 * against num_lbas and the limits in limits.h before anything is executed.
 * Fills descs (room for SVM_UNMAP_MAX_DESCRIPTORS) and *count.
 */
enum svm_sense svm_unmap_parse(const uint8_t *buf, size_t len, uint64_t num_lbas,
			       struct svm_unmap_desc *descs, unsigned *count);

/* SBC-4 5.30.2.2 OVERWRITE parameter list, as svm_sanitize_overwrite_parse checked it. */
struct svm_sanitize_overwrite {
	bool invert;	      /* INVERT: the pattern is inverted between passes */
	uint8_t count;	      /* OVERWRITE COUNT: passes, 1-31 */
	uint16_t pattern_len; /* INITIALIZATION PATTERN LENGTH: 1 to the block size */
	const uint8_t *pattern;
};

/*
 * Parse a SANITIZE OVERWRITE parameter list of len bytes (PARAMETER LIST
 * LENGTH, which the CDB parser held to more than 4) for blocks of
 * block_size bytes; out->pattern points into buf. OVERWRITE COUNT 0, a
 * TEST field other than 00b (no test modes), an INITIALIZATION PATTERN
 * LENGTH of 0, more than the block size or more than the list holds are
 * INVALID FIELD IN PARAMETER LIST.
 */
enum svm_sense svm_sanitize_overwrite_parse(const uint8_t *buf, size_t len, uint32_t block_size,
					    struct svm_sanitize_overwrite *out);

/*
 * A MODE SELECT parameter list (SPC-4 7.5.4 to 7.5.7) as
 * svm_mode_select_parse accepted it: the mode parameter header, at most one
 * block descriptor, then mode pages to the end of the list.
 */
struct svm_mode_list {
	size_t bd_len; /* BLOCK DESCRIPTOR LENGTH: 0, 8 (short LBA) or 16 (long LBA) */
	size_t pages;  /* offset of the first mode page (the list's length, if none) */
};

/*
 * Check the structure of a MODE SELECT(6) or (ten) MODE SELECT(10)
 * parameter list of len bytes (PARAMETER LIST LENGTH, at least 1) for a
 * LUN of num_lbas blocks of block_size bytes:
 *  - PARAMETER LIST LENGTH ERROR when it truncates the header, the block
 *    descriptor or a mode page;
 *  - INVALID FIELD IN PARAMETER LIST, with *ptr naming the field (C/D 0,
 *    the byte within the list), for a MEDIUM TYPE other than 00h (SBC-4
 *    6.5.1), a BLOCK DESCRIPTOR LENGTH other than 0, 8 or (LONGLBA) 16, or
 *    a block descriptor whose NUMBER OF LOGICAL BLOCKS is neither 0 (keep
 *    the capacity) nor the capacity MODE SENSE reports, or whose LOGICAL
 *    BLOCK LENGTH is not block_size (SBC-4 6.5.2: no format change here).
 * MODE DATA LENGTH and the DEVICE-SPECIFIC PARAMETER (WP undefined, DPOFUA
 * reserved for MODE SELECT) are ignored. The mode pages are not looked
 * into: svm_mode_page_next walks them.
 */
enum svm_sense svm_mode_select_parse(const uint8_t *buf, size_t len, bool ten, uint32_t block_size,
				     uint64_t num_lbas, struct svm_mode_list *out,
				     struct svm_sense_ptr *ptr);

/* One mode page of a list (SPC-4 7.5.7): what it names and where it lies. */
struct svm_mode_page {
	uint8_t code;	 /* PAGE CODE */
	bool spf;	 /* SPF: the sub_page format */
	uint8_t subpage; /* SUBPAGE CODE; 0 in the page_0 format */
	size_t off;	 /* its first byte, in the list */
	size_t len;	 /* its length: PAGE LENGTH and the bytes up to that field */
};

/*
 * The mode page at *off of a list svm_mode_select_parse accepted, *off
 * moved past it; false at the end of the list (len bytes).
 */
bool svm_mode_page_next(const uint8_t *buf, size_t len, size_t *off, struct svm_mode_page *p);

/* SBC-4 opcodes used by the dispatch table and the tests. */
enum {
	SVM_OP_TEST_UNIT_READY = 0x00,
	SVM_OP_REQUEST_SENSE = 0x03,
	SVM_OP_READ6 = 0x08,
	SVM_OP_WRITE6 = 0x0A,
	SVM_OP_INQUIRY = 0x12,
	SVM_OP_MODE_SELECT6 = 0x15,
	SVM_OP_MODE_SENSE6 = 0x1A,
	SVM_OP_START_STOP_UNIT = 0x1B,
	SVM_OP_READ_CAPACITY10 = 0x25,
	SVM_OP_READ10 = 0x28,
	SVM_OP_WRITE10 = 0x2A,
	SVM_OP_WRITE_VERIFY10 = 0x2E,
	SVM_OP_VERIFY10 = 0x2F,
	SVM_OP_PREFETCH10 = 0x34,
	SVM_OP_SYNC_CACHE10 = 0x35,
	SVM_OP_READ_DEFECT_DATA10 = 0x37,
	SVM_OP_WRITE_SAME10 = 0x41,
	SVM_OP_UNMAP = 0x42,
	SVM_OP_SANITIZE = 0x48,
	SVM_OP_MODE_SELECT10 = 0x55,
	SVM_OP_MODE_SENSE10 = 0x5A,
	SVM_OP_READ16 = 0x88,
	SVM_OP_COMPARE_AND_WRITE = 0x89,
	SVM_OP_WRITE16 = 0x8A,
	SVM_OP_ORWRITE16 = 0x8B,
	SVM_OP_WRITE_VERIFY16 = 0x8E,
	SVM_OP_VERIFY16 = 0x8F,
	SVM_OP_PREFETCH16 = 0x90,
	SVM_OP_SYNC_CACHE16 = 0x91,
	SVM_OP_WRITE_SAME16 = 0x93,
	SVM_OP_WRITE_ATOMIC16 = 0x9C,
	SVM_OP_SERVICE_ACTION_IN16 = 0x9E,
	SVM_OP_MAINTENANCE_IN = 0xA3,
	SVM_OP_READ12 = 0xA8,
	SVM_OP_WRITE12 = 0xAA,
	SVM_OP_WRITE_VERIFY12 = 0xAE,
	SVM_OP_VERIFY12 = 0xAF,
	SVM_OP_READ_DEFECT_DATA12 = 0xB7,
};
/* Service actions, CDB byte 1 bits 4-0 of the opcodes that have them */
#define SVM_SAI_READ_CAPACITY16	   0x10 /* SERVICE ACTION IN(16) */
#define SVM_SAI_GET_LBA_STATUS	   0x12
#define SVM_MI_RSOC		   0x0C /* MAINTENANCE IN: REPORT SUPPORTED OPERATION CODES */
#define SVM_SANITIZE_OVERWRITE	   0x01 /* SANITIZE */
#define SVM_SANITIZE_BLOCK_ERASE   0x02
#define SVM_SANITIZE_CRYPTO_ERASE  0x03 /* not served */
#define SVM_SANITIZE_EXIT_FAILURE  0x1F
/* SANITIZE OVERWRITE parameter list: 4-byte header, then the pattern */
#define SVM_SANITIZE_OVERWRITE_HDR 4

static inline uint16_t svm_get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t svm_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t svm_get_be64(const uint8_t *p)
{
	return (uint64_t)svm_get_be32(p) << 32 | svm_get_be32(p + 4);
}
static inline void svm_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}
static inline void svm_put_be32(uint8_t *p, uint32_t v)
{
	svm_put_be16(p, v >> 16);
	svm_put_be16(p + 2, v);
}
static inline void svm_put_be64(uint8_t *p, uint64_t v)
{
	svm_put_be32(p, v >> 32);
	svm_put_be32(p + 4, v);
}

#endif
