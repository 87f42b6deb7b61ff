# dropkiosk build.  `make` builds both programs into build/; `make test` and
# `make run` are the two commands the README promises (each installs missing
# Debian packages first through tools/install-deps).

# gcc unless the caller names another compiler (clang builds it too).
ifeq ($(origin CC),default)
CC := gcc
endif
PKGS := sqlite3 zbar libqrencode libpng libjpeg libsodium inih gmime-3.0 libcurl libevdev \
	libusb-1.0 jansson pangocairo libmicrohttpd libsystemd
VERSION := $(shell cat VERSION)
# Where the programs look for message catalogs and the screen's files when
# [kiosk] catalogs and [http] ui are not set: this tree's copies for a build
# run in place.  `make install` builds a second pair of programs in
# build/pkg/ with the installed folders instead.
CATALOG_DIR ?= $(CURDIR)/kiosk-ui/i18n
UI_DIR ?= $(CURDIR)/kiosk-ui
# Where the programs and their objects go.
OUT ?= build
COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

WARN := -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Wstrict-prototypes -Werror
# GMime's headers pull in GLib, whose declarations trip -Wpedantic in a few
# places; they are system headers, so -isystem keeps our own code strict.
PKG_CFLAGS := $(patsubst -I%,-isystem %,$(filter-out -I/usr/include/x86_64-linux-gnu,\
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)))
# libcups ships cups-config, not a pkg-config file.
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) \
	$(shell cups-config --libs 2>/dev/null) -lpthread -lutil -lm
BASE_CFLAGS := -std=c17 -D_GNU_SOURCE -DDK_HAVE_LIBJPEG -g $(WARN) $(PKG_CFLAGS) -Isrc -Idrivers \
	-DDK_VERSION='"$(VERSION)"' -DDK_COMMIT='"$(COMMIT)"' \
	-DDK_CATALOG_DIR='"$(CATALOG_DIR)"' -DDK_UI_DIR='"$(UI_DIR)"'
CFLAGS := $(BASE_CFLAGS) -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong
# Read-only relocations, resolved at start (Debian's hardening defaults).
LDFLAGS := -Wl,-z,relro -Wl,-z,now
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
ASAN_CFLAGS := $(BASE_CFLAGS) -O1 $(SAN_FLAGS)

