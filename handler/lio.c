/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "lio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *svm_lio_root = "";

/* Read a small file into buf (NUL-terminated, trailing newlines removed). */
static int read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	close(fd);
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

int svm_lio_dev_dir(const char *uio, char *dir, size_t len)
{
	char path[256], name[512], *hba, *dev, *end;
	int ret;

	if (!uio || !*uio || strchr(uio, '/'))
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/sys/class/uio/%s/name", svm_lio_root, uio);
	ret = read_small(path, name, sizeof(name));
	if (ret)
		return ret;
	/* tcm-user/<hba>/<device>/... (libtcmu's device_parse_cfg reads it the same way) */
	if (strncmp(name, "tcm-user/", 9))
		return -EINVAL;
	hba = name + 9;
	dev = strchr(hba, '/');
	if (!dev)
		return -EINVAL;
	*dev++ = '\0';
	end = strchr(dev, '/');
	if (!end || end == dev || !*hba)
		return -EINVAL;
	*end = '\0';
	if ((size_t)snprintf(dir, len, "%s/sys/kernel/config/target/core/user_%s/%s", svm_lio_root,
			     hba, dev) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int svm_lio_serial(const char *dir, char *buf, size_t len)
{
	char path[4096], text[512], *v;
	int ret;

	snprintf(path, sizeof(path), "%s/wwn/vpd_unit_serial", dir);
	ret = read_small(path, text, sizeof(text));
	if (ret)
		return ret;
	/* "T10 VPD Unit Serial Number: <serial>" */
	v = strstr(text, ": ");
	v = v ? v + 2 : strchr(text, ':') ? strchr(text, ':') + 1 : text;
	if (strlen(v) >= len)
		return -ENAMETOOLONG;
	strcpy(buf, v);
	return 0;
}

int svm_lio_enabled(const char *dir)
{
	char path[4096], text[16];
	int ret;

	snprintf(path, sizeof(path), "%s/enable", dir);
	ret = read_small(path, text, sizeof(text));
	if (ret)
		return ret;
	return strcmp(text, "0") != 0;
}

int svm_lio_attr_get(const char *dir, const char *name, char *buf, size_t len)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/attrib/%s", dir, name);
	return read_small(path, buf, len);
}

int svm_lio_attr_set(const char *dir, const char *name, const char *val)
{
	char path[4096];
	size_t n = strlen(val);
	ssize_t w;
	int fd;

	snprintf(path, sizeof(path), "%s/attrib/%s", dir, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	w = write(fd, val, n);
	if (w < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	if (close(fd))
		return -errno;
	return (size_t)w == n ? 0 : -EIO;
}
