package store

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
)

// Page size limits of every connection.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// PageArgs selects a forward page of a keyset-paginated list.
type PageArgs struct {
	First int
	After string
}

// NewPageArgs validates Relay paging arguments.
func NewPageArgs(first *int, after *string) (PageArgs, error) {
	a := PageArgs{First: DefaultPageSize}
	if first != nil {
		a.First = *first
	}
	if a.First < 0 {
		return a, FieldErrorf(EInvalid, "first", "first must not be negative")
	}
	if a.First > MaxPageSize {
		return a, FieldErrorf(EInvalid, "first", "first must not exceed %d", MaxPageSize)
	}
	if after != nil {
		a.After = *after
	}
	return a, nil
}

// Edge is one item of a page with the cursor that resumes after it.
type Edge[T any] struct {
	Cursor string
	Node   T
}

// Page is one page of a connection.
type Page[T any] struct {
	Edges           []Edge[T]
	HasNextPage     bool
	HasPreviousPage bool
}

// newPage trims the one extra row fetched to learn whether a next page exists.
func newPage[T any](items []T, args PageArgs, cursor func(T) string) Page[T] {
	p := Page[T]{HasPreviousPage: args.After != ""}
	if len(items) > args.First {
		items = items[:args.First]
		p.HasNextPage = true
	}
	p.Edges = make([]Edge[T], len(items))
	for i, it := range items {
		p.Edges[i] = Edge[T]{Cursor: cursor(it), Node: it}
	}
	return p
}

// encodeCursor makes an opaque cursor from a sort key: its JSON,
// base64url without padding.
func encodeCursor(key any) string {
	b, _ := json.Marshal(key)
	return base64.RawURLEncoding.EncodeToString(b)
}

// encodeJSONCursor is encodeCursor of a key's JSON js, in one allocation.
// The cursor keys of whole numbers (the feed's, small lists' and ids':
// hundreds on one feed page) write their JSON themselves, the bytes
// encoding/json writes (TestIntCursorsWriteWhatJSONWrites), and call this.
func encodeJSONCursor(js []byte) string {
	var out [128]byte
	n := base64.RawURLEncoding.EncodedLen(len(js))
	if n > len(out) {
		return base64.RawURLEncoding.EncodeToString(js)
	}
	base64.RawURLEncoding.Encode(out[:n], js)
	return string(out[:n])
}

// intCursorJSON is room for the JSON of a cursor key of at most three whole
// numbers with their names (at most 75 bytes).
type intCursorJSON [96]byte

// appendIntField appends ,"name":v (without the comma when first).
func appendIntField(b []byte, first bool, name string, v int64) []byte {
	if !first {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, v, 10)
}

func (c idCursor) appendJSON(b []byte) []byte {
	b = append(b, '{')
	return append(appendIntField(b, true, "i", c.ID), '}')
}

// encode is encodeCursor(c).
func (c idCursor) encode() string {
	var js intCursorJSON
	return encodeJSONCursor(c.appendJSON(js[:0]))
}

func (c sliceCursor) appendJSON(b []byte) []byte {
	b = appendIntField(append(b, '{'), true, "p", c.Pos)
	return append(appendIntField(b, false, "i", c.ID), '}')
}

// encode is encodeCursor(c).
func (c sliceCursor) encode() string {
	var js intCursorJSON
	return encodeJSONCursor(c.appendJSON(js[:0]))
}

// decodeCursor reads a sort key back; a cursor that was not made by us is the
// caller's mistake.
func decodeCursor(cursor string, key any) error {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err == nil {
		err = json.Unmarshal(b, key)
	}
	if err != nil {
		return FieldErrorf(EInvalid, "after", "after is not a cursor from this list")
	}
	return nil
}

// idCursor pages lists ordered by id descending.
type idCursor struct {
	ID int64 `json:"i"`
}

func afterID(after string) (int64, error) {
	if after == "" {
		return 0, nil
	}
	var c idCursor
	if err := decodeCursor(after, &c); err != nil {
		return 0, err
	}
	if c.ID <= 0 {
		return 0, FieldErrorf(EInvalid, "after", "after is not a cursor from this list")
	}
	return c.ID, nil
}

func cursorForID(id int64) string { return idCursor{ID: id}.encode() }

// PageSlice pages an in-memory list that is already in display order,
// ascending by key (a position, then the id). The cursor holds the key, so
// a page resumes after where the last one ended even if the item it ended
// on has since left the list (a card whose product was archived): nothing
// after it is skipped. Small bounded lists (a product's variants, a video's
// product cards) are loaded whole in one batch and paged this way.
func PageSlice[T any](items []T, key func(T) (pos, id int64), args PageArgs) (Page[T], error) {
	start := 0
	if args.After != "" {
		var c sliceCursor
		if err := decodeCursor(args.After, &c); err != nil {
			return Page[T]{}, err
		}
		if c.ID <= 0 {
			return Page[T]{}, FieldErrorf(EInvalid, "after", "after is not a cursor from this list")
		}
		start = len(items)
		for i, it := range items {
			if pos, id := key(it); pos > c.Pos || (pos == c.Pos && id > c.ID) {
				start = i
				break
			}
		}
	}
	end := min(start+args.First+1, len(items))
	return newPage(items[start:end], args, func(it T) string {
		pos, id := key(it)
		return sliceCursor{Pos: pos, ID: id}.encode()
	}), nil
}

// sliceCursor pages lists ordered by position, then id.
type sliceCursor struct {
	Pos int64 `json:"p"`
	ID  int64 `json:"i"`
}

// orEmpty stores a missing list as an empty array, never NULL.
func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// pagesByKey splits the rows of a batched per-parent query, each tagged with
// the 1-based position of its key, into one id-cursored page per key.
func pagesByKey[K comparable, T any](keys []K, args func(K) PageArgs, n int, ord func(i int) int, item func(i int) T, id func(T) int64) map[K]Page[T] {
	grouped := make([][]T, len(keys))
	for i := 0; i < n; i++ {
		grouped[ord(i)-1] = append(grouped[ord(i)-1], item(i))
	}
	out := make(map[K]Page[T], len(keys))
	for i, k := range keys {
		out[k] = newPage(grouped[i], args(k), func(t T) string { return cursorForID(id(t)) })
	}
	return out
}

func (k ChildPageKey) pageArgs() PageArgs { return PageArgs{First: k.First, After: k.After} }

// indexByID maps rows by their id.
func indexByID[T any](rows []T, id func(T) int64) map[int64]T {
	out := make(map[int64]T, len(rows))
	for _, r := range rows {
		out[id(r)] = r
	}
	return out
}

// groupByKey groups rows under their parent's key, in row order, with an
// entry (perhaps empty) for every key asked for, so that a batch loader
// reports "no children" rather than "not found".
func groupByKey[T any](keys []int64, rows []T, key func(T) int64) map[int64][]T {
	out := make(map[int64][]T, len(keys))
	for _, k := range keys {
		out[k] = nil
	}
	for _, r := range rows {
		out[key(r)] = append(out[key(r)], r)
	}
	return out
}
