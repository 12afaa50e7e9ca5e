/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "store.h"
#include "cfg.h"
#include "iov.h"
#include "limits.h"
#include "log.h"
#include "store_rbd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

struct svm_store;

/*
 * What differs between kinds of store: the public svm_store_* calls of
 * store.h that do I/O dispatch through the store's table; the rest
 * (size, caps, counters) is common. Every entry is set.
 */
struct store_ops {
	const char *kind; /* for the log: "file", "RBD" */
	int (*readv)(struct svm_store *st, const struct iovec *iov, size_t iov_cnt, uint64_t off,
		     size_t len);
	int (*readv_cached)(struct svm_store *st, const struct iovec *iov, size_t iov_cnt,
			    uint64_t off, size_t len);
	int (*writev)(struct svm_store *st, const struct iovec *iov, size_t iov_cnt, uint64_t off,
		      size_t len, bool fua);
	int (*flush)(struct svm_store *st);
	int (*discard)(struct svm_store *st, uint64_t off, uint64_t len);
	int (*extent)(struct svm_store *st, uint64_t off, bool *mapped, uint64_t *end);
	int (*write_zeroes)(struct svm_store *st, uint64_t off, uint64_t len);
	int (*write_same)(struct svm_store *st, uint64_t off, uint64_t len, const void *block,
			  size_t block_len);
	int (*compare_and_write)(struct svm_store *st, uint64_t off, uint64_t len, const void *cmp,
				 const void *buf, uint64_t *mismatch);
	int (*aio)(struct svm_store *st, enum svm_store_aio_kind kind, const struct iovec *iov,
		   size_t iov_cnt, uint64_t off, size_t len, bool sync, svm_store_aio_done_fn done,
		   void *arg);
	int (*grow)(struct svm_store *st, uint64_t min_bytes, char **reason);
	void (*prefetch)(struct svm_store *st, uint64_t off, uint64_t len);
	void (*close)(struct svm_store *st);
};

struct svm_store {
	const struct store_ops *ops;
	struct svm_rbd *rbd; /* an RBD store's image (store_rbd.h); NULL for a file or device */
	int fd;		     /* -1 for an RBD store: no fd to hand to a datamover */
	int dfd;	    /* the store opened again with O_DIRECT; -1: none */
	bool dfd_writes;    /* dfd is open for writing too (the store is) */
	uint32_t dio_align; /* direct I/O: offset, length and every iovec a multiple of this */
	bool no_direct;	    /* atomic: the kernel refused a direct read (EINVAL): buffered from now */
	bool no_direct_write;	   /* atomic: the same for direct writes */
	uint64_t direct_bytes;	   /* atomic: bytes read direct */
	uint64_t direct_fallbacks; /* atomic: reads meant to be direct that went buffered */
	uint64_t direct_wbytes;	   /* atomic: bytes written direct */
	uint64_t direct_wfallbacks; /* atomic: writes meant to be direct that went buffered */
	unsigned caps;
	uint64_t size;
	char *path;
	bool no_nowait;	  /* RWF_NOWAIT refused once (EOPNOTSUPP): not tried again */
	uint64_t flushes; /* atomic: fdatasync calls issued (svm_store_flushes) */
	uint32_t phys_block; /* svm_store_phys_block_size, found at open; 0: unknown */
};

static const struct store_ops file_ops, rbd_ops;

int svm_store_fault_discard_probe;
int svm_store_fault_write;
unsigned svm_store_fault_write_hold_us;
unsigned svm_store_fault_writes_peak;

