package graph

import (
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// fieldArgs is one operation's memo of parsed field arguments (memoArgs).
type fieldArgs struct {
	mu   sync.Mutex
	args map[fieldArgsKey]map[string]any
}

// fieldArgsKey is a field of the operation's document as one object type
// reads it: an interface's field selected once is parsed by each
// implementing type's own argument definitions (their defaults may differ).
type fieldArgsKey struct {
	field  *ast.Field
	object string
}

// memoArgs returns the arguments of field on object, parsed by parse (the
// field's generated field_…_args) from the operation's variables, once an
// operation: every object of a list asks for the same field's arguments (a
// feed page's sixty Product.variants(first: 5)), and they depend only on
// the field, the object type and the variables. The executionContext, and
// so the memo, is the operation's own: another operation's variables never
// see it. An error is not kept: each field that asks reports it, as it
// would without the memo. The map is shared by the fields that ask:
// resolvers and directives read arguments and never write them.
func (ec *executionContext) memoArgs(ctx context.Context, object string, field graphql.CollectedField,
	parse func(context.Context, map[string]any) (map[string]any, error)) (map[string]any, error) {
	k := fieldArgsKey{field.Field, object}
	m := &ec.args
	m.mu.Lock()
	a, ok := m.args[k]
	m.mu.Unlock()
	if ok {
		return a, nil
	}
	a, err := parse(ctx, field.ArgumentMap(ec.Variables))
	if err != nil {
		return a, err
	}
	m.mu.Lock()
	if m.args == nil {
		m.args = map[fieldArgsKey]map[string]any{}
	}
	m.args[k] = a
	m.mu.Unlock()
	return a, nil
}