MAINS := src/main_dropkiosk.c src/main_ctl.c
# dropkioskctl's verbs (src/ctl_*.c) call helpers that live in its main
# (ctl_fail, ctl_open_store), so only dropkioskctl links them.
CTL_SRC := $(wildcard src/ctl_*.c)
CTL_OBJ := $(CTL_SRC:%.c=$(OUT)/obj/%.o)
LIB_SRC := $(filter-out $(MAINS) $(CTL_SRC),$(wildcard src/*.c drivers/*.c))
HEADERS := $(wildcard src/*.h drivers/*.h)
LIB_OBJ := $(LIB_SRC:%.c=$(OUT)/obj/%.o)
ASAN_OBJ := $(LIB_SRC:%.c=build/asan/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/asan/%)

PROGRAMS := $(OUT)/dropkiosk $(OUT)/dropkioskctl
# Small C programs for people (tools/NAME.c -> build/tools/NAME).
TOOLS := $(patsubst tools/%.c,build/tools/%,$(wildcard tools/*.c))

# Fuzz targets (tests/fuzz/fuzz_NAME.c) are built with clang's libFuzzer.
FUZZ_CC := clang
FUZZ_FLAGS := -std=c17 -D_GNU_SOURCE -DDK_HAVE_LIBJPEG -g -O1 $(PKG_CFLAGS) -Isrc -Idrivers \
	-DDK_VERSION='"$(VERSION)"' -DDK_COMMIT='"$(COMMIT)"' \
	-DDK_CATALOG_DIR='"$(CATALOG_DIR)"' -DDK_UI_DIR='"$(UI_DIR)"' -fsanitize=address,undefined
FUZZ_OBJ := $(LIB_SRC:%.c=build/fuzz/%.o)
FUZZ_BIN := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
# How long each target runs inside `make test`; `make fuzz FUZZ_SECONDS=600`
# for a longer hunt.
FUZZ_SECONDS ?= 10

# `make V=1` shows each compiler command in full.
ifeq ($(V),1)
Q :=
else
Q := @
endif

# Keep objects between links (make would delete them as intermediates).
.SECONDARY: $(LIB_OBJ) $(CTL_OBJ) $(ASAN_OBJ) $(FUZZ_OBJ)

.PHONY: all deps test unit integration ui fuzz bench run lint clean install deb FORCE
all: $(PROGRAMS) $(TOOLS)

# The folders compiled into the objects, kept in a file that changes only
# when they do, so objects built for another place are rebuilt.
$(OUT)/paths: FORCE
	@mkdir -p $(OUT)
	@echo '$(CATALOG_DIR) $(UI_DIR)' | cmp -s - $@ || echo '$(CATALOG_DIR) $(UI_DIR)' > $@

# Likewise the git commit that --version prints, compiled into the mains
# only: a package built after a commit names that commit.
$(OUT)/commit: FORCE
	@mkdir -p $(OUT)
	@echo '$(COMMIT)' | cmp -s - $@ || echo '$(COMMIT)' > $@
$(OUT)/obj/src/main_dropkiosk.o $(OUT)/obj/src/main_ctl.o: $(OUT)/commit

deps:
	@tools/install-deps

$(OUT)/obj/%.o: %.c $(HEADERS) $(OUT)/paths
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

build/asan/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	@echo "  CC asan $<"
	$(Q)$(CC) $(ASAN_CFLAGS) -c $< -o $@

$(OUT)/dropkiosk: $(OUT)/obj/src/main_dropkiosk.o $(LIB_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $(filter %.o,$^) -o $@ $(PKG_LIBS)

$(OUT)/dropkioskctl: $(OUT)/obj/src/main_ctl.o $(CTL_OBJ) $(LIB_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $(filter %.o,$^) -o $@ $(PKG_LIBS)

build/tools/%: tools/%.c $(LIB_OBJ) $(HEADERS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $< $(LIB_OBJ) -o $@ $(PKG_LIBS)

build/fuzz/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	@echo "  CC fuzz $<"
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJ) $(HEADERS)
	@mkdir -p $(dir $@)
	@echo "  LD fuzz $@"
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -fsanitize=fuzzer $< $(FUZZ_OBJ) -o $@ $(PKG_LIBS)

build/asan/test_%: tests/unit/test_%.c $(ASAN_OBJ) $(HEADERS)
	@mkdir -p $(dir $@)
	@echo "  LD asan $@"
	$(Q)$(CC) $(ASAN_CFLAGS) $< $(ASAN_OBJ) -o $@ $(PKG_LIBS) -lcmocka

# Unit tests run under AddressSanitizer and UndefinedBehaviorSanitizer.
unit: $(UNIT_BIN)
	@tests/run-unit $(UNIT_BIN)

# Each fuzz target runs for FUZZ_SECONDS from its seed corpus
# (tests/fuzz/corpus/NAME/, read only; new finds go to build/fuzz/).
fuzz: $(FUZZ_BIN)
	@tests/run-fuzz $(FUZZ_SECONDS) $(FUZZ_BIN)

# Integration tests drive the real programs; they need Debian's python3
# (not whichever python3 comes first on PATH) for aiosmtpd.
integration: $(PROGRAMS)
	@/usr/bin/python3 tests/integration/run.py

# Browser tests: Debian's chromium through playwright-core against the
# real daemon (tests/ui/; the browser and npm packages come from
# tools/install-deps, so `make deps` first on a new machine).
ui: $(PROGRAMS)
	@tests/run-ui

# Speed figures on this machine (printed, never pass/fail).
bench: $(PROGRAMS)
	@/usr/bin/python3 tests/bench/run.py

test: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory fuzz
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory ui

run: deps
	@$(MAKE) --no-print-directory all
	@tools/run-demo

lint:
	@tools/lint

# The installed layout, the Debian package's (firmware/README.md lists what
# goes where).  Units and udev files go under /lib, where Debian 12's own
# packages keep them.
PREFIX ?= /usr
SBINDIR ?= $(PREFIX)/sbin
DATADIR ?= $(PREFIX)/share/dropkiosk
MANDIR ?= $(PREFIX)/share/man
LIBEXECDIR ?= $(PREFIX)/libexec/dropkiosk
SYSCONFDIR ?= /etc
UNITDIR ?= /lib/systemd/system
UDEVDIR ?= /lib/udev
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d

# `make install DESTDIR=DIR` puts everything under DIR, built for PREFIX.
install:
	@$(MAKE) --no-print-directory OUT=build/pkg CATALOG_DIR=$(DATADIR)/ui/i18n \
		UI_DIR=$(DATADIR)/ui build/pkg/dropkiosk build/pkg/dropkioskctl
	@DESTDIR='$(DESTDIR)' SBINDIR='$(SBINDIR)' DATADIR='$(DATADIR)' MANDIR='$(MANDIR)' \
		LIBEXECDIR='$(LIBEXECDIR)' SYSCONFDIR='$(SYSCONFDIR)' UNITDIR='$(UNITDIR)' \
		UDEVDIR='$(UDEVDIR)' SYSUSERSDIR='$(SYSUSERSDIR)' TMPFILESDIR='$(TMPFILESDIR)' \
		firmware/install build/pkg

# build/dropkiosk_VERSION_ARCH.deb, checked by lintian when it is installed.
deb:
	@firmware/debian/build-deb

clean:
	rm -rf build
