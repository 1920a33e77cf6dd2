# gridwatch task runner: `make help` lists the targets. CI calls `make test` (via .ci/run).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
KAFKA := bash deploy/local/kafka.sh
SRC := streams schemas tests

.PHONY: help install fmt lint typecheck test test-unit test-integration schemas \
        kafka-up kafka-down kafka-reset kafka-status topics worker demo demo-stop clean chromium test-faults

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

install: $(BIN)/.installed ## create .venv and install gridwatch with its dev tools

fmt: install ## format the code
	$(BIN)/ruff format $(SRC)
	$(BIN)/ruff check --fix $(SRC)

lint: install ## ruff (lint + format check)
	$(BIN)/ruff check $(SRC)
	$(BIN)/ruff format --check $(SRC)

typecheck: install ## mypy --strict
	$(BIN)/mypy

schemas: install ## regenerate the JSON Schemas under schemas/json/
	$(BIN)/python -m schemas.export

test-unit: install ## unit tests (no broker)
	$(BIN)/pytest -m "not integration" -q

chromium: ## Debian's chromium and a Chinese font for the live page test (apt-get, as root)
	bash deploy/local/chromium.sh

test-integration: install kafka-up chromium ## integration tests against the real local broker
	$(BIN)/pytest -m "integration and not faults" -q

# GRIDWATCH_FAULT_REPORTS sizes the SIGKILL test (default 100,000; .ci/run uses fewer).
test-faults: install kafka-up ## fault tests: SIGKILL, broker restart, takeover, scale-out, fuzz
	$(BIN)/pytest -m faults -q --durations=0

test: lint typecheck test-unit test-integration test-faults ## everything CI runs

kafka-up: ## fetch (once) and start the local Kafka 4.x broker on 127.0.0.1:9092
	$(KAFKA) up

kafka-down: ## stop the local broker
	$(KAFKA) down

kafka-reset: ## stop the broker and delete its data
	$(KAFKA) reset

kafka-status: ## is the local broker running?
	$(KAFKA) status

topics: install kafka-up ## create the pipeline's topics
	$(BIN)/gridwatch topics create

worker: install topics ## run one worker in the foreground
	$(BIN)/gridwatch worker

demo: install kafka-up ## broker, topics, worker, sample traffic, then what was accepted and refused
	bash deploy/local/demo.sh

demo-stop: ## stop the demo's worker and the broker
	bash deploy/local/demo.sh stop
	$(KAFKA) down

clean: ## remove the venv and caches (broker data stays: see kafka-reset)
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache *.egg-info

# Prometheus and promtool come from Debian's `prometheus` package, unpacked outside the repo
# (~/.cache/gridwatch/prometheus, GRIDWATCH_PROMETHEUS_HOME); nothing is installed system-wide.
PROMETHEUS := bash deploy/local/prometheus.sh
.PHONY: prometheus-fetch prometheus-check

prometheus-fetch: ## fetch (once) promtool and prometheus from Debian's package
	$(PROMETHEUS) fetch

prometheus-check: prometheus-fetch ## promtool: check deploy/prometheus config and rules, run the alert tests
	$(PROMETHEUS) promtool check config deploy/prometheus/prometheus.yml
	$(PROMETHEUS) promtool check rules deploy/prometheus/alerts.yml
	$(PROMETHEUS) promtool test rules deploy/prometheus/alerts_test.yml

# Three-node KRaft cluster on loopback for replication and failover tests
# (deploy/local/kafka-cluster.sh; state in ~/.cache/gridwatch/kafka-cluster, GRIDWATCH_KAFKA_CLUSTER_HOME).
.PHONY: cluster-up cluster-down

cluster-up: ## start the three-node Kafka cluster on 127.0.0.1:19092,19093,19094
	bash deploy/local/kafka-cluster.sh up

cluster-down: ## stop the three-node Kafka cluster
	bash deploy/local/kafka-cluster.sh down
