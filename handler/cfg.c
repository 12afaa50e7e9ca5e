/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "cfg.h"
#include "limits.h"
#include "state.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int svm_reason(char **reason, int err, const char *fmt, ...)
{
	va_list ap;

	if (!reason)
		return err;
	va_start(ap, fmt);
	if (vasprintf(reason, fmt, ap) < 0)
		*reason = NULL;
	va_end(ap);
	return err;
}

static int parse_bool(const char *key, const char *val, bool *out, char **reason)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcmp(val, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcmp(val, no[i])) {
			*out = false;
			return 0;
		}
	}
	return svm_reason(reason, -EINVAL, "malformed value '%s' for key '%s': expected yes or no",
			  val, key);
}

int svm_cfg_parse_threads(const char *str, unsigned *out, char **reason)
{
	/* digits only, at most three of them: no sign, blank or overflow to reject later */
	_Static_assert(SVM_THREADS_MAX < 1000, "SVM_THREADS_MAX must have at most 3 digits");
	size_t len = str ? strspn(str, "0123456789") : 0;
	unsigned long v = len && len <= 3 && !str[len] ? strtoul(str, NULL, 10) : 0;

	if (v < 1 || v > SVM_THREADS_MAX)
		return svm_reason(reason, -EINVAL, "SVM_THREADS='%s' is not a number from 1 to %d",
				  str ? str : "", SVM_THREADS_MAX);
	*out = (unsigned)v;
	return 0;
}

static int check_path_syntax(const char *what, const char *p, char **reason)
{
	if (!*p)
		return svm_reason(reason, -EINVAL, "missing %s path", what);
	if (p[0] != '/')
		return svm_reason(reason, -EINVAL, "%s path '%s' is not absolute", what, p);
	if (strlen(p) >= PATH_MAX)
		return svm_reason(reason, -EINVAL, "%s path is longer than %d bytes", what,
				  PATH_MAX - 1);
	return 0;
}

/* Characters no element may hold, each with why (see cfg.h). */
static int check_charset(const char *str, char **reason)
{
	const char *p = strpbrk(str, ", \t\n\r\v\f:");

	if (!p)
		return 0;
	if (*p == ',')
		return svm_reason(reason, -EINVAL,
				  "',' in '%s': separate elements with ';' (the kernel drops what "
				  "follows a ',')",
				  str);
	if (*p == ':')
		return svm_reason(reason, -EINVAL, "':' in '%s': rtslib and targetcli refuse it",
				  str);
	return svm_reason(reason, -EINVAL,
			  "whitespace in '%s': LIO shows the string in a blank-separated list, "
			  "so saveconfig could not read it back",
			  str);
}

/* Value of tcmu-runner's own tcmur_cmd_time_out=: seconds, digits only. */
static int check_runner_timeout(const char *val, char **reason)
{
	size_t n = strspn(val, "0123456789");

	if (!n || val[n] || n > 9)
		return svm_reason(reason, -EINVAL,
				  "malformed value '%s' for key 'tcmur_cmd_time_out': expected "
				  "seconds",
				  val);
	return 0;
}

int svm_cfg_parse(const char *str, struct svm_cfg *cfg, char **reason)
{
	char *copy, *tok, *save = NULL;
	bool seen_create = false, seen_wce = false, seen_tmo = false;
	int ret;

	*cfg = (struct svm_cfg){.create = true, .wce = true};
	if (!str)
		return svm_reason(reason, -EINVAL, "empty configuration string");
	ret = check_charset(str, reason);
	if (ret)
		return ret;
	copy = strdup(str);
	if (!copy)
		return svm_reason(reason, -ENOMEM, "out of memory");

	/* strtok would merge ";;" and hide an empty element: walk by hand. */
	tok = copy;
	save = strchr(tok, ';');
	if (save)
		*save++ = '\0';
	ret = check_path_syntax("source", tok, reason);
	if (ret)
		goto free_copy;
	cfg->src = strdup(tok);
	if (!cfg->src) {
		ret = svm_reason(reason, -ENOMEM, "out of memory");
		goto free_copy;
	}

	while (save) {
		char *val;

		tok = save;
		save = strchr(tok, ';');
		if (save)
			*save++ = '\0';
		val = strchr(tok, '=');
		if (!*tok || !val || val == tok) {
			ret = svm_reason(reason, -EINVAL,
					 "malformed option '%s': expected key=value", tok);
			goto free_cfg;
		}
		*val++ = '\0';
		if (!strcmp(tok, "dst")) {
			if (cfg->dst) {
				ret = svm_reason(reason, -EINVAL, "key 'dst' given twice");
				goto free_cfg;
			}
			ret = check_path_syntax("destination", val, reason);
			if (ret)
				goto free_cfg;
			cfg->dst = strdup(val);
			if (!cfg->dst) {
				ret = svm_reason(reason, -ENOMEM, "out of memory");
				goto free_cfg;
			}
		} else if (!strcmp(tok, "create") || !strcmp(tok, "wce")) {
			bool *seen = tok[0] == 'c' ? &seen_create : &seen_wce;

			if (*seen) {
				ret = svm_reason(reason, -EINVAL, "key '%s' given twice", tok);
				goto free_cfg;
			}
			*seen = true;
			ret = parse_bool(tok, val, tok[0] == 'c' ? &cfg->create : &cfg->wce,
					 reason);
			if (ret)
				goto free_cfg;
		} else if (!strcmp(tok, "tcmur_cmd_time_out")) {
			/* tcmu-runner's: it takes it out before open, but check_config sees it */
			if (seen_tmo) {
				ret = svm_reason(reason, -EINVAL, "key '%s' given twice", tok);
				goto free_cfg;
			}
			seen_tmo = true;
			ret = check_runner_timeout(val, reason);
			if (ret)
				goto free_cfg;
		} else {
			ret = svm_reason(reason, -EINVAL,
					 "unknown key '%s' (known keys: dst, create, wce; and "
					 "tcmu-runner's tcmur_cmd_time_out)",
					 tok);
			goto free_cfg;
		}
	}
	free(copy);
	return 0;

free_cfg:
	svm_cfg_free(cfg);
free_copy:
	free(copy);
	return ret;
}