static void fault_hold(void)
{
	static unsigned held;
	unsigned n = __atomic_add_fetch(&held, 1, __ATOMIC_ACQ_REL), peak;

	peak = __atomic_load_n(&svm_store_fault_writes_peak, __ATOMIC_ACQUIRE);
	while (n > peak && !__atomic_compare_exchange_n(&svm_store_fault_writes_peak, &peak, n,
							false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		;
	usleep(svm_store_fault_write_hold_us);
	__atomic_sub_fetch(&held, 1, __ATOMIC_ACQ_REL);
}

static int open_file(struct svm_store *st, const struct svm_store_open_args *a, char **reason)
{
	bool created = false, grow;
	struct stat sb;

	st->fd = open(st->path, O_RDWR | O_CLOEXEC);
	if (st->fd < 0 && errno == ENOENT && a->create) {
		/* O_EXCL: if someone else made it meanwhile, we do not touch theirs. */
		st->fd = open(st->path, O_RDWR | O_CLOEXEC | O_CREAT | O_EXCL, 0600);
		created = st->fd >= 0;
	}
	if (st->fd < 0)
		return svm_reason(reason, -errno, "cannot open store '%s': %s", st->path,
				  strerror(errno));
	if (flock(st->fd, LOCK_EX | LOCK_NB))
		return svm_reason(reason, -EBUSY, "store '%s' is in use by another LUN or process",
				  st->path);
	grow = created || (a->grow && !fstat(st->fd, &sb) && sb.st_size == 0);
	if (grow && ftruncate(st->fd, a->min_bytes)) {
		int err = errno;

		if (created)
			unlink(st->path);
		return svm_reason(reason, -err, "cannot size new store '%s': %s", st->path,
				  strerror(err));
	}
	if (fstat(st->fd, &sb))
		return svm_reason(reason, -errno, "cannot stat store '%s': %s", st->path,
				  strerror(errno));
	st->size = sb.st_size;
	return 0;
}

static int open_blockdev(struct svm_store *st, char **reason)
{
	st->fd = open(st->path, O_RDWR | O_CLOEXEC | O_EXCL);
	if (st->fd < 0)
		return svm_reason(reason, -errno, "cannot open block device '%s' exclusively: %s",
				  st->path, strerror(errno));
	if (ioctl(st->fd, BLKGETSIZE64, &st->size))
		return svm_reason(reason, -errno, "cannot size block device '%s': %s", st->path,
				  strerror(errno));
	st->caps = SVM_STORE_CAP_BLOCKDEV;
	return 0;
}

/*
 * A block device discards when its request queue takes discards:
 * queue/discard_max_bytes > 0 in sysfs. A partition has no queue/ of its
 * own; /sys/dev/block/<maj>:<min> links to its directory inside the disk's,
 * so "../queue" (resolved after the link, as the kernel resolves paths) is
 * the disk's queue. 0, or -errno (-EOPNOTSUPP: no discard).
 */
static int queue_attr(dev_t dev, const char *name, unsigned long long *val)
{
	static const char *const rel[] = {"queue", "../queue"};
	char path[96];
	FILE *f = NULL;

	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]) && !f; i++) {
		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/%s/%s", major(dev), minor(dev),
			 rel[i], name);
		f = fopen(path, "re");
		if (!f && errno != ENOENT)
			return -errno;
	}
	if (!f)
		return -ENOENT;
	if (fscanf(f, "%llu", val) != 1)
		*val = 0;
	fclose(f);
	return 0;
}

static int probe_blockdev_discard(const struct svm_store *st)
{
	unsigned long long max = 0;
	struct stat sb;
	int ret;

	if (fstat(st->fd, &sb))
		return -errno;
	ret = queue_attr(sb.st_rdev, "discard_max_bytes", &max);
	if (ret)
		return ret;
	return max ? 0 : -EOPNOTSUPP;
}

/*
 * The physical block size (svm_store_phys_block_size): a block device's
 * own (BLKPBSZGET); for a file, that of the block device its filesystem
 * lives on (queue/physical_block_size in sysfs, as for discard above), or,
 * for a filesystem on no block device (tmpfs, overlayfs, NFS; btrfs, whose
 * st_dev is anonymous), the filesystem's preferred I/O size st_blksize (a
 * page on tmpfs): the unit in which it allocates and below which a write
 * is a read-modify-write. 0 when neither is a power of two of 512 or more.
 */
static uint32_t probe_phys_block(const struct svm_store *st)
{
	unsigned long long pbs = 0;
	unsigned int dev_pbs = 0;
	struct stat sb;

	if (fstat(st->fd, &sb))
		return 0;
	if (st->caps & SVM_STORE_CAP_BLOCKDEV) {
		if (!ioctl(st->fd, BLKPBSZGET, &dev_pbs))
			pbs = dev_pbs;
	} else if (queue_attr(sb.st_dev, "physical_block_size", &pbs)) {
		pbs = sb.st_blksize;
	}
	if (pbs < 512 || pbs > UINT32_MAX || (pbs & (pbs - 1)))
		return 0;
	return (uint32_t)pbs;
}

/*
 * Whether the store can deallocate, asked once at open so that the LUN
 * offers UNMAP only when it can serve it (the fault-injection seam
 * svm_store_fault_discard_probe answers instead when set). A file: punch a
 * hole past its end, which keeps the size and touches no data; EOPNOTSUPP
 * is a filesystem without punch-hole. 0, or -errno: why not.
 */
static int probe_discard(const struct svm_store *st)
{
	if (svm_store_fault_discard_probe)
		return svm_store_fault_discard_probe;
	if (st->caps & SVM_STORE_CAP_BLOCKDEV)
		return probe_blockdev_discard(st);
	if (fallocate(st->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, st->size, 1))
		return -errno;
	return 0;
}

