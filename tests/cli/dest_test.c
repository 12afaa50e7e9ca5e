/* SPDX-License-Identifier: Apache-2.0 */
/* cli/dest.c: what svmctl refuses as a destination before the handler hears of it. */
#define _GNU_SOURCE
#include "test.h"
#include "../../cli/dest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* check returns err and a reason holding why; or 0 and no reason when err is 0. */
#define CHECK_DEST(call, err, why)                                                                 \
	do {                                                                                       \
		char *reason = NULL;                                                               \
		int ret = (call);                                                                  \
		CHECK_EQ(ret, err);                                                                \
		if (err)                                                                           \
			CHECK_HAS(reason, why);                                                    \
		else                                                                               \
			CHECK(reason == NULL);                                                     \
		g_free(reason);                                                                    \
	} while (0)

static void syntax(void)
{
	char *long_path = g_strnfill(CLI_DEST_PATH_MAX + 1, 'a');

	long_path[0] = '/';

	CHECK_DEST(cli_dest_check_syntax("/var/lib/svm/b.img", &reason), 0, "");
	CHECK_DEST(cli_dest_check_syntax("b.img", &reason), -EINVAL, "is a relative path");
	CHECK_DEST(cli_dest_check_syntax("./b.img", &reason), -EINVAL, "is a relative path");
	CHECK_DEST(cli_dest_check_syntax("", &reason), -EINVAL, "empty");
	/* RBD destinations: the form only; the handler asks the cluster */
	CHECK_DEST(cli_dest_check_syntax("rbd/svm/lun1", &reason), 0, "");
	CHECK_DEST(cli_dest_check_syntax("rbd/svm", &reason), -EINVAL, "rbd/<pool>/<image>");
	CHECK_DEST(cli_dest_check_syntax("rbd//lun1", &reason), -EINVAL, "rbd/<pool>/<image>");
	CHECK_DEST(cli_dest_check_syntax("rbd/svm/", &reason), -EINVAL, "rbd/<pool>/<image>");
	CHECK_DEST(cli_dest_check_syntax("rbd/svm/ns/lun1", &reason), -EINVAL,
		   "rbd/<pool>/<image>");
	CHECK_DEST(cli_dest_check_syntax("rbd/svm/lun1@snap", &reason), -EINVAL, "holds a '@'");
	CHECK_DEST(cli_dest_check_syntax("rbd/svm/lun1;wce=no", &reason), -EINVAL, "holds a ';'");
	CHECK_DEST(cli_dest_check_place("rbd/svm/lun1", &reason), 0, "");
	CHECK_DEST(cli_dest_check_not_source("rbd/svm/lun1", "rbd/svm/lun1", &reason), -EINVAL,
		   "is the LUN's source store");
	CHECK_DEST(cli_dest_check_not_source("rbd/svm/lun1", "rbd/svm/lun0", &reason), 0, "");
	CHECK_DEST(cli_dest_check_not_source("rbd/svm/lun1", "/var/lib/svm/a.img", &reason), 0, "");
	CHECK_DEST(cli_dest_check_syntax("/a,wce=no", &reason), -EINVAL, "holds a ','");
	CHECK_DEST(cli_dest_check_syntax("/a;b", &reason), -EINVAL, "holds a ';'");
	CHECK_DEST(cli_dest_check_syntax("/a:b", &reason), -EINVAL, "holds a ':'");
	CHECK_DEST(cli_dest_check_syntax("/a b", &reason), -EINVAL, "white space");
	CHECK_DEST(cli_dest_check_syntax("/a\tb", &reason), -EINVAL, "white space");
	CHECK_DEST(cli_dest_check_syntax("/a\x01", &reason), -EINVAL, "control character");
	CHECK_DEST(cli_dest_check_syntax(long_path, &reason), -ENAMETOOLONG, "bytes long");
	long_path[CLI_DEST_PATH_MAX] = '\0';
	CHECK_DEST(cli_dest_check_syntax(long_path, &reason), 0, "");
	g_free(long_path);
}

