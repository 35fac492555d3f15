package graph

import (
	"context"
	"sync/atomic"
)

// SetPriming turns primeVariants and primeFeed on or off (benchmarks and
// tests compare with and without).
func SetPriming(on bool) { noPriming = !on }

// WithLoaderFetchCounter counts, in the returned counter, the batches the
// User, Shop, ProductsByContent, VariantsByProduct and Metrics loaders of a
// request made with ctx fetch themselves (what primeFeed did not prime).
func WithLoaderFetchCounter(ctx context.Context) (context.Context, *atomic.Int64) {
	n := new(atomic.Int64)
	return context.WithValue(ctx, fetchCounterKey{}, n), n
}

// SetInlineLists turns inline list marshalling (marshalList) on or off.
func SetInlineLists(on bool) { noInlineLists = !on }

// InlineListCount is how many lists have been marshalled inline so far.
func InlineListCount() int64 { return inlineListCount.Load() }
