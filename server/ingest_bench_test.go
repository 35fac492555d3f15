package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"showcase/store"
	"showcase/store/storetest"
)

// BenchmarkRecordEvents drives `recordEvents` with one VIEW per request
// (POST /graphql) through the API port's whole handler chain in-process, as
// the load benchmark's ingest group sends it: anonymous with a deviceId of
// its own per request, and signed in with a session's access token (the
// token checked and the session looked up on every request). It reports
// the process's CPU time per request (cpu-ns/op) and the SQL statements
// per request (stmts/op; 0 for an accepted event, which is only buffered).
// The buffer is flushed every 5,000 requests, outside the measure.
func BenchmarkRecordEvents(b *testing.B) {
	db := storetest.NewDB(b)
	ctx := context.Background()
	u, err := db.CreateUser(ctx, store.NewUser{Email: "v@example.com", PasswordHash: "-", Handle: "viewer", DisplayName: "V"})
	if err != nil {
		b.Fatal(err)
	}
	video, err := db.PublishVideo(ctx, store.NewVideo{AuthorID: u.ID, Caption: "c", PlaybackURL: "https://x/1", DurationSeconds: 10})
	if err != nil {
		b.Fatal(err)
	}
	_, session, err := db.IssueRefreshToken(ctx, u.ID)
	if err != nil {
		b.Fatal(err)
	}
	tokens := testTokens(b)
	token, err := tokens.IssueSession(u.ID, session)
	if err != nil {
		b.Fatal(err)
	}
	events := store.NewEventBuffer(db)
	api := benchAPI(b, db, tokens, events)
	videoID := base64.RawURLEncoding.EncodeToString([]byte("Video:" + strconv.FormatInt(video.ID, 10)))
	const mutation = `mutation($e: [EngagementEventInput!]!) { recordEvents(events: $e) { accepted } }`
	for _, bc := range []struct {
		name  string
		token string
	}{{"anonymous", ""}, {"signedIn", token}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			statements := store.StatementsExecuted()
			start := cpuTime()
			var flushing time.Duration // CPU time of the flushes, not counted
			for i := 0; i < b.N; i++ {
				if i%5000 == 4999 {
					// Under the buffer's bound (10,000 before a flush measured its speed).
					b.StopTimer()
					f, s := cpuTime(), store.StatementsExecuted()
					if err := events.Flush(ctx); err != nil {
						b.Fatal(err)
					}
					flushing += cpuTime() - f
					statements += store.StatementsExecuted() - s
					b.StartTimer()
				}
				body := fmt.Sprintf(`{"query":%q,"variables":{"e":[{"type":"VIEW","contentId":%q,"watchMs":1000,"deviceId":"bench-%s-%d"}]}}`,
					mutation, videoID, bc.name, i)
				req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				if bc.token != "" {
					req.Header.Set("Authorization", "Bearer "+bc.token)
				}
				w := httptest.NewRecorder()
				api.ServeHTTP(w, req)
				if w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), []byte(`{"data":{"recordEvents":{"accepted":1}}}`)) {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
			b.ReportMetric(float64(cpuTime()-start-flushing)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(store.StatementsExecuted()-statements)/float64(b.N), "stmts/op")
		})
	}
}