static void place(void)
{
	char *dir = g_build_filename(test_dir, "dest", NULL), *p, *empty, *full, *link;

	g_mkdir_with_parents(dir, 0700);
	/* nothing there yet, in a directory that exists: fine */
	p = g_build_filename(dir, "new.img", NULL);
	CHECK_DEST(cli_dest_check_place(p, &reason), 0, "");
	g_free(p);
	/* the directory does not exist */
	p = g_build_filename(dir, "nosuch", "new.img", NULL);
	CHECK_DEST(cli_dest_check_place(p, &reason), -ENOENT, "does not exist: create it first");
	g_free(p);
	/* the "directory" is a file */
	full = test_file("dest/full.img", "data", 4);
	p = g_build_filename(full, "new.img", NULL);
	CHECK_DEST(cli_dest_check_place(p, &reason), -ENOTDIR, "is not a directory");
	g_free(p);
	/* a non-empty file, an empty one */
	CHECK_DEST(cli_dest_check_place(full, &reason), -EEXIST,
		   "exists and is not empty (4 bytes)");
	empty = test_file("dest/empty.img", "", 0);
	CHECK_DEST(cli_dest_check_place(empty, &reason), 0, "");
	/* a sparse file with a size but no data is not empty either */
	p = test_file("dest/sparse.img", "", 0);
	CHECK(truncate(p, 1 << 20) == 0);
	CHECK_DEST(cli_dest_check_place(p, &reason), -EEXIST, "not empty");
	g_free(p);
	/* a directory */
	CHECK_DEST(cli_dest_check_place(dir, &reason), -EISDIR, "is a directory");
	/* symbolic links: to an empty file (fine), to a full one, to nothing */
	link = g_build_filename(dir, "link-empty", NULL);
	CHECK(symlink(empty, link) == 0);
	CHECK_DEST(cli_dest_check_place(link, &reason), 0, "");
	g_free(link);
	link = g_build_filename(dir, "link-full", NULL);
	CHECK(symlink(full, link) == 0);
	CHECK_DEST(cli_dest_check_place(link, &reason), -EEXIST, "not empty");
	g_free(link);
	link = g_build_filename(dir, "link-dangling", NULL);
	CHECK(symlink("/nonexistent/x.img", link) == 0);
	CHECK_DEST(cli_dest_check_place(link, &reason), -ENOENT,
		   "symbolic link to a file that does not exist");
	g_free(link);
	/* neither a file nor a block device */
	p = g_build_filename(dir, "fifo", NULL);
	CHECK(mkfifo(p, 0600) == 0);
	CHECK_DEST(cli_dest_check_place(p, &reason), -EINVAL,
		   "not a regular file or a block device");
	g_free(p);
	CHECK_DEST(cli_dest_check_place("/dev/null", &reason), -EINVAL, "not a regular file");
	g_free(empty);
	g_free(full);
	g_free(dir);
}

static void not_source(void)
{
	char *src = test_file("src/a.img", "lun data", 8), *dir = g_path_get_dirname(src), *p;

	/* another file */
	p = test_file("src/b.img", "", 0);
	CHECK_DEST(cli_dest_check_not_source(p, src, &reason), 0, "");
	g_free(p);
	/* the same name */
	CHECK_DEST(cli_dest_check_not_source(src, src, &reason), -EINVAL,
		   "is the LUN's source store");
	/* another name: .. and . */
	p = g_strdup_printf("%s/../src/./a.img", dir);
	CHECK_DEST(cli_dest_check_not_source(p, src, &reason), -EINVAL, "(another name for it)");
	g_free(p);
	/* a symbolic link to it */
	p = g_build_filename(dir, "sym.img", NULL);
	CHECK(symlink(src, p) == 0);
	CHECK_DEST(cli_dest_check_not_source(p, src, &reason), -EINVAL,
		   "is the LUN's source store");
	/* and the source named through a link */
	CHECK_DEST(cli_dest_check_not_source(src, p, &reason), -EINVAL,
		   "is the LUN's source store");
	g_free(p);
	/* a hard link to it */
	p = g_build_filename(dir, "hard.img", NULL);
	CHECK(link(src, p) == 0);
	CHECK_DEST(cli_dest_check_not_source(p, src, &reason), -EINVAL,
		   "is the LUN's source store");
	g_free(p);
	/* neither exists (as svmctl sees it): names compared after resolving the directory */
	p = g_strdup_printf("%s/../src/gone.img", dir);
	{
		char *gone = g_build_filename(dir, "gone.img", NULL);

		CHECK_DEST(cli_dest_check_not_source(p, gone, &reason), -EINVAL, "source store");
		CHECK_DEST(cli_dest_check_not_source(p, src, &reason), 0, "");
		g_free(gone);
	}
	g_free(p);
	/* through a symlinked directory */
	p = g_build_filename(test_dir, "srclink", NULL);
	CHECK(symlink(dir, p) == 0);
	{
		char *via = g_build_filename(p, "a.img", NULL),
		     *gone = g_build_filename(p, "n.img", NULL),
		     *gone2 = g_build_filename(dir, "n.img", NULL);

		CHECK_DEST(cli_dest_check_not_source(via, src, &reason), -EINVAL, "source store");
		CHECK_DEST(cli_dest_check_not_source(gone, gone2, &reason), -EINVAL,
			   "source store");
		g_free(via);
		g_free(gone);
		g_free(gone2);
	}
	g_free(p);
	g_free(src);
	g_free(dir);
}

