import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import * as ocpi from '../../ocpi/schemas/index.js';

/**
 * Parses every OCPI 2.2.1 example file (kept unmodified outside the repo, at ../shared from the
 * repo root) with the matching schema, and pins down which of them the spec's own examples
 * violate. Without the folder the suite is skipped visibly.
 */
const examplesDir = fileURLToPath(new URL('../../../shared/ocpi-2.2.1-examples', import.meta.url));
const present = existsSync(examplesDir);
if (!present) console.warn(`SKIPPED: OCPI 2.2.1 examples not found at ${examplesDir}`);

type Case = { schema: z.ZodType; select: (json: any) => unknown; why?: string };
const whole = (json: unknown) => json;
const data = (json: any) => json.data;

/**
 * The schema each file is an instance of. Files that are not a whole object say so in `why`:
 * PATCH bodies are parsed with the PATCH schema, snippets are unwrapped to the object they show.
 */
function caseFor(file: string): Case {
  if (file.startsWith('cdr_')) return { schema: ocpi.cdrSchema, select: whole };
  if (file.startsWith('credentials_')) return { schema: ocpi.credentialsSchema, select: whole };
  if (file.startsWith('location_energymix_')) {
    return { schema: ocpi.energyMixSchema, select: (json) => json.energy_mix, why: 'snippet wrapped as {"energy_mix": ...}' };
  }
  if (file.startsWith('location_hours_')) return { schema: ocpi.hoursSchema, select: whole };
  if (file === 'location_regularhours_example.json') {
    return { schema: ocpi.hoursSchema, select: (json) => json.opening_times, why: 'snippet wrapped as {"opening_times": ...}' };
  }
  // The PATCH examples' URLs say what they patch: a Location, an EVSE (3255, 3256), a Connector (.../3255/2).
  if (file === 'location_patch_example_location.json') return { schema: ocpi.locationPatchSchema, select: whole, why: 'PATCH on a Location' };
  if (file === 'location_patch_example_status.json' || file === 'location_patch_example_remove_evse.json') {
    return { schema: ocpi.evsePatchSchema, select: whole, why: 'PATCH on an EVSE' };
  }
  if (file === 'location_patch_example_tariff.json') return { schema: ocpi.connectorPatchSchema, select: whole, why: 'PATCH on a Connector' };
  if (file === 'location_put_example_add_evse.json') return { schema: ocpi.evseSchema, select: whole, why: 'PUT of a whole EVSE' };
  if (file.startsWith('location_example')) return { schema: ocpi.locationSchema, select: whole };
  if (file.startsWith('session_patch_')) return { schema: ocpi.sessionPatchSchema, select: whole, why: 'PATCH on a Session' };
  if (file.startsWith('session_')) return { schema: ocpi.sessionSchema, select: whole };
  if (file.startsWith('tariff')) return { schema: ocpi.tariffSchema, select: whole };
  if (file === 'token_patch_example.json') return { schema: ocpi.tokenPatchSchema, select: whole, why: 'PATCH on a Token' };
  if (file.startsWith('token_')) return { schema: ocpi.tokenSchema, select: whole };
  // Response envelopes belong to ocpi/transport; here only their data is checked.
  if (file === 'transport_and_format_get_token_example.json') return { schema: ocpi.tokenSchema, select: data, why: 'envelope data' };
  if (file === 'transport_and_format_get_token_list_example.json') return { schema: ocpi.tokenSchema.array(), select: data, why: 'envelope data' };
  if (file === 'transport_and_format_version_details_example.json') return { schema: ocpi.versionDetailsSchema, select: data, why: 'envelope data' };
  if (file === 'transport_and_format_version_info_example.json') return { schema: ocpi.versionListSchema, select: data, why: 'envelope data' };
  if (file === 'type_displaytext_example.json') return { schema: ocpi.displayTextSchema, select: whole };
  if (file.startsWith('version_details_')) return { schema: ocpi.versionDetailsSchema, select: whole };
  if (file === 'versions_info_example.json') return { schema: ocpi.versionListSchema, select: whole };
  throw new Error(`no schema is mapped for ${file}: map it here`);
}

/**
 * The spec's own examples that violate its object definitions, with every offending field. A
 * change here (a new violation, or one gone) fails the test, so it cannot pass unnoticed.
 */
const knownViolations: Record<string, { fields: string[]; why: string }> = {
  'cdr_example.json': {
    fields: ['cdr_token.country_code', 'cdr_token.party_id'],
    why: 'CdrToken requires country_code and party_id in 2.2.1; the example predates them',
  },
  'session_example_1_simple_start.json': {
    fields: ['cdr_token.country_code', 'cdr_token.party_id'],
    why: 'same CdrToken omission as the CDR example',
  },
  'session_example_2_short_finished.json': {
    fields: ['cdr_token.country_code', 'cdr_token.party_id'],
    why: 'same CdrToken omission as the CDR example',
  },
  'location_put_example_add_evse.json': {
    fields: [
      'connectors.0.power_type',
      'connectors.0.max_voltage',
      'connectors.0.max_amperage',
      'connectors.0.last_updated',
      'physical_reference',
    ],
    // It also says `floor` for `floor_level`; unknown fields are stripped, and floor_level is optional.
    why: 'the Connector lacks required fields; physical_reference is a number, not a string(16)',
  },
  'tariff_put_example.json': { fields: ['last_updated'], why: 'the Tariff PUT example omits the required last_updated' },
};

const files = present ? readdirSync(examplesDir).filter((file) => file.endsWith('.json')).sort() : [];
const read = (file: string): unknown => JSON.parse(readFileSync(join(examplesDir, file), 'utf8'));

describe.skipIf(!present)('OCPI 2.2.1 specification examples', () => {
  it('finds all 60 example files and has a schema for each', () => {
    expect(files).toHaveLength(60);
    for (const file of files) expect(() => caseFor(file)).not.toThrow();
  });

  it('lists only violations of files that exist', () => {
    for (const file of Object.keys(knownViolations)) expect(files).toContain(file);
  });

  it.each(files)('%s', (file) => {
    const { schema, select } = caseFor(file);
    const result = schema.safeParse(select(read(file)));
    const failedFields = result.success ? [] : [...new Set(result.error.issues.map((issue) => issue.path.join('.')))].sort();
    const expected = knownViolations[file];
    if (expected !== undefined && failedFields.length > 0) {
      console.info(`${file} violates OCPI 2.2.1 (${expected.why}): ${failedFields.join(', ')}`);
    }
    expect(failedFields).toEqual([...(expected?.fields ?? [])].sort());
  });
});
