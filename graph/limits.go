package graph

import (
	"context"
	"fmt"
	"reflect"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"showcase/store"
)

// Query limits, all enforced before any resolver or SQL runs.
const (
	// MaxComplexity is the most a query may cost: every field costs 1 and a
	// connection's children count first times (a page of 100 costs 100 children).
	MaxComplexity = 25000
	// MaxDepth bounds nesting, fragments expanded.
	MaxDepth = 12
	// MaxAliases bounds aliased fields, which multiply work without nesting.
	MaxAliases = 30
	// MaxTokens bounds what the parser reads.
	MaxTokens = 5000
)

// weightByFirst makes every connection field's complexity its children's
// times first, by setting each complexity function whose first argument is
// first *int (all connections, and only they).
func weightByFirst(root *ComplexityRoot) {
	intPtr := reflect.TypeOf((*int)(nil))
	types := reflect.ValueOf(root).Elem()
	for i := 0; i < types.NumField(); i++ {
		fields := types.Field(i)
		if fields.Kind() != reflect.Struct {
			continue
		}
		for j := 0; j < fields.NumField(); j++ {
			f := fields.Field(j)
			ft := f.Type()
			if ft.Kind() != reflect.Func || ft.NumIn() < 2 || ft.In(1) != intPtr {
				continue
			}
			f.Set(reflect.MakeFunc(ft, func(args []reflect.Value) []reflect.Value {
				child := int(args[0].Int())
				first := store.DefaultPageSize
				if p := args[1].Interface().(*int); p != nil && *p > 0 {
					first = *p
				}
				return []reflect.Value{reflect.ValueOf(1 + child*first)}
			}))
		}
	}
}

// MaxExpandedFields bounds the fields a document selects once its fragments
// are expanded: fragments that spread each other twice, thirty deep, expand
// to a billion fields and would take validation minutes.
const MaxExpandedFields = 5000

// shapeLimits checks a document's shape before gqlgen validates it, since
// validation itself is what a fragment bomb attacks. It parses the query
// (within the token limit), then measures depth, expanded size and aliases
// with each fragment measured once.
type shapeLimits struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = shapeLimits{}

func (shapeLimits) ExtensionName() string                   { return "ShapeLimits" }
func (shapeLimits) Validate(graphql.ExecutableSchema) error { return nil }

func (shapeLimits) MutateOperationParameters(_ context.Context, params *graphql.RawParams) *gqlerror.Error {
	if params.Query == "" {
		return nil // a persisted query not yet known; the APQ extension answers
	}
	if f := factsOf(params.Query); f.limitCode != "" {
		return limitError(f.limitMessage, f.limitCode)
	}
	return nil
}

// Introspection is measured apart: tools' schema queries (graphql-js's
// getIntrospectionQuery is 13 deep, GraphiQL's 15) follow ofType chains that
// cost nothing, so a __schema or __type field counts as one level of the
// depth limit and its subtree has bounds of its own.
const (
	// MaxIntrospectionDepth bounds the nesting of a __schema or __type
	// subtree, the root field included.
	MaxIntrospectionDepth = 20
	// MaxIntrospectionLists bounds how deep the lists that fan out over the
	// whole schema (fields, interfaces, possibleTypes, inputFields) nest in
	// one introspection subtree, as graphql-js's MaxIntrospectionDepthRule
	// does: each level multiplies the answer by the schema's size.
	MaxIntrospectionLists = 2
)

// introspectionLists are the __Type fields counted by MaxIntrospectionLists.
var introspectionLists = map[string]bool{"fields": true, "interfaces": true, "possibleTypes": true, "inputFields": true}

