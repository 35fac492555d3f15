# The two commands a newcomer needs:
#   make run    serve the API with demo data on an embedded PostgreSQL
#   make test   run every test against a throwaway PostgreSQL
# Both install PostgreSQL's server binaries first when the machine lacks them.

GO ?= go

.PHONY: run test check generate postgres browser npm bench bench-quick

# The demo's 60 people make real follower counts small: the demo counts a
# creator with 25 followers as a top creator (demo.TopCreatorFollowers),
# unless TOP_CREATOR_FOLLOWERS is set.
run: postgres
	TOP_CREATOR_FOLLOWERS=$${TOP_CREATOR_FOLLOWERS:-25} $(GO) run ./server

test: postgres browser npm
	$(GO) test -timeout 30m ./...

# bench generates a dataset at scale, runs the load scenarios against the
# real server and baselines (net/http, pgbench), and writes bench-results/.
bench: postgres
	$(GO) run ./server/bench

# bench-quick is the same on a small dataset with 2-second runs.
bench-quick: postgres
	$(GO) run ./server/bench -quick

# check is what CI runs: formatting, vet, generated code up to date, tests.
check:
	.ci/run

generate:
	$(GO) generate ./...

# PostgreSQL server binaries (initdb, pg_ctl) from Debian's packages. The
# packaged default cluster is not wanted: the server and the tests run their own.
postgres:
	@if [ -n "$$PG_BIN" ] || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then \
		exit 0; \
	fi; \
	echo "Installing PostgreSQL server binaries (apt-get)..."; \
	SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
	$$SUDO apt-get update -q && \
	DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q postgresql-common && \
	$$SUDO sed -i 's/^#* *create_main_cluster.*/create_main_cluster = false/' /etc/postgresql-common/createcluster.conf && \
	DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q postgresql

# Headless Chromium for the browser tests, from Debian's packages.
browser:
	@if command -v chromium >/dev/null 2>&1; then exit 0; fi; \
	echo "Installing Chromium for the browser tests (apt-get)..."; \
	SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
	$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium

# The npm packages the tests run (graphql-http's GraphQL-over-HTTP audit,
# graphql-js's introspection query), exactly as server/testdata/npm's
# package-lock.json pins them; reinstalled only when the lock changes.
NPM_TOOLS := server/testdata/npm
npm: $(NPM_TOOLS)/node_modules/.package-lock.json

$(NPM_TOOLS)/node_modules/.package-lock.json: $(NPM_TOOLS)/package.json $(NPM_TOOLS)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "Installing Node.js and npm for the tests (apt-get)..."; \
		SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q nodejs npm; }
	npm ci --prefix $(NPM_TOOLS) --no-audit --no-fund
	@touch $@
