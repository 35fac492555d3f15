package store

import "time"

// SetClock makes c read the time from now (tests of the TTL).
func (c *FiguresCache) SetClock(now func() time.Time) { c.now = now }

// SetListening is what Listen does when its connection is lost (false) or
// back (true).
func (c *FiguresCache) SetListening(up bool) { c.listening(up) }

// SetClock makes c read the time from now (tests of the TTL).
func (c *CatalogCache) SetClock(now func() time.Time) { c.now = now }

// SetListening is what Listen does when its connection is lost (false) or
// back (true).
func (c *CatalogCache) SetListening(up bool) { c.listening(up) }
