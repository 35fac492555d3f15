// Command generate regenerates graph/generated.go and graph/model from
// schema.graphqls and gqlgen.yml, as `go tool gqlgen generate` does, with one
// plugin of our own: inlineFields, which makes the objects listed in
// inlineObjects resolve their fields one after another in the goroutine that
// marshals the object, instead of one goroutine per resolver field. Then it
// rewrites the generated execution code (rewriteExec): the lists of the
// types in inlineLists marshal one element after another when their
// connection allows it, and an object's @defer bookkeeping (its path) is
// made only when a field was deferred.
//
// Run it from the module root (graph/resolver.go's //go:generate line does):
//
//	go run ./graph/generate
package main

import (
	"fmt"
	"io"
	"log"
	"os"
	"slices"

	"github.com/99designs/gqlgen/api"
	"github.com/99designs/gqlgen/codegen"
	"github.com/99designs/gqlgen/codegen/config"
)

// inlineObjects are the GraphQL object types whose field resolvers run
// inline. gqlgen starts a goroutine for every field that has a resolver or a
// method taking a context, so that sibling fields waiting on dataloaders
// share one batch window; for these objects the fields read rows the page's
// root resolver has already loaded or primed into the request's loaders
// (graph/prefetch.go), or compute from the object itself, so a goroutine per
// field is only scheduling cost. Sibling objects in a list still marshal
// concurrently (one goroutine per list element), so a loader that was not
// primed still batches across a page's items, one batch window per field.
var inlineObjects = []string{
	"Product",
	"ProductVariant",
	"Video",
	"LiveSession",
	"ContentMetrics",
}

func main() {
	// gqlgen's own command discards its log unless asked to be verbose:
	// autobind's notes ("adding resolver method ... nothing matched") are
	// not errors. Errors still reach stderr below.
	log.SetOutput(io.Discard)
	cfg, err := config.LoadConfigFromDefaultLocations()
	if err != nil {
		fmt.Fprintln(os.Stderr, "generate: load gqlgen config:", err)
		os.Exit(2)
	}
	if err := api.Generate(cfg, api.AddPlugin(inlineFields{objects: inlineObjects})); err != nil {
		fmt.Fprintln(os.Stderr, "generate:", err)
		os.Exit(3)
	}
	if err := rewriteExecFile(cfg.Exec.Filename, inlineLists); err != nil {
		fmt.Fprintln(os.Stderr, "generate:", err)
		os.Exit(4)
	}
}

// inlineFields sets codegen.Object.DisableConcurrency (what gqlgen sets for
// Mutation) on the named objects before the execution code is generated.
type inlineFields struct {
	objects []string
}

// Name names the plugin for gqlgen's errors.
func (inlineFields) Name() string { return "inlinefields" }

// GenerateCode marks the objects; it fails when one is not in the schema,
// so that a renamed type cannot silently fall back to concurrent fields.
func (p inlineFields) GenerateCode(data *codegen.Data) error {
	found := 0
	for _, o := range data.Objects {
		if slices.Contains(p.objects, o.Name) {
			o.DisableConcurrency = true
			found++
		}
	}
	if found != len(p.objects) {
		return fmt.Errorf("inline objects %v: %d of them are objects of the schema", p.objects, found)
	}
	return nil
}
