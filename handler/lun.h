/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A LUN: geometry, identity and the store(s) behind it. The SCSI layer
 * reads and writes through these calls only, so that a LUN with a second
 * (destination) store can later fan a write out to both and complete it
 * when both are done, without the SCSI layer changing. All I/O calls block
 * and may run on many threads at once; byte offsets are LUN-relative.
 */
#ifndef SVM_LUN_H
#define SVM_LUN_H

#include "cfg.h"
#include "../xcopy/mover.h"
#include "rangelock.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct svm_lun;
struct svm_store;

/*
 * Where the LUN's unit serial number comes from (LIO keeps it in configfs
 * wwn/vpd_unit_serial, and rtslib writes it only after the LUN is open).
 * Fills buf (len bytes, NUL-terminated) and returns 0, or -ENODATA when no
 * serial is set yet, or -errno. May block briefly (configfs read).
 */
typedef int (*svm_serial_fn)(void *arg, char *buf, size_t len);

struct svm_lun_params {
	const struct svm_cfg *cfg;
	uint32_t block_size;	  /* bytes per logical block, from LIO */
	uint64_t num_lbas;	  /* LUN capacity in blocks, from LIO */
	uint32_t max_xfer_blocks; /* hw_max_sectors, from LIO; 0: unlimited */
	bool wce;		  /* volatile write cache at open (see docs/cfgstring.md) */
	svm_serial_fn serial;	  /* identity source; NULL: the LUN never has a serial */
	void *serial_arg;
};

/*
 * What the SCSI layer reports about the LUN: a consistent snapshot
 * (svm_lun_get_geom). num_lbas only grows and wce toggles while the LUN is
 * open (reconfiguration); the rest is constant.
 */
struct svm_lun_geom {
	uint32_t block_size;
	uint64_t num_lbas;
	uint32_t max_xfer_blocks;
	bool wce;   /* volatile write cache reported (mode page 08h WCE) */
	bool lbpu;  /* UNMAP supported (LBP VPD page LBPU, READ CAPACITY(16) LBPME) */
	bool lbprz; /* unmapped blocks read as zero */
	/*
	 * LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT (READ CAPACITY(16)): from
	 * the store's physical block size (svm_store_phys_block_size); 0 when
	 * that is no larger than a logical block, or unknown
	 */
	uint8_t lbppbe;
	bool copy; /* the datamovers can copy its store (svm_lun_can_copy): INQUIRY's 3PC */
};

/* The longest unit serial LIO stores (INQUIRY_VPD_SERIAL_LEN), plus NUL. */
#define SVM_SERIAL_MAX 255

/* Open the LUN's source store. Returns 0, or -errno with *reason malloc'd. Blocks. */
int svm_lun_open(const struct svm_lun_params *p, struct svm_lun **out, char **reason);
void svm_lun_close(struct svm_lun *lun);
/* Copy the current geometry into *out. Never blocks. */
void svm_lun_get_geom(const struct svm_lun *lun, struct svm_lun_geom *out);
const char *svm_lun_source(const struct svm_lun *lun);
/* Whether the LUN's stores read with O_DIRECT (cfgstring direct=; a migration's destination too). */
bool svm_lun_direct(const struct svm_lun *lun);

/*
 * The NAA IEEE Registered Extended designator LIO builds from a unit serial
 * (target_core_spc.c, spc_parse_naa_6h_vendor_specific): NAA 6, the OUI
 * 00-14-05, then the serial's first 25 hexadecimal digits (other characters
 * skipped, missing digits zero). Pure.
 */
#define SVM_NAA_LEN 16
void svm_naa_from_serial(const char *serial, uint8_t naa[SVM_NAA_LEN]);

/*
 * The LUN's NAA designator, from the serial last seen (asking the identity
 * source only if none was seen yet). 0, or -ENODATA. Blocks briefly at most.
 */
int svm_lun_naa(struct svm_lun *lun, uint8_t naa[SVM_NAA_LEN]);

/*
 * The unit serial number, read from the identity source at every call (as
 * LIO and tcmu-runner do for VPD pages 0x80/0x83), remembering the last one
 * seen. Returns 0 with buf filled, or -ENODATA if none was ever set.
 * Blocks briefly. svm_lun_identified is the cheap check for the data
 * path: true once a serial has been seen; until then it asks the source.
 */
int svm_lun_serial(struct svm_lun *lun, char *buf, size_t len);
bool svm_lun_identified(struct svm_lun *lun);

