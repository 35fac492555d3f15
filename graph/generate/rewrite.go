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

// fieldArgsCall is where a generated field context parses its field's
// arguments; executionContextType is the generated operation state.
var (
	fieldArgsCall        = regexp.MustCompile(`(?m)^(\tif fc\.Args, err = )ec\.(field_\w+_args)\(ctx, field\.ArgumentMap\(ec\.Variables\)\); err != nil \{\n`)
	executionContextType = regexp.MustCompile(`(?m)^type executionContext struct \{\n(\t\*graphql\.ExecutionContextState\[[^\n]*\]\n)\}\n`)
)

// concurrentSlice is gqlgen's call that marshals a list's elements, one
// goroutine each.
var concurrentSlice = regexp.MustCompile(`graphql\.MarshalSliceConcurrently\(ctx, len\(v\), `)

// rewriteExec rewrites gqlgen's execution code in these places, all of
// which leave every answer the same:
//
//   - a leaf field read straight from its object (a struct field or a
//     method without arguments, of a scalar type whose marshaller cannot
//     fail) is marshalled without graphql.ResolveField (directLeaves);
//   - every object marshaller fills and returns a fieldSet
//     (graph/fieldset.go) instead of a graphql.FieldSet, and makes its
//     @defer bookkeeping only when a field is deferred (rewriteObjects);
//   - an object's deferred group (its path included) is made only when one
//     of its fields was deferred (@defer): the same calls, in a
//     `if len(deferLabelToView) > 0` block;
//   - the list marshallers of the types in lists call
//     marshalList(ctx, edgesInline(ctx), ...) with gqlgen's own arguments;
//   - a field's arguments are parsed once an operation (memoArgs,
//     graph/field_args.go), not once for every object of a list: the
//     executionContext carries the memo.
//
// It fails when a pattern is not found (gqlgen's template changed), so that
// a regeneration never silently drops a rewrite.
func rewriteExec(src []byte, lists []string) ([]byte, error) {
	src, err := rewriteObjects(src)
	if err != nil {
		return nil, err
	}
	if src, err = directLeaves(src); err != nil {
		return nil, err
	}
	if len(executionContextType.FindIndex(src)) == 0 || len(fieldArgsCall.FindIndex(src)) == 0 {
		return nil, fmt.Errorf("rewrite: no executionContext type or no field arguments parsed in a field context")
	}
	src = executionContextType.ReplaceAll(src, []byte("type executionContext struct {\n${1}\targs fieldArgs // memoArgs's, for this operation\n}\n"))
	src = fieldArgsCall.ReplaceAll(src, []byte("${1}ec.memoArgs(ctx, fc.Object, field, ec.${2}); err != nil {\n"))
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

// The object marshallers' statements that rewriteObjects replaces.
var (
	newObjectFieldSet = regexp.MustCompile(`(?m)^\tout := graphql\.NewFieldSet\(fields\)\n`)
	deferState        = regexp.MustCompile(`(?m)^\tdeferredFieldSet := graphql\.NewFieldSet\(nil\)\n\tdeferLabelToView := make\(map\[string\]\*graphql\.FieldSetView\)\n`)
	deferredField     = regexp.MustCompile(`(?m)^(\t+)if field\.IsDeferred\(\) \{\n`)
	innerFuncOut      = regexp.MustCompile(`innerFunc\(ctx, out\)`)
)

// rewriteObjects rewrites every object marshaller of gqlgen's execution
// code: it fills a fieldSet (newFieldSet, graph/fieldset.go), which writes
// the object without gqlgen's per-object map and per-field copies, and
// passes its embedded graphql.FieldSet where gqlgen's code passes the
// object's; the @defer bookkeeping (a FieldSet and a map per object, used
// only by a deferred field) starts nil and is made by the first deferred
// field (lazyDeferState), whose closures capture a copy, so that the
// marshaller's own variable stays off the heap. It fails when an object
// marshaller does not have the expected shape.
func rewriteObjects(src []byte) ([]byte, error) {
	objects := len(newObjectFieldSet.FindAllIndex(src, -1))
	if objects == 0 || len(deferState.FindAllIndex(src, -1)) != objects {
		return nil, fmt.Errorf("rewrite: %d object field sets, %d defer states: has gqlgen's object marshaller changed?",
			objects, len(deferState.FindAllIndex(src, -1)))
	}
	src = newObjectFieldSet.ReplaceAll(src, []byte("\tout := newFieldSet(fields)\n"))
	src = deferState.ReplaceAll(src, []byte("\tvar deferredFieldSet *graphql.FieldSet\n\tvar deferLabelToView map[string]*graphql.FieldSetView\n"))
	src = deferredField.ReplaceAll(src, []byte("${1}if field.IsDeferred() {\n${1}\tdeferredFieldSet, deferLabelToView = lazyDeferState(deferredFieldSet, deferLabelToView)\n${1}\tdeferredFieldSet := deferredFieldSet\n"))
	src = innerFuncOut.ReplaceAll(src, []byte("innerFunc(ctx, &out.FieldSet)"))
	return src, nil
}

// infallibleMarshaller is a generated scalar marshaller that cannot answer
// null and does not use its context: gqlgen's for String, ID, Int and
// Boolean (Float's reports NaN and infinities with the field's path).
var infallibleMarshaller = regexp.MustCompile(`(?m)^func \(ec \*executionContext\) (marshalN\w+)\(ctx context\.Context, sel ast\.SelectionSet, v (?:string|int|int32|int64|bool)\) graphql\.Marshaler \{
	_ = sel
	res := graphql\.Marshal(?:String|ID|Int|Int32|Int64|Boolean)\(v\)
	if res == graphql\.Null \{
		if !graphql\.HasFieldError\(ctx, graphql\.GetFieldContext\(ctx\)\) \{
			graphql\.AddErrorf\(ctx, "the requested element is null which the schema does not allow"\)
		\}
	\}
	return res
\}
`)

// leafField is gqlgen's field function for a field read from its object
// without a resolver, a directive or arguments: ${1} the signature, ${2}
// the field context's function, ${3} the read (obj.Field or obj.Method()),
// ${4} the marshaller, ${5} whether a panic is recovered.
var leafField = regexp.MustCompile(`(?m)^(func \(ec \*executionContext\) _\w+\(ctx context\.Context, field graphql\.CollectedField, obj \*[\w.]+\) \(ret graphql\.Marshaler\)) \{
	return graphql\.ResolveField\(
		ctx,
		ec\.OperationContext,
		field,
		func\(ctx context\.Context, field graphql\.CollectedField\) \(\*graphql\.FieldContext, error\) \{
			return ec\.(fieldContext_\w+)\(ctx, field\)
		\},
		func\(ctx context\.Context\) \(any, error\) \{
			return (obj\.[A-Za-z_][\w.]*(?:\(\))?), nil
		\},
		nil,
		func\(ctx context\.Context, selections ast\.SelectionSet, v \w+\) graphql\.Marshaler \{
			return ec\.(marshalN\w+)\(ctx, selections, v\)
		\},
		(true|false),
		(?:true|false),
	\)
\}
`)

// directLeaves rewrites the field function of every leaf field read
// straight from its object, whose marshaller is infallible: gqlgen gives
// each such field a FieldContext, a context holding it, a closure and the
// field middleware chain (graph/handler.go adds no field middleware, and a
// field with a directive is not rewritten), a seventh of a feed page's CPU
// for values that are only read and written. The function now marshals the
// read value in its parent's context; a panic (a method's) is recovered as
// gqlgen recovers it, the error reported with the field's path
// (executionContext.recoverLeaf). A value of a Go type other than string,
// int and bool is never null, so the answer is the same. It fails when no
// field matches (gqlgen's template changed).
func directLeaves(src []byte) ([]byte, error) {
	infallible := map[string]bool{}
	for _, m := range infallibleMarshaller.FindAllSubmatch(src, -1) {
		infallible[string(m[1])] = true
	}
	n := 0
	src = leafField.ReplaceAllFunc(src, func(m []byte) []byte {
		g := leafField.FindSubmatch(m)
		if !infallible[string(g[4])] {
			return m
		}
		n++
		var b bytes.Buffer
		fmt.Fprintf(&b, "%s {\n", g[1])
		if string(g[5]) == "true" {
			fmt.Fprintf(&b, "\tdefer func() {\n\t\tif r := recover(); r != nil {\n\t\t\tret = ec.recoverLeaf(ctx, field, ec.%s, r)\n\t\t}\n\t}()\n", g[2])
		}
		fmt.Fprintf(&b, "\treturn ec.%s(ctx, field.Selections, %s)\n}\n", g[4], g[3])
		return b.Bytes()
	})
	if n == 0 {
		return nil, fmt.Errorf("rewrite: no leaf field read from its object found in gqlgen's execution code (%d infallible marshallers)", len(infallible))
	}
	return src, nil
}
