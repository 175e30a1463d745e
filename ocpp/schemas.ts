import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import ajvUri from 'ajv/dist/runtime/uri.js';
import addFormatsModule from 'ajv-formats';
import { errorCodeFor, type FailureKind, type OcppErrorCode, type OcppVersion } from './errors.js';

/**
 * The official OCA JSON schemas, as bundled (unmodified) by ocpp-rpc, read and checked against
 * the JSON Schema meta-schema once per process; each is compiled when its action is first
 * validated. Compiling all ~200 up front cost ~1.2 s of CPU at every start (server, test
 * gateway), while a station uses a handful; every schema compiling is checked by
 * test/ocpp/schemas.test.ts. Both versions use the same `$id`s (`urn:Authorize.req`), so each
 * version gets its own Ajv.
 */

export type MessageKind = 'Request' | 'Response';

export interface SchemaViolation {
  readonly code: OcppErrorCode;
  readonly description: string;
  readonly details: Record<string, unknown>;
}

interface OcaSchema {
  $id: string;
}

const schemaFiles: Record<OcppVersion, string> = { 'ocpp1.6': 'ocpp1_6.json', 'ocpp2.0.1': 'ocpp2_0_1.json' };

/** Messages a station starts (OCPP 1.6 §4 and the 1.6 security whitepaper; 2.0.1 Part 2 messages sent by the CS). */
const stationInitiated: Record<OcppVersion, ReadonlySet<string>> = {
  'ocpp1.6': new Set([
    'Authorize', 'BootNotification', 'DataTransfer', 'DiagnosticsStatusNotification',
    'FirmwareStatusNotification', 'Heartbeat', 'MeterValues', 'StartTransaction', 'StatusNotification',
    'StopTransaction', 'SecurityEventNotification', 'SignCertificate', 'SignedFirmwareStatusNotification',
    'LogStatusNotification',
  ]),
  'ocpp2.0.1': new Set([
    'Authorize', 'BootNotification', 'ClearedChargingLimit', 'DataTransfer', 'FirmwareStatusNotification',
    'Get15118EVCertificate', 'GetCertificateStatus', 'Heartbeat', 'LogStatusNotification', 'MeterValues',
    'NotifyChargingLimit', 'NotifyCustomerInformation', 'NotifyDisplayMessages', 'NotifyEVChargingNeeds',
    'NotifyEVChargingSchedule', 'NotifyEvent', 'NotifyMonitoringReport', 'NotifyReport',
    'PublishFirmwareStatusNotification', 'ReportChargingProfiles', 'ReservationStatusUpdate',
    'SecurityEventNotification', 'SignCertificate', 'StatusNotification', 'TransactionEvent',
  ]),
};

/** DataTransfer goes both ways in both versions; every other action has one sender. */
const bothWays = 'DataTransfer';

/** A schema added to its version's Ajv: compiled (and kept) on first use. */
interface LazyValidator {
  readonly ajv: Ajv;
  readonly id: string;
  compiled?: ValidateFunction;
}

export class OcppSchemas {
  private constructor(private readonly validators: Map<string, LazyValidator>) {}

  /**
   * Reads both bundled schema files and adds every schema to its version's Ajv, which checks it
   * against the meta-schema; throws at start if a file is missing, an id is not an OCA one, or a
   * schema is not valid JSON Schema. Compiling waits for the first message of each action.
   */
  static load(): OcppSchemas {
    const require = createRequire(import.meta.url);
    const schemaDir = join(dirname(require.resolve('ocpp-rpc/package.json')), 'lib', 'schemas');
    const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
    const validators = new Map<string, LazyValidator>();
    for (const version of Object.keys(schemaFiles) as OcppVersion[]) {
      const schemas = JSON.parse(readFileSync(join(schemaDir, schemaFiles[version]), 'utf8')) as OcaSchema[];
      // The OCA schemas carry keywords Ajv's strict mode rejects (e.g. `javaType`, `comment`), so strict is off.
      const ajv = new Ajv({ strict: false, allErrors: false, uriResolver: ocaUriResolver });
      addFormats(ajv);
      for (const schema of schemas) {
        const match = /^urn:(\w+)\.(req|conf)$/.exec(schema.$id);
        if (!match) throw new Error(`unexpected schema id ${schema.$id} in ${schemaFiles[version]}`);
        const kind: MessageKind = match[2] === 'req' ? 'Request' : 'Response';
        ajv.addSchema(schema);
        validators.set(key(version, match[1]!, kind), { ajv, id: schema.$id });
      }
    }
    return new OcppSchemas(validators);
  }

