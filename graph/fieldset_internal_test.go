package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"showcase/store"
)

// TestFieldSetWritesAsGqlgen: a fieldSet writes the bytes gqlgen's
// graphql.FieldSet writes for the same fields and values: in order, a
// repeated alias once (the first), an alias that needs escaping escaped,
// an object without fields as {}.
func TestFieldSetWritesAsGqlgen(t *testing.T) {
	other := &ast.Definition{Name: "Other"}
	for _, fields := range [][]graphql.CollectedField{
		nil,
		{{Field: &ast.Field{Alias: "id", Name: "id"}}},
		{{Field: &ast.Field{Alias: "a", Name: "title"}}, {Field: &ast.Field{Alias: "b", Name: "title"}},
			{Field: &ast.Field{Alias: "a", Name: "sku", ObjectDefinition: other}}, {Field: &ast.Field{Alias: "__typename", Name: "__typename"}}},
		{{Field: &ast.Field{Alias: "q\"\\\n\x01é", Name: "x"}}, {Field: &ast.Field{Alias: "n", Name: "n"}}},
	} {
		values := make([]graphql.Marshaler, len(fields))
		for i := range fields {
			switch i % 3 {
			case 0:
				values[i] = graphql.MarshalString("v\"" + fields[i].Name)
			case 1:
				values[i] = graphql.MarshalInt64(int64(i))
			default:
				values[i] = graphql.Null
			}
		}
		want := graphql.NewFieldSet(fields)
		got := newFieldSet(fields)
		copy(want.Values, values)
		copy(got.Values, values)
		var w, g bytes.Buffer
		want.MarshalGQL(&w)
		got.MarshalGQL(&g)
		if w.String() != g.String() {
			t.Errorf("fieldSet wrote %s, gqlgen %s", g.String(), w.String())
		}
	}
}

// TestDirectLeafPanicAsGqlgen: a leaf field marshalled without
// graphql.ResolveField (graph/generate, directLeaves) that panics answers
// as gqlgen's ResolveField does: null, and the same error (message, path)
// through the operation's recover function.
func TestDirectLeafPanicAsGqlgen(t *testing.T) {
	run := func(resolve func(ec *executionContext, ctx context.Context, field graphql.CollectedField) graphql.Marshaler) (graphql.Marshaler, string) {
		oc := &graphql.OperationContext{RecoverFunc: recoverPanic, ResolverMiddleware: func(ctx context.Context, next graphql.Resolver) (any, error) {
			return next(ctx)
		}}
		ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter, recoverPanic)
		ctx = graphql.WithOperationContext(ctx, oc)
		index := 2
		ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Object: "Order", Field: graphql.CollectedField{Field: &ast.Field{Alias: "address", Name: "shippingAddress"}}})
		ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Index: &index})
		ec := newExecutionContext(oc, &executableSchema{}, nil)
		field := graphql.CollectedField{Field: &ast.Field{Alias: "n", Name: "name"}}
		m := resolve(ec, ctx, field)
		errs, _ := json.Marshal(graphql.GetErrors(ctx))
		return m, string(errs)
	}
	var nilAddress *store.Address // obj.Name panics
	gotValue, got := run(func(ec *executionContext, ctx context.Context, field graphql.CollectedField) graphql.Marshaler {
		return ec._Address_name(ctx, field, nilAddress)
	})
	wantValue, want := run(func(ec *executionContext, ctx context.Context, field graphql.CollectedField) graphql.Marshaler {
		return graphql.ResolveField(ctx, ec.OperationContext, field,
			func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
				return ec.fieldContext_Address_name(ctx, field)
			},
			func(ctx context.Context) (any, error) { return nilAddress.Name, nil },
			nil,
			func(ctx context.Context, selections ast.SelectionSet, v string) graphql.Marshaler {
				return ec.marshalNString2string(ctx, selections, v)
			}, true, true)
	})
	if gotValue != graphql.Null || wantValue != graphql.Null {
		t.Errorf("values: direct %v, gqlgen %v; want both null", gotValue, wantValue)
	}
	if got != want || !bytes.Contains([]byte(got), []byte(`"path":["address",2,"n"]`)) {
		t.Errorf("errors: direct %s, gqlgen %s", got, want)
	}
}
