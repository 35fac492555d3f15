package store

// WalkCursorParts reads a ranked list's cursor: the walk row it continues,
// the position of its item, and the position the row starts after.
func WalkCursorParts(cursor string) (walk, pos, off int64, err error) {
	c, err := decodeWalkCursor(cursor)
	return c.Walk, c.Pos, c.Off, err
}
