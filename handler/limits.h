/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every limit the LUN advertises, in one place: the Block Limits VPD page
 * (SBC-4 6.6.4) reports these and the CDB / parameter-list parsers enforce
 * the same numbers. Later: the EXTENDED COPY limits reported by RECEIVE COPY
 * RESULTS (SPC-4 6.18.4) join them here.
 */
#ifndef SVM_LIMITS_H
#define SVM_LIMITS_H

/*
 * Logical block sizes served (LIO's hw_block_size; READ CAPACITY LOGICAL
 * BLOCK LENGTH). Every bounce buffer holds at least one block.
 */
#define SVM_BLOCK_SIZE_MIN 512
#define SVM_BLOCK_SIZE_MAX 65536

/*
 * The configuration string as the kernel keeps it ("svm/" + cfgstring):
 * TCMU_CONFIG_LEN is 256 with the NUL, and a longer string is cut short.
 */
#define SVM_DEV_CONFIG_MAX 255

/* Longest xcopy_group= name (docs/xcopy.md) */
#define SVM_XCOPY_GROUP_MAX 64

/* UNMAP (SBC-4 5.31): MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT */
#define SVM_UNMAP_MAX_DESCRIPTORS 256
/* MAXIMUM UNMAP LBA COUNT: logical blocks one UNMAP command may deallocate in all */
#define SVM_UNMAP_MAX_LBAS (1u << 22)
/* OPTIMAL UNMAP GRANULARITY, in bytes (converted to blocks for the page) */
#define SVM_UNMAP_GRANULARITY_BYTES 4096
/* UNMAP parameter list: 8-byte header plus 16-byte descriptors */
#define SVM_UNMAP_HEADER_LEN	 8
#define SVM_UNMAP_DESCRIPTOR_LEN 16
#define SVM_UNMAP_MAX_PARAM_LEN	 (SVM_UNMAP_HEADER_LEN + SVM_UNMAP_MAX_DESCRIPTORS * SVM_UNMAP_DESCRIPTOR_LEN)

/* WRITE SAME (SBC-4 5.48/5.49): MAXIMUM WRITE SAME LENGTH, in blocks; WSNZ is set */
#define SVM_WRITE_SAME_MAX_BLOCKS (1u << 22)
/* WRITE SAME of a non-zero block: the repeated pattern is written in chunks of this size */
#define SVM_WRITE_SAME_CHUNK_BYTES (1u << 20)

/*
 * COMPARE AND WRITE (SBC-4 5.3): MAXIMUM COMPARE AND WRITE LENGTH in the
 * Block Limits page, in blocks (a one-byte field). The compare and write
 * data of one command, 2 x 255 x 64 KiB at most, are held in memory.
 */
#define SVM_CAW_MAX_BLOCKS 255

/* VERIFY with BYTCHK: compare in chunks of this many bytes (bounded memory) */
#define SVM_VERIFY_CHUNK_BYTES (1u << 20)

/*
 * Worker threads per LUN (handler/pool.h): the most commands of one LUN
 * that wait on its store at once. Idle ones sleep. Overridden by
 * tcmu-runner's environment SVM_THREADS (docs/tuning.md).
 */
#define SVM_THREADS_DEFAULT 16
#define SVM_THREADS_MAX	    256
/*
 * Writes the page cache absorbs run on tcmu-runner's command thread. When
 * the moving average of their time there (each write weighs
 * 1/SVM_INLINE_AVG_WEIGHT) passes SVM_INLINE_SLOW_US, the store is making
 * them wait (dirty throttling): such writes go to the worker pool for
 * SVM_INLINE_BACKOFF_MS. One write of over 64 ms trips it alone.
 */
#define SVM_INLINE_SLOW_US     2000
#define SVM_INLINE_AVG_WEIGHT 32
#define SVM_INLINE_BACKOFF_MS 1000

/* Longest VPD page or mode-parameter data this handler builds */
#define SVM_EMUL_BUF_LEN 512

#endif
