package main

import (
	"strings"
	"testing"
)

// generatedSample is the shape of gqlgen's execution code that rewriteExec
// rewrites: an object's end and a list marshaller of a listed type.
const generatedSample = `package graph

type executionContext struct {
	*graphql.ExecutionContextState[ResolverRoot, DirectiveRoot, ComplexityRoot]
}

func (ec *executionContext) fieldContext_Thing_parts(ctx context.Context, field graphql.CollectedField) (fc *graphql.FieldContext, err error) {
	fc = &graphql.FieldContext{
		Object:     "Thing",
		Field:      field,
	}
	ctx = graphql.WithFieldContext(ctx, fc)
	if fc.Args, err = ec.field_Thing_parts_args(ctx, field.ArgumentMap(ec.Variables)); err != nil {
		ec.Error(ctx, err)
		return fc, err
	}
	return fc, nil
}

func (ec *executionContext) _Thing(ctx context.Context, sel ast.SelectionSet, obj *Thing) graphql.Marshaler {
	fields := graphql.CollectFields(ec.OperationContext, sel, thingImplementors)

	out := graphql.NewFieldSet(fields)
	deferredFieldSet := graphql.NewFieldSet(nil)
	deferLabelToView := make(map[string]*graphql.FieldSetView)
	for i, field := range fields {
		switch field.Name {
		case "owner":
			if field.IsDeferred() {
				deferredFieldSet.AddField(field)
				continue
			}

			out.Concurrently(i, func(ctx context.Context) graphql.Marshaler { return innerFunc(ctx, out) })
		}
	}

	atomic.AddInt32(&ec.Deferred, int32(min(len(deferLabelToView), math.MaxInt32)))

	ec.ProcessDeferredGroup(graphql.DeferredGroup{
		Defers:   deferLabelToView,
		Path:     graphql.GetPath(ctx),
		FieldSet: deferredFieldSet,
		Context:  ctx,
	})

	return out
}

func (ec *executionContext) marshalNThingEdge2ᚕᚖshowcaseᚋgraphᚋmodelᚐThingEdgeᚄ(ctx context.Context, sel ast.SelectionSet, v []*model.ThingEdge) graphql.Marshaler {
	ret := graphql.MarshalSliceConcurrently(ctx, len(v), 0, false, func(ctx context.Context, i int) graphql.Marshaler {
		return ec.marshalNThingEdge2ᚖshowcaseᚋgraphᚋmodelᚐThingEdge(ctx, sel, v[i])
	})
	return ret
}

func (ec *executionContext) marshalNOtherEdge2ᚕᚖshowcaseᚋgraphᚋmodelᚐOtherEdgeᚄ(ctx context.Context, sel ast.SelectionSet, v []*model.OtherEdge) graphql.Marshaler {
	ret := graphql.MarshalSliceConcurrently(ctx, len(v), 0, false, func(ctx context.Context, i int) graphql.Marshaler {
		return ec.marshalNOtherEdge2ᚖshowcaseᚋgraphᚋmodelᚐOtherEdge(ctx, sel, v[i])
	})
	return ret
}

func (ec *executionContext) _Thing_name(ctx context.Context, field graphql.CollectedField, obj *store.Thing) (ret graphql.Marshaler) {
	return graphql.ResolveField(
		ctx,
		ec.OperationContext,
		field,
		func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
			return ec.fieldContext_Thing_name(ctx, field)
		},
		func(ctx context.Context) (any, error) {
			return obj.Name, nil
		},
		nil,
		func(ctx context.Context, selections ast.SelectionSet, v string) graphql.Marshaler {
			return ec.marshalNString2string(ctx, selections, v)
		},
		true,
		true,
	)
}

func (ec *executionContext) _Thing_rate(ctx context.Context, field graphql.CollectedField, obj *store.Thing) (ret graphql.Marshaler) {
	return graphql.ResolveField(
		ctx,
		ec.OperationContext,
		field,
		func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
			return ec.fieldContext_Thing_rate(ctx, field)
		},
		func(ctx context.Context) (any, error) {
			return obj.Rate(), nil
		},
		nil,
		func(ctx context.Context, selections ast.SelectionSet, v float64) graphql.Marshaler {
			return ec.marshalNFloat2float64(ctx, selections, v)
		},
		true,
		true,
	)
}

func (ec *executionContext) marshalNString2string(ctx context.Context, sel ast.SelectionSet, v string) graphql.Marshaler {
	_ = sel
	res := graphql.MarshalString(v)
	if res == graphql.Null {
		if !graphql.HasFieldError(ctx, graphql.GetFieldContext(ctx)) {
			graphql.AddErrorf(ctx, "the requested element is null which the schema does not allow")
		}
	}
	return res
}

func (ec *executionContext) marshalNFloat2float64(ctx context.Context, sel ast.SelectionSet, v float64) graphql.Marshaler {
	_ = sel
	res := graphql.MarshalFloatContext(v)
	if res == graphql.Null {
		if !graphql.HasFieldError(ctx, graphql.GetFieldContext(ctx)) {
			graphql.AddErrorf(ctx, "the requested element is null which the schema does not allow")
		}
	}
	return graphql.WrapContextMarshaler(ctx, res)
}
`

