# tcmu-svm: `make` builds build/handler_svm.so; `make check` runs every test tier.
CC        ?= cc
PREFIX    ?= /usr
DESTDIR   ?=
MULTIARCH ?= $(shell $(CC) -print-multiarch 2>/dev/null)
# tcmu-runner's compiled-in handler directory on Debian: /usr/lib/<multiarch>/tcmu-runner
HANDLER_DIR ?= $(PREFIX)/lib$(if $(MULTIARCH),/$(MULTIARCH))/tcmu-runner
SYSTEMD_DIR ?= /lib/systemd/system
MODULES_LOAD_DIR ?= /usr/lib/modules-load.d
TMPFILES_DIR ?= /usr/lib/tmpfiles.d
# logrotate reads only /etc/logrotate.d, whatever PREFIX is
LOGROTATE_DIR ?= /etc/logrotate.d

BUILD   := build
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -fPIC -fvisibility=hidden -MMD -MP
LDFLAGS ?=

LIB_SRCS := handler/cdb.c handler/cfg.c handler/ctl.c handler/iov.c handler/lio.c handler/log.c handler/lun.c handler/migrate.c handler/migrec.c handler/mirror.c handler/pool.c \
            handler/rangelock.c handler/registry.c handler/sbc.c handler/scsi.c handler/sense.c \
            handler/spc.c handler/state.c handler/store.c handler/store_rbd.c handler/svmlog.c \
            handler/tpc.c \
            xcopy/mover.c xcopy/xcopy.c
