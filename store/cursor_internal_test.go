package store

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
)

// TestIntCursorsWriteWhatJSONWrites: every cursor key that writes its own
// JSON writes the bytes encoding/json writes for it, so a cursor made
// before the fast path resumes the same after it (and back), for edge and
// random values.
func TestIntCursorsWriteWhatJSONWrites(t *testing.T) {
	type intCursor interface {
		appendJSON(b []byte) []byte
		encode() string
	}
	rng := rand.New(rand.NewPCG(5, 6))
	values := []int64{0, 1, -1, 9, 10, math.MaxInt64, math.MinInt64, 1 << 53, -(1 << 53)}
	for range 200 {
		values = append(values, rng.Int64(), -rng.Int64N(1e6), rng.Int64N(1e6))
	}
	pick := func() int64 { return values[rng.IntN(len(values))] }
	for range 2000 {
		for _, k := range []intCursor{
			idCursor{ID: pick()},
			sliceCursor{Pos: pick(), ID: pick()},
			walkCursor{Walk: pick(), Pos: pick(), Off: pick()},
			walkCursor{Walk: pick(), Pos: pick()},
			feedCursor{T: pick(), I: pick()},
			positionCursor{Position: pick()},
		} {
			want, err := json.Marshal(k)
			if err != nil {
				t.Fatal(err)
			}
			if got := k.appendJSON(nil); string(got) != string(want) {
				t.Fatalf("%#v: wrote %s, encoding/json writes %s", k, got, want)
			}
			if got, slow := k.encode(), base64.RawURLEncoding.EncodeToString(want); got != slow {
				t.Fatalf("%#v: cursor %q, want %q", k, got, slow)
			}
		}
	}
}

// BenchmarkEncodeCursor compares a variant edge's cursor written by its
// own JSON with the same key through encoding/json.
func BenchmarkEncodeCursor(b *testing.B) {
	k := sliceCursor{Pos: 3, ID: 1234567}
	b.Run("own JSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = k.encode()
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = encodeCursor(k)
		}
	})
}
