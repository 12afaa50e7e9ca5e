/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "mover.h"
#include "../handler/limits.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#define CHUNK ((uint64_t)SVM_MOVER_CHUNK_BYTES)
/* Ring slots of a bounce copy: the chunk being written and those read ahead of it. */
#define BOUNCE_DEPTH 4
/* A ring's memory: BOUNCE_DEPTH chunks, page-aligned (O_DIRECT wants the memory aligned too). */
#define RING_BYTES (BOUNCE_DEPTH * CHUNK)
#define RING_ALIGN 4096
/* Idle rings kept for the next bounce copies (see ring_get). */
#define RING_STASH 2
/* The most one copy_file_range or FICLONERANGE call moves: a multiple of any block size */
#define STEP_BYTES (16 * CHUNK)

struct svm_mover_fault svm_mover_faults[SVM_MOVER_KINDS];

struct side {
	int fd;
	uint64_t off;
	uint64_t size; /* bytes in the file or device when the call began */
	bool reg;      /* a regular file, not a block device */
	dev_t dev;     /* identity: st_dev and st_ino of a file, st_rdev of a device */
	ino_t ino;
};

struct copy {
	struct side src, dst;
	uint64_t len;	   /* of the whole range */
	uint64_t distance; /* overlapping ranges: |dst_off - src_off|; else 0 */
	bool backward;	   /* overlapping, dst_off > src_off: parts and pieces back to front */
	uint64_t blksize;  /* the destination filesystem's block size; 0: no reflink */
	uint64_t deadline_ns;
	uint64_t io;		   /* bounce: bytes per read and write */
	uint64_t steps;		   /* steps begun in this call */
	bool off[SVM_MOVER_KINDS]; /* declined: not tried again in this call */
	struct svm_mover_result *res;
};

/*
 * A mover moves part [pos, pos + len) of the range (positions relative to
 * the offsets), in copy order, adding to *moved the bytes of whole steps
 * it finished. 0 once all are moved, or -errno: a decline (is_decline) or
 * a failure.
 */
typedef int (*mover_fn)(struct copy *c, uint64_t pos, uint64_t len, uint64_t *moved);

static const char *const names[SVM_MOVER_KINDS] = {
    [SVM_MOVER_AUTO] = "auto",
    [SVM_MOVER_BOUNCE] = "bounce",
    [SVM_MOVER_KERNEL] = "kernel",
    [SVM_MOVER_REFLINK] = "reflink",
};

const char *svm_mover_name(enum svm_mover_kind kind)
{
	return (unsigned)kind < SVM_MOVER_KINDS ? names[kind] : "invalid";
}