/*
 * Direct reads (args.direct): a second open file of the store with
 * O_DIRECT, reopened through /proc/self/fd as the bounce mover does
 * (xcopy/mover.c), so that the store's own fd, its flock and its O_EXCL
 * claim are left alone. The alignment the kernel asks for offsets, lengths
 * and buffers: statx's STATX_DIOALIGN where the kernel answers it (files on
 * ext4, XFS, f2fs from Linux 6.1; block devices from 6.11), else a block
 * device's logical block size, else a page, which every Linux filesystem
 * with O_DIRECT takes. A store that cannot be opened O_DIRECT (tmpfs before
 * 6.6, some FUSE) is read buffered, and the log says so.
 */
static void open_direct(struct svm_store *st)
{
	struct statx sx;
	char path[40];
	int fd, bs;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", st->fd);
	st->dfd_writes = (fcntl(st->fd, F_GETFL) & O_ACCMODE) == O_RDWR;
	fd = open(path, (st->dfd_writes ? O_RDWR : O_RDONLY) | O_DIRECT | O_CLOEXEC);
	if (fd < 0) {
		svm_log(SVM_LOG_INFO, "store %s cannot be opened with O_DIRECT (%s): all I/O is buffered",
			st->path, strerror(errno));
		return;
	}
	st->dio_align = 4096;
	if (!statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) && (sx.stx_mask & STATX_DIOALIGN)) {
		if (!sx.stx_dio_offset_align) {
			svm_log(SVM_LOG_INFO,
				"store %s does not take O_DIRECT (statx): all I/O is buffered",
				st->path);
			close(fd);
			return;
		}
		st->dio_align = sx.stx_dio_offset_align > sx.stx_dio_mem_align
					? sx.stx_dio_offset_align
					: sx.stx_dio_mem_align;
	} else if ((st->caps & SVM_STORE_CAP_BLOCKDEV) && !ioctl(fd, BLKSSZGET, &bs) && bs > 0) {
		st->dio_align = (uint32_t)bs;
	}
	st->dfd = fd;
}

static int check_min_bytes(const struct svm_store *st, uint64_t min_bytes, char **reason)
{
	if (st->size >= min_bytes)
		return 0;
	return svm_reason(reason, -ENOSPC,
			  "store '%s' holds %llu bytes, less than the LUN's %llu bytes", st->path,
			  (unsigned long long)st->size, (unsigned long long)min_bytes);
}

/* A migration's RBD destination, open: lock it, grow it if empty and small (store.h). */
static int open_rbd_dest(struct svm_store *st, const struct svm_store_open_args *a,
			 char **reason)
{
	uint64_t end;
	bool mapped;
	int ret;

	ret = svm_rbd_lock(st->rbd, a->rbd_lock_wait_s, a->rbd_lock_break, reason);
	if (ret || !a->grow || st->size >= a->min_bytes)
		return ret;
	ret = st->size ? svm_rbd_extent(st->rbd, 0, st->size, &mapped, &end) : 0;
	if (ret)
		return svm_reason(reason, ret, "cannot map RBD image '%s': %s", st->path,
				  strerror(-ret));
	if (st->size && (mapped || end < st->size))
		return 0; /* holds data: never resized, check_min_bytes refuses it */
	ret = svm_rbd_resize(st->rbd, a->min_bytes, reason);
	if (!ret)
		ret = svm_rbd_size(st->rbd, &st->size);
	return ret;
}

/*
 * An RBD store: the image must exist (create= and grow= do not apply: `rbd
 * create` makes images) and hold min_bytes. RBD reads discarded ranges back
 * as zeroes. No fd, no page cache: nothing of it may run on the command
 * thread, so no SVM_STORE_CAP_INLINE.
 */
static int open_rbd(struct svm_store *st, const struct svm_store_open_args *a, char **reason)
{
	int ret;

	st->ops = &rbd_ops;
	if (a->rbd_dest && a->create) {
		ret = svm_rbd_create(st->path, a->rbd_conf, a->rbd_id, a->min_bytes, reason);
		if (ret && ret != -EEXIST)
			return ret;
		if (reason) { /* it exists: opened as it is */
			free(*reason);
			*reason = NULL;
		}
	}
	ret = svm_rbd_open(st->path, a->rbd_conf, a->rbd_id, &st->rbd, &st->size, reason);
	if (ret)
		return ret;
	if (a->rbd_dest) {
		ret = open_rbd_dest(st, a, reason);
		if (ret)
			return ret;
	}
	ret = check_min_bytes(st, a->min_bytes, reason);
	if (ret)
		return ret;
	st->caps = SVM_STORE_CAP_DISCARD | SVM_STORE_CAP_DISCARD_ZEROES;
	if (svm_rbd_stable_writes(st->rbd))
		st->caps |= SVM_STORE_CAP_STABLE_WRITES;
	return 0;
}

int svm_store_open(const char *path, const struct svm_store_open_args *args,
		   struct svm_store **out, char **reason)
{
	struct svm_store *st = calloc(1, sizeof(*st));
	struct stat sb;
	int ret;

