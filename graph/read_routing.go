package graph

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"showcase/auth"
	"showcase/store"
)

// Read routing (Resolver.Reads, DATABASE_READ_URL). A query's reads (its
// dataloaders and the root lists that read no walk) go to the read replica
// unless the caller has a write the replica has not replayed yet; the
// choice is made once per operation, on its first read. Mutations and
// subscriptions read and write on the primary, and after a signed-in
// caller's mutation its user's read fence is moved to the primary's current
// WAL position, so that every API process sends that user's reads to the
// primary until the replica has caught up. Walks (the feed, product searches
// by relevance) are written and read on the primary: list_walks is an
// unlogged table, which a replica does not have.

type opReadsKey struct{}

// opReads is an operation's choice of read handle, made on first use.
type opReads struct {
	once  sync.Once
	ctx   context.Context
	reads *store.ReadReplica
	db    *store.DB
}

func (o *opReads) get() *store.DB {
	o.once.Do(func() { o.db = o.reads.Reader(o.ctx, auth.ViewerFrom(o.ctx).UserID()) })
	return o.db
}

// reader returns the handle for reads of the current operation that may lag
// by up to DATABASE_READ_MAX_LAG: the replica for a query whose caller has
// no write it has not replayed, else the primary (r.DB).
func (r *Resolver) reader(ctx context.Context) *store.DB {
	if o, ok := ctx.Value(opReadsKey{}).(*opReads); ok {
		return o.get()
	}
	return r.DB
}

type writersKey struct{}

// writers are users a mutation wrote for besides its caller (the account
// signUp created, the user logIn signed in), fenced with the caller.
type writers struct {
	mu  sync.Mutex
	ids []int64
}

// noteWriter fences userID after the current mutation, as its caller is.
func noteWriter(ctx context.Context, userID int64) {
	if w, ok := ctx.Value(writersKey{}).(*writers); ok {
		w.mu.Lock()
		w.ids = append(w.ids, userID)
		w.mu.Unlock()
	}
}

// routeReads is the operation middleware of read routing (installed only
// with Resolver.Reads): queries get their own read handle and loaders over
// it; mutations fence their writers once they have run, before the response
// leaves.
func (r *Resolver) routeReads(top int64, wait time.Duration) graphql.OperationMiddleware {
	return func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		op := graphql.GetOperationContext(ctx).Operation
		if op == nil {
			return next(ctx)
		}
		switch op.Operation {
		case ast.Query:
			if readsGuestWrites(ctx) {
				// A guest has no user to fence: what they wrote (their cart,
				// their orders) is read on the primary.
				return next(ctx)
			}
			o := &opReads{ctx: ctx, reads: r.Reads}
			ctx = context.WithValue(ctx, opReadsKey{}, o)
			ctx = context.WithValue(ctx, loadersKey{}, &requestLoaders{pick: o.get, primary: r.DB, top: top, wait: wait})
			return next(ctx)
		case ast.Mutation:
			if onlyBuffered(graphql.GetOperationContext(ctx)) {
				return next(ctx)
			}
			w := &writers{}
			ctx = context.WithValue(ctx, writersKey{}, w)
			respond := next(ctx)
			var fenced sync.Once
			return func(ctx context.Context) *graphql.Response {
				resp := respond(ctx)
				fenced.Do(func() { r.fence(ctx, w) })
				return resp
			}
		}
		return next(ctx)
	}
}

// bufferedMutations write nothing before they answer (recordEvents buffers
// engagement events for the next flush, which everyone sees as it lands):
// they move no fence, so a signed-in viewer sending views as they scroll
// keeps reading from the replica.
var bufferedMutations = map[string]bool{"recordEvents": true}

// onlyBuffered reports whether every root field of the operation (collected
// as the executor does) is a buffered mutation.
func onlyBuffered(oc *graphql.OperationContext) bool {
	fields := graphql.CollectFields(oc, oc.Operation.SelectionSet, []string{"Mutation"})
	for _, f := range fields {
		if !bufferedMutations[f.Name] {
			return false
		}
	}
	return len(fields) > 0
}

// fence records the mutation's caller's and writers' read fences. A failure
// is logged: the mutation has committed, and the caller's next reads may
// then lag by up to DATABASE_READ_MAX_LAG.
func (r *Resolver) fence(ctx context.Context, w *writers) {
	ids := w.ids
	if id := auth.ViewerFrom(ctx).UserID(); id != 0 {
		ids = append(ids, id)
	}
	seen := map[int64]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		// The caller's deadline may have run out with the mutation; the fence
		// still has to land.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		err := r.Reads.Fence(fctx, id)
		cancel()
		if err != nil {
			slog.ErrorContext(ctx, "read fence not recorded", "user", id, "err", err)
		}
	}
}

// guestRoots read what a guest wrote, found by the secret the guest holds
// (a cart's key, an order token): a guest has no user to fence, so these are
// read on the primary.
var guestRoots = map[string]bool{"cart": true, "ordersByToken": true}

// readsGuestWrites reports whether a query reads a guest's own writes: a
// guestRoots field, or node/nodes with a guest cart's or line's keyed ID. Root
// fields are collected as the executor does (fragments, @skip and @include).
func readsGuestWrites(ctx context.Context) bool {
	oc := graphql.GetOperationContext(ctx)
	for _, f := range graphql.CollectFields(oc, oc.Operation.SelectionSet, []string{"Query"}) {
		if guestRoots[f.Name] {
			return true
		}
		if f.Name != "node" && f.Name != "nodes" {
			continue
		}
		for _, v := range f.ArgumentMap(oc.Variables) {
			ids, _ := v.([]any)
			if s, ok := v.(string); ok {
				ids = []any{s}
			}
			for _, id := range ids {
				if s, ok := id.(string); ok {
					if _, _, key, err := parseAnyID(s); err == nil && key != "" {
						return true
					}
				}
			}
		}
	}
	return false
}
