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
# to read the access log, node to run PAC files.
TEST_PACKAGES := curl goaccess nodejs

.PHONY: build run test test-deps bench bench-go fuzz vet clean

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
# these machines; otherwise through sudo).
test-deps:
	@missing=""; for p in $(TEST_PACKAGES); do command -v $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

bench: build
	bench/run

# bench-go runs the Go benchmarks and compares them with the previous run.
bench-go:
	@mkdir -p bench/results
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./codec/ ./cache/ ./engine/ | tee bench/results/go-bench.new.txt
	@if [ -f bench/results/go-bench.txt ]; then \
		$(GO) run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da bench/results/go-bench.txt bench/results/go-bench.new.txt; fi
	@mv bench/results/go-bench.new.txt bench/results/go-bench.txt

# bench-trace replays one generated trace through edgeproxy as plain LRU,
# with admission, and with admission plus prefetching (issue 6); flags go in
# TRACE_FLAGS, e.g. make bench-trace TRACE_FLAGS='-seed 2 -keep'.
.PHONY: bench-trace
bench-trace:
	$(GO) run ./bench/trace/compare $(TRACE_FLAGS)

fuzz:
	$(GO) test ./codec/ -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./codec/ -run '^$$' -fuzz '^FuzzChunked$$' -fuzztime $(FUZZTIME)

vet:
	$(GO) vet ./...

clean:
	rm -rf bin