	if (!st)
		return svm_reason(reason, -ENOMEM, "out of memory");
	st->ops = &file_ops;
	st->fd = -1;
	st->dfd = -1;
	st->path = strdup(path);
	if (!st->path) {
		ret = svm_reason(reason, -ENOMEM, "out of memory");
		goto free_store;
	}
	if (svm_rbd_is_spec(path)) {
		ret = open_rbd(st, args, reason);
		if (ret)
			goto free_store;
		*out = st;
		return 0;
	}
	if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode) && !S_ISBLK(sb.st_mode)) {
		ret = svm_reason(reason, -EINVAL, "store '%s' is not a regular file or block device",
				 path);
		goto free_store;
	}
	ret = stat(path, &sb) == 0 && S_ISBLK(sb.st_mode) ? open_blockdev(st, reason)
							  : open_file(st, args, reason);
	if (ret)
		goto free_store;
	ret = check_min_bytes(st, args->min_bytes, reason);
	if (ret)
		goto free_store;
	st->phys_block = probe_phys_block(st);
	ret = probe_discard(st);
	if (!ret)
		/* Discarded blocks of a device may read back as anything: no DISCARD_ZEROES. */
		st->caps |= st->caps & SVM_STORE_CAP_BLOCKDEV
				    ? SVM_STORE_CAP_DISCARD
				    : SVM_STORE_CAP_DISCARD | SVM_STORE_CAP_DISCARD_ZEROES;
	else
		svm_log(SVM_LOG_INFO,
			"store %s cannot deallocate (%s): its LUN will not offer UNMAP", path,
			strerror(-ret));
	if (args->direct)
		open_direct(st);
	st->caps |= SVM_STORE_CAP_INLINE;
	*out = st;
	return 0;

free_store:
	svm_store_close(st);
	return ret;
}

void svm_store_close(struct svm_store *st)
{
	if (!st)
		return;
	st->ops->close(st);
	free(st->path);
	free(st);
}

static void file_close(struct svm_store *st)
{
	if (st->dfd >= 0) {
		svm_log(SVM_LOG_INFO,
			"store %s closed; O_DIRECT: %llu bytes read, %llu written; buffered "
			"instead: %llu reads, %llu writes",
			st->path, (unsigned long long)svm_store_direct_bytes(st),
			(unsigned long long)svm_store_direct_write_bytes(st),
			(unsigned long long)svm_store_direct_fallbacks(st),
			(unsigned long long)svm_store_direct_write_fallbacks(st));
		close(st->dfd);
	}
	if (st->fd >= 0)
		close(st->fd);
}

static int sync_data(struct svm_store *st)
{
	__atomic_add_fetch(&st->flushes, 1, __ATOMIC_RELAXED);
	return fdatasync(st->fd) ? -errno : 0;
}

/*
 * One loop for both directions. The common case is one syscall on the
 * caller's own iovec; a clipped or short transfer continues on a copy. A
 * syscall takes at most IOV_MAX iovecs (more is EINVAL), so a longer
 * iovec goes in windows of IOV_MAX, each continuing where the last ended.
 */
static int xfer(struct svm_store *st, const struct iovec *iov, size_t iov_cnt, uint64_t off,
		size_t len, bool write, int flags)
{
	struct svm_iov_window w;
	bool sync_after = false;
	int ret;

	ret = svm_iov_window_init(&w, iov, iov_cnt, len);
	if (ret)
		return ret;
	while (len) {
		int cnt = w.cnt < IOV_MAX ? w.cnt : IOV_MAX;
		ssize_t n = write ? pwritev2(st->fd, w.iov, cnt, off, flags)
				  : preadv(st->fd, w.iov, cnt, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (write && flags && errno == EOPNOTSUPP) {
				/* RWF_DSYNC unsupported: write, then sync. */
				flags = 0;
				sync_after = true;
				continue;
			}
			ret = -errno;
			break;
		}
		if (n == 0) {
			ret = -EIO; /* the store shrank under us */
			break;
		}
		off += n;
		len -= n;
		if (len) {
			ret = svm_iov_window_advance(&w, n);
			if (ret)
				break;
		}
	}
	svm_iov_window_free(&w);
	if (!ret && sync_after)
		ret = sync_data(st);
	return ret;
}

/* Whether a direct read of w's cnt iovecs at off suits the store's alignment. */
static bool direct_aligned(const struct svm_store *st, const struct iovec *iov, int cnt,
			   uint64_t off, size_t len)
{
	uint64_t a = st->dio_align - 1, acc = off | len;

	for (int i = 0; i < cnt; i++)
		acc |= (uintptr_t)iov[i].iov_base | iov[i].iov_len;
	return !(acc & a);
}

/*
 * w = iov clipped to len, when it suits a direct transfer at off (at most
 * IOV_MAX iovecs, aligned); true then, and the caller frees w.
 */
