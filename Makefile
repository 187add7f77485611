# clawdbot: build, run, test. Every target works on a fresh machine with Go 1.26.
GO       ?= go
BIN      := bin/clawdbot
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null)
LDFLAGS  := -s -w -X github.com/clawdbot/clawdbot/cmd/clawdbot/cli.Version=$(VERSION) \
            -X github.com/clawdbot/clawdbot/cmd/clawdbot/cli.Commit=$(COMMIT)
# CGO off: one static binary.
export CGO_ENABLED ?= 0

.PHONY: build run test unit fmt-check vet cross bench fuzz schema lint clean

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/clawdbot

# The gateway on the embedded default: the dev profile, loopback, no config needed.
run: build
	./$(BIN) --dev gateway --allow-unconfigured

# Everything: formatting, vet, race tests, and the Windows and macOS builds.
test: fmt-check vet unit cross

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
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; done

# Regenerate the JSON Schema from the wire types.
schema:
	$(GO) generate ./wire

lint: fmt-check vet

clean:
	rm -rf bin
