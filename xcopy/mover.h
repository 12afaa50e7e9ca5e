/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Datamovers: copy a byte range from one file descriptor to another, or
 * within one, by the three tiers of VMware's Storage vMotion:
 *
 *   bounce   (fsdm) the data comes up into this process: read into a
 *            buffer and written back, SVM_MOVER_CHUNK_BYTES (handler/limits.h)
 *            at a time unless the request asks for more (io_bytes), by two
 *            threads so that the read of one chunk runs
 *            while an earlier one is written (a ring of up to 4 chunks, so
 *            4 MiB of memory per copy; up to two idle rings are kept for the
 *            next copies). Each chunk whose offset and length suit the store
 *            is read or written with O_DIRECT, through a second open file of
 *            the store that the call opens and closes (below). Works for
 *            every pair.
 *   kernel   (fs3dm) copy_file_range(2) in a loop: the kernel moves the data,
 *            which never enters this process. Needs a pair the running kernel
 *            copies: regular files on both sides (block devices get EINVAL
 *            through at least Linux 6.18) and, across filesystems, only where
 *            the kernel allows it (EXDEV otherwise). The filesystem may clone
 *            or offload such a copy by itself (XFS, btrfs, NFS 4.2): faster,
 *            but nothing here promises it.
 *   reflink  (hardware offload) the FICLONERANGE ioctl only: the destination
 *            range comes to share the source's blocks, a metadata change
 *            with no data read or written and no new data blocks. Needs
 *            both regular files on one filesystem that clones (XFS with
 *            reflink=1, btrfs), both offsets aligned to its block size, and
 *            the length too, unless the source range ends at the source's
 *            EOF and the destination range ends at or past the destination's
 *            EOF (the kernel's rule for a partial last block). A copy_file_range
 *            that happens to clone is the kernel mover, never this one.
 *   auto     the fastest that works for the pair and range: reflink for the
 *            block-aligned middle when both offsets are equally aligned
 *            (with the EOF tail when the rule above allows), kernel for the
 *            rest, bounce for what the others decline.
 *
 * Sources and destinations: a regular file or a block device on each side,
 * opened for reading (source) and writing without O_APPEND (destination).
 * Their file offsets are neither used nor moved. The source range must lie
 * within the source; a file destination grows as the copy writes past its
 * end, a block device destination must hold the range. The fds are used
 * for buffered I/O: with O_DIRECT fds the offsets and length must suit the
 * device. Holes in a source are copied as zeroes by bounce and kernel
 * (reflink keeps them).
 *
 * Direct I/O (bounce). A bounce call of at least SVM_MOVER_CHUNK_BYTES opens
 * each store again through /proc/self/fd with O_DIRECT and moves the chunks
 * whose store offset and length are multiples of the store's direct I/O
 * alignment (statx STATX_DIOALIGN, else the logical block size of a block
 * device, else 4096) through it, the rest through the caller's fd. A store
 * that cannot be opened so, or that refuses a direct read or write with
 * EINVAL, is read or written buffered for the rest of the call. The kernel
 * keeps direct and buffered I/O of a file coherent (a direct read writes
 * back the dirty cached pages of its range first, a direct write drops the
 * cached pages of its range), so the caller sees no difference but speed:
 * the data goes between the device and the buffer without a copy through
 * the page cache, leaves no dirty pages to write back after the call, and
 * does not push the stores' cached data out.
 *
 * Declining. A mover declines a pair or range it cannot do: its rules
 * above do not hold, or its syscall fails with EXDEV, EOPNOTSUPP, EINVAL,
 * ENOSYS, ETXTBSY, ENOTTY or EBADF, or copy_file_range ends early (returns
 * 0) before the source's end. auto then moves what is left with the next
 * mover, reflink -> kernel -> bounce (a declined one is not tried again in
 * that call); a pinned mover (BOUNCE, KERNEL, REFLINK) returns -EOPNOTSUPP
 * instead, and no other mover touches the data. Any other error (EIO,
 * ENOSPC, EFBIG, ENOMEM...) ends the call, whichever mover met it.
 *
 * One file on both sides (the same fd, or two fds of one inode or block
 * device; not recognised: a partition and its disk, two nodes of one
 * device). Ranges that do not overlap copy as between two files.
 * Overlapping ranges copy as if the whole source range were read before any
 * of the destination is written (SPC-4 EXTENDED COPY; memmove): front to
 * back when dst_off < src_off, back to front ("backward") when dst_off >
 * src_off. kernel and reflink then work in pieces no longer than the
 * distance |dst_off - src_off|, as the kernel refuses a call whose ranges
 * overlap, and decline a distance under SVM_MOVER_CHUNK_BYTES (auto then
 * uses bounce). Identical ranges need no I/O at all: done is len, nothing
 * is moved.
 *
 * Limits. The caller splits long copies into calls of its own size; a
 * deadline ends one early (see struct svm_mover_req). The work goes in
 * steps: a bounce chunk, or one kernel or reflink call of at most
 * 16 x SVM_MOVER_CHUNK_BYTES.
 *
 * No tcmu dependency. Every function is safe to call from many threads at
 * once, on the same fds too.
 */
#ifndef SVM_MOVER_H
#define SVM_MOVER_H

#include <stdbool.h>
#include <stdint.h>

enum svm_mover_kind {
	SVM_MOVER_AUTO,
	SVM_MOVER_BOUNCE,
	SVM_MOVER_KERNEL,
	SVM_MOVER_REFLINK,
};
#define SVM_MOVER_KINDS 4

/* "auto", "bounce", "kernel", "reflink"; "invalid" for any other value. Never blocks. */
const char *svm_mover_name(enum svm_mover_kind kind);
/* The kind named name (exactly as svm_mover_name spells it): 0, or -EINVAL. Never blocks. */
int svm_mover_parse(const char *name, enum svm_mover_kind *out);

struct svm_mover_req {
	enum svm_mover_kind want; /* AUTO, or one mover pinned */
	int src_fd;
	uint64_t src_off;
	int dst_fd;
	uint64_t dst_off;
	uint64_t len;
	/*
	 * CLOCK_MONOTONIC time in ns (0: none) after which no new step
	 * starts: the call returns -ETIMEDOUT once the steps under way are
	 * written (for bounce, up to 4 chunks read ahead). The first step
	 * always runs, so every call makes progress.
	 */
	uint64_t deadline_ns;
	/*
	 * bounce: bytes each read and write moves (0: SVM_MOVER_CHUNK_BYTES),
	 * at most the ring's 4 x SVM_MOVER_CHUNK_BYTES (more is taken as
	 * that); the ring then holds fewer, larger slots, and a copy of at
	 * most io_bytes is one read and one write on the caller's thread.
	 * Fewer, larger requests where each costs a round trip (a loop
	 * device, a VM). A multiple of the stores' direct I/O alignment keeps
	 * every piece direct.
	 */
	uint64_t io_bytes;
};

struct svm_mover_result {
	/*
	 * Bytes of the range copied, in whole steps and in copy order: the
	 * first done bytes of the range, or the last done bytes when
	 * backward. After -ETIMEDOUT exactly these are copied and the rest of
	 * the source is as it was, overlapping or not: a call for the
	 * remaining len - done bytes (at src_off + done and dst_off + done,
	 * or at the same offsets when backward) completes the copy. After
	 * another error the destination range holds undefined data beyond
	 * done, and, for overlapping ranges, so may the overlapped source.
	 */
	uint64_t done;
	/* Of done, the bytes each mover moved; moved[SVM_MOVER_AUTO] stays 0. */
	uint64_t moved[SVM_MOVER_KINDS];
	/* The -errno with which each mover declined (see above), 0 if it did not. */
	int declined[SVM_MOVER_KINDS];
	/* Chunks that bounce read while a write of an earlier one was under way. */
	uint32_t bounce_overlaps;
	/* Bytes bounce read from the source and wrote to the destination with O_DIRECT. */
	uint64_t bounce_direct_read, bounce_direct_written;
	bool backward; /* overlapping ranges, dst_off > src_off: copied back to front */
};

/*
 * Copy req->len bytes from req->src_fd at req->src_off to req->dst_fd at
 * req->dst_off with req->want. Blocks until done (for a bounce copy of
 * more than one chunk, on a thread of its own and the caller's). Returns
 * 0 with res->done == len; -ETIMEDOUT past the deadline; -EOPNOTSUPP when
 * a pinned mover declines; -EINVAL for a bad kind, a fd that is not a
 * regular file or block device, a range past 2^63 or a source range
 * that ends past the source; -EBADF for a fd that cannot be read (source)
 * or written (destination, or O_APPEND); -ENOSPC when a block device
 * destination is too small; or the -errno of the I/O that failed. res
 * (may be NULL) is filled in every case.
 */
int svm_mover_copy(const struct svm_mover_req *req, struct svm_mover_result *res);

/*
 * Fault-injection seam for the unit tests (tests/unit), never set by the
 * handler: while svm_mover_faults[kind].err is non-zero, that mover's data
 * syscall (bounce: the read of a chunk; kernel: copy_file_range; reflink:
 * FICLONERANGE) answers it instead of running, once the mover has moved
 * (bounce: read) at least .after bytes in the current call. Say
 * {-EXDEV, 0} for a reflink between filesystems, {-EINVAL, 0} for a
 * copy_file_range on block devices, {-EIO, 3 << 20} for a disk failing
 * 3 MiB in. Set it only while no copy runs.
 */
struct svm_mover_fault {
	int err;
	uint64_t after;
};
extern struct svm_mover_fault svm_mover_faults[SVM_MOVER_KINDS];

#endif
