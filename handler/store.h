/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A store is where a LUN's blocks live: a regular file, a block device, or
 * a Ceph RBD image named "rbd/<pool>/<image>" (store_rbd.h, through
 * librbd). Every call here but svm_store_aio blocks on the store's I/O (an
 * RBD store's on the network) and is safe to call from many threads at once
 * on one store.
 * Offsets and lengths are in bytes. Setup returns -errno (and a reason);
 * I/O returns 0 or -errno.
 *
 * An RBD store does not do everything yet: it has no fd (svm_store_fd is
 * -1: no datamover, so no EXTENDED COPY; a migration from or to it copies
 * through svm_store_readv/writev, mirror.h), no
 * page cache (svm_store_readv_cached is always -EAGAIN) and no
 * SVM_STORE_CAP_INLINE; svm_store_grow only measures the image again and
 * svm_store_prefetch does nothing.
 */
#ifndef SVM_STORE_H
#define SVM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct svm_store;

/*
 * Capability bits, svm_store_caps(). DISCARD (and, for a file,
 * DISCARD_ZEROES) only when a probe at open found that discard works: a
 * hole punched past the end of a file, a device whose queue takes discards.
 */
#define SVM_STORE_CAP_DISCARD	     (1u << 0) /* discard deallocates */
#define SVM_STORE_CAP_DISCARD_ZEROES (1u << 1) /* and reads of discarded blocks return zeroes */
#define SVM_STORE_CAP_BLOCKDEV	     (1u << 2) /* a block device, not a file */
/*
 * Cached writes may run on tcmu-runner's command thread: a write lands in
 * the page cache and waits on the device only when the kernel throttles it.
 * A file or block device has it; an RBD store, whose every write waits for
 * the cluster, does not (lun.c's svm_lun_write_nowait answers -EAGAIN, so
 * such writes go to the worker pool).
 */
#define SVM_STORE_CAP_INLINE (1u << 3)
/*
 * Every write is stable once it returns: the store holds no volatile cache
 * (an RBD store whose librbd does not cache writes: rbd_cache=false, or
 * rbd_cache_policy=writethrough). A LUN on it reports no write cache.
 */
#define SVM_STORE_CAP_STABLE_WRITES (1u << 4)

struct svm_store_open_args {
	uint64_t min_bytes; /* the store must hold at least this many bytes */
	bool create;	    /* create a missing file of min_bytes (never truncates) */
	bool grow;	    /* an existing empty file is sized to min_bytes (a migration's destination) */
	bool direct;	    /* large aligned reads and writes bypass the page cache (O_DIRECT) */
	/* an RBD store: the cluster's ceph.conf (NULL: /etc/ceph/ceph.conf), the client id (NULL:
	 * admin) */
	const char *rbd_conf;
	const char *rbd_id;
	/*
	 * An RBD store that is a migration's destination: create then makes a
	 * missing image of min_bytes (svm_rbd_create), grow resizes a smaller
	 * image that holds no allocated data to min_bytes (one that holds data
	 * is refused as too small), and the image is held with RBD's exclusive
	 * lock while the store is open (svm_rbd_lock, waiting up to
	 * rbd_lock_wait_s for a crashed owner's lock to go): -EBUSY naming the
	 * owner when another client holds it.
	 */
	bool rbd_dest;
	unsigned rbd_lock_wait_s;
	/* and first breaks the lock of whoever holds it (a resumed migration's crashed runner) */
	bool rbd_lock_break;
};

/* Whether spec names an RBD store ("rbd/..."), well formed or not. Pure, never blocks. */
bool svm_store_is_rbd(const char *spec);

/*
 * Open path as a store. A block device is opened O_EXCL (fails if mounted
 * or held); a file is locked (flock) so two LUNs never share one. An RBD
 * store connects to its cluster (refused after at most
 * SVM_RBD_CONNECT_TIMEOUT_S when the cluster cannot be reached) and must
 * exist: create and grow do not apply to it, unless args.rbd_dest. An
 * existing file or device smaller than min_bytes is refused, never grown.
 * Returns 0 and *out, or -errno with *reason malloc'd.
 */
