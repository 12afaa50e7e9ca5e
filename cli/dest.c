/* SPDX-License-Identifier: Apache-2.0 */
/* A migration destination's checks on the svmctl side (see dest.h). */
#define _GNU_SOURCE
#include "dest.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int reason_set(char **reason, int err, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static int reason_set(char **reason, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	*reason = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	return err;
}

bool cli_dest_is_rbd(const char *path)
{
	return !strncmp(path, "rbd/", 4);
}

/*
 * rbd/<pool>/<image>: two names, neither empty, holding no '/', '@' (a
 * snapshot), cfgstring separator, blank or control character. The handler
 * checks the rest (lengths, the cluster).
 */
static int check_rbd_syntax(const char *path, char **reason)
{
	const char *pool = path + 4, *image = strchr(pool, '/');

	if (!image || image == pool || !image[1] || strchr(image + 1, '/'))
		return reason_set(reason, -EINVAL,
				  "destination '%s' is not an RBD store of the form "
				  "rbd/<pool>/<image>",
				  path);
	for (const char *c = pool; *c; c++)
		if (*c == '@' || *c == ',' || *c == ';' || *c == ':' || g_ascii_isspace(*c) ||
		    g_ascii_iscntrl(*c))
			return reason_set(reason, -EINVAL,
					  "destination '%s' holds a '%c', which an RBD store "
					  "name here cannot (no snapshots, nothing a cfgstring "
					  "cannot carry)",
					  path, g_ascii_isprint(*c) ? *c : '?');
	return 0;
}

int cli_dest_check_syntax(const char *path, char **reason)
{
	const char *c;

	if (!*path)
		return reason_set(reason, -EINVAL, "the destination path is empty");
	if (cli_dest_is_rbd(path))
		return check_rbd_syntax(path, reason);
	if (path[0] != '/')
		return reason_set(
		    reason, -EINVAL,
		    "destination '%s' is a relative path: give an absolute one (the "
		    "handler runs in tcmu-runner, whose working directory is not yours)",
		    path);
	if (strlen(path) > CLI_DEST_PATH_MAX)
		return reason_set(reason, -ENAMETOOLONG,
				  "destination '%s' is %zu bytes long: the LUN's configuration "
				  "string, which names it after the switchover, holds at most %d",
				  path, strlen(path), CLI_DEST_PATH_MAX);
	for (c = path; *c; c++) {
		if (*c == ',' || *c == ';' || *c == ':')
			return reason_set(reason, -EINVAL,
					  "destination '%s' holds a '%c', which a cfgstring cannot "
					  "carry (docs/cfgstring.md)",
					  path, *c);
		if (g_ascii_isspace(*c) || g_ascii_iscntrl(*c))
			return reason_set(reason, -EINVAL,
					  "destination '%s' holds white space or a control "
					  "character, which a cfgstring cannot carry",
					  path);
	}
	return 0;
}

