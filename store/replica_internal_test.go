package store

import "testing"

// TestWALEnd maps insert positions just past a page or segment header to
// the end of the record before it, as a replica's replay position names it.
func TestWALEnd(t *testing.T) {
	def := &ReadReplica{walPage: walPageSize, walSegment: walSegmentSize}
	small := &ReadReplica{walPage: walPageSize, walSegment: 1 << 20} // initdb --wal-segsize=1
	for _, c := range []struct {
		r    *ReadReplica
		in   string
		want uint64
	}{
		{def, "0/2000028", 0x2000000}, // a segment's first page: long header
		{def, "0/2002018", 0x2002000}, // any other page: short header
		{def, "0/2002048", 0x2002048}, // inside a page
		{def, "1/28", 1 << 32},        // a segment start above 4 GiB
		{small, "0/100028", 0x100000}, // a 1 MiB segment's start
		{def, "0/100028", 0x100028},   // not a segment start with 16 MiB segments
	} {
		got, err := c.r.walEnd(c.in)
		if err != nil || got != c.want {
			t.Errorf("walEnd(%s) with %d-byte segments = %#x, %v; want %#x", c.in, c.r.walSegment, got, err, c.want)
		}
	}
	if _, err := def.walEnd("nonsense"); err == nil {
		t.Error("walEnd accepted nonsense")
	}
}
