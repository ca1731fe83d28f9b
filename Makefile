# edgeproxy: two commands set everything up on a fresh machine:
#   make run    build and start the proxy on its embedded defaults
#   make test   run every test (installs the tools the tests drive)

GO      ?= go
GOFMT   ?= $(shell $(GO) env GOROOT)/bin/gofmt
BIN     := bin/edgeproxy
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
FUZZTIME ?= 30s

# Debian packages the end-to-end tests drive: curl as a client, goaccess
# and calamaris to read the access log, prometheus for promtool to check
# /metrics, htpasswd (apache2-utils) to write every hash it knows, logrotate
# and systemd-analyze (systemd) on what make install puts in place, node to
# run PAC files; wget and lynx as ftp_proxy/gopher_proxy clients, pyftpdlib
# as the FTP server; nft (nftables) and ip (iproute2) to build the
# interception tests' network namespaces.
TEST_PACKAGES := curl goaccess calamaris prometheus apache2-utils logrotate systemd nodejs wget lynx python3-pyftpdlib nftables iproute2 haproxy

# make install puts the program under PREFIX and its configuration under
# SYSCONFDIR; DESTDIR stages the whole tree elsewhere (for a package).
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
CONFDIR    ?= $(SYSCONFDIR)/edgeproxy
UNITDIR    ?= $(PREFIX)/lib/systemd/system
DOCDIR     ?= $(PREFIX)/share/doc/edgeproxy
INSTALL    ?= install

.PHONY: build run test test-deps install bench bench-go fuzz vet clean

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/edgeproxy

run: build
	./$(BIN)

test: test-deps
	@unformatted="$$($(GOFMT) -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 25m ./...

# test-deps installs missing test tools from Debian's packages (root, as on
# these machines; otherwise through sudo). A package is present when dpkg
# says so (apache2-utils and systemd have no command of their name).
test-deps:
	@missing=""; for p in $(TEST_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || command -v $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

# install: the binary, the systemd unit (its paths rewritten to the ones
# installed), the logrotate snippet, the documentation, and an example
# configuration with allow and deny lists, which an existing file is never
# replaced by.
install: build
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(CONFDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(SYSCONFDIR)/logrotate.d $(DESTDIR)$(DOCDIR)/tuning
	$(INSTALL) -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/edgeproxy
	@for f in edgeproxy.yaml allow.txt deny.txt; do \
		dst=$(DESTDIR)$(CONFDIR)/$$f; \
		if [ -e $$dst ]; then echo "keeping $$dst"; continue; fi; \
		echo "installing $$dst"; \
		$(SUBST) cmd/edgeproxy/dist/$$f > $$dst.tmp && chmod 0644 $$dst.tmp && mv $$dst.tmp $$dst || exit 1; \
	done
	$(SUBST) tuning/edgeproxy.service > $(DESTDIR)$(UNITDIR)/edgeproxy.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/edgeproxy.service
	$(INSTALL) -m 0644 cmd/edgeproxy/dist/logrotate $(DESTDIR)$(SYSCONFDIR)/logrotate.d/edgeproxy
	$(INSTALL) -m 0644 README.md engine/config/edgeproxy.example.yaml $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -m 0644 tuning/README.md tuning/sysctl.conf tuning/limits.conf $(DESTDIR)$(DOCDIR)/tuning/

# SUBST rewrites the default paths in cmd/edgeproxy/dist/ and the unit to the ones chosen.
SUBST = sed -e 's|/usr/local/bin/edgeproxy|$(BINDIR)/edgeproxy|g' \
	-e 's|/usr/local/share/doc/edgeproxy|$(DOCDIR)|g' \
	-e 's|/etc/edgeproxy|$(CONFDIR)|g' \
	-e 's|/etc/logrotate.d|$(SYSCONFDIR)/logrotate.d|g'

bench: build
	bench/run

# bench-origin is issue 12's run (about 10 minutes on a quiet machine):
# edgeproxy of this tree against the binary of BENCH_BASE (default: main just
# before the first origin-side merge), nginx and Traffic Server, in the
# scenarios issue 12 is judged by; report.md's "Issue 12" section gives the
# verdicts (bench/README.md).
BENCH_BASE ?= 6c53ce3
.PHONY: bench-origin
bench-origin: build
	bench/run --base $(BENCH_BASE) --scenarios pass-1k-c64,zipf-mix,hit-1k-c64,idle-10k \
		--products edgeproxy,edgeproxy-base,nginx,trafficserver --reps 3 --duration 10s \
		--nice -10 --max-foreign 10

# bench-go runs the Go benchmarks and compares them with the previous run.
bench-go:
	@mkdir -p bench/results
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./codec/ ./cache/ ./engine/ | tee bench/results/go-bench.new.txt
	@if [ -f bench/results/go-bench.txt ]; then \
		$(GO) run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da bench/results/go-bench.txt bench/results/go-bench.new.txt; fi
	@mv bench/results/go-bench.new.txt bench/results/go-bench.txt

# bench-trace prints issue 17's table for the real log TRACE_LOG (the shared
# blog-2016 log when it is there): HR and BHR at 1%, 5% and 10% of the log's
# distinct bytes, for LRU, Squid's GDSF and LFUDA, Belady and the edge
# policy simulated on the same input, and for edgeproxy replayed serially
# as LRU, with admission, with the edge policy and with edge plus
# prefetching. Without a log it replays a generated trace (issue 6). Flags
# go in TRACE_FLAGS, e.g. make bench-trace TRACE_FLAGS='-keep'.
TRACE_LOG ?= $(firstword $(wildcard ../shared/traces/blog-2016.squid.log.gz ../../shared/traces/blog-2016.squid.log.gz))
TRACE_CONFIGS ?= lru,admission,edge,edge+prefetch
.PHONY: bench-trace
bench-trace:
ifneq ($(TRACE_LOG),)
	$(GO) run ./bench/trace/compare -log $(TRACE_LOG) -sizes 1,5,10 -configs $(TRACE_CONFIGS) $(TRACE_FLAGS)
else
	$(GO) run ./bench/trace/compare $(TRACE_FLAGS)
endif

fuzz:
	$(GO) test ./codec/ -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./codec/ -run '^$$' -fuzz '^FuzzChunked$$' -fuzztime $(FUZZTIME)
	$(GO) test ./engine/ftp/ -run '^$$' -fuzz '^FuzzParseTarget$$' -fuzztime $(FUZZTIME)
	$(GO) test ./engine/gopher/ -run '^$$' -fuzz '^FuzzParseURL$$' -fuzztime $(FUZZTIME)
	$(GO) test ./engine/gopher/ -run '^$$' -fuzz '^FuzzAppendMenu$$' -fuzztime $(FUZZTIME)

vet:
	$(GO) vet ./...

clean:
	rm -rf bin
