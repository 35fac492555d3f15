// Runs graphql-http's GraphQL-over-HTTP server audit against the URL given
// as the first argument and prints one JSON array of {id, name, status,
// reason} on standard output. Used by server/audit_test.go.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
const results = await auditServer({ url });
console.log(JSON.stringify(results.map((r) => ({
  id: r.id,
  name: r.name,
  status: r.status,
  reason: r.reason,
}))));