int svm_mover_parse(const char *name, enum svm_mover_kind *out)
{
	for (unsigned i = 0; name && i < SVM_MOVER_KINDS; i++) {
		if (!strcmp(name, names[i])) {
			*out = (enum svm_mover_kind)i;
			return 0;
		}
	}
	return -EINVAL;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Called before each step: past the deadline, none but the call's first may begin. */
static int step_begin(struct copy *c)
{
	if (c->steps++ && c->deadline_ns && now_ns() >= c->deadline_ns)
		return -ETIMEDOUT;
	return 0;
}

/*
 * The fault-injection seam: the -errno to answer, if any, when the mover
 * has done progress bytes of its current part (and more in earlier ones).
 */
static int injected(const struct copy *c, enum svm_mover_kind kind, uint64_t progress)
{
	const struct svm_mover_fault *f = &svm_mover_faults[kind];

	return f->err && c->res->moved[kind] + progress >= f->after ? f->err : 0;
}

/* Errors that say "not this mover, not for this pair or range", not "the copy failed". */
static bool is_decline(int err)
{
	switch (err) {
	case -EXDEV:
	case -EOPNOTSUPP:
	case -EINVAL:
	case -ENOSYS:
	case -ETXTBSY:
	case -ENOTTY:
	case -EBADF:
		return true;
	default:
		return false;
	}
}

/* Where the next n bytes of part [pos, pos + len) start when done of them are moved. */
static uint64_t next_at(const struct copy *c, uint64_t pos, uint64_t len, uint64_t done, uint64_t n)
{
	return c->backward ? pos + len - done - n : pos + done;
}

static int read_full(int fd, char *buf, uint64_t n, uint64_t off)
{
	while (n) {
		ssize_t r = pread(fd, buf, n, off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO; /* the source ended early: it shrank under us */
		buf += r;
		n -= r;
		off += r;
	}
	return 0;
}

static int write_full(int fd, const char *buf, uint64_t n, uint64_t off)
{
	while (n) {
		ssize_t r = pwrite(fd, buf, n, off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO;
		buf += r;
		n -= r;
		off += r;
	}
	return 0;
}

/*
 * bounce's direct I/O. A bounce copy reads and writes through a second open
 * file of each store, opened O_DIRECT (reopened through /proc/self/fd, so
 * the caller's open file and its flags are left alone), wherever a chunk's
 * offset and length suit it; other chunks, and all of a store that refuses
 * O_DIRECT, go through the caller's fd. Direct I/O moves the data between
 * the device and the ring without the page cache: no copy into and out of
 * the cache, no dirty pages left behind for writeback, and the LUNs' cached
 * data is not pushed out by a bulk copy. The kernel keeps it coherent with
 * the buffered I/O of the handler: a direct read first writes back dirty
 * cached pages of its range, a direct write drops the cached pages of its
 * range (XFS falls back to a buffered write where it cannot).
 */
struct dio {
	int fd;		/* the store opened O_DIRECT; -1: none (buffered only) */
	uint64_t align; /* direct I/O offsets and lengths: multiples of this */
	uint64_t bytes; /* moved by direct I/O in this call */
};

/* Open side s again with O_DIRECT for a copy of len bytes; d->fd -1 if it will not be used. */
static void dio_open(struct dio *d, const struct side *s, bool write, uint64_t len)
{
	struct statx sx;
	char path[40];
	int fd, fl, bs;

	*d = (struct dio){.fd = -1, .align = RING_ALIGN};
	fl = fcntl(s->fd, F_GETFL);
	if (len < CHUNK || fl < 0)
		return; /* a short copy is not worth two more opens */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", s->fd);
	/* a caller's O_SYNC or O_DSYNC holds for the direct writes too */
	fl = (write ? O_WRONLY | (fl & (O_SYNC | O_DSYNC)) : O_RDONLY) | O_DIRECT | O_CLOEXEC;
	fd = open(path, fl);
	if (fd < 0)
		return; /* no /proc, or no O_DIRECT on this filesystem (EINVAL): buffered */
	if (!statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) && (sx.stx_mask & STATX_DIOALIGN)) {
		/* the kernel says (Linux 6.1 on, for some filesystems; 6.11 for block devices) */
		if (!sx.stx_dio_offset_align || sx.stx_dio_mem_align > RING_ALIGN) {
			close(fd);
			return;
		}
		d->align = sx.stx_dio_offset_align;
	} else if (!s->reg && !ioctl(fd, BLKSSZGET, &bs) && bs > 0) {
		d->align = (uint64_t)bs;
	}
	d->fd = fd;
}

static void dio_close(struct dio *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}

/*
 * Read (or write) n bytes of side s at offset off of the store: direct when
 * d has a fd and off and n are aligned to it, else through s->fd. A direct
 * call that fails with EINVAL (the store refuses this direct I/O after
 * all) is done again buffered, and the side stays buffered for the rest of
 * the call: reading or writing the same bytes again is harmless.
 */
static int side_io(const struct side *s, struct dio *d, bool write, char *buf, uint64_t n,
		   uint64_t off)
{
	if (d->fd >= 0 && !(off % d->align) && !(n % d->align)) {
		int ret = write ? write_full(d->fd, buf, n, off) : read_full(d->fd, buf, n, off);

		if (ret != -EINVAL) {
			if (!ret)
				d->bytes += n;
			return ret;
		}
		dio_close(d);
	}
	return write ? write_full(s->fd, buf, n, off) : read_full(s->fd, buf, n, off);
}

/*
 * A ring's memory, RING_BYTES. A new one costs a page fault and a zeroed
 * page for every page the copy touches (a noticeable share of a copy's CPU
 * where page faults are dear, in a VM); so up to RING_STASH idle rings are
 * kept (at most 8 MiB, never given back) for the next copies. NULL when
 * out of memory.
 */
static pthread_mutex_t stash_lock = PTHREAD_MUTEX_INITIALIZER;
static void *stash[RING_STASH];
static unsigned stashed;

static void *ring_get(void)
{
	void *buf = NULL;

	pthread_mutex_lock(&stash_lock);
	if (stashed)
		buf = stash[--stashed];
	pthread_mutex_unlock(&stash_lock);
	if (!buf && posix_memalign(&buf, RING_ALIGN, RING_BYTES))
		buf = NULL;
	return buf;
}

static void ring_put(void *buf)
{
	pthread_mutex_lock(&stash_lock);
	if (stashed < RING_STASH) {
		stash[stashed++] = buf;
		buf = NULL;
	}
	pthread_mutex_unlock(&stash_lock);
	free(buf);
}

/*
 * bounce. The caller's thread reads chunks into a ring of slots; a writer
 * thread writes them out in the same order. The reader never refills a
 * slot before the writer is done with it, and the writer stops at the
 * first error and tells the reader. Either order of copy is safe with
 * read-ahead when ranges overlap: every byte written lies on the far side,
 * in copy order, of every source byte still to be read (and each read or
 * write, direct or not, sees every write that returned before it began).
 */
struct ring {
	struct copy *c;
	char *buf; /* nslots x stride bytes */
	uint64_t stride;
	uint64_t io; /* bytes per read and write: c->io, or less at the end */
	unsigned nslots;
	struct dio rd, wr; /* the reader's (source) and the writer's (destination) */
	pthread_mutex_t lock;
	pthread_cond_t space, data;
	uint64_t filled, drained;  /* chunks read, chunks written */
	uint64_t at[BOUNCE_DEPTH]; /* each slot's chunk: range position and length */
	uint64_t n[BOUNCE_DEPTH];
	bool writing; /* the writer has taken a chunk and not yet written it out */
	bool eof;     /* the reader will fill no more slots */
	int werr;
	uint64_t written; /* bytes of chunks written in full */
};

static void *ring_writer(void *arg)
{
	struct ring *r = arg;
	const struct side *dst = &r->c->dst;

	pthread_mutex_lock(&r->lock);
	for (;;) {
		unsigned s;
		int ret;

		while (r->drained == r->filled && !r->eof)
			pthread_cond_wait(&r->data, &r->lock);
		if (r->drained == r->filled)
			break;
		s = r->drained % r->nslots;
		r->writing = true;
		pthread_mutex_unlock(&r->lock);
		ret = side_io(dst, &r->wr, true, r->buf + s * r->stride, r->n[s],
			      dst->off + r->at[s]);
		pthread_mutex_lock(&r->lock);
		r->writing = false;
		if (ret) {
			r->werr = ret;
			pthread_cond_signal(&r->space);
			break;
		}
		r->written += r->n[s];
		r->drained++;
		pthread_cond_signal(&r->space);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* The reader's side, on the caller's thread, with the writer running. */
static int ring_read(struct ring *r, uint64_t pos, uint64_t len)
{
	struct copy *c = r->c;
	uint32_t overlaps = 0;
	uint64_t rd, n;
	int ret = 0;

	for (rd = 0; rd < len; rd += n) {
		uint64_t at;
		unsigned s;
		bool werr;

		n = min_u64(r->io, len - rd);
		at = next_at(c, pos, len, rd, n);
		pthread_mutex_lock(&r->lock);
		while (r->filled - r->drained == r->nslots && !r->werr)
			pthread_cond_wait(&r->space, &r->lock);
		werr = r->werr;
		s = r->filled % r->nslots;
		overlaps += r->writing;
		pthread_mutex_unlock(&r->lock);
		if (werr)
			break;
		ret = step_begin(c);
		if (!ret)
			ret = injected(c, SVM_MOVER_BOUNCE, rd);
		if (!ret)
			ret = side_io(&c->src, &r->rd, false, r->buf + s * r->stride, n,
				      c->src.off + at);
		if (ret)
			break;
		pthread_mutex_lock(&r->lock);
		r->at[s] = at;
		r->n[s] = n;
		r->filled++;
		pthread_cond_signal(&r->data);
		pthread_mutex_unlock(&r->lock);
	}
	c->res->bounce_overlaps += overlaps;
	return ret;
}

/* One buffer, one thread: a copy of one chunk, or when no writer thread can start. */
static int bounce_serial(struct ring *r, uint64_t pos, uint64_t len, uint64_t *moved)
{
	struct copy *c = r->c;
	uint64_t n;

	for (; *moved < len; *moved += n) {
		uint64_t at;
		int ret;

		n = min_u64(r->io, len - *moved);
		at = next_at(c, pos, len, *moved, n);
		ret = step_begin(c);
		if (!ret)
			ret = injected(c, SVM_MOVER_BOUNCE, *moved);
		if (!ret)
			ret = side_io(&c->src, &r->rd, false, r->buf, n, c->src.off + at);
		if (!ret)
			ret = side_io(&c->dst, &r->wr, true, r->buf, n, c->dst.off + at);
		if (ret)
			return ret;
	}
	return 0;
}

/* Start the writer with every signal blocked: it is ours, not the process's to signal. */
static int start_writer(struct ring *r, pthread_t *tid)
{
	sigset_t all, old;
	int ret;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = -pthread_create(tid, NULL, ring_writer, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

static int bounce(struct copy *c, uint64_t pos, uint64_t len, uint64_t *moved)
{
	uint64_t chunks = (len + c->io - 1) / c->io, fit;
	struct ring r = {
	    .c = c,
	    .io = c->io,
	    /* slots start page-aligned, as direct I/O wants */
	    .stride = (min_u64(c->io, len) + RING_ALIGN - 1) / RING_ALIGN * RING_ALIGN,
	};
	pthread_t tid;
	int ret;

	fit = RING_BYTES / r.stride; /* at least 1: c->io is at most RING_BYTES */
	r.nslots = (unsigned)min_u64(min_u64(chunks, fit), BOUNCE_DEPTH);

	r.buf = ring_get();
	if (!r.buf)
		return -ENOMEM;
	dio_open(&r.rd, &c->src, false, len);
	dio_open(&r.wr, &c->dst, true, len);
	if (r.nslots == 1) {
		ret = bounce_serial(&r, pos, len, moved);
		goto done;
	}
	pthread_mutex_init(&r.lock, NULL);
	pthread_cond_init(&r.space, NULL);
	pthread_cond_init(&r.data, NULL);
	if (start_writer(&r, &tid)) {
		ret = bounce_serial(&r, pos, len, moved);
		goto destroy_ring;
	}
	ret = ring_read(&r, pos, len);
	pthread_mutex_lock(&r.lock);
	r.eof = true;
	pthread_cond_signal(&r.data);
	pthread_mutex_unlock(&r.lock);
	pthread_join(tid, NULL);
	*moved += r.written;
	if (r.werr)
		ret = r.werr; /* it failed at an earlier chunk than any the reader met */

destroy_ring:
	pthread_cond_destroy(&r.data);
	pthread_cond_destroy(&r.space);
	pthread_mutex_destroy(&r.lock);
done:
	c->res->bounce_direct_read += r.rd.bytes;
	c->res->bounce_direct_written += r.wr.bytes;
	dio_close(&r.rd);
	dio_close(&r.wr);
	ring_put(r.buf);
	return ret;
}

/* Why copy_file_range returned 0 at src position at: the source ended (-EIO) or it declines. */
static int kernel_stopped(const struct copy *c, uint64_t at)
{
	uint64_t size;
	struct stat sb;

	if (c->src.reg) {
		if (fstat(c->src.fd, &sb))
			return -errno;
		size = sb.st_size;
	} else if (ioctl(c->src.fd, BLKGETSIZE64, &size)) {
		return -errno;
	}
	return size <= c->src.off + at ? -EIO : -EOPNOTSUPP;
}

/*
 * The longest piece one kernel or reflink call may move: a step, and for
 * overlapping ranges no more than their distance, so that no call overlaps
 * itself. Each piece is finished before the next begins (one left half
 * done by a decline is moved again whole by the next mover, which is safe:
 * its writes never reach its own source). 0, or -EOPNOTSUPP for a distance
 * under a chunk (too many calls: bounce does better).
 */
static int piece_cap(const struct copy *c, uint64_t *cap)
{
	*cap = STEP_BYTES;
	if (!c->distance)
		return 0;
	if (c->distance < CHUNK)
		return -EOPNOTSUPP;
	*cap = min_u64(*cap, c->distance);
	return 0;
}

static int kernel(struct copy *c, uint64_t pos, uint64_t len, uint64_t *moved)
{
	uint64_t cap;
	int ret;

	ret = piece_cap(c, &cap);
	while (!ret && *moved < len) {
		uint64_t n = min_u64(cap, len - *moved), at = next_at(c, pos, len, *moved, n);
		uint64_t got = 0;

		ret = step_begin(c);
		while (!ret && got < n) {
			loff_t in = c->src.off + at + got, out = c->dst.off + at + got;
			ssize_t r;

			ret = injected(c, SVM_MOVER_KERNEL, *moved + got);
			if (ret)
				break;
			r = copy_file_range(c->src.fd, &in, c->dst.fd, &out, n - got, 0);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				ret = -errno;
			else if (r == 0)
				ret = kernel_stopped(c, at + got);
			else
				got += r;
		}
		if (!ret)
			*moved += n;
	}
	return ret;
}

/*
 * Whether FICLONERANGE can take part [pos, pos + len): regular files,
 * both starts on a block boundary, and the length a whole number of
 * blocks unless the part ends the source at its EOF and the destination
 * at or past its EOF (the kernel's generic_remap_checks and
 * generic_remap_check_len). -EINVAL (as the kernel would answer) if not.
 */
static int reflink_fits(const struct copy *c, uint64_t pos, uint64_t len)
{
	uint64_t bs = c->blksize;
	bool eof_tail = pos + len == c->len && c->src.off + c->len == c->src.size &&
			c->dst.off + c->len >= c->dst.size;

	if (!c->src.reg || !c->dst.reg || !bs)
		return -EINVAL;
	if ((c->src.off + pos) % bs || (c->dst.off + pos) % bs || (len % bs && !eof_tail))
		return -EINVAL;
	return 0;
}

static int reflink(struct copy *c, uint64_t pos, uint64_t len, uint64_t *moved)
{
	uint64_t bs = c->blksize, cap;
	int ret;

	ret = reflink_fits(c, pos, len);
	if (!ret)
		ret = piece_cap(c, &cap); /* the distance is a whole number of blocks here */
	while (!ret && *moved < len) {
		uint64_t left = len - *moved, n, at;
		struct file_clone_range fcr;

		/* each piece starts on a block boundary; only the range's last may be partial */
		if (!c->backward)
			n = min_u64(cap, left);
		else
			n = left > cap ? left - (left - cap + bs - 1) / bs * bs : left;
		at = next_at(c, pos, len, *moved, n);
		fcr = (struct file_clone_range){
		    .src_fd = c->src.fd,
		    .src_offset = c->src.off + at,
		    .src_length = n, /* never 0, which would mean "to the source's EOF" */
		    .dest_offset = c->dst.off + at,
		};
		ret = step_begin(c);
		if (!ret)
			ret = injected(c, SVM_MOVER_REFLINK, *moved);
		while (!ret && ioctl(c->dst.fd, FICLONERANGE, &fcr))
			if (errno != EINTR)
				ret = -errno;
		if (!ret)
			*moved += n;
	}
	return ret;
}

static const mover_fn movers[SVM_MOVER_KINDS] = {
    [SVM_MOVER_BOUNCE] = bounce,
    [SVM_MOVER_KERNEL] = kernel,
    [SVM_MOVER_REFLINK] = reflink,
};

/*
 * Move part [pos, pos + len) with the movers of chain in turn: each takes
 * over where the one before declined. bounce never declines.
 */
static int run_part(struct copy *c, const enum svm_mover_kind *chain, unsigned count, uint64_t pos,
		    uint64_t len)
{
	int ret = -EOPNOTSUPP;

	for (unsigned i = 0; i < count && len; i++) {
		enum svm_mover_kind k = chain[i];
		uint64_t moved = 0;

		if (c->off[k])
			continue;
		ret = movers[k](c, pos, len, &moved);
		c->res->moved[k] += moved;
		c->res->done += moved;
		len -= moved;
		if (!c->backward)
			pos += moved;
		if (!ret || k == SVM_MOVER_BOUNCE || !is_decline(ret))
			return ret;
		c->off[k] = true;
		c->res->declined[k] = ret;
		ret = -EOPNOTSUPP;
	}
	return len ? ret : 0;
}

/*
 * auto: the range as head, middle and tail. The middle is the part reflink
 * may clone: from the first block boundary of both offsets (they must be
 * equally aligned), whole blocks, and the partial last block too where the
 * EOF rule allows. Head and tail go to kernel, then bounce. Parts go in
 * copy order.
 */
static int copy_auto(struct copy *c)
{
	static const enum svm_mover_kind fast[] = {SVM_MOVER_REFLINK, SVM_MOVER_KERNEL,
						   SVM_MOVER_BOUNCE};
	static const enum svm_mover_kind rest[] = {SVM_MOVER_KERNEL, SVM_MOVER_BOUNCE};
	uint64_t bs = c->blksize, head = 0, mid = 0, pos[3], len[3];
	int ret;

	if (c->src.reg && c->dst.reg && bs && c->src.off % bs == c->dst.off % bs) {
		head = min_u64((bs - c->src.off % bs) % bs, c->len);
		mid = (c->len - head) / bs * bs;
		if (head + mid < c->len && !reflink_fits(c, head, c->len - head))
			mid = c->len - head;
	}
	if (!mid) {
		c->off[SVM_MOVER_REFLINK] = true;
		c->res->declined[SVM_MOVER_REFLINK] = -EINVAL;
	}
	pos[0] = 0;
	len[0] = head;
	pos[1] = head;
	len[1] = mid;
	pos[2] = head + mid;
	len[2] = c->len - head - mid;
	for (unsigned i = 0; i < 3; i++) {
		unsigned p = c->backward ? 2 - i : i;

		if (p == 1)
			ret = run_part(c, fast, 3, pos[p], len[p]);
		else
			ret = run_part(c, rest, 2, pos[p], len[p]);
		if (ret)
			return ret;
	}
	return 0;
}

/* Check and describe one side. 0, or -EINVAL (not a file or device), -EBADF (wrong mode). */
static int get_side(struct side *s, int fd, uint64_t off, bool write)
{
	struct stat sb;
	int fl;

	s->fd = fd;
	s->off = off;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fstat(fd, &sb))
		return -errno;
	if (fl & O_PATH)
		return -EBADF;
	if (write ? (fl & O_ACCMODE) == O_RDONLY || (fl & O_APPEND) : (fl & O_ACCMODE) == O_WRONLY)
		return -EBADF;
	if (S_ISREG(sb.st_mode)) {
		s->reg = true;
		s->size = sb.st_size;
		s->dev = sb.st_dev;
		s->ino = sb.st_ino;
		return 0;
	}
	if (!S_ISBLK(sb.st_mode))
		return -EINVAL;
	s->dev = sb.st_rdev;
	return ioctl(fd, BLKGETSIZE64, &s->size) ? -errno : 0;
}

/* The block size reflink aligns to: the filesystem's, a power of two up to one chunk; else 0. */
static uint64_t clone_block_size(const struct side *dst)
{
	struct statfs sf;
	uint64_t bs;

	if (!dst->reg || fstatfs(dst->fd, &sf))
		return 0;
	bs = (uint64_t)sf.f_bsize;
	return bs >= 512 && bs <= CHUNK && !(bs & (bs - 1)) ? bs : 0;
}

int svm_mover_copy(const struct svm_mover_req *req, struct svm_mover_result *res)
{
	struct svm_mover_result scratch;
	struct copy c = {.res = res ? res : &scratch};
	const uint64_t max = INT64_MAX;
	int ret;

	memset(c.res, 0, sizeof(*c.res));
	if ((unsigned)req->want >= SVM_MOVER_KINDS)
		return -EINVAL;
	ret = get_side(&c.src, req->src_fd, req->src_off, false);
	if (!ret)
		ret = get_side(&c.dst, req->dst_fd, req->dst_off, true);
	if (ret)
		return ret;
	if (req->len > max || req->src_off > max - req->len || req->dst_off > max - req->len ||
	    req->src_off + req->len > c.src.size)
		return -EINVAL;
	if (!c.dst.reg && req->dst_off + req->len > c.dst.size)
		return -ENOSPC;
	if (!req->len)
		return 0;
	c.len = req->len;
	c.deadline_ns = req->deadline_ns;
	c.io = req->io_bytes ? min_u64(req->io_bytes, RING_BYTES) : CHUNK;
	if (c.src.reg == c.dst.reg && c.src.dev == c.dst.dev && c.src.ino == c.dst.ino) {
		uint64_t lo = min_u64(req->src_off, req->dst_off);
		uint64_t hi = req->src_off > req->dst_off ? req->src_off : req->dst_off;

		if (lo == hi) {
			c.res->done = c.len; /* the range onto itself */
			return 0;
		}
		if (hi - lo < c.len) {
			c.distance = hi - lo;
			c.backward = req->dst_off > req->src_off;
		}
	}
	c.res->backward = c.backward;
	c.blksize = c.src.reg ? clone_block_size(&c.dst) : 0;
	if (req->want == SVM_MOVER_AUTO)
		return copy_auto(&c);
	return run_part(&c, &req->want, 1, 0, c.len);
}