static bool direct_window(const struct svm_store *st, const struct iovec *iov, size_t iov_cnt,
			  uint64_t off, size_t len, struct svm_iov_window *w)
{
	if (svm_iov_window_init(w, iov, iov_cnt, len))
		return false;
	if (w->cnt <= IOV_MAX && direct_aligned(st, w->iov, w->cnt, off, len))
		return true;
	svm_iov_window_free(w);
	return false;
}

/*
 * One preadv with O_DIRECT for the whole read: 0 when it read all len
 * bytes, else -EAGAIN and the caller reads buffered (again from the start:
 * harmless for a read). The kernel refusing it (EINVAL: an alignment it
 * did not tell; EOPNOTSUPP) turns direct reads off for the store.
 */
static int read_direct(struct svm_store *st, const struct iovec *iov, size_t iov_cnt,
		       uint64_t off, size_t len)
{
	struct svm_iov_window w;
	ssize_t n;

	if (!direct_window(st, iov, iov_cnt, off, len, &w))
		goto fallback;
	do
		n = preadv(st->dfd, w.iov, w.cnt, off);
	while (n < 0 && errno == EINTR);
	svm_iov_window_free(&w);
	if (n == (ssize_t)len) {
		__atomic_add_fetch(&st->direct_bytes, len, __ATOMIC_RELAXED);
		return 0;
	}
	if (n < 0 && (errno == EINVAL || errno == EOPNOTSUPP) &&
	    !__atomic_exchange_n(&st->no_direct, true, __ATOMIC_RELAXED))
		svm_log(SVM_LOG_WARN, "store %s: a direct read at %llu was refused (%s): reads are "
			"buffered from now on", st->path, (unsigned long long)off, strerror(errno));
fallback:
	__atomic_add_fetch(&st->direct_fallbacks, 1, __ATOMIC_RELAXED);
	return -EAGAIN;
}

static int file_readv(struct svm_store *st, const struct iovec *iov, size_t iov_cnt, uint64_t off,
		      size_t len)
{
	if (st->dfd >= 0 && len >= SVM_STORE_DIRECT_MIN_BYTES &&
	    !__atomic_load_n(&st->no_direct, __ATOMIC_RELAXED) &&
	    !read_direct(st, iov, iov_cnt, off, len))
		return 0;
	return xfer(st, iov, iov_cnt, off, len, false, 0);
}

static int file_readv_cached(struct svm_store *st, const struct iovec *iov, size_t iov_cnt,
			     uint64_t off, size_t len)
{
	struct svm_iov_window w;
	ssize_t n;

	if (__atomic_load_n(&st->no_nowait, __ATOMIC_RELAXED) ||
	    svm_iov_window_init(&w, iov, iov_cnt, len))
		return -EAGAIN;
	if (w.cnt > IOV_MAX) {
		/* one call or none: a longer iovec is read in windows by svm_store_readv */
		svm_iov_window_free(&w);
		return -EAGAIN;
	}
	n = preadv2(st->fd, w.iov, w.cnt, off, RWF_NOWAIT);
	if (n < 0 && errno == EOPNOTSUPP)
		__atomic_store_n(&st->no_nowait, true, __ATOMIC_RELAXED);
	svm_iov_window_free(&w);
	return n == (ssize_t)len ? 0 : -EAGAIN; /* short, EAGAIN, EOPNOTSUPP: not cached */
}

/*
 * One pwritev2 with O_DIRECT for the whole write: 0 when it wrote all len
 * bytes; -EAGAIN when the caller is to write buffered instead (unaligned,
 * too many iovecs, a short write: all of it again, which leaves the same
 * bytes); another -errno is the store's answer (EIO, ENOSPC) and final. The
 * kernel refusing direct writes (EINVAL; EOPNOTSUPP without RWF_DSYNC)
 * turns them off for the store.
 */
static int write_direct(struct svm_store *st, const struct iovec *iov, size_t iov_cnt,
			uint64_t off, size_t len, bool fua)
{
	struct svm_iov_window w;
	ssize_t n;
	int err;

	if (!direct_window(st, iov, iov_cnt, off, len, &w))
		goto fallback;
	do
		n = pwritev2(st->dfd, w.iov, w.cnt, off, fua ? RWF_DSYNC : 0);
	while (n < 0 && errno == EINTR);
	err = errno;
	svm_iov_window_free(&w);
	if (n == (ssize_t)len) {
		__atomic_add_fetch(&st->direct_wbytes, len, __ATOMIC_RELAXED);
		return 0;
	}
	if (n < 0 && !(err == EINVAL || err == EOPNOTSUPP))
		return -err;
	if (n < 0 && (err == EINVAL || !fua) &&
	    !__atomic_exchange_n(&st->no_direct_write, true, __ATOMIC_RELAXED))
		svm_log(SVM_LOG_WARN, "store %s: a direct write at %llu was refused (%s): writes are "
			"buffered from now on", st->path, (unsigned long long)off, strerror(err));
fallback:
	__atomic_add_fetch(&st->direct_wfallbacks, 1, __ATOMIC_RELAXED);
	return -EAGAIN;
}