static const struct signature {
	const char *name;
	uint32_t offset;
	uint8_t len;
	const char *magic;
} signatures[] = {
    {"an LVM physical volume", 0, 8, "LABELONE"},
    {"an LVM physical volume", 512, 8, "LABELONE"},
    {"an LVM physical volume", 1024, 8, "LABELONE"},
    {"an LVM physical volume", 1536, 8, "LABELONE"},
    {"a LUKS encrypted volume", 0, 6, "LUKS\xba\xbe"},
    {"an XFS filesystem", 0, 4, "XFSB"},
    {"a squashfs filesystem", 0, 4, "hsqs"},
    {"a Linux RAID (md 1.1) member", 0, 4, "\xfc\x4e\x2b\xa9"},
    {"a Linux RAID (md 1.2) member", 4096, 4, "\xfc\x4e\x2b\xa9"},
    {"a bcache device", 4096 + 24, 16,
     "\xc6\x85\x73\xf6\x4e\x1a\x45\xca\x82\x65\xf5\x7f\x48\xba\x6d\x81"},
    {"an ext2/3/4 filesystem", 1080, 2, "\x53\xef"},
    {"an F2FS filesystem", 1024, 4, "\x10\x20\xf5\xf2"},
    {"a btrfs filesystem", 65600, 8, "_BHRfS_M"},
    {"a ZFS pool member", 131072, 8, "\x0c\xb1\xba\x00\x00\x00\x00\x00"},
    {"a ZFS pool member", 131072, 8, "\x00\x00\x00\x00\x00\xba\xb1\x0c"},
    {"an ISO 9660 filesystem", 32769, 5, "CD001"},
    {"swap space", 4086, 10, "SWAPSPACE2"},
    {"swap space", 8182, 10, "SWAPSPACE2"},
    {"swap space", 16374, 10, "SWAPSPACE2"},
    {"swap space", 65526, 10, "SWAPSPACE2"},
    {"swap space", 4086, 10, "SWAP-SPACE"},
    {"a GPT partition table", 512, 8, "EFI PART"},
    {"a GPT partition table", 4096, 8, "EFI PART"},
    {"an NTFS filesystem", 3, 8, "NTFS    "},
    {"a FAT filesystem", 54, 5, "FAT12"},
    {"a FAT filesystem", 54, 5, "FAT16"},
    {"a FAT filesystem", 82, 5, "FAT32"},
    {"a DOS partition table or boot sector", 510, 2, "\x55\xaa"},
};

#define HEAD_BYTES (136u << 10) /* covers every offset above */
#define MD_MAGIC   "\xfc\x4e\x2b\xa9"

static bool magic_at(int fd, uint64_t size, uint64_t offset)
{
	char buf[4];

	return offset + 4 <= size && pread(fd, buf, 4, (off_t)offset) == 4 &&
	       !memcmp(buf, MD_MAGIC, 4);
}