  /** The action exists in this version at all (else NotImplemented). */
  knows(version: OcppVersion, action: string): boolean {
    return this.validators.has(key(version, action, 'Request'));
  }

  /** Compiles every schema now (what the first message of each action would do); for tests. */
  compileAll(): number {
    for (const lazy of this.validators.values()) compiled(lazy);
    return this.validators.size;
  }

  /** The station may send this action (a known action the CSMS alone sends is NotSupported). */
  isStationInitiated(version: OcppVersion, action: string): boolean {
    return stationInitiated[version].has(action);
  }

  isCsmsInitiated(version: OcppVersion, action: string): boolean {
    return this.knows(version, action) && (action === bothWays || !stationInitiated[version].has(action));
  }

  /** Null when the payload is valid; otherwise the CALLERROR to answer with (OCPP-J §4.2.3 codes). */
  validate(version: OcppVersion, action: string, kind: MessageKind, payload: unknown): SchemaViolation | null {
    const lazy = this.validators.get(key(version, action, kind));
    if (!lazy) {
      return { code: errorCodeFor('notImplemented', version), description: `unknown action ${action}`, details: {} };
    }
    const validator = compiled(lazy);
    if (validator(payload)) return null;
    const error = validator.errors?.[0];
    if (!error) return { code: errorCodeFor('payloadSyntax', version), description: 'invalid payload', details: {} };
    return {
      code: errorCodeFor(failureKindOf(error), version),
      description: `${error.instancePath || '/'} ${error.message ?? 'is invalid'}`,
      details: { keyword: error.keyword, instancePath: error.instancePath, params: error.params },
    };
  }
}

/**
 * The OCA `$id`s (`urn:Authorize.req`) are URNs without a namespace id, which Ajv's default URI
 * library refuses to serialize. We keep the files as published and serialize such ids verbatim.
 */
interface UriComponent {
  scheme?: string;
  path?: string;
  fragment?: string;
  nid?: string;
}
interface UriLibrary {
  parse(text: string): UriComponent;
  resolve(base: string, path: string): string;
  serialize(component: UriComponent): string;
}
// ajv/dist/runtime/uri is CommonJS with the library on `default`.
const uri = ((ajvUri as unknown as { default?: UriLibrary }).default ?? ajvUri) as unknown as UriLibrary;
const ocaUriResolver = {
  parse: (text: string) => uri.parse(text),
  resolve: (base: string, path: string) => uri.resolve(base, path),
  serialize(component: UriComponent): string {
    if (component.scheme === 'urn' && component.nid === undefined) {
      return `urn:${component.path ?? ''}${component.fragment !== undefined ? `#${component.fragment}` : ''}`;
    }
    return uri.serialize(component);
  },
} as unknown as Options['uriResolver'];

function compiled(lazy: LazyValidator): ValidateFunction {
  if (lazy.compiled) return lazy.compiled;
  const validator = lazy.ajv.getSchema(lazy.id);
  if (!validator) throw new Error(`OCA schema ${lazy.id} was not added`);
  lazy.compiled = validator;
  return validator;
}

function key(version: OcppVersion, action: string, kind: MessageKind): string {
  return `${version} ${action}${kind}`;
}

/**
 * Ajv keyword → OCPP-J error kind, from the meanings in the §4.2.3 tables: occurrence = how often a
 * field appears (required, array sizes); type = the JSON type; property = a value outside its
 * constraints (length, enum, range, format); a property the PDU does not define breaks its syntax.
 */
function failureKindOf(error: ErrorObject): FailureKind {
  switch (error.keyword) {
    case 'type':
      return error.instancePath === '' ? 'payloadSyntax' : 'type';
    case 'required':
    case 'minItems':
    case 'maxItems':
    case 'dependencies':
    case 'dependentRequired':
      return 'occurrence';
    case 'additionalProperties':
      return 'payloadSyntax';
    default:
      return 'property';
  }
}

let shared: OcppSchemas | undefined;

/** The process-wide schemas (reading and checking them takes a while; do it once). */
export function ocppSchemas(): OcppSchemas {
  shared ??= OcppSchemas.load();
  return shared;
}