static int file_writev(struct svm_store *st, const struct iovec *iov, size_t iov_cnt, uint64_t off,
		       size_t len, bool fua)
{
	int ret;

	if (st->dfd >= 0 && st->dfd_writes && len >= SVM_STORE_DIRECT_WRITE_MIN_BYTES &&
	    !__atomic_load_n(&st->no_direct_write, __ATOMIC_RELAXED)) {
		ret = write_direct(st, iov, iov_cnt, off, len, fua);
		if (ret != -EAGAIN)
			return ret;
	}
	return xfer(st, iov, iov_cnt, off, len, true, fua ? RWF_DSYNC : 0);
}

static int file_flush(struct svm_store *st)
{
	return sync_data(st);
}

void svm_store_count_flush(struct svm_store *st)
{
	__atomic_add_fetch(&st->flushes, 1, __ATOMIC_RELAXED);
}

uint64_t svm_store_flushes(const struct svm_store *st)
{
	return __atomic_load_n(&st->flushes, __ATOMIC_RELAXED);
}

static int file_discard(struct svm_store *st, uint64_t off, uint64_t len)
{
	if (!len)
		return 0;
	if (st->caps & SVM_STORE_CAP_BLOCKDEV) {
		uint64_t range[2] = {off, len};

		return ioctl(st->fd, BLKDISCARD, range) ? -errno : 0;
	}
	return fallocate(st->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len) ? -errno : 0;
}

static int file_extent(struct svm_store *st, uint64_t off, bool *mapped, uint64_t *end)
{
	uint64_t size = svm_store_size(st);
	off_t d, h;

	*mapped = true;
	*end = size;
	if (st->caps & SVM_STORE_CAP_BLOCKDEV)
		return 0;
	d = lseek(st->fd, (off_t)off, SEEK_DATA);
	if (d < 0) {
		if (errno != ENXIO)
			return -errno;
		*mapped = false; /* no data at or after off: a hole to the end */
		return 0;
	}
	if ((uint64_t)d > off) {
		*mapped = false;
		*end = (uint64_t)d;
		return 0;
	}
	h = lseek(st->fd, (off_t)off, SEEK_HOLE);
	if (h < 0)
		return -errno;
	*end = (uint64_t)h;
	return 0;
}

static int file_write_zeroes(struct svm_store *st, uint64_t off, uint64_t len)
{
	if (!len)
		return 0;
	if (st->caps & SVM_STORE_CAP_BLOCKDEV) {
		uint64_t range[2] = {off, len};

		return ioctl(st->fd, BLKZEROOUT, range) ? -errno : 0;
	}
	return fallocate(st->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, off, len) ? -errno : 0;
}

/* A file or device has no single call for either: the LUN's generic paths do them. */
static int file_write_same(struct svm_store *st, uint64_t off, uint64_t len, const void *block,
			   size_t block_len)
{
	(void)st, (void)off, (void)len, (void)block, (void)block_len;
	return -EOPNOTSUPP;
}

static int file_compare_and_write(struct svm_store *st, uint64_t off, uint64_t len, const void *cmp,
				  const void *buf, uint64_t *mismatch)
{
	(void)st, (void)off, (void)len, (void)cmp, (void)buf, (void)mismatch;
	return -EOPNOTSUPP;
}

/* A file or device: the io_uring engine serves it by fd (svm_store_fd). */
static int file_aio(struct svm_store *st, enum svm_store_aio_kind kind, const struct iovec *iov,
		    size_t iov_cnt, uint64_t off, size_t len, bool sync, svm_store_aio_done_fn done,
		    void *arg)
{
	(void)st, (void)kind, (void)iov, (void)iov_cnt, (void)off, (void)len, (void)sync;
	(void)done, (void)arg;
	return -EAGAIN;
}

static int file_grow(struct svm_store *st, uint64_t min_bytes, char **reason)
{
	uint64_t size;
	struct stat sb;

	if (st->caps & SVM_STORE_CAP_BLOCKDEV) {
		if (ioctl(st->fd, BLKGETSIZE64, &size))
			return svm_reason(reason, -errno, "cannot size block device '%s': %s",
					  st->path, strerror(errno));
	} else {
		if (fstat(st->fd, &sb))
			return svm_reason(reason, -errno, "cannot stat store '%s': %s", st->path,
					  strerror(errno));
		size = sb.st_size;
		if (size < min_bytes && ftruncate(st->fd, min_bytes))
			return svm_reason(reason, -errno, "cannot extend store '%s' to %llu bytes: %s",
					  st->path, (unsigned long long)min_bytes, strerror(errno));
		if (size < min_bytes)
			size = min_bytes;
	}
	if (size < min_bytes)
		return svm_reason(reason, -ENOSPC,
				  "block device '%s' holds %llu bytes, less than the %llu bytes asked "
				  "for",
				  st->path, (unsigned long long)size, (unsigned long long)min_bytes);
	__atomic_store_n(&st->size, size, __ATOMIC_RELEASE);
	return 0;
}