/* A file of size bytes holding magic at offset; returns its fd (open read-only). */
static int sig_file(const char *name, size_t size, size_t offset, const void *magic, size_t len)
{
	char *buf = g_malloc0(size), *path;
	int fd;

	if (magic)
		memcpy(buf + offset, magic, len);
	path = test_file(name, buf, size);
	fd = open(path, O_RDONLY);
	g_free(buf);
	g_free(path);
	return fd;
}

static void signatures(void)
{
	static const struct {
		size_t offset;
		const char *magic;
		size_t len;
		const char *want;
	} cases[] = {
	    {1080, "\x53\xef", 2, "ext2/3/4"},
	    {0, "XFSB", 4, "XFS"},
	    {65600, "_BHRfS_M", 8, "btrfs"},
	    {0, "LUKS\xba\xbe", 6, "LUKS"},
	    {512, "LABELONE", 8, "LVM"},
	    {4086, "SWAPSPACE2", 10, "swap"},
	    {65526, "SWAPSPACE2", 10, "swap"},
	    {512, "EFI PART", 8, "GPT"},
	    {510, "\x55\xaa", 2, "DOS partition table"},
	    {32769, "CD001", 5, "ISO 9660"},
	    {4096, "\xfc\x4e\x2b\xa9", 4, "md 1.2"},
	    {3, "NTFS    ", 8, "NTFS"},
	    {82, "FAT32", 5, "FAT"},
	    {131072, "\x0c\xb1\xba\x00\x00\x00\x00\x00", 8, "ZFS"},
	};
	const size_t size = 1 << 20;
	char name[32];
	const char *got;
	int fd;

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		snprintf(name, sizeof(name), "sig/%zu", i);
		fd = sig_file(name, size, cases[i].offset, cases[i].magic, cases[i].len);
		got = cli_dest_signature(fd, size);
		CHECK_HAS(got, cases[i].want);
		close(fd);
	}
	/* zeroes, and a file shorter than the offsets: nothing */
	fd = sig_file("sig/zero", size, 0, NULL, 0);
	CHECK(cli_dest_signature(fd, size) == NULL);
	close(fd);
	fd = sig_file("sig/short", 100, 0, NULL, 0);
	CHECK(cli_dest_signature(fd, 100) == NULL);
	close(fd);
	/* md 0.90 at the end: the last 64 KiB-aligned 64 KiB */
	fd = sig_file("sig/md090", size, size - 65536, "\xfc\x4e\x2b\xa9", 4);
	CHECK_HAS(cli_dest_signature(fd, size), "md 0.90");
	close(fd);
	fd = sig_file("sig/md10", size, size - 8192, "\xfc\x4e\x2b\xa9", 4);
	CHECK_HAS(cli_dest_signature(fd, size), "md 1.0");
	close(fd);
}

void dest_test(void)
{
	syntax();
	place();
	not_source();
	signatures();
}
