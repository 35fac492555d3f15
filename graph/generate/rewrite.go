package main

import (
	"bytes"
	"fmt"
	"go/format"
	"os"
	"regexp"
)

// inlineLists are the GraphQL object types whose lists marshal through
// marshalList (graph/inline_lists.go) instead of gqlgen's
// graphql.MarshalSliceConcurrently: one after another in the goroutine
// that marshals the list when the list's connection says its elements
// resolve without waiting on a loader (edgesInline), as gqlgen does
// otherwise (a goroutine per element). A goroutine per element costs more
// than the element's fields when they only read rows already loaded: each
// new goroutine grows its stack through the executor's deep calls again
// (runtime.newstack/copystack were a fifth of a catalogue page's CPU).
var inlineLists = []string{
	"ProductEdge",
	"ProductVariantEdge",
	"FeedEdge",
}

// deferredGroup is what gqlgen's template writes at the end of every
// object's marshaller: it computes the object's path (an allocation per
// path element, for every object of a response) and hands it to
// ProcessDeferredGroup, which returns at once when nothing was deferred.
var deferredGroup = regexp.MustCompile(`(?m)^\tatomic\.AddInt32\(&ec\.Deferred, int32\(min\(len\(deferLabelToView\), math\.MaxInt32\)\)\)\n\n\tec\.ProcessDeferredGroup\(graphql\.DeferredGroup\{\n(?:\t\t[^\n]*\n)+\t\}\)\n`)

// concurrentSlice is gqlgen's call that marshals a list's elements, one
// goroutine each.
var concurrentSlice = regexp.MustCompile(`graphql\.MarshalSliceConcurrently\(ctx, len\(v\), `)

// rewriteExec rewrites gqlgen's execution code in two places, both of which
// leave every answer the same:
//
//   - an object's deferred group (its path included) is made only when one
//     of its fields was deferred (@defer): the same calls, in a
//     `if len(deferLabelToView) > 0` block;
//   - the list marshallers of the types in lists call
//     marshalList(ctx, edgesInline(ctx), ...) with gqlgen's own arguments.
//
// It fails when a pattern is not found (gqlgen's template changed), so that
// a regeneration never silently drops a rewrite.
func rewriteExec(src []byte, lists []string) ([]byte, error) {
	n := 0
	src = deferredGroup.ReplaceAllFunc(src, func(m []byte) []byte {
		n++
		return append(append([]byte("\tif len(deferLabelToView) > 0 {\n"), m...), "\t}\n"...)
	})
	if n == 0 {
		return nil, fmt.Errorf("rewrite: no deferred group found in gqlgen's execution code")
	}
	for _, typ := range lists {
		// marshalN…/marshalO… of []*T or []T: the name ends in ᚐT, then
		// ᚄ when the elements are non-null.
		fn := regexp.MustCompile(`(?m)^func \(ec \*executionContext\) marshal[NO]` + regexp.QuoteMeta(typ) + `2ᚕ[^(]*ᚐ` + regexp.QuoteMeta(typ) + `ᚄ?\(`)
		locs := fn.FindAllIndex(src, -1)
		if len(locs) == 0 {
			return nil, fmt.Errorf("rewrite: no list marshaller of %s", typ)
		}
		for i := len(locs) - 1; i >= 0; i-- {
			start := locs[i][0]
			end := bytes.Index(src[locs[i][1]:], []byte("\n}\n"))
			if end < 0 {
				return nil, fmt.Errorf("rewrite: list marshaller of %s has no end", typ)
			}
			end += locs[i][1]
			body := src[start:end]
			if len(concurrentSlice.FindAllIndex(body, -1)) != 1 {
				return nil, fmt.Errorf("rewrite: list marshaller of %s does not call graphql.MarshalSliceConcurrently once", typ)
			}
			body = concurrentSlice.ReplaceAll(body, []byte("marshalList(ctx, edgesInline(ctx), len(v), "))
			src = append(append(append([]byte{}, src[:start]...), body...), src[end:]...)
		}
	}
	return format.Source(src)
}

// rewriteExecFile applies rewriteExec to the generated file at path.
func rewriteExecFile(path string, lists []string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, err := rewriteExec(src, lists)
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o644)
}