// shapeProblem holds a parsed document, whose operations measured shapes,
// to the shape limits and returns the message and code of the first one it
// breaks.
func shapeProblem(doc *ast.QueryDocument, shapes []shape) (message, code string) {
	for _, sh := range shapes {
		switch {
		case sh.depth > MaxDepth:
			return fmt.Sprintf("the query is nested %d deep; the limit is %d", sh.depth, MaxDepth), "DEPTH_LIMIT_EXCEEDED"
		case sh.introspection > MaxIntrospectionDepth:
			return fmt.Sprintf("the introspection query is nested %d deep; the limit is %d", sh.introspection, MaxIntrospectionDepth), "DEPTH_LIMIT_EXCEEDED"
		case sh.introspectionLists > MaxIntrospectionLists:
			return fmt.Sprintf("the introspection query nests fields, interfaces, possibleTypes or inputFields %d deep; the limit is %d",
				sh.introspectionLists, MaxIntrospectionLists), "DEPTH_LIMIT_EXCEEDED"
		case sh.fields > MaxExpandedFields:
			return fmt.Sprintf("the query selects more than %d fields once fragments are expanded", MaxExpandedFields), "COMPLEXITY_LIMIT_EXCEEDED"
		}
	}
	if n := aliases(doc); n > MaxAliases {
		return fmt.Sprintf("the query uses %d aliases; the limit is %d", n, MaxAliases), "ALIAS_LIMIT_EXCEEDED"
	}
	if !mergeable(doc) {
		return fmt.Sprintf("the query repeats the same fields too often: checking that they merge would take more than %d comparisons",
			MaxFieldComparisons), "COMPLEXITY_LIMIT_EXCEEDED"
	}
	return "", ""
}

// MaxFieldComparisons bounds the work of validating that a document's
// fields merge (gqlparser's OverlappingFieldsCanBeMerged): it compares every
// two selections of the same response name in one selection set, fragments
// and inline fragments merged, and then their subselections with each
// other, so 3,000 "__typename" take 4.5 million comparisons (half a
// second). The README's examples and graphql-js's introspection query
// need none; a field repeated 60 times in one selection set needs 1,770.
const MaxFieldComparisons = 2000

// maxMergeWork bounds the fields mergeable gathers while counting: an
// unused fragment is not measured by the other limits, and gathering a
// fragment bomb's fields would never end.
const maxMergeWork = 4 * MaxExpandedFields

// mergeable reports whether validating that doc's fields merge takes at
// most MaxFieldComparisons comparisons. It counts them as the rule makes
// them, without making them, and stops as soon as either bound is passed,
// so a refused document costs about as little as an accepted one.
func mergeable(doc *ast.QueryDocument) bool {
	c := mergeCounter{fragments: make(map[string]*ast.FragmentDefinition, len(doc.Fragments))}
	for _, f := range doc.Fragments {
		c.fragments[f.Name] = f
	}
	return everySelectionSet(doc, func(set ast.SelectionSet) bool { return len(set) == 0 || c.within(set) })
}

// everySelectionSet reports whether ok holds for every selection set of
// doc: each operation's and fragment definition's, and those of the fields
// and inline fragments within them (a spread's are its definition's), in
// pre-order; it stops at the first that fails.
func everySelectionSet(doc *ast.QueryDocument, ok func(ast.SelectionSet) bool) bool {
	var walk func(ast.SelectionSet) bool
	walk = func(set ast.SelectionSet) bool {
		if !ok(set) {
			return false
		}
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if !walk(s.SelectionSet) {
					return false
				}
			case *ast.InlineFragment:
				if !walk(s.SelectionSet) {
					return false
				}
			}
		}
		return true
	}
	for _, op := range doc.Operations {
		if !walk(op.SelectionSet) {
			return false
		}
	}
	for _, f := range doc.Fragments {
		if !walk(f.SelectionSet) {
			return false
		}
	}
	return true
}

// mergeCounter counts field comparisons and gathered fields.
type mergeCounter struct {
	fragments         map[string]*ast.FragmentDefinition
	comparisons, work int
}

func (c *mergeCounter) over() bool {
	return c.comparisons > MaxFieldComparisons || c.work > maxMergeWork
}

// gather returns a selection set's fields by response name, with its inline
// fragments' and spread fragments' fields (as the rule merges them), or
// false when that passes maxMergeWork.
func (c *mergeCounter) gather(set ast.SelectionSet) (map[string][]*ast.Field, bool) {
	out := map[string][]*ast.Field{}
	spread := map[string]bool{}
	var add func(ast.SelectionSet) bool
	add = func(set ast.SelectionSet) bool {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				name := s.Alias
				if name == "" {
					name = s.Name
				}
				out[name] = append(out[name], s)
				if c.work++; c.over() {
					return false
				}
			case *ast.InlineFragment:
				if !add(s.SelectionSet) {
					return false
				}
			case *ast.FragmentSpread:
				// Each fragment once per set, as the rule collects them.
				if f := c.fragments[s.Name]; f != nil && !spread[s.Name] {
					spread[s.Name] = true
					if !add(f.SelectionSet) {
						return false
					}
				}
			}
		}
		return true
	}
	return out, add(set)
}