/*
 * Live reconfiguration (tcmu-runner's reconfig, on its main-loop thread,
 * while commands run). svm_lun_set_wce: turning the cache off first writes
 * out what it holds (blocks on a flush), then every write is stable.
 * svm_lun_grow: the store must hold num_lbas blocks (a file is extended,
 * sparse; a block device must already be large enough); the capacity never
 * shrinks. Both return 0 or -errno with *reason malloc'd.
 */
int svm_lun_set_wce(struct svm_lun *lun, bool wce, char **reason);
int svm_lun_grow(struct svm_lun *lun, uint64_t num_lbas, char **reason);

/* Data path: 0 or -errno. len bytes are transferred at LUN byte offset off. */
int svm_lun_read(struct svm_lun *lun, const struct iovec *iov, size_t cnt, uint64_t off,
		 size_t len);
/* As svm_lun_read from the page cache only; -EAGAIN if that would wait. Never blocks. */
int svm_lun_read_cached(struct svm_lun *lun, const struct iovec *iov, size_t cnt, uint64_t off,
			size_t len);
/*
 * Every call that changes the store (write, discard, write_zeroes) holds
 * its byte range shared in the LUN's range lock (rangelock.h) while it
 * does; svm_lun_rmw holds its range exclusive, so it is atomic against all
 * of them.
 */
int svm_lun_write(struct svm_lun *lun, const struct iovec *iov, size_t cnt, uint64_t off,
		  size_t len, bool fua);
/* As svm_lun_write, but -EAGAIN at once if a read-modify-write holds the range. */
int svm_lun_write_nowait(struct svm_lun *lun, const struct iovec *iov, size_t cnt, uint64_t off,
			 size_t len, bool fua);
/*
 * Read-modify-write [off, off + len) atomically against every other change
 * to those bytes: the range is held exclusive, read into a buffer and given
 * to fn, which returns 0 to write the (changed) buffer back, 1 to write
 * nothing, or -errno. Returns 0, or -errno of the I/O or of fn. Blocks.
 * len is bounded by the caller (a buffer of len bytes is allocated).
 */
typedef int (*svm_lun_rmw_fn)(uint8_t *data, size_t len, void *arg);
int svm_lun_rmw(struct svm_lun *lun, uint64_t off, size_t len, bool fua, svm_lun_rmw_fn fn,
		void *arg);
int svm_lun_flush(struct svm_lun *lun);
/* Flushes issued to the LUN's store so far (svm_store_flushes). Never blocks. */
uint64_t svm_lun_flushes(const struct svm_lun *lun);
/* Deallocate; with no volatile cache reported, durable when it returns. */
int svm_lun_discard(struct svm_lun *lun, uint64_t off, uint64_t len);
/* Zeroes without data transfer; -EOPNOTSUPP if the store cannot (caller writes zeroes). */
int svm_lun_write_zeroes(struct svm_lun *lun, uint64_t off, uint64_t len);
/*
 * WRITE SAME in one store operation (svm_store_write_same: block repeated
 * over [off, off + len), range held shared); with no volatile cache
 * reported, flushed before it returns. -EOPNOTSUPP while a migration
 * mirrors the LUN or when the store has no such call, -EINVAL when it
 * refuses the range: nothing written then, the caller writes the blocks.
 * Blocks.
 */
int svm_lun_write_same(struct svm_lun *lun, uint64_t off, uint64_t len, const void *block,
		       size_t block_len);
/*
 * COMPARE AND WRITE in one store operation (svm_store_compare_and_write),
 * the range held exclusive as svm_lun_rmw holds it; flushed after a write
 * when fua or no volatile cache is reported. 0: written; 1: a miscompare
 * at *mismatch (bytes into the range), nothing written; -EOPNOTSUPP while
 * a migration mirrors the LUN or when the store cannot (the caller uses
 * svm_lun_rmw); or -errno. Blocks.
 */
int svm_lun_compare_and_write(struct svm_lun *lun, uint64_t off, uint64_t len, const void *cmp,
			      const void *buf, bool fua, uint64_t *mismatch);
void svm_lun_prefetch(struct svm_lun *lun, uint64_t off, uint64_t len);

/*
 * Copy len bytes from src at src_off to dst at dst_off (two LUNs, or one)
 * with the datamover kind (xcopy/mover.h; overlapping ranges of one LUN
 * copy as memmove). The destination range is held shared in dst's range
 * lock, as for any write; with dst's write cache off the copy is flushed
 * before this returns. deadline_ns: as in struct svm_mover_req. Returns 0,
 * or the mover's -errno (-EOPNOTSUPP: a pinned mover cannot do this pair,
 * or a store has no fd to copy with: RBD); res (may be NULL) says how much
 * each mover moved. Blocks.
 */
