/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every limit the LUN advertises, in one place: the Block Limits VPD page
 * (SBC-4 6.6.4) reports these and the CDB / parameter-list parsers enforce
 * the same numbers, as do the EXTENDED COPY limits reported by RECEIVE COPY
 * RESULTS (SPC-4 6.18) and the Third-party Copy VPD page.
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

/*
 * An EXTENDED COPY starts no new datamover step after this many ms: it
 * then fails (COPY ABORTED) well inside the kernel's 30 s cmd_time_out
 * instead of being timed out there. The limits on segments and bytes above
 * keep a copy on a working store far below it.
 */
#define SVM_XCOPY_DEADLINE_MS 20000

/*
 * Migration (migrate.h): the pass copies chunks of this many bytes, each
 * held exclusive while it is copied (a host write to it waits that long);
 * the write-intent log covers regions of at least SVM_MIGRATE_REGION_MIN
 * bytes and at most SVM_MIGRATE_REGIONS_MAX of them. A checkpoint of the
 * pass is written every SVM_MIGRATE_CHECKPOINT_MS.
 */
#define SVM_MIGRATE_CHUNK_BYTES	   (4u << 20)
#define SVM_MIGRATE_REGION_MIN	   (64ull << 20)
#define SVM_MIGRATE_REGIONS_MAX	   65536
#define SVM_MIGRATE_CHECKPOINT_MS  1000
/*
 * The pass's bounce copies (svm_mover_req.io_bytes): one read and one write
 * per chunk, not four of 1 MiB, where each request costs a round trip. In
 * the VM rig, 512 MiB between loop devices on tmpfs: bounce alone 47-69
 * MiB/s in 1 MiB pieces, 100-107 MiB/s in 4 MiB ones; a whole idle
 * migration 9.4-11.2 s before, 6.2-7.6 s after. At most 4 x
 * SVM_MOVER_CHUNK_BYTES (the bounce ring).
 */
#define SVM_MIGRATE_IO_BYTES SVM_MIGRATE_CHUNK_BYTES
/* How long a switchover waits for LIO to take the new dev_config (plugin.c commit_hook). */
#define SVM_COMMIT_WAIT_S 30
#define SVM_MIGRATE_MIRROR_THREADS 16
/*
 * The pass's copy through the store API (mirror.c: a pair with an RBD
 * store, which has no fd for a datamover): a chunk is cut into pieces of
 * this many bytes, read and written concurrently on the mirror's pool, so
 * SVM_MIGRATE_CHUNK_BYTES / SVM_MIGRATE_STORE_PIECE_BYTES reads or writes
 * are in flight at once rather than one round trip at a time.
 */
#define SVM_MIGRATE_STORE_PIECE_BYTES (1u << 20)
/*
 * A migration resumed after a crash takes its RBD destination's exclusive
 * lock again, breaking the crashed runner's (rbd_lock_break); should that
 * fail, librbd breaks it only once that client's watch has expired
 * (osd_client_watch_timeout, 30 s by default): the resume tries for up to
 * this long. It runs in the LUN's open, which at tcmu-runner's start-up
 * comes before the runner answers on D-Bus.
 */
#define SVM_MIGRATE_RBD_LOCK_WAIT_S 45

/* Longest xcopy_group= name (docs/xcopy.md) */
#define SVM_XCOPY_GROUP_MAX 64

/* UNMAP (SBC-4 5.31): MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT */
#define SVM_UNMAP_MAX_DESCRIPTORS 256
/* MAXIMUM UNMAP LBA COUNT: logical blocks one UNMAP command may deallocate in all */
#define SVM_UNMAP_MAX_LBAS (1u << 22)
/*
 * OPTIMAL UNMAP GRANULARITY and OPTIMAL TRANSFER LENGTH GRANULARITY are the
 * physical block (READ CAPACITY(16) LOGICAL BLOCKS PER PHYSICAL BLOCK
 * EXPONENT), from the store (svm_store_phys_block_size): no constant.
 */
/* UNMAP parameter list: 8-byte header plus 16-byte descriptors */
#define SVM_UNMAP_HEADER_LEN	 8
#define SVM_UNMAP_DESCRIPTOR_LEN 16
#define SVM_UNMAP_MAX_PARAM_LEN	 (SVM_UNMAP_HEADER_LEN + SVM_UNMAP_MAX_DESCRIPTORS * SVM_UNMAP_DESCRIPTOR_LEN)

/*
 * WRITE SAME (SBC-4 5.48/5.49): MAXIMUM WRITE SAME LENGTH, in blocks. WSNZ is
 * 0: NUMBER OF LOGICAL BLOCKS 0 is to the last block, held to this length too.
 */
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
 * ORWRITE(16) (SBC-4 5.12) reads, ORs and writes its blocks in one buffer
 * under the range lock (svm_lun_rmw): at most this many bytes per command,
 * more is INVALID FIELD IN CDB. SBC-4 has no Block Limits field of its own
 * for it; 256 blocks of 64 KiB fit.
 */
