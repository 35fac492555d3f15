package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// statements is how many SQL statements one request of a scenario costs.
type statements struct {
	Scenario   string
	PerRequest float64
}

// statementsPerRequest sends n requests one after another and divides the
// growth of the server's SQL statement counter (GET /metrics) by n.
func (e *environment) statementsPerRequest(ctx context.Context, n int, next request) (float64, error) {
	before, err := e.statementsSent(ctx)
	if err != nil {
		return 0, err
	}
	for i := 0; i < n; i++ {
		req, err := next(int64(i))
		if err != nil {
			return 0, err
		}
		if send(req.WithContext(ctx)) != "" {
			return 0, fmt.Errorf("request %d failed", i)
		}
	}
	after, err := e.statementsSent(ctx)
	if err != nil {
		return 0, err
	}
	return float64(after-before) / float64(n), nil
}

// statementsSent reads showcase_sql_statements_total from the server's debug
// listener (DEBUG_ADDR), the only place /metrics is served.
func (e *environment) statementsSent(ctx context.Context) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.debug+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	lines := bufio.NewScanner(res.Body)
	for lines.Scan() {
		if v, ok := strings.CutPrefix(lines.Text(), "showcase_sql_statements_total "); ok {
			f, err := strconv.ParseFloat(v, 64)
			return int64(f), err
		}
	}
	return 0, fmt.Errorf("no showcase_sql_statements_total in /metrics")
}
