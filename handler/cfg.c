/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include "cfg.h"
#include "limits.h"
#include "state.h"
#include "store_rbd.h"

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

int svm_cfg_parse_threads(const char *var, const char *str, unsigned *out, char **reason)
{
	/* digits only, at most three of them: no sign, blank or overflow to reject later */
	_Static_assert(SVM_THREADS_MAX < 1000, "SVM_THREADS_MAX must have at most 3 digits");
	size_t len = str ? strspn(str, "0123456789") : 0;
	unsigned long v = len && len <= 3 && !str[len] ? strtoul(str, NULL, 10) : 0;

	if (v < 1 || v > SVM_THREADS_MAX)
		return svm_reason(reason, -EINVAL, "%s='%s' is not a number from 1 to %d", var,
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

/* One key=value of the cfgstring: check val and store it in cfg. 0, or -errno with *reason. */
typedef int (*key_fn)(const char *key, const char *val, struct svm_cfg *cfg, char **reason);

static int set_path(const char *what, const char *val, char **out, char **reason)
{
	int ret = check_path_syntax(what, val, reason);

	if (ret)
		return ret;
	*out = strdup(val);
	return *out ? 0 : svm_reason(reason, -ENOMEM, "out of memory");
}

static int key_dst(const char *key, const char *val, struct svm_cfg *cfg, char **reason)
{
	int ret;

	(void)key;
	if (!svm_rbd_is_spec(val))
		return set_path("destination", val, &cfg->dst, reason);
	/* an RBD destination, rbd/<pool>/<image>, on the LUN's cluster (conf=, id=) */
	ret = svm_rbd_parse(val, NULL, NULL, reason);
	if (ret)
		return ret;
	cfg->dst = strdup(val);
	return cfg->dst ? 0 : svm_reason(reason, -ENOMEM, "out of memory");
}

static int key_create(const char *key, const char *val, struct svm_cfg *cfg, char **reason)
{
	return parse_bool(key, val, &cfg->create, reason);
}

static int key_wce(const char *key, const char *val, struct svm_cfg *cfg, char **reason)
{
	return parse_bool(key, val, &cfg->wce, reason);
}

static int key_direct(const char *key, const char *val, struct svm_cfg *cfg, char **reason)
{
	return parse_bool(key, val, &cfg->direct, reason);
}

static int key_mover(const char *key, const char *val, struct svm_cfg *cfg, char **reason)
{
	if (svm_mover_parse(val, &cfg->mover))
		return svm_reason(reason, -EINVAL,
				  "malformed value '%s' for key '%s': expected auto, bounce, kernel "
				  "or reflink",
				  val, key);
	return 0;
}

static int key_group(const char *key, const char *val, struct svm_cfg *cfg, char **reason)
{
	size_t n = strspn(val, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-");

	if (!n || val[n] || n > SVM_XCOPY_GROUP_MAX)
		return svm_reason(reason, -EINVAL,
				  "malformed value '%s' for key '%s': expected 1 to %d letters, "
				  "digits, '_', '.' or '-'",
				  val, key, SVM_XCOPY_GROUP_MAX);
	cfg->xcopy_group = strdup(val);
	return cfg->xcopy_group ? 0 : svm_reason(reason, -ENOMEM, "out of memory");
}

static int key_conf(const char *key, const char *val, struct svm_cfg *cfg, char **reason)
{
	(void)key;
	return set_path("Ceph configuration", val, &cfg->conf, reason);
}

/* A Ceph client id, as in client.<id>: the user's name without "client.". */
static int key_id(const char *key, const char *val, struct svm_cfg *cfg, char **reason)
{
	size_t n = strspn(val, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-");

	if (!n || val[n] || n > SVM_RBD_ID_MAX)
		return svm_reason(reason, -EINVAL,
				  "malformed value '%s' for key '%s': expected a Ceph client id of 1 "
				  "to %d letters, digits, '_', '.' or '-' (without 'client.')",
				  val, key, SVM_RBD_ID_MAX);
	cfg->id = strdup(val);
	return cfg->id ? 0 : svm_reason(reason, -ENOMEM, "out of memory");
}

static int key_svm_log(const char *key, const char *val, struct svm_cfg *cfg, char **reason)
{
	(void)key;
	return set_path("SVM log", val, &cfg->svm_log, reason);
}

/*
 * tcmu-runner's own key: it takes it out before open, but check_config sees
 * it, and a dev_config the migration writes keeps it.
 */
static int key_runner_timeout(const char *key, const char *val, struct svm_cfg *cfg,
			      char **reason)
{
	size_t n = strspn(val, "0123456789");

	if (!n || val[n] || n > 9)
		return svm_reason(reason, -EINVAL,
				  "malformed value '%s' for key '%s': expected seconds", val, key);
	cfg->cmd_time_out = (unsigned)strtoul(val, NULL, 10);
	cfg->has_cmd_time_out = true;
	return 0;
}

static const struct {
	const char *name;
	key_fn fn;
} keys[] = {
	{"dst", key_dst},     {"create", key_create},	  {"wce", key_wce},
	{"mover", key_mover}, {"xcopy_group", key_group}, {"svm_log", key_svm_log},
	{"direct", key_direct}, {"conf", key_conf},		  {"id", key_id},
	{"tcmur_cmd_time_out", key_runner_timeout},
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* One "key=value" element, in place (tok is modified). */
static int parse_element(char *tok, struct svm_cfg *cfg, bool seen[NKEYS], char **reason)
{
	char *val = strchr(tok, '=');

	if (!*tok || !val || val == tok)
		return svm_reason(reason, -EINVAL, "malformed option '%s': expected key=value",
				  tok);
	*val++ = '\0';
	for (size_t i = 0; i < NKEYS; i++) {
		if (strcmp(tok, keys[i].name))
			continue;
		if (seen[i])
			return svm_reason(reason, -EINVAL, "key '%s' given twice", tok);
		seen[i] = true;
		return keys[i].fn(tok, val, cfg, reason);
	}
	return svm_reason(reason, -EINVAL,
			  "unknown key '%s' (known keys: dst, create, wce, mover, xcopy_group, direct, "
			  "svm_log, conf, id; and "
			  "tcmu-runner's tcmur_cmd_time_out)",
			  tok);
}

/* The source: an absolute path, or an RBD store rbd/<pool>/<image> (store_rbd.h). */
static int set_source(const char *val, char **out, char **reason)
{
	int ret;

	if (!svm_rbd_is_spec(val))
		return set_path("source", val, out, reason);
	ret = svm_rbd_parse(val, NULL, NULL, reason);
	if (ret)
		return ret;
	*out = strdup(val);
	return *out ? 0 : svm_reason(reason, -ENOMEM, "out of memory");
}

int svm_cfg_parse(const char *str, struct svm_cfg *cfg, char **reason)
{
	bool seen[NKEYS] = {false};
	char *copy, *tok, *next;
	int ret;

	*cfg = (struct svm_cfg){.create = true, .wce = true, .mover = SVM_MOVER_AUTO, .direct = true};
	if (!str)
		return svm_reason(reason, -EINVAL, "empty configuration string");
	ret = check_charset(str, reason);
	if (ret)
		return ret;
	copy = strdup(str);
	if (!copy)
		return svm_reason(reason, -ENOMEM, "out of memory");

	/* strtok would merge ";;" and hide an empty element: walk by hand. */
	for (tok = copy; tok; tok = next) {
		next = strchr(tok, ';');
		if (next)
			*next++ = '\0';
		ret = tok == copy ? set_source(tok, &cfg->src, reason)
				  : parse_element(tok, cfg, seen, reason);
		if (ret)
			goto free_cfg;
	}
	/*
	 * conf= and id= name the cluster of every RBD store of the LUN, its
	 * source or a migration's destination: a file LUN that will migrate
	 * into a cluster says which one, so they go with any source.
	 */
	free(copy);
	return 0;

free_cfg:
	svm_cfg_free(cfg);
	free(copy);
	return ret;
}

int svm_cfg_parse_dev_config(const char *dev_config, struct svm_cfg *cfg, char **reason)
{
	static const char prefix[] = "svm/";
	size_t len = dev_config ? strlen(dev_config) : 0;
	char *copy;
	int ret;

	*cfg = (struct svm_cfg){.create = true, .wce = true, .mover = SVM_MOVER_AUTO, .direct = true};
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
	free(cfg->xcopy_group);
	free(cfg->svm_log);
	free(cfg->conf);
	free(cfg->id);
	cfg->src = cfg->dst = cfg->xcopy_group = cfg->svm_log = cfg->conf = cfg->id = NULL;
}

int svm_cfg_format(const struct svm_cfg *cfg, char *buf, size_t len)
{
	char timeout[16] = "";
	int n;

	if (cfg->has_cmd_time_out)
		snprintf(timeout, sizeof(timeout), "%u", cfg->cmd_time_out);
	n = snprintf(buf, len, "svm/%s%s%s%s%s%s%s%s%s%s%s%s%s%s%s%s%s%s", cfg->src,
		     cfg->conf ? ";conf=" : "", cfg->conf ? cfg->conf : "",
		     cfg->id ? ";id=" : "", cfg->id ? cfg->id : "",
		     cfg->dst ? ";dst=" : "", cfg->dst ? cfg->dst : "",
		     cfg->create ? "" : ";create=no", cfg->wce ? "" : ";wce=no",
		     cfg->mover != SVM_MOVER_AUTO ? ";mover=" : "",
		     cfg->mover != SVM_MOVER_AUTO ? svm_mover_name(cfg->mover) : "",
		     cfg->xcopy_group ? ";xcopy_group=" : "",
		     cfg->xcopy_group ? cfg->xcopy_group : "", cfg->direct ? "" : ";direct=no",
		     cfg->svm_log ? ";svm_log=" : "",
		     cfg->svm_log ? cfg->svm_log : "", timeout[0] ? ";tcmur_cmd_time_out=" : "",
		     timeout);
	if (n < 0 || (size_t)n >= len || n > SVM_DEV_CONFIG_MAX)
		return -ENAMETOOLONG;
	return 0;
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

	if (svm_rbd_is_spec(path))
		/* checked when parsed; the cluster is asked only when the store is opened */
		return svm_rbd_parse(path, NULL, NULL, reason);
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

bool svm_cfg_same_store(const char *a, const char *b)
{
	struct stat sa, sb;
	char *ca, *cb;
	bool same;

	if (svm_rbd_is_spec(a) || svm_rbd_is_spec(b))
		return !strcmp(a, b); /* one pool, one image name */
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
	if (!svm_cfg_same_store(cur->src, next->src))
		return svm_reason(reason, -EINVAL,
				  "the source store cannot change on a running LUN ('%s' serves it, "
				  "not '%s')",
				  cur->src, next->src);
	if (cur->wce != next->wce)
		return svm_reason(reason, -EINVAL,
				  "wce= cannot change on a running LUN: set the attribute "
				  "emulate_write_cache instead");
	if (!!cur->conf != !!next->conf || (cur->conf && strcmp(cur->conf, next->conf)) ||
	    !!cur->id != !!next->id || (cur->id && strcmp(cur->id, next->id)))
		return svm_reason(reason, -EINVAL,
				  "conf= and id= cannot change on a running LUN: they take effect "
				  "when the LUN is opened");
	if (cur->direct != next->direct)
		return svm_reason(reason, -EINVAL,
				  "direct= cannot change on a running LUN: it takes effect when the "
				  "LUN is opened");
	return svm_cfg_check_paths(next, reason);
}

int svm_cfg_check_paths(const struct svm_cfg *cfg, char **reason)
{
	int ret = check_store_path("source", cfg->src, cfg->create, reason);

	if (ret || !cfg->dst)
		return ret;
	if (svm_cfg_same_store(cfg->src, cfg->dst))
		return svm_reason(reason, -EINVAL, "destination '%s' is the source store", cfg->dst);
	return check_store_path("destination", cfg->dst, true, reason);
}
