// Prints graphql-js's standard introspection query (what code generators,
// Apollo tooling and GraphiQL send) as JSON: {"query": "..."}. Used by the
// server's tests.
import { getIntrospectionQuery } from 'graphql';

console.log(JSON.stringify({ query: getIntrospectionQuery() }));