static void file_prefetch(struct svm_store *st, uint64_t off, uint64_t len)
{
	(void)posix_fadvise(st->fd, off, len, POSIX_FADV_WILLNEED);
}

uint64_t svm_store_size(const struct svm_store *st)
{
	return __atomic_load_n(&st->size, __ATOMIC_ACQUIRE);
}

uint32_t svm_store_phys_block_size(const struct svm_store *st)
{
	return st->phys_block;
}

unsigned svm_store_caps(const struct svm_store *st)
{
	return st->caps;
}

uint64_t svm_store_direct_bytes(const struct svm_store *st)
{
	return __atomic_load_n(&st->direct_bytes, __ATOMIC_RELAXED);
}

uint64_t svm_store_direct_fallbacks(const struct svm_store *st)
{
	return __atomic_load_n(&st->direct_fallbacks, __ATOMIC_RELAXED);
}

uint64_t svm_store_direct_write_bytes(const struct svm_store *st)
{
	return __atomic_load_n(&st->direct_wbytes, __ATOMIC_RELAXED);
}

uint64_t svm_store_direct_write_fallbacks(const struct svm_store *st)
{
	return __atomic_load_n(&st->direct_wfallbacks, __ATOMIC_RELAXED);
}

int svm_store_fd(const struct svm_store *st)
{
	return st->fd;
}

const char *svm_store_path(const struct svm_store *st)
{
	return st->path;
}

static int rbd_readv(struct svm_store *st, const struct iovec *iov, size_t iov_cnt, uint64_t off,
		     size_t len)
{
	return svm_rbd_readv(st->rbd, iov, iov_cnt, off, len);
}

static int rbd_readv_cached(struct svm_store *st, const struct iovec *iov, size_t iov_cnt,
			    uint64_t off, size_t len)
{
	(void)st, (void)iov, (void)iov_cnt, (void)off, (void)len;
	return -EAGAIN; /* no page cache to look in: a worker reads it */
}

static int rbd_writev(struct svm_store *st, const struct iovec *iov, size_t iov_cnt, uint64_t off,
		      size_t len, bool fua)
{
	return svm_rbd_writev(st->rbd, iov, iov_cnt, off, len, fua);
}

static int rbd_flush(struct svm_store *st)
{
	__atomic_add_fetch(&st->flushes, 1, __ATOMIC_RELAXED);
	return svm_rbd_flush(st->rbd);
}

static int rbd_discard(struct svm_store *st, uint64_t off, uint64_t len)
{
	return svm_rbd_discard(st->rbd, off, len);
}

static int rbd_extent(struct svm_store *st, uint64_t off, bool *mapped, uint64_t *end)
{
	return svm_rbd_extent(st->rbd, off, svm_store_size(st), mapped, end);
}

static int rbd_write_zeroes(struct svm_store *st, uint64_t off, uint64_t len)
{
	return svm_rbd_write_zeroes(st->rbd, off, len);
}

static int rbd_write_same(struct svm_store *st, uint64_t off, uint64_t len, const void *block,
			  size_t block_len)
{
	return svm_rbd_write_same(st->rbd, off, len, block, block_len);
}

static int rbd_compare_and_write(struct svm_store *st, uint64_t off, uint64_t len, const void *cmp,
				 const void *buf, uint64_t *mismatch)
{
	return svm_rbd_compare_and_write(st->rbd, off, len, cmp, buf, mismatch);
}

static int rbd_aio(struct svm_store *st, enum svm_store_aio_kind kind, const struct iovec *iov,
		   size_t iov_cnt, uint64_t off, size_t len, bool sync, svm_store_aio_done_fn done,
		   void *arg)
{
	static const enum svm_rbd_aio_kind kinds[] = {
	    [SVM_STORE_AIO_READ] = SVM_RBD_AIO_READ,
	    [SVM_STORE_AIO_WRITE] = SVM_RBD_AIO_WRITE,
	    [SVM_STORE_AIO_FLUSH] = SVM_RBD_AIO_FLUSH,
	};

	return svm_rbd_aio(st->rbd, kinds[kind], iov, iov_cnt, off, len, sync, done, arg);
}