int svm_store_open(const char *path, const struct svm_store_open_args *args,
		   struct svm_store **out, char **reason);
void svm_store_close(struct svm_store *st);

/*
 * Transfer exactly len bytes at off, gathering from/scattering into iov (which may hold more).
 * On a store opened with args.direct, a read of at least SVM_STORE_DIRECT_MIN_BYTES whose
 * offset, length and iovecs suit the store's direct I/O alignment reads with O_DIRECT, past
 * the page cache (the kernel first writes back dirty cached pages of the range, so it sees
 * every earlier write); any other read, and one the kernel refuses direct, is buffered.
 */
int svm_store_readv(struct svm_store *st, const struct iovec *iov, size_t iov_cnt, uint64_t off,
		    size_t len);
/*
 * As readv, but only from the page cache: -EAGAIN (nothing read that counts)
 * when the data is not all cached or the store cannot tell. Never waits on
 * the device; the caller then reads with svm_store_readv.
 */
int svm_store_readv_cached(struct svm_store *st, const struct iovec *iov, size_t iov_cnt,
			   uint64_t off, size_t len);
/*
 * As readv; fua: the data is on stable media when this returns. On a store
 * opened with args.direct (and for writing), a write of at least
 * SVM_STORE_DIRECT_WRITE_MIN_BYTES whose offset, length and iovecs suit the
 * direct I/O alignment writes with O_DIRECT, past the page cache (the kernel
 * writes back and drops cached pages of the range around it, so buffered
 * reads and writes before and after it stay coherent); such a write fails
 * with the store's -errno (EIO, ENOSPC) as a buffered one would. Any other
 * write, and one the kernel refuses direct, is buffered. Blocks until done:
 * callers on the command thread keep their writes below the minimum
 * (SVM_INLINE_WRITE_MAX_BYTES, limits.h).
 */
int svm_store_writev(struct svm_store *st, const struct iovec *iov, size_t iov_cnt, uint64_t off,
		     size_t len, bool fua);
int svm_store_flush(struct svm_store *st);
/*
 * A READ, WRITE (sync: stable before done, as writev's fua) or flush issued
 * without waiting, for a store the io_uring engine cannot serve (an RBD
 * store: svm_rbd_aio): done(arg, 0 or -errno) is called once, on the
 * store's own thread, with what readv / writev / flush would return. 0:
 * issued; -EAGAIN: not issued (a file or device, a store reconnecting, a
 * fault injected), done never called: the blocking calls serve it. Never
 * blocks on I/O.
 */
enum svm_store_aio_kind { SVM_STORE_AIO_READ, SVM_STORE_AIO_WRITE, SVM_STORE_AIO_FLUSH };
typedef void (*svm_store_aio_done_fn)(void *arg, int ret);
int svm_store_aio(struct svm_store *st, enum svm_store_aio_kind kind, const struct iovec *iov,
		  size_t iov_cnt, uint64_t off, size_t len, bool sync, svm_store_aio_done_fn done,
		  void *arg);
/*
 * How many flushes (fdatasync) the store has issued: svm_store_flush, and a
 * FUA write where RWF_DSYNC is unsupported. One atomic load: cheap.
 */
uint64_t svm_store_flushes(const struct svm_store *st);
/* Count a flush issued on svm_store_fd by someone else (an io_uring fdatasync). Never blocks. */
void svm_store_count_flush(struct svm_store *st);
/* Deallocate: punch a hole in a file, BLKDISCARD on a device. -EOPNOTSUPP if unsupported. */
int svm_store_discard(struct svm_store *st, uint64_t off, uint64_t len);
/*
 * Whether the byte at off is allocated (*mapped) and where that run ends
 * (*end: the first byte after off in the other state, or the store's size):
 * SEEK_DATA / SEEK_HOLE on a file, at the filesystem's granularity (a
 * filesystem without them reports all data); a block device reports all
 * mapped (a device cannot be asked). off below the store's size. 0 or -errno.
 */
