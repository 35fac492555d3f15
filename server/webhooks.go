package main

import (
	"fmt"
	"time"

	"showcase/webhook"
)

// parseWebhookConfig reads the webhook worker's settings from the
// environment (WEBHOOK_INTERVAL, WEBHOOK_ATTEMPT_TIMEOUT, WEBHOOK_MAX_AGE,
// WEBHOOK_RETRY_BASE); unset ones keep webhook's defaults.
func parseWebhookConfig(s *webhook.Settings, getenv func(string) string) error {
	*s = webhook.Settings{Interval: webhook.DefaultInterval, AttemptTimeout: webhook.DefaultAttemptTimeout,
		MaxAge: webhook.DefaultMaxAge, RetryBase: webhook.DefaultRetryBase}
	for _, f := range []struct {
		key string
		dst *time.Duration
	}{{"WEBHOOK_INTERVAL", &s.Interval}, {"WEBHOOK_ATTEMPT_TIMEOUT", &s.AttemptTimeout},
		{"WEBHOOK_MAX_AGE", &s.MaxAge}, {"WEBHOOK_RETRY_BASE", &s.RetryBase}} {
		if v := getenv(f.key); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return fmt.Errorf("%s must be a positive duration", f.key)
			}
			*f.dst = d
		}
	}
	if s.AttemptTimeout > 5*time.Minute {
		return fmt.Errorf("WEBHOOK_ATTEMPT_TIMEOUT must be at most 5m")
	}
	return nil
}