#define SVM_ORWRITE_MAX_BYTES (16u << 20)

/*
 * GET LBA STATUS (SBC-4 5.8): LBA status descriptors per command, at most
 * (each costs two lseek calls); the initiator asks again from where the
 * last one ended, as SBC-4 provides.
 */
#define SVM_LBA_STATUS_MAX_DESCRIPTORS 1024

/*
 * SANITIZE OVERWRITE (SBC-4 5.30) writes the pattern in chunks of this
 * many bytes; the progress indication advances per chunk.
 */
#define SVM_SANITIZE_CHUNK_BYTES (1u << 20)

/*
 * REPORT SUPPORTED OPERATION CODES command timeouts descriptor (SPC-4
 * 6.35.4): RECOMMENDED COMMAND TIMEOUT, seconds, for every command: the
 * kernel aborts a TCMU command after the device's cmd_time_out, 30 s by
 * default. NOMINAL COMMAND PROCESSING TIMEOUT is 0 (not reported).
 */
#define SVM_CMD_TIMEOUT_S 30

/*
 * Datamovers (xcopy/mover.h): bounce reads and writes this many bytes at a
 * time, with up to 4 chunks in flight per copy; one copy_file_range or
 * FICLONERANGE call moves at most 16 chunks.
 */
#define SVM_MOVER_CHUNK_BYTES (1u << 20)

/*
 * Worker threads (handler/pool.h): one pool per tcmu-runner, shared by all
 * its svm LUNs (SVM_THREADS_DEFAULT threads), of which one LUN uses at most
 * SVM_LUN_THREADS_DEFAULT at once: the most commands of one LUN that wait
 * on its store side by side, and what a LUN whose store hangs can hold.
 * Idle workers sleep. Overridden by tcmu-runner's environment SVM_THREADS
 * and SVM_LUN_THREADS (docs/tuning.md); both at most SVM_THREADS_MAX.
 */
#define SVM_THREADS_DEFAULT	32
#define SVM_LUN_THREADS_DEFAULT 16
#define SVM_THREADS_MAX		256
/*
 * Entries of the process's io_uring (SVM_ENGINE=uring, handler/uring.h):
 * the most commands of all its LUNs in flight on it; one more goes to its
 * LUN's pool. TCMU's default ring holds 128 commands per LUN at most.
 */
#define SVM_URING_ENTRIES 256
/*
 * The most io-wq workers the kernel may run for one submitting thread (one
 * per LUN: tcmu-runner's command thread) on the ring's blocking writes and
 * flushes: the pool's SVM_THREADS_DEFAULT. The kernel's default is 4 per CPU.
 */
#define SVM_URING_WQ_WORKERS SVM_THREADS_DEFAULT
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
/*
 * A cached WRITE of this many bytes or more goes to the worker pool all the
 * same: copying it into the page cache takes long enough that a worker's
 * wake-up is cheap beside it, and the command thread meanwhile reads on in
 * the ring, so large writes are copied side by side. Measured in the VM
 * rig (make bench-seq, 1 MiB writes, 3 interleaved rounds): 1.06-1.36x the
 * MiB/s of copying them on the command thread, every round (docs/tuning.md).
 */
#define SVM_INLINE_WRITE_MAX_BYTES (256u << 10)

/*
 * EXTENDED COPY (LID1, SPC-4 6.4) and RECEIVE COPY RESULTS (SPC-4 6.18):
 * what xcopy/xcopy.c accepts, and what OPERATING PARAMETERS and the
 * Third-party Copy VPD page (0x8F) report, from these same numbers.
 *
 * Descriptors supported: identification CSCD descriptors (E4h), 32 bytes
 * each, and block device to block device segment descriptors (02h), 28.
 */
#define SVM_XCOPY_HEADER_LEN	   16
#define SVM_XCOPY_TARGET_DESC_LEN  32
#define SVM_XCOPY_SEGMENT_DESC_LEN 28
/* MAXIMUM CSCD DESCRIPTOR COUNT: a source and a destination, and room to spare */
#define SVM_XCOPY_MAX_TARGET_DESCS 8
/* MAXIMUM SEGMENT DESCRIPTOR COUNT */
#define SVM_XCOPY_MAX_SEGMENT_DESCS 64
/* MAXIMUM DESCRIPTOR LIST LENGTH: exactly the most descriptors of each kind (2048) */
#define SVM_XCOPY_MAX_DESC_LIST_LEN                                                               \
	(SVM_XCOPY_MAX_TARGET_DESCS * SVM_XCOPY_TARGET_DESC_LEN +                                  \
	 SVM_XCOPY_MAX_SEGMENT_DESCS * SVM_XCOPY_SEGMENT_DESC_LEN)
