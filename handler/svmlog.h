/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SVM log: one line per event in the life of a migration's mirror device,
 * in the form of ESXi's vmkernel.log `SVM:` lines, into its own file (default
 * /var/log/tcmu-svm.log; the caller picks one per LUN, cfgstring svm_log=).
 *
 *   2016-05-19T12:59:29.720Z cpu17:808643)SVM: 5188: Created device 10a80a6-819390-svmmirror, ...
 *
 * UTC time to the millisecond, the CPU the writing thread runs on, its kernel
 * thread id, then `SVM: ` and the number of the call site (the caller's
 * __LINE__, passed by the macros below). docs/svmlog.md.
 *
 * Each call opens the file (O_APPEND, created 0640), writes its line or block
 * of lines with one write(2) and closes it: lines from concurrent threads and
 * processes never mix, and a file renamed away by logrotate is replaced by a
 * new one at the next line (a copytruncate works too). A migration writes a
 * dozen lines, so the open per call costs nothing that matters.
 *
 * A file that cannot be written is reported once to the handler's log
 * (svm_log, a warning), and again only after a line to that path has got
 * through since (which is logged too); the line is dropped. Nothing here
 * ever fails a migration: the return values are for tests and may be ignored.
 *
 * Thread-safe. No tcmu dependency. Writers block only on the open, write and
 * close of one small local file (a FIFO without a reader is refused, not
 * waited for); svm_svmlog_store_id and svm_svmlog_dev_init resolve a path
 * (realpath) and may block on that lookup.
 */
#ifndef SVM_SVMLOG_H
#define SVM_SVMLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SVM_SVMLOG_DEFAULT "/var/log/tcmu-svm.log"

/* A store id is at most 7 lowercase hex digits; a device name at most 25 characters. */
#define SVM_SVMLOG_ID_LEN  8
#define SVM_SVMLOG_DEV_LEN 32

/*
 * The id of a store: a 28-bit FNV-1a hash (xor-folded from 32 bits) of its
 * canonical path, printed with %x. The canonical path is realpath(path); for
 * a path that does not exist yet, realpath of its directory plus its last
 * component; failing that, path as given. Stable for a path across runs and
 * versions. May block on the path lookup.
 */
uint32_t svm_svmlog_store_id(const char *path);

/* "<p>-<s>-svmmirror" into buf (len >= SVM_SVMLOG_DEV_LEN). Returns buf. Never blocks. */
char *svm_svmlog_dev_name(char *buf, size_t len, uint32_t primary, uint32_t secondary);

/* A mirror device: the ids of its primary (source) and secondary (destination) and its name. */
struct svm_svmlog_dev {
	char primary[SVM_SVMLOG_ID_LEN];
	char secondary[SVM_SVMLOG_ID_LEN];
	char name[SVM_SVMLOG_DEV_LEN];
};

/* Fill dev for a migration from src to dst. May block on the path lookups. */
void svm_svmlog_dev_init(struct svm_svmlog_dev *dev, const char *src, const char *dst);

/*
 * What the mirror device did, written at its end as one block. Fill what the
 * migration knows; zeroes print as 0.
 */
struct svm_svmlog_stats {
	uint64_t reads;		  /* read commands served while the device existed */
	uint64_t writes;	  /* write commands (any kind that changes data) */
	uint64_t mirrored_writes; /* of those, sent to both stores (region already copied) */
	uint64_t waited_writes;	  /* of those, held back while the copy owned their range */
	uint64_t bytes_copied;	  /* by the copy pass, source to destination */
	uint64_t bytes_skipped;	  /* not copied: holes / unallocated ranges of the source */
	const char *mover;	  /* datamover used ("bounce", "kernel", "reflink"); NULL: "-" */
	uint64_t duration_ns;	  /* device created to destroyed */
	uint64_t max_pause_ns;	  /* longest time I/O was held at switchover */
};

