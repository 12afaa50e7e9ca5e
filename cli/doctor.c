/* SPDX-License-Identifier: Apache-2.0 */
/* svmctl doctor's checks (see doctor.h). */
#define _GNU_SOURCE
#include "doctor.h"
#include "ctl.h"

#include <dirent.h>
#include <errno.h>
#include <glib.h>
#include <libkmod.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

static void kmod_quiet(void *data, int priority, const char *file, int line, const char *fn,
		       const char *format, va_list args)
{
	(void)data, (void)priority, (void)file, (void)line, (void)fn, (void)format, (void)args;
}

/* Whether the running kernel's module directory has name (as a file, not built in). */
static bool module_available(struct kmod_ctx *ctx, const char *name)
{
	struct kmod_list *list = NULL, *l;
	bool found = false;

	if (kmod_module_new_from_lookup(ctx, name, &list) < 0)
		return false;
	kmod_list_foreach(l, list)
	{
		struct kmod_module *m = kmod_module_get_module(l);

		found = found || kmod_module_get_path(m);
		kmod_module_unref(m);
	}
	kmod_module_unref_list(list);
	return found;
}

/* Whether /sys/module/<name>/initstate exists (only modules loaded from a file have one). */
static bool sysfs_initstate(const char *name)
{
	char *path = g_build_filename("/sys/module", name, "initstate", NULL);
	bool there = access(path, F_OK) == 0;

	g_free(path);
	return there;
}

bool cli_doctor_module(const char *name, char **msg)
{
	struct kmod_module *mod = NULL;
	struct kmod_ctx *ctx;
	struct utsname u;
	bool ok = false;
	int state;

	ctx = kmod_new(NULL, NULL);
	if (!ctx) {
		*msg = g_strdup_printf("cannot look at kernel modules (libkmod could not start)");
		return false;
	}
	kmod_set_log_fn(ctx, kmod_quiet, NULL);
	if (kmod_module_new_from_name(ctx, name, &mod) < 0) {
		*msg = g_strdup_printf("cannot look up kernel module %s", name);
		goto unref_ctx;
	}
	state = kmod_module_get_initstate(mod);
	/*
	 * libkmod says "coming" for a /sys/module entry without an initstate
	 * file: that is a built-in module whose modules.builtin it could not
	 * read (no module directory for the running kernel).
	 */
	if (state == KMOD_MODULE_COMING && !sysfs_initstate(name))
		state = KMOD_MODULE_BUILTIN;
	switch (state) {
	case KMOD_MODULE_LIVE:
		*msg = g_strdup_printf("kernel module %s is loaded", name);
		ok = true;
		break;
	case KMOD_MODULE_BUILTIN:
		*msg = g_strdup_printf("kernel module %s is built into the kernel", name);
		ok = true;
		break;
	case KMOD_MODULE_COMING:
	case KMOD_MODULE_GOING:
		*msg = g_strdup_printf("kernel module %s is %s: try again in a moment", name,
				       state == KMOD_MODULE_COMING ? "still loading" : "unloading");
		break;
	default:
		if (uname(&u))
			strcpy(u.release, "?");
		if (module_available(ctx, name))
			*msg =
			    g_strdup_printf("kernel module %s is not loaded: modprobe %s (make "
					    "install adds /usr/lib/modules-load.d/tcmu-svm.conf, "
					    "which loads it at boot)",
					    name, name);
		else
			*msg =
			    g_strdup_printf("kernel module %s is not loaded, and the running "
					    "kernel (%s) has no such module: install its modules "
					    "(Debian: linux-image-amd64, then reboot into it) or "
					    "use a kernel built with CONFIG_TCM_USER2",
					    name, u.release);
	}
	kmod_module_unref(mod);
unref_ctx:
	kmod_unref(ctx);
	return ok;
}

