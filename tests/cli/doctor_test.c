/* SPDX-License-Identifier: Apache-2.0 */
/* cli/doctor.c on a fake /proc and a fake handler; the module check on this kernel's sysfs. */
#define _GNU_SOURCE
#include "test.h"
#include "../../cli/doctor.h"

#include <dirent.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <unistd.h>

static char *test_str(const char *name, const char *text)
{
	return test_file(name, text, strlen(text));
}

/* A module sysfs shows as loaded or built in (a /sys/module entry), or NULL if none. */
static char *some_module(void)
{
	struct dirent *de;
	char *name = NULL;
	DIR *d = opendir("/sys/module");

	while (d && !name && (de = readdir(d)))
		if (de->d_name[0] != '.')
			name = g_strdup(de->d_name);
	if (d)
		closedir(d);
	return name;
}

static void module(void)
{
	char *msg = NULL, *name = some_module();

	CHECK(!cli_doctor_module("svm_no_such_module", &msg));
	CHECK_HAS(msg, "kernel module svm_no_such_module is not loaded");
	g_free(msg);
	if (name) {
		CHECK(cli_doctor_module(name, &msg));
		CHECK_HAS(msg, name);
		g_free(msg);
	}
	g_free(name);
}

static void configfs(void)
{
	char *mounts, *msg;

	mounts = test_str("mnt1", "sysfs /sys sysfs rw 0 0\n"
				  "configfs /sys/kernel/config configfs rw,relatime 0 0\n");
	CHECK(cli_doctor_configfs(mounts, "/sys/kernel/config", &msg));
	CHECK_STR(msg, "configfs is mounted on /sys/kernel/config");
	g_free(msg);
	g_free(mounts);

	mounts = test_str("mnt2", "none /mnt/my\\040cfg configfs rw 0 0\n");
	CHECK(!cli_doctor_configfs(mounts, "/sys/kernel/config", &msg));
	CHECK_HAS(msg, "configfs is mounted on /mnt/my cfg but not on /sys/kernel/config");
	g_free(msg);
	g_free(mounts);

	/* a mount *on* the place but of another type does not count */
	mounts = test_str("mnt3", "tmpfs /sys/kernel/config tmpfs rw 0 0\n");
	CHECK(!cli_doctor_configfs(mounts, "/sys/kernel/config", &msg));
	CHECK_HAS(msg, "not mounted on /sys/kernel/config: mount -t configfs");
	g_free(msg);
	g_free(mounts);

	CHECK(!cli_doctor_configfs("/nonexistent/mounts", "/sys/kernel/config", &msg));
	CHECK_HAS(msg, "cannot read /nonexistent/mounts");
	g_free(msg);
}

/* test_dir/<proc>: pid 7 bash, pid 123 tcmu-runner with an environment, "self", a file. */
static char *fake_proc(const char *proc, const char *state_dir)
{
	char *env =
	    g_strdup_printf("HOME=/root%cSVM_RUN_DIR=%cSVM_STATE_DIR=%s%cX=1", 0, 0, state_dir, 0);
	size_t env_len = 10 + 1 + 12 + 1 + 14 + strlen(state_dir) + 1 + 3;
	char *p;

	p = g_build_filename(proc, "7", "comm", NULL);
	g_free(test_str(p, "bash\n"));
	g_free(p);
	p = g_build_filename(proc, "123", "comm", NULL);
	g_free(test_str(p, "tcmu-runner\n"));
	g_free(p);
	p = g_build_filename(proc, "123", "environ", NULL);
	g_free(test_file(p, env, env_len));
	g_free(p);
	p = g_build_filename(proc, "self", "comm", NULL);
	g_free(test_str(p, "tcmu-runner\n")); /* not a pid: never counts */
	g_free(p);
	p = g_build_filename(proc, "mounts", NULL);
	g_free(test_str(p, "configfs /sys/kernel/config configfs rw 0 0\n"));
	g_free(p);
	g_free(env);
	return g_build_filename(test_dir, proc, NULL);
}

