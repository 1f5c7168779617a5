# omnilink: `make run` serves the console on a private database; `make test` runs every check.
GO       ?= go
PKGS     ?= ./...
ARTIFACTS ?= $(CURDIR)/test-artifacts

.PHONY: run test check deps deps-postgres deps-chromium build generate bench fuzz clean vendor-liff

run: deps-postgres
	$(GO) run ./cmd/omnilink dev

build:
	$(GO) build -o bin/omnilink ./cmd/omnilink

generate:
	$(GO) tool templ generate

# deps installs what the tests need from Debian when it is missing (as root), or says what to install.
deps: deps-postgres deps-chromium

deps-postgres:
	@if ! command -v pg_ctl >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing postgresql"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
		else \
			echo "PostgreSQL server binaries are missing: sudo apt-get install postgresql (or set DATABASE_URL)"; exit 1; \
		fi; \
	fi

deps-chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing chromium"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
		else \
			echo "chromium is missing: sudo apt-get install chromium fonts-noto-cjk"; exit 1; \
		fi; \
	fi

# check: formatting, vet, and generated templ files in sync with their sources.
check:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '_templ.go$$')); \
		if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool templ generate >/dev/null
	@if [ -n "$$(git status --porcelain -- '*_templ.go')" ]; then \
		echo "templ output is stale; run make generate and commit:"; git status --porcelain -- '*_templ.go'; exit 1; fi

# test starts one throw-away Postgres cluster for all test binaries and removes it afterwards.
test: deps check
	@set -e; dir=$$(mktemp -d /tmp/omnilink-testdb.XXXXXX); chmod 755 $$dir; \
	$(GO) build -o $$dir/testdb ./internal/testutil/testdb; \
	url=$$($$dir/testdb start $$dir/cluster); \
	trap "$$dir/testdb stop $$dir/cluster >/dev/null 2>&1 || true; rm -rf $$dir" EXIT; \
	mkdir -p $(ARTIFACTS); \
	OMNILINK_TEST_ADMIN_URL=$$url OMNILINK_TEST_ARTIFACTS=$(ARTIFACTS) $(GO) test -count=1 -timeout 20m $(PKGS)

bench: deps-postgres
	@set -e; dir=$$(mktemp -d /tmp/omnilink-benchdb.XXXXXX); chmod 755 $$dir; \
	$(GO) build -o $$dir/testdb ./internal/testutil/testdb; \
	url=$$($$dir/testdb start $$dir/cluster); \
	trap "$$dir/testdb stop $$dir/cluster >/dev/null 2>&1 || true; rm -rf $$dir" EXIT; \
	OMNILINK_TEST_ADMIN_URL=$$url $(GO) run ./internal/bench

# The official LIFF SDK, pinned, installed without running any package script, bundled into
# one file with esbuild's Go API. Rebuilding yields the same bytes; commit the bundle.
LIFF_VERSION := 2.31.0
vendor-liff:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	cd "$$tmp" && npm init -y >/dev/null && \
	npm install --ignore-scripts --no-audit --no-fund --save-exact @line/liff@$(LIFF_VERSION) >/dev/null && \
	cd - >/dev/null && go run ./cmd/vendorliff -node-modules "$$tmp" -version $(LIFF_VERSION) -out static/vendor/liff

clean:
	rm -rf bin $(ARTIFACTS)