/* Undo the octal escapes (\040 for a blank...) of a /proc/mounts field, in place. */
static void unescape_mount_field(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

bool cli_doctor_configfs(const char *mounts, const char *mountpoint, char **msg)
{
	char *text = NULL, **lines, *elsewhere = NULL;
	GError *error = NULL;
	bool ok = false;

	if (!g_file_get_contents(mounts, &text, NULL, &error)) {
		*msg = g_strdup_printf("cannot read %s: %s", mounts, error->message);
		g_error_free(error);
		return false;
	}
	lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l && !ok; l++) {
		char **f = g_strsplit(*l, " ", 4);

		if (g_strv_length(f) >= 3 && !strcmp(f[2], "configfs")) {
			unescape_mount_field(f[1]);
			if (!strcmp(f[1], mountpoint))
				ok = true;
			else if (!elsewhere)
				elsewhere = g_strdup(f[1]);
		}
		g_strfreev(f);
	}
	if (ok)
		*msg = g_strdup_printf("configfs is mounted on %s", mountpoint);
	else if (elsewhere)
		*msg = g_strdup_printf("configfs is mounted on %s but not on %s, where LIO and "
				       "tcmu-runner look: mount -t configfs configfs %s",
				       elsewhere, mountpoint, mountpoint);
	else
		*msg = g_strdup_printf("configfs is not mounted on %s: mount -t configfs configfs "
				       "%s (at boot, systemd's sys-kernel-config.mount does it)",
				       mountpoint, mountpoint);
	g_free(elsewhere);
	g_strfreev(lines);
	g_free(text);
	return ok;
}

pid_t cli_doctor_find_process(const char *proc, const char *comm)
{
	struct dirent *de;
	pid_t pid = 0;
	char *path, *text;
	DIR *d;

	d = opendir(proc);
	if (!d)
		return 0;
	while (!pid && (de = readdir(d))) {
		if (!g_ascii_isdigit(de->d_name[0]) ||
		    strspn(de->d_name, "0123456789") != strlen(de->d_name))
			continue;
		path = g_build_filename(proc, de->d_name, "comm", NULL);
		if (g_file_get_contents(path, &text, NULL, NULL)) {
			g_strchomp(text);
			if (!strcmp(text, comm))
				pid = (pid_t)atol(de->d_name);
			g_free(text);
		}
		g_free(path);
	}
	closedir(d);
	return pid;
}

bool cli_doctor_process(const char *proc, const char *comm, char **msg)
{
	pid_t pid = cli_doctor_find_process(proc, comm);

	if (pid)
		*msg = g_strdup_printf("%s is running (pid %ld)", comm, (long)pid);
	else
		*msg = g_strdup_printf("%s is not running: systemctl start %s (Debian package "
				       "tcmu-runner; its log is /var/log/tcmu-runner.log)",
				       comm, comm);
	return pid != 0;
}

char *cli_doctor_process_env(const char *proc, pid_t pid, const char *name)
{
	char *path, *text = NULL, *value = NULL, pidstr[24];
	size_t len = 0, nlen = strlen(name);

	snprintf(pidstr, sizeof(pidstr), "%ld", (long)pid);
	path = g_build_filename(proc, pidstr, "environ", NULL);
	if (g_file_get_contents(path, &text, &len, NULL)) {
		for (size_t off = 0; off < len && !value; off += strlen(text + off) + 1) {
			const char *var = text + off;

			if (!strncmp(var, name, nlen) && var[nlen] == '=' && var[nlen + 1])
				value = g_strdup(var + nlen + 1);
		}
	}
	g_free(text);
	g_free(path);
	return value;
}

bool cli_doctor_handler(const char *socket, int timeout_ms, char **msg)
{
	struct cli_ctl_fail fail;
	struct cli_json *answer;
	const struct cli_json *luns;
	bool ok = false;

	answer = cli_ctl_request(socket, "list", timeout_ms, &fail);
	if (!answer) {
		if (fail.err == ENOENT && fail.kind == CLI_CTL_UNREACHABLE)
			*msg = g_strdup_printf("%s; if tcmu-runner runs, it has not loaded the svm "
					       "handler: install handler_svm.so into its handler "
					       "directory (make install) and restart tcmu-runner",
					       fail.msg);
		else
			*msg = g_strdup(fail.msg);
		cli_ctl_fail_clear(&fail);
		return false;
	}
	luns = cli_json_get(answer, "luns");
	if (luns && luns->type == CLI_JSON_ARRAY) {
		*msg = g_strdup_printf("handler svm answers on %s (%zu LUN%s)", socket,
				       cli_json_count(luns), cli_json_count(luns) == 1 ? "" : "s");
		ok = true;
	} else {
		*msg = g_strdup_printf("something answers on %s, but not as the svm handler "
				       "does (no \"luns\" list)",
				       socket);
	}
	cli_json_free(answer);
	return ok;
}