// within counts the comparisons among one selection set's fields.
func (c *mergeCounter) within(set ast.SelectionSet) bool {
	fields, ok := c.gather(set)
	if !ok {
		return false
	}
	for _, same := range fields {
		k := len(same)
		if c.comparisons += k * (k - 1) / 2; c.over() {
			return false
		}
		for i := range same {
			for j := i + 1; j < k; j++ {
				if !c.between(same[i].SelectionSet, same[j].SelectionSet) {
					return false
				}
			}
		}
	}
	return true
}

// between counts the comparisons between two fields' subselections.
func (c *mergeCounter) between(a, b ast.SelectionSet) bool {
	if len(a) == 0 || len(b) == 0 {
		return true
	}
	fa, ok := c.gather(a)
	if !ok {
		return false
	}
	fb, ok := c.gather(b)
	if !ok {
		return false
	}
	for name, xs := range fa {
		ys := fb[name]
		if c.comparisons += len(xs) * len(ys); c.over() {
			return false
		}
		for _, x := range xs {
			for _, y := range ys {
				if !c.between(x.SelectionSet, y.SelectionSet) {
					return false
				}
			}
		}
	}
	return true
}

// shape is what the limits measure of a selection.
type shape struct {
	// depth is the nesting of fields, an introspection subtree counting as one.
	depth int
	// fields counts the selected fields once fragments are expanded.
	fields int
	// introspection is the deepest introspection subtree's nesting.
	introspection int
	// lists is the most introspectionLists fields on one path (maintained
	// everywhere, meaningful inside introspection); introspectionLists is
	// its largest value under an introspection root.
	lists, introspectionLists int
}

type measure struct {
	fragments ast.FragmentDefinitionList
	memo      map[string]shape
	visiting  map[string]bool
}

func (m *measure) set(set ast.SelectionSet) shape {
	var out shape
	for _, sel := range set {
		var sh shape
		switch s := sel.(type) {
		case *ast.Field:
			sh = m.set(s.SelectionSet)
			sh.fields++
			switch {
			case s.Name == "__schema" || s.Name == "__type":
				sh.introspection = max(sh.introspection, sh.depth+1)
				sh.introspectionLists = max(sh.introspectionLists, sh.lists)
				sh.depth, sh.lists = 1, 0
			case introspectionLists[s.Name]:
				sh.depth++
				sh.lists++
			default:
				sh.depth++
			}
		case *ast.InlineFragment:
			sh = m.set(s.SelectionSet)
		case *ast.FragmentSpread:
			if v, ok := m.memo[s.Name]; ok {
				sh = v
			} else if f := m.fragments.ForName(s.Name); f != nil && !m.visiting[s.Name] {
				m.visiting[s.Name] = true
				sh = m.set(f.SelectionSet)
				m.visiting[s.Name] = false
				m.memo[s.Name] = sh
			}
		}
		out.depth = max(out.depth, sh.depth)
		out.introspection = max(out.introspection, sh.introspection)
		out.lists = max(out.lists, sh.lists)
		out.introspectionLists = max(out.introspectionLists, sh.introspectionLists)
		out.fields = min(out.fields+sh.fields, MaxExpandedFields+1) // no overflow
	}
	return out
}

func limitError(msg, code string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": code}}
}

// aliases counts aliased fields in the whole document.
func aliases(doc *ast.QueryDocument) int {
	n := 0
	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if s.Alias != "" && s.Alias != s.Name {
					n++
				}
				walk(s.SelectionSet)
			case *ast.InlineFragment:
				walk(s.SelectionSet)
			}
		}
	}
	for _, op := range doc.Operations {
		walk(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		walk(f.SelectionSet)
	}
	return n
}