static void process(void)
{
	char *proc = fake_proc("proc1", "/var/tmp/st"), *msg, *v;

	CHECK_EQ(cli_doctor_find_process(proc, "tcmu-runner"), 123);
	CHECK_EQ(cli_doctor_find_process(proc, "bash"), 7);
	CHECK_EQ(cli_doctor_find_process(proc, "tcmu-runne"), 0);
	CHECK_EQ(cli_doctor_find_process("/nonexistent", "bash"), 0);
	CHECK(cli_doctor_process(proc, "tcmu-runner", &msg));
	CHECK_STR(msg, "tcmu-runner is running (pid 123)");
	g_free(msg);
	CHECK(!cli_doctor_process(proc, "nosuchd", &msg));
	CHECK_HAS(msg, "nosuchd is not running: systemctl start nosuchd");
	g_free(msg);

	v = cli_doctor_process_env(proc, 123, "SVM_STATE_DIR");
	CHECK_STR(v, "/var/tmp/st");
	g_free(v);
	CHECK(cli_doctor_process_env(proc, 123, "SVM_RUN_DIR") == NULL); /* empty */
	CHECK(cli_doctor_process_env(proc, 123, "SVM") == NULL);	 /* a prefix only */
	CHECK(cli_doctor_process_env(proc, 123, "NOPE") == NULL);
	v = cli_doctor_process_env(proc, 123, "X");
	CHECK_STR(v, "1");
	g_free(v);
	CHECK(cli_doctor_process_env(proc, 999, "X") == NULL);
	g_free(proc);
}

static void state_dir(void)
{
	char *dir = g_build_filename(test_dir, "state", NULL), *file, *msg;

	CHECK(!cli_doctor_state_dir(dir, &msg));
	CHECK_HAS(msg, "does not exist: mkdir -p -m 0700");
	g_free(msg);
	file = test_str("state-file", "x");
	CHECK(!cli_doctor_state_dir(file, &msg));
	CHECK_HAS(msg, "is not a directory");
	g_free(msg);
	g_free(file);
	g_mkdir_with_parents(dir, 0700);
	CHECK(cli_doctor_state_dir(dir, &msg));
	CHECK_HAS(msg, "exists and is writable");
	g_free(msg);
	if (geteuid() != 0) { /* root writes anyway */
		chmod(dir, 0500);
		CHECK(!cli_doctor_state_dir(dir, &msg));
		CHECK_HAS(msg, "is not writable");
		g_free(msg);
		chmod(dir, 0700);
	}
	/* the probe file is gone again */
	{
		GDir *d = g_dir_open(dir, 0, NULL);

		CHECK(d && g_dir_read_name(d) == NULL);
		if (d)
			g_dir_close(d);
	}
	g_free(dir);
}

static void handler(void)
{
	struct test_server s;
	char *path = g_build_filename(test_dir, "nosuch.sock", NULL), *msg;

	CHECK(!cli_doctor_handler(path, 1000, &msg));
	CHECK_HAS(msg, "no control socket at");
	CHECK_HAS(msg, "has not loaded the svm handler");
	g_free(msg);
	g_free(path);

	test_server_start(&s, "{\"luns\":[{\"lun\":\"a\"},{\"lun\":\"b\"}]}\n", 0);
	CHECK(cli_doctor_handler(s.path, 1000, &msg));
	test_server_stop(&s);
	CHECK_STR(s.request, "list");
	CHECK_HAS(msg, "(2 LUNs)");
	g_free(msg);

	test_server_start(&s, "{\"hello\":1}\n", 0);
	CHECK(!cli_doctor_handler(s.path, 1000, &msg));
	test_server_stop(&s);
	CHECK_HAS(msg, "not as the svm handler does");
	g_free(msg);

	test_server_start(&s, "{\"error\":\"only root\",\"errno\":1}\n", 0);
	CHECK(!cli_doctor_handler(s.path, 1000, &msg));
	test_server_stop(&s);
	CHECK_HAS(msg, "are you root?");
	g_free(msg);
}