/* MAXIMUM INLINE DATA LENGTH: no inline data (nor held data: HELD DATA LIMIT 0) */
#define SVM_XCOPY_MAX_INLINE_DATA_LEN 0
/* The longest parameter list taken; a longer PARAMETER LIST LENGTH is refused */
#define SVM_XCOPY_MAX_PARAM_LEN                                                                   \
	(SVM_XCOPY_HEADER_LEN + SVM_XCOPY_MAX_DESC_LIST_LEN + SVM_XCOPY_MAX_INLINE_DATA_LEN)
/*
 * A copy runs as one SCSI command, and the kernel aborts a TCMU command
 * after the device's cmd_time_out (30 s by default), so one command must
 * finish well inside that even on a slow store. Two limits:
 *  - MAXIMUM SEGMENT LENGTH, in bytes: 256 MiB. The 16-bit NUMBER OF
 *    BLOCKS of a 02h segment reaches it only with blocks over 4 KiB
 *    (65535 x 512 B is 32 MiB, 65535 x 4 KiB just under 256 MiB).
 *  - SVM_XCOPY_MAX_BYTES, the whole command: 512 MiB, two full segments.
 *    64 segments of 256 MiB would be 16 GiB, minutes on a store that copies
 *    at 40 MB/s (a spinning disk reading and writing at once); 512 MiB takes
 *    13 s there, under half of cmd_time_out. SPC-4 has no field for a total
 *    per EXTENDED COPY(LID1) command (MAXIMUM SEGMENT LENGTH, in OPERATING
 *    PARAMETERS and the General Copy Operations descriptor, is per segment),
 *    so this one is enforced without being reported; initiators copy a few
 *    MiB per command (VMware: 4 MiB by default) and never meet it.
 */
#define SVM_XCOPY_MAX_SEGMENT_BYTES (256u << 20)
#define SVM_XCOPY_MAX_BYTES	    (512u << 20)
/*
 * TOTAL CONCURRENT COPIES and MAXIMUM (IDENTIFIED) CONCURRENT COPIES: a copy
 * holds one of the LUN's worker threads while it runs (SVM_LUN_THREADS_DEFAULT).
 */
#define SVM_XCOPY_MAX_CONCURRENT 16
/*
 * How long the results of a finished copy with a list identifier are kept
 * for RECEIVE COPY RESULTS when nobody asks (SPC-4: a vendor specific time),
 * in ms. Results are dropped sooner once returned whole. SCST keeps 5 s.
 */
#define SVM_XCOPY_RESULT_KEEP_MS 5000

/* Longest VPD page or mode-parameter data this handler builds */
#define SVM_EMUL_BUF_LEN 512

/*
 * Direct reads (cfgstring direct=yes, handler/store.c): a READ of at least this
 * many bytes that misses the page cache reads with O_DIRECT. Smaller ones stay
 * buffered, where the kernel's readahead (128 KiB by default) still serves a
 * stream of small sequential reads from the cache.
 */
#define SVM_STORE_DIRECT_MIN_BYTES (128u << 10)

/*
 * Direct writes (direct=yes, handler/store.c): a WRITE of at least this many
 * bytes goes to the store with O_DIRECT instead of being copied into the
 * page cache. A buffered write holds the file's inode lock while it copies
 * page by page, so large buffered writes to one store run one at a time;
 * measured in the VM rig (1 MiB writes, iodepth 8, ext4 on a RAM disk),
 * buffered: 11-13 ms of CPU per MiB in tcmu-runner, 84 ms per write waiting
 * its turn; direct: 2.6 ms and 4.2 ms (docs/tuning.md, *Large transfers*).
 * Not below SVM_INLINE_WRITE_MAX_BYTES: writes under that may run on the
 * command thread, which must not wait on the device (checked in plugin.c).
 */
#define SVM_STORE_DIRECT_WRITE_MIN_BYTES (256u << 10)

/*
 * RBD stores (store_rbd.h): the longest pool and image name of an
 * "rbd/<pool>/<image>" store (librbd's RBD_MAX_IMAGE_NAME_SIZE is 96 with
 * the NUL; pools get the same bound here), the longest client id= and how
 * long connecting to the cluster and its monitor operations may take before
 * the open is refused (client_mount_timeout, rados_mon_op_timeout).
 */
#define SVM_RBD_NAME_MAX	  95
#define SVM_RBD_ID_MAX		  64
#define SVM_RBD_CONNECT_TIMEOUT_S 30
/*
 * An RBD I/O the cluster does not answer fails after this long
 * (rados_osd_op_timeout), with NOT READY (the initiator retries): below
 * the 30 s a Linux initiator waits for a command before it aborts it.
 */
#define SVM_RBD_OSD_OP_TIMEOUT_S 15
/* a store that lost its cluster tries to connect again this often (store_rbd.h) */
#define SVM_RBD_RECONNECT_INTERVAL_S 5
/* how long the connection a reconnect replaced stays blocklisted (Ceph's default too) */
#define SVM_RBD_BLOCKLIST_S 3600
/* svm_store_extent on RBD asks rbd_diff_iterate2 about this many bytes at a time */
#define SVM_RBD_EXTENT_WINDOW (64ull << 20)

#endif
