# fieldvisit — common tasks. `make test` is what CI runs (see .ci/run).

GO        ?= go
PKGS      ?= ./...
# Extra flags for go test, e.g. make test TESTFLAGS='-run TestS3 -v' PKGS=./storage/...
TESTFLAGS ?=

.PHONY: test vet build fmt-check demo cluster-test

# Tests run against a real PostgreSQL and a real MinIO, which
# internal/testenv provides for the whole run (the first run builds MinIO, ~7 min).
# Under CI=true a test whose service is unreachable fails instead of skipping.
test: vet
	$(GO) run ./internal/testenv -- $(GO) test -count=1 -p 2 -timeout 20m $(TESTFLAGS) $(PKGS)

vet:
	$(GO) vet $(PKGS)

build:
	$(GO) build ./...
	$(GO) build -o bin/fieldvisit ./cmd/fieldvisit

fmt-check:
	@out="$$(gofmt -l .)"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

demo:
	$(GO) run ./cmd/fieldvisit serve --demo

# A PostgreSQL primary + streaming standby, a 4-node MinIO, 3 replicas and
# haproxy (deploy/haproxy.cfg) on loopback, the sim through haproxy while a
# replica and a MinIO node are killed; see internal/cluster and deploy/README.md.
cluster-test:
	$(GO) run ./internal/cluster
