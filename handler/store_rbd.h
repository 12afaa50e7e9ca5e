/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The RBD store, internal to store.c (which dispatches the public
 * svm_store_* calls to it through its ops table): a Ceph RBD image named
 * "rbd/<pool>/<image>", tcmu-runner's rbd handler form, reached through
 * librados and librbd. One cluster connection per store.
 *
 * The handler links librados and librbd (Debian's librados2 and librbd1,
 * which tcmu-runner's package already pulls in for its own handler_rbd.so,
 * so the libraries are in the runner's process with or without this
 * handler).
 *
 * Every I/O call issues librbd's asynchronous call (rbd_aio_*) and waits
 * for its completion: it blocks on the network for as long as the cluster
 * takes, so it must run on a worker thread, never on tcmu-runner's command
 * thread. Safe to call from many threads at once on one store (librbd
 * serialises what it must). I/O returns 0 or -errno.
 */
#ifndef SVM_STORE_RBD_H
#define SVM_STORE_RBD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct svm_rbd;

/* Whether spec names an RBD store (begins with "rbd/"); it may still be malformed. Pure. */
bool svm_rbd_is_spec(const char *spec);

/*
 * Split "rbd/<pool>/<image>" into its pool and image, each 1 to
 * SVM_RBD_NAME_MAX bytes, holding no '/' (no namespaces), '@' (no
 * snapshots: they are read-only) or control character. pool and image
 * (either may be NULL: only check) receive malloc'd copies. Pure string
 * work, never blocks. 0, or -EINVAL (-ENOMEM) with *reason malloc'd.
 */
int svm_rbd_parse(const char *spec, char **pool, char **image, char **reason);

/*
 * Connect to the cluster described by conf (a ceph.conf path, NULL: the
 * default /etc/ceph/ceph.conf) as client id (NULL: admin), and open the
 * image of spec. Connecting and the monitor's answers are bounded by
 * SVM_RBD_CONNECT_TIMEOUT_S: an unreachable cluster is refused (-ETIMEDOUT
 * or another -errno with *reason malloc'd) after at most that long, it never
 * hangs. Blocks on the network. 0 and *out, the image's size in *size.
 */
int svm_rbd_open(const char *spec, const char *conf, const char *id, struct svm_rbd **out,
		 uint64_t *size, char **reason);
/*
 * Close the image and the cluster connection; waits for librbd's own in-flight work and
 * for the reconnect thread (which may be inside a connect: up to
 * SVM_RBD_CONNECT_TIMEOUT_S). NULL ok.
 */
void svm_rbd_close(struct svm_rbd *r);
/*
 * Losing the cluster. An I/O that fails because the cluster did not answer
 * (-ETIMEDOUT after rados_osd_op_timeout, SVM_RBD_OSD_OP_TIMEOUT_S), or
 * because it blocklisted this client (-ESHUTDOWN) or the session is gone
 * (-ENOTCONN, -ECONN*), wakes the store's reconnect thread (one per store
 * svm_rbd_open made): from then on every call fails at once with -ENOTCONN
 * (sense.c: NOT READY, BECOMING READY, which initiators retry) while the
 * calls in flight end, the connection is closed and made again, every
 * SVM_RBD_RECONNECT_INTERVAL_S until the cluster answers; a store held with
 * the exclusive lock (svm_rbd_lock) takes it again. The log says each
 * loss and each reconnect.
 */

/* Exactly len bytes at off, from/into the first len bytes of iov (which may hold more). */
int svm_rbd_readv(struct svm_rbd *r, const struct iovec *iov, size_t iov_cnt, uint64_t off,
		  size_t len);
/*
 * fua: then an rbd flush, so the data is stable in the cluster when this returns; none
 * when librbd caches no write (svm_rbd_stable_writes): its writes complete only once
 * the OSDs committed them. A plain write may return 0 before the cluster has it
 * (librbd's writearound cache, WCE): its failure then reaches a later flush.
 */
int svm_rbd_writev(struct svm_rbd *r, const struct iovec *iov, size_t iov_cnt, uint64_t off,
		   size_t len, bool fua);
/*
 * Make every write returned so far stable in the cluster. Fails when one of them did not
 * make it, also when librbd handed that failure to a FUA write's flush first (which
 * failed too) or to a reconnect's flush: each such failure is reported by one
 * svm_rbd_flush, as SYNCHRONIZE CACHE must, with -EIO (a WRITE ERROR the initiator does
 * not retry into a GOOD). When librbd acknowledges writes early (not
 * svm_rbd_stable_writes), any failed flush is -EIO for the same reason;
 * without it a flush that met a lost cluster fails as the I/O does (retryable).
 */