int svm_cfg_parse_dev_config(const char *dev_config, struct svm_cfg *cfg, char **reason)
{
	static const char prefix[] = "svm/";
	size_t len = dev_config ? strlen(dev_config) : 0;
	char *copy;
	int ret;

	*cfg = (struct svm_cfg){.create = true, .wce = true};
	if (len && dev_config[len - 1] == '\n')
		len--;
	if (len < sizeof(prefix) - 1 || strncmp(dev_config, prefix, sizeof(prefix) - 1))
		return svm_reason(reason, -EINVAL,
				  "configuration '%.*s' is not for this handler (it must start with "
				  "'%s')",
				  (int)len, dev_config ? dev_config : "", prefix);
	if (len > SVM_DEV_CONFIG_MAX)
		return svm_reason(reason, -EINVAL,
				  "configuration string is %zu bytes long with its '%s' prefix; the "
				  "kernel keeps only %d",
				  len, prefix, SVM_DEV_CONFIG_MAX);
	copy = strndup(dev_config + sizeof(prefix) - 1, len - (sizeof(prefix) - 1));
	if (!copy)
		return svm_reason(reason, -ENOMEM, "out of memory");
	ret = svm_cfg_parse(copy, cfg, reason);
	free(copy);
	return ret;
}

void svm_cfg_free(struct svm_cfg *cfg)
{
	free(cfg->src);
	free(cfg->dst);
	cfg->src = cfg->dst = NULL;
}

/*
 * A canonical name for a path that may not exist yet: realpath() of its
 * directory plus its last component. Returns malloc'd string or NULL.
 */
static char *canonical(const char *path)
{
	char *d = strdup(path), *b = strdup(path), *dir, *out = NULL;

	if (d && b) {
		dir = realpath(dirname(d), NULL);
		if (dir && asprintf(&out, "%s/%s", strcmp(dir, "/") ? dir : "", basename(b)) < 0)
			out = NULL;
		free(dir);
	}
	free(d);
	free(b);
	return out;
}

static int check_store_path(const char *what, const char *path, bool may_create, char **reason)
{
	struct stat st;
	char *d;
	int ret = 0;

	if (stat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
			return svm_reason(reason, -EINVAL,
					  "%s '%s' is not a regular file or block device", what,
					  path);
		if (access(path, R_OK | W_OK))
			return svm_reason(reason, -errno, "%s '%s' is not readable and writable: %s",
					  what, path, strerror(errno));
		return 0;
	}
	if (errno != ENOENT)
		return svm_reason(reason, -errno, "cannot stat %s '%s': %s", what, path,
				  strerror(errno));
	if (!may_create)
		return svm_reason(reason, -ENOENT, "%s '%s' does not exist (create=no)", what, path);
	if (svm_state_store_known(path)) {
		char *rec = svm_state_store_record_path(path);

		ret = svm_reason(reason, -ENOENT,
				 "%s '%s' served a LUN before and is now missing (filesystem not "
				 "mounted?); refusing to create an empty one. Restore it, or remove "
				 "%s to start from an empty store",
				 what, path, rec ? rec : "its record");
		free(rec);
		return ret;
	}

	d = strdup(path);
	if (!d)
		return svm_reason(reason, -ENOMEM, "out of memory");
	if (stat(dirname(d), &st) || !S_ISDIR(st.st_mode))
		ret = svm_reason(reason, -ENOENT, "%s '%s' does not exist and neither does its directory",
				 what, path);
	else if (access(d, W_OK | X_OK))
		ret = svm_reason(reason, -errno, "%s '%s' does not exist and its directory is not writable",
				 what, path);
	free(d);
	return ret;
}

static bool same_store(const char *a, const char *b)
{
	struct stat sa, sb;
	char *ca, *cb;
	bool same;

	if (!stat(a, &sa) && !stat(b, &sb))
		return S_ISBLK(sa.st_mode) && S_ISBLK(sb.st_mode)
			       ? sa.st_rdev == sb.st_rdev
			       : sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
	ca = canonical(a);
	cb = canonical(b);
	same = ca && cb ? !strcmp(ca, cb) : !strcmp(a, b);
	free(ca);
	free(cb);
	return same;
}

int svm_cfg_check_live_change(const struct svm_cfg *cur, const struct svm_cfg *next,
			      char **reason)
{
	if (!same_store(cur->src, next->src))
		return svm_reason(reason, -EINVAL,
				  "the source store cannot change on a running LUN ('%s' serves it, "
				  "not '%s')",
				  cur->src, next->src);
	if (cur->wce != next->wce)
		return svm_reason(reason, -EINVAL,
				  "wce= cannot change on a running LUN: set the attribute "
				  "emulate_write_cache instead");
	return svm_cfg_check_paths(next, reason);
}

int svm_cfg_check_paths(const struct svm_cfg *cfg, char **reason)
{
	int ret = check_store_path("source", cfg->src, cfg->create, reason);

	if (ret || !cfg->dst)
		return ret;
	if (same_store(cfg->src, cfg->dst))
		return svm_reason(reason, -EINVAL, "destination '%s' is the source store", cfg->dst);
	return check_store_path("destination", cfg->dst, true, reason);
}
