package graph

import (
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// rememberedComplexities bounds how many operations' complexities a
// rememberingComplexityLimit keeps: the parsed documents it keeps alive are
// those of the query cache (queryCacheSize) at most, once more.
const rememberedComplexities = queryCacheSize

// rememberingComplexityLimit is gqlgen's extension.FixedComplexityLimit
// (the same extension name, statistics and COMPLEXITY_LIMIT_EXCEEDED error,
// which it delegates to) that remembers the complexity of an operation
// asked without variables, by the parsed operation's address: gqlgen's
// query cache hands the same parsed document to every request with the same
// text, and without variables the complexity depends on nothing else
// (weightByFirst's functions read only their arguments). Computing it walks
// the whole selection and calls a reflect.MakeFunc function per connection:
// a few percent of an executed feed page's CPU, the same answer every time.
// An operation over the limit is not remembered (its error is computed each
// time, as before). Past rememberedComplexities operations it forgets them
// all and starts again.
type rememberingComplexityLimit struct {
	limit *extension.ComplexityLimit
	max   int

	mu  sync.RWMutex
	ops map[*ast.OperationDefinition]int
}

var _ interface {
	graphql.OperationContextMutator
	graphql.HandlerExtension
} = (*rememberingComplexityLimit)(nil)

// newRememberingComplexityLimit returns the limit of max for every
// operation.
func newRememberingComplexityLimit(max int) *rememberingComplexityLimit {
	return &rememberingComplexityLimit{limit: extension.FixedComplexityLimit(max), max: max,
		ops: map[*ast.OperationDefinition]int{}}
}

// ExtensionName is gqlgen's complexity limit's, so that
// extension.GetComplexityStats finds the statistics.
func (c *rememberingComplexityLimit) ExtensionName() string { return c.limit.ExtensionName() }

// Validate hands the schema to gqlgen's limit.
func (c *rememberingComplexityLimit) Validate(schema graphql.ExecutableSchema) error {
	return c.limit.Validate(schema)
}

// MutateOperationContext records the operation's complexity and its limit
// in the operation's statistics and refuses it (COMPLEXITY_LIMIT_EXCEEDED)
// past the limit, as gqlgen's limit does; an operation without variables
// whose complexity is remembered is not walked again.
func (c *rememberingComplexityLimit) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	op := opCtx.Doc.Operations.ForName(opCtx.OperationName)
	if op == nil || len(opCtx.Variables) > 0 {
		return c.limit.MutateOperationContext(ctx, opCtx)
	}
	c.mu.RLock()
	n, ok := c.ops[op]
	c.mu.RUnlock()
	if ok {
		opCtx.Stats.SetExtension(c.limit.ExtensionName(), &extension.ComplexityStats{Complexity: n, ComplexityLimit: c.max})
		return nil
	}
	if err := c.limit.MutateOperationContext(ctx, opCtx); err != nil {
		return err
	}
	stats, _ := opCtx.Stats.GetExtension(c.limit.ExtensionName()).(*extension.ComplexityStats)
	if stats == nil {
		return nil
	}
	c.mu.Lock()
	if len(c.ops) >= rememberedComplexities {
		clear(c.ops)
	}
	c.ops[op] = stats.Complexity
	c.mu.Unlock()
	return nil
}
