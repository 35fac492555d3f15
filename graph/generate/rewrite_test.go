package main

import (
	"strings"
	"testing"
)

// generatedSample is the shape of gqlgen's execution code that rewriteExec
// rewrites: an object's end and a list marshaller of a listed type.
const generatedSample = `package graph

func (ec *executionContext) _Thing(ctx context.Context, sel ast.SelectionSet, obj *Thing) graphql.Marshaler {
	out := graphql.NewFieldSet(nil)
	deferredFieldSet := graphql.NewFieldSet(nil)
	deferLabelToView := make(map[string]*graphql.FieldSetView)

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
`

// TestRewriteExec: the deferred group is made only when something was
// deferred, the listed type's list marshaller calls marshalList with
// gqlgen's arguments, an unlisted type's keeps gqlgen's call, and a
// template that no longer matches fails the generation.
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
	} {
		if !strings.Contains(got, want) {
			t.Errorf("rewritten code lacks %q:\n%s", want, got)
		}
	}
	if _, err := rewriteExec([]byte(generatedSample), []string{"MissingEdge"}); err == nil {
		t.Error("a listed type without a list marshaller was not an error")
	}
	if _, err := rewriteExec([]byte(strings.ReplaceAll(generatedSample, "ec.ProcessDeferredGroup", "ec.ProcessDeferred")), nil); err == nil {
		t.Error("code without a deferred group was not an error")
	}
}