/* An image is resized with `rbd resize`, never by the handler: measure it again. */
static int rbd_grow(struct svm_store *st, uint64_t min_bytes, char **reason)
{
	uint64_t size;
	int ret = svm_rbd_size(st->rbd, &size);

	if (ret < 0)
		return svm_reason(reason, ret, "cannot size RBD image '%s': %s", st->path,
				  strerror(-ret));
	if (size < min_bytes)
		return svm_reason(reason, -ENOSPC,
				  "RBD image '%s' holds %llu bytes, less than the %llu bytes asked "
				  "for: grow it first with rbd resize",
				  st->path, (unsigned long long)size,
				  (unsigned long long)min_bytes);
	__atomic_store_n(&st->size, size, __ATOMIC_RELEASE);
	return 0;
}

static void rbd_prefetch(struct svm_store *st, uint64_t off, uint64_t len)
{
	(void)st, (void)off, (void)len; /* a hint only: librbd has its own read-ahead */
}

static void rbd_close(struct svm_store *st)
{
	svm_rbd_close(st->rbd);
}

static const struct store_ops file_ops = {
	.kind = "file",
	.readv = file_readv,
	.readv_cached = file_readv_cached,
	.writev = file_writev,
	.flush = file_flush,
	.discard = file_discard,
	.extent = file_extent,
	.write_zeroes = file_write_zeroes,
	.write_same = file_write_same,
	.compare_and_write = file_compare_and_write,
	.aio = file_aio,
	.grow = file_grow,
	.prefetch = file_prefetch,
	.close = file_close,
};

static const struct store_ops rbd_ops = {
	.kind = "RBD",
	.readv = rbd_readv,
	.readv_cached = rbd_readv_cached,
	.writev = rbd_writev,
	.flush = rbd_flush,
	.discard = rbd_discard,
	.extent = rbd_extent,
	.write_zeroes = rbd_write_zeroes,
	.write_same = rbd_write_same,
	.compare_and_write = rbd_compare_and_write,
	.aio = rbd_aio,
	.grow = rbd_grow,
	.prefetch = rbd_prefetch,
	.close = rbd_close,
};

int svm_store_readv(struct svm_store *st, const struct iovec *iov, size_t iov_cnt, uint64_t off,
		    size_t len)
{
	return st->ops->readv(st, iov, iov_cnt, off, len);
}

int svm_store_readv_cached(struct svm_store *st, const struct iovec *iov, size_t iov_cnt,
			   uint64_t off, size_t len)
{
	return st->ops->readv_cached(st, iov, iov_cnt, off, len);
}

int svm_store_writev(struct svm_store *st, const struct iovec *iov, size_t iov_cnt, uint64_t off,
		     size_t len, bool fua)
{
	if (svm_store_fault_write)
		return svm_store_fault_write;
	if (svm_store_fault_write_hold_us)
		fault_hold();
	return st->ops->writev(st, iov, iov_cnt, off, len, fua);
}

int svm_store_aio(struct svm_store *st, enum svm_store_aio_kind kind, const struct iovec *iov,
		  size_t iov_cnt, uint64_t off, size_t len, bool sync, svm_store_aio_done_fn done,
		  void *arg)
{
	/* faults are injected in the blocking calls: let those meet them */
	if (svm_store_fault_write || svm_store_fault_write_hold_us)
		return -EAGAIN;
	return st->ops->aio(st, kind, iov, iov_cnt, off, len, sync, done, arg);
}

int svm_store_flush(struct svm_store *st)
{
	return st->ops->flush(st);
}

int svm_store_discard(struct svm_store *st, uint64_t off, uint64_t len)
{
	return st->ops->discard(st, off, len);
}

int svm_store_extent(struct svm_store *st, uint64_t off, bool *mapped, uint64_t *end)
{
	return st->ops->extent(st, off, mapped, end);
}

int svm_store_write_zeroes(struct svm_store *st, uint64_t off, uint64_t len)
{
	return st->ops->write_zeroes(st, off, len);
}

int svm_store_write_same(struct svm_store *st, uint64_t off, uint64_t len, const void *block,
			 size_t block_len)
{
	if (svm_store_fault_write)
		return svm_store_fault_write;
	return st->ops->write_same(st, off, len, block, block_len);
}

int svm_store_compare_and_write(struct svm_store *st, uint64_t off, uint64_t len, const void *cmp,
				const void *buf, uint64_t *mismatch)
{
	if (svm_store_fault_write)
		return svm_store_fault_write;
	return st->ops->compare_and_write(st, off, len, cmp, buf, mismatch);
}

int svm_store_grow(struct svm_store *st, uint64_t min_bytes, char **reason)
{
	return st->ops->grow(st, min_bytes, reason);
}

void svm_store_prefetch(struct svm_store *st, uint64_t off, uint64_t len)
{
	st->ops->prefetch(st, off, len);
}

bool svm_store_is_rbd(const char *spec)
{
	return svm_rbd_is_spec(spec);
}