int svm_rbd_flush(struct svm_rbd *r);
/*
 * The same READ, WRITE (sync: and a flush after it, for FUA or no write
 * cache, but none on a stable store) or flush, asynchronous: issued now,
 * done(arg, 0 or -errno) called once on librbd's callback thread when it
 * ends, with the results
 * svm_rbd_readv / svm_rbd_writev / svm_rbd_flush would give (a lost cluster
 * included). 0: issued; -EAGAIN: not issued (reconnecting, no memory, an
 * iovec of more than IOV_MAX pieces), done never called: the blocking
 * calls serve it. Never blocks on the network.
 */
enum svm_rbd_aio_kind { SVM_RBD_AIO_READ, SVM_RBD_AIO_WRITE, SVM_RBD_AIO_FLUSH };
typedef void (*svm_rbd_aio_done_fn)(void *arg, int ret);
int svm_rbd_aio(struct svm_rbd *r, enum svm_rbd_aio_kind kind, const struct iovec *iov,
		size_t iov_cnt, uint64_t off, size_t len, bool sync, svm_rbd_aio_done_fn done,
		void *arg);
/*
 * Deallocate; every discarded byte reads back zero (the client is set up
 * with rbd_skip_partial_discard=false, so parts of 64 KiB granules are
 * zeroed rather than skipped).
 */
int svm_rbd_discard(struct svm_rbd *r, uint64_t off, uint64_t len);
int svm_rbd_write_zeroes(struct svm_rbd *r, uint64_t off, uint64_t len);
/*
 * The block's block_len bytes repeated over [off, off + len), one
 * rbd_aio_writesame for the whole range: -EINVAL (nothing written) when
 * len is not a multiple of block_len or librbd refuses the range.
 */
int svm_rbd_write_same(struct svm_rbd *r, uint64_t off, uint64_t len, const void *block,
		       size_t block_len);
/*
 * rbd_aio_compare_and_write: the OSD compares [off, off + len) with cmp
 * and writes buf there only if they match, as one operation in the
 * cluster (atomic against every client). 0: written; 1: they differ,
 * nothing written, *mismatch the offset in the range of the first
 * differing byte; -EOPNOTSUPP (nothing done) when the range spans two
 * RADOS objects, which librbd refuses; or -errno.
 */
int svm_rbd_compare_and_write(struct svm_rbd *r, uint64_t off, uint64_t len, const void *cmp,
			      const void *buf, uint64_t *mismatch);
/*
 * Whether librbd caches no acknowledged write (rbd_cache false or
 * rbd_cache_policy writethrough, the image's own setting first), found at
 * open (the open's log line says what the probe found): then every write
 * returned is stable. Never blocks.
 */
bool svm_rbd_stable_writes(const struct svm_rbd *r);
/*
 * As svm_store_extent, from rbd_diff_iterate2 over the whole image's
 * history (no snapshot: what is allocated), byte-granular: whether off is
 * allocated and where that run ends (size: the image's size).
 */
int svm_rbd_extent(struct svm_rbd *r, uint64_t off, uint64_t size, bool *mapped, uint64_t *end);
/* The image's size as the cluster has it now (after an `rbd resize`). 0 or -errno. */
int svm_rbd_size(struct svm_rbd *r, uint64_t *size);

/*
 * A migration's destination (migrate.c). Each call that takes a spec makes
 * a cluster connection of its own for the call (bounded as svm_rbd_open's)
 * and blocks on the network. 0, or -errno with *reason malloc'd.
 *
 * svm_rbd_create: a new image of size bytes with layering, exclusive-lock,
 * object-map and fast-diff (object-map/fast-diff make svm_rbd_extent
 * cheap); -EEXIST when it exists (nothing changed).
 * svm_rbd_remove: delete the image (-EBUSY while a client has it open).
 */
int svm_rbd_create(const char *spec, const char *conf, const char *id, uint64_t size,
		   char **reason);
int svm_rbd_remove(const char *spec, const char *conf, const char *id, char **reason);
/*
 * Hold r's image with RBD's exclusive lock (rbd_lock_acquire, EXCLUSIVE)
 * until svm_rbd_close: no other client may write it meanwhile (librbd
 * refuses their writes). When another client holds it, -EBUSY with a reason
 * naming the lock's owners (rbd_lock_get_owners); tried again every 2 s for
 * up to wait_s seconds first (a crashed owner's lock is broken by librbd
 * once its watch has expired, about 30 s). break_stale: first break the
 * lock of whoever holds it (rbd_lock_break, which blocklists that client),
 * for a migration resumed after a crash, whose record says the owner was
 * this host's runner that died. An image without the exclusive-lock
 * feature: -EINVAL. Blocks on the network.
 */
int svm_rbd_lock(struct svm_rbd *r, unsigned wait_s, bool break_stale, char **reason);
/* Resize the image to size bytes (rbd_resize). 0, or -errno with *reason. Blocks. */
int svm_rbd_resize(struct svm_rbd *r, uint64_t size, char **reason);

#endif