PLUGIN_SRCS := $(LIB_SRCS) handler/plugin.c handler/uring.c
# liburing (SVM_ENGINE=uring, handler/uring.h), linked in statically: the handler needs no
# liburing2 at run time and imports nothing tcmu-runner's ABI check does not know
URING_LIBS  := -l:liburing.a
# librbd and librados (Debian's librbd1 and librados2) for RBD stores (handler/store_rbd.c):
# Debian ships no .pc file for them. tcmu-runner's Debian package already depends on librbd1
# for its own handler_rbd.so. Building needs librbd-dev.
RBD_LIBS    := -lrbd -lrados
UNIT_SRCS := $(wildcard tests/unit/*.c)

PLUGIN_OBJS := $(PLUGIN_SRCS:%.c=$(BUILD)/%.o)
UNIT_OBJS   := $(UNIT_SRCS:%.c=$(BUILD)/%.o)

# The unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer (tests/check
# tier `sanitize`): clang, its own objects under build/asan/, never mixed with the above.
# Ignores CFLAGS on purpose (its own -O1 -g); SAN_EXTRA_CFLAGS adds flags.
SAN_CC     ?= clang
SAN_BUILD  := $(BUILD)/asan
SAN_FLAGS  := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror -MMD -MP \
              $(SAN_FLAGS) $(SAN_EXTRA_CFLAGS)
SAN_OBJS   := $(PLUGIN_SRCS:%.c=$(SAN_BUILD)/%.o) $(UNIT_SRCS:%.c=$(SAN_BUILD)/%.o)
# libstdc++ loaded at start-up, before librados/librbd (C++, they throw inside): ASan
# resolves the real __cxa_throw for its interceptor only then, and would otherwise end in
# "CHECK failed: ... real___cxa_throw != 0"
SAN_UNIT_LIBS := -Wl,--no-as-needed -l:libstdc++.so.6 -Wl,--as-needed

# libFuzzer targets (tests/fuzz/fuzz_<name>.c, tests/check tier `fuzz`, `make check-fuzz`):
# clang with -fsanitize=fuzzer plus ASan and UBSan, the tcmu-free modules (LIB_SRCS) built
# again under build/fuzz/. Seed corpora: tests/fuzz/corpus/<name>/.
FUZZ_CC     ?= clang
FUZZ_BUILD  := $(BUILD)/fuzz
FUZZ_FLAGS  := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror -MMD -MP $(FUZZ_FLAGS) \
               -fsanitize=fuzzer-no-link
FUZZ_SRCS   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS   := $(FUZZ_SRCS:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_OBJS   := $(LIB_SRCS:%.c=$(FUZZ_BUILD)/%.o) $(FUZZ_SRCS:%.c=$(FUZZ_BUILD)/%.o)

# svmctl (cli/), the admin's command, on glib2 and libkmod (pkg-config). tests/check tier
# `cli` runs its unit tests (tests/cli/*.c) and the command against a fake handler, each
# built twice: as installed, and by clang with ASan + UBSan under build/asan/.
SBINDIR        ?= $(PREFIX)/sbin
MANDIR         ?= $(PREFIX)/share/man
CLI_PKGS       := glib-2.0 libkmod
CLI_PKG_CFLAGS  = $(shell pkg-config --cflags $(CLI_PKGS))
CLI_PKG_LIBS    = $(shell pkg-config --libs $(CLI_PKGS))
CLI_LIB_SRCS   := cli/ctl.c cli/dest.c cli/doctor.c cli/fmt.c cli/json.c
CLI_TEST_SRCS  := $(wildcard tests/cli/*.c)
CLI_OBJS       := $(CLI_LIB_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/cli/svmctl.o \
                  $(CLI_TEST_SRCS:%.c=$(BUILD)/%.o)
CLI_SAN_OBJS   := $(CLI_OBJS:$(BUILD)/%=$(SAN_BUILD)/%)
CLI_BINS       := $(BUILD)/cli/svmctl $(BUILD)/cli/cli_tests \
                  $(SAN_BUILD)/cli/svmctl $(SAN_BUILD)/cli/cli_tests

# Everything `make check` and the VM rig need on Debian 12.
# The ceph packages give the VM rig its throw-away cluster (tests/vm/ceph.sh); librbd-dev
# (with librados-dev) gives the RBD store its headers (the libraries are loaded at run time).
# clang does not pull the sanitizer runtimes (libclang-rt-14-dev is only a Recommends of
# libclang-common-14-dev) nor llvm-symbolizer (llvm) for file:line in reports.
DEPS := gcc make libc6-dev clang libclang-rt-14-dev llvm \
        tcmu-runner libtcmu2 targetcli-fb python3-rtslib-fb sg3-utils \
        libiscsi-bin sdparm fio qemu-system-x86 qemu-utils linux-image-amd64 busybox-static dbus kmod \
        iproute2 cpio util-linux e2fsprogs procps python3 strace xfsprogs lvm2 \
        libglib2.0-dev libkmod-dev pkg-config liburing-dev \
        ceph-mon ceph-osd ceph-mgr ceph-common librbd-dev

.PHONY: all deps install uninstall check check-unit check-sanitize check-fuzz check-e2e \
        check-conformance check-cli fuzz demo bench clean format
all: $(BUILD)/handler_svm.so $(BUILD)/cli/svmctl

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/handler_svm.so: $(PLUGIN_OBJS) handler/handler_svm.map
	$(CC) -shared -Wl,--version-script=handler/handler_svm.map -Wl,-z,relro,-z,now \
		$(LDFLAGS) -o $@ $(PLUGIN_OBJS) $(URING_LIBS) $(RBD_LIBS)

$(BUILD)/unit_tests: $(PLUGIN_OBJS) $(UNIT_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(URING_LIBS) $(RBD_LIBS)

$(SAN_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(SAN_CC) $(SAN_CFLAGS) -c -o $@ $<

$(SAN_BUILD)/unit_tests: $(SAN_OBJS)
	$(SAN_CC) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^ $(URING_LIBS) $(RBD_LIBS) $(SAN_UNIT_LIBS)

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_BINS): $(FUZZ_BUILD)/%: $(FUZZ_BUILD)/tests/fuzz/%.o $(LIB_SRCS:%.c=$(FUZZ_BUILD)/%.o)
	$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ $^ $(RBD_LIBS)

fuzz: $(FUZZ_BINS)

$(CLI_OBJS): CFLAGS += $(CLI_PKG_CFLAGS)
$(CLI_SAN_OBJS): SAN_CFLAGS += $(CLI_PKG_CFLAGS)

$(BUILD)/cli/svmctl: $(CLI_LIB_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/cli/svmctl.o
	$(CC) $(LDFLAGS) -o $@ $^ $(CLI_PKG_LIBS)

$(BUILD)/cli/cli_tests: $(CLI_LIB_SRCS:%.c=$(BUILD)/%.o) $(CLI_TEST_SRCS:%.c=$(BUILD)/%.o)
	$(CC) $(LDFLAGS) -o $@ $^ $(CLI_PKG_LIBS) -lpthread

$(SAN_BUILD)/cli/svmctl: $(CLI_LIB_SRCS:%.c=$(SAN_BUILD)/%.o) $(SAN_BUILD)/cli/svmctl.o
	$(SAN_CC) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^ $(CLI_PKG_LIBS)

$(SAN_BUILD)/cli/cli_tests: $(CLI_LIB_SRCS:%.c=$(SAN_BUILD)/%.o) \
			    $(CLI_TEST_SRCS:%.c=$(SAN_BUILD)/%.o)
	$(SAN_CC) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^ $(CLI_PKG_LIBS) -lpthread

deps:
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(DEPS)

install: $(BUILD)/handler_svm.so $(BUILD)/cli/svmctl
	install -D -m 0755 $(BUILD)/handler_svm.so $(DESTDIR)$(HANDLER_DIR)/handler_svm.so
	install -D -m 0755 $(BUILD)/cli/svmctl $(DESTDIR)$(SBINDIR)/svmctl
	install -D -m 0644 docs/svmctl.8 $(DESTDIR)$(MANDIR)/man8/svmctl.8
	install -D -m 0644 systemd/tcmu-runner-svm.conf \
		$(DESTDIR)$(SYSTEMD_DIR)/tcmu-runner.service.d/svm.conf
	install -D -m 0644 systemd/targetctl-svm.conf \
		$(DESTDIR)$(SYSTEMD_DIR)/rtslib-fb-targetctl.service.d/svm.conf
	install -D -m 0644 systemd/target_core_user.conf \
		$(DESTDIR)$(MODULES_LOAD_DIR)/tcmu-svm.conf
	install -D -m 0644 systemd/tmpfiles-tcmu-svm.conf $(DESTDIR)$(TMPFILES_DIR)/tcmu-svm.conf
	install -D -m 0644 systemd/logrotate-tcmu-svm $(DESTDIR)$(LOGROTATE_DIR)/tcmu-svm

uninstall:
	rm -f $(DESTDIR)$(HANDLER_DIR)/handler_svm.so \
		$(DESTDIR)$(SBINDIR)/svmctl $(DESTDIR)$(MANDIR)/man8/svmctl.8 \
		$(DESTDIR)$(SYSTEMD_DIR)/tcmu-runner.service.d/svm.conf \
		$(DESTDIR)$(SYSTEMD_DIR)/rtslib-fb-targetctl.service.d/svm.conf \
		$(DESTDIR)$(MODULES_LOAD_DIR)/tcmu-svm.conf \
		$(DESTDIR)$(TMPFILES_DIR)/tcmu-svm.conf $(DESTDIR)$(LOGROTATE_DIR)/tcmu-svm

# The one test command: every tier, one closing "check: N passed, N failed" line.
check: $(BUILD)/unit_tests $(SAN_BUILD)/unit_tests $(FUZZ_BINS) $(BUILD)/handler_svm.so $(CLI_BINS)
	tests/check

check-cli: $(CLI_BINS)
	SVM_CHECK_TIERS=cli tests/check

check-unit: $(BUILD)/unit_tests $(BUILD)/handler_svm.so
	$(BUILD)/unit_tests
	tests/unit/abi_check.sh $(BUILD)/handler_svm.so

check-sanitize: $(SAN_BUILD)/unit_tests
	SVM_CHECK_TIERS=sanitize tests/check

check-fuzz: $(FUZZ_BINS)
	SVM_CHECK_TIERS=fuzz tests/check

check-e2e: $(BUILD)/handler_svm.so
	tests/e2e/run-all

check-conformance: $(BUILD)/handler_svm.so
	tests/conformance/run

demo:
	tests/demo/run

bench: $(BUILD)/handler_svm.so
	tests/bench/run

# EXTENDED COPY: svm movers vs LIO's XCOPY vs sg_dd, one VM run (tests/bench/xcopy-run)
.PHONY: bench-xcopy
bench-xcopy: $(BUILD)/handler_svm.so
	tests/bench/xcopy-run

# Live migration: svmctl migrate vs pvmove, idle and under fio load, one VM run (tests/bench/migrate-run)
.PHONY: bench-migrate
bench-migrate: $(BUILD)/handler_svm.so $(BUILD)/cli/svmctl
	tests/bench/migrate-run

# 1 MiB sequential I/O, svm (buffered and direct=yes) vs LIO fileio, one VM run (tests/bench/seq-run)
.PHONY: bench-seq
bench-seq: $(BUILD)/handler_svm.so
	tests/bench/seq-run

# tcmu-runner threads and RSS for 1, 16 and 64 svm LUNs under fio, one VM run (tests/bench/threads-run)
.PHONY: bench-threads
bench-threads: $(BUILD)/handler_svm.so
	tests/bench/threads-run

# RBD: svm on RBD vs user:rbd, and pool -> pool moves (svmctl migrate vs rbd migration), one VM run (tests/bench/rbd-run)
.PHONY: bench-rbd
bench-rbd: $(BUILD)/handler_svm.so $(BUILD)/cli/svmctl
	tests/bench/rbd-run

# The TCMU ceiling: a handler that does no work (tests/bench/null) vs svm vs LIO fileio, one VM run
.PHONY: bench-ceiling
bench-ceiling: $(BUILD)/handler_svm.so $(BUILD)/instruments/handler_svmnull.so
	tests/vm/run-vm -t 2400 -m 4096 -o $(BUILD)/bench-ceiling tests/bench/ceiling-guest.sh
	@cat $(BUILD)/bench-ceiling/ceiling.md

$(BUILD)/instruments/handler_svmnull.so: tests/bench/null/handler_svmnull.c handler/tcmu_abi.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC -fvisibility=hidden -shared -o $@ $<

format:
	clang-format -i handler/*.[ch] tests/unit/*.[ch] xcopy/*.[ch] tests/fuzz/*.c \
		cli/*.[ch] tests/cli/*.[ch]

clean:
	rm -rf $(BUILD)

-include $(PLUGIN_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(SAN_OBJS:.o=.d) $(FUZZ_OBJS:.o=.d) \
	 $(CLI_OBJS:.o=.d) $(CLI_SAN_OBJS:.o=.d)
