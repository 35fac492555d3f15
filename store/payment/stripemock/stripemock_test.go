package stripemock_test

import (
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"showcase/store/payment/stripemock"
)

// TestStartServesOnLoopbackAndStops: Start answers on 127.0.0.1, and the
// process is gone once the test that started it ends.
func TestStartServesOnLoopbackAndStops(t *testing.T) {
	var base string
	t.Run("Run", func(t *testing.T) {
		base = stripemock.Start(t)
		u, err := url.Parse(base)
		if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" {
			t.Fatalf("base URL %q, want http://127.0.0.1:PORT", base)
		}
		req, _ := http.NewRequest(http.MethodGet, base+"/v1/payment_intents/pi_123", nil)
		req.Header.Set("Authorization", "Bearer "+stripemock.SecretKey)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET a PaymentIntent: %s", res.Status)
		}
	})
	// Killed and waited for in the subtest's cleanup: nothing listens.
	conn, err := net.DialTimeout("tcp", base[len("http://"):], 5*time.Second)
	if err == nil {
		conn.Close()
		t.Errorf("%s still accepts connections after the test ended", base)
	}
}
