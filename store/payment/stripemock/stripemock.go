// Package stripemock starts Stripe's official API mock, stripe-mock
// (github.com/stripe/stripe-mock), for tests of code that talks to Stripe.
//
// stripe-mock is built from the Go module proxy with `go install` the first
// time a process needs it, then kept in the user's cache directory
// (os.UserCacheDir()/showcase/stripe-mock-VERSION-GOOS-GOARCH, or under
// os.TempDir() when that is not writable), so it is not
// a requirement of this module's go.mod. It needs the `go` command on PATH
// (go test puts it there) and, on a fresh machine, the module proxy.
//
// stripe-mock is stateless: it checks each request against Stripe's OpenAPI
// spec and answers with a fixture into which it copies the request's
// parameters (amount, currency, metadata, …), with a fresh id for each
// created object. It never declines a card and never remembers an
// idempotency key. This package starts it with patched fixtures so that a
// created PaymentIntent comes back with the status chosen in Options
// (succeeded by default, where the bundled fixture says
// requires_payment_method), and so that every PaymentIntent search answers
// one PaymentIntent whose showcase_key metadata is SearchKey.
package stripemock

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Module and Version name the stripe-mock that Start runs.
const (
	Module  = "github.com/stripe/stripe-mock"
	Version = "v0.197.0"
)

// SecretKey is a test key stripe-mock accepts (it checks only the form of
// the Authorization header).
const SecretKey = "sk_test_stripemock"

// SearchKey is the showcase_key metadata value of the one PaymentIntent that
// every PaymentIntent search answers with.
const SearchKey = "stripemock-search-key"

// Options changes the fixtures stripe-mock answers with.
type Options struct {
	// PaymentIntentStatus is the status of every PaymentIntent stripe-mock
	// returns, created, retrieved or searched (a Stripe status such as
	// "succeeded", "requires_payment_method", "processing"). Empty means
	// "succeeded".
	PaymentIntentStatus string
}

// Start runs stripe-mock on loopback with the default Options and returns
// its base URL (http://127.0.0.1:PORT, to use as the Stripe API base). It
// returns once stripe-mock answers, and stops it when t ends. It fails t if
// stripe-mock cannot be built or started.
func Start(t testing.TB) string {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith is Start with Options. HTTP and HTTPS both listen on
// 127.0.0.1 on ports the system chooses; only the HTTP URL is returned.
func StartWith(t testing.TB, o Options) string {
	t.Helper()
	status := o.PaymentIntentStatus
	if status == "" {
		status = "succeeded"
	}
	b, err := install()
	if err != nil {
		t.Fatalf("stripemock: %v", err)
	}
	fixtures := filepath.Join(t.TempDir(), "fixtures.json")
	if err := writeFixtures(b.fixtures, fixtures, status); err != nil {
		t.Fatalf("stripemock: %v", err)
	}

	out := &output{http: make(chan string, 1)}
	cmd := exec.Command(b.binary,
		"-http-addr", "127.0.0.1:0",
		// Without -https-addr, stripe-mock also serves HTTPS on every
		// interface at port 12112.
		"-https-addr", "127.0.0.1:0",
		"-fixtures", fixtures)
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.Env = os.Environ()
	setDeathSignal(cmd)
	started := make(chan error, 1)
	exited := make(chan error, 1)
	go func() {
		// On Linux the child is killed when the thread that started it
		// ends (see setDeathSignal), so keep this goroutine's thread alive
		// for as long as the child runs: a locked goroutine keeps its
		// thread, and the thread ends with it.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		exited <- cmd.Wait()
	}()
	if err := <-started; err != nil {
		t.Fatalf("stripemock: start %s: %v", b.binary, err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = cmd.Process.Kill()
		<-exited
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("stripe-mock output (last %d bytes):\n%s", maxOutput, out.String())
		}
	})

	var addr string
	select {
	case addr = <-out.http:
	case err := <-exited:
		exited <- err
		t.Fatalf("stripemock: stripe-mock exited before listening (%v):\n%s", err, out.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("stripemock: stripe-mock printed no addresses in 60s:\n%s", out.String())
	}
	for _, a := range out.addresses() {
		host, _, err := net.SplitHostPort(a)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			t.Fatalf("stripemock: stripe-mock listens on %s, not loopback", a)
		}
	}
	base := "http://" + addr
	if err := waitReady(base, 30*time.Second); err != nil {
		t.Fatalf("stripemock: %v:\n%s", err, out.String())
	}
	return base
}