/* The whole run, on fakes where every check passes, then where some fail. */
static void run(void)
{
	char *state = g_build_filename(test_dir, "runner-state", NULL);
	char *proc = fake_proc("proc2", state), *out_path, *text = NULL, *name = some_module();
	struct cli_doctor_env env = {
	    .proc = proc,
	    .module = name ? name : "svm_no_such_module",
	    .configfs = "/sys/kernel/config",
	    .runner = "tcmu-runner",
	    .timeout_ms = 1000,
	};
	struct test_server s;
	FILE *out;
	int failed;

	g_mkdir_with_parents(state, 0700);
	out_path = g_build_filename(test_dir, "doctor.out", NULL);

	test_server_start(&s, "{\"luns\":[]}\n", 0);
	env.socket = s.path;
	out = fopen(out_path, "w");
	failed = cli_doctor_run(&env, out);
	fclose(out);
	test_server_stop(&s);
	g_file_get_contents(out_path, &text, NULL, NULL);
	CHECK_EQ(failed, name ? 0 : 1);
	CHECK_HAS(text, "[ OK ] configfs is mounted on /sys/kernel/config\n");
	CHECK_HAS(text, "[ OK ] tcmu-runner is running (pid 123)\n");
	CHECK_HAS(text, "[ OK ] handler svm answers on");
	/* the state directory is tcmu-runner's, from its environment */
	CHECK_HAS(text, "exists and is writable (SVM_STATE_DIR of tcmu-runner)\n");
	CHECK_HAS(text,
		  name ? "5 of 5 checks passed: the stack is ready" : "4 of 5 checks passed\n");
	g_free(text);

	/* no handler, no state directory (given), no runner (other name), no module */
	env.socket = "/nonexistent/control.sock";
	env.state_dir = "/nonexistent/state";
	env.runner = "nosuchd";
	env.module = "svm_no_such_module";
	out = fopen(out_path, "w");
	failed = cli_doctor_run(&env, out);
	fclose(out);
	g_file_get_contents(out_path, &text, NULL, NULL);
	CHECK_EQ(failed, 4);
	CHECK_HAS(text, "[FAIL] kernel module svm_no_such_module is not loaded");
	CHECK_HAS(text, "[ OK ] configfs");
	CHECK_HAS(text, "[FAIL] nosuchd is not running");
	CHECK_HAS(text, "[FAIL] no control socket at /nonexistent/control.sock");
	CHECK_HAS(text, "[FAIL] state directory /nonexistent/state does not exist");
	CHECK_HAS(text, "1 of 5 checks passed\n");
	g_free(text);

	/* tcmu-runner's SVM_RUN_DIR is named when the socket is not found */
	{
		char *p = g_build_filename(proc, "123", "environ", NULL);

		g_file_set_contents(p, "SVM_RUN_DIR=/run/elsewhere", 27, NULL);
		g_free(p);
	}
	env.runner = "tcmu-runner";
	out = fopen(out_path, "w");
	cli_doctor_run(&env, out);
	fclose(out);
	g_file_get_contents(out_path, &text, NULL, NULL);
	CHECK_HAS(text, "(tcmu-runner runs with SVM_RUN_DIR=/run/elsewhere: try --socket "
			"/run/elsewhere/control.sock)");
	g_free(text);
	env.socket_given = true;
	out = fopen(out_path, "w");
	cli_doctor_run(&env, out);
	fclose(out);
	g_file_get_contents(out_path, &text, NULL, NULL);
	CHECK(!strstr(text, "try --socket"));
	g_free(text);

	g_free(out_path);
	g_free(proc);
	g_free(state);
	g_free(name);
}

void doctor_test(void)
{
	module();
	configfs();
	process();
	state_dir();
	handler();
	run();
}