int svm_lun_copy(struct svm_lun *dst, uint64_t dst_off, struct svm_lun *src, uint64_t src_off,
		 uint64_t len, enum svm_mover_kind kind, uint64_t deadline_ns,
		 struct svm_mover_result *res);
/*
 * Whether the datamovers can copy to and from the LUN's store (it has an
 * fd: a file or block device, not an RBD image): EXTENDED COPY and the 3PC
 * bit of INQUIRY ask. Never blocks.
 */
bool svm_lun_can_copy(struct svm_lun *lun);

/* The datamover this LUN's copies use (cfgstring mover=). Never blocks. */
void svm_lun_set_mover(struct svm_lun *lun, enum svm_mover_kind kind);
enum svm_mover_kind svm_lun_mover(const struct svm_lun *lun);
/*
 * Count the bytes each mover moved (indexed by enum svm_mover_kind) for a
 * copy this LUN ran; true when the set of movers, or the LUN's mover=,
 * differs from the last copy's (worth a log line). svm_lun_moves reads the totals. Never block.
 */
bool svm_lun_count_moves(struct svm_lun *lun, const uint64_t moved[SVM_MOVER_KINDS]);
void svm_lun_moves(const struct svm_lun *lun, uint64_t moved[SVM_MOVER_KINDS]);

/* The LUN's EXTENDED COPY list identifiers and results (xcopy/xcopy.h). */
struct svm_xcopy_state *svm_lun_xcopy(struct svm_lun *lun);

/*
 * Provisioning state (GET LBA STATUS): whether the byte at off is allocated
 * and where that run ends (*end, bytes; may lie past the LUN). A block
 * device's store answers "allocated" throughout. 0 or -errno. Blocks.
 */
int svm_lun_extent(struct svm_lun *lun, uint64_t off, bool *mapped, uint64_t *end);

/*
 * An exclusive hold of [off, off + len) in the LUN's range lock, for a
 * command that must be atomic against every write to those bytes (WRITE
 * ATOMIC, SANITIZE over the whole LUN): svm_lun_hold waits for the writes
 * holding any of them; while held, changes to them go through the
 * svm_lun_held_* calls (which take no lock: the plain calls would wait for
 * the hold itself). Blocks.
 */
struct svm_lun_hold {
	struct svm_range r;
};
void svm_lun_hold(struct svm_lun *lun, struct svm_lun_hold *h, uint64_t off, uint64_t len);
void svm_lun_release(struct svm_lun *lun, struct svm_lun_hold *h);
/* As svm_lun_write and svm_lun_discard, inside a hold of the range. */
int svm_lun_held_write(struct svm_lun *lun, const struct iovec *iov, size_t cnt, uint64_t off,
		       size_t len, bool fua);
int svm_lun_held_discard(struct svm_lun *lun, uint64_t off, uint64_t len);

/*
 * SANITIZE state (SBC-4 4.11), kept for the SCSI layer, which gives it its
 * meaning: one word of SVM_SANITIZE_* flags and, while one runs, its
 * PROGRESS INDICATION (65536ths done) in the upper 16 bits. Not kept
 * across a close. svm_lun_sanitize_get is one atomic load (every command
 * asks); svm_lun_sanitize_begin sets RUNNING unless it is set already
 * (false: one runs), keeping FAILED and AUSE; svm_lun_sanitize_set stores
 * the word (its owner: progress, the end). Never block.
 */
#define SVM_SANITIZE_RUNNING	       (1u << 0)
#define SVM_SANITIZE_FAILED	       (1u << 1) /* the last sanitize operation failed */
#define SVM_SANITIZE_AUSE	       (1u << 2) /* and its AUSE was set */
#define SVM_SANITIZE_PROGRESS(state)   ((uint16_t)((state) >> 16))
#define SVM_SANITIZE_WITH_PROGRESS(p)  ((uint32_t)(p) << 16)
uint32_t svm_lun_sanitize_get(const struct svm_lun *lun);
bool svm_lun_sanitize_begin(struct svm_lun *lun);
void svm_lun_sanitize_set(struct svm_lun *lun, uint32_t state);
/* Store next if the word is still expect (no sanitize began meanwhile): true if stored. */
bool svm_lun_sanitize_swap(struct svm_lun *lun, uint32_t expect, uint32_t next);

