// The GraphQL-over-HTTP compliance audit (graphql-http's auditServer)
// against a running server: node audit.mjs <graphql URL>.
// Prints one line per audit and exits 1 on any error or warning (and on
// anything that keeps the audit from running), 0 otherwise: notices (the
// spec's MAYs) are shown but do not fail it.
import { auditServer } from 'graphql-http';

const url = process.argv[2] || process.env.GRAPHQL_URL;
if (!url) {
  console.error('usage: node audit.mjs <graphql URL>');
  process.exit(2);
}

const results = await auditServer({ url });
const count = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const r of results) {
  count[r.status]++;
  const mark = { ok: 'ok   ', notice: 'note ', warn: 'WARN ', error: 'ERROR' }[r.status];
  console.log(`${mark} ${r.id} ${r.name}`);
  if (r.status !== 'ok') {
    console.log(`      ${r.reason}`);
    try {
      const res = r.response;
      const body = await res.text();
      console.log(`      got ${res.status} ${res.headers.get('content-type')}: ${body.slice(0, 500)}`);
    } catch {
      // no response to show (the request itself failed)
    }
  }
}
console.log(`graphql-http audit: ${count.ok} ok, ${count.notice} notices, ${count.warn} warnings, ${count.error} errors (${results.length} audits)`);
process.exit(count.warn + count.error > 0 ? 1 : 0);