// TestRewriteExec: the deferred group is made only when something was
// deferred, the listed type's list marshaller calls marshalList with
// gqlgen's arguments, an unlisted type's keeps gqlgen's call, an object
// fills a fieldSet and makes its @defer state at its first deferred field,
// a String field read from its object is marshalled directly (a Float one
// is not), and a template that no longer matches fails the generation.
func TestRewriteExec(t *testing.T) {
	out, err := rewriteExec([]byte(generatedSample), []string{"ThingEdge"})
	if err != nil {
		t.Fatal(err)
	}
	got := string(out)
	for _, want := range []string{
		"\tif len(deferLabelToView) > 0 {\n\t\tatomic.AddInt32(&ec.Deferred",
		"\t\t\tPath:     graphql.GetPath(ctx),\n",
		"ret := marshalList(ctx, edgesInline(ctx), len(v), 0, false, func(ctx context.Context, i int) graphql.Marshaler {\n\t\treturn ec.marshalNThingEdge2",
		"ret := graphql.MarshalSliceConcurrently(ctx, len(v), 0, false, func(ctx context.Context, i int) graphql.Marshaler {\n\t\treturn ec.marshalNOtherEdge2",
		"\tout := newFieldSet(fields)\n\tvar deferredFieldSet *graphql.FieldSet\n\tvar deferLabelToView map[string]*graphql.FieldSetView\n",
		"\t\t\tif field.IsDeferred() {\n\t\t\t\tdeferredFieldSet, deferLabelToView = lazyDeferState(deferredFieldSet, deferLabelToView)\n\t\t\t\tdeferredFieldSet := deferredFieldSet\n\t\t\t\tdeferredFieldSet.AddField(field)\n",
		"return innerFunc(ctx, &out.FieldSet)",
		"(ret graphql.Marshaler) {\n\tdefer func() {\n\t\tif r := recover(); r != nil {\n\t\t\tret = ec.recoverLeaf(ctx, field, ec.fieldContext_Thing_name, r)\n\t\t}\n\t}()\n\treturn ec.marshalNString2string(ctx, field.Selections, obj.Name)\n}\n",
		"return obj.Rate(), nil", // Float reports NaN with the field's path: kept
		"\targs fieldArgs // memoArgs's, for this operation\n}\n",
		"\tif fc.Args, err = ec.memoArgs(ctx, fc.Object, field, ec.field_Thing_parts_args); err != nil {\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("rewritten code lacks %q:\n%s", want, got)
		}
	}
	if _, err := rewriteExec([]byte(generatedSample), []string{"MissingEdge"}); err == nil {
		t.Error("a listed type without a list marshaller was not an error")
	}
	if strings.Count(got, "graphql.ResolveField(") != 1 {
		t.Errorf("want only the Float field through graphql.ResolveField:\n%s", got)
	}
	if _, err := rewriteExec([]byte(strings.ReplaceAll(generatedSample, "return obj.Name, nil", "return ec.Resolvers.Thing().Name(ctx, obj)")), nil); err == nil {
		t.Error("code without a leaf field read from its object was not an error")
	}
	if _, err := rewriteExec([]byte(strings.ReplaceAll(generatedSample, "out := graphql.NewFieldSet(fields)", "out := graphql.NewFieldSet(fields, nil)")), nil); err == nil {
		t.Error("an object marshaller of another shape was not an error")
	}
	if _, err := rewriteExec([]byte(strings.ReplaceAll(generatedSample, "field.ArgumentMap(ec.Variables)", "field.Arguments")), nil); err == nil {
		t.Error("code without field arguments parsed in a field context was not an error")
	}
	if _, err := rewriteExec([]byte(strings.ReplaceAll(generatedSample, "ec.ProcessDeferredGroup", "ec.ProcessDeferred")), nil); err == nil {
		t.Error("code without a deferred group was not an error")
	}
}