int svm_store_extent(struct svm_store *st, uint64_t off, bool *mapped, uint64_t *end);
/* Make [off, off+len) read as zeroes, without data transfer where the store can
 * (ZERO_RANGE on a file, BLKZEROOUT on a device); -EOPNOTSUPP if it cannot. */
int svm_store_write_zeroes(struct svm_store *st, uint64_t off, uint64_t len);
/*
 * Fill [off, off+len) with block (block_len bytes, len a multiple of it)
 * repeated, in one store operation (RBD: rbd_aio_writesame). -EOPNOTSUPP
 * for a file or device, -EINVAL when the store refuses the range: nothing
 * written, the caller writes the blocks itself. Blocks.
 */
int svm_store_write_same(struct svm_store *st, uint64_t off, uint64_t len, const void *block,
			 size_t block_len);
/*
 * Compare [off, off+len) with cmp and, only if equal, write buf there, as
 * one operation of the store (RBD: rbd_aio_compare_and_write, atomic in the
 * cluster). 0: written; 1: a mismatch, nothing written, *mismatch = the
 * offset in the range of the first differing byte; -EOPNOTSUPP (nothing
 * done) for a file or device, or a range the store cannot do in one (RBD:
 * over two objects); or -errno. Blocks.
 */
int svm_store_compare_and_write(struct svm_store *st, uint64_t off, uint64_t len, const void *cmp,
				const void *buf, uint64_t *mismatch);
/*
 * Make the store hold at least min_bytes: a smaller file is extended
 * (sparse, ftruncate); a block device is measured again and must already
 * be large enough. Never shrinks. 0, or -errno with *reason malloc'd.
 */
int svm_store_grow(struct svm_store *st, uint64_t min_bytes, char **reason);
/* Read-ahead hint for PRE-FETCH; never fails the command. */
void svm_store_prefetch(struct svm_store *st, uint64_t off, uint64_t len);

uint64_t svm_store_size(const struct svm_store *st);
/*
 * The physical block size in bytes, found at open: a block device's own;
 * for a file, that of the device under its filesystem, or the filesystem's
 * st_blksize when there is no device (tmpfs, overlayfs). 0 if unknown.
 */
uint32_t svm_store_phys_block_size(const struct svm_store *st);
unsigned svm_store_caps(const struct svm_store *st);
const char *svm_store_path(const struct svm_store *st);
/*
 * Direct reads (svm_store_readv): bytes read with O_DIRECT, and reads that were meant to be
 * direct but fell back to buffered I/O (unaligned, refused, short). 0 without args.direct.
 */
uint64_t svm_store_direct_bytes(const struct svm_store *st);
uint64_t svm_store_direct_fallbacks(const struct svm_store *st);
/* The same for direct writes (svm_store_writev). */
uint64_t svm_store_direct_write_bytes(const struct svm_store *st);
uint64_t svm_store_direct_write_fallbacks(const struct svm_store *st);
/*
 * The store's file descriptor, for the datamovers (xcopy/mover.h), which
 * copy between fds, and the io_uring engine; -1 for an RBD store, which
 * every caller must check before handing it on.
 */
int svm_store_fd(const struct svm_store *st);

/*
 * Fault-injection seam for the unit tests (tests/unit), never set by the
 * handler: when non-zero, the discard probe of svm_store_open answers this
 * -errno (say -EOPNOTSUPP) instead of asking the store, as a filesystem
 * without punch-hole or a device without discard would.
 */
extern int svm_store_fault_discard_probe;
/* The same for writes: when non-zero, every write fails with this -errno (a failing medium). */
extern int svm_store_fault_write;
/*
 * When non-zero, every write is held this many microseconds before it
 * starts, and the writes held at once are counted: the most ever in
 * svm_store_fault_writes_peak (what shows whether two stores' writes overlap).
 */
extern unsigned svm_store_fault_write_hold_us;
extern unsigned svm_store_fault_writes_peak;

#endif