/*
 * Every function below writes to the file path (NULL or "": SVM_SVMLOG_DEFAULT)
 * and returns 0, or -errno if the line was dropped (reported once, see above).
 * line is the call-site number printed after `SVM: `; use the macros, which
 * pass __LINE__ (of the macro's name under gcc, of its last line under clang,
 * when a call is wrapped). A line, prefix and '\n' included, is cut to at most
 * 1023 bytes; a newline or other control character in a message is written as
 * a blank.
 */

/* Any message, printf-style. */
int svm_svmlog_printf(const char *path, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define svm_svmlog(path, ...) svm_svmlog_printf(path, __LINE__, __VA_ARGS__)

/*
 * `SVM_MakeDev.<line>: Creating device <dev>: Success`, or
 * `...: Failure: <reason>` when reason is non-NULL.
 */
int svm_svmlog_makedev_at(const char *path, unsigned line, const struct svm_svmlog_dev *dev,
			  const char *reason);
#define svm_svmlog_makedev(path, dev, reason) svm_svmlog_makedev_at(path, __LINE__, dev, reason)

/*
 * Two lines in one write:
 * `Created device <dev>, primary <p>, secondary <s>`
 * `Device <dev>: primary <p> is <src>, secondary <s> is <dst>`
 */
int svm_svmlog_created_at(const char *path, unsigned line, const struct svm_svmlog_dev *dev,
			  const char *src, const char *dst);
#define svm_svmlog_created(path, dev, src, dst) svm_svmlog_created_at(path, __LINE__, dev, src, dst)

/*
 * `Copy started for device <dev>: mover <mover>, size <size> bytes, <to_copy> bytes to copy`
 * (size: the LUN's; to_copy: what the source has allocated, or size if unknown).
 */
int svm_svmlog_copy_start_at(const char *path, unsigned line, const struct svm_svmlog_dev *dev,
			     const char *mover, uint64_t size, uint64_t to_copy);
#define svm_svmlog_copy_start(path, dev, mover, size, to_copy)                                     \
	svm_svmlog_copy_start_at(path, __LINE__, dev, mover, size, to_copy)

/* `Switched over device <dev> to secondary <s>: I/O paused <ms>.<us> ms` */
int svm_svmlog_switchover_at(const char *path, unsigned line, const struct svm_svmlog_dev *dev,
			     uint64_t pause_ns);
#define svm_svmlog_switchover(path, dev, pause_ns)                                                 \
	svm_svmlog_switchover_at(path, __LINE__, dev, pause_ns)

/* `Source <p> of device <dev> deleted: <src>` or `... kept: <src>` */
int svm_svmlog_source_at(const char *path, unsigned line, const struct svm_svmlog_dev *dev,
			 const char *src, bool deleted);
#define svm_svmlog_source(path, dev, src, deleted)                                                 \
	svm_svmlog_source_at(path, __LINE__, dev, src, deleted)

/*
 * `Migration failed on device <dev> during <phase>: <reason>`, then `: <strerror>`
 * when err is a -errno (0: none).
 */
int svm_svmlog_failure_at(const char *path, unsigned line, const struct svm_svmlog_dev *dev,
			  const char *phase, const char *reason, int err);
#define svm_svmlog_failure(path, dev, phase, reason, err)                                          \
	svm_svmlog_failure_at(path, __LINE__, dev, phase, reason, err)

/*
 * Four lines in one write, all with this call site's number:
 * `SVM Mirrored mode IO stats for device: <dev>`
 * `Reads: N, Writes: N, Mirrored writes: N, Writes that waited for copy: N`
 * `Bytes copied: N, Bytes skipped: N, Mover: <mover>, Duration: <s>.<ms> s`
 * `Longest switchover pause: <ms>.<us> ms`
 */
int svm_svmlog_stats_at(const char *path, unsigned line, const struct svm_svmlog_dev *dev,
			const struct svm_svmlog_stats *st);
#define svm_svmlog_stats(path, dev, st) svm_svmlog_stats_at(path, __LINE__, dev, st)

/* `Destroyed device <dev>` */
int svm_svmlog_destroyed_at(const char *path, unsigned line, const struct svm_svmlog_dev *dev);
#define svm_svmlog_destroyed(path, dev) svm_svmlog_destroyed_at(path, __LINE__, dev)

#endif
