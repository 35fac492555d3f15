package store

import "time"

// SetClock makes c read the time from now (tests of the TTL).
func (c *FiguresCache) SetClock(now func() time.Time) { c.now = now }
