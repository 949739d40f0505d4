# ntgo: `make qemu` boots the kernel on this terminal, `make test` runs
# everything (host tests, in-kernel tests under QEMU, console tests).

GO      ?= go
BUILD   := build
KERNEL  := $(BUILD)/kernel.elf
RUNNER  := $(BUILD)/ntgo-qemu
MKBOOT  := $(BUILD)/mkboot
export CGO_ENABLED := 0

# Packages whose tests also run inside the kernel: every package with tests
# but the host tools (ntgo-qemu -list). The overlay links ntgo/boot into
# each test binary through a generated external test file (qemu/ktest.go).
KPKGS   ?= $(shell $(GO) run ./cmd/ntgo-qemu -list ./...)
OVERLAY := $(abspath $(BUILD))/ktest/overlay.json
# Packages with benchmarks to run inside the kernel.
BPKGS   ?= $(KPKGS)
# Packages whose benchmarks also run on the host: the pool pairs next to
# Go's make and new (interleaved, ratios as metrics), the PFN database.
HPKGS   ?= ./mm/pool ./mm/ex ./mm/object ./mm/pfn
PKG     ?= ./nt/ntstatus
# Boots per accelerator in the boot-time benchmark.
BOOTS   ?= 10
CMD     ?= ver; poweroff 0
MACHINE ?= microvm
# Processors every boot gets (QEMU -smp, through the launcher's $NTGO_SMP):
# two by default, so every run starts an application processor.
SMP     ?= 2
export NTGO_SMP := $(SMP)
# The port `make gdb` runs QEMU's gdb stub on.
GDBPORT ?= 1234
# NUMA=N: every boot (qemu, run, gdb, ktest, bench, and test's in-kernel
# tests) splits memory and processors into N nodes (-machine pc: microvm
# has no SRAT). The console and launcher tests boot the machines they
# check, NUMA ones included, and ignore it.
NUMA    ?=
ifneq ($(NUMA),)
export NTGO_NUMA := $(NUMA)
endif
# DUMP=file: a bugcheck writes a crash dump there (go run ./cmd/ntgo-dump file).
DUMP    ?=
DUMPARG := $(if $(DUMP),-dump $(DUMP))
# Guest memory of every boot, and the page file's size (0: none): the
# launcher's flags for the targets that boot a kernel, the environment
# (qemu.MemoryVar, qemu.PageFileVar) for the tests that boot their own.
# make qemu/run/gdb use $(PAGEFILEIMG); test boots get a temporary image each.
MEM         ?= 256M
PAGEFILE    ?= 256M
PAGEFILEIMG ?= $(BUILD)/pagefile.img
export NTGO_MEM      := $(MEM)
export NTGO_PAGEFILE := $(PAGEFILE)
BOOTARGS    := -m $(MEM) -pagefile-size $(PAGEFILE) -pagefile $(PAGEFILEIMG)

.PHONY: all kernel qemu run gdb ktest bench figures test host-test kernel-test console-test deps clean

all: kernel

# QEMU and gdb from Debian, installed when missing (as root), else the
# command to run is printed.
deps:
	@missing=""; \
	command -v qemu-system-x86_64 >/dev/null || missing="$$missing qemu-system-x86"; \
	command -v gdb >/dev/null || missing="$$missing gdb"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else \
			echo "missing:$$missing; run: sudo apt-get install -y$$missing"; exit 1; \
		fi; \
	fi

$(BUILD):
	mkdir -p $(BUILD)

$(MKBOOT): FORCE | $(BUILD)
	$(GO) build -o $@ ./cmd/mkboot

$(RUNNER): FORCE | $(BUILD)
	$(GO) build -o $@ ./cmd/ntgo-qemu

# -buildvcs=auto stamps the git revision `ver` prints even where GOFLAGS
# turns stamping off, and skips it quietly outside a checkout.
kernel: $(MKBOOT) | $(BUILD)
	$(GO) build -buildvcs=auto -o $(BUILD)/kernel.linked ./cmd/ntgo
	$(MKBOOT) -in $(BUILD)/kernel.linked -out $(KERNEL)

# CMD (none unless given) is the boot script; the console follows it, and a
# failing command stops it there.
qemu: CMD =
qemu: export NTGO_CMD = $(CMD)
qemu: deps kernel $(RUNNER)
	$(RUNNER) -machine $(MACHINE) $(BOOTARGS) $(DUMPARG) $(KERNEL) $(if $(CMD),"run=$$NTGO_CMD")

# -batch: nobody is at the console, so a failing command or a script that
# ends without poweroff powers off with a non-zero status instead of waiting.
# CMD goes through the environment, so that any quotes in it reach the kernel.
run: export NTGO_CMD = $(CMD)
run: deps kernel $(RUNNER)
	$(RUNNER) -batch -machine $(MACHINE) $(BOOTARGS) $(DUMPARG) $(KERNEL) "run=$$NTGO_CMD" </dev/null

# gdb owns the terminal, so the console takes no input: CMD (none unless
# given) is the boot script, for breakpoints to catch. The VM ends with gdb:
# the launcher is killed (and passes that on to QEMU).
gdb: CMD =
gdb: export NTGO_CMD = $(CMD)
gdb: deps kernel $(RUNNER)
	$(RUNNER) -machine $(MACHINE) $(BOOTARGS) -gdb -gdbport $(GDBPORT) $(KERNEL) "run=$$NTGO_CMD" </dev/null & vm=$$!; \
	gdb -q -x qemu/gdbinit -ex 'target remote 127.0.0.1:$(GDBPORT)' $(BUILD)/kernel.linked; \
	kill $$vm 2>/dev/null; wait $$vm 2>/dev/null; true

ktest: deps $(RUNNER)
	$(RUNNER) -overlay $(OVERLAY) $(PKG)
	$(GO) test -count=1 -overlay $(OVERLAY) -exec '$(abspath $(RUNNER)) -test -machine $(MACHINE)' $(PKG) $(ARGS)

# In-kernel benchmarks, the same pool benchmarks on the host, then the
# host-side boot-time benchmark (-m 256M and -m 4G, alternately); -p 1 so
# that no other package's QEMU competes for the CPU with the one measuring.
bench: deps kernel $(RUNNER)
	$(RUNNER) -overlay $(OVERLAY) $(BPKGS)
	$(GO) test -count=1 -overlay $(OVERLAY) -p 1 -run '^$$' -bench . -benchmem -exec '$(abspath $(RUNNER)) -test -machine $(MACHINE)' $(BPKGS)
	$(GO) test -count=1 -p 1 -run '^$$' -bench . -benchmem $(HPKGS)
	NTGO_KERNEL=$(abspath $(KERNEL)) $(GO) test -count=1 -run '^$$' -bench Boot -benchtime $(BOOTS)x ./qemu

# Kernel ELF size, loaded image span and the smallest -m that boots.
figures: deps kernel
	$(GO) run ./cmd/ntgo-figures $(KERNEL)

host-test:
	$(GO) vet ./...
	$(GO) test -count=1 ./...

kernel-test: deps $(RUNNER)
	$(RUNNER) -overlay $(OVERLAY) $(KPKGS)
	$(GO) test -count=1 -v -overlay $(OVERLAY) -exec '$(abspath $(RUNNER)) -test -machine $(MACHINE)' $(KPKGS)

# ./qemu: the launcher's tests that boot the real kernel (skipped without it).
console-test: deps kernel
	NTGO_KERNEL=$(abspath $(KERNEL)) $(GO) test -count=1 -timeout 40m -v ./qemu ./qemu/consoletest

test: host-test kernel-test console-test

clean:
	rm -rf $(BUILD)

FORCE:
