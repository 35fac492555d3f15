// Command generate regenerates graph/generated.go and graph/model from
// schema.graphqls and gqlgen.yml, as `go tool gqlgen generate` does, with one
// plugin of our own: inlineFields, which makes the objects listed in
// inlineObjects resolve their fields one after another in the goroutine that
// marshals the object, instead of one goroutine per resolver field. Then it
// rewrites the generated execution code (rewriteExec): the lists of the
// types in inlineLists marshal one element after another when their
// connection allows it, an object's @defer bookkeeping (its path, its
// FieldSet and map) is made only when a field was deferred, objects are
// written by graph/fieldset.go's fieldSet, and leaf fields read from their
// object skip graphql.ResolveField. Last it rewrites one statement of
// graph/generated.go (unbuiltInputUnmarshalers): the input unmarshaler map
// gqlgen builds on every operation.
//
// Run it from the module root (graph/resolver.go's //go:generate line does):
//
//	go run ./graph/generate
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
	// gqlgen builds its output to validate it; the rewrites below add what
	// graph's own files use (memoArgs's field of executionContext), so the
	// build that validates comes after them.
	cfg.SkipValidation = true
	if err := api.Generate(cfg, api.AddPlugin(inlineFields{objects: inlineObjects})); err != nil {
		fmt.Fprintln(os.Stderr, "generate:", err)
		os.Exit(3)
	}
	if err := rewriteExecFile(cfg.Exec.Filename, inlineLists); err != nil {
		fmt.Fprintln(os.Stderr, "generate:", err)
		os.Exit(4)
	}
	if err := unbuiltInputUnmarshalers(cfg.Exec.Filename, filepath.Dir(cfg.Exec.Filename)); err != nil {
		fmt.Fprintln(os.Stderr, "generate:", err)
		os.Exit(5)
	}
	build := exec.Command("go", "build", filepath.Join(filepath.Dir(cfg.Exec.Filename), "..."))
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "generate: the generated code does not build: %v\n%s", err, out)
		os.Exit(6)
	}
}

// buildUnmarshalerMap is the statement of gqlgen's Exec that builds, on every
// operation, a map from each input type to its unmarshaler (a method value
// bound to that operation's execution context, found by reflection).
var buildUnmarshalerMap = regexp.MustCompile(`(?s)inputUnmarshalMap := graphql\.BuildUnmarshalerMap\(\s*(ec\.unmarshalInput\w+,\s*)+\)`)

// unbuiltInputUnmarshalers rewrites the generated Exec to put an empty map in
// the operation's context instead: the map is read only by
// graphql.UnmarshalInputFromContext, which nothing in the graph package
// calls (checked here, in dir's Go files), and building it cost about a
// tenth of the CPU of a small operation (36 input types: 36 bound method
// values, reflection and a map, per operation).
func unbuiltInputUnmarshalers(generated, dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return err
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte("UnmarshalInputFromContext")) {
			return fmt.Errorf("%s calls graphql.UnmarshalInputFromContext: the generated Exec must build the input unmarshaler map again (graph/generate)", f)
		}
	}
	src, err := os.ReadFile(generated)
	if err != nil {
		return err
	}
	if n := len(buildUnmarshalerMap.FindAllIndex(src, -1)); n != 1 {
		return fmt.Errorf("%s: found the input unmarshaler map %d times, want once (has gqlgen's Exec changed?)", generated, n)
	}
	src = buildUnmarshalerMap.ReplaceAll(src, []byte("inputUnmarshalMap := graphql.BuildUnmarshalerMap() // empty: see graph/generate"))
	if src, err = format.Source(src); err != nil {
		return err
	}
	return os.WriteFile(generated, src, 0o644)
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
