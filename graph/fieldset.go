package graph

import (
	"context"
	"io"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
)

// fieldSet is what the generated object marshallers fill and return in
// place of gqlgen's graphql.FieldSet (graph/generate, rewriteExec): the
// same values, resolved the same way (the embedded FieldSet's Concurrently
// and Dispatch), written by a MarshalGQL of its own. gqlgen's writes an
// object through an iterator that copies every field to the heap and
// through a map of the aliases written so far, allocated per object: a
// tenth of a feed page's allocations. This one writes the same bytes: the
// fields in order, each alias once (the first), then the value.
type fieldSet struct {
	graphql.FieldSet
	fields []graphql.CollectedField
	inline [4]graphql.Marshaler // Values of an object of at most four fields
}

// newFieldSet returns an empty fieldSet for fields, one value each: in one
// allocation when there are at most four (a price, a variant, an edge:
// most of a page's objects).
func newFieldSet(fields []graphql.CollectedField) *fieldSet {
	m := &fieldSet{fields: fields}
	if len(fields) <= len(m.inline) {
		m.Values = m.inline[:len(fields):len(fields)]
	} else {
		m.Values = make([]graphql.Marshaler, len(fields))
	}
	return m
}

// MarshalGQL writes the object: {"alias":value,...}.
func (m *fieldSet) MarshalGQL(w io.Writer) {
	w.Write(openBrace)
	first := true
	for i := range m.fields {
		alias := m.fields[i].Alias
		if aliasWrittenBefore(m.fields[:i], alias) {
			continue
		}
		if !first {
			w.Write(comma)
		}
		first = false
		writeQuotedAlias(w, alias)
		w.Write(colon)
		m.Values[i].MarshalGQL(w)
	}
	w.Write(closeBrace)
}

var (
	openBrace  = []byte("{")
	closeBrace = []byte("}")
	comma      = []byte(",")
	colon      = []byte(":")
)

// aliasWrittenBefore reports whether one of before has alias (gqlgen's
// CollectFields merges a repeated alias into one field, except across
// unrelated object definitions).
func aliasWrittenBefore(before []graphql.CollectedField, alias string) bool {
	for i := range before {
		if before[i].Alias == alias {
			return true
		}
	}
	return false
}

// writeQuotedAlias writes s as a JSON string, as gqlgen writes an alias (a
// GraphQL name needs no escaping; anything else is escaped as gqlgen's
// MarshalString does).
func writeQuotedAlias(w io.Writer, s string) {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '\\' || c == '"' || c >= utf8.RuneSelf {
			plain = false
			break
		}
	}
	if plain {
		io.WriteString(w, `"`)
		io.WriteString(w, s)
		io.WriteString(w, `"`)
		return
	}
	graphql.MarshalString(s).MarshalGQL(w)
}

// lazyDeferState returns fs and views, or a new FieldSet and map when fs is
// nil: the @defer bookkeeping of an object marshaller, made by its first
// deferred field (graph/generate, rewriteObjects).
func lazyDeferState(fs *graphql.FieldSet, views map[string]*graphql.FieldSetView) (*graphql.FieldSet, map[string]*graphql.FieldSetView) {
	if fs == nil {
		return graphql.NewFieldSet(nil), map[string]*graphql.FieldSetView{}
	}
	return fs, views
}

// recoverLeaf reports r, recovered from a leaf field marshalled without
// graphql.ResolveField (graph/generate, directLeaves), as gqlgen's
// ResolveField reports a field's panic: with the field's path (its
// FieldContext, from fieldContext, made only now), through the operation's
// recover function; it returns graphql.Null, which nulls the field.
func (ec *executionContext) recoverLeaf(ctx context.Context, field graphql.CollectedField,
	fieldContext func(context.Context, graphql.CollectedField) (*graphql.FieldContext, error), r any) graphql.Marshaler {
	fc, err := fieldContext(ctx, field)
	if err != nil {
		return graphql.Null
	}
	ctx = graphql.WithFieldContext(ctx, fc)
	ec.OperationContext.Error(ctx, ec.OperationContext.Recover(ctx, r))
	return graphql.Null
}