const char *cli_dest_signature(int fd, uint64_t size)
{
	char *head = g_malloc0(HEAD_BYTES);
	const char *found = NULL;
	size_t got = 0;
	ssize_t n;

	while (got < HEAD_BYTES) {
		n = pread(fd, head + got, HEAD_BYTES - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(signatures) && !found; i++)
		if (signatures[i].offset + signatures[i].len <= got &&
		    !memcmp(head + signatures[i].offset, signatures[i].magic, signatures[i].len))
			found = signatures[i].name;
	g_free(head);
	/* md 0.90 keeps its superblock in the last 64 KiB-aligned 64 KiB, md 1.0 8 KiB from the
	 * end. */
	if (!found && size >= 128u << 10 &&
	    magic_at(fd, size, (size & ~(uint64_t)0xffff) - 0x10000))
		found = "a Linux RAID (md 0.90) member";
	if (!found && size >= 16u << 10 && magic_at(fd, size, (size - 8192) & ~(uint64_t)4095))
		found = "a Linux RAID (md 1.0) member";
	return found;
}

static uint64_t blockdev_size(int fd)
{
	off_t end = lseek(fd, 0, SEEK_END);

	return end > 0 ? (uint64_t)end : 0;
}

static int check_blockdev(const char *path, char **reason)
{
	const char *sig;
	int fd, err;

	/* O_EXCL on a block device: EBUSY while it is mounted or held (LVM, RAID, a LUN). */
	fd = open(path, O_RDONLY | O_EXCL | O_CLOEXEC);
	if (fd < 0 && errno == EBUSY)
		return reason_set(reason, -EBUSY,
				  "destination '%s' is in use: mounted, held by LVM, RAID or "
				  "device-mapper, or open by another program (a LUN's store?)",
				  path);
	if (fd < 0) {
		err = errno;
		return reason_set(reason, -err, "cannot open destination '%s': %s", path,
				  g_strerror(err));
	}
	sig = cli_dest_signature(fd, blockdev_size(fd));
	close(fd);
	if (sig)
		return reason_set(
		    reason, -EEXIST,
		    "destination '%s' holds %s: svmctl never overwrites data; if "
		    "nothing on it is needed, erase the signature first (wipefs -a %s)",
		    path, sig, path);
	return 0;
}

int cli_dest_check_place(const char *path, char **reason)
{
	char *dir;
	struct stat st;
	int ret = 0, err;

	if (cli_dest_is_rbd(path))
		return 0; /* in a Ceph cluster: the handler looks, with the LUN's conf= and id= */
	dir = g_path_get_dirname(path);

	if (stat(dir, &st)) {
		err = errno;
		ret = reason_set(reason, -err,
				 err == ENOENT
				     ? "the directory '%s' of destination '%s' does not "
				       "exist: create it first, or choose another path"
				     : "cannot reach the directory '%s' of destination '%s'",
				 dir, path);
		goto free_dir;
	}
	if (!S_ISDIR(st.st_mode)) {
		ret = reason_set(reason, -ENOTDIR,
				 "'%s', the directory of destination '%s', is "
				 "not a directory",
				 dir, path);
		goto free_dir;
	}
	if (lstat(path, &st)) {
		err = errno;
		if (err != ENOENT)
			ret = reason_set(reason, -err, "cannot look at destination '%s': %s", path,
					 g_strerror(err));
		goto free_dir; /* nothing there: the handler creates it */
	}
	if (S_ISLNK(st.st_mode) && stat(path, &st)) {
		ret =
		    reason_set(reason, -ENOENT,
			       "destination '%s' is a symbolic link to a file that does not exist: "
			       "name the file itself",
			       path);
		goto free_dir;
	}
	if (S_ISDIR(st.st_mode))
		ret = reason_set(
		    reason, -EISDIR,
		    "destination '%s' is a directory: name a file in it (say, %s/<lun>.img)", path,
		    strcmp(path, "/") ? path : "");
	else if (S_ISREG(st.st_mode) && st.st_size > 0)
		ret = reason_set(
		    reason, -EEXIST,
		    "destination '%s' exists and is not empty (%lld bytes): svmctl never "
		    "overwrites a file; remove it or choose another path",
		    path, (long long)st.st_size);
	else if (S_ISBLK(st.st_mode))
		ret = check_blockdev(path, reason);
	else if (!S_ISREG(st.st_mode))
		ret = reason_set(reason, -EINVAL,
				 "destination '%s' is not a regular file or a block device", path);
free_dir:
	g_free(dir);
	return ret;
}

/* realpath() of a path that may not exist yet: its directory's, plus its last name. */
static char *canonical(const char *path)
{
	char *dir, *base, *real, *out;

	real = realpath(path, NULL);
	if (real) {
		out = g_strdup(real);
		free(real);
		return out;
	}
	dir = g_path_get_dirname(path);
	base = g_path_get_basename(path);
	real = realpath(dir, NULL);
	out = real ? g_build_filename(real, base, NULL) : g_canonicalize_filename(path, "/");
	free(real);
	g_free(dir);
	g_free(base);
	return out;
}

int cli_dest_check_not_source(const char *path, const char *source, char **reason)
{
	struct stat d, s;
	char *cd, *cs;
	bool same;

	if (cli_dest_is_rbd(path) || cli_dest_is_rbd(source)) {
		same = !strcmp(path, source); /* one pool, one image name */
	} else if (!stat(path, &d) && !stat(source, &s)) {
		if (S_ISBLK(d.st_mode) && S_ISBLK(s.st_mode))
			same = d.st_rdev == s.st_rdev;
		else
			same = d.st_dev == s.st_dev && d.st_ino == s.st_ino;
	} else {
		cd = canonical(path);
		cs = canonical(source);
		same = !strcmp(cd, cs);
		g_free(cd);
		g_free(cs);
	}
	if (same)
		return reason_set(
		    reason, -EINVAL,
		    "destination '%s' is the LUN's source store '%s'%s: choose another "
		    "path",
		    path, source, strcmp(path, source) ? " (another name for it)" : "");
	return 0;
}
