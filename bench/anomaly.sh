#!/usr/bin/env bash
# Scores the anomaly detector on generated two-week series of a firewall's
# blocked-request rate (daily and weekly seasonality, noise, outliers in
# the first week, injected incidents in the second, a back-to-school
# twenty-fold spike among them): precision, recall over the incidents a
# good detector should catch, and mean detection delay, per seed.
set -euo pipefail
cd "$(dirname "$0")/.."
go test -run 'TestEvaluation' -v ./internal/anomaly/ | grep -E 'seed|ok|FAIL'
go test -run '^$' -bench 'BenchmarkEvaluation' -benchtime 3x ./internal/anomaly/
