// Writes schema/experiment.schema.json from the option tables (src/options.ts via src/experiment/schema.ts).
// Run after a build: `npm run build && npm run schema`. test/experiment/schema.test.ts checks the committed file.
import { writeFileSync } from 'node:fs';
import { experimentSchemaText } from '../dist/src/experiment/schema.js';

const out = new URL('../schema/experiment.schema.json', import.meta.url);
writeFileSync(out, experimentSchemaText());
console.log(`wrote ${out.pathname}`);