/*
 * Software write protect: the control mode page's SWP (SPC-4 7.5.8), which
 * MODE SELECT sets and the SCSI layer enforces. One per LUN, false at open,
 * not kept across a close. Never block.
 */
void svm_lun_set_swp(struct svm_lun *lun, bool on);
bool svm_lun_swp(const struct svm_lun *lun);

/*
 * Run fn(arg) on a thread of the LUN's own, for a command whose status goes
 * back before its work is done (SANITIZE with IMMED); the caller allows one
 * at a time. svm_lun_close waits for it, after svm_lun_closing turns true:
 * fn asks between steps and stops early. 0 or -errno.
 */
int svm_lun_background(struct svm_lun *lun, void (*fn)(void *arg), void *arg);
bool svm_lun_closing(const struct svm_lun *lun);

/*
 * For the migration (migrate.h), which owns the mirror device and the
 * destination store:
 *
 * svm_lun_set_mirror attaches mirror m (NULL: detaches it) with every write
 * drained for the moment (the whole LUN held exclusive in the range lock);
 * returns how long writes were held, ns. Blocks until in-flight writes end.
 *
 * svm_lun_switch makes store to (which the mirror kept equal to the
 * primary) the LUN's primary: writes drained, to flushed, inside(arg) run
 * (the migration records the switch durably; non-zero: nothing switched,
 * returned), then to is the primary and the mirror detached, and writes
 * resume; *pause_ns is how long they were held. The former primary is kept
 * open (reads that started on it finish) until svm_lun_close_retired or
 * the LUN closes. 0 or -errno.
 */
struct svm_mirror;
uint64_t svm_lun_set_mirror(struct svm_lun *lun, struct svm_mirror *m);
int svm_lun_switch(struct svm_lun *lun, struct svm_store *to, int (*inside)(void *arg),
		   void *arg, uint64_t *pause_ns);
void svm_lun_close_retired(struct svm_lun *lun);
/* The primary store (for the migration's thread; may change at a switchover). */
struct svm_store *svm_lun_primary(const struct svm_lun *lun);
/* The LUN's range lock (the mirror's pass holds chunks of it exclusive). */
struct svm_rangelock *svm_lun_rangelock(struct svm_lun *lun);
/*
 * For an asynchronous engine (handler/uring.h) that does a command's I/O on
 * the store's fd itself and completes it later, on another thread: what
 * svm_lun_read / svm_lun_write / svm_lun_flush do around their I/O, split
 * in two, so that such I/O takes part in the same accounting.
 *
 * svm_lun_async_begin takes what the I/O needs, without waiting: a read or
 * a flush counts itself a reader of the primary store (a switchover waits
 * for it before putting that store aside); a write holds [off, off + len)
 * shared in the range lock (so neither a COMPARE AND WRITE on those bytes
 * nor a mirror's attach or a switchover, which drain every write, can pass
 * it) and is refused while a migration's mirror is attached, since it would
 * reach one store only. Returns the fd to do the I/O on, with a->sync set
 * for a write that must be stable (fua, or no write cache); or -EAGAIN: it
 * cannot go this way without waiting (a read-modify-write holds the range,
 * a mirror is attached, a write fault is injected); the caller then takes
 * the blocking calls above. A store without an fd (RBD) is -EAGAIN too,
 * unless a->store_ok: then -EREMOTE, with everything taken as for an fd,
 * and a->st the store to hand the I/O to (svm_store_aio). Never blocks.
 *
 * svm_lun_async_end releases what begin took and counts the I/O (ret: its
 * result, 0 or -errno; counted alike for now). Never blocks on I/O.
 */
enum svm_lun_async_kind {
	SVM_LUN_ASYNC_READ,
	SVM_LUN_ASYNC_WRITE,
	SVM_LUN_ASYNC_FLUSH,
};
struct svm_lun_async {
	enum svm_lun_async_kind kind; /* in */
	bool store_ok;		      /* in: the caller can do an fd-less store's I/O (svm_store_aio) */
	bool sync;		      /* out, a write: RWF_DSYNC */
	/* lun.c's own */
	unsigned epoch;
	struct svm_store *st;
	struct svm_range r;
};
int svm_lun_async_begin(struct svm_lun *lun, struct svm_lun_async *a, uint64_t off, uint64_t len,
			bool fua);
void svm_lun_async_end(struct svm_lun *lun, struct svm_lun_async *a, int ret);

/* Reads served, and writes that had to wait for a range (a copy's chunk, a CAW). Never blocks. */
void svm_lun_io_stats(const struct svm_lun *lun, uint64_t *reads, uint64_t *waited);

#endif