// waitReady polls base until stripe-mock answers an API request, or
// timeout passes.
func waitReady(base string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/balance", nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+SecretKey)
		res, err := client.Do(req)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET /v1/balance: %s", res.Status)
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("stripe-mock at %s not ready after %s: %v", base, timeout, last)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// build is a stripe-mock binary and the bundled fixtures of its module.
type build struct {
	binary   string
	fixtures string
}

var (
	installOnce   sync.Once
	installResult build
	installErr    error
)

// install builds stripe-mock once per process (or finds it in the user's
// cache directory) and locates its module's bundled fixtures.
func install() (build, error) {
	installOnce.Do(func() {
		installResult, installErr = doInstall()
	})
	return installResult, installErr
}

func doInstall() (build, error) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return build{}, fmt.Errorf("the go command is needed to build stripe-mock: %v", err)
	}
	// Run the go command outside any module or workspace, so that neither
	// this module's go.mod nor its flags take part.
	work, err := os.MkdirTemp("", "stripemock-go-")
	if err != nil {
		return build{}, err
	}
	defer os.RemoveAll(work)
	env := append(os.Environ(), "GOWORK=off", "GOFLAGS=", "GO111MODULE=on", "CGO_ENABLED=0")
	run := func(extraEnv []string, args ...string) ([]byte, error) {
		cmd := exec.Command(goCmd, args...)
		cmd.Dir = work
		cmd.Env = append(env, extraEnv...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return out, nil
	}

	out, err := run(nil, "mod", "download", "-json", Module+"@"+Version)
	if err != nil {
		return build{}, err
	}
	var mod struct{ Dir, Error string }
	if err := json.Unmarshal(out, &mod); err != nil {
		return build{}, fmt.Errorf("go mod download: %v", err)
	}
	if mod.Error != "" || mod.Dir == "" {
		return build{}, fmt.Errorf("go mod download %s@%s: %s", Module, Version, mod.Error)
	}
	b := build{fixtures: filepath.Join(mod.Dir, "embedded", "openapi", "fixtures3.json")}

	name := "stripe-mock"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	sub := filepath.Join("showcase", fmt.Sprintf("stripe-mock-%s-%s-%s", Version, runtime.GOOS, runtime.GOARCH))
	dir := filepath.Join(os.TempDir(), sub)
	if cache, err := os.UserCacheDir(); err == nil {
		dir = filepath.Join(cache, sub)
	}
	b.binary = filepath.Join(dir, name)
	if _, err := os.Stat(b.binary); err == nil {
		return b, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		// A read-only cache directory: build into the temporary one.
		dir = filepath.Join(os.TempDir(), sub)
		b.binary = filepath.Join(dir, name)
		if _, err := os.Stat(b.binary); err == nil {
			return b, nil
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return build{}, err
		}
	}
	// Install into a private directory and rename: processes that race
	// here each install a whole binary, and the last rename wins.
	gobin, err := os.MkdirTemp(dir, "install-")
	if err != nil {
		return build{}, err
	}
	defer os.RemoveAll(gobin)
	if _, err := run([]string{"GOBIN=" + gobin}, "install", Module+"@"+Version); err != nil {
		return build{}, err
	}
	if err := os.Rename(filepath.Join(gobin, name), b.binary); err != nil {
		return build{}, err
	}
	return b, nil
}

// writeFixtures copies the bundled fixtures at from to to, with the
// PaymentIntent fixture given status and SearchKey in its metadata.
func writeFixtures(from, to, status string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return fmt.Errorf("read fixtures: %w", err)
	}
	var fx map[string]map[string]map[string]any
	if err := json.Unmarshal(data, &fx); err != nil {
		return fmt.Errorf("decode fixtures: %w", err)
	}
	pi := fx["resources"]["payment_intent"]
	if pi == nil {
		return errors.New("fixtures have no payment_intent resource")
	}
	pi["status"] = status
	pi["metadata"] = map[string]any{"showcase_key": SearchKey}
	pi["next_action"] = nil
	pi["canceled_at"] = nil
	pi["cancellation_reason"] = nil
	pi["last_payment_error"] = nil
	switch status {
	case "succeeded":
		pi["amount_received"] = pi["amount"]
	case "requires_payment_method":
		pi["last_payment_error"] = map[string]any{"type": "card_error", "code": "card_declined", "decline_code": "generic_decline"}
	case "canceled":
		pi["canceled_at"] = 1234567890
	}
	out, err := json.Marshal(fx)
	if err != nil {
		return err
	}
	return os.WriteFile(to, out, 0o644)
}

// maxOutput bounds how much of stripe-mock's output is kept (it prints a
// line or more per request).
const maxOutput = 64 << 10

// output collects stripe-mock's output, keeping the last maxOutput bytes,
// and sends the HTTP address on http once stripe-mock printed that it
// listens for both HTTP and HTTPS.
type output struct {
	mu    sync.Mutex
	buf   []byte
	line  []byte
	addrs []string
	// httpAddr is the HTTP listener's address, sent on http.
	httpAddr string
	http     chan string
}

// Write implements io.Writer.
func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf = append(o.buf, p...)
	if len(o.buf) > maxOutput {
		o.buf = append([]byte(nil), o.buf[len(o.buf)-maxOutput:]...)
	}
	if len(o.addrs) >= 2 {
		return len(p), nil // both addresses seen: no more parsing
	}
	o.line = append(o.line, p...)
	for {
		i := bytes.IndexByte(o.line, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimSpace(string(o.line[:i]))
		o.line = o.line[i+1:]
		// "Listening for HTTP at address: 127.0.0.1:PORT", and the same for HTTPS.
		for _, proto := range []string{"HTTP", "HTTPS"} {
			if addr, ok := strings.CutPrefix(line, "Listening for "+proto+" at address: "); ok {
				o.addrs = append(o.addrs, addr)
				if proto == "HTTP" {
					o.httpAddr = addr
				}
			}
		}
	}
	if len(o.addrs) == 2 && o.httpAddr != "" {
		o.http <- o.httpAddr // both listeners are bound
	}
	return len(p), nil
}

// String returns the output kept.
func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return string(o.buf)
}

// addresses returns the addresses stripe-mock said it listens on.
func (o *output) addresses() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.addrs...)
}