bool cli_doctor_state_dir(const char *dir, char **msg)
{
	char *probe;
	struct stat st;
	int fd, err;

	if (stat(dir, &st)) {
		err = errno;
		if (err == ENOENT)
			*msg = g_strdup_printf(
			    "state directory %s does not exist: mkdir -p -m 0700 %s", dir, dir);
		else
			*msg = g_strdup_printf("cannot look at state directory %s: %s", dir,
					       g_strerror(err));
		return false;
	}
	if (!S_ISDIR(st.st_mode)) {
		*msg = g_strdup_printf("state directory %s is not a directory: move what is there "
				       "away, then mkdir -m 0700 %s",
				       dir, dir);
		return false;
	}
	probe = g_build_filename(dir, ".svmctl-doctor.XXXXXX", NULL);
	fd = g_mkstemp(probe);
	if (fd < 0) {
		err = errno;
		*msg = g_strdup_printf("state directory %s is not writable (%s): the handler "
				       "records its stores there; is its filesystem mounted "
				       "read-write, and are you root?",
				       dir, g_strerror(err));
		g_free(probe);
		return false;
	}
	close(fd);
	unlink(probe);
	g_free(probe);
	*msg = g_strdup_printf("state directory %s exists and is writable", dir);
	return true;
}

static int report(FILE *out, bool ok, char *msg)
{
	fprintf(out, "%s %s\n", ok ? "[ OK ]" : "[FAIL]", msg);
	g_free(msg);
	return ok ? 0 : 1;
}

int cli_doctor_run(const struct cli_doctor_env *env, FILE *out)
{
	char *msg, *mounts, *run_dir = NULL, *state = NULL, *hint;
	const char *dir, *whose = "";
	int failed = 0, total = 0;
	pid_t runner;
	bool ok;

	ok = cli_doctor_module(env->module, &msg);
	failed += report(out, ok, msg), total++;

	mounts = g_build_filename(env->proc, "mounts", NULL);
	ok = cli_doctor_configfs(mounts, env->configfs, &msg);
	failed += report(out, ok, msg), total++;
	g_free(mounts);

	ok = cli_doctor_process(env->proc, env->runner, &msg);
	failed += report(out, ok, msg), total++;
	runner = cli_doctor_find_process(env->proc, env->runner);
	if (runner) {
		run_dir = cli_doctor_process_env(env->proc, runner, "SVM_RUN_DIR");
		state = cli_doctor_process_env(env->proc, runner, "SVM_STATE_DIR");
	}

	ok = cli_doctor_handler(env->socket, env->timeout_ms, &msg);
	if (!ok && run_dir && !env->socket_given) {
		hint = g_strdup_printf("%s (%s runs with SVM_RUN_DIR=%s: try --socket "
				       "%s/control.sock)",
				       msg, env->runner, run_dir, run_dir);
		g_free(msg);
		msg = hint;
	}
	failed += report(out, ok, msg), total++;

	if (env->state_dir) {
		dir = env->state_dir;
	} else if (state) {
		dir = state;
		whose = " (SVM_STATE_DIR of tcmu-runner)";
	} else if (g_getenv("SVM_STATE_DIR") && *g_getenv("SVM_STATE_DIR")) {
		dir = g_getenv("SVM_STATE_DIR");
		whose = " (SVM_STATE_DIR)";
	} else {
		dir = CLI_DOCTOR_STATE_DIR;
	}
	ok = cli_doctor_state_dir(dir, &msg);
	if (*whose) {
		hint = g_strconcat(msg, whose, NULL);
		g_free(msg);
		msg = hint;
	}
	failed += report(out, ok, msg), total++;

	fprintf(out, "%d of %d checks passed%s\n", total - failed, total,
		failed ? "" : ": the stack is ready for user:svm LUNs");
	g_free(run_dir);
	g_free(state);
	return failed;
}
