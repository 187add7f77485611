# clawdbot: build, run, test. Every target works on a fresh machine with Go 1.26.
GO       ?= go
BIN      := bin/clawdbot
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null)
LDFLAGS  := -s -w -X github.com/clawdbot/clawdbot/cmd/clawdbot/cli.Version=$(VERSION) \
            -X github.com/clawdbot/clawdbot/cmd/clawdbot/cli.Commit=$(COMMIT)
# CGO off: one static binary.
export CGO_ENABLED ?= 0
# telego's documented stdjson tag: encoding/json instead of its default
# go-json, whose package init costs ~3 ms and ~4 MB of heap in every
# process (cold start and idle RSS targets, doc/architecture.md). A plain
# `go build` without it makes the same binary, only slower to start.
export GOFLAGS += -tags=stdjson

.PHONY: build run test unit fmt-check vet staticcheck doccheck cross bench fuzz schema lint screenshots clean

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/clawdbot

# The gateway on the embedded default: the dev profile, loopback, no config needed.
run: build
	./$(BIN) --dev gateway --allow-unconfigured

# Everything: lint (formatting, vet, staticcheck, doc citations), race tests,
# and the Windows and macOS builds.
test: lint unit cross

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# -race needs cgo.
unit:
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 12m ./...

cross:
	GOOS=windows GOARCH=amd64 $(GO) build ./...
	GOOS=darwin GOARCH=arm64 $(GO) build ./...
	GOOS=windows GOARCH=amd64 $(GO) vet ./...
	GOOS=darwin GOARCH=arm64 $(GO) vet ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./...

# Short fuzzing of every Fuzz target (CI runs only their seed corpora via make test).
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 200x $$pkg || exit 1; \
	  done; done

# Regenerate the JSON Schemas: the wire types (wire/schema/) and the config
# types (gateway/configrpc/configschema.json, config.schema's answer).
schema:
	$(GO) generate ./wire ./gateway/configrpc

lint: fmt-check vet staticcheck doccheck

# One PNG per Control UI tab into doc/screenshots/ (README shows them), from
# the browser tests' harness: a real gateway, a fake model, headless
# Chromium (apt-get install chromium).
screenshots:
	CONTROLUI_SCREENSHOTS_DIR=$(CURDIR)/doc/screenshots CONTROLUI_BROWSER_REQUIRED=1 \
	  $(GO) test -count=1 -run '^TestScreenshots$$' -v ./gateway/controlui/browsertest

# staticcheck is pinned so every machine reports the same findings; 2026.1
# (v0.7.0) is the first release that understands Go 1.26. .ci/run installs it.
STATICCHECK_VERSION := v0.8.2
STATICCHECK_INSTALL := $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
STATICCHECK ?= $(firstword $(shell command -v staticcheck 2>/dev/null) \
                 $(wildcard $(shell $(GO) env GOBIN)/staticcheck $(shell $(GO) env GOPATH)/bin/staticcheck))

# Checked for every GOOS the cross target builds: build-tagged files differ.
staticcheck:
	@if [ -z "$(STATICCHECK)" ]; then \
	  echo "staticcheck not found; install it with: $(STATICCHECK_INSTALL)" >&2; exit 1; fi
	@v=$$($(STATICCHECK) -version); case "$$v" in *"($(STATICCHECK_VERSION:v%=%))"*) ;; \
	  *) echo "note: $$v is not the pinned $(STATICCHECK_VERSION) ($(STATICCHECK_INSTALL))" >&2;; esac
	@out=$$(mktemp); trap 'rm -f "$$out"' EXIT; fail=0; \
	for os in linux windows darwin; do \
	  n=$$(wc -l <"$$out"); GOOS=$$os $(STATICCHECK) ./... >>"$$out" 2>&1; rc=$$?; \
	  if [ $$rc -ne 0 ] && [ "$$(wc -l <"$$out")" -eq "$$n" ]; then \
	    echo "staticcheck failed for GOOS=$$os (exit $$rc)" >&2; fail=1; fi; \
	done; \
	sort -u "$$out" -o "$$out"; \
	if [ -s "$$out" ]; then echo "staticcheck:"; cat "$$out"; fail=1; fi; \
	exit $$fail


# Every "spec §N" a Go comment cites must exist in doc/, and no comment may
# cite an issue number.
doccheck:
	sh doc/tools/spec-refs.sh

clean:
	rm -rf bin
