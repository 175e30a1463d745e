import { z } from 'zod';

/**
 * OCPI 2.2.1 response envelope and status codes (spec chapter "Status codes", "Response format").
 * Every answer of the OCPI surface is `{data?, status_code, status_message?, timestamp}`.
 */

export const OcpiStatus = {
  success: 1000,
  clientError: 2000,
  invalidOrMissingParameters: 2001,
  notEnoughInformation: 2002,
  unknownLocation: 2003,
  unknownToken: 2004,
  serverError: 3000,
  unableToUseClientApi: 3001,
  unsupportedVersion: 3002,
  noMatchingEndpoints: 3003,
} as const;
export type OcpiStatusCode = (typeof OcpiStatus)[keyof typeof OcpiStatus];

const defaultMessages: Record<OcpiStatusCode, string> = {
  1000: 'Success',
  2000: 'Generic client error',
  2001: 'Invalid or missing parameters',
  2002: 'Not enough information',
  2003: 'Unknown Location',
  2004: 'Unknown Token',
  3000: 'Generic server error',
  3001: "Unable to use the client's API",
  3002: 'Unsupported version',
  3003: 'No matching endpoints or expected endpoints missing between parties',
};

export interface OcpiEnvelope<T = unknown> {
  readonly data?: T;
  readonly status_code: number;
  readonly status_message?: string;
  readonly timestamp: string;
}

export function ocpiSuccess<T>(data: T, now: Date): OcpiEnvelope<T> {
  return { data, status_code: OcpiStatus.success, status_message: defaultMessages[1000], timestamp: now.toISOString() };
}

/** An error envelope carries no data (spec example "Response with an error"). */
export function ocpiFailure(statusCode: number, message: string, now: Date): OcpiEnvelope<never> {
  return { status_code: statusCode, status_message: message, timestamp: now.toISOString() };
}

/**
 * A request the OCPI layer refuses. `httpStatus` follows the spec's split between transport and
 * content: a request that is valid JSON and addresses an existing resource "MUST NOT" get an
 * HTTP error, so 2xxx/3xxx default to HTTP 200 with the code in the body. Transport-level refusals
 * set their own HTTP status: 400 unreadable JSON, 401 unknown token, 404 unknown object on GET,
 * 405 credentials method not allowed in this state.
 */
export class OcpiError extends Error {
  override readonly name = 'OcpiError';
  readonly httpStatus: number;
  constructor(
    readonly statusCode: number,
    message?: string,
    options: { readonly httpStatus?: number } = {},
  ) {
    super(message ?? defaultMessages[statusCode as OcpiStatusCode] ?? `OCPI status ${statusCode}`);
    this.httpStatus = options.httpStatus ?? 200;
  }
}

export const invalidParameters = (message: string) => new OcpiError(OcpiStatus.invalidOrMissingParameters, message);
export const unauthorized = (message: string) => new OcpiError(OcpiStatus.clientError, message, { httpStatus: 401 });
export const methodNotAllowed = (message: string) => new OcpiError(OcpiStatus.clientError, message, { httpStatus: 405 });
export const notFound = (message: string) => new OcpiError(OcpiStatus.clientError, message, { httpStatus: 404 });

/** The envelope as a client reads it; `data` validated by the caller's schema. */
export function envelopeSchema<T extends z.ZodType>(data: T) {
  return z.object({
    data: data.optional(),
    status_code: z.number().int(),
    status_message: z.string().nullish(),
    timestamp: z.string(),
  });
}
